"""A run as a Jupyter notebook (nbformat 4 JSON, written by hand: no nbformat needed): the
NumPy script's sections, each a markdown cell (one per phase among them) and a code cell."""

from engine.replay import Run
from engine.scripts.numpy_script import sections

NBFORMAT, NBFORMAT_MINOR = 4, 5


def notebook(run: Run) -> dict:
    """The run as an nbformat 4.5 notebook dict (json.dumps it to write a .ipynb)."""
    cells = []
    for number, section in enumerate(sections(run)):
        level = "#" if number == 0 else "##"
        heading = f"{level} {section.title}\n\n{section.text}"
        cells.append(_cell("markdown", f"md-{number}", heading))
        cells.append(_cell("code", f"code-{number}", section.code))
    return {
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": cells,
    }


def _cell(kind: str, cell_id: str, text: str) -> dict:
    cell = {"cell_type": kind, "id": cell_id, "metadata": {}, "source": text}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell
