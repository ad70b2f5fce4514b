"""Creates per client address: a small token bucket each, so one client's burst of creates
cannot fill the server (a class behind one NAT shares an address: the defaults allow it).
Join codes the same way, but only a code that finds no session spends a token: a whole class
joining from one address passes, a script guessing codes (6 characters of 32: one session
in ~5 million guesses with 200 live) gets a 429 after its first few dozen misses. Stateless
work (/api/step, /api/gradcheck) is bounded by how many requests an address has running at
once (`Running`): a class's short requests rarely overlap; a script's hundreds of long ones do.

The address is the connection's (uvicorn's --proxy-headers makes it the forwarded one behind
a trusted proxy); a request's own headers are never believed.
"""

import contextlib
import math
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request

FORGET_AFTER = 4096   # addresses kept at most; full buckets are forgotten first


class CreateLimiter:
    def __init__(self, per_minute: float, burst: int):
        self.rate, self.burst = per_minute / 60.0, burst
        self.buckets: dict[str, tuple[float, float]] = {}   # address -> (tokens, when)

    def take(self, address: str, now: float | None = None) -> float | None:
        """Spend one token of `address`: None if it had one, else seconds until it will."""
        now = time.monotonic() if now is None else now
        tokens = self._tokens(address, now)
        if tokens < 1.0:
            self.buckets[address] = (tokens, now)
            return self._until_one(tokens)
        self.buckets[address] = (tokens - 1.0, now)
        if len(self.buckets) > FORGET_AFTER:
            self._forget(now)
        return None

    def wait(self, address: str, now: float | None = None) -> float | None:
        """None if `address` has a token to spend, else seconds until it will; none spent."""
        tokens = self._tokens(address, time.monotonic() if now is None else now)
        return None if tokens >= 1.0 else self._until_one(tokens)

    def _tokens(self, address: str, now: float) -> float:
        tokens, then = self.buckets.get(address, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - then) * self.rate)

    def _until_one(self, tokens: float) -> float:
        return math.inf if self.rate <= 0 else (1.0 - tokens) / self.rate

    def _forget(self, now: float) -> None:
        """Drop the addresses whose buckets have refilled: they are as good as new."""
        for address, (tokens, then) in list(self.buckets.items()):
            if tokens + (now - then) * self.rate >= self.burst:
                del self.buckets[address]


class Running:
    """Requests of one kind under way per client address, at most `per_address` at once."""

    RETRY_SECONDS = 1   # a request runs from milliseconds to seconds: soon, one has ended

    def __init__(self, per_address: int, what: str, setting: str) -> None:
        self.per_address, self.what, self.setting = per_address, what, setting
        self.live: dict[str, int] = {}   # address -> its requests under way

    @contextlib.contextmanager
    def held(self, address: str) -> Iterator[None]:
        """The request counted under `address` while the block runs, or a 429 at once."""
        running = self.live.get(address, 0)
        if running >= self.per_address:
            _refuse(self.RETRY_SECONDS,
                    f"too many {self.what} running at once from {address}: at most "
                    f"{self.per_address} ({self.setting})")
        self.live[address] = running + 1
        try:
            yield
        finally:
            left = self.live.pop(address) - 1
            if left:
                self.live[address] = left


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _refuse(wait: float | None, too_many: str) -> None:
    """Nothing when `wait` is None, else a 429 that says when (Retry-After)."""
    if wait is not None:
        seconds = max(1, math.ceil(min(wait, 3600)))
        raise HTTPException(
            429, f"{too_many}: try again in {seconds} s", headers={"Retry-After": str(seconds)}
        )


async def create_allowed(request: Request) -> None:
    """A create by this client now, or a 429 that says when."""
    address = client_address(request)
    _refuse(request.app.state.create_limiter.take(address), f"too many new sessions from {address}")


async def join_allowed(request: Request) -> None:
    """A join-code lookup by this client now, or a 429 that says when (it missed too often)."""
    address = client_address(request)
    _refuse(request.app.state.join_limiter.wait(address),
            f"too many unknown join codes from {address}")


def join_missed(request: Request) -> None:
    """This client's lookup found no session: it spends a token of its join bucket."""
    request.app.state.join_limiter.take(client_address(request))


def stateless_running(request: Request) -> contextlib.AbstractContextManager[None]:
    """This client's /api/step or /api/gradcheck counted while it runs, or a 429 that says when."""
    return request.app.state.stateless_running.held(client_address(request))


CreateAllowed = Annotated[None, Depends(create_allowed)]
JOINS = [Depends(join_allowed)]   # /api/join/{code} and /join/{code}
