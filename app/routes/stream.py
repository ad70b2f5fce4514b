"""The one-way WebSocket feed of a session's frames to any number of followers."""

import asyncio

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.live import END

router = APIRouter()


@router.websocket("/api/sessions/{session_id}/stream")
async def stream(websocket: WebSocket, session_id: str):
    """Follow a session: state, frames, heatmaps (see docs/stream.md)."""
    app = websocket.app
    session = app.state.store.get(session_id)
    await websocket.accept()   # before any close: a browser sees a refused handshake as 1006
    if session is None:
        await websocket.close(code=4404, reason="no such session")
        return
    pump = app.state.pumps.of(session)
    if len(pump.followers) >= app.state.settings.max_followers:
        await websocket.close(code=4429, reason="this session has its maximum of followers")
        return
    follower = pump.join()
    receiver = asyncio.ensure_future(websocket.receive())  # only to notice a close
    try:
        while True:
            taker = asyncio.ensure_future(follower.take(session))
            done, _ = await asyncio.wait({taker, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                taker.cancel()
                if receiver.result()["type"] == "websocket.disconnect":
                    break
                receiver = asyncio.ensure_future(websocket.receive())
                continue
            messages = taker.result()
            for text in messages:
                await websocket.send_text(text)
            if messages[-1] is END:
                await websocket.close(code=1000, reason="the session has ended")
                break
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass   # the follower went away mid-send: clean up below
    finally:
        receiver.cancel()
        pump.leave(follower)
