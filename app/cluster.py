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

Without BACKPROP_REDIS_URL none of this is loaded: one instance, in-process delivery, SQLite.
"""

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from urllib.parse import urlsplit

from fastapi import WebSocket

from app import bus as buses
from app.clustered import (
    ClusterFeed,
    ClusterFeeds,
    ClusterHub,
    ClusterRouting,
    SharedSessionStore,
    ask_channel,
    channel,
)
from app.routes.stream import _joined, relay
from app.shared import RedisSaved, SharedState, blocking_client
from app.store import Handle

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0          # follower counts exchanged this often
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
        self.local: dict[str, int] = {}     # followers on this instance, by session
        self.remote: dict[str, int] = {}    # followers elsewhere, of sessions owned here
        self.snapped: dict[str, tuple] = {}  # (checkpoint, when) of each last snapshot
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

    # --- owning -----------------------------------------------------------------------

    async def owned(self, handle: Handle) -> None:
        """A session made or restored here: claim it, snapshot it at once (a request may go
        to another instance next), answer joins for it, feed its followers from here."""
        try:
            await self.state.claim(handle.id)
        except Exception as err:   # Redis away: the session works here; shared once it is back
            log.error("session %s: not claimed in Redis now: %s", handle.id, err)
        self.bus.unsubscribe(channel(handle.id))   # followers here were fed through Redis
        await self.bus.subscribed(ask_channel(handle.id))   # joins from elsewhere answered
        self.feeds.of(handle)
        self._recount(handle.id)
        await self.snapshot(handle)

    async def restore(self, session_id: str) -> None:
        """nginx sent a request for a session this instance does not have: build it from its
        snapshot, if there is one (once, however many requests wait for it)."""
        if self.store.get(session_id) is not None:
            return
        task = self.restoring.get(session_id)
        if task is None:
            task = self.restoring[session_id] = asyncio.get_running_loop().create_task(
                self._restore(session_id))
            task.add_done_callback(lambda _: self.restoring.pop(session_id, None))
        await asyncio.shield(task)

    async def _restore(self, session_id: str) -> None:
        snapshot = await self.state.read(session_id)
        if snapshot is None or self.store.get(session_id) is not None:
            return
        handle = self.store.adopt(session_id, snapshot.token, snapshot.join_code,
                                  self.hub.place())
        self.keep.add(session_id)   # a failed restore must not delete the snapshot
        try:
            await self.hub.open(handle, "export", snapshot.export)
        finally:
            self.keep.discard(session_id)
        if snapshot.status == "playing":
            await self.hub.control(handle, "play", speed=snapshot.speed)
        self.restored += 1
        log.warning("session %s restored here from %s's snapshot", session_id, snapshot.owner)

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
            asyncio.get_running_loop().create_task(self._release(handle))
        return remove

    async def _release(self, handle: Handle) -> None:
        try:
            await self.state.release(handle.id, handle.join_code)
        except Exception as err:
            log.error("session %s ended; its shared records stay until they expire: %s",
                      handle.id, err)

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
        stale = time.monotonic() - self.state.ttl / 3
        for handle in list(self.store.sessions.values()):
            checkpoint, at = self.snapped.get(handle.id, (None, 0.0))
            if force or checkpoint is not handle.checkpoint or at < stale:
                await self.snapshot(handle)

    async def snapshot(self, handle: Handle) -> None:
        """The session's export, made in its worker, kept in Redis, if it is still ours."""
        checkpoint = handle.checkpoint
        try:
            export = await self.hub.read(handle, "export")
            mine = await self.state.write(handle.id, export, handle.token, handle.join_code,
                                          handle.status, handle.speed)
        except Exception as err:   # Redis away, or the session ended meanwhile
            if self.store.get(handle.id) is handle:
                log.error("session %s: no snapshot now: %s", handle.id, err)
            return
        if not mine and self.store.get(handle.id) is handle:
            log.warning("session %s is owned by another instance now; let go here", handle.id)
            self.keep.add(handle.id)
            try:
                self.store.remove(handle.id)
            finally:
                self.keep.discard(handle.id)
            return
        self.snapped[handle.id] = (checkpoint, time.monotonic())

    # --- followers ----------------------------------------------------------------------

    async def follow(self, websocket: WebSocket, session_id: str) -> None:
        """The stream route behind nginx: followers of any session on any instance."""
        await websocket.accept()
        handle = self.store.get(session_id)
        if handle is not None:
            feed = self.feeds.of(handle)
            def joined():
                return _joined(self.hub, handle, feed)
        else:
            feed = self.feeds.named(session_id)
            if not feed.owned:   # before asking: no frame after the join's state is missed
                self.bus.subscribe(feed.channel)
            if feed.joining is None or feed.joining.done():   # one ask for a class joining
                feed.joining = asyncio.ensure_future(self._ask_join(session_id))
            parcel = await asyncio.shield(feed.joining)
            if parcel is None:
                # Nobody trains it now: gone for good, or its owner died and nginx has not
                # sent a request for it to another instance yet (the page retries).
                if await self._snapshot_exists(session_id):
                    self._poke(session_id)
                    await websocket.close(code=1013, reason="the session is moving; reconnect")
                else:
                    await websocket.close(code=4404, reason="no such session")
                if not (feed.followers or feed.owned) and self.feeds.feeds.get(session_id) is feed:
                    self.bus.unsubscribe(feed.channel)
                    del self.feeds.feeds[session_id]
                return
            async def joined():
                return parcel
        if self.local.get(session_id, 0) + self.remote.get(session_id, 0) >= \
                self.settings.max_followers:
            await websocket.close(code=4429, reason="this session has its maximum of followers")
            return
        self.local[session_id] = self.local.get(session_id, 0) + 1
        self._recount(session_id)
        try:
            await relay(websocket, feed, joined)
        finally:
            self.local[session_id] -= 1
            self._recount(session_id)
            if not feed.followers and not feed.owned:
                self.bus.unsubscribe(feed.channel)
                if self.feeds.feeds.get(session_id) is feed:
                    del self.feeds.feeds[session_id]

    def _poke(self, session_id: str) -> None:
        """A request for the session through nginx (BACKPROP_ROUTER_URL), so that the
        instance its hash picks restores it now: its followers must not wait for the
        teacher's next click. Once per session every POKE_SECONDS."""
        now = time.monotonic()
        if self.router is None or now - self.poked.get(session_id, -POKE_SECONDS) < POKE_SECONDS:
            return
        self.poked[session_id] = now
        for old in [s for s, at in self.poked.items() if now - at > POKE_SECONDS]:
            del self.poked[old]
        asyncio.get_running_loop().create_task(self._request(f"/api/sessions/{session_id}"))

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

    async def _snapshot_exists(self, session_id: str) -> bool:
        try:
            return await self.state.read(session_id) is not None
        except Exception:
            return True   # Redis away: say "reconnect", not "gone"

    async def _ask_join(self, session_id: str) -> buses.Parcel | None:
        """What a new follower needs, from the session's owner through Redis."""
        nonce = secrets.token_hex(8)
        future = self.waiting[nonce] = asyncio.get_running_loop().create_future()
        try:
            if await self.bus.ask(ask_channel(session_id), f"{self.me} {nonce}".encode()) == 0:
                return None
            return await asyncio.wait_for(future, ASK_SECONDS)
        except Exception:
            return None
        finally:
            self.waiting.pop(nonce, None)

    async def _answer_join(self, session_id: str, instance: str, nonce: str) -> None:
        handle = self.store.get(session_id)
        if handle is None:
            return
        # Counted before the join: the frames after it are encoded and published for it.
        self.remote[session_id] = self.remote.get(session_id, 0) + 1
        self._recount(session_id)
        outcome = await _joined(self.hub, handle, self.feeds.of(handle))
        reply = nonce.encode() + b"\n" + buses.pack(outcome.messages, outcome.span)
        self.bus.publish(f"bp:i:{instance}", reply)

    def on_message(self, name: str, data: bytes) -> None:
        if name == self.bus.inbox:
            nonce, _, parcel = data.partition(b"\n")
            future = self.waiting.get(nonce.decode())
            if future is not None and not future.done():
                future.set_result(buses.unpack(parcel))
        elif name.startswith("bp:ask:"):
            instance, nonce = data.decode().split()
            asyncio.get_running_loop().create_task(
                self._answer_join(name.removeprefix("bp:ask:"), instance, nonce))
        else:
            feed = self.feeds.feeds.get(name.removeprefix("bp:s:"))
            if feed is not None and not feed.owned:
                feed.deliver(buses.unpack(data))

    def on_reconnect(self) -> None:
        """Redis came back: what remote followers missed meanwhile may include a new
        structure, so each gets a fresh state from its session's owner."""
        for session_id, feed in list(self.feeds.feeds.items()):
            if not feed.owned and feed.followers:
                asyncio.get_running_loop().create_task(self._refresh(session_id, feed))

    async def _refresh(self, session_id: str, feed: ClusterFeed) -> None:
        parcel = await self._ask_join(session_id)
        if parcel is not None:
            feed.deliver(parcel)

    def _recount(self, session_id: str) -> None:
        handle = self.store.get(session_id)
        if handle is not None:
            remote = self.remote.get(session_id, 0)
            handle.watched(self.local.get(session_id, 0) + remote)
            self.feeds.of(handle).remote = remote

    async def _tick(self) -> None:
        """Each second: tell owners how many followers this instance has of their sessions,
        and learn how many other instances have of this one's."""
        reported: set[str] = set()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                elsewhere = {s: n for s, n in self.local.items() if self.store.get(s) is None}
                counts = {s: n for s, n in elsewhere.items() if n or s in reported}
                if counts:
                    await self.state.report(counts)
                reported = {s for s, n in counts.items() if n}
                for s in [s for s, n in self.local.items() if n == 0]:
                    del self.local[s]
                owned = list(self.store.sessions)
                if owned:
                    self.remote.update(await self.state.remote_followers(owned))
                    for session_id in owned:
                        self._recount(session_id)
            except Exception as err:
                log.error("follower counts not exchanged: %s", err)


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
                               settings.eviction_grace_seconds)
    store.shared = state
    feeds = ClusterFeeds(bus)
    hub = ClusterHub(settings, store, feeds)
    cluster = hub.cluster = Cluster(settings, store, hub, feeds, state)
    app.state.store, app.state.feeds, app.state.hub = store, feeds, hub
    app.state.saved = RedisSaved(blocking)
    app.state.cluster = cluster
    app.add_middleware(ClusterRouting, cluster=cluster)
