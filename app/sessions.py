"""SessionStore: live training sessions with control tokens, join codes and idle expiry.

No web imports here: a Session is a Trainer plus what the server needs around it.
"""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.losslog import LossLog
from engine.trainer import RunConfig, Trainer

JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread from the back row


class StoreFull(Exception):
    """The configured number of sessions is live already."""


@dataclass
class Phase:
    index: int
    name: str  # "forward" | "loss" | "backward" | "update"
    layer: int | None
    count: int


def phases(L: int) -> list[tuple[str, int | None]]:
    """One step's phases: forward 1..L, loss, backward L..1, update."""
    return (
        [("forward", k) for k in range(1, L + 1)]
        + [("loss", None)]
        + [("backward", k) for k in range(L, 0, -1)]
        + [("update", None)]
    )


@dataclass
class Session:
    id: str
    token: str
    join_code: str
    config: dict  # the resolved SessionConfig, as JSON
    run: RunConfig
    trainer: Trainer
    log: LossLog
    status: str = "paused"  # "paused" | "playing" | "diverged"
    speed: float | None = None  # steps a second; None: as fast as it goes
    phase_index: int | None = None  # None: the whole last step is shown
    example: int | None = None  # None: batch means in frames
    before: object = None  # θ before the last step, for the update phase
    touched: float = field(default_factory=time.monotonic)
    version: int = 0  # bumps on every change frames must show
    structure: int = 0  # bumps when the page must redraw from a state
    pending: list = field(default_factory=list)  # losses not yet in a frame
    pending_start: int = 0
    on_change: Callable[["Session"], None] | None = None

    followers: int = 0

    @property
    def watch_url(self) -> str:
        """The read-only page that follows this session."""
        return f"/watch/{self.id}"

    def touch(self) -> None:
        self.touched = time.monotonic()

    def changed(self, structure: bool = False) -> None:
        self.version += 1
        if structure:
            self.structure += 1
        if self.on_change is not None:
            self.on_change(self)

    def play(self, speed: float | None) -> None:
        """Train continuously at `speed` steps a second (None: as fast as it goes)."""
        if self.status != "diverged":
            self.status, self.speed, self.phase_index = "playing", speed, None

    def pause(self) -> None:
        if self.status == "playing":
            self.status = "paused"

    def step(self, n: int) -> None:
        """Take n steps, log their losses and keep the parameters the last step started from
        (the update phase and the gradient check need them)."""
        trainer = self.trainer
        if n > 1:
            trainer.step(n - 1)
        self.before = trainer.net.theta.copy()
        trainer.step(1)
        self._absorb()
        self.phase_index = None

    def _absorb(self) -> None:
        """Move the trainer's new losses into the log and the not-yet-streamed list."""
        losses = self.trainer.losses
        if losses:
            self.trainer.losses = []
            self.log.extend(losses)
            self.pending.extend(losses)
            overflow = len(self.pending) - self.log.cap
            if overflow > 0:  # nobody is draining (no followers): keep memory bounded
                del self.pending[:overflow]
                self.pending_start += overflow
        if self.trainer.diverged:
            self.status = "diverged"

    def take_pending(self) -> tuple[int, list[float]]:
        start, losses = self.pending_start, self.pending
        self.pending, self.pending_start = [], start + len(losses)
        return start, losses

    def reset(self) -> None:
        self.trainer.reset()
        self.log.clear()
        self.pending, self.pending_start = [], 0
        self.status, self.phase_index, self.before = "paused", None, None

    def phase(self) -> Phase | None:
        if self.phase_index is None:
            return None
        table = phases(self.trainer.net.L)
        name, layer = table[self.phase_index]
        return Phase(self.phase_index, name, layer, len(table))

    def move_phase(self, direction: str) -> None:
        """→ walks the last step's phases and takes a new step after its update; ← goes back."""
        count = len(phases(self.trainer.net.L))
        if direction == "prev":
            self.phase_index = max(0, (self.phase_index or 0) - 1)
            return
        if self.phase_index is None or self.phase_index == count - 1 or self.trainer.last is None:
            self.step(1)
            self.phase_index = 0
        else:
            self.phase_index += 1


class SessionStore:
    """Sessions by id and by join code; capped, idle ones expire."""

    def __init__(self, max_sessions: int, idle_seconds: float, loss_cap: int):
        self.max_sessions, self.idle_seconds, self.loss_cap = max_sessions, idle_seconds, loss_cap
        self.sessions: dict[str, Session] = {}
        self.codes: dict[str, str] = {}
        self.on_remove: Callable[[Session], None] | None = None

    def create(self, config: dict, run: RunConfig, trainer: Trainer) -> Session:
        self.expire()
        if len(self.sessions) >= self.max_sessions:
            self._evict_one()
        if len(self.sessions) >= self.max_sessions:
            raise StoreFull(
                f"at most {self.max_sessions} sessions at once, all in use (playing "
                "or followed); try again later"
            )
        session = Session(
            id=secrets.token_urlsafe(12),
            token=secrets.token_urlsafe(24),
            join_code=self._new_code(),
            config=config,
            run=run,
            trainer=trainer,
            log=LossLog(self.loss_cap),
        )
        self.sessions[session.id] = session
        self.codes[session.join_code] = session.id
        return session

    def _new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(6))
            if code not in self.codes:
                return code

    def get(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    def by_code(self, code: str) -> Session | None:
        session_id = self.codes.get(code.strip().upper())
        return self.sessions.get(session_id) if session_id else None

    def remove(self, session_id: str) -> None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            self.codes.pop(session.join_code, None)
            if self.on_remove is not None:
                self.on_remove(session)

    def _evict_one(self) -> None:
        """Make room by ending the least recently used session nobody watches or plays: a
        page reloaded again and again must not lock everyone else out for an hour."""
        unused = [s for s in self.sessions.values() if s.followers == 0 and s.status != "playing"]
        if unused:
            self.remove(min(unused, key=lambda s: s.touched).id)

    def expire(self, now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        idle = [
            s.id
            for s in self.sessions.values()
            if now - s.touched > self.idle_seconds and s.followers == 0
        ]
        for session_id in idle:
            self.remove(session_id)
        return idle

    @staticmethod
    def authorised(session: Session, token: str | None) -> bool:
        return token is not None and secrets.compare_digest(session.token, token)
