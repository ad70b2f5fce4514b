"""The request models' list bounds (maxItems): static, from the most any setting may allow
(app/config.py: MOST_*), and configured, in the schema (state_limits).

The configured limits (app/config.py: max_hidden_layers, max_neurons, max_points) are
settings, read when the app is made, and checked per request (step.check_limits); the models
are made once, at import. So a model bounds each list by the most its setting may ever be (the
settings refuse a value past it), and state_limits below tightens the schema to the configured
value. Every list a request can hold is bounded, so that a body is refused by its shape
(app/schemas/shape.py) before millions of objects are built from it.
"""

from app.config import MOST_HIDDEN_LAYERS, MOST_NEURONS, MOST_POINTS

MOST_LAYERS = MOST_HIDDEN_LAYERS + 1   # weight matrices, bias vectors, activations: one a layer
__all__ = ["MOST_HIDDEN_LAYERS", "MOST_LAYERS", "MOST_NEURONS", "MOST_POINTS", "state_limits"]


def state_limits(spec: dict, settings) -> None:
    """The configured limits, in the schema: a request over one is refused (422), so the
    schema says so (the models cannot: the limits are settings, read when the app is made;
    they bound each list by the most a setting may be, app/schemas/bounds.py)."""
    layers, width, points = (settings.max_hidden_layers + 1, settings.max_neurons,
                             settings.max_points)
    limits = [
        ("StepBody", "steps", "maximum", settings.max_steps),
        ("StepRequest", "steps", "maximum", settings.max_steps),
        ("SessionConfig", "points", "maximum", settings.max_points),
        ("SessionConfig", "hidden", "maxItems", settings.max_hidden_layers),
        ("NetworkSpec", "layers", "maxItems", layers + 1),
        ("NetworkSpec", "activations", "maxItems", layers),
    ]
    # (model, field, maxItems of the list, of its items, of theirs): nested lists
    lists = [(model, field, points, width) for model in ("StepRequest", "GradcheckRequest")
             for field in ("inputs", "targets")]
    lists += [("OwnData", field, points) for field in ("inputs", "labels", "targets")]
    lists += [("SessionExport", "batch_order", points)]
    # (an optimizer's slots, Params, keep the models' bounds: a slot it does not use is
    # ignored whatever its shape)
    for model in ("NetworkSpec", "HandSet", "ExportNetwork"):
        lists += [(model, "weights", layers, width, width), (model, "biases", layers, width)]
    limits += [(model, field, "maxItems", bounds) for model, field, *bounds in lists]
    schemas = spec.get("components", {}).get("schemas", {})
    for model, field, keyword, value in limits:
        prop = schemas.get(model, {}).get("properties", {}).get(field)
        if prop is None:
            continue
        for variant in prop.get("anyOf", [prop]):   # an optional field: its non-null variant
            if variant.get("type") in ("integer", "array"):
                _tighten(variant, keyword, value if isinstance(value, list) else [value])
                if field == "hidden":
                    variant["items"]["maximum"] = settings.max_neurons


def _tighten(schema: dict, keyword: str, values: list) -> None:
    """schema[keyword] at most values[0], its items' at most values[1], and so on down."""
    for value in values:
        schema[keyword] = min(value, schema.get(keyword, value))
        schema = schema.get("items", {})
