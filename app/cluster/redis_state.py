"""The shared store in Redis: join codes, saved sessions, snapshots of live sessions and
which instance owns each, so that any instance finds what another made.

Redis, not PostgreSQL: every record here is a blob under a key (no query, no join), the bus
needs Redis anyway, and one extra server is less to run than two. Saved sessions must
outlive a restart of Redis, so Redis runs with append-only persistence (deploy/redis.conf:
`appendonly yes`, fsync every second); `check` says so at start when it does not.

Keys (all under "bp:"; {key} is a session's id, or "race:" and a race's id):
  code:{CODE}       -> session id             a join code, while its session lives (a race's
                                              lanes have one each)
  saved:{code}      -> export JSON            a saved session, kept for good
  saved-race:{code} -> race JSON              a saved race, kept for good
  snap:{key}        -> hash                   the last snapshot: export (zlib), the control
                                              token's digest (never the token), join code,
                                              status, speed, when, by whom; a race's: its
                                              lanes' ids and join codes too
  owner:{key}       -> instance               who trains it; only the owner writes snap:{key}
  watch:{key}       -> hash instance -> "n t" followers an instance other than the owner has
"""

import asyncio
import json
import logging
import secrets
import time
import zlib
from dataclasses import dataclass

import redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from app.classroom.saved import CODE_ALPHABET, CODE_LENGTH, StorageUnavailable
from app.loop.store import token_digest

log = logging.getLogger(__name__)

WATCH_FRESH_SECONDS = 5.0   # a follower count older than this is from a gone instance

SNAPSHOT_LEVEL = 1   # zlib: most of an export is the loss history's digits (see bench/cluster.py)

# Write a snapshot only while this instance owns it (a newer owner took it over: 0, and this
# instance lets it go). Refreshes the lease, the snapshot and its join codes.
# KEYS: owner, snap, code…; ARGV: me, ttl, the number of codes n, the id each code names…,
# then the snapshot's fields and values.
SNAPSHOT = """
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 4 + n))
redis.call('EXPIRE', KEYS[2], ARGV[2])
for i = 1, n do
  local code = KEYS[2 + i]
  if redis.call('GET', code) == ARGV[3 + i] then redis.call('EXPIRE', code, ARGV[2]) end
end
return 1
"""

# What ends for good: its snapshot, lease, follower counts and join codes go, if still its
# owner's. KEYS: owner, snap, watch, code…; ARGV: me, the id each code names…
RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
for i = 4, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i - 2] then redis.call('DEL', KEYS[i]) end
end
return 1
"""


def code_key(code: str) -> str:
    return f"bp:code:{code}"


def owner_key(session_id: str) -> str:
    return f"bp:owner:{session_id}"


def snap_key(session_id: str) -> str:
    return f"bp:snap:{session_id}"


def watch_key(session_id: str) -> str:
    return f"bp:watch:{session_id}"


def blocking_client(url: str) -> redis.Redis:
    """For the few small reads and writes a request makes (a join code, a save): quick
    to fail when Redis is away, never a wait through backoffs in the event loop."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=1, socket_timeout=2, retry=Retry(NoBackoff(), 1),
    )


@dataclass
class Snapshot:
    export: bytes
    digest: str          # of the control token (app/loop/store.py token_digest)
    join_code: str
    status: str
    speed: float | None
    at: float            # when it was written (seconds since the epoch)
    owner: str
    lanes: list | None = None   # a race's: [lane id, join code] each


class RedisSaved:
    """Saved sessions (or, under "saved-race", races) in Redis, with app/classroom/saved.py's
    SavedSessions' three calls."""

    def __init__(self, client: redis.Redis, kind: str = "saved") -> None:
        self.client, self.kind = client, kind

    def check(self) -> str | None:
        try:
            self.client.ping()
            appendonly = self.client.config_get("appendonly").get("appendonly")
        except redis.ResponseError:   # CONFIG disabled (a managed Redis): trust it
            return None
        except RedisError as err:
            return f"Redis: {err}"
        if appendonly != "yes":
            log.warning("Redis runs without append-only persistence: saved sessions are lost "
                        "if Redis restarts (deploy/redis.conf sets appendonly yes)")
        return None

    def save(self, text: bytes) -> str:
        try:
            while True:
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                if self.client.set(f"bp:{self.kind}:{code}", text, nx=True):
                    return code
        except RedisError as err:
            raise StorageUnavailable(f"Redis: {err}") from err

    def load(self, code: str) -> dict | None:
        try:
            text = self.client.get(f"bp:{self.kind}:{code}")
        except RedisError as err:
            raise StorageUnavailable(f"Redis: {err}") from err
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError as err:
            raise StorageUnavailable(f"Redis: saved session {code!r} is damaged") from err


class SharedState:
    """Snapshots, leases and remote follower counts (asyncio), join codes (blocking: they
    are claimed while a session is created, a few hundred microseconds on a LAN)."""

    def __init__(self, client, blocking: redis.Redis, me: str, ttl: float) -> None:
        self.client, self.blocking, self.me = client, blocking, me
        self.ttl = max(60, int(ttl))
        self._snapshot = client.register_script(SNAPSHOT)
        self._release = client.register_script(RELEASE)

    # --- join codes and new ids (blocking) ------------------------------------------

    def claim_code(self, code: str, session_id: str) -> bool | None:
        """True: the code is this session's on every instance; False: taken; None: Redis
        is away (the code then works on this instance only)."""
        try:
            return bool(self.blocking.set(code_key(code), session_id, nx=True, ex=self.ttl))
        except RedisError as err:
            log.error("join code %s kept on this instance only: Redis: %s", code, err)
            return None

    def session_of(self, code: str) -> str | None:
        try:
            found = self.blocking.get(code_key(code))
        except RedisError as err:
            log.error("join code %s looked up on this instance only: Redis: %s", code, err)
            return None
        return found.decode() if found is not None else None

    def claim_new(self, session_id: str) -> bool:
        """Own a new id nobody has used (ids come from nginx for new sessions)."""
        try:
            return bool(self.blocking.set(owner_key(session_id), self.me, nx=True, ex=self.ttl))
        except RedisError:
            return False

    # --- snapshots and leases --------------------------------------------------------

    async def claim(self, session_id: str) -> None:
        """This instance owns it now (nginx sent its requests here)."""
        await self.client.set(owner_key(session_id), self.me, ex=self.ttl)

    async def write(self, key: str, export: bytes, digest: str, codes: dict[str, str],
                    status: str, speed: float | None, lanes: list | None = None) -> bool:
        """Keep a snapshot (`codes`: its join codes, each -> the id it names); False: another
        instance owns it now."""
        packed = await asyncio.to_thread(zlib.compress, export, SNAPSHOT_LEVEL)
        fields = {"export": packed, "digest": digest, "join_code": next(iter(codes)),
                  "status": status, "speed": "" if speed is None else repr(speed),
                  "at": repr(time.time()), "owner": self.me}
        if lanes is not None:
            fields["lanes"] = json.dumps(lanes)
        flat = [item for pair in fields.items() for item in pair]
        keys = [owner_key(key), snap_key(key), *map(code_key, codes)]
        args = [self.me, self.ttl, len(codes), *codes.values(), *flat]
        return bool(await self._snapshot(keys=keys, args=args))

    async def read(self, key: str) -> Snapshot | None:
        found = await self.client.hgetall(snap_key(key))
        if not found:
            return None
        text = {k.decode(): v for k, v in found.items()}
        speed = text["speed"].decode()
        if "digest" in text:
            export = await asyncio.to_thread(zlib.decompress, text["export"])
            digest = text["digest"].decode()
        else:   # written before digests and compression (a rolling upgrade hands it over)
            export, digest = text["export"], token_digest(text["token"])
        return Snapshot(
            export=export, digest=digest, join_code=text["join_code"].decode(),
            status=text["status"].decode(), speed=float(speed) if speed else None,
            at=float(text["at"]), owner=text["owner"].decode(),
            lanes=json.loads(text["lanes"]) if "lanes" in text else None,
        )

    async def release(self, key: str, codes: dict[str, str]) -> None:
        keys = [owner_key(key), snap_key(key), watch_key(key), *map(code_key, codes)]
        await self._release(keys=keys, args=[self.me, *codes.values()])

    # --- followers on other instances ------------------------------------------------

    async def report(self, counts: dict[str, int]) -> None:
        """The followers this instance has of sessions it does not own (0: none any more)."""
        now = repr(time.time())
        async with self.client.pipeline(transaction=False) as pipe:
            for session_id, count in counts.items():
                if count:
                    pipe.hset(watch_key(session_id), self.me, f"{count} {now}")
                    pipe.expire(watch_key(session_id), int(WATCH_FRESH_SECONDS * 2))
                else:
                    pipe.hdel(watch_key(session_id), self.me)
            await pipe.execute()

    async def remote_followers(self, session_ids: list[str]) -> dict[str, int]:
        """Followers other instances have of these sessions (recent reports only)."""
        async with self.client.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.hgetall(watch_key(session_id))
            found = await pipe.execute()
        oldest = time.time() - WATCH_FRESH_SECONDS
        counts = {}
        for session_id, reports in zip(session_ids, found, strict=True):
            total = 0
            for instance, value in reports.items():
                count, at = value.split()
                if instance.decode() != self.me and float(at) >= oldest:
                    total += int(count)
            counts[session_id] = total
        return counts
