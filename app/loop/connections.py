"""WebSocket connections per client address, and the process's open-files limit.

Every follower holds one socket (one open file) for as long as it watches. Unbounded, one
script's thousands of connections take a session's follower places from real students, and
past the open-files limit accept() fails for everyone. So a WebSocket handshake is refused,
accepted and at once closed with a code the page can show, when its address already holds
`per_address` connections (4430; a class behind one NAT holds a few hundred), or when the
process is within `spare_files` of its open-files limit (1013, "try again later"): refused
connections close at once, so the limit is never reached and other users still get in.
"""

import os
import sys

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from app.loop.ratelimit import client_address

try:
    import resource
except ImportError:   # Windows: no such limit to raise or watch
    resource = None

TOO_MANY_FROM_ADDRESS = 4430
TRY_AGAIN_LATER = 1013   # RFC 6455's registry: the server is overloaded
FD_DIRS = ("/proc/self/fd", "/dev/fd")   # Linux, then macOS and the BSDs


def raise_open_files_limit() -> tuple[int, int] | None:
    """Raise this process's soft open-files limit to its hard one: (before, after), or None
    where there is no such limit. A hard limit of 'unlimited' is left as it is (macOS refuses
    it as a soft one)."""
    if resource is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    if hard == resource.RLIM_INFINITY or soft == hard:
        return soft, soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        return soft, soft
    return soft, hard


def open_files_limit() -> int | None:
    if resource is None:
        return None
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def open_files() -> int | None:
    """Files this process has open now (one directory listing: ~1,000 entries take well
    under a millisecond), or None where the system does not list them."""
    for directory in FD_DIRS:
        try:
            return len(os.listdir(directory))
        except OSError:
            continue
    return None


class ConnectionLimit:
    """ASGI middleware counting each WebSocket connection under its client address while it
    lasts, and refusing new ones past `per_address` or near the open-files limit."""

    def __init__(self, app: ASGIApp, per_address: int, spare_files: int,
                 open_files=open_files, open_files_limit=open_files_limit) -> None:
        self.app, self.per_address, self.spare_files = app, per_address, spare_files
        self.open_files, self.open_files_limit = open_files, open_files_limit
        self.live: dict[str, int] = {}   # address -> its open WebSocket connections

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        address = client_address(HTTPConnection(scope))
        refusal = self.refusal(address)
        if refusal is not None:
            await refuse(receive, send, *refusal)
            return
        self.live[address] = self.live.get(address, 0) + 1   # counted at once, before any await
        try:
            await self.app(scope, receive, send)
        finally:
            self.live[address] -= 1
            if not self.live[address]:
                del self.live[address]

    def refusal(self, address: str) -> tuple[int, str] | None:
        if self.live.get(address, 0) >= self.per_address:
            return TOO_MANY_FROM_ADDRESS, (
                f"too many connections from your address (at most {self.per_address}, "
                "BACKPROP_FOLLOWERS_PER_ADDRESS)")
        limit = self.open_files_limit()
        if limit is not None:
            used = self.open_files()
            if used is None:   # not listed here: the connections are what grows
                used = sum(self.live.values())
            if used >= limit - self.spare_files:
                return TRY_AGAIN_LATER, "the server has too many connections; try again later"
        return None


async def refuse(receive: Receive, send: Send, code: int, reason: str) -> None:
    """Accept, then close with `code`: a browser sees a refused handshake only as 1006."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": code, "reason": reason})


def announce_open_files(raised: tuple[int, int] | None) -> None:
    """One line at start: how many files (so connections) this server may hold open."""
    if raised is None:
        return
    before, after = raised
    change = f"raised from {before:,} to {after:,}" if after != before else f"{after:,}"
    sys.stderr.write(f"Open files limit: {change} (one a WebSocket follower)\n")
