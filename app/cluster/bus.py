"""Redis pub/sub between instances: a session's messages, encoded once by its worker, travel
once to every instance that has followers of it, as one parcel per outcome.

The bus keeps going through a Redis restart: what is published while Redis is away is
dropped (a follower wants the next frame, not a late one), the subscriber reconnects and
subscribes again to every channel it had, and says so (`on_reconnect`) so that remote
followers get a fresh state. Without Redis (the embedded default) there is no bus at all:
app/loop/feeds.py hands messages to followers in the process.
"""

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

OUTBOX = 4096          # parcels waiting while Redis is away; older ones are dropped
BATCH = 256            # parcels a pipeline sends at once
RETRY_SECONDS = 0.5    # between attempts while Redis is away
POLL_SECONDS = 0.05    # the subscriber applies new (un)subscriptions at least this often


def client(url: str) -> aioredis.Redis:
    """An asyncio client that fails fast (one immediate retry, for a connection that a
    restarted Redis closed) instead of waiting through backoffs while Redis is away."""
    return aioredis.Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 1),
    )


@dataclass
class Parcel:
    """A session's messages as they travel between instances; Feed.publish and Feed.join
    take it as they take the worker's Outcome."""

    messages: dict[str, str]
    span: tuple[int, int] | None = None


def pack(messages: dict[str, str], span: tuple[int, int] | None) -> bytes:
    """A one-line header (the kinds and their lengths, the span), then the texts as sent."""
    parts = [text.encode() for text in messages.values()]
    head = {"span": span, "kinds": [[kind, len(p)] for kind, p in zip(messages, parts,
                                                                       strict=True)]}
    return b"\n".join([json.dumps(head).encode(), b"".join(parts)])


def unpack(data: bytes) -> Parcel:
    head, _, body = data.partition(b"\n")
    meta = json.loads(head)
    messages, at = {}, 0
    for kind, size in meta["kinds"]:
        messages[kind] = body[at:at + size].decode()
        at += size
    span = meta["span"]
    return Parcel(messages, tuple(span) if span is not None else None)


class RedisBus:
    """Publish without waiting (a queue a task drains in pipelines); subscribe to a set of
    channels that one task listens to, handing each message to `on_message`."""

    def __init__(self, url: str, inbox: str,
                 on_message: Callable[[str, bytes], None],
                 on_reconnect: Callable[[], None] = lambda: None) -> None:
        self.client = client(url)
        self.inbox = inbox           # this instance's own channel: replies come here
        self.on_message, self.on_reconnect = on_message, on_reconnect
        self.outbox: deque[tuple[str, bytes]] = deque(maxlen=OUTBOX)
        self.ready = asyncio.Event()
        self.channels: set[str] = set()
        self.current: set[str] = set()   # the channels subscribed now
        self.tasks: list[asyncio.Task] = []
        self.sent = self.received = 0
        self.connected = False
        self._complained = 0.0

    # --- publishing -----------------------------------------------------------------

    def publish(self, channel: str, data: bytes) -> None:
        self.outbox.append((channel, data))
        self.ready.set()

    async def ask(self, channel: str, data: bytes) -> int:
        """Publish now; how many subscribers received it (0: nobody listens there)."""
        return await self.client.publish(channel, data)

    async def _send(self) -> None:
        while True:
            await self.ready.wait()
            self.ready.clear()
            while self.outbox:
                batch = [self.outbox.popleft() for _ in range(min(BATCH, len(self.outbox)))]
                try:
                    async with self.client.pipeline(transaction=False) as pipe:
                        for channel, data in batch:
                            pipe.publish(channel, data)
                        await pipe.execute()
                    self.sent += len(batch)
                except (RedisError, OSError) as err:
                    self._complain("publishing", err)
                    await asyncio.sleep(RETRY_SECONDS)

    # --- subscribing ----------------------------------------------------------------

    def subscribe(self, channel: str) -> None:
        self.channels.add(channel)

    async def subscribed(self, channel: str, most_seconds: float = 2.0) -> None:
        """Subscribe and wait until the subscription holds (at most `most_seconds`; not at
        all while Redis is away: it is subscribed again when Redis is back)."""
        self.subscribe(channel)
        deadline = time.monotonic() + most_seconds
        while self.connected and channel not in self.current and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)

    async def _listen(self) -> None:
        first = True
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.inbox)
                current = {self.inbox}
                if not first:
                    log.warning("Redis is back: subscribed again, remote followers refreshed")
                    self.on_reconnect()
                first, self.connected = False, True
                while True:
                    wanted = self.channels | {self.inbox}
                    if wanted - current:
                        await pubsub.subscribe(*(wanted - current))
                    if current - wanted:
                        await pubsub.unsubscribe(*(current - wanted))
                    current = self.current = wanted
                    message = await pubsub.get_message(timeout=POLL_SECONDS)
                    if message is not None and message["type"] == "message":
                        self.received += 1
                        try:
                            self.on_message(message["channel"].decode(), message["data"])
                        except Exception:
                            log.exception("a message on %s could not be handled",
                                          message["channel"])
            except (RedisError, OSError) as err:
                self.connected, self.current = False, set()
                self._complain("listening", err)
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                try:
                    await pubsub.aclose()
                except (RedisError, OSError):
                    pass

    def _complain(self, doing: str, err: Exception) -> None:
        """Once every 10 s at most: a Redis away for a minute must not flood the log."""
        now = time.monotonic()
        if now - self._complained > 10:
            self._complained = now
            log.error("Redis %s failed (%s); retrying every %.1f s", doing, err, RETRY_SECONDS)

    # --- lifetime -------------------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._send()), loop.create_task(self._listen())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()
