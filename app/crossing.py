"""What crosses the process boundary between the event loop and a worker, both ways: a call's
Outcome, a session's Checkpoint (to rebuild it in another worker), a lesson slide's SlideState,
a slice's Failure. The calls themselves are app/worker/process.py's functions, which the hub
(app/loop/hub.py) submits to a worker's executor; everything here is pickled on the way.
"""

from dataclasses import dataclass, field

from engine.trainer import Snapshot


@dataclass
class Checkpoint:
    """What the hub keeps to rebuild a session in another worker: a trainer snapshot, the
    loss log as of `log_state` plus the chunks logged since, and the session's own fields."""

    # As JSON bytes: one object for the server to keep, where a config with 5,000 own
    # points as lists was ~100,000 Python objects that its garbage collector walked, holding
    # the event loop ~90 ms (bench/bodies.py, a race of 4 such lanes). None: unchanged since
    # the hub's last full checkpoint.
    config: bytes | None
    snapshot: Snapshot
    fields: dict
    log_state: object = None        # None: unchanged since the hub's last full checkpoint
    chunks: list = field(default_factory=list)
    charts: dict | None = None      # the charts' points as of log_state (app/worker/chartlog.py)


@dataclass
class Outcome:
    """One call's result, as the event loop needs it."""

    body: bytes | None = None
    status: str = "paused"
    speed: float | None = None
    messages: dict = field(default_factory=dict)  # stream kind -> text, made once
    span: tuple[int, int] | None = None            # the frame's loss steps [start, end)
    checkpoint: Checkpoint | None = None
    overhead: float = 0.0                          # seconds a slice spent beyond training


@dataclass
class SlideState:
    """A session's whole state, to adopt again (app/classroom/presenting.py keeps one per lesson
    slide): its checkpoint, and what a checkpoint leaves out, the step shown and the phase
    walked to."""

    checkpoint: Checkpoint
    phase_index: int | None
    shown: tuple     # the trainer's last record, its batch, and θ before it


@dataclass
class Failure:
    """A slice that raised: the hub logs it and pauses the session; the round goes on."""

    traceback: str
