"""Undo in the worker: a reset or a structural change keeps the session as it was, and undo
puts it back in place — the same id, join code and followers, who receive it as a new state.

An entry is the earlier Session object itself, not its checkpoint (app/worker/process.py
Checkpoint):
a checkpoint holds no record of the last step, so the page would come back with its weights
but without the step the teacher was showing (gradients, phase, the inspector's numbers). A
structural change replaces the Session anyway, so keeping it costs no copy; a reset copies it.
An undo stack lives and dies with its worker: a worker that dies is rebuilt from checkpoints,
without the stack.
"""

import copy

from app.worker.session import Session

UNDO_DEPTH = 10   # the changes a session can take back; older ones are forgotten


class NothingToUndo(Exception):
    """Undo on a session with an empty stack (the route answers 409: no input is wrong)."""


def kept(session: Session) -> Session:
    """A copy of the session to come back to, before an in-place change (a reset)."""
    stack, session.undo = session.undo, []
    try:
        return copy.deepcopy(session)
    finally:
        session.undo = stack


def remember(session: Session, earlier: Session) -> None:
    """`earlier` (a copy kept before an in-place change) on the session's undo stack."""
    session.undo = [*session.undo, earlier][-UNDO_DEPTH:]


def succeed(old: Session, new: Session, keep: bool) -> None:
    """`new` takes `old`'s place (a rebuild): its followers and stream position, its undo
    stack; `keep`: `old` itself goes on that stack."""
    stack, old.undo = old.undo, []
    _take_place(new, of=old)
    new.undo = stack
    if keep:
        remember(new, old)


def undone(session: Session) -> Session:
    """The session as it was before its last undoable change, in its place; paused."""
    if not session.undo:
        raise NothingToUndo("there is no reset or structural change to undo")
    earlier = session.undo.pop()
    stack, session.undo = session.undo, []
    _take_place(earlier, of=session)
    earlier.undo = stack
    earlier.pause()
    return earlier


def _take_place(new: Session, of: Session) -> None:
    """`new` is streamed on from where `of` was: every follower is sent its state."""
    new.followers, new.seq = of.followers, of.seq
    new.structure = max(new.structure, of.structure) + 1
    new.sent_structure = of.sent_structure
    new.heatmap_version = -1   # its heatmaps were sent long ago, or never: they go again
