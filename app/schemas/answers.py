"""What the session routes answer, for /openapi.json: the worker encodes these bodies itself
(app/worker/session_view.py, app/worker/session_ops.py) and the routes pass its bytes on, so these
models document
them (a generated client types every field) without validating anything per request.
`Number` is null where a value overflowed (a diverged session)."""

from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.session import EXPORT_FORMAT, SessionConfig
from app.schemas.step import LayerTrace, NetworkOut, Number, OptimizerStateOut, ParamArrays

Status = Literal["paused", "playing", "diverged"]


class LastStep(BaseModel):
    """The last step in the REST contract's shape, plus its batch and the weights it used."""

    loss: Number = Field(description="E on the batch before the update")
    layers: list[LayerTrace] = Field(description="k = 1..L: a, o and delta per example")
    gradients: ParamArrays
    updates: ParamArrays
    inputs: list[list[Number]] = Field(description="the batch's inputs, o[0]")
    targets: list[list[Number]] | None
    weights_before: list[list[list[Number]]] | None
    biases_before: list[list[Number]] | None
    diverged: bool


class Metrics(BaseModel):
    train_loss: Number
    test_loss: Number
    train_accuracy: Number
    test_accuracy: Number


class Phase(BaseModel):
    """Step-through: which phase of the last step is shown."""

    index: int
    name: Literal["forward", "loss", "backward", "update"]
    layer: int | None
    count: int


class ProblemKind(BaseModel):
    """The problem the session learns, as the engine sees it (the page never guesses it)."""

    kind: Literal["classification", "regression"]
    classes: int = Field(description="2 for binary labels, 3+ for class indices, 0 for regression")
    outputs: int = Field(description="output nodes n_L")
    fused: bool = Field(description="true: δ^L = (ŷ − y)/N, the loss fused with its output layer")


class SessionState(BaseModel):
    """A session: what GET /api/sessions/{id} and every control answer."""

    id: str
    status: Status
    speed: float | None = Field(description="steps a second; null: as fast as it goes")
    step: int
    epoch: int
    config: SessionConfig = Field(description="the session's config, defaults resolved")
    layers: list[int]
    activations: list[str]
    feature_labels: list[str]
    extent: list[float] = Field(description="the plane's [low, high] on both axes")
    problem: ProblemKind
    network: NetworkOut
    optimizer_state: OptimizerStateOut
    metrics: Metrics
    record: LastStep | None = Field(description="null before the first step")
    phase: Phase | None = Field(description="null: the whole last step is shown")
    example: int | None
    followers: int
    watch_url: str
    join_code: str
    undo: int = Field(0, description="changes POST …/undo can take back (resets and "
                                     "structural changes), newest first")


class SessionCreated(BaseModel):
    """A new session: keep `token`, it is the only way to control the session."""

    id: str
    token: str = Field(description="send it as the X-Control-Token header to control it")
    watch_url: str
    join_code: str
    state: SessionState


class ExportedHistory(BaseModel):
    stride: int = Field(description="steps a value of `values` stands for")
    count: int = Field(description="losses logged in all")
    values: list[Number]
    min: list[Number]
    max: list[Number]
    recent_start: int
    recent: list[Number] = Field(description="the last steps exactly, from recent_start")


class ExportedParams(BaseModel):
    weights: list[list[list[Number]]]
    biases: list[list[Number]]


class ExportAnswer(BaseModel):
    """What GET /export answers (and POST /import takes back)."""

    format: Literal[EXPORT_FORMAT]
    config: SessionConfig
    network: ExportedParams
    optimizer_state: OptimizerStateOut
    step: int
    epoch: int
    status: Status
    history: ExportedHistory
    batch_order: list[int]
    batch_cursor: int
    rng_state: dict = Field(description="NumPy's bit generator state (PCG64)")


class RecentLosses(BaseModel):
    start: int
    loss: list[Number]


class HistoryAnswer(BaseModel):
    """The loss history: the whole run as blocks of `stride` steps, the last steps exactly."""

    stride: int
    steps: list[int] = Field(description="each block's first step")
    loss: list[Number] = Field(description="each block's mean")
    min: list[Number]
    max: list[Number]
    recent: RecentLosses


class GradientCheck(BaseModel):
    analytic: Number
    numeric: Number
    relative_error: Number


class SavedLink(BaseModel):
    code: str
    url: str = Field(description="the page that reopens it: /s/{code}")


class JoinAnswer(BaseModel):
    id: str
    watch_url: str


class Preset(BaseModel):
    name: str
    title: str
    description: str
    config: dict = Field(description="a SessionConfig (only the fields the preset sets)")
    pace: float = Field(description="epochs a second the page plays it at by default")
