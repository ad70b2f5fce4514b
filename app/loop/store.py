"""SessionStore: the event loop's index of live sessions — tokens, join codes, idle expiry.

A session trains in a worker process (app/worker/process.py); here it is a Handle: who may control
it, which worker owns it, who follows it, and its last checkpoint, from which a new worker
rebuilds it if its own dies. No training state and no web imports here.
"""

import hashlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread from the back row
NO_ROOM_RETRY_SECONDS = 60.0  # every session is playing or followed: no end time to promise


class StoreFull(Exception):
    """The configured number of sessions is live already; `retry_after`: seconds until one
    of them may make room (or a guess, when every one is in use)."""

    status_code = 503

    def __init__(self, message: str, retry_after: float = 60.0):
        super().__init__(message)
        self.retry_after = retry_after


class ShareFull(StoreFull):
    """The client's address holds its share of the sessions already, every one in use."""

    status_code = 429


@dataclass
class Handle:
    id: str
    token: str
    join_code: str
    worker: int
    status: str = "paused"        # as the worker last reported it
    speed: float | None = None
    touched: float = field(default_factory=time.monotonic)
    followers: int = 0
    unwatched_since: float = field(default_factory=time.monotonic)
    checkpoint: object = None     # app.crossing.Checkpoint: the last published state
    in_flight: bool = False       # a slice of it is running in its worker
    served_at: float = 0.0        # when its last slice ended: round-robin order
    heatmap_due: float = 0.0
    owner: str | None = None      # the client address that made it: its share (None: a race's)
    race: str | None = None       # a race's lane: the race plays it (app/loop/races.py), not rounds
    digest: str | None = None     # restored from a snapshot (app/cluster/instance.py): only the
                                  # token's digest is kept there, and `token` is ""

    @property
    def watch_url(self) -> str:
        """The read-only page that follows this session."""
        return f"/watch/{self.id}"

    def touch(self) -> None:
        self.touched = time.monotonic()

    def watched(self, followers: int) -> None:
        if followers != self.followers:   # a follower coming or going is a use; a read is not
            self.touch()
        if followers == 0 and self.followers > 0:
            self.unwatched_since = time.monotonic()
        self.followers = followers


class SessionStore:
    """Handles by id and by join code; capped, idle ones expire. At the cap, a session
    nobody plays or follows that has been idle for `grace_seconds` makes room. One client
    address holds at most `per_address` of them (a class behind one NAT shares an address):
    past it, its own least recently used idle session makes room for its new one, so that a
    script cannot take the room from everyone else."""

    def __init__(self, max_sessions: int, idle_seconds: float, grace_seconds: float = 0.0,
                 per_address: int | None = None):
        self.max_sessions, self.idle_seconds = max_sessions, idle_seconds
        self.grace_seconds = grace_seconds
        self.per_address = max_sessions if per_address is None else per_address
        self.sessions: dict[str, Handle] = {}
        self.codes: dict[str, str] = {}
        self.on_remove: Callable[[Handle], None] | None = None

    def create(self, worker: int, session_id: str | None = None,
               owner: str | None = None) -> Handle:
        """A new handle on `worker` (with `session_id`, or a new one) for the client address
        `owner`, once there is room; the worker builds the session."""
        if owner is not None:   # first: past its share, its own session makes the room
            self._make_room_in_share(owner)
        self._make_room()
        session_id = session_id or self._new_id()
        return self.add(Handle(
            id=session_id,
            token=secrets.token_urlsafe(24),
            join_code=self._new_code(session_id),
            worker=worker,
            owner=owner,
        ))

    def add(self, handle: Handle) -> Handle:
        self.sessions[handle.id] = handle
        self.codes[handle.join_code] = handle.id
        return handle

    def _make_room_in_share(self, owner: str) -> None:
        """Past its share, the address's own least recently used idle session goes at once
        (no grace: nobody else's session is touched, and its own newer ones stay); with none
        idle, a 429 that names the limit."""
        own = [h for h in self.sessions.values() if h.owner == owner]
        if len(own) < self.per_address:
            return
        idle = _idle(own)
        if not idle:
            raise ShareFull(
                f"at most {self.per_address} sessions from one address at once "
                f"(BACKPROP_SESSIONS_PER_ADDRESS), and every one of {owner}'s is playing or "
                f"followed; end one (DELETE /api/sessions/{{id}}) or try again in "
                f"{NO_ROOM_RETRY_SECONDS:.0f} s", retry_after=NO_ROOM_RETRY_SECONDS,
            )
        self.remove(min(idle, key=lambda h: h.touched).id)

    def _make_room(self) -> None:
        self.expire()
        if len(self.sessions) >= self.max_sessions:
            wait = self._evict_one()
            if wait is not None:
                raise StoreFull(
                    f"at most {self.max_sessions} sessions at once, all in use (playing, "
                    f"followed or used in the last {self.grace_seconds:.0f} s); try again "
                    f"in {wait:.0f} s", retry_after=wait,
                )

    def _new_id(self) -> str:
        return secrets.token_urlsafe(12)

    def _new_code(self, session_id: str) -> str:
        while True:
            code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(6))
            if code not in self.codes:
                return code

    def get(self, session_id: str) -> Handle | None:
        return self.sessions.get(session_id)

    def by_code(self, code: str) -> Handle | None:
        session_id = self.codes.get(code.strip().upper())
        return self.sessions.get(session_id) if session_id else None

    def on_worker(self, worker: int) -> list[Handle]:
        return [h for h in self.sessions.values() if h.worker == worker]

    def remove(self, session_id: str) -> None:
        handle = self.sessions.pop(session_id, None)
        if handle is not None:
            self.codes.pop(handle.join_code, None)
            if self.on_remove is not None:
                self.on_remove(handle)

    def _evict_one(self) -> float | None:
        """Make room by ending the least recently used session nobody watches or plays, once
        it has been idle for the grace period: a page reloaded again and again must not lock
        everyone else out for an hour, and a burst of creates must not end a notebook's
        session between two of its calls. None: room was made; else the seconds to wait."""
        unused = _idle(self.sessions.values())
        if not unused:
            return NO_ROOM_RETRY_SECONDS
        oldest = min(unused, key=lambda h: h.touched)
        wait = oldest.touched + self.grace_seconds - time.monotonic()
        if wait > 0:
            return max(1.0, math.ceil(wait))
        self.remove(oldest.id)
        return None

    def expire(self, now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        idle = [
            h.id
            for h in self.sessions.values()
            if now - h.touched > self.idle_seconds and h.followers == 0
        ]
        for session_id in idle:
            self.remove(session_id)
        return idle

    @staticmethod
    def authorised(handle, token: str | None) -> bool:
        """Does `token` control `handle` (a session's Handle or a race)?"""
        if token is None:
            return False
        given = token.encode("utf-8", "surrogatepass")
        if handle.digest is not None:   # restored: the snapshot kept only the digest
            return secrets.compare_digest(handle.digest.encode(), token_digest(given).encode())
        # as bytes: compare_digest refuses a str with non-ASCII characters (a TypeError, a 500)
        return secrets.compare_digest(handle.token.encode(), given)


def _idle(handles) -> list[Handle]:
    """The sessions nobody plays or follows."""
    return [h for h in handles if h.followers == 0 and h.status != "playing"]


def token_digest(token: str | bytes) -> str:
    """What a snapshot keeps of a control token: its SHA-256. A token is 192 random bits, so
    the digest cannot be turned back into it (no key needed, unlike a password's hash), and
    reading Redis gives no control."""
    data = token.encode("utf-8", "surrogatepass") if isinstance(token, str) else token
    return hashlib.sha256(data).hexdigest()
