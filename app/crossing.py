"""What crosses the process boundary between the event loop and a worker, both ways: a call's
Outcome, a session's Checkpoint (to rebuild it in another worker), a lesson slide's SlideState,
a slice's Failure. The calls themselves are app/worker/process.py's functions, which the hub
(app/loop/hub.py) submits to a worker's executor; everything here is pickled on the way.
"""

import math
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


# --- controls: each call on a session a dataclass, checked as it is made -------------------
#
# The loop makes one of these and the hub sends it to the session's worker
# (app/worker/process.py CONTROLS and READS, app/worker/races.py for a race's lanes). It is
# checked here, as it is made, so a malformed call fails on the loop with its name, never
# half-way through a worker.


class BadControl(TypeError):
    """A control made with a value of the wrong kind: a bug on the loop's side."""


def _need(control, ok: bool, what: str) -> None:
    if not ok:
        raise BadControl(f"{type(control).__name__}: {what}")


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Control:
    """A call that changes a session (or only reads it) and answers with its state."""

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Each control's own check of its fields (none: nothing to check)."""


@dataclass(frozen=True)
class Read(Control):
    """The state, unchanged."""


@dataclass(frozen=True)
class Step(Control):
    steps: int
    after_divergence: bool = False   # the parts before it stopped at a diverged step

    def check(self) -> None:
        _need(self, _whole(self.steps) and self.steps >= 1, f"steps {self.steps!r}: a count ≥ 1")
        _need(self, isinstance(self.after_divergence, bool), "after_divergence: a bool")


@dataclass(frozen=True)
class Play(Control):
    speed: float | None   # steps a second; None: as fast as it goes

    def check(self) -> None:
        _need(self, self.speed is None or _number(self.speed), f"speed {self.speed!r}")


@dataclass(frozen=True)
class Pause(Control):
    pass


@dataclass(frozen=True)
class Undoable(Control):
    undoable: bool = False   # the teacher's change, which undo takes back (a lesson's is not)

    def check(self) -> None:
        _need(self, isinstance(self.undoable, bool), "undoable: a bool")


@dataclass(frozen=True)
class Reset(Undoable):
    pass


@dataclass(frozen=True)
class Phase(Control):
    direction: str = "next"

    def check(self) -> None:
        _need(self, self.direction in ("next", "prev"), f"direction {self.direction!r}")


@dataclass(frozen=True)
class Config(Control):
    patch: dict   # a ConfigPatch as JSON: the worker validates it against the session

    def check(self) -> None:
        _need(self, isinstance(self.patch, dict), "patch: a ConfigPatch as a dict")


@dataclass(frozen=True)
class Parameter(Control):
    edit: dict    # a ParameterEdit as JSON

    def check(self) -> None:
        _need(self, isinstance(self.edit, dict), "edit: a ParameterEdit as a dict")


@dataclass(frozen=True)
class Rebuild(Undoable):
    config: dict | None = None   # a whole SessionConfig as JSON

    def check(self) -> None:
        super().check()
        _need(self, isinstance(self.config, dict), "config: a SessionConfig as a dict")


@dataclass(frozen=True)
class Adopt(Control):
    state: SlideState | None = None

    def check(self) -> None:
        _need(self, isinstance(self.state, SlideState), "state: a SlideState")


@dataclass(frozen=True)
class Load(Undoable):
    export: dict | None = None   # a session's export, as JSON

    def check(self) -> None:
        super().check()
        _need(self, isinstance(self.export, dict), "export: a session's export as a dict")


@dataclass(frozen=True)
class Undo(Control):
    pass


@dataclass(frozen=True)
class Question(Control):
    """A read that answers with its own bytes, not the state."""


@dataclass(frozen=True)
class HistoryJson(Question):
    pass


@dataclass(frozen=True)
class HistoryCsv(Question):
    pass


@dataclass(frozen=True)
class Export(Question):
    pass


@dataclass(frozen=True)
class Code(Question):
    """The code behind the run (app/worker/code_export.py): fmt one of its FORMATS."""

    fmt: str

    def check(self) -> None:
        _need(self, self.fmt in ("py", "ipynb", "torch.py"), f"fmt {self.fmt!r}")


@dataclass(frozen=True)
class Gradcheck(Question):
    kind: str
    layer: int
    i: int
    j: int | None = None

    def check(self) -> None:
        _need(self, self.kind in ("W", "b"), f"kind {self.kind!r}")
        _need(self, _whole(self.layer) and _whole(self.i), "layer, i: whole numbers")
        _need(self, self.j is None or _whole(self.j), "j: a whole number or None")


@dataclass(frozen=True)
class Graph(Question):
    layer: int
    node: int
    example: int | None = None

    def check(self) -> None:
        _need(self, _whole(self.layer) and _whole(self.node), "layer, node: whole numbers")
        _need(self, self.example is None or _whole(self.example), "example: whole or None")
