"""The embedded store, feeds and hub in their shared versions, and the middleware that
routes a request nginx sent for a session this instance lacks (app/cluster/instance.py wires them).

The store claims join codes and new ids in Redis; a feed that owns its session also sends
what it publishes to Redis, once, for followers on other instances, and one that does not
takes it from there; the hub tells the cluster when a session is made or restored here.
"""

import contextvars
import logging
import re
import secrets
from dataclasses import dataclass

from fastapi.responses import JSONResponse

from app.cluster import bus as buses
from app.cluster.redis_state import SharedState
from app.crossing import Question
from app.loop.feeds import MOVED, Feed, Feeds
from app.loop.hub import Hub
from app.loop.store import Handle, SessionStore, StoreFull
from app.worker import process as work

log = logging.getLogger(__name__)

NEW_ID_HEADER = "x-backprop-new-session"   # set by nginx on the routes that make a session
NEW_ID = re.compile(r"[0-9a-f]{32}")      # nginx's $request_id
# The routes nginx hashes by the id in their path (the streams are not among them): a
# session's, a lane's ("<race id>.<n>"), a race's.
SESSION_PATH = re.compile(
    r"^/(?:api/sessions|watch|fragments/share)/(?!import$)([A-Za-z0-9_.-]{8,100})(?:/[^/]*)?$"
)
RACE_PATH = re.compile(r"^/(?:api/races|race)/([A-Za-z0-9_.-]{8,100})(?:/[^/]*)?$")
RACE = "race:"   # a race's key (in Redis, in follower counts) is this and its id
proposed_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("proposed_id",
                                                                         default=None)


def channel(key: str) -> str:
    return f"bp:s:{key}"


def ask_channel(key: str) -> str:
    return f"bp:ask:{key}"


def home(key: str) -> str:
    """What is snapshotted and restored for a key: a lane's race, else the key itself."""
    if key.startswith(RACE) or "." not in key:
        return key
    return RACE + key.rsplit(".", 1)[0]


def owned_path(path: str) -> str | None:
    """The key of what a request nginx hashed must find here (None: not hashed; a copy is
    hashed by its own new id, app/routes/own_copy.py)."""
    if path.endswith(("/stream", "/copy")):
        return None
    found = SESSION_PATH.match(path)
    if found:
        return home(found.group(1))
    found = RACE_PATH.match(path)
    return RACE + found.group(1) if found else None


@dataclass
class Elsewhere:
    """A session another instance owns, as a join code finds it: its id and watch link."""

    id: str

    @property
    def watch_url(self) -> str:
        return f"/watch/{self.id}"

    @property
    def race(self) -> str | None:
        """A lane's race ("<race id>.<n>"): its join code leads to the race page."""
        return self.id.rsplit(".", 1)[0] if "." in self.id else None


class SharedSessionStore(SessionStore):
    """The store with join codes shared through Redis and new ids proposed by nginx."""

    shared: SharedState

    def _new_id(self) -> str:
        wanted = proposed_id.get()
        if wanted and wanted not in self.sessions and self.shared.claim_new(wanted):
            return wanted
        return super()._new_id()

    def _new_code(self, session_id: str) -> str:
        while True:
            code = super()._new_code(session_id)
            if self.shared.claim_code(code, session_id) is not False:
                return code

    def by_code(self, code: str) -> Handle | Elsewhere | None:
        found = super().by_code(code)
        if found is not None:
            return found
        session_id = self.shared.session_of(code.strip().upper())
        return Elsewhere(session_id) if session_id else None

    def adopt(self, session_id: str, join_code: str, worker: int,
              digest: str | None = None) -> Handle:
        """A session (or a race's lane) restored here from its snapshot: same id and join
        code, its token checked by the digest the snapshot kept (a lane's token is never
        given out: a new one)."""
        self._make_room()
        return self.add(Handle(id=session_id, token="" if digest else secrets.token_urlsafe(24),
                               join_code=join_code, worker=worker, digest=digest))


class ClusterFeed(Feed):
    """A session's followers on this instance. Owned (the session trains here): what it
    publishes goes to Redis too, once, when other instances have followers of it. Not
    owned: parcels from Redis come in through `deliver`."""

    def __init__(self, bus: buses.RedisBus, key: str, fanout_rate: float) -> None:
        super().__init__(fanout_rate)
        self.bus, self.channel = bus, channel(key)
        self.owned = False
        self.remote = 0     # followers other instances have (owned only)

    def publish(self, outcome) -> None:
        super().publish(outcome)
        if self.owned and self.remote and outcome.messages:
            self.bus.publish(self.channel, buses.pack(outcome.messages, outcome.span))

    def deliver(self, parcel: buses.Parcel) -> None:
        if "end" in parcel.messages:
            self.end()
        else:
            super().publish(parcel)

    def moved(self) -> None:
        for follower in self.followers:
            follower.tell("end", MOVED)


class ClusterFeeds(Feeds):
    """Sessions' feeds, or (prefix RACE) races': by id, on the channel of their key."""

    def __init__(self, bus: buses.RedisBus, fanout_rate: float, prefix: str = "") -> None:
        super().__init__(fanout_rate)
        self.bus, self.prefix = bus, prefix

    def named(self, session_id: str) -> ClusterFeed:
        feed = self.feeds.get(session_id)
        if feed is None:
            feed = self.feeds[session_id] = ClusterFeed(self.bus, self.prefix + session_id,
                                                          self.fanout_rate)
        return feed

    def of(self, handle) -> ClusterFeed:
        feed = self.named(handle.id)
        feed.owned = True
        return feed

    def discard(self, handle) -> None:
        feed = self.feeds.pop(handle.id, None)
        if feed is not None:
            feed.end()
            if feed.owned and feed.remote:   # other instances' followers hear it too
                self.bus.publish(feed.channel, buses.pack({"end": "end"}, None))

    def end_all(self) -> None:
        """This instance stops: its followers reconnect (to another instance), not end."""
        for feed in self.feeds.values():
            feed.moved()
        self.feeds.clear()


class ClusterHub(Hub):
    """The hub, telling the cluster when a session is made here and when it starts/stops."""

    cluster: object   # this instance's Cluster (app/cluster/instance.py install sets it)

    async def start(self) -> None:
        await super().start()
        self.cluster.start()

    async def stop(self) -> None:
        await self.cluster.stop()
        await super().stop()

    async def open(self, handle: Handle, source: str, data) -> object:
        outcome = await super().open(handle, source, data)
        await self.cluster.owned(handle)
        return outcome

    async def read(self, handle: Handle, question: Question) -> bytes:
        """A read's bytes (an export for a snapshot), made in the session's worker."""
        outcome = await self.call(handle, work.call, handle.id, question, handle.followers, False)
        return outcome.body


class ClusterRouting:
    """ASGI middleware: a request nginx sent here for a session this instance does not
    have restores it from its snapshot first; a request that makes a session takes the
    id nginx hashed it by."""

    def __init__(self, app, cluster) -> None:
        self.app, self.cluster = app, cluster

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        key = owned_path(scope["path"])
        if key is not None:
            try:
                await self.cluster.restore(key)
            except StoreFull as err:
                answer = JSONResponse({"detail": str(err)}, status_code=503,
                                      headers={"Retry-After": str(int(err.retry_after))})
                return await answer(scope, receive, send)
            except Exception:
                log.exception("%s could not be restored", key)
        wanted = dict(scope["headers"]).get(NEW_ID_HEADER.encode(), b"").decode()
        token = proposed_id.set(wanted if NEW_ID.fullmatch(wanted) else None)
        try:
            return await self.app(scope, receive, send)
        finally:
            proposed_id.reset(token)
