"""The code behind a session's run (engine/scripts/), written in the session's worker: a NumPy
script, a notebook or a PyTorch script that replays it from its last reset and prints its
losses. No web imports: the route (app/routes/sessions.py) names the file and its type."""

import json

from app.worker.session import Session
from engine.scripts import notebook, numpy_script, run_of, torch_script

# The path's ending -> (the writer, the file's media type)
FORMATS = {
    "py": (numpy_script, "text/x-python"),
    "ipynb": (lambda run: json.dumps(notebook(run), indent=1) + "\n", "application/x-ipynb+json"),
    "torch.py": (torch_script, "text/x-python"),
}


class NotReplayable(Exception):
    """The session continues an import or a saved state: the run before it is not here (the
    route answers 409)."""


def write(session: Session, fmt: str) -> bytes:
    """The session's run as FORMATS[fmt] writes it."""
    trainer = session.trainer
    if not trainer.replayable:
        raise NotReplayable(
            "this session goes on from an import or a saved state, so the run from step 0 is not "
            "here; reset it (the same seed gives the same start) and its code can be exported"
        )
    write_as = FORMATS[fmt][0]
    return write_as(run_of(trainer, title(session))).encode()


def title(session: Session) -> str:
    cfg, trainer = session.config, session.trainer
    layers = "-".join(map(str, trainer.net.sizes))
    return f"session {session.id}: {cfg.get('dataset', 'data')}, layers {layers}, " \
           f"{trainer.tried} steps"


def file_name(session_id: str, fmt: str) -> str:
    return f"backprop-playground-{session_id}.{fmt}"
