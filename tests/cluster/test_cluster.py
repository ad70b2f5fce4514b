"""Two instances behind nginx, Redis between them: one session, followed and controlled
through either instance; join codes and saves shared; an instance killed with -9 and Redis
restarted while followers watch."""

import asyncio
import json
import re
import subprocess
import time
import zlib

import httpx
import pytest
import websockets
from cluster_clients import (
    FRAME_WAIT,
    Follower,
    control,
    create,
    other,
    rejoin,
    run_apart,
    ws_url,
)
from cluster_servers import ROOT, binary, wait_for


def step_of(cluster, session: dict) -> int:
    return httpx.get(f"{cluster.nginx.base}/api/sessions/{session['id']}",
                     timeout=60).json()["step"]


def placed(cluster) -> tuple[dict, object, object]:
    """A new session, the instance that owns it and the other one."""
    session = create(cluster)
    owner = cluster.owner(session["id"])
    return session, owner, other(cluster, owner)


async def playing(cluster, session: dict, instance) -> Follower:
    """A follower straight on `instance`, the session playing, its first frames received."""
    follower = await Follower(ws_url(instance.base, session["id"])).open()
    control(cluster, session, "play")
    await follower.frames_after(0)
    return follower


def test_a_session_is_made_where_nginx_sends_it_and_followed_through_either_instance(cluster):
    session = create(cluster)
    owner = cluster.owner(session["id"])
    assert owner is not None
    # nginx made it where its hash sends its requests: the owner never changes by using it
    control(cluster, session, "step", {"steps": 5})
    assert cluster.owner(session["id"]) is owner

    async def follow():
        followers = [await Follower(ws_url(base, session["id"])).open() for base in (
            owner.base, other(cluster, owner).base, cluster.nginx.base, cluster.nginx.base)]
        control(cluster, session, "play")
        await asyncio.gather(*(f.frames_after(5) for f in followers))
        control(cluster, session, "pause")
        for f in followers:
            await f.close()
        return followers

    followers = run_apart(follow)
    assert all(f.step > 5 for f in followers)
    assert cluster.owner(session["id"]) is owner
    assert step_of(cluster, session) >= max(f.step for f in followers)


def test_followers_on_another_instance_miss_nothing_from_their_join_on(cluster):
    """Followers join elsewhere while the session plays: from its join on, each gets every
    step's loss (nothing goes unpublished before its instance's next count of followers
    reaches the owner) and, joined before the play, the playing state."""
    session, _, elsewhere = placed(cluster)

    async def follow(delay: float, watch: float) -> list[str]:
        await asyncio.sleep(delay)
        socket = await websockets.connect(ws_url(elsewhere.base, session["id"]), max_size=None)
        covered, states = None, []
        async with asyncio.timeout(FRAME_WAIT):
            until = time.monotonic() + watch   # over several counts of followers
            while time.monotonic() < until:
                message = json.loads(await socket.recv())
                if message["type"] == "state":
                    states.append(message["status"])
                elif covered is None and message["type"] == "frame":
                    covered = message["step"]   # the join's frame
                elif message["type"] == "losses":   # frames it skipped: what they carried
                    assert message["start"] <= covered, (message["start"], covered)
                    covered = max(covered, message.get("point", {}).get("step", 0),
                                  message["start"] + message["stride"] * len(message["values"]))
                elif message["type"] == "frame" and message["step"] > covered:
                    assert message["loss_start"] <= covered, (message["loss_start"], covered)
                    covered = message["step"]
        await socket.close()
        return states

    async def follow_all():
        first = asyncio.ensure_future(follow(0.0, 4.0))
        await asyncio.sleep(0.5)
        control(cluster, session, "play", {"speed": 500})
        return await asyncio.gather(first, *(follow(0.7 * n, 3.0) for n in range(1, 4)))

    states = run_apart(follow_all)
    assert "playing" in states[0]


def test_join_codes_and_saves_work_on_every_instance(cluster):
    session = create(cluster)
    control(cluster, session, "step", {"steps": 7})
    for instance in cluster.instances:
        found = httpx.get(f"{instance.base}/api/join/{session['join_code']}", timeout=30)
        assert found.status_code == 200, found.text
        assert found.json()["id"] == session["id"]
    saved = httpx.post(f"{cluster.nginx.base}/api/sessions/{session['id']}/save",
                       headers={"X-Control-Token": session["token"]}, timeout=60).json()
    exports = [httpx.get(f"{i.base}/api/saved/{saved['code']}", timeout=30)
               for i in cluster.instances]
    assert [e.status_code for e in exports] == [200, 200]
    assert exports[0].json() == exports[1].json()
    assert exports[0].json()["step"] == 7
    opened = httpx.post(f"{cluster.nginx.base}/api/saved/{saved['code']}/open", timeout=60)
    assert opened.status_code == 201, opened.text
    assert opened.json()["state"]["step"] == 7
    assert cluster.owner(opened.json()["id"]) is not None
    page = httpx.get(f"{cluster.nginx.base}/s/{saved['code']}", timeout=30)
    assert page.status_code == 200


def test_a_request_sent_to_another_instance_moves_the_session_and_its_followers_stay(cluster):
    session, first, second = placed(cluster)

    async def move():
        watcher = await playing(cluster, session, first)
        # Not through nginx: as if nginx's hash had changed (an instance came back)
        moved = httpx.get(f"{second.base}/api/sessions/{session['id']}", timeout=60)
        assert moved.status_code == 200, moved.text
        wait_for(lambda: cluster.owner(session["id"]) is second, "the second taking it over",
                 seconds=30)
        # the first let it go: its follower is fed through Redis from the second now
        await asyncio.sleep(2.5)
        await watcher.frames_after(watcher.step)
        await watcher.close()

    run_apart(move)
    assert "let go here" in first.output()


def test_an_instance_killed_loses_seconds_and_its_followers_go_on(cluster):
    session, owner, survivor = placed(cluster)

    async def die():
        remote = await Follower(ws_url(survivor.base, session["id"])).open()
        local = await Follower(ws_url(owner.base, session["id"])).open()
        control(cluster, session, "play", {"speed": 200})
        await asyncio.gather(remote.frames_after(0), local.frames_after(0))
        before = step_of(cluster, session)
        await asyncio.sleep(3)   # snapshots are made every second meanwhile
        owner.kill()
        snapshot = cluster.redis.client().hget(f"bp:snap:{session['id']}", "export")
        assert json.loads(zlib.decompress(snapshot))["step"] >= before   # ~3 s lost at most
        started = time.monotonic()
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(30):
                while True:   # what it had received before the kill, then the close
                    await local.socket.recv()
        # The dead one's follower reconnects through nginx, as the page does (every 0.5 s
        # here): no other request comes, the instance it reaches has nginx restore the
        # session where its hash now sends it, and the follower is told to come again.
        again = await rejoin(ws_url(cluster.nginx.base, session["id"]))
        # the session answers again (restored by then, or on this very request)
        restored = wait_for(lambda: httpx.get(
            f"{cluster.nginx.base}/api/sessions/{session['id']}", timeout=10).status_code == 200,
            "the session answering again", seconds=10)
        assert restored and time.monotonic() - started <= 10
        assert cluster.owner(session["id"]) is survivor
        assert step_of(cluster, session) >= before
        await again.frames_after(before)
        # the survivor's follower never left: fed through Redis before, from its own
        # instance now
        await remote.frames_after(remote.step)
        await remote.close()
        await again.close()
        # the follower's instance asked nginx, whose hash sent the request to the survivor
        assert f"asked nginx for /api/sessions/{session['id']}" in survivor.output()
        assert f"session {session['id']} restored here" in survivor.output()

    run_apart(die)


@pytest.mark.parametrize("cluster", [{"snapshot_seconds": 600}], indirect=True)
def test_an_instance_stopped_hands_over_its_sessions_whole(cluster):
    session, owner, other_one = placed(cluster)
    control(cluster, session, "step", {"steps": 37})
    # SIGTERM long before its next periodic snapshot: the last one is made as it stops
    owner.stop()
    assert step_of(cluster, session) == 37
    assert cluster.owner(session["id"]) is other_one


def test_delivery_resumes_after_redis_restarts(cluster):
    session, _, elsewhere = placed(cluster)

    async def restart():
        remote = await playing(cluster, session, elsewhere)
        saved = httpx.post(f"{cluster.nginx.base}/api/sessions/{session['id']}/save",
                           headers={"X-Control-Token": session["token"]}, timeout=60).json()
        cluster.redis.stop()
        await asyncio.sleep(1.5)
        cluster.redis.start()   # same port, same folder: the append-only file comes back
        # no app restarted: the owner publishes again, the other instance subscribes again
        await remote.frames_after(remote.step)
        await remote.close()
        kept = httpx.get(f"{elsewhere.base}/api/saved/{saved['code']}", timeout=30)
        assert kept.status_code == 200

    run_apart(restart)


def test_the_compose_nginx_configuration_is_valid(tmp_path):
    """deploy/nginx/nginx.conf as docker-compose.yml mounts it (its `user` and the upstream
    names aside, which only exist there) passes `nginx -t`."""
    deploy = ROOT / "deploy" / "nginx"
    site = tmp_path / "backprop"
    site.mkdir()
    for name in ("backprop.conf", "listen.inc"):
        (site / name).symlink_to(deploy / name)
    (site / "upstreams.inc").write_text(
        re.sub(r"server app\d+:8000", "server 127.0.0.1:9", (deploy / "upstreams.inc").read_text()))
    (tmp_path / "nginx.conf").write_text(
        re.sub(r"(?m)^user .*$", "", (deploy / "nginx.conf").read_text()))
    checked = subprocess.run(
        [binary("nginx"), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-g", f"pid {tmp_path / 'pid'}; error_log {tmp_path / 'error.log'};"],
        capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
