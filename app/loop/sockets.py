"""The WebSocket protocol the server runs: uvicorn's sans-I/O one, cutting off a peer that
stopped reading, with a direct send for the fan-out.

A follower whose socket does not drain keeps the last message it was sent in the server's
transport buffer (up to a session's whole state, ~2 MB) for as long as it stays connected,
and the ASGI app has no way to abort a transport. So the protocol does it: a send that has
waited `send_seconds` for the buffer to drain aborts the connection, which frees the buffer
and ends the follower's loop like any disconnect (the page reconnects if it is still there).

The fan-out sends every message to every follower. Through ASGI each of those sends goes
through Starlette's and uvicorn's send (a message dict, checks, websockets' framing of
a fresh `text.encode()`); `send_text`, which the protocol puts in the scope under SEND_TEXT,
writes the frame's bytes straight to the transport instead, made once per message for all
followers (`text_frame`, what websockets' `broadcast()` does). The bytes are the same
websockets writes (no extension: per-message deflate is off); anything but an open
connection goes the ASGI way, so closing keeps its rules.
"""

import asyncio
import functools
import logging
import sys

from uvicorn import Config
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from app.config import Settings

COMMAND = ("uvicorn app.main:create_app --factory --ws app.loop.sockets:WebSocketProtocol "
           "--ws-per-message-deflate false")   # or `python -m app`: the same options
SEND_TEXT = "backprop.send_text"   # the scope's key of the protocol's direct send
WRITE_TEXTS = "backprop.write_texts"   # and of its write when nothing needs awaiting
KEPT_FRAMES = 64   # messages whose frame is kept: the ones being fanned out right now

_frames: dict[int, tuple[str, bytes]] = {}

log = logging.getLogger(__name__)


def text_frame(text: str) -> bytes:
    """A server's (unmasked, final) text frame of `text`, made once for the same str object:
    the fan-out sends one object to every follower."""
    kept = _frames.get(id(text))
    if kept is not None and kept[0] is text:
        return kept[1]
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = bytes((0x81, size))
    elif size < 1 << 16:
        head = bytes((0x81, 126)) + size.to_bytes(2)
    else:
        head = bytes((0x81, 127)) + size.to_bytes(8)
    frame = head + payload
    if len(_frames) >= KEPT_FRAMES:
        _frames.clear()
    _frames[id(text)] = (text, frame)   # the str is kept with it: its id is not reused
    return frame


class StalledPeerClosing(WebSocketsSansIOProtocol):
    send_seconds = 10.0

    def handle_connect(self, event) -> None:
        super().handle_connect(event)
        if not self.close_sent:   # accepted: the scope is made, the app not started yet
            self.scope[SEND_TEXT] = self.send_text
            self.scope[WRITE_TEXTS] = self.write_texts

    async def drained(self) -> None:
        if not self.writable.is_set():
            try:
                async with asyncio.timeout(self.send_seconds):
                    await self.writable.wait()
            except TimeoutError:
                self.transport.abort()
                raise ClientDisconnected from None

    async def send(self, message) -> None:
        await self.drained()
        await super().send(message)

    def write_texts(self, texts: list[str]) -> bool:
        """send_text of each text if it can be done now (the transport drained, the
        connection open), in one write: no coroutine a follower and message, one send to
        the kernel. False: nothing written; await send_text instead."""
        if (self.writable.is_set() and not self.disconnected and not self.close_sent
                and self.conn.state is State.OPEN):
            self.transport.write(b"".join(map(text_frame, texts)) if len(texts) > 1
                                 else text_frame(texts[0]))
            return True
        return False

    async def send_text(self, text: str) -> None:
        """websocket.send_text(text), the bytes written straight to the transport."""
        await self.drained()
        if self.disconnected:
            raise ClientDisconnected
        if self.close_sent or self.conn.state is not State.OPEN:
            await super().send({"type": "websocket.send", "text": text})
            return
        self.transport.write(text_frame(text))


def websocket_options(send_seconds: float) -> dict:
    """uvicorn's options for the playground's WebSockets. Per-message deflate costs several
    times the frame rate on loopback, and frames are small; the sans-I/O implementation sends
    to many followers markedly faster than the legacy one (bench/follow.py: about 600 against
    370 epochs/s with 200 followers)."""
    protocol = type("WebSocketProtocol", (StalledPeerClosing,), {"send_seconds": send_seconds})
    return {"ws": protocol, "ws_per_message_deflate": False}


class WebSocketProtocol(StalledPeerClosing):
    """What `uvicorn --ws app.loop.sockets:WebSocketProtocol` runs (COMMAND): the cut-off after
    BACKPROP_FOLLOWER_SEND_SECONDS, read when the first connection needs it."""

    @property
    def send_seconds(self) -> float:
        return _configured_send_seconds()


@functools.cache
def _configured_send_seconds() -> float:
    return Settings().follower_send_seconds


def adopt(send_seconds: float) -> None:
    """Put the playground's WebSocket options into the uvicorn Config loading the app, when
    the factory is called by one (`uvicorn app.main:create_app --factory`, with or without
    options; gunicorn's uvicorn worker), so that the stalled-follower cut-off and the direct
    fan-out hold however the server was started. uvicorn hands the factory nothing, but it
    has imported its WebSocket class and not yet made any connection when it calls it, and
    it reads both options per connection: changed here, they are what every connection gets.
    Already ours, or a server that is not uvicorn: nothing changes."""
    config = _loading_config()
    if config is None or config.ws_protocol_class is None:   # not uvicorn, or `--ws none`
        return
    ours = issubclass(config.ws_protocol_class, StalledPeerClosing)
    if ours and not config.ws_per_message_deflate:
        return
    given = getattr(config.ws_protocol_class, "__name__", config.ws)
    if not ours:
        config.ws_protocol_class = websocket_options(send_seconds)["ws"]
    config.ws_per_message_deflate = False
    log.warning("uvicorn was started with the WebSocket protocol %s%s: the playground put in "
                "its own (a follower that stops reading is cut off, the fan-out writes "
                "straight to the socket, no per-message deflate). To start it so: `%s`, or "
                "`python -m app`.", given, " and per-message deflate on" if not ours else "",
                COMMAND)


def _loading_config() -> Config | None:
    """The uvicorn Config whose load() is calling the app factory now, if one is."""
    frame = sys._getframe(1)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, Config):
            return candidate
        frame = frame.f_back
    return None
