"""Late joiners see the charts: the `state` carries the train/test loss and gradient-size
points a follower collected from frames, kept by the same rule (app/worker/chartlog.py)."""

import math
import os
import signal
import time

import numpy as np
from support import f32, strict_json
from support_stream import follow_until, paused_at, play, stream_url

from app.config import Settings
from app.crossing import Step
from app.schemas.session import SessionConfig
from app.worker import process as worker
from app.worker import session_ops
from app.worker.chartlog import ChartLog


def first_per_cell(steps: list[int], cap: int) -> tuple[int, list[int]]:
    """The rule written plainly: the first step of each cell of `grid` steps, the grid doubling
    whenever more than `cap` cells are held."""
    grid, kept = 1, []
    for step in steps:
        if kept and (step <= kept[-1] or step // grid == kept[-1] // grid):
            continue
        kept.append(step)
        while len(kept) > cap:
            grid *= 2
            kept = [s for i, s in enumerate(kept) if i == 0 or s // grid != kept[i - 1] // grid]
    return grid, kept


def test_the_log_keeps_the_first_point_of_each_cell_and_at_most_cap_points():
    rng = np.random.default_rng(0)
    steps = np.cumsum(rng.integers(1, 4000, size=5000)).tolist()
    log = ChartLog(cap=100)
    for step in steps:
        log.add(step, 1.0 / (step + 1), 2.0 / (step + 1), [0.1, 0.2])
    grid, kept = first_per_cell(steps, 100)
    assert (log.grid, log.steps) == (grid, kept)
    assert len(log) <= 100 and log.train == [1.0 / (s + 1) for s in kept]


def test_a_repeated_or_earlier_step_adds_nothing_or_starts_again():
    log = ChartLog()
    log.add(0, 0.5, 0.6, [])
    log.add(5, 0.4, 0.5, [0.1, 0.2])
    log.add(5, 9.0, 9.0, [9.0, 9.0])   # a phase walk: the same step again
    assert log.steps == [0, 5] and log.train == [0.5, 0.4]
    log.add(2, 0.7, 0.8, [0.3, 0.4])   # a reset went back
    assert log.steps == [2]


def test_the_json_has_float32_series_and_nan_for_missing_numbers():
    log = ChartLog()
    log.add(0, 0.5, None, [])
    log.add(1, 0.25, 0.3, [0.1, None])
    body = log.to_json()
    assert body["steps"] == [0, 1] and body["grid"] == 1 and body["cap"] == log.cap
    np.testing.assert_array_equal(f32(body["train_loss"]), np.float32([0.5, 0.25]))
    assert np.isnan(f32(body["test_loss"])[0])
    first, second = (f32(layer) for layer in body["grad_norms"])
    assert np.isnan(first[0]) and first[1] == np.float32(0.1) and np.isnan(second).all()


def test_a_checkpoint_restores_the_same_points():
    log = ChartLog(cap=8)
    for step in range(0, 100, 3):
        log.add(step, step, -step, [step])
    again = ChartLog.from_state(log.state())
    assert again.to_json() == log.to_json()


def page_points(messages) -> ChartLog:
    """What a page holds after these messages (static/series.js): a state's charts, then each
    frame's numbers (or a skipped frame's, from its `losses` twin) by the same rule, float32."""
    page = ChartLog()
    for m in messages:
        if m["type"] == "state":
            c = m["charts"]
            page = ChartLog(c["cap"])
            page.grid, page.steps = c["grid"], list(c["steps"])
            page.train, page.test = f32(c["train_loss"]).tolist(), f32(c["test_loss"]).tolist()
            grads = np.array([f32(layer) for layer in c["grad_norms"]]).T.tolist()
            page.grads = [[] if all(map(math.isnan, g)) else g for g in grads] or [
                [] for _ in page.steps
            ]
        elif m["type"] == "frame" or (m["type"] == "losses" and "point" in m):
            # a frame, or the chart point of one this follower skipped
            if m["type"] == "frame":
                point = {"step": m["step"], **m["metrics"], "grad_norms": m["grad_norms"]}
            else:
                point = m["point"]
            as32 = lambda v: None if v is None else float(np.float32(v))  # noqa: E731
            page.add(point["step"], as32(point["train_loss"]), as32(point["test_loss"]),
                     [as32(g) for g in point["grad_norms"]])
    return page


def test_a_follower_who_joins_late_receives_the_charts_the_first_one_drew(client, new_session):
    session_id, control, _ = new_session()
    with client.websocket_connect(stream_url(session_id)) as first:
        seen = follow_until(first, lambda m: m["type"] == "frame")
        play(client, session_id, control, speed=3000)
        seen += follow_until(first, lambda m: m["type"] == "frame" and m["step"] >= 1500)
        step = client.post(f"/api/sessions/{session_id}/pause", headers=control).json()["step"]
        seen += follow_until(first, paused_at(step))
        with client.websocket_connect(stream_url(session_id)) as late:
            state = strict_json(late.receive_text())
    assert state["type"] == "state"
    teacher, joiner = page_points(seen), page_points([state])
    assert len(teacher) > 20 and teacher.steps[-1] == step
    assert (joiner.grid, joiner.steps) == (teacher.grid, teacher.steps)
    np.testing.assert_array_equal(joiner.train, teacher.train)
    np.testing.assert_array_equal(joiner.test, teacher.test)
    np.testing.assert_array_equal(np.array(joiner.grads[1:]), np.array(teacher.grads[1:]))


def test_a_reset_empties_the_charts_of_the_next_state(client, new_session):
    session_id, control, _ = new_session()
    with client.websocket_connect(stream_url(session_id)) as follower:
        follow_until(follower, lambda m: m["type"] == "frame")
        client.post(f"/api/sessions/{session_id}/step", json={"steps": 5}, headers=control)
        follow_until(follower, paused_at(5))
        client.post(f"/api/sessions/{session_id}/reset", headers=control)
        state = follow_until(follower, lambda m: m["type"] == "state")[-1]
    assert state["charts"]["steps"] == []


def test_a_frames_losses_twin_carries_its_chart_point_for_followers_who_skip_it(monkeypatch):
    monkeypatch.setattr(worker, "SETTINGS", Settings())
    monkeypatch.setattr(worker, "SESSIONS", {})
    worker.SESSIONS["s"] = session_ops.create("s", "CODE", SessionConfig(), worker.SETTINGS)
    outcome = worker.call("s", Step(3), followers=1, heatmap=False)
    frame, twin = (strict_json(outcome.messages[kind]) for kind in ("frame", "losses"))
    assert twin["point"] == {"step": 3, "train_loss": frame["metrics"]["train_loss"],
                             "test_loss": frame["metrics"]["test_loss"],
                             "grad_norms": frame["grad_norms"]}


def test_a_worker_that_dies_leaves_the_charts_of_its_last_full_checkpoint(make_client):
    client = make_client(workers=1)
    made = client.post("/api/sessions", json={}).json()
    control = {"X-Control-Token": made["token"]}
    hub = client.app.state.hub
    with client.websocket_connect(stream_url(made["id"])) as follower:
        play(client, made["id"], control, speed=2000)
        started = time.monotonic()
        seen = follow_until(follower, lambda m: m["type"] == "frame"
                            and time.monotonic() - started > 2.5)   # past a full checkpoint
        before = page_points(seen)
        worker_index = client.app.state.store.get(made["id"]).worker
        pid = hub.workers[worker_index].executor._processes.copy().popitem()[0]
        os.kill(pid, signal.SIGKILL)
        resumed = follow_until(follower, lambda m: m["type"] == "state")[-1]
    after = page_points([resumed])
    assert len(after) > 10 and after.steps[0] == 0
    assert after.steps == before.steps[: len(after)]   # the points up to that checkpoint
