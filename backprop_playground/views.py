"""The widget's model: the stream's messages in synced traits, and the one ES module that draws
them (static/'s views bundled by esbuild, see package.json), shared by Playground and the
read-only follower of a server's session."""

import json
from functools import cache
from importlib import resources

import anywidget
import traitlets

from app.config import Settings
from app.routes.catalog import catalog

BUNDLE = "bundle/widget.js"


@cache
def esm() -> str:
    """The bundle, after the registry the page's modules read from a #registry element at
    import (static/registry.js): put into the document first, as the page's template does."""
    source = resources.files("backprop_playground").joinpath(BUNDLE)
    if not source.is_file():
        raise RuntimeError(
            f"backprop_playground/{BUNDLE} is missing: build it with `make` "
            "(or `npm ci && npm run build`) in the repository")
    registry = json.dumps(catalog(Settings()))
    prelude = (
        'if (!document.getElementById("registry")) {\n'
        '  const script = document.createElement("script");\n'
        '  script.type = "application/json"; script.id = "registry";\n'
        f"  script.textContent = {json.dumps(registry)};\n"
        "  document.head.append(script);\n"
        "}\n"
    )
    return prelude + source.read_text()


class StreamView(anywidget.AnyWidget):
    """The latest stream message of each kind, as the server sends it (docs/stream.md):
    a view that renders late draws from these, one that is open redraws on each change."""

    state = traitlets.Unicode("").tag(sync=True)
    frame = traitlets.Unicode("").tag(sync=True)
    heatmaps = traitlets.Unicode("").tag(sync=True)
    losses = traitlets.Unicode("").tag(sync=True)
    readonly = traitlets.Bool(False).tag(sync=True)
    # What a click on the network picked: {"kind": "W"|"b"|"node", "layer", "i", "j"} or None
    selected = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(_esm=esm(), **kwargs)

    def show(self, message: str) -> None:
        """One stream message (JSON text) into its trait; other kinds are not drawn here."""
        kind = json.loads(message)["type"]
        if kind in ("state", "frame", "heatmaps", "losses"):
            setattr(self, kind, message)
