"""The WebSocket protocol the server runs: uvicorn's sans-I/O one, cutting off a peer that
stopped reading.

A follower whose socket does not drain keeps the last message it was sent in the server's
transport buffer (up to a session's whole state, ~2 MB) for as long as it stays connected,
and the ASGI app has no way to abort a transport. So the protocol does it: a send that has
waited `send_seconds` for the buffer to drain aborts the connection, which frees the buffer
and ends the follower's loop like any disconnect (the page reconnects if it is still there).
"""

import asyncio

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class StalledPeerClosing(WebSocketsSansIOProtocol):
    send_seconds = 10.0

    async def send(self, message) -> None:
        if not self.writable.is_set():
            try:
                async with asyncio.timeout(self.send_seconds):
                    await self.writable.wait()
            except TimeoutError:
                self.transport.abort()
                raise ClientDisconnected from None
        await super().send(message)


def websocket_options(send_seconds: float) -> dict:
    """uvicorn's options for the playground's WebSockets. Per-message deflate costs several
    times the frame rate on loopback, and frames are small; the sans-I/O implementation sends
    to many followers markedly faster than the legacy one (bench/follow.py: about 600 against
    370 epochs/s with 200 followers)."""
    protocol = type("WebSocketProtocol", (StalledPeerClosing,), {"send_seconds": send_seconds})
    return {"ws": protocol, "ws_per_message_deflate": False}
