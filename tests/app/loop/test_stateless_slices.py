"""Issue 20, row 1: /api/step and /api/gradcheck are worked in parts (app/loop/hub.py, stateless),
with other sessions' calls between them, dropped when their client leaves, and at most
BACKPROP_STATELESS_PER_ADDRESS of them run at once per client address. Parts in any number
give exactly the answer of one go. Disconnects and concurrency go through a real uvicorn
server (the test client neither runs requests side by side nor ever disconnects)."""

import asyncio
import json
import math
import os
import signal
import socket
import threading
import time

import httpx
import numpy as np
import pytest
from support import DIVERGING, design_step
from support_server import serving

import app.loop.hub
from app.config import Settings
from app.main import create_app
from app.schemas.step import GradcheckRequest, StepRequest
from app.worker import encode
from app.worker import process as work
from app.worker.stateless_steps import GradcheckJob, StepJob
from engine.optimizers import OPTIMIZERS

RNG = np.random.default_rng(3)
INPUTS = RNG.uniform(-1, 1, (20, 2)).round(3).tolist()
TARGETS = RNG.uniform(0, 1, (20, 1)).round(3).tolist()
NETWORK = {"layers": [2, 5, 4, 1], "activations": ["tanh", "relu", "sigmoid"]}


def step_body(optimizer: dict, steps: int = 300, **changes) -> dict:
    return {"network": NETWORK, "loss": "mse", "optimizer": optimizer, "inputs": INPUTS,
            "targets": TARGETS, "steps": steps, "seed": 7, **changes}


def in_parts(job, seconds: float) -> tuple[bytes, int]:
    """The job's answer worked `seconds` a part, and how many parts it took."""
    parts = 1
    while (answer := job.work(seconds)) is None:
        parts += 1
    return encode.dumps(answer), parts


EVERY_OPTIMIZER = [{"name": name, "learning_rate": 0.05} for name in OPTIMIZERS]
CASES = [step_body(o) for o in EVERY_OPTIMIZER] + [
    step_body({"name": "adam", "learning_rate": 0.05}, regularization={"name": "l2", "rate": 0.01}),
    step_body({"name": "sgd", "learning_rate": 1e6}, network={
        "layers": [2, 5, 1], "activations": ["relu", "linear"]}),   # diverges on the way
]


@pytest.mark.parametrize("body", CASES, ids=lambda b: b["optimizer"]["name"] + (
    "-diverging" if b["optimizer"]["learning_rate"] > 1 else "-l2" if "regularization" in b
    else ""))
def test_a_step_in_parts_is_exactly_the_step_in_one_call_of_the_compiled_loop(body):
    req = StepRequest.model_validate(body)
    whole = encode.dumps(StepJob(req).work(math.inf))   # steps − 1 in one call, then recorded
    one_a_part, parts = in_parts(StepJob(req), 0.0)     # a step a part
    answer = json.loads(whole)   # a part a step (the last, recorded one: a part of its own),
    assert parts == len(answer["losses"])   # or up to a diverged one, which ends the job
    assert one_a_part == whole
    assert in_parts(StepJob(req), 1e-4)[0] == whole      # chunks as many as fit 0.1 ms
    if body["optimizer"]["learning_rate"] > 1:
        assert answer["diverged"] is True


def test_a_gradient_check_in_parts_is_exactly_the_check_in_one_go():
    req = GradcheckRequest.model_validate(
        {"network": NETWORK, "loss": "mse", "inputs": INPUTS, "targets": TARGETS, "seed": 7})
    whole = encode.dumps(GradcheckJob(req).work(math.inf))
    one_a_part, parts = in_parts(GradcheckJob(req), 0.0)   # a parameter a part
    assert parts == (2 * 5 + 5 + 5 * 4 + 4 + 4 * 1 + 1) + 1   # then the analytic gradient
    assert one_a_part == whole
    assert json.loads(whole)["max_relative_error"] < 1e-6


@pytest.mark.parametrize("path, body", [
    ("/api/step", step_body({"name": "adam", "learning_rate": 0.05}, steps=500)),
    ("/api/step", design_step(steps=40, **{k: v for k, v in DIVERGING.items()
                                           if k == "optimizer"})),
    ("/api/gradcheck", {"network": NETWORK, "loss": "mse", "inputs": INPUTS, "targets": TARGETS}),
])
def test_through_the_server_any_part_length_answers_the_same_bytes(
        make_client, monkeypatch, path, body):
    client = make_client(workers=1)
    monkeypatch.setattr(app.loop.hub, "STEP_PART_SECONDS", 60.0)
    whole = client.post(path, json=body)
    monkeypatch.setattr(app.loop.hub, "STEP_PART_SECONDS", 0.0)
    parts = client.post(path, json=body)
    assert whole.status_code == parts.status_code == 200, whole.text
    assert parts.content == whole.content


# --- through a real server ------------------------------------------------------------------

WIDE = 16
MAXIMAL = json.dumps({   # the largest step the default limits allow: seconds of work
    "network": {"layers": [WIDE] * 10, "activations": ["tanh"] * 9},
    "loss": "mse", "optimizer": {"name": "adam", "learning_rate": 0.001}, "steps": 4037,
    "inputs": RNG.uniform(-1, 1, (215, WIDE)).round(3).tolist(),
    "targets": RNG.uniform(-1, 1, (215, WIDE)).round(3).tolist(),
}).encode()


def posted_raw(address: str, path: str, body: bytes) -> socket.socket:
    """A POST sent on a socket of its own, not read: closing the socket is the client leaving."""
    host, port = address.split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return sock


def unanswered(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return not sock.recv(1)   # b"": closed by the server, which it never does here
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)


def wait_until(predicate, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "never came"
        time.sleep(0.01)


class Calls:
    """Every call the hub makes into a worker, by function name and arguments; and the
    server's event loop, to make one from the test."""

    def __init__(self, worker) -> None:
        self.seen: list[tuple[str, tuple]] = []
        self.loop = None
        run = worker.run

        async def counted(fn, *args):
            self.loop = asyncio.get_running_loop()
            self.seen.append((fn.__name__, args))
            return await run(fn, *args)

        worker.run = counted
        self.worker = worker

    def parts(self, key: str | None = None) -> list[tuple]:
        return [args for name, args in self.seen
                if name == "job_part" and (key is None or args[0] == key)]

    def call(self, fn, *args):
        return asyncio.run_coroutine_threadsafe(self.worker.run(fn, *args), self.loop).result()


def test_a_maximal_step_lets_another_sessions_get_by_and_stops_when_its_client_leaves(tmp_path):
    asgi = create_app(Settings(data_dir=tmp_path, workers=1))
    worker = asgi.state.hub.workers[0]
    calls = Calls(worker)
    with serving(asgi) as address:
        base = f"http://{address}"
        other = httpx.post(f"{base}/api/sessions", json={}).json()
        step = posted_raw(address, "/api/step", MAXIMAL)
        try:
            wait_until(lambda: len(calls.parts()) >= 2)
            read = httpx.get(f"{base}/api/sessions/{other['id']}", timeout=120)
            assert read.status_code == 200
            assert unanswered(step)   # the GET was answered while the step is still going
            assert worker.jobs == 1
        finally:
            step.close()          # the client leaves
        wait_until(lambda: worker.jobs == 0)
        key = calls.parts()[0][0]
        given = len(calls.parts(key))
        assert calls.call(work.open_jobs) == 0   # its θ and state freed in the worker
        small = httpx.post(f"{base}/api/step", json=design_step(steps=3), timeout=120)
        assert small.status_code == 200
        assert len(calls.parts(key)) == given    # no part of it ran after it was dropped
        assert given < 4037 - 1                  # far fewer than its steps: it stopped early


def test_a_worker_killed_under_a_stateless_request_is_replaced_and_the_request_answered(
        tmp_path):
    asgi = create_app(Settings(data_dir=tmp_path, workers=1))
    worker = asgi.state.hub.workers[0]
    calls = Calls(worker)
    body = json.loads(MAXIMAL) | {"steps": 300}
    with serving(asgi) as address:
        base = f"http://{address}"
        expected = httpx.post(f"{base}/api/step", json=body, timeout=120)
        assert expected.status_code == 200
        answers = {}
        asking = threading.Thread(target=lambda: answers.setdefault(
            "step", httpx.post(f"{base}/api/step", json=body, timeout=120)))
        before = len(calls.parts())
        asking.start()
        wait_until(lambda: len(calls.parts()) > before)
        os.kill(worker.executor._processes.copy().popitem()[0], signal.SIGKILL)
        asking.join(timeout=120)
        assert answers["step"].status_code == 200
        assert answers["step"].content == expected.content   # started again, in the new worker
        assert worker.generation == 1 and worker.jobs == 0


def test_past_its_running_requests_an_address_gets_429_and_another_is_served(tmp_path):
    asgi = create_app(Settings(data_dir=tmp_path, workers=1, stateless_per_address=2))
    running = asgi.state.stateless_running
    with serving(asgi) as address:
        base = f"http://{address}"
        held = [posted_raw(address, "/api/step", MAXIMAL) for _ in range(2)]
        try:
            wait_until(lambda: running.live.get("127.0.0.1") == 2)
            refused = httpx.post(f"{base}/api/step", json=design_step(), timeout=120)
            assert refused.status_code == 429
            assert refused.headers["retry-after"].isdigit()
            assert "at most 2" in refused.json()["detail"]
            assert "BACKPROP_STATELESS_PER_ADDRESS" in refused.json()["detail"]
            other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
            with other:
                served = other.post(f"{base}/api/step", json=design_step(), timeout=120)
                assert served.status_code == 200, served.text
                assert served.json()["loss"] == pytest.approx(0.4223039553650916, abs=1e-15)
        finally:
            for sock in held:
                sock.close()
        wait_until(lambda: not running.live)
        assert httpx.post(f"{base}/api/step", json=design_step(), timeout=120).status_code == 200


def test_a_workers_stateless_parts_go_to_it_one_at_a_time_and_in_turn():
    """However many run, a worker holds one stateless part at most (Worker.lane): a session's
    call waits behind that one, and the requests take their parts in turn."""
    hub = app.loop.hub.Hub(Settings(workers=1), None, None)
    worker = hub.workers[0]
    order, left, running, most = [], {}, 0, 0

    async def run(fn, *args):
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)   # the worker busy: the others may hand it theirs meanwhile
        running -= 1
        key = args[0]
        if fn is not work.job_part:   # the start: a job of three parts opened
            left[key] = 3
            return None
        order.append(key)
        left[key] -= 1
        return b"{}" if left[key] == 0 else None

    worker.run = run

    async def there():
        return False

    async def six():
        return await asyncio.gather(*(hub.stateless(None, (), there) for _ in range(6)))

    assert asyncio.run(six()) == [b"{}"] * 6
    assert most == 1 and len(order) == 18
    assert len(set(order[:6])) == 6   # each its first part before any its second
    assert worker.jobs == 0


def test_running_requests_are_counted_per_address_and_released():
    from fastapi import HTTPException

    from app.loop.ratelimit import Running

    running = Running(2, "things", "BACKPROP_THINGS")
    with running.held("a"), running.held("a"):
        with pytest.raises(HTTPException) as refused, running.held("a"):
            pass
        assert refused.value.status_code == 429 and refused.value.headers["Retry-After"] == "1"
        with running.held("b"):
            assert running.live == {"a": 2, "b": 1}
    assert running.live == {}


def test_the_default_lets_several_run_at_once():
    assert Settings().stateless_per_address >= 4   # the bench's four maximal requests, too
