"""Session requests: create, control, hand edits, import."""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from app.schemas.step import SGD, Finite, InitName, Matrix, Optimizer, Regularization, Strict
from engine.activations import ACTIVATIONS
from engine.datasets import DATASETS
from engine.features import FEATURES

HiddenActivation = Literal[tuple(n for n, a in ACTIVATIONS.items() if not a.output_only)]
OutputActivation = Literal[tuple(ACTIVATIONS)]
DatasetName = Literal[tuple(DATASETS) + ("custom",)]
FeatureName = Literal[tuple(FEATURES)]


class OwnData(Strict):
    """Points of the user's own: raw (x1, x2) in [−6, 6]², with labels ±1 (classification)
    or rows of targets (regression, one output node per column)."""

    inputs: list[
        Annotated[list[Annotated[Finite, Field(ge=-6, le=6)]], Field(min_length=2, max_length=2)]
    ] = Field(min_length=1, examples=[[[1.0, 2.0], [-3.0, 0.5]]])
    labels: list[Literal[-1, 1]] | None = Field(None, examples=[[1, -1]])
    targets: list[Annotated[list[Finite], Field(min_length=1, max_length=16)]] | None = None

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
    weights: list[Matrix] | None = None
    biases: list[list[Finite]] | None = None


class SessionConfig(Strict):
    dataset: DatasetName = "circle"
    points: int | None = Field(None, ge=1, description="null: the data set's default")
    noise: Finite = Field(0.0, ge=0, le=50, description="percent")
    train_share: Finite = Field(50.0, ge=10, le=90, description="percent of points to train on")
    features: list[FeatureName] = Field(["x1", "x2"], min_length=1)
    hidden: list[Annotated[int, Field(ge=1)]] = Field([4, 2])
    activation: HiddenActivation = "tanh"
    output_activation: OutputActivation | None = Field(
        None, description="null: tanh (classification), linear (regression), softmax (3 classes)"
    )
    loss: Literal["mse", "bce", "softmax_ce"] | None = Field(
        None, description="null: mse, or softmax_ce with a softmax output"
    )
    optimizer: Optimizer = Field(default_factory=SGD)
    batch_size: int = Field(10, ge=1)
    regularization: Regularization | None = None
    train_biases: bool = True
    init: InitName = "uniform"
    seed: int = Field(0, ge=0, lt=2**63)
    data_seed: int = Field(0, ge=0, lt=2**63)
    data: OwnData | None = None
    network: HandSet | None = None

    @model_validator(mode="after")
    def consistent(self):
        if len(set(self.features)) != len(self.features):
            raise ValueError("features: each feature at most once")
        if self.dataset == "custom" and self.data is None:
            raise ValueError("data: the custom data set needs data.inputs and data.labels")
        return self


class StepBody(Strict):
    steps: int = Field(1, ge=1)


class PlayBody(Strict):
    speed: Finite | None = Field(None, gt=0, description="steps a second; null: as fast as it goes")


class PhaseBody(Strict):
    direction: Literal["next", "prev"] = "next"


class ConfigPatch(Strict):
    """Hyper-parameters that change live, between steps."""

    learning_rate: Finite | None = Field(None, gt=0)
    optimizer: Optimizer | None = None
    regularization: Regularization | None = None
    regularization_off: bool = Field(False, description="true: remove the regularisation")
    batch_size: int | None = Field(None, ge=1)
    activation: HiddenActivation | None = None
    example: int | None = Field(None, ge=-1, description="row of the batch to show; -1: the mean")
    train_biases: bool | None = None


class ParameterEdit(Strict):
    kind: Literal["W", "b"]
    layer: int = Field(ge=1, description="k = 1..L")
    i: int = Field(ge=0, description="W: source node in layer k−1; b: node in layer k")
    j: int | None = Field(None, ge=0, description="W: target node in layer k")
    value: Finite

    @model_validator(mode="after")
    def j_for_weights(self):
        if self.kind == "W" and self.j is None:
            raise ValueError("j: needed for a weight (kind W)")
        return self


class SessionExport(Strict):
    """What GET /export returns and POST /import takes."""

    format: Literal["backprop-playground/session@1"]
    config: SessionConfig
    network: HandSet
    optimizer_state: dict
    step: int = Field(ge=0)
    epoch: int = Field(ge=0)
    status: Literal["paused", "playing", "diverged"] = "paused"
    history: dict = Field(description="{stride, values}: loss before every stride-th step")
    batch_order: list[int]
    batch_cursor: int = Field(ge=0)
    rng_state: dict
