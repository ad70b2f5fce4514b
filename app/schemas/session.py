"""Session requests: create, control, hand edits, import."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.bounds import MOST_HIDDEN_LAYERS, MOST_POINTS
from app.schemas.step import (
    MAX_COUNT,
    SGD,
    Counted,
    Finite,
    InitName,
    LossName,
    Matrices,
    Optimizer,
    OptimizerState,
    Regularization,
    Strict,
    Vectors,
    whole,
)
from engine.activations import ACTIVATIONS
from engine.datasets import BOX, DATASETS
from engine.errors import EngineError
from engine.features import FEATURES
from engine.losses import check_pairing, check_targets, default_loss
from engine.targets import output_size
from engine.trainer import MAX_BATCH

HiddenActivation = Literal[tuple(n for n, a in ACTIVATIONS.items() if not a.output_only)]
OutputActivation = Literal[tuple(ACTIVATIONS)]
DatasetName = Literal[tuple(DATASETS) + ("custom",)]
FeatureName = Literal[tuple(FEATURES)]
MAX_SPEED = 1e6  # steps a second: more than any session trains; null means as fast as it goes
EXPORT_FORMAT = "backprop-playground/session@1"


Coordinate = Annotated[Finite, Field(ge=-BOX, le=BOX)]
Point = Annotated[list[Coordinate], Field(min_length=2, max_length=2)]
TargetRow = Annotated[list[Finite], Field(min_length=1, max_length=16, fail_fast=True)]


class OwnData(Strict):
    """Points of the user's own: raw (x1, x2) in the plane [−6, 6]², with labels ±1 (classification)
    or rows of targets (regression, one output node per column)."""

    inputs: Annotated[list[Point], Field(min_length=1, max_length=MOST_POINTS, fail_fast=True),
                      Counted] = Field(examples=[[[1.0, 2.0], [-3.0, 0.5]]])
    labels: Annotated[list[Literal[-1, 1]], Field(max_length=MOST_POINTS, fail_fast=True),
                      Counted] | None = Field(None, examples=[[1, -1]])
    targets: Annotated[list[TargetRow], Field(max_length=MOST_POINTS, fail_fast=True),
                       Counted] | None = None

    @model_validator(mode="after")
    def one_label_a_point(self):
        if (self.labels is None) == (self.targets is None):
            raise ValueError("data: give either labels (±1) or targets (rows of numbers)")
        given = self.labels if self.labels is not None else self.targets
        name = "labels" if self.labels is not None else "targets"
        if len(given) != len(self.inputs):
            raise ValueError(
                f"data.{name}: needs one per point ({len(self.inputs)}), got {len(given)}"
            )
        if self.targets is not None and len({len(row) for row in self.targets}) != 1:
            raise ValueError("data.targets: every row needs the same number of values")
        return self


class HandSet(Strict):
    weights: Matrices | None = None
    biases: Vectors | None = None


class SessionConfig(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"dataset": "xor", "hidden": [4, 2], "activation": "tanh", "batch_size": 10}
            ]
        }
    )

    dataset: DatasetName = "circle"
    points: whole(ge=1) | None = Field(None, description="null: the data set's default")
    noise: Finite = Field(0.0, ge=0, le=50, description="percent")
    train_share: Finite = Field(50.0, ge=10, le=90, description="percent of points to train on")
    features: list[FeatureName] = Field(
        ["x1", "x2"], min_length=1, max_length=len(FEATURES),
        json_schema_extra={"uniqueItems": True},
    )
    hidden: list[whole(ge=1)] = Field([4, 2], max_length=MOST_HIDDEN_LAYERS)
    activation: HiddenActivation = "tanh"
    output_activation: OutputActivation | None = Field(
        None, description="null: tanh (classification), linear (regression), softmax (3 classes)"
    )
    loss: LossName | None = Field(
        None, description="null: mse, or softmax_ce with a softmax output"
    )
    optimizer: Optimizer = Field(default_factory=lambda: SGD(name="sgd"))
    batch_size: whole(ge=1, le=MAX_BATCH) = 10
    regularization: Regularization | None = None
    train_biases: bool = True
    init: InitName = "uniform"
    seed: whole(ge=0, lt=2**63) = 0
    data_seed: whole(ge=0, lt=2**63) = 0
    data: OwnData | None = None
    network: HandSet | None = None

    @model_validator(mode="after")
    def consistent(self):
        if len(set(self.features)) != len(self.features):
            raise ValueError("features: each feature at most once")
        if self.dataset == "custom" and self.data is None:
            raise ValueError("data: the custom data set needs data.inputs and data.labels")
        if self.dataset != "custom" and self.data is not None:
            raise ValueError(
                f"data: own points go with dataset \"custom\"; drop data to train on "
                f"{self.dataset}, or set dataset to custom"
            )
        _check_outputs(self)
        return self


def _check_outputs(cfg: SessionConfig) -> None:
    """Refuse an output layer or loss that cannot mean anything for this data set's targets:
    the engine's rules (engine/losses.py), checked here so that a 422 comes before a build."""
    if cfg.dataset == "custom":
        targets = cfg.data.targets
        outputs = len(targets[0]) if targets else 1
        values = [v for row in targets for v in row] if targets else [0.0, 1.0]
    else:
        spec = DATASETS[cfg.dataset]
        outputs = output_size(spec.kind, spec.classes)
        values = [-1.0, 1.0] if spec.kind == "regression" else [0.0, 1.0]
    output = cfg.output_activation
    loss = cfg.loss or default_loss(output)
    try:
        if output is not None:
            check_pairing(loss, output, outputs)
        check_targets(loss, values)
    except EngineError as err:
        field = {"layers": "output_activation", "targets": "loss"}.get(err.field, err.field)
        raise ValueError(f"{field}: {str(err).split(': ', 1)[1]}") from None


class StepBody(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"steps": 10}]})

    steps: whole(ge=1) = 1


class PlayBody(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"speed": 30}]})

    speed: Finite | None = Field(
        None, gt=0, le=MAX_SPEED, description="steps a second; null: as fast as it goes"
    )


class PhaseBody(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"direction": "next"}]})

    direction: Literal["next", "prev"] = "next"


class ConfigPatch(Strict):
    """Hyper-parameters that change live, between steps."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"learning_rate": 0.1}]})

    learning_rate: Finite | None = Field(None, gt=0)
    optimizer: Optimizer | None = None
    regularization: Regularization | None = None
    regularization_off: bool = Field(False, description="true: remove the regularisation")
    batch_size: whole(ge=1, le=MAX_BATCH) | None = None
    activation: HiddenActivation | None = None
    example: whole(ge=-1) | None = Field(None, description="row of the batch to show; -1: the mean")
    train_biases: bool | None = None


class ParameterEdit(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"kind": "W", "layer": 1, "i": 0, "j": 1, "value": 0.5}]}
    )

    kind: Literal["W", "b"]
    layer: whole(ge=1) = Field(description="k = 1..L")
    i: whole(ge=0) = Field(description="W: source node in layer k−1; b: node in layer k")
    j: whole(ge=0) | None = Field(None, description="W: target node in layer k")
    value: Finite

    @model_validator(mode="after")
    def j_for_weights(self):
        if self.kind == "W" and self.j is None:
            raise ValueError("j: needed for a weight (kind W)")
        return self


EXPORT_EXAMPLE = {  # three steps of a 2-2-1 network on the four points of XOR
    "format": EXPORT_FORMAT,
    "config": {
        "dataset": "custom",
        "data": {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "labels": [-1, 1, 1, -1]},
        "hidden": [2],
        "batch_size": 2,
    },
    "network": {
        "weights": [[[0.44, -0.19], [0.22, -0.37]], [[-0.08], [0.15]]],
        "biases": [[0.1, 0.1], [0.097]],
    },
    "optimizer_state": {"name": "sgd", "t": 3},
    "step": 3,
    "epoch": 1,
    "status": "paused",
    "history": {"stride": 1, "count": 3, "values": [0.532, 0.477, 0.476]},
    "batch_order": [1, 3, 0, 2],
    "batch_cursor": 2,
    "rng_state": {
        "bit_generator": "PCG64",
        "state": {
            "state": 66239232538628568488699163917982183798,
            "inc": 329002041808208584022837328454739705169,
        },
        "has_uint32": 0,
        "uinteger": 2627505498,
    },
}

# What a session keeps, here because an import is checked against it (app/worker/losslog.py and
# app/worker/chartlog.py keep them).
RECENT_LOSSES = 4096  # a live session's loss log: its last steps, exact
MAX_HISTORY_VALUES = 100_000  # an import's values at most: the thinned list of old exports
CHART_POINTS = 1024  # a chart is a few hundred pixels wide and draws two points a pixel at most

Count = whole(ge=0, le=MAX_COUNT)
BlockValues = Annotated[list[Finite | None], Field(max_length=MAX_HISTORY_VALUES, fail_fast=True)]
RecentValues = Annotated[list[Finite | None], Field(max_length=RECENT_LOSSES, fail_fast=True)]


class ExportNetwork(Strict):
    weights: Matrices
    biases: Vectors


class LossHistory(Strict):
    """The loss log as app/losslog.py writes it: the whole run as blocks of `stride` steps
    (values: their means, null where none was finite; min; max) and the last steps exactly
    from recent_start. An export from before blocks has stride, count and values only."""

    stride: whole(ge=1, le=MAX_COUNT) = Field(description="steps a block: a power of two")
    count: Count = Field(description="steps logged")
    values: BlockValues
    min: BlockValues | None = None
    max: BlockValues | None = None
    recent_start: Count | None = None
    recent: RecentValues | None = None


ChartValues = Annotated[list[Finite | None], Field(max_length=CHART_POINTS, fail_fast=True)]


class ExportCharts(Strict):
    """The charts' points as app/chartlog.py keeps them (null where not finite), so that a
    reopened session or race draws its whole run; grad_norms: per point, one a layer."""

    cap: whole(ge=1, le=CHART_POINTS)
    grid: whole(ge=1, le=MAX_COUNT)
    steps: Annotated[list[Count], Field(max_length=CHART_POINTS, fail_fast=True)]
    train_loss: ChartValues
    test_loss: ChartValues
    grad_norms: Annotated[list[Annotated[list[Finite | None], Field(max_length=64)]],
                          Field(max_length=CHART_POINTS, fail_fast=True)]

    @model_validator(mode="after")
    def one_point_each(self) -> "ExportCharts":
        lengths = {len(self.steps), len(self.train_loss), len(self.test_loss),
                   len(self.grad_norms)}
        if len(lengths) != 1 or len(self.steps) > self.cap:
            raise ValueError("charts: steps, train_loss, test_loss and grad_norms need one "
                             "entry a point, at most cap of them")
        return self


class RngCounter(Strict):
    state: whole(ge=0, lt=2**128)
    inc: whole(ge=0, lt=2**128)


class RngState(Strict):
    """NumPy's PCG64 bit generator state: the batch order's shuffle stream."""

    bit_generator: Literal["PCG64"]
    state: RngCounter
    has_uint32: whole(ge=0, le=1) = 0   # not Literal[0, 1]: that would take false
    uinteger: whole(ge=0, lt=2**32) = 0


class SessionExport(Strict):
    """What GET /export returns and POST /import takes."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXPORT_EXAMPLE]})

    format: Literal[EXPORT_FORMAT]
    config: SessionConfig
    network: ExportNetwork
    optimizer_state: OptimizerState
    step: Count
    epoch: Count
    status: Literal["paused", "playing", "diverged"] = "paused"
    history: LossHistory
    batch_order: list[whole(ge=0, lt=2**31)] = Field(
        max_length=MOST_POINTS, fail_fast=True,
        description="a permutation of the training rows: this epoch's order",
    )
    batch_cursor: whole(ge=0, lt=2**31) = Field(description="where the next batch starts in it")
    rng_state: RngState
    charts: ExportCharts | None = Field(None, description="the charts' points (none: empty)")


class Problem(BaseModel):
    """An error answer that is not a validation error (403, 404, 503)."""

    detail: str
