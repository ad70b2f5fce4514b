"""Imported by the workers' fork server (app/loop/hub.py): the compiled training loop is loaded
(or compiled into numba's cache) once there, and every worker forked from that server —
a replacement for one that died included — starts with it ready. So are the bounds a large
body is measured by (app/schemas/shape.py): the first one a worker sees is refused as fast."""

from app.schemas import shape
from app.schemas.race import RaceConfig
from app.schemas.session import SessionConfig, SessionExport
from app.schemas.step import GradcheckRequest, StepRequest
from engine.compiled import warm_up

SECONDS = warm_up()
for _model in (SessionConfig, SessionExport, StepRequest, GradcheckRequest, RaceConfig):
    shape.bounds(_model)
    shape.refusal(b"{}", _model)   # NumPy's paths, and the schema the messages look in
