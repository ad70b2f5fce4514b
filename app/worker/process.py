"""A worker process: the sessions it trains and the calls the hub (app/loop/hub.py) makes into it.

Each worker is a ProcessPoolExecutor of one process, so calls into one worker never overlap
and a session lives in exactly one process. Every answer leaves here as finished bytes —
JSON bodies and stream messages encoded once — so the event loop only moves them.
"""

import contextlib
import gc
import logging
import os
import signal
import threading
import time
import traceback

import numpy as np
from pydantic import ValidationError

from app.crossing import (
    Adopt,
    Checkpoint,
    Code,
    Config,
    Control,
    Export,
    Failure,
    Gradcheck,
    Graph,
    HistoryCsv,
    HistoryJson,
    Load,
    Outcome,
    Parameter,
    Pause,
    Phase,
    Play,
    Question,
    Read,
    Rebuild,
    Reset,
    SlideState,
    Step,
    Undo,
)
from app.schemas.session import ConfigPatch, ParameterEdit, SessionConfig, SessionExport
from app.worker import (
    code_export,
    cost,
    encode,
    frames,
    graph,
    session_ops,
    session_view,
    stateless_steps,
    undo,
)
from app.worker.chartlog import ChartLog
from app.worker.losslog import LossLog
from app.worker.session import Session
from engine.errors import EngineError

log = logging.getLogger(__name__)

SESSIONS: dict[str, Session] = {}
SETTINGS = None
BLAS_LIMIT = None      # threadpoolctl's limiter, kept alive for the process's life
FULL_CHECKPOINT_SECONDS = 2.0
SLICE_CHUNK_MAX = 1 << 16


def start(settings, index: int, server: int) -> None:
    """Executor initializer: one BLAS thread, the compiled loop loaded, the settings kept."""
    global SETTINGS, BLAS_LIMIT
    from threadpoolctl import threadpool_info, threadpool_limits

    # Small products through a multi-threaded BLAS are up to 20× slower, and the workers
    # already use every core between them.
    BLAS_LIMIT = threadpool_limits(limits=1)
    # Training takes what the event loop leaves: on a busy core a lecture's frames and the
    # controls go first, as the loop's latency is what every user feels.
    os.nice(settings.worker_nice)
    from engine.compiled import warm_up

    seconds = warm_up()
    gc.freeze()   # what starting made (numba's compiled loop too), out of the collector's way
    SETTINGS = settings
    threading.Thread(target=_exit_with, args=(server,), daemon=True).start()
    blas = ", ".join(
        f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} thread)"
        for p in threadpool_info()
    )
    log.warning(
        "worker %d (pid %d): BLAS %s; compiled loop ready in %.2f s",
        index, os.getpid(), blas or "none", seconds,
    )


def _exit_with(server: int) -> None:
    """Workers outlive nothing: once the server is gone (even by kill -9), the fork server
    that made this worker is ended and the worker goes too."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(server, 0)
        except ProcessLookupError:
            break
    with contextlib.suppress(OSError):
        if os.getppid() != 1:
            os.kill(os.getppid(), signal.SIGTERM)
    os._exit(0)


def dumps(value) -> bytes:
    return encode.dumps(value)


# --- sessions in and out ---------------------------------------------------------------


def open_session(
    session_id: str, join_code: str, source: str, data: dict | bytes | SessionConfig
) -> Outcome:
    """Build a session from a config ("config") or an export ("export") in this worker."""
    # a model kept here (app/routes/bodies.py, app/routes/lanes.py): used as it is
    if source == "config":
        cfg = data if isinstance(data, SessionConfig) else SessionConfig.model_validate(data)
        session = session_ops.create(session_id, join_code, cfg, SETTINGS)
    else:
        session = session_ops.import_session(session_id, join_code, _export_of(data), SETTINGS)
    SESSIONS[session_id] = session
    return outcome_of(session, dumps(session_view.session_state(session)))


def _export_of(data: dict | bytes) -> SessionExport:
    try:
        # bytes: a snapshot as stored (app/cluster/instance.py), parsed here, not in the event loop
        return (SessionExport.model_validate_json(data) if isinstance(data, bytes)
                else SessionExport.model_validate(data))
    except ValidationError as err:   # pydantic's errors do not cross a process boundary
        first = err.errors()[0]["loc"]
        raise EngineError(f"import: {err}", ".".join(map(str, first)) or None) from None


def restore(checkpoint: Checkpoint, session_id: str, join_code: str) -> None:
    """Rebuild a session from the hub's checkpoint (its worker died)."""
    session = _rebuilt(checkpoint, session_id, join_code)
    if session.status == "playing":
        session.play(session.speed)
    SESSIONS[session_id] = session


def _rebuilt(checkpoint: Checkpoint, session_id: str, join_code: str) -> Session:
    """A session as a whole checkpoint has it (log and charts included)."""
    session = session_ops.create(
        session_id, join_code, SessionConfig.model_validate_json(checkpoint.config), SETTINGS
    )
    session.trainer.restore(checkpoint.snapshot)
    session.log = LossLog.from_state(checkpoint.log_state)
    session.charts = ChartLog.from_state(checkpoint.charts)
    for chunk in checkpoint.chunks:
        session.log.extend(chunk)
    for name, value in checkpoint.fields.items():
        setattr(session, name, value)
    session.pending, session.pending_start = [], session.trainer.step_count
    session.pending_count = 0
    session.changed(structure=True)
    return session


def capture(session_id: str) -> SlideState:
    session = SESSIONS[session_id]
    trainer = session.trainer
    return SlideState(_checkpoint_of(session, full=True), session.phase_index,
                      (trainer.last, trainer.last_batch, trainer.before))


def drop(session_id: str) -> None:
    SESSIONS.pop(session_id, None)


def export(session_id: str) -> dict:
    """A session's export as a dict: for a copy or a save, which the hub passes on."""
    return session_ops.export(SESSIONS[session_id])


def pid() -> int:
    return os.getpid()


# --- control ---------------------------------------------------------------------------


def check_cost(session: Session, steps: int = 1, batch_size: int | None = None) -> None:
    """The session's network and batch (or `batch_size`) against the cost limits."""
    trainer = session.trainer
    batch = min(batch_size or trainer.cfg.batch_size, len(trainer.X_train))
    cost.check_session(SETTINGS, list(trainer.net.sizes), batch, steps)


def take_steps(session: Session, steps: int, after_divergence: bool = False) -> None:
    check_cost(session, steps)
    session.pause()
    session.step(steps, after_divergence=after_divergence)
    session.changed()


def step_part(session_id: str, steps: int, seconds: float, asked: int | None) -> tuple[int, bool]:
    """Up to `steps` steps of a long step request, for about `seconds` (other sessions' slices
    run between parts), unrecorded; their losses wait in the trainer for the final recorded
    step. `asked`: the whole request's steps, checked against its cost on the first part.
    Answers (steps taken, stopped at a diverged step)."""
    session = SESSIONS[session_id]
    trainer = session.trainer
    if asked is not None:
        check_cost(session, asked)
    session.pause()
    was_diverged, first = trainer.diverged, trainer.step_count
    deadline = time.perf_counter() + seconds
    rate = session.seconds_per_step
    while (left := steps - (trainer.step_count - first)) > 0 and not trainer.diverged:
        room = deadline - time.perf_counter()
        if room <= 0 and trainer.step_count > first:   # one step a part at least
            break
        wanted = min(left, max(1, int(room / rate)), SLICE_CHUNK_MAX)
        started = time.perf_counter()
        trainer.advance(wanted)
        rate = 0.5 * rate + 0.5 * (time.perf_counter() - started) / wanted
    session.seconds_per_step = rate
    return trainer.step_count - first, trainer.diverged and not was_diverged


def play(session: Session, speed: float | None) -> None:
    session.play(speed)
    session.changed()


def pause(session: Session) -> None:
    session.pause()
    session.changed()


def reset(session: Session, undoable: bool = False) -> None:
    """`undoable`: the teacher's reset (REST), which undo takes back; a lesson's is not."""
    earlier = undo.kept(session) if undoable else None
    session.reset()
    session.changed(structure=True)
    if earlier is not None:
        undo.remember(session, earlier)


def _phase(session: Session, direction: str) -> None:
    session.pause()
    session.move_phase(direction)
    session.changed()


def _config(session: Session, patch: dict) -> None:
    patch = ConfigPatch.model_validate(patch)
    if patch.batch_size is not None:
        check_cost(session, batch_size=patch.batch_size)
    session_ops.patch_config(session, patch)
    session.changed(structure=True)


def _parameter(session: Session, edit: dict) -> None:
    session_ops.set_parameter(session, ParameterEdit.model_validate(edit))
    session.changed()


def _read(session: Session) -> None:
    pass


def _rebuild(session: Session, config: dict, undoable: bool = False) -> None:
    """Start the session again from a whole new config, in place: the same id, join code and
    followers (the teacher's structural change, a lesson's slide that opens a preset), who
    receive the new network as a state. `undoable`: undo takes it back (the teacher's)."""
    try:
        cfg = SessionConfig.model_validate(config)
    except ValidationError as err:   # pydantic's errors do not cross a process boundary
        raise EngineError(f"config: {err}") from None
    fresh = session_ops.create(session.id, session.join_code, cfg, SETTINGS)
    check_cost(fresh)
    _in_its_place(session, fresh, undoable)


def _adopt(session: Session, state: "SlideState") -> None:
    """Put the session back in a state captured before (a lesson's slide), in place: the
    same id, join code and followers, who receive it as a new state."""
    fresh = _rebuilt(state.checkpoint, session.id, session.join_code)
    trainer = fresh.trainer
    trainer.last, trainer.last_batch, trainer.before = state.shown
    fresh.phase_index, fresh.status = state.phase_index, "paused"
    _in_its_place(session, fresh, undoable=False)   # a slide's state is not the teacher's to undo


def _load(session: Session, export: dict, undoable: bool = False) -> None:
    """Continue the session from an export (a saved session opened by its teacher), in place:
    the same id, join code and followers, who receive it as a new state; paused."""
    fresh = session_ops.import_session(session.id, session.join_code, _export_of(export),
                                       SETTINGS)
    fresh.pause()
    _in_its_place(session, fresh, undoable)


def _in_its_place(session: Session, fresh: Session, undoable: bool) -> None:
    """`fresh` goes on where `session` was (its followers, stream position and undo stack);
    `undoable`: undo brings `session` back."""
    undo.succeed(session, fresh, keep=undoable)
    SESSIONS[session.id] = fresh


def _undo(session: Session) -> None:
    SESSIONS[session.id] = undo.undone(session)


# Each control answers with the session's state once it has changed the session.
CONTROLS = {
    Read: lambda session, control: None,
    Step: lambda session, c: take_steps(session, c.steps, c.after_divergence),
    Play: lambda session, c: play(session, c.speed),
    Pause: lambda session, c: pause(session),
    Reset: lambda session, c: reset(session, c.undoable),
    Phase: lambda session, c: _phase(session, c.direction),
    Config: lambda session, c: _config(session, c.patch),
    Parameter: lambda session, c: _parameter(session, c.edit),
    Rebuild: lambda session, c: _rebuild(session, c.config, c.undoable),
    Adopt: lambda session, c: _adopt(session, c.state),
    Load: lambda session, c: _load(session, c.export, c.undoable),
    Undo: lambda session, c: _undo(session),
}


def _history_json(session: Session) -> bytes:
    return dumps(session_view.history_json(session))


def _history_csv(session: Session) -> bytes:
    return session_view.history_csv(session).encode()


def _gradcheck(session: Session, kind: str, layer: int, i: int, j: int | None) -> bytes:
    return dumps(session_ops.check_one(session, kind, layer, i, j))


def export_bytes(session: Session) -> bytes:
    return dumps(session_ops.export(session))


def _graph(session: Session, layer: int, node: int, example: int | None) -> bytes:
    return dumps(graph.graph_json(session, layer, node, example))


# Reads that answer with something other than the state.
READS = {
    HistoryJson: lambda session, c: _history_json(session),
    HistoryCsv: lambda session, c: _history_csv(session),
    Gradcheck: lambda session, c: _gradcheck(session, c.kind, c.layer, c.i, c.j),
    Export: lambda session, c: export_bytes(session),
    Graph: lambda session, c: _graph(session, c.layer, c.node, c.example),
    Code: lambda session, c: code_export.write(session, c.fmt),
}


# --- stateless requests -------------------------------------------------------------------

# key -> a /api/step or /api/gradcheck request's job (app/worker/stateless_steps.py): its θ,
# optimizer state and steps done stay here between the parts the hub asks for
# (app/loop/hub.py, stateless).
JOBS: dict[str, stateless_steps.StepJob | stateless_steps.GradcheckJob] = {}


def open_job(key: str, op: str, request) -> None:
    JOBS[key] = stateless_steps.JOBS[op](request)


def job_part(key: str, seconds: float) -> bytes | None:
    """About `seconds` of a stateless request's work: None while some is left, else the
    answer's bytes. A job that is done, or raised, is freed."""
    try:
        answer = JOBS[key].work(seconds)
    except BaseException:
        JOBS.pop(key, None)
        raise
    if answer is None:
        return None
    del JOBS[key]
    return dumps(answer)


def drop_job(key: str) -> None:
    """The request's client left: its job is freed, the parts left never run."""
    JOBS.pop(key, None)


def open_jobs() -> int:
    return len(JOBS)


def call(session_id: str, control: Control, followers: int, heatmap: bool) -> Outcome:
    """A control or a read on one session; followers get what it changed."""
    session = SESSIONS[session_id]
    session.followers = followers
    if isinstance(control, Question):
        return Outcome(body=READS[type(control)](session, control), status=session.status,
                       speed=session.speed)
    CONTROLS[type(control)](session, control)
    session = SESSIONS[session_id]   # "rebuild" and "undo" put another in its place
    body = dumps(session_view.session_state(session))
    return outcome_of(session, body, heatmap)


# --- playing ---------------------------------------------------------------------------


def play_round(slices: list[tuple[str, float, int, bool]]) -> list:
    """One slice of each (session id, budget, followers, heatmap): Outcomes or Failures."""
    results = []
    for session_id, budget, followers, heatmap in slices:
        try:
            results.append(play_slice(session_id, budget, followers, heatmap))
        except Exception:
            results.append(Failure(traceback.format_exc()))
    return results



def play_slice(session_id: str, budget: float, followers: int, heatmap: bool) -> Outcome:
    """Train for about `budget` seconds (a set speed: only the steps due), end with one
    recorded step, and publish it."""
    session = SESSIONS[session_id]
    session.followers = followers
    if session.status != "playing":
        return outcome_of(session, None, heatmap)
    started = time.perf_counter()
    deadline = started + budget
    due = session.due_steps(2.0 / SETTINGS.frame_rate)   # two frames' steps at most
    taken = 0
    rate = session.seconds_per_step
    while session.status == "playing":
        room = deadline - time.perf_counter()
        if room <= 0:
            break
        # At least one step a round, so a rate measured on a bad round (the process was
        # descheduled) is measured again and recovers; one step is kept for the record.
        wanted = min(max(1, int(room / rate)), SLICE_CHUNK_MAX)
        if due is not None:
            wanted = min(wanted, due - taken - 1)
        if wanted < 1:
            break
        t0 = time.perf_counter()
        session.advance(wanted)
        rate = 0.5 * rate + 0.5 * (time.perf_counter() - t0) / wanted
        taken += wanted
    session.seconds_per_step = rate
    trained = time.perf_counter()
    if session.status == "playing" and (due is None or due - taken > 0):
        session.step(1)   # the shown step, recorded by the NumPy engine; logs every loss
        taken += 1
    else:
        session.absorb()
    if taken:
        session.changed()
    outcome = outcome_of(session, None, heatmap)
    outcome.overhead = time.perf_counter() - trained
    return outcome


# --- publishing ------------------------------------------------------------------------


def join(session_id: str) -> Outcome:
    """Everything a new follower needs — state (its history covers every step so far), a
    frame and heatmaps — made for it alone: the others' stream goes on untouched."""
    session = SESSIONS[session_id]
    settings = SETTINGS
    step = session.trainer.step_count
    outcome = Outcome(status=session.status, speed=session.speed, span=(step, step))
    outcome.messages = {
        "state": state_message(session),
        "frame": frames.frame(session, session.seq, frames.loss_series(step, np.empty(0))),
        "heatmaps": frames.heatmaps(
            session, settings.heatmap_resolution, settings.thumbnail_stride
        ),
    }
    return outcome


def state_message(session: Session) -> str:
    return frames.dumps(
        {
            "type": "state",
            **session_view.session_state(session),
            "points": session_view.points(session),
            "history": session_view.history(session),
            "charts": session.charts.to_json(),
        }
    )


def outcome_of(session: Session, body: bytes | None, heatmap: bool = False) -> Outcome:
    outcome = Outcome(body=body, status=session.status, speed=session.speed)
    if session.followers:
        _publish(session, outcome, heatmap)
    outcome.checkpoint = _checkpoint(session)
    return outcome


def _publish(session: Session, outcome: Outcome, heatmap: bool) -> None:
    """Encode what changed once; the event loop offers it to every follower."""
    settings = SETTINGS
    if session.structure != session.sent_structure:
        session.sent_structure = session.structure
        session.take_pending()   # the state's history covers every step so far
        outcome.messages["state"] = state_message(session)
        session.sent_version = -1
    if session.version != session.sent_version:
        session.sent_version = session.version
        frame, losses, outcome.span = frames.next_frame(session)
        outcome.messages["frame"], outcome.messages["losses"] = frame, losses
    if heatmap and session.heatmap_version != session.version:
        session.heatmap_version = session.version
        outcome.messages["heatmaps"] = frames.heatmaps(
            session, settings.heatmap_resolution, settings.thumbnail_stride
        )


def _checkpoint(session: Session) -> Checkpoint:
    """The session as it stands; the loss log whole every few seconds, else what it added."""
    now = time.monotonic()
    full = (
        now - session.checkpoint_at >= FULL_CHECKPOINT_SECONDS
        or session.checkpoint_structure != session.structure   # a new config or a reset
    )
    if full:
        session.checkpoint_at, session.checkpoint_structure = now, session.structure
    checkpoint = _checkpoint_of(session, full)
    session.unsaved = []
    return checkpoint


def _checkpoint_of(session: Session, full: bool) -> Checkpoint:
    return Checkpoint(
        config=dumps(session.config) if full else None,
        snapshot=session.trainer.snapshot(),
        fields={
            "status": session.status,
            "speed": session.speed,
            "example": session.example,
            "seq": session.seq,
        },
        log_state=session.log.state() if full else None,
        charts=session.charts.state() if full else None,
        chunks=[] if full else session.unsaved,
    )
