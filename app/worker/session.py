"""A live training session as its worker process holds it: a Trainer plus what the stream
and the controls need around it (status, phase walk, loss log, what followers were sent).

No web imports here; the event loop's side of a session is app/loop/store.py's Handle.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from app.worker.chartlog import ChartLog
from app.worker.losslog import LossLog
from engine.trainer import RunConfig, Trainer


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
    join_code: str
    config: dict  # the resolved SessionConfig, as JSON
    run: RunConfig
    trainer: Trainer
    log: LossLog
    status: str = "paused"  # "paused" | "playing" | "diverged"
    speed: float | None = None  # steps a second; None: as fast as it goes
    phase_index: int | None = None  # None: the whole last step is shown
    example: int | None = None  # None: batch means in frames
    version: int = 0  # bumps on every change frames must show
    structure: int = 0  # bumps when the page must redraw from a state
    pending: list = field(default_factory=list)  # loss arrays not yet in a frame
    pending_start: int = 0
    pending_count: int = 0  # losses in `pending`
    unsaved: list = field(default_factory=list)  # loss arrays not yet in a checkpoint
    followers: int = 0
    seq: int = 0  # frames published
    sent_version: int = -1
    sent_structure: int = -1
    heatmap_version: int = -1
    played_since: float = 0.0  # a set speed counts its due steps from here
    played_steps: int = 0
    input_heatmaps: dict = field(default_factory=dict)  # the inputs' thumbnails, made once
    seconds_per_step: float = 1e-4  # measured while playing: how many steps fill a slice
    checkpoint_at: float = 0.0  # when the loss log last went whole into a checkpoint
    checkpoint_structure: int = -1  # the structure that checkpoint's config had
    charts: ChartLog = field(default_factory=ChartLog)  # the page's charts, for late joiners
    undo: list = field(default_factory=list)  # earlier Sessions, newest last (app/worker/undo.py)

    @property
    def watch_url(self) -> str:
        """The read-only page that follows this session."""
        return f"/watch/{self.id}"

    @property
    def before(self) -> np.ndarray | None:
        """θ before the last step, for the update phase and the gradient check."""
        return self.trainer.before

    def changed(self, structure: bool = False) -> None:
        self.version += 1
        if structure:
            self.structure += 1

    def play(self, speed: float | None) -> None:
        """Train continuously at `speed` steps a second (None: as fast as it goes)."""
        if self.status != "diverged":
            self.status, self.speed, self.phase_index = "playing", speed, None
            self.played_since, self.played_steps = time.perf_counter(), 0

    def pause(self) -> None:
        if self.status == "playing":
            self.status = "paused"

    def due_steps(self, most_seconds: float) -> int | None:
        """Steps a set speed owes by now (None: as fast as it goes). A session that fell
        behind (a busy server) owes at most `most_seconds` of steps: it goes on at its speed
        from there instead of making up the lag in one burst."""
        if self.speed is None:
            return None
        now = time.perf_counter()
        most = max(most_seconds * self.speed, 1.0)   # a slow speed still owes its next step
        owed = self.speed * (now - self.played_since) - self.played_steps
        if owed > most:
            owed = most
            self.played_since = now - (self.played_steps + most) / self.speed
        # The small allowance keeps a whole step owed whole through the rounding above.
        return int(owed + 1e-9)

    def advance(self, n: int) -> None:
        """n steps through the compiled loop only, no record (playing, between frames); their
        losses wait in the trainer until the next recorded step takes them into the log."""
        self.trainer.advance(n)
        if self.trainer.diverged:
            self.absorb()

    def step(self, n: int, *, after_divergence: bool = False) -> None:
        """Take n steps, the last one recorded (the page shows it). `after_divergence`: the
        parts before this one stopped at a diverged step, which is the one recorded."""
        if after_divergence:
            self.trainer.record()
        else:
            self.trainer.step(n)
        self.absorb()
        self.phase_index = None

    def absorb(self) -> None:
        """Move the trainer's new losses into the log and the not-yet-streamed list."""
        losses = self.trainer.losses
        self.played_steps += len(losses)
        if losses:
            self.trainer.losses = []
            chunk = np.asarray(losses, dtype=np.float64)
            self.log.extend(chunk)
            self.pending.append(chunk)
            self.unsaved.append(chunk)
            self.pending_count += len(chunk)
            while self.pending_count > self.log.recent and len(self.pending) > 1:
                # nobody is draining (no followers): keep memory bounded
                dropped = self.pending.pop(0)
                self.pending_start += len(dropped)
                self.pending_count -= len(dropped)
        if self.trainer.diverged:
            self.status = "diverged"

    def take_pending(self) -> tuple[int, np.ndarray]:
        start = self.pending_start
        losses = np.concatenate(self.pending) if self.pending else np.empty(0)
        self.pending, self.pending_start, self.pending_count = [], start + len(losses), 0
        return start, losses

    def reset(self) -> None:
        self.trainer.reset()
        self.log.clear()
        self.charts.clear()
        self.pending, self.pending_start, self.pending_count, self.unsaved = [], 0, 0, []
        self.status, self.phase_index = "paused", None

    def phase(self) -> Phase | None:
        if self.phase_index is None:
            return None
        table = phases(self.trainer.net.L)
        name, layer = table[self.phase_index]
        return Phase(self.phase_index, name, layer, len(table))

    def move_phase(self, direction: str) -> None:
        """→ walks the phases of the step on screen (the one `s` just took, or the last one
        played) and takes a new step after its update, or at step 0; ← goes back."""
        count = len(phases(self.trainer.net.L))
        if direction == "prev":
            self.phase_index = max(0, (self.phase_index or 0) - 1)
            return
        if self.trainer.last is None or self.phase_index == count - 1:
            self.step(1)
            self.phase_index = 0
        elif self.phase_index is None:   # the whole step is shown: unfold it, from its start
            self.phase_index = 0
        else:
            self.phase_index += 1
