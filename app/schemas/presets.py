"""Lecture presets, one click each: seeded SessionConfigs a teacher can open by name."""

from dataclasses import dataclass

from app.schemas.session import SessionConfig


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    config: dict
    # epochs a second the page plays it at (static/pace.js): its loss falls over a few seconds
    pace: float = 10.0


# The classic 2-2-2 worked example (two inputs, two sigmoid hidden units, two sigmoid
# outputs, biases fixed): w1..w8 = .15 .20 .25 .30 .40 .45 .50 .55, b1 = .35, b2 = .60,
# input (.05, .10), target (.01, .99), learning rate 0.5. W[k][i][j] runs from node i to j.
WORKED_EXAMPLE = {
    "dataset": "custom",
    "data": {"inputs": [[0.05, 0.10]], "targets": [[0.01, 0.99]]},
    "hidden": [2],
    "activation": "sigmoid",
    "output_activation": "sigmoid",
    "loss": "mse",
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "batch_size": 1,
    "train_biases": False,
    "network": {
        "weights": [[[0.15, 0.25], [0.20, 0.30]], [[0.40, 0.50], [0.45, 0.55]]],
        "biases": [[0.35, 0.35], [0.60, 0.60]],
    },
}

DEEP = {
    "dataset": "circle",
    "hidden": [6, 6, 6, 6, 6, 6],
    "batch_size": 10,
    "optimizer": {"name": "sgd", "learning_rate": 0.03},
    "init": "xavier",
}

PRESETS = {
    p.name: p
    for p in [
        Preset(
            "xor",
            "XOR 2-2-1",
            "The truth table of XOR learnt by two sigmoid hidden units.",
            {
                "dataset": "xor_table",
                "hidden": [2],
                "activation": "sigmoid",
                "output_activation": "sigmoid",
                "loss": "bce",
                "batch_size": 4,
                "init": "xavier",
                "optimizer": {"name": "sgd", "learning_rate": 2.0},
                "seed": 1,
            },
            pace=60.0,   # one step an epoch, ~1,000 to learn: TFP's epoch a frame
        ),
        Preset(
            "worked_example",
            "2-2-2 worked example",
            "The textbook's hand-set weights with fixed biases: one step to check by hand.",
            WORKED_EXAMPLE,
        ),
        Preset(
            "vanishing_sigmoid",
            "Deep sigmoid: vanishing gradients",
            "Six sigmoid layers: the gradient-per-layer chart sags towards the input.",
            {**DEEP, "activation": "sigmoid"},
            pace=2.0,   # as its relu twin, which learns in ~10 epochs
        ),
        Preset(
            "vanishing_relu",
            "The same network with relu",
            "The same six layers with relu: gradients reach the first layer.",
            {**DEEP, "activation": "relu"},
            pace=2.0,
        ),
        Preset(
            "spiral",
            "Spiral: depth needed",
            "Two interleaved spirals need several layers of tanh to separate.",
            {
                "dataset": "spiral",
                "hidden": [8, 8, 8, 8, 8],
                "activation": "tanh",
                "features": ["x1", "x2", "sin_x1", "sin_x2"],
                "batch_size": 10,
                "optimizer": {"name": "adam", "learning_rate": 0.01},
                "init": "xavier",
            },
            pace=5.0,   # adam solves it in ~20 epochs
        ),
    ]
}


def preset_config(name: str) -> SessionConfig:
    return SessionConfig.model_validate(PRESETS[name].config)
