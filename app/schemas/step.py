"""Request and response models for /api/step and /api/gradcheck: the only validation.

Field names are the public contract of design.md; never rename one.
"""

import json
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Literal, Union

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, model_validator

from app.schemas.bounds import MOST_LAYERS, MOST_NEURONS, MOST_POINTS
from engine.activations import ACTIVATIONS
from engine.initializers import INITIALIZERS
from engine.losses import LOSSES, check_pairing, check_targets
from engine.optimizers import OPTIMIZERS
from engine.regularizers import REGULARIZERS

Finite = Annotated[float, Field(allow_inf_nan=False)]
MAX_COUNT = 2**53  # steps, epochs, updates: counted exactly in a float, never reached in practice
Number = float | None  # in responses: None stands for a value that overflowed
ActivationName = Literal[tuple(ACTIVATIONS)]
LossName = Literal[tuple(LOSSES)]
OptimizerName = Literal[tuple(OPTIMIZERS)]
InitName = Literal[tuple(INITIALIZERS)]
# fail_fast: a list stops at its first bad item, so a huge bad list costs one error, not
# one per item (10⁶ refused points made 2·10⁶ errors and a 294 MB answer)
# Every list is bounded (app/schemas/bounds.py): a row is one layer's width, a matrix one
# layer's rows, and a network has one matrix (bias vector, activation) a layer after the input
Row = Annotated[list[Finite], Field(max_length=MOST_NEURONS, fail_fast=True)]
Matrix = Annotated[list[Row], Field(max_length=MOST_NEURONS, fail_fast=True)]
Matrices = Annotated[list[Matrix], Field(max_length=MOST_LAYERS)]
Vectors = Annotated[list[Row], Field(max_length=MOST_LAYERS)]

# Settings.max_points for the request being parsed (app/routes/guards.py sets it per request): rows
# of
# points are counted before their items are validated, so 10⁶ points are refused at once
# instead of after seconds of validation. None (a worker re-validating): not counted here.
MAX_ROWS: ContextVar[int | None] = ContextVar("max_rows", default=None)


def _count_rows(value):
    limit = MAX_ROWS.get()
    if limit is not None and isinstance(value, list) and len(value) > limit:
        raise ValueError(f"at most {limit} rows (points), got {len(value)}")
    return value


Counted = BeforeValidator(_count_rows)
Rows = Annotated[   # one row a point
    list[Row], Field(min_length=1, max_length=MOST_POINTS, fail_fast=True), Counted
]


def _whole(value):
    """JSON Schema counts 821.0 as an integer, and so do JavaScript's numbers: take it as 821.
    821.5, a string or a bool still fail the strict int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Whole = Annotated[int, BeforeValidator(_whole)]   # an integer field of a request


def whole(**constraints):
    """An integer field of a request with its bounds, set before the conversion (after it,
    pydantic would show them in the schema as raw keywords, not as minimum and maximum)."""
    return Annotated[int, Field(**constraints), BeforeValidator(_whole)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NetworkSpec(Strict):
    layers: list[whole(ge=1)] = Field(
        min_length=2, max_length=MOST_LAYERS + 1, examples=[[2, 2, 1]]
    )
    activations: list[ActivationName] = Field(
        max_length=MOST_LAYERS, examples=[["sigmoid", "linear"]]
    )
    weights: Matrices | None = Field(
        None, examples=[[[[0.5, -0.3], [0.8, 0.2]], [[1.0], [-1.2]]]]
    )
    biases: Vectors | None = Field(None, examples=[[[0.1, -0.1], [0.0]]])

    @model_validator(mode="after")
    def shapes_chain(self):
        L = len(self.layers) - 1
        if len(self.activations) != L:
            raise ValueError(
                f"activations: needs {L} names (one per layer after the input), "
                f"got {len(self.activations)}"
            )
        for name in self.activations[:-1]:
            if ACTIVATIONS[name].output_only:
                raise ValueError(f"activations: {name} is allowed on the output layer only")
        for k in range(1, L + 1):
            m, n = self.layers[k - 1], self.layers[k]
            if self.weights is not None:
                _check_matrix("weights", self.weights, k, m, n, L)
            if self.biases is not None:
                if len(self.biases) != L:
                    raise ValueError(f"biases: needs {L} vectors, got {len(self.biases)}")
                if len(self.biases[k - 1]) != n:
                    raise ValueError(
                        f"biases[{k - 1}]: needs {n} values, got {len(self.biases[k - 1])}"
                    )
        return self


def _check_matrix(field: str, matrices: list, k: int, m: int, n: int, L: int) -> None:
    if len(matrices) != L:
        raise ValueError(
            f"{field}: needs one matrix per layer after the input, got {len(matrices)}"
        )
    W = matrices[k - 1]
    if len(W) != m or any(len(row) != n for row in W):
        raise ValueError(f"{field}[{k - 1}]: needs {m} rows of {n} values (layers {m} → {n})")


def _optimizer_model(spec) -> type[BaseModel]:
    """The request model of one engine optimizer: its name, α and hyper-parameters."""
    fields = {
        # required, as for the others: the union is told apart by name
        "name": (Literal[spec.name], ...),
        "learning_rate": (Finite, Field(spec.learning_rate, gt=0)),
    }
    for h in spec.hypers:
        bounds = {"gt" if h.low_open else "ge": h.low}
        if h.high is not None:
            bounds["lt"] = h.high
        fields[h.name] = (Finite, Field(h.default, **bounds))
    return create_model(spec.title or spec.name, __base__=Strict, **fields)


OPTIMIZER_MODELS = {name: _optimizer_model(spec) for name, spec in OPTIMIZERS.items()}
# Requests travel to the workers pickled, and pickle finds a class by its module and name
globals().update({model.__name__: model for model in OPTIMIZER_MODELS.values()})
Optimizer = Annotated[Union[tuple(OPTIMIZER_MODELS.values())], Field(discriminator="name")]  # noqa: UP007
SGD = OPTIMIZER_MODELS["sgd"]   # the default optimizer of every request
SLOT_NAMES = tuple(dict.fromkeys(s for spec in OPTIMIZERS.values() for s in spec.slot_names))


class Regularization(Strict):
    name: Literal[tuple(REGULARIZERS)]
    rate: Finite = Field(0.001, ge=0)

    def step_fields(self) -> dict:
        """As StepConfig's regularization and regularization_rate."""
        return {"regularization": self.name, "regularization_rate": self.rate}


NO_REGULARIZATION = {"regularization": None, "regularization_rate": 0.0}


def regularization_fields(reg: Regularization | None) -> dict:
    """The one unpacking of a request's regularization into StepConfig's two fields."""
    return NO_REGULARIZATION if reg is None else reg.step_fields()


class Params(Strict):
    """Arrays shaped like the network's weights and biases (optimizer slots)."""

    weights: Matrices
    biases: Vectors


class _StateIn(Strict):
    name: OptimizerName
    t: whole(ge=0, le=MAX_COUNT) = Field(
        0, description="updates taken so far (adam's bias correction uses it)"
    )


class _StateOut(BaseModel):
    name: str
    t: int


def _with_slots(title: str, base: type[BaseModel], slot: type) -> type[BaseModel]:
    """An optimizer state with every slot any engine optimizer keeps (null where unused)."""
    return create_model(title, __base__=base, **{s: (slot | None, None) for s in SLOT_NAMES})


OptimizerState = _with_slots("OptimizerState", _StateIn, Params)


DESIGN_EXAMPLE = json.loads((Path(__file__).parent / "design_example.json").read_text())
"""design.md's worked example (docs/example.json links to this file): loss 0.4223039553650916
before the update."""


class StepRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [DESIGN_EXAMPLE]})

    network: NetworkSpec
    loss: LossName = "mse"
    optimizer: Optimizer = Field(default_factory=lambda: SGD(name="sgd"))
    optimizer_state: OptimizerState | None = None
    regularization: Regularization | None = None
    train_biases: bool = True
    inputs: Rows = Field(examples=[[[0, 1]]])
    targets: Rows = Field(examples=[[[1]]])
    steps: whole(ge=1) = 1
    seed: whole(ge=0, lt=2**63) = 0
    init: InitName = "xavier"

    @model_validator(mode="after")
    def batch_fits_network(self):
        _check_batch(self)
        if self.optimizer_state is not None and self.optimizer_state.name != self.optimizer.name:
            raise ValueError(
                f"optimizer_state: holds {self.optimizer_state.name} state but "
                f"optimizer.name is {self.optimizer.name}"
            )
        return self


def _check_batch(request) -> None:
    n_in, n_out = request.network.layers[0], request.network.layers[-1]
    if any(len(row) != n_in for row in request.inputs):
        raise ValueError(f"inputs: every row needs {n_in} values (layers[0])")
    if len(request.targets) != len(request.inputs):
        raise ValueError(
            f"targets: needs one row per input row ({len(request.inputs)}), "
            f"got {len(request.targets)}"
        )
    if any(len(row) != n_out for row in request.targets):
        raise ValueError(f"targets: every row needs {n_out} values (layers[-1])")
    # The engine's own rules (an EngineError is a ValueError: pydantic answers it as a 422)
    check_pairing(request.loss, request.network.activations[-1], n_out)
    check_targets(request.loss, [v for row in request.targets for v in row])


class GradcheckRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{k: DESIGN_EXAMPLE[k] for k in ("network", "loss", "inputs", "targets")}]
        }
    )

    network: NetworkSpec
    loss: LossName = "mse"
    regularization: Regularization | None = None
    inputs: Rows = Field(examples=[[[0, 1]]])
    targets: Rows = Field(examples=[[[1]]])
    epsilon: Finite = Field(1e-6, gt=0, le=1e-2)
    seed: whole(ge=0, lt=2**63) = 0
    init: InitName = "xavier"

    @model_validator(mode="after")
    def batch_fits_network(self):
        _check_batch(self)
        return self


# ---- responses -------------------------------------------------------------------------


class LayerTrace(BaseModel):
    a: list[list[Number]]
    o: list[list[Number]]
    delta: list[list[Number]]


class ParamArrays(BaseModel):
    weights: list[list[list[Number]]]
    biases: list[list[Number]]


class NetworkOut(BaseModel):
    layers: list[int]
    activations: list[str]
    weights: list[list[list[Number]]]
    biases: list[list[Number]]


OptimizerStateOut = _with_slots("OptimizerStateOut", _StateOut, ParamArrays)


class StepResponse(BaseModel):
    loss: Number = Field(description="E on this batch before the update (penalty included)")
    layers: list[LayerTrace] = Field(description="k = 1..L: a, o and delta per example")
    gradients: ParamArrays
    updates: ParamArrays
    network: NetworkOut
    optimizer_state: OptimizerStateOut
    losses: list[Number] = Field(description="E before each update taken")
    diverged: bool = Field(description="true: a value overflowed; the last finite network is kept")
    steps_taken: int


class GradcheckResponse(BaseModel):
    analytic: ParamArrays
    numeric: ParamArrays
    relative_error: ParamArrays
    max_relative_error: Number
    loss: Number


def check_limits(
    settings,
    *,
    layers: list[int] | None = None,
    rows: int | None = None,
    steps: int | None = None,
    where: tuple = ("body",),
    layers_at: tuple = ("network", "layers"),
    rows_at: tuple = ("inputs",),
) -> None:
    """Raise a 422 naming the field when a request is over the configured limits."""
    errors = []
    if layers is not None:
        if len(layers) - 2 > settings.max_hidden_layers:
            errors.append(
                (
                    layers_at,
                    f"at most {settings.max_hidden_layers} hidden layers, got {len(layers) - 2}",
                )
            )
        if max(layers) > settings.max_neurons:
            errors.append(
                (layers_at, f"at most {settings.max_neurons} neurons a layer, got {max(layers)}")
            )
    if rows is not None and rows > settings.max_points:
        errors.append((rows_at, f"at most {settings.max_points} rows, got {rows}"))
    if steps is not None and steps > settings.max_steps:
        errors.append((("steps",), f"at most {settings.max_steps} steps a request, got {steps}"))
    if errors:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": (*where, *loc),
                    "msg": f"{'.'.join(loc)}: {msg}",
                    "input": None,
                }
                for loc, msg in errors
            ]
        )
