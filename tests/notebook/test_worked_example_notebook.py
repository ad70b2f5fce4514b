"""examples/worked_example.ipynb runs top to bottom in a real kernel (nbclient): the widget,
a step, the four phases, and every number of the hand calculation asserted in its cells."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "worked_example.ipynb"


def test_the_worked_example_notebook_runs_and_its_checks_hold(tmp_path):
    notebook = nbformat.read(EXAMPLE, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # the first cell shows the widget itself, not only its text form
    views = [o for o in notebook.cells[1].outputs if o.output_type == "execute_result"]
    assert "application/vnd.jupyter.widget-view+json" in views[0].data
    assert "0.29837110876" in "".join(str(o.get("data", "")) for o in outputs)
