"""Several instances behind nginx, Redis between them (BACKPROP_REDIS_URL).

nginx (deploy/nginx/backprop.conf) sends every request for a session to the instance that
its consistent hash of the session id picks, the owner; a new session's id is nginx's
request id, hashed the same way, so it is made where its requests will go. Followers' streams
go round-robin: an instance with followers of a session it does not own subscribes to the
session's channel and fans the parcels out; the owner publishes each outcome once.

The owner snapshots its sessions (the export, which replays bit for bit) every
BACKPROP_SNAPSHOT_SECONDS. When it dies, nginx's hash moves its sessions to the others, which
restore them from the snapshot on the first request for them; when it comes back, it takes
them back the same way, and the instance that had them lets them go (its next snapshot is
refused) while its followers stay, now fed through Redis.

Races are handled alike, a race whole (app/cluster/races.py): keyed "race:<id>" in Redis, in
the follower counts and on the channels, its lanes going wherever it goes.

Without BACKPROP_REDIS_URL none of this is loaded: one instance, in-process delivery, SQLite.
"""

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from urllib.parse import urlsplit

from fastapi import WebSocket

from app.cluster import bus as buses
from app.cluster.races import ClusterRaces
from app.cluster.redis_state import RedisSaved, SharedState, blocking_client
from app.cluster.shared_loop import (
    RACE,
    ClusterFeed,
    ClusterFeeds,
    ClusterHub,
    ClusterRouting,
    SharedSessionStore,
    ask_channel,
    channel,
    home,
)
from app.crossing import Export, Play
from app.loop import following
from app.loop.store import Handle, token_digest

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0          # follower counts exchanged this often
JOIN_GRACE_SECONDS = 3 * TICK_SECONDS   # a join answered: its instance's count is in Redis by then
ASK_SECONDS = 5.0           # a remote follower's join waits this long for the owner
POKE_SECONDS = 2.0          # a session whose owner died: nginx asked to restore it this often
STOP_SNAPSHOT_SECONDS = 5.0 # a stopping instance's last snapshots, at most this long


class Cluster:
    """What this instance owns, restores, snapshots and follows, and what it tells the
    others (see the module's docstring)."""

    def __init__(self, settings, store: SharedSessionStore, hub: ClusterHub,
                 feeds: ClusterFeeds, state: SharedState) -> None:
        self.settings, self.store, self.hub, self.feeds = settings, store, hub, feeds
        self.state, self.bus, self.me = state, feeds.bus, state.me
        self.races: ClusterRaces | None = None   # made by races_class
        # By key (a session's id, or RACE and a race's id):
        self.local: dict[str, int] = {}     # followers on this instance
        self.remote: dict[str, int] = {}    # followers elsewhere, of what is owned here
        self.answered: dict[str, float] = {}   # when a join from elsewhere was last answered
        self.snapped: dict[str, tuple] = {}  # (checkpoints, when) of each last snapshot
        self.keep: set[str] = set()         # ending here, not for good: keep its snapshot
        self.restoring: dict[str, asyncio.Task] = {}
        self.waiting: dict[str, asyncio.Future] = {}   # remote joins, by nonce
        self.tasks: list[asyncio.Task] = []
        self.restored = 0
        self.router = urlsplit(settings.router_url) if settings.router_url else None
        self.poked: dict[str, float] = {}

    # --- lifetime ---------------------------------------------------------------------

    def start(self) -> None:
        self.bus.start()
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._tick()), loop.create_task(self._snapshots())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        # A stopping instance (a deploy, a scale-down) hands over its sessions whole.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.snapshot_all(force=True), STOP_SNAPSHOT_SECONDS)
        await self.bus.stop()   # closes the asyncio client the shared state uses too
        self.state.blocking.close()

    @property
    def races_class(self):
        """What main.py makes its races with: ClusterRaces, known to this cluster."""
        def make(hub, store, settings) -> ClusterRaces:
            self.races = ClusterRaces(hub, store, settings, self)
            return self.races
        return make

    def _here(self, key: str):
        """The session (Handle) or race this instance has under `key`, if any."""
        if key.startswith(RACE):
            return self.races.get(key.removeprefix(RACE))
        return self.store.get(key)

    # --- owning -----------------------------------------------------------------------

    async def owned(self, handle: Handle) -> None:
        """A session made or restored here: claim it, snapshot it at once (a request may go
        to another instance next), answer joins for it, feed its followers from here. A race's
        lane: its race is claimed and snapshotted (race_owned)."""
        if handle.race is None:
            await self._claim(handle.id)
        self.bus.unsubscribe(channel(handle.id))   # followers here were fed through Redis
        await self.bus.subscribed(ask_channel(handle.id))   # joins from elsewhere answered
        self.feeds.of(handle)
        self._recount(handle.id)
        if handle.race is None:
            await self.snapshot(handle)

    async def race_owned(self, race) -> None:
        """A race made or restored here, its lanes opened: as owned() for a session."""
        key = RACE + race.id
        await self._claim(key)
        self.bus.unsubscribe(channel(key))
        await self.bus.subscribed(ask_channel(key))
        self.races.feeds.of(race)
        self._recount(key)
        if race.home is None:   # a lesson's race goes with its presentation: not restored
            await self.snapshot_race(race)

    async def _claim(self, key: str) -> None:
        try:
            await self.state.claim(key)
        except Exception as err:   # Redis away: it works here; shared once Redis is back
            log.error("%s: not claimed in Redis now: %s", key, err)

    async def restore(self, key: str) -> None:
        """nginx sent a request for a session or race this instance does not have: build it
        from its snapshot, if there is one (once, however many requests wait for it)."""
        if self._here(key) is not None:
            return
        task = self.restoring.get(key)
        if task is None:
            task = self.restoring[key] = asyncio.get_running_loop().create_task(
                self._restore(key))
            task.add_done_callback(lambda _: self.restoring.pop(key, None))
        await asyncio.shield(task)

    async def _restore(self, key: str) -> None:
        snapshot = await self.state.read(key)
        if snapshot is None or self._here(key) is not None:
            return
        if key.startswith(RACE):
            race_id = key.removeprefix(RACE)
            lanes = [lane_id for lane_id, _ in snapshot.lanes]
            self.keep.update(lanes)   # a failed restore must not end anything elsewhere
            try:
                await self.races.adopt(race_id, snapshot)
            finally:
                self.keep.difference_update(lanes)
        else:
            handle = self.store.adopt(key, snapshot.join_code, self.hub.place(),
                                      snapshot.digest)
            self.keep.add(key)   # a failed restore must not delete the snapshot
            try:
                await self.hub.open(handle, "export", snapshot.export)
            finally:
                self.keep.discard(key)
            if snapshot.status == "playing":
                await self.hub.control(handle, Play(snapshot.speed))
        self.restored += 1
        log.warning("%s %s restored here from %s's snapshot",
                    "race" if key.startswith(RACE) else "session", key.removeprefix(RACE),
                    snapshot.owner)

    def removing(self, ending):
        """store.on_remove: a session that ends here for good releases its shared records;
        one that moved to another instance keeps them, and its followers here stay."""
        def remove(handle: Handle) -> None:
            self.bus.unsubscribe(ask_channel(handle.id))
            self.snapped.pop(handle.id, None)
            self.remote.pop(handle.id, None)
            if handle.id in self.keep:
                self.hub.drop(handle)
                feed = self.feeds.feeds.get(handle.id)
                if feed is not None:
                    feed.owned = False
                    if feed.followers:
                        self.bus.subscribe(channel(handle.id))
                    else:
                        self.feeds.feeds.pop(handle.id)
                return
            ending(handle)
            if handle.race is None:   # a lane's records go with its race's (released)
                self.released(handle.id, {handle.join_code: handle.id})
        return remove

    def released(self, key: str, codes: dict[str, str]) -> None:
        """`key` ended for good: its shared records (`codes`: join code -> id) go."""
        asyncio.get_running_loop().create_task(self._release(key, codes))

    async def _release(self, key: str, codes: dict[str, str]) -> None:
        try:
            await self.state.release(key, codes)
        except Exception as err:
            log.error("%s ended; its shared records stay until they expire: %s", key, err)

    # --- snapshots --------------------------------------------------------------------

    async def _snapshots(self) -> None:
        while True:
            await asyncio.sleep(self.settings.snapshot_seconds)
            try:
                await self.snapshot_all()
            except Exception:
                log.exception("snapshots failed")

    async def snapshot_all(self, force: bool = False) -> None:
        """Each session whose state changed since its last snapshot; each other one when
        its shared records near their expiry (a paused session followed for hours keeps
        its join code)."""
        def due(key: str, checkpoints: list) -> bool:
            done, at = self.snapped.get(key, ((), 0.0))
            changed = len(done) != len(checkpoints) or any(
                a is not b for a, b in zip(done, checkpoints, strict=False))
            return force or changed or at < stale

        stale = time.monotonic() - self.state.ttl / 3
        for handle in list(self.store.sessions.values()):
            if handle.race is None and due(handle.id, [handle.checkpoint]):
                await self.snapshot(handle)
        for race in list(self.races.races.values()):
            if race.home is None and due(RACE + race.id, [h.checkpoint for h in race.lanes]):
                await self.snapshot_race(race)

    async def snapshot(self, handle: Handle) -> None:
        """The session's export, made in its worker, kept in Redis, if it is still ours."""
        async def write() -> bool:
            export = await self.hub.read(handle, Export())
            return await self.state.write(
                handle.id, export, handle.digest or token_digest(handle.token),
                {handle.join_code: handle.id}, handle.status, handle.speed)

        def let_go() -> None:
            self.keep.add(handle.id)
            try:
                self.store.remove(handle.id)
            finally:
                self.keep.discard(handle.id)

        await self._snapshot(handle.id, [handle.checkpoint],
                             lambda: self.store.get(handle.id) is handle, write, let_go)

    async def snapshot_race(self, race) -> None:
        """The race's export (every lane's, made in their worker), kept in Redis, if it is
        still ours."""
        async def write() -> bool:
            export = await self.races.export(race)
            return await self.state.write(
                RACE + race.id, export, race.digest or token_digest(race.token),
                {h.join_code: h.id for h in race.lanes}, race.status, race.speed,
                lanes=[[h.id, h.join_code] for h in race.lanes])

        await self._snapshot(RACE + race.id, [h.checkpoint for h in race.lanes],
                             lambda: self.races.get(race.id) is race, write,
                             lambda: self.races.let_go(race))

    async def _snapshot(self, key: str, checkpoints: list, live, write, let_go) -> None:
        """write() a snapshot; when another instance owns `key` now, let_go() of it here."""
        try:
            mine = await write()
        except Exception as err:   # Redis away, or it ended meanwhile
            if live():
                log.error("%s: no snapshot now: %s", key, err)
            return
        if not mine and live():
            log.warning("%s is owned by another instance now; let go here", key)
            let_go()
            return
        self.snapped[key] = (checkpoints, time.monotonic())

    # --- followers ----------------------------------------------------------------------

    def _feeds(self, key: str) -> tuple[ClusterFeeds, str]:
        """The feeds that hold `key`'s feed, and its name there."""
        if key.startswith(RACE):
            return self.races.feeds, key.removeprefix(RACE)
        return self.feeds, key

    async def follow_race(self, websocket: WebSocket, race_id: str) -> None:
        """The race's stream on an instance that does not have the race."""
        await self.follow(websocket, RACE + race_id)

    async def follow(self, websocket: WebSocket, key: str) -> None:
        """The stream route behind nginx: followers of any session (or race) on any
        instance."""
        await websocket.accept()
        feeds, name = self._feeds(key)
        handle = self.store.get(key) if feeds is self.feeds else None
        if handle is not None:
            feed = feeds.of(handle)
            def joined():
                return following.joined(self.hub, handle, feed)
        elif feeds is not self.feeds and self.races.get(name) is not None:
            # restored here since the route looked: its own route follows it
            await websocket.close(code=1013, reason="the race is here now; reconnect")
            return
        else:
            feed = feeds.named(name)
            if not feed.owned:   # before asking: no frame after the join's state is missed
                self.bus.subscribe(feed.channel)
            if feed.joining is None or feed.joining.done():   # one ask for a class joining
                feed.joining = asyncio.ensure_future(self._ask_join(key))
            parcel = await asyncio.shield(feed.joining)
            if parcel is None:
                # Nobody trains it now: gone for good, or its owner died and nginx has not
                # sent a request for it to another instance yet (the page retries).
                if await self._snapshot_exists(key):
                    self._poke(key)
                    await websocket.close(code=1013, reason="the session is moving; reconnect")
                else:
                    gone = "race" if key.startswith(RACE) else "session"
                    await websocket.close(code=4404, reason=f"no such {gone}")
                if not (feed.followers or feed.owned) and feeds.feeds.get(name) is feed:
                    self.bus.unsubscribe(feed.channel)
                    del feeds.feeds[name]
                return
            async def joined():
                return parcel
        if self.local.get(key, 0) + self.remote.get(key, 0) >= self.settings.max_followers:
            await websocket.close(code=4429, reason="this session has its maximum of followers")
            return
        self.local[key] = self.local.get(key, 0) + 1
        self._recount(key)
        try:
            await following.relay(websocket, feed, joined)
        finally:
            self.local[key] -= 1
            self._recount(key)
            if not feed.followers and not feed.owned:
                self.bus.unsubscribe(feed.channel)
                if feeds.feeds.get(name) is feed:
                    del feeds.feeds[name]

    def _poke(self, key: str) -> None:
        """A request for it through nginx (BACKPROP_ROUTER_URL), so that the instance its
        hash picks restores it now: its followers must not wait for the teacher's next
        click. Once per key every POKE_SECONDS."""
        now = time.monotonic()
        if self.router is None or now - self.poked.get(key, -POKE_SECONDS) < POKE_SECONDS:
            return
        self.poked[key] = now
        for old in [s for s, at in self.poked.items() if now - at > POKE_SECONDS]:
            del self.poked[old]
        path = (f"/api/races/{key.removeprefix(RACE)}" if key.startswith(RACE)
                else f"/api/sessions/{key}")   # a lane's restores its race
        asyncio.get_running_loop().create_task(self._request(path))

    async def _request(self, path: str) -> None:
        """GET path through nginx; only its status line is read."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                self.router.hostname, self.router.port or (443 if self.router.scheme ==
                                                           "https" else 80),
                ssl=self.router.scheme == "https"), ASK_SECONDS)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.router.netloc}\r\n"
                         "Connection: close\r\n\r\n".encode())
            status = await asyncio.wait_for(reader.readline(), 30)
            writer.close()
            log.warning("asked nginx for %s: %s", path, status.decode().strip())
        except (OSError, TimeoutError) as err:
            log.error("could not ask nginx (%s) for %s: %s", self.router.geturl(), path, err)

    async def _snapshot_exists(self, key: str) -> bool:
        try:
            return await self.state.read(home(key)) is not None
        except Exception:
            return True   # Redis away: say "reconnect", not "gone"

    async def _ask_join(self, key: str) -> buses.Parcel | None:
        """What a new follower needs, from the owner through Redis."""
        reply = await self._ask(key, "join")
        return buses.unpack(reply) if reply is not None else None

    async def _ask(self, key: str, op: str) -> bytes | None:
        """The owner's answer to `op` (ANSWERS) through Redis; None: nobody answered."""
        nonce = secrets.token_hex(8)
        future = self.waiting[nonce] = asyncio.get_running_loop().create_future()
        try:
            if await self.bus.ask(ask_channel(key), f"{self.me} {nonce} {op}".encode()) == 0:
                return None
            return await asyncio.wait_for(future, ASK_SECONDS)
        except Exception:
            return None
        finally:
            self.waiting.pop(nonce, None)

    async def export_of(self, session_id: str) -> dict | None:
        """A session's export wherever it lives (a copy is made where its own id hashes):
        from its worker here, from its owner through Redis, or, its owner dead, from its
        last snapshot (a lane's from its race's). None: no such session."""
        handle = self.store.get(session_id)
        if handle is not None:
            return await self.hub.export(handle)
        reply = await self._ask(session_id, "export")
        if reply is not None:
            return json.loads(reply)
        try:
            snapshot = await self.state.read(home(session_id))
        except Exception:
            return None
        if snapshot is None:
            return None
        export = json.loads(snapshot.export)
        if snapshot.lanes is None:
            return export
        lanes = [lane_id for lane_id, _ in snapshot.lanes]
        return export["lanes"][lanes.index(session_id)] if session_id in lanes else None

    async def _answer(self, key: str, instance: str, nonce: str, op: str) -> None:
        found = self._here(key)
        if found is not None:
            reply = await ANSWERS[op](self, key, found)
            self.bus.publish(f"bp:i:{instance}", nonce.encode() + b"\n" + reply)

    async def _answer_export(self, key: str, handle: Handle) -> bytes:
        return json.dumps(await self.hub.export(handle)).encode()

    async def _answer_join(self, key: str, found) -> bytes:
        # Counted before the join: the frames after it are encoded and published for it.
        self.remote[key] = self.remote.get(key, 0) + 1
        self.answered[key] = time.monotonic()
        self._recount(key)
        if key.startswith(RACE):
            outcome = await self.races.joined(found)
        else:
            outcome = await following.joined(self.hub, found, self.feeds.of(found))
        return buses.pack(outcome.messages, outcome.span)

    def on_message(self, name: str, data: bytes) -> None:
        if name == self.bus.inbox:
            nonce, _, parcel = data.partition(b"\n")
            future = self.waiting.get(nonce.decode())
            if future is not None and not future.done():
                future.set_result(parcel)
        elif name.startswith("bp:ask:"):
            instance, nonce, op = data.decode().split()
            key = name.removeprefix("bp:ask:")
            if op in ANSWERS and (op == "join" or not key.startswith(RACE)):
                asyncio.get_running_loop().create_task(self._answer(key, instance, nonce, op))
        else:
            feeds, key = self._feeds(name.removeprefix("bp:s:"))
            feed = feeds.feeds.get(key)
            if feed is not None and not feed.owned:
                feed.deliver(buses.unpack(data))

    def on_reconnect(self) -> None:
        """Redis came back: what remote followers missed meanwhile may include a new
        structure, so each gets a fresh state from its owner."""
        for feeds in (self.feeds, self.races.feeds):
            for name, feed in list(feeds.feeds.items()):
                if not feed.owned and feed.followers:
                    asyncio.get_running_loop().create_task(
                        self._refresh(feeds.prefix + name, feed))

    async def _refresh(self, key: str, feed: ClusterFeed) -> None:
        parcel = await self._ask_join(key)
        if parcel is not None:
            feed.deliver(parcel)

    def _recount(self, key: str) -> None:
        """Tell what is owned here how many follow it: a session its own followers (a lane
        its race's too); a race those on other instances, and those here that joined
        before it was (those who joined since count themselves, app/loop/races.py Races.join)."""
        found = self._here(key)
        if found is None:
            return
        remote = self.remote.get(key, 0)
        if key.startswith(RACE):
            found.remote = remote + self.local.get(key, 0)
            self.races.feeds.of(found).remote = remote
            for handle in found.lanes:
                self._recount(handle.id)
            return
        race = self.races.get(found.race) if found.race else None
        racing = race.watchers + race.remote if race is not None else 0
        found.watched(self.local.get(key, 0) + remote + racing)
        self.feeds.of(found).remote = remote

    def _counted(self, reported: dict[str, int]) -> None:
        """Take the counts other instances reported, except one lower than this instance's
        own just after it answered a join: the joining instance reports it at its next tick,
        and until then its follower would miss frames (and a new state), never published."""
        now = time.monotonic()
        for key, count in reported.items():
            if now - self.answered.get(key, -JOIN_GRACE_SECONDS) < JOIN_GRACE_SECONDS:
                count = max(count, self.remote.get(key, 0))
            self.remote[key] = count
        for key in [k for k, at in self.answered.items() if now - at >= JOIN_GRACE_SECONDS]:
            del self.answered[key]

    async def _tick(self) -> None:
        """Each second: tell owners how many followers this instance has of what they own,
        and learn how many other instances have of what this one owns."""
        reported: set[str] = set()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                elsewhere = {k: n for k, n in self.local.items() if self._here(k) is None}
                counts = {k: n for k, n in elsewhere.items() if n or k in reported}
                if counts:
                    await self.state.report(counts)
                reported = {k for k, n in counts.items() if n}
                for k in [k for k, n in self.local.items() if n == 0]:
                    del self.local[k]
                owned = [*self.store.sessions, *(RACE + r for r in self.races.races)]
                if owned:
                    self._counted(await self.state.remote_followers(owned))
                    for key in owned:
                        self._recount(key)
            except Exception as err:
                log.error("follower counts not exchanged: %s", err)


# What an owner answers through Redis (Cluster._ask): a follower's join, a session's export.
ANSWERS = {"join": Cluster._answer_join, "export": Cluster._answer_export}


def install(app) -> None:
    """Swap the embedded store, feeds, hub and saves for their shared versions (the app sets
    the store's on_remove through Cluster.removing once the races and lessons are made)."""
    settings = app.state.settings
    me = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    cluster: Cluster | None = None

    def on_message(name, data):
        cluster.on_message(name, data)

    def on_reconnect():
        cluster.on_reconnect()

    bus = buses.RedisBus(settings.redis_url, f"bp:i:{me}", on_message, on_reconnect)
    blocking = blocking_client(settings.redis_url)
    state = SharedState(bus.client, blocking, me,
                        settings.session_idle_seconds + 10 * settings.snapshot_seconds)
    store = SharedSessionStore(settings.max_sessions, settings.session_idle_seconds,
                               settings.eviction_grace_seconds, settings.sessions_per_address)
    store.shared = state
    feeds = ClusterFeeds(bus, settings.fanout_rate)
    hub = ClusterHub(settings, store, feeds)
    cluster = hub.cluster = Cluster(settings, store, hub, feeds, state)
    app.state.store, app.state.feeds, app.state.hub = store, feeds, hub
    app.state.saved = RedisSaved(blocking)
    app.state.saved_races = RedisSaved(blocking, "saved-race")
    app.state.cluster = cluster
    app.add_middleware(ClusterRouting, cluster=cluster)
