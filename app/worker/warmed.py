"""Imported by the workers' fork server (app/loop/hub.py): the compiled training loop is loaded
(or compiled into numba's cache) once there, and every worker forked from that server —
a replacement for one that died included — starts with it ready."""

from engine.compiled import warm_up

SECONDS = warm_up()
