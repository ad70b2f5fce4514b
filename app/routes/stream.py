"""The one-way WebSocket feed of a session's frames to any number of followers."""

from fastapi import APIRouter, WebSocket

from app.loop.following import joined, relay

router = APIRouter()


@router.websocket("/api/sessions/{session_id}/stream")
async def stream(websocket: WebSocket, session_id: str):
    """Follow a session: state, frames, heatmaps (see docs/stream.md)."""
    app = websocket.app
    if getattr(app.state, "cluster", None) is not None:   # Redis between instances
        return await app.state.cluster.follow(websocket, session_id)
    store, hub, feeds = app.state.store, app.state.hub, app.state.feeds
    handle = store.get(session_id)
    await websocket.accept()   # before any close: a browser sees a refused handshake as 1006
    if handle is None:
        await websocket.close(code=4404, reason="no such session")
        return
    feed = feeds.of(handle)
    if handle.followers >= app.state.settings.max_followers:
        await websocket.close(code=4429, reason="this session has its maximum of followers")
        return
    handle.watched(handle.followers + 1)   # counted at once: two joins never both pass the cap
    try:
        await relay(websocket, feed, lambda: joined(hub, handle, feed))
    finally:
        handle.watched(handle.followers - 1)
