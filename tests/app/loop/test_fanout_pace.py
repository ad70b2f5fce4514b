"""A feed paces its deliveries by its audience and writes straight to followers who keep up
(app/loop/feeds.py); the training workers yield the CPU to the event loop
(app/worker/process.py)."""

import asyncio
import json
import os

import httpx
import pytest
from support_server import serving
from websockets.sync.client import connect

from app.cluster.bus import Parcel
from app.config import Settings
from app.loop import feeds as live

RATE = Settings().fanout_rate


def frame(step: int) -> Parcel:
    """What a worker sends for the steps before `step`: a frame and its losses twin."""
    return Parcel({"frame": json.dumps({"type": "frame", "step": step}),
                   "losses": json.dumps({"type": "losses", "start": step - 1})},
                  (step - 1, step))


class Writer:
    """A connection's write of whole messages, that can be made to refuse (not drained)."""

    def __init__(self) -> None:
        self.writes, self.drained = [], True

    def __call__(self, texts: list[str]) -> bool:
        if self.drained:
            self.writes.append([json.loads(text) for text in texts])
        return self.drained


def joined(feed: live.Feed, count: int, write=None) -> list[live.Follower]:
    followers = []
    for _ in range(count):
        follower = feed.join(Parcel({"state": '{"type":"state"}', "frame": frame(1).messages[
            "frame"], "heatmaps": '{"type":"heatmaps"}'}, (0, 1)))
        follower.write = write
        follower.news(feed)   # what the join gave it: sent
        followers.append(follower)
    return followers


def test_the_pace_lets_a_class_have_every_frame_and_holds_a_lecture_at_the_floor():
    assert live.pace(1, RATE) < 0.001
    assert live.pace(60, RATE) <= 1 / 120
    assert live.pace(500, RATE) == live.pace(5000, RATE) == pytest.approx(1 / live.FEWEST_FPS)
    assert live.FEWEST_FPS >= 20   # the lecture's floor: every follower ≥ 20 frames/s
    assert live.pace(60, RATE / 10) == live.pace(600, RATE)   # the rate is what it divides


def test_a_lecture_gets_the_latest_frame_at_its_pace_and_the_skipped_ones_losses():
    async def run():
        feed = live.Feed(RATE)
        write = Writer()
        joined(feed, 600, write)
        for step in range(2, 7):   # five outcomes at once: faster than the pace
            feed.publish(frame(step))
        assert feed.timer is not None and len(write.writes) == 600   # the first went at once
        assert {w[0]["step"] for w in write.writes} == {2}
        await asyncio.sleep(live.pace(600, RATE) * 3)
        return write.writes

    writes = asyncio.run(run())
    assert len(writes) == 1200   # one more delivery: the latest, with what it skipped
    later = writes[600:]
    assert all(w == later[0] for w in later)
    assert [m["type"] for m in later[0]] == ["losses"] * 3 + ["frame"]
    assert [m["start"] for m in later[0][:3]] == [2, 3, 4] and later[0][-1]["step"] == 6


def test_a_follower_that_has_not_drained_is_left_to_its_loop_with_only_the_latest():
    async def run():
        feed = live.Feed(RATE)
        write = Writer()
        follower, = joined(feed, 1, write)
        write.drained = False
        feed.publish(frame(2))
        assert follower.wake.is_set() and follower.backlog   # refused: its loop sends it
        follower.sending = True   # ...and while that loop sends, news waits in the slots
        for step in range(3, 6):
            await asyncio.sleep(live.pace(1, RATE) * 2)
            feed.publish(frame(step))
        assert not write.writes
        return [json.loads(text) for text in follower.news(feed)]

    sent = asyncio.run(run())
    assert [(m["type"], m.get("step", m.get("start"))) for m in sent] == [
        ("frame", 2), ("losses", 2), ("losses", 3), ("frame", 5)]


def test_a_state_starts_the_steps_anew_and_a_frame_older_than_the_joins_is_not_sent():
    async def run():
        feed = live.Feed(RATE)
        write = Writer()
        follower, = joined(feed, 1, write)
        follower.offer("frame", frame(9).messages["frame"], (8, 9))   # its join's frame
        follower.take(feed)
        feed.publish(frame(5))   # made before its join, delivered after
        older = list(write.writes)
        await asyncio.sleep(live.pace(1, RATE) * 2)
        feed.publish(Parcel({"state": '{"type":"state","step":0}'}))   # a reset
        await asyncio.sleep(live.pace(1, RATE) * 2)
        feed.publish(frame(1))
        return older, write.writes

    older, writes = asyncio.run(run())
    assert older == []
    assert [[m["type"] for m in w] for w in writes] == [["state"], ["frame"]]


def test_the_end_and_a_slide_go_through_the_followers_loop():
    async def run():
        feed = live.Feed(RATE)
        write = Writer()
        follower, = joined(feed, 1, write)
        feed.announce("lesson", '{"type":"lesson"}')
        feed.publish(frame(2))
        assert not write.writes   # the slide waits for the loop, and the frame behind it
        assert [json.loads(t)["type"] for t in follower.news(feed)] == ["lesson", "frame"]
        feed.end()
        return follower.news(feed)

    assert asyncio.run(run()) == [live.END]


def test_the_workers_train_at_the_niceness_set(make_client):
    client = make_client(workers=2, worker_nice=3)
    for _ in range(2):
        assert client.post("/api/sessions", json={}).status_code == 201
    pids = client.app.state.hub.pids()
    assert len(pids) == 2
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in pids} == {min(19, mine + 3)}


def test_a_paced_follower_of_a_real_server_misses_no_step_s_loss(tmp_path):
    """Through uvicorn (the direct write), a feed paced to its floor even for one follower:
    the frames it skips come as `losses`, and together they cover every step."""
    # frames made up to 240 a second: a loaded machine still makes them faster than the pace
    settings = Settings(data_dir=tmp_path, fanout_rate=1.0, frame_rate=240.0)
    with serving(settings) as address, httpx.Client(base_url=f"http://{address}",
                                                     timeout=30) as http:
        made = http.post("/api/sessions", json={"dataset": "circle", "hidden": [4]}).json()
        path = f"/api/sessions/{made['id']}/stream"
        with connect(f"ws://{address}{path}", max_size=None) as socket:
            assert json.loads(socket.recv(timeout=60))["type"] == "state"
            assert http.post(f"/api/sessions/{made['id']}/play", json={"speed": None},
                             headers={"X-Control-Token": made["token"]}).status_code == 200
            covered, gaps, frames_after = None, 0, 0
            while frames_after < 20:   # frames since the first skipped ones
                message = json.loads(socket.recv(timeout=60))
                if message["type"] == "losses":
                    assert covered is not None and message["start"] <= covered
                    covered = message["start"] + message["stride"] * len(message["values"])
                    gaps += 1
                elif message["type"] == "frame":
                    if covered is not None and message["step"] > covered:
                        assert message["loss_start"] <= covered, (message, covered)
                    covered = max(covered or 0, message["step"])
                    frames_after += gaps > 0
    assert gaps >= 1
