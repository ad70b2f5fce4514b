"""The most any setting may allow: the request models' static list bounds (maxItems).

The configured limits (app/config.py: max_hidden_layers, max_neurons, max_points) are
settings, read when the app is made, and checked per request (step.check_limits); the models
are made once, at import. So a model bounds each list by the most its setting may ever be (the
settings refuse a value past it), and app/openapi.py tightens the schema to the configured
value. Every list a request can hold is bounded, so that a body is refused by its shape
(app/shape.py) before millions of objects are built from it.
"""

MOST_HIDDEN_LAYERS = 32    # Settings.max_hidden_layers at most
MOST_NEURONS = 256         # Settings.max_neurons at most: a layer's width, inputs included
MOST_POINTS = 100_000      # Settings.max_points at most: rows of a data set or a batch
MOST_LAYERS = MOST_HIDDEN_LAYERS + 1   # weight matrices, bias vectors, activations: one a layer
