"""The code behind a run: a Run (engine/replay.py) written out as a NumPy script, a notebook
or a PyTorch script that replays it from step 0 and prints its losses."""

from engine.replay import Change, Run, run_of
from engine.scripts.notebook import notebook
from engine.scripts.numpy_script import numpy_script
from engine.scripts.torch_script import torch_script

__all__ = ["Change", "Run", "notebook", "numpy_script", "run_of", "torch_script"]
