"""Races, copies and control tokens across two instances behind nginx: a race lives wholly on
one instance (nginx hashes its paths and its lanes' by the race's id), is followed through
the other, survives a kill -9 of its instance; a copy lands where its own id hashes; Redis
holds no control token."""

import asyncio
import hashlib
import json
import time
import zlib

import httpx
import websockets
from cluster_clients import (
    CONFIG,
    FRAME_WAIT,
    Follower,
    control,
    create,
    other,
    rejoin,
    run_apart,
    ws_url,
)
from cluster_servers import wait_for

RACE = {"config": CONFIG, "vary": {"learning_rate": [0.1, 1.0]}}


def make_race(cluster) -> dict:
    made = httpx.post(f"{cluster.nginx.base}/api/races", json=RACE, timeout=60)
    assert made.status_code == 201, made.text
    return made.json()


def race_call(cluster, race: dict, op: str, body: dict | None = None,
              token: str | None = None) -> httpx.Response:
    return httpx.post(f"{cluster.nginx.base}/api/races/{race['id']}/{op}", json=body or {},
                      headers={"X-Control-Token": token or race["token"]}, timeout=60)


def race_state(cluster, race: dict) -> dict:
    answer = httpx.get(f"{cluster.nginx.base}/api/races/{race['id']}", timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def race_owner(cluster, race: dict):
    return cluster.owner(f"race:{race['id']}")


async def race_frames(url: str, after: int, count: int = 3, ready=None) -> int:
    """Open the race's stream at `url`; wait for `count` race frames past step `after`
    (once `ready`, an asyncio.Event, is set, if given); answer the highest step seen."""
    async with websockets.connect(url, max_size=None, open_timeout=30) as socket:
        first = json.loads(await socket.recv())
        assert first["type"] == "race_state", first
        if ready is not None:
            await ready.wait()
        return await read_race_frames(socket, after, count)


async def read_race_frames(socket, after: int, count: int = 3) -> int:
    seen, step = 0, -1
    async with asyncio.timeout(FRAME_WAIT):
        while seen < count:
            message = json.loads(await socket.recv())
            if message["type"] != "race_frame":
                continue
            steps = [lane["step"] for lane in message["lanes"] if lane is not None]
            if steps and max(steps) > after:
                seen, step = seen + 1, max(step, *steps)
    return step


def snapshot_of(cluster, race: dict) -> dict:
    """The race's last snapshot: what varies and each lane's export."""
    packed = cluster.redis.client().hget(f"bp:snap:race:{race['id']}", "export")
    return json.loads(zlib.decompress(packed))


def stream_url(instance, race: dict) -> str:
    return instance.base.replace("http://", "ws://") + f"/api/races/{race['id']}/stream"


def test_a_race_made_through_nginx_lives_on_one_instance_with_its_lanes(cluster):
    race = make_race(cluster)
    lanes = [lane["id"] for lane in race["state"]["lanes"]]
    assert lanes == [f"{race['id']}.0", f"{race['id']}.1"]
    owner = race_owner(cluster, race)
    assert owner is not None
    # several requests through nginx, whatever its round-robin: all on the owner
    for _ in range(4):
        answer = race_call(cluster, race, "step", {"steps": 3})
        assert answer.status_code == 200, answer.text
    assert race_state(cluster, race)["step"] == 12
    for lane in lanes:   # the lanes' session routes and pages reach the race's instance
        read = httpx.get(f"{cluster.nginx.base}/api/sessions/{lane}", timeout=60)
        assert read.status_code == 200 and read.json()["step"] == 12
        assert httpx.get(f"{cluster.nginx.base}/watch/{lane}", timeout=30).status_code == 200
    assert httpx.get(f"{cluster.nginx.base}/race/{race['id']}", timeout=30).status_code == 200
    assert race_call(cluster, race, "pause", token="wrong").status_code == 403
    # its join code leads to the race page from either instance
    code = race["state"]["join_code"]
    for instance in cluster.instances:
        found = httpx.get(f"{instance.base}/join/{code}", timeout=30)
        assert found.status_code == 303 and found.headers["location"] == f"/race/{race['id']}"
    assert race_owner(cluster, race) is owner
    assert not any("restored here" in i.output() for i in cluster.instances)
    # a saved race opens on either instance, as a race that lives where nginx sends it
    saved = race_call(cluster, race, "save").json()
    for instance in cluster.instances:
        assert httpx.get(f"{instance.base}/api/saved-races/{saved['code']}",
                         timeout=30).status_code == 200
    opened = httpx.post(f"{cluster.nginx.base}/api/saved-races/{saved['code']}/open",
                        timeout=60)
    assert opened.status_code == 201, opened.text
    assert race_state(cluster, opened.json())["step"] == 12
    assert race_owner(cluster, opened.json()) is not None
    # ended for good: its shared records go
    assert httpx.delete(f"{cluster.nginx.base}/api/races/{race['id']}",
                        headers={"X-Control-Token": race["token"]}, timeout=60).status_code == 204
    wait_for(lambda: not cluster.redis.client().exists(f"bp:snap:race:{race['id']}"),
             "the race's snapshot released", seconds=10)


def test_a_race_is_followed_through_the_other_instance(cluster):
    race = make_race(cluster)
    owner = race_owner(cluster, race)
    elsewhere = other(cluster, owner)

    async def follow():
        counted = asyncio.Event()
        followers = [asyncio.ensure_future(race_frames(stream_url(i, race), 0, ready=counted))
                     for i in (elsewhere, owner)]
        # the owner counts the other instance's follower as one of the race's
        await asyncio.to_thread(wait_for, lambda: race_state(cluster, race)["followers"] == 2,
                                "both followers counted", 30)
        counted.set()
        assert race_call(cluster, race, "play").status_code == 200
        return await asyncio.gather(*followers)

    steps = run_apart(follow)
    assert min(steps) > 0
    assert race_owner(cluster, race) is owner


def test_a_race_whose_instance_is_killed_is_restored_whole(cluster):
    race = make_race(cluster)
    owner = race_owner(cluster, race)
    survivor = other(cluster, owner)
    lane = f"{race['id']}.0"
    assert race_call(cluster, race, "step", {"steps": 20}).status_code == 200

    async def die():
        # followers of the race and of a lane on the survivor, fed through Redis
        watcher = await websockets.connect(stream_url(survivor, race), max_size=None)
        assert json.loads(await watcher.recv())["type"] == "race_state"
        lane_watcher = await Follower(ws_url(survivor.base, lane)).open()
        assert race_call(cluster, race, "play", {"speed": 100}).status_code == 200
        await lane_watcher.frames_after(20)
        await read_race_frames(watcher, 20)
        await asyncio.sleep(3)   # snapshots every second meanwhile
        before = race_state(cluster, race)["step"]
        owner.kill()
        started = time.monotonic()
        # A page reconnecting to the survivor: nobody answers for the race there, so the
        # survivor has nginx send a request for it (restored where its hash now goes) and
        # tells the page to come again.
        again = await rejoin(stream_url(survivor, race))
        assert time.monotonic() - started <= 10
        assert race_owner(cluster, race) is survivor
        for step in await asyncio.gather(read_race_frames(again.socket, before - 1),
                                         read_race_frames(watcher, before - 1)):
            assert step >= before
        await lane_watcher.frames_after(before - 1)   # the lane's follower never left
        for socket in (again.socket, watcher, lane_watcher.socket):
            await socket.close()
        return before

    before = run_apart(die)
    assert f"asked nginx for /api/races/{race['id']}" in survivor.output()
    assert f"race {race['id']} restored here" in survivor.output()
    state = race_state(cluster, race)
    assert state["step"] >= before and state["status"] == "playing"
    assert [lane["id"] for lane in state["lanes"]] == [lane["id"] for lane in
                                                       race["state"]["lanes"]]
    assert state["join_code"] == race["state"]["join_code"]
    # the same token controls it (Redis kept only its digest); a wrong one does not
    assert race_call(cluster, race, "pause", token="wrong").status_code == 403
    paused = race_call(cluster, race, "pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert httpx.get(f"{cluster.nginx.base}/api/sessions/{race['id']}.1",
                     timeout=30).status_code == 200


def test_a_copy_is_made_where_its_own_id_hashes(cluster):
    session = create(cluster)
    control(cluster, session, "step", {"steps": 9})
    source = cluster.owner(session["id"])
    for _ in range(4):   # nginx hashes each copy by its new id: made where that id goes
        copied = httpx.post(f"{cluster.nginx.base}/api/sessions/{session['id']}/copy",
                            timeout=60)
        assert copied.status_code == 201, copied.text
        copy = copied.json()
        assert copy["state"]["step"] == 9
        made_on = cluster.owner(copy["id"])
        control(cluster, copy, "step", {"steps": 1})
        assert cluster.owner(copy["id"]) is made_on   # never moved by its first requests
    # asked straight on the instance that lacks the source: its export comes through Redis
    elsewhere = other(cluster, source)
    copied = httpx.post(f"{elsewhere.base}/api/sessions/{session['id']}/copy", timeout=60)
    assert copied.status_code == 201 and copied.json()["state"]["step"] == 9
    assert cluster.owner(copied.json()["id"]) is elsewhere
    assert cluster.owner(session["id"]) is source   # the source stayed where it was
    assert httpx.post(f"{elsewhere.base}/api/sessions/nosuchsession/copy",
                      timeout=60).status_code == 404
    assert not any("restored here" in i.output() for i in cluster.instances)


def test_redis_holds_no_control_token(cluster):
    session = create(cluster)
    race = make_race(cluster)
    client = cluster.redis.client()
    wait_for(lambda: client.exists(f"bp:snap:race:{race['id']}"), "the race's snapshot")
    everything = b"".join(
        b"".join([key, *(client.hgetall(key).values() if client.type(key) == b"hash"
                         else [client.get(key) or b""])])
        for key in client.scan_iter("bp:*"))
    for token in (session["token"], race["token"]):
        assert token.encode() not in everything
    digest = client.hget(f"bp:snap:{session['id']}", "digest").decode()
    assert digest == hashlib.sha256(session["token"].encode()).hexdigest()


def test_a_race_taken_over_by_another_instance_is_let_go_whole(cluster):
    race = make_race(cluster)
    first = race_owner(cluster, race)
    second = other(cluster, first)
    assert race_call(cluster, race, "step", {"steps": 6}).status_code == 200
    wait_for(lambda: snapshot_of(cluster, race)["lanes"][1]["step"] == 6,
             "the snapshot after the steps", seconds=20)

    async def moved():
        url = stream_url(first, race)
        async with websockets.connect(url, max_size=None, open_timeout=30) as socket:
            assert json.loads(await socket.recv())["type"] == "race_state"
            # Not through nginx: as if its hash had changed (an instance came back)
            taken = await asyncio.to_thread(
                httpx.get, f"{second.base}/api/sessions/{race['id']}.1", timeout=60)
            assert taken.status_code == 200 and taken.json()["step"] >= 6
            # playing: the first's next snapshot comes soon, and is refused
            await asyncio.to_thread(race_call, cluster, race, "play", {"speed": 20})
            async with asyncio.timeout(FRAME_WAIT):   # the first lets it go: reconnect
                while True:
                    try:
                        await socket.recv()
                    except websockets.ConnectionClosed as closed:
                        return closed.rcvd.code

    assert run_apart(moved) == 1012
    assert race_owner(cluster, race) is second
    assert f"race:{race['id']} is owned by another instance now; let go here" in first.output()
    read = httpx.get(f"{second.base}/api/races/{race['id']}", timeout=60)
    assert read.status_code == 200 and read.json()["step"] >= 6


def test_a_lessons_race_lives_with_its_lesson_session(cluster):
    made = httpx.post(f"{cluster.nginx.base}/api/lessons/xor/present", timeout=60)
    assert made.status_code == 201, made.text
    session = made.json()
    owner = cluster.owner(session["id"])
    shown = httpx.post(f"{cluster.nginx.base}/api/sessions/{session['id']}/lesson",
                       json={"lesson": "xor", "slide": 7},
                       headers={"X-Control-Token": session["token"]}, timeout=60)
    assert shown.status_code == 200, shown.text
    race = shown.json()["race"]
    assert race["id"].startswith(f"{session['id']}.")
    assert race_owner(cluster, race) is owner   # where its lesson session is
    for _ in range(3):
        assert race_state(cluster, race)["status"] == "playing"
        assert httpx.get(f"{cluster.nginx.base}/api/sessions/{race['id']}.2",
                         timeout=60).status_code == 200
    step = run_apart(lambda: race_frames(stream_url(other(cluster, owner), race), 0))
    assert step > 0
    assert not any("restored here" in i.output() for i in cluster.instances)
