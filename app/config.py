"""Settings: limits from design.md and paths, overridable by BACKPROP_* environment variables."""

from importlib import resources
from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _bundled(name: str) -> Path:
    """A folder the package carries: the pages, the front end, the lessons. In the wheel they
    are copies inside app/bundled/; in a checkout, links there to the top-level folders."""
    return Path(str(resources.files("app") / "bundled" / name)).resolve()


TEMPLATES, STATIC, LESSONS = map(_bundled, ("templates", "static", "lessons"))


# The most a setting may allow: every request model bounds its lists by these (app/schemas/
# bounds.py), so a body is refused by its shape before it is built; a setting past one is refused.
MOST_HIDDEN_LAYERS = 32    # Settings.max_hidden_layers at most
MOST_NEURONS = 256         # Settings.max_neurons at most: a layer's width, inputs included
MOST_POINTS = 100_000      # Settings.max_points at most: rows of a data set or a batch


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BACKPROP_")

    # at most the bounds every request's lists have (app/schemas/bounds.py)
    max_hidden_layers: int = Field(
        8, le=MOST_HIDDEN_LAYERS, description="hidden layers a network may have"
    )
    max_neurons: int = Field(
        16, le=MOST_NEURONS, description="neurons a layer may have (inputs included)"
    )
    max_points: int = Field(
        5000, le=MOST_POINTS, description="data points in a data set or a request batch"
    )
    max_steps: int = Field(10_000, description="training steps one request may take")
    max_record_values: int = Field(
        100_000, description="values a step's record may hold: batch × (inputs, a, o, δ, targets)"
    )
    max_request_work: int = Field(
        2_000_000_000, description="work one request may cost, in steps × batch × weights"
    )
    max_body_bytes: int = Field(
        4 * 2**20, ge=1024,
        description="a request body over this many bytes is refused (413) before it is parsed; "
        "the largest legitimate one, an export of 5,000 own points with 16 targets each, a full "
        "loss history and the biggest network, is 2.7 MB as exported (4.0 MB indented by 2)",
    )
    max_sessions: int = Field(400, description="live sessions at once")
    sessions_per_address: int = Field(
        150, ge=1, description="live sessions one client address may hold (a class behind one "
        "NAT shares one); past it, its own least recently used idle session makes room"
    )
    session_idle_seconds: float = Field(3600.0, description="a session untouched this long expires")
    eviction_grace_seconds: float = Field(
        900.0, ge=0, description="at the cap, an unused session idle this long makes room"
    )
    creates_per_minute: float = Field(
        120.0, ge=0, description="new sessions a client address may make a minute, sustained"
    )
    create_burst: int = Field(
        120, ge=1, description="new sessions a client address may make at once (a class's NAT)"
    )
    join_misses_per_minute: float = Field(
        60.0, ge=0, description="join codes that find no session a client address may try a "
        "minute, sustained (a script guessing codes); codes that find one are never counted"
    )
    join_miss_burst: int = Field(
        120, ge=1, description="join codes that find no session a client address may try at once"
    )
    stateless_per_address: int = Field(
        16, ge=1, description="/api/step and /api/gradcheck requests one client address may have "
        "running at once (a class behind one NAT shares one; most take milliseconds, the "
        "largest seconds); past it a 429 with Retry-After"
    )
    create_timeout_seconds: float = Field(
        60.0, gt=0, description="a new session not built by then is answered 503, never a hang"
    )
    max_followers: int = Field(500, description="WebSocket followers a session may have")
    followers_per_address: int = Field(
        300, ge=1, description="WebSocket connections one client address may hold open (a class "
        "behind one NAT holds a few hundred); past it its new ones are closed with code 4430"
    )
    spare_files: int = Field(
        256, ge=0, description="open files kept spare: within this many of the process's "
        "open-files limit, new WebSocket connections are closed with code 1013 (try again later)"
    )
    follower_send_seconds: float = Field(
        10.0, gt=0, description="a follower whose socket has not drained this long is cut off"
    )
    frame_rate: float = Field(60.0, description="frames per second sent to followers, at most")
    fanout_rate: float = Field(
        12_000.0, gt=0, description="deliveries a second to one session's followers on an "
        "instance, about: past it they get the latest frame less often, never under 24 a second"
    )
    heatmap_rate: float = Field(25.0, description="heatmap refreshes per second, at most")
    heatmap_resolution: int = Field(100, description="cells per side of the decision boundary")
    thumbnail_stride: int = Field(4, description="every n-th boundary cell makes a neuron heatmap")
    workers: int | None = Field(
        None, ge=1, description="worker processes that train sessions (default: one per core)"
    )
    worker_nice: int = Field(
        4, ge=0, le=19, description="the workers' niceness: training yields the CPU to the "
        "event loop, which sends the frames and answers the controls"
    )
    unwatched_seconds: float = Field(
        30.0, description="a playing session nobody follows for this long pauses"
    )
    host: str = Field(
        "127.0.0.1", description="the address it listens on (`--host`; `--lecture`: 0.0.0.0)"
    )
    port: int = Field(8000, ge=0, le=65535, description="the port it listens on (`--port`)")
    public_url: str | None = Field(
        None, description="the URL students open, when a proxy stands in front (share panel, QR)"
    )
    data_dir: Path = Field(
        platformdirs.user_data_path("backprop-playground"),
        description="where saved sessions (SQLite) live: the user's data folder by default, "
        "so saved links survive whichever folder the server is started from",
    )
    save_busy_seconds: float = Field(
        1.0, gt=0, le=2.0, description="a save that finds the saved-sessions file locked "
        "(another process holds it) waits this long, then is answered 503",
    )
    lessons_dir: Path | None = Field(
        None, description="a teacher's own lesson files (YAML), listed beside the bundled "
        "ones and read as asked; a file named like a bundled lesson replaces it",
    )
    redis_url: str | None = Field(
        None, description="Redis between instances (redis://host:port/0): followers on any "
        "instance, shared join codes, saved sessions and snapshots; unset, one instance alone"
    )
    router_url: str | None = Field(
        None, description="with Redis: nginx as the instances reach it (http://nginx); a "
        "follower of a session whose instance died has it restored through nginx at once"
    )
    snapshot_seconds: float = Field(
        2.0, gt=0, description="with Redis: live sessions are snapshotted this often, so an "
        "instance that dies loses at most this much of their training"
    )

    @property
    def lesson_folders(self) -> tuple[Path, ...]:
        """Where lessons are looked for, first match wins: the teacher's, then the bundled."""
        return (self.lessons_dir, LESSONS) if self.lessons_dir else (LESSONS,)

    @field_validator("public_url", "router_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None
