"""The engine's registries as the page sees them: one JSON catalog that every menu is built from.

The templates render their <select>s and lists from it, and base.html embeds it for the
modules (static/registry.js): adding an activation, loss, optimizer, data set or feature to
the engine puts it on the page with no template or JavaScript edit.
"""

from dataclasses import asdict

from engine.activations import ACTIVATIONS
from engine.datasets import BOX, DATASETS
from engine.features import FEATURE_LABELS
from engine.initializers import INITIALIZERS
from engine.losses import LOSSES
from engine.optimizers import OPTIMIZERS
from engine.regularizers import REGULARIZERS
from engine.targets import output_size

# The class colours: −1 (or class 0), +1 (or class 1), class 2 — PuOr's ends and a teal
# (static/colors.js draws with these; the data-set thumbnails here too).
CLASS_COLORS = ("#e66101", "#5e3c99", "#1b9e77")


def catalog(settings) -> dict:
    """What the page may offer, in the engine's registry order, with the server's limits."""
    return {
        "activations": [name for name, g in ACTIVATIONS.items() if not g.output_only],
        "losses": {
            name: {"fused": loss.fused, "requires_output": loss.requires_output,
                   "equation": loss.equation}
            for name, loss in LOSSES.items()
        },
        "optimizers": {
            name: {
                "learning_rate": spec.learning_rate,
                "hypers": [asdict(h) for h in spec.hypers],
                "slots": list(spec.slot_names),
                "equation": spec.equation,
            }
            for name, spec in OPTIMIZERS.items()
        },
        "hypers": hyper_settings(),
        "regularizers": list(REGULARIZERS),
        "initializers": list(INITIALIZERS),
        "datasets": {
            name: {"kind": d.kind, "classes": d.classes, "default_points": d.default_points,
                   "outputs": output_size(d.kind, d.classes)}
            for name, d in DATASETS.items()
        },
        "features": FEATURE_LABELS,
        "plane": BOX,
        "class_colors": list(CLASS_COLORS),
        "limits": {
            "max_points": settings.max_points,
            "max_hidden_layers": settings.max_hidden_layers,
            "max_neurons": settings.max_neurons,
        },
    }


def hyper_settings() -> dict:
    """Every optimizer hyper-parameter the page has a control for, by name: its first
    definition (two optimizers may share one, as adam's and another's epsilon)."""
    found = {}
    for name, spec in OPTIMIZERS.items():
        for h in spec.hypers:
            found.setdefault(h.name, {**asdict(h), "optimizers": []})["optimizers"].append(name)
    return found
