"""A follower's connection on the loop: join a feed, then forward the follower its news until
the session ends, the instance stops or the follower goes (routes/stream.py for one instance,
app/cluster/instance.py for a follower of a session owned elsewhere, routes/races.py for a race).
"""

import asyncio

from fastapi import WebSocket, WebSocketDisconnect

from app.loop.feeds import END, MOVED
from app.loop.sockets import SEND_TEXT, WRITE_TEXTS


async def relay(websocket: WebSocket, feed, joined) -> None:
    """Join `feed` with what `joined()` made, then forward the follower its news."""
    follower = None
    receiver = asyncio.ensure_future(websocket.receive())  # only to notice a close
    try:
        follower = feed.join(await joined())
        await forward(websocket, feed, follower, receiver)
    except (WebSocketDisconnect, RuntimeError, OSError, KeyError):
        pass   # the follower went away mid-send, or the session ended while it joined
    finally:
        receiver.cancel()
        if follower is not None:
            feed.leave(follower)


async def forward(websocket: WebSocket, feed, follower, receiver: asyncio.Future) -> None:
    """Send a joined follower its news until the session ends (END: close 1000), its instance
    stops (MOVED: close 1012, the page reconnects) or the follower goes. `receiver` is a
    pending websocket.receive(), only to notice a close; it (or the one after it) is
    cancelled here."""
    # A close (or anything the follower sends) wakes the loop as news does: one wait a
    # message, no task or asyncio.wait per frame (this loop runs for every follower).
    receiver.add_done_callback(lambda _: follower.wake.set())
    # uvicorn's protocol writes frames made once for all followers (app/loop/sockets.py), and
    # the feed's delivery writes with it itself while this loop is not sending; a server
    # without it (the test client) sends through ASGI, here.
    write = follower.write = websocket.scope.get(WRITE_TEXTS)
    send = websocket.scope.get(SEND_TEXT) or websocket.send_text
    try:
        while True:
            await follower.wake.wait()
            messages = follower.news(feed)
            if receiver.done():
                if receiver.result()["type"] == "websocket.disconnect":
                    return
                receiver = asyncio.ensure_future(websocket.receive())
                receiver.add_done_callback(lambda _: follower.wake.set())
            if not messages:
                continue
            if messages[-1] is MOVED:
                await websocket.close(code=1012, reason="this server is restarting; reconnect")
                return
            follower.sending = True
            if not (write and write(messages)):   # written at once, or sent by awaiting
                for text in messages:
                    await send(text)
            follower.sending = False
            if messages[-1] is END:
                await websocket.close(code=1000, reason="the session has ended")
                return
    finally:
        receiver.cancel()


async def joined(hub, handle, feed):
    """What a joining follower needs, made once for every follower joining at that moment."""
    if feed.joining is None or feed.joining.done():
        feed.joining = asyncio.ensure_future(hub.join(handle))
    return await asyncio.shield(feed.joining)
