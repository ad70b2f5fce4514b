"""Sessions train in worker processes: one path decides state, a dead worker loses only its
current slice, nobody watching pauses, and the hub serves shared views first."""

import gc
import logging
import os
import random
import signal
import time

import pytest
from support_hub import fake_hub, handle
from support_stream import follow_until, pause, play, stream_url

from app.config import Settings


def state(client, session_id):
    return client.get(f"/api/sessions/{session_id}").json()


def wait_for(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_played_run_equals_a_stepped_run_bit_for_bit(client, new_session):
    played_id, played_control, _ = new_session(optimizer={"name": "adam", "learning_rate": 0.01})
    play(client, played_id, played_control)
    wait_for(lambda: state(client, played_id)["step"] >= 500)
    steps = pause(client, played_id, played_control)
    stepped_id, stepped_control, _ = new_session(optimizer={"name": "adam", "learning_rate": 0.01})
    done = 0
    while done < steps:   # in uneven requests: how it is chunked must not matter
        n = min(steps - done, 37 + done % 101)
        client.post(f"/api/sessions/{stepped_id}/step", json={"steps": n}, headers=stepped_control)
        done += n
    played, stepped = state(client, played_id), state(client, stepped_id)
    assert played["step"] == stepped["step"] == steps
    assert played["network"] == stepped["network"]
    assert played["optimizer_state"] == stepped["optimizer_state"]


def test_killing_a_worker_loses_only_its_slice_and_the_others_never_notice(
    make_client, caplog
):
    client = make_client(workers=2)
    hub = client.app.state.hub
    made = [client.post("/api/sessions", json={}).json() for _ in range(2)]
    handles = [client.app.state.store.get(m["id"]) for m in made]
    assert {h.worker for h in handles} == {0, 1}   # placed one a worker
    victim, survivor = handles
    controls = [{"X-Control-Token": m["token"]} for m in made]
    with (
        caplog.at_level(logging.ERROR, logger="app.loop.hub"),
        client.websocket_connect(stream_url(victim.id)) as victim_ws,
        client.websocket_connect(stream_url(survivor.id)) as survivor_ws,
    ):
        for m, control in zip(made, controls, strict=True):
            play(client, m["id"], control)
        seen = follow_until(victim_ws, lambda m: m["type"] == "frame" and m["step"] > 200)
        last_seen = seen[-1]["step"]
        survivor_before = state(client, survivor.id)["step"]
        pid = hub.workers[victim.worker].executor._processes.copy().popitem()[0]
        os.kill(pid, signal.SIGKILL)
        # The victim's followers get its state again (from the checkpoint), then frames go on.
        resumed = follow_until(victim_ws, lambda m: m["type"] == "state")[-1]
        assert resumed["step"] >= last_seen   # from its last published state, not before
        follow_until(victim_ws, lambda m: m["type"] == "frame" and m["step"] > resumed["step"]
                     and m["status"] == "playing")
        follow_until(survivor_ws, lambda m: m["type"] == "frame" and m["step"] > survivor_before)
    assert "worker 0 died" in caplog.text or "worker 1 died" in caplog.text
    assert state(client, victim.id)["status"] == "playing"
    assert pid not in hub.pids()


def python_containers(root) -> int:
    """Objects the garbage collector tracks that `root` holds (types and functions aside):
    what a full collection walks for it on the server's event loop."""
    seen, stack = set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or not gc.is_tracked(obj) or isinstance(obj, type) or callable(obj):
            continue
        seen.add(id(obj))
        stack.extend(gc.get_referents(obj))
    return len(seen)


def test_a_checkpoint_keeps_own_data_as_bytes_and_a_killed_worker_restores_it(make_client):
    """The server keeps every session's checkpoint; own points in it as lists were thousands
    of objects its garbage collector walked (~90 ms for a race of 4 lanes of 5,000)."""
    client = make_client(workers=1)
    rnd = random.Random(0)
    points = [[round(rnd.uniform(-6, 6), 3), round(rnd.uniform(-6, 6), 3)] for _ in range(2000)]
    made = client.post("/api/sessions", json={"dataset": "custom", "data": {
        "inputs": points, "labels": [rnd.choice([-1, 1]) for _ in points]}}).json()
    control = {"X-Control-Token": made["token"]}
    client.post(f"/api/sessions/{made['id']}/step", json={"steps": 50}, headers=control)
    before = state(client, made["id"])
    checkpoint = client.app.state.store.get(made["id"]).checkpoint
    assert python_containers(checkpoint) < 100   # not one a point
    hub = client.app.state.hub
    os.kill(hub.pids()[0], signal.SIGKILL)
    answer = client.get(f"/api/sessions/{made['id']}")   # its worker revived, it restored
    assert answer.status_code == 200, answer.text
    after = answer.json()
    assert after["config"]["data"] == before["config"]["data"]
    assert after["config"]["data"]["inputs"] == points
    assert after["network"] == before["network"] and after["step"] == before["step"] == 50


def die_halfway_through_an_answer():
    """In a worker: begin an answer on the executor's result pipe, then die by SIGKILL."""
    import gc
    import struct
    from multiprocessing.queues import SimpleQueue

    for queue in gc.get_objects():
        if isinstance(queue, SimpleQueue) and not queue._writer.closed:
            queue._writer._send(struct.pack("!i", 100_000) + b"half an answer")
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_halfway_through_an_answer_is_replaced_not_waited_for(
    make_client, caplog
):
    from concurrent.futures.process import BrokenProcessPool

    client = make_client(workers=1)
    hub = client.app.state.hub
    made = client.post("/api/sessions", json={}).json()
    with (
        caplog.at_level(logging.ERROR, logger="app.loop.hub"),
        client.websocket_connect(stream_url(made["id"])) as websocket,
    ):
        play(client, made["id"], {"X-Control-Token": made["token"]})
        follow_until(websocket, lambda m: m["type"] == "frame" and m["step"] > 50)
        with pytest.raises(BrokenProcessPool):
            client.portal.call(within, 20, hub.workers[0].run(die_halfway_through_an_answer))
        resumed = follow_until(websocket, lambda m: m["type"] == "state")[-1]
        follow_until(websocket, lambda m: m["type"] == "frame" and m["step"] > resumed["step"])
    assert "worker 0 died" in caplog.text


async def within(seconds, coroutine):
    """Its answer, or a TimeoutError: a hang fails the test instead of blocking the run."""
    import asyncio

    return await asyncio.wait_for(coroutine, seconds)


def test_a_session_nobody_follows_pauses_where_it_was(make_client):
    client = make_client(unwatched_seconds=0.3)
    made = client.post("/api/sessions", json={}).json()
    play(client, made["id"], {"X-Control-Token": made["token"]})
    paused = wait_for(lambda: (s := state(client, made["id"]))["status"] == "paused" and s)
    time.sleep(0.5)
    assert state(client, made["id"])["step"] == paused["step"] > 0


def test_a_followed_session_keeps_playing(make_client):
    client = make_client(unwatched_seconds=0.3)
    made = client.post("/api/sessions", json={}).json()
    with client.websocket_connect(stream_url(made["id"])) as websocket:
        play(client, made["id"], {"X-Control-Token": made["token"]})
        time.sleep(1.0)
        assert state(client, made["id"])["status"] == "playing"
        follow_until(websocket, lambda m: m["type"] == "frame" and m["status"] == "playing")


def test_a_shared_view_is_served_first_when_its_frame_is_due():
    now = time.monotonic()
    students = [handle(f"s{i}", served_at=now - 1.0) for i in range(5)]
    teacher = handle("teacher", followers=200, served_at=now - 0.5)
    hub, _ = fake_hub(*students, teacher)
    chosen, _, playing = hub._round(hub.workers[0])
    assert chosen[0] is teacher and playing == 6


def test_a_shared_view_already_in_a_round_joins_the_next_when_due_by_its_start():
    from app.loop.hub import ROUND_SECONDS

    now = time.monotonic()
    students = [handle(f"s{i}", served_at=now - 1.0) for i in range(40)]
    teacher = handle("teacher", followers=200, served_at=now - 1 / 60 + ROUND_SECONDS / 2)
    teacher.in_flight = True              # in the round running now
    busy = handle("busy", served_at=now - 2.0)
    busy.in_flight = True                 # a student's slice is never queued twice
    hub, _ = fake_hub(*students, teacher, busy)
    chosen, _, _ = hub._round(hub.workers[0])
    assert chosen[0] is teacher and busy not in chosen


def test_students_are_served_in_turn_least_recently_served_first():
    now = time.monotonic()
    students = [handle(f"s{i}", served_at=now - i * 0.001) for i in range(40)]
    hub, _ = fake_hub(*students)
    oldest_first = [h.id for h in reversed(students)]
    served = []
    while len(served) < len(students):
        chosen, _, _ = hub._round(hub.workers[0])
        assert 1 < len(chosen) < len(students)   # several a round, never all at once
        for h in chosen:
            h.in_flight = True   # that round is running: the next round takes the others
        served += [h.id for h in chosen]
    assert served == oldest_first


def test_a_round_fills_its_time_and_no_more():
    now = time.monotonic()
    students = [handle(f"s{i}", served_at=now - 1.0) for i in range(100)]
    hub, _ = fake_hub(*students)
    chosen, _, playing = hub._round(hub.workers[0])
    assert playing == 100 and 1 <= len(chosen) < 100


def test_a_set_speed_waits_for_its_frame_and_paused_sessions_are_never_served():
    now = time.monotonic()
    slow = handle("slow", speed=5, served_at=now)
    idle = handle("idle", status="paused", served_at=0.0)
    hub, _ = fake_hub(slow, idle)
    chosen, wait, playing = hub._round(hub.workers[0])
    assert chosen == [] and 0 < wait <= 1 / 60 and playing == 1


def test_the_slice_budget_shrinks_with_the_sessions_playing_and_never_vanishes():
    hub, _ = fake_hub()
    budgets = [hub.budget(hub.workers[0], n) for n in (1, 2, 10, 30, 100)]
    assert budgets == sorted(budgets, reverse=True)
    assert budgets[0] < 1 / 60 and budgets[-1] > 0


def test_the_workers_pin_their_blas_to_one_thread(client):
    from threadpoolctl import threadpool_info

    hub = client.app.state.hub
    info = hub.workers[0].executor.submit(threadpool_info).result()
    assert all(pool["num_threads"] == 1 for pool in info), info


def test_heatmaps_come_less_often_the_more_sessions_a_worker_plays():
    from app.loop.hub import HEATMAP_SHARE

    alone, crowded = handle("alone"), handle("crowded")
    hub, _ = fake_hub(alone, crowded)
    assert hub.heatmap_due(alone, playing=1) and hub.heatmap_due(crowded, playing=40)
    assert not hub.heatmap_due(alone, playing=1)          # not again before its time
    now = time.monotonic()
    assert alone.heatmap_due - now <= 1 / hub.settings.heatmap_rate
    assert crowded.heatmap_due - now == pytest.approx(HEATMAP_SHARE * 40, abs=0.01)
    assert not hub.heatmap_due(handle("nobody", followers=0), playing=1)


def test_a_set_speed_that_fell_behind_owes_two_frames_at_most_not_a_burst():
    from types import SimpleNamespace

    from app.worker.session import Session

    lagged = SimpleNamespace(speed=100.0, played_since=time.perf_counter() - 10.0,
                             played_steps=0)
    due = Session.due_steps(lagged, 0.05)      # 10 s behind at 100 steps/s: 1,000 owed
    assert 5 <= due <= 6                        # … but only 0.05 s of them (and the call's µs)
    lagged.played_steps += due
    assert Session.due_steps(lagged, 0.05) <= 1
    on_time = SimpleNamespace(speed=100.0, played_since=time.perf_counter() - 0.02,
                              played_steps=0)
    assert 2 <= Session.due_steps(on_time, 0.05) <= 5   # within the allowance: all it owes
    slow = SimpleNamespace(speed=10.0, played_since=time.perf_counter() - 5.0, played_steps=0)
    assert Session.due_steps(slow, 0.05) == 1   # a step every 0.1 s: the next one, not none


def stepped(client, config, steps, part_seconds, monkeypatch):
    """A new session stepped `steps` at once, the hub splitting it into parts this long."""
    import app.loop.hub

    monkeypatch.setattr(app.loop.hub, "STEP_PART_SECONDS", part_seconds)
    made = client.post("/api/sessions", json=config).json()
    answer = client.post(f"/api/sessions/{made['id']}/step", json={"steps": steps},
                         headers={"X-Control-Token": made["token"]})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("config", [
    {"optimizer": {"name": "adam", "learning_rate": 0.03}, "batch_size": 7},
    {"dataset": "plane", "activation": "relu", "output_activation": "linear",
     "optimizer": {"name": "sgd", "learning_rate": 1e6}},     # diverges within the parts
])
def test_a_long_step_in_parts_equals_one_part_bit_for_bit(client, monkeypatch, config):
    from app.schemas.session import SessionConfig
    from app.worker import encode
    from app.worker.trainer_factory import build_trainer

    whole = stepped(client, config, 3000, 60.0, monkeypatch)
    parts = stepped(client, config, 3000, 1e-6, monkeypatch)   # a step or so a part
    for field in ("step", "epoch", "status", "network", "optimizer_state", "record", "metrics"):
        assert parts[field] == whole[field], field
    _, _, trainer = build_trainer(SessionConfig(**config), Settings())   # in one piece, here
    trainer.step(3000)
    assert whole["step"] == trainer.step_count
    assert whole["network"] == encode.network(trainer.net)
    assert whole["record"]["loss"] == encode.number(trainer.last.E)
    assert whole["record"]["diverged"] is trainer.last.diverged


def test_a_long_step_is_worked_in_parts_and_stops_when_its_client_gives_up(
    make_client, monkeypatch
):
    import app.loop.hub
    from app.worker import process as worker

    client = make_client(workers=1)
    hub = client.app.state.hub
    made = client.post("/api/sessions", json={}).json()
    handle = client.app.state.store.get(made["id"])
    parts = []
    original = hub.call

    async def counted(h, fn, *args):
        if fn is worker.step_part:
            parts.append(args)
        return await original(h, fn, *args)

    monkeypatch.setattr(hub, "call", counted)
    monkeypatch.setattr(app.loop.hub, "STEP_PART_SECONDS", 1e-6)

    async def still_there():
        return False

    async def gone_after_three_parts():
        return len(parts) >= 3

    assert client.portal.call(hub.step, handle, 400, still_there).status == "paused"
    assert len(parts) > 1 and state(client, made["id"])["step"] == 400
    parts.clear()
    client.portal.call(hub.step, handle, 5000, gone_after_three_parts)
    assert len(parts) == 3
    assert 400 < state(client, made["id"])["step"] < 400 + 100   # three parts and the record


def test_what_starting_made_is_out_of_the_collectors_way_in_the_server_and_its_workers(
        make_client):
    """A full collection walked ~120,000 objects from imports, holding the event loop (or a
    worker's slice) 40–140 ms; frozen, it walks only what came since."""
    client = make_client(workers=1)
    assert gc.get_freeze_count() > 10_000
    hub = client.app.state.hub
    assert hub.workers[0].executor.submit(gc.get_freeze_count).result(timeout=60) > 10_000
    client.__exit__(None, None, None)   # its lifespan ends: the tests' next app starts afresh
    assert gc.get_freeze_count() == 0
