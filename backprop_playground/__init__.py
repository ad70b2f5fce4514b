"""Backprop Playground in a notebook: `Playground`, an anywidget drawn by the page's own views
from the frames the server would stream, with the engine running in the kernel."""

from backprop_playground.widget import Playground

__all__ = ["Playground"]
