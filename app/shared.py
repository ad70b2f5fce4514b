"""The shared store in Redis: join codes, saved sessions, snapshots of live sessions and
which instance owns each, so that any instance finds what another made.

Redis, not PostgreSQL: every record here is a blob under a key (no query, no join), the bus
needs Redis anyway, and one extra server is less to run than two. Saved sessions must
outlive a restart of Redis, so Redis runs with append-only persistence (deploy/redis.conf:
`appendonly yes`, fsync every second); `check` says so at start when it does not.

Keys (all under "bp:"):
  code:{CODE}     -> session id             a join code, while its session lives
  saved:{code}    -> export JSON            a saved session, kept for good
  snap:{id}       -> hash                   the last snapshot: export, token, join code,
                                            status, speed, when, by whom
  owner:{id}      -> instance               who trains it; only the owner writes snap:{id}
  watch:{id}      -> hash instance -> "n t" followers an instance other than the owner has
"""

import json
import logging
import secrets
import time
from dataclasses import dataclass

import redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from app.saved import CODE_ALPHABET, CODE_LENGTH, StorageUnavailable

log = logging.getLogger(__name__)

WATCH_FRESH_SECONDS = 5.0   # a follower count older than this is from a gone instance

# Write a snapshot only while this instance owns the session (a newer owner took it over:
# 0, and this instance lets it go). Refreshes the lease, the snapshot and the join code.
SNAPSHOT = """
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[2], ARGV[2])
if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('EXPIRE', KEYS[3], ARGV[2]) end
return 1
"""

# A session that ends for good: its snapshot, lease and join code go, if still its owner's.
RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[4])
if redis.call('GET', KEYS[3]) == ARGV[2] then redis.call('DEL', KEYS[3]) end
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
    token: str
    join_code: str
    status: str
    speed: float | None
    at: float            # when it was written (seconds since the epoch)
    owner: str


class RedisSaved:
    """Saved sessions in Redis, with app/saved.py's SavedSessions' three calls."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

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
                if self.client.set(f"bp:saved:{code}", text, nx=True):
                    return code
        except RedisError as err:
            raise StorageUnavailable(f"Redis: {err}") from err

    def load(self, code: str) -> dict | None:
        try:
            text = self.client.get(f"bp:saved:{code}")
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

    async def write(self, session_id: str, export: bytes, token: str, join_code: str,
                    status: str, speed: float | None) -> bool:
        """Keep a snapshot; False: another instance owns the session now."""
        fields = {"export": export, "token": token, "join_code": join_code, "status": status,
                  "speed": "" if speed is None else repr(speed), "at": repr(time.time()),
                  "owner": self.me}
        flat = [item for pair in fields.items() for item in pair]
        keys = [owner_key(session_id), snap_key(session_id), code_key(join_code)]
        return bool(await self._snapshot(keys=keys, args=[self.me, self.ttl, session_id, *flat]))

    async def read(self, session_id: str) -> Snapshot | None:
        found = await self.client.hgetall(snap_key(session_id))
        if not found:
            return None
        text = {k.decode(): v for k, v in found.items()}
        speed = text["speed"].decode()
        return Snapshot(
            export=text["export"], token=text["token"].decode(),
            join_code=text["join_code"].decode(), status=text["status"].decode(),
            speed=float(speed) if speed else None, at=float(text["at"]),
            owner=text["owner"].decode(),
        )

    async def release(self, session_id: str, join_code: str) -> None:
        keys = [owner_key(session_id), snap_key(session_id), code_key(join_code),
                watch_key(session_id)]
        await self._release(keys=keys, args=[self.me, session_id])

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
