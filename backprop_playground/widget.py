"""Playground: a session of the engine in the kernel, drawn by the page's views.

The kernel makes the same messages a server's worker streams to its followers (app/frames.py,
the worker's state message) from an app Session of its own, so the widget draws exactly what
the page would; no server is involved.
"""

import time

from app.config import Settings
from app.schemas.presets import preset_config
from app.schemas.session import SessionConfig
from app.worker import frames, session_ops
from app.worker.process import state_message  # the followers' state, made once
from app.worker.session import Phase, phases
from backprop_playground.parameters import parameter_views
from backprop_playground.record import Record, record_of
from backprop_playground.views import StreamView
from engine.scripts import numpy_script, run_of

PHASE_NAMES = {"forward": "forward", "error": "loss", "loss": "loss", "backward": "backward",
               "update": "update"}


class Playground(StreamView):
    """A network training in this kernel, shown as the playground page shows it.

    Playground(dataset="xor", hidden=[2], activation="sigmoid") takes any field of the
    page's session config (app/schemas/session.py: dataset, points, noise, features, hidden,
    activation, output_activation, loss, optimizer, batch_size, regularization, init, seed,
    data, network …); the rest are the page's defaults.
    """

    def __init__(self, **config) -> None:
        super().__init__()
        self._settings = Settings()
        cfg = SessionConfig.model_validate(config)   # a wrong field: pydantic names it
        self._session = session_ops.create("notebook", "", cfg, self._settings)
        self._publish(structure=True)

    @classmethod
    def preset(cls, name: str) -> "Playground":
        """A lecture preset of the page (app/presets.py), e.g. "worked_example" or "xor"."""
        return cls(**preset_config(name).model_dump(exclude_unset=True))

    @staticmethod
    def follow(url: str, code: str):
        """A running server's classroom session, read-only, by its join code."""
        from backprop_playground.follow import follow

        return follow(url, code)

    # --- what the learner reads

    @property
    def step_count(self) -> int:
        return self._session.trainer.step_count

    @property
    def loss(self) -> float | None:
        """The training set's loss now."""
        return self._session.trainer.metrics().train_loss

    @property
    def record(self) -> Record | None:
        """The last step: a, o, δ, ∂E/∂W, ∂E/∂b and the updates, per layer (None before one)."""
        trainer = self._session.trainer
        return record_of(trainer.last, trainer.step_count, trainer.last_batch)

    @property
    def weights(self) -> list:
        """W^k at [k−1], W[k][i, j] from node i to node j; `pg.weights[1][0, 1] = 0.5` edits."""
        return parameter_views(self._session.trainer.net.W, lambda k, index, value:
                               self._edit("W", k, *index, value))

    @property
    def biases(self) -> list:
        """b^k at [k−1]; `pg.biases[0][1] = 0.1` edits."""
        return parameter_views(self._session.trainer.net.b, lambda k, index, value:
                               self._edit("b", k, index[0], None, value))

    # --- what the learner does

    def step(self, n: int = 1) -> None:
        """n training steps, the last one shown whole (the page's `s`)."""
        self._session.step(n)
        self._publish(heatmaps=True)

    def phase(self, name: str | None, layer: int | None = None) -> Phase | None:
        """Show one phase of the step on screen — "forward", "error" (the loss), "backward",
        "update" — at its first layer or the one given; None: the whole step. Before the
        first step it takes one, as the page's → does."""
        session = self._session
        if name is None:
            session.phase_index = None
        else:
            wanted = PHASE_NAMES.get(name)
            table = phases(session.trainer.net.L)
            matches = [i for i, (kind, k) in enumerate(table)
                       if kind == wanted and (layer is None or k == layer)]
            if not matches:
                at = "" if layer is None else f" at layer {layer}"
                raise ValueError(f"phase: no phase {name!r}{at}; "
                                 "choose forward, error, backward or update")
            if session.trainer.last is None:
                session.step(1)
            session.phase_index = matches[0]
        self._publish()
        return session.phase()

    def next_phase(self) -> Phase | None:
        """The page's →: the next phase, and after the update a new step."""
        self._session.move_phase("next")
        self._publish(heatmaps=True)
        return self._session.phase()

    def play(self, steps: int = 2000, speed: float | None = 1000.0,
             fps: float | None = None) -> dict:
        """Train `steps` steps in the kernel at `speed` steps a second (None: as fast as it
        goes), the picture following at `fps` frames a second at most (None: the display's
        60, the server's frame_rate for its followers). Returns what it sent:
        {steps, frames, seconds}."""
        session, interval = self._session, 1.0 / (fps or self._settings.frame_rate)
        start, done, sent, chunk = time.perf_counter(), 0, 0, 1
        session.play(speed)
        try:
            while done < steps and session.status != "diverged":
                tick = start + (sent + 1) * interval
                due = chunk if speed is None else int(speed * (tick - start)) - done
                n = max(1, min(due, steps - done))
                began = time.perf_counter()
                if n > 1:
                    session.advance(n - 1)   # no record until the step a frame shows
                if session.status != "diverged":
                    session.step(1)
                done += n
                if speed is None:   # fill most of a frame's time with training
                    chunk = max(1, int(0.8 * interval * n / (time.perf_counter() - began)))
                self._publish(heatmaps=True)
                sent += 1
                time.sleep(max(0.0, tick - time.perf_counter()))
        finally:
            session.pause()
            self._publish(heatmaps=True)
        return {"steps": done, "frames": sent + 1, "seconds": time.perf_counter() - start}

    def reset(self) -> None:
        """Back to step 0 with the initial weights."""
        self._session.reset()
        self._publish(structure=True)

    def to_script(self) -> str:
        """The run as one self-contained NumPy script that replays it from its last reset and
        prints its losses (the same script as GET /api/sessions/{id}/export.py)."""
        return numpy_script(run_of(self._session.trainer, "Backprop Playground notebook run"))

    # --- the stream

    def _edit(self, kind: str, k: int, i: int, j: int | None, value: float) -> None:
        self._session.trainer.set_parameter(kind, k, i, j, value)
        self._session.changed()
        self._publish(heatmaps=True)

    def _publish(self, structure: bool = False, heatmaps: bool = False) -> None:
        """What the worker sends a session's followers after a change (app/worker/process.py)."""
        session = self._session
        if structure:
            session.take_pending()   # the state's history covers every step so far
            self.state = state_message(session)
            heatmaps = True
        session.seq += 1
        start, losses = session.take_pending()
        self.frame = frames.frame(session, session.seq, frames.loss_series(start, losses),
                                  keep=True)
        if heatmaps:
            self.heatmaps = frames.heatmaps(session, self._settings.heatmap_resolution,
                                            self._settings.thumbnail_stride)

    def _repr_mimebundle_(self, **kwargs):
        # A view opened after steps were taken starts from a state whose history has them all
        self._publish(structure=True)
        return super()._repr_mimebundle_(**kwargs)
