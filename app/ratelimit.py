"""Creates per client address: a small token bucket each, so one client's burst of creates
cannot fill the server (a class behind one NAT shares an address: the defaults allow it).

The address is the connection's (uvicorn's --proxy-headers makes it the forwarded one behind
a trusted proxy); a request's own headers are never believed.
"""

import math
import time
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
        tokens, then = self.buckets.get(address, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens < 1.0:
            self.buckets[address] = (tokens, now)
            return math.inf if self.rate <= 0 else (1.0 - tokens) / self.rate
        self.buckets[address] = (tokens - 1.0, now)
        if len(self.buckets) > FORGET_AFTER:
            self._forget(now)
        return None

    def _forget(self, now: float) -> None:
        """Drop the addresses whose buckets have refilled: they are as good as new."""
        for address, (tokens, then) in list(self.buckets.items()):
            if tokens + (now - then) * self.rate >= self.burst:
                del self.buckets[address]


async def create_allowed(request: Request) -> None:
    """A create by this client now, or a 429 that says when."""
    address = request.client.host if request.client else "unknown"
    wait = request.app.state.create_limiter.take(address)
    if wait is not None:
        seconds = max(1, math.ceil(min(wait, 3600)))
        raise HTTPException(
            429,
            f"too many new sessions from {address}: try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )


CreateAllowed = Annotated[None, Depends(create_allowed)]
