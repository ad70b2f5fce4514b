""""Make my own copy" in a cluster: the copy is made where nginx's hash of its id sends its
requests, not on the instance that has the session copied.

nginx routes POST /api/sessions/{id}/copy by its request id, as a create
(deploy/nginx/backprop.conf), so the instance that makes the copy usually lacks the source:
it asks the source's owner for its export through Redis (or, the owner dead, takes its last
snapshot). This route stands in front of app/routes/classroom.py's, with the same answers;
the app factory includes it only in a cluster.
"""

from fastapi import APIRouter, HTTPException, Request

from app.routes.sessions import CREATES, open_session

router = APIRouter(include_in_schema=False)   # the schema is classroom's copy_session's


@router.post("/api/sessions/{session_id}/copy", status_code=201, dependencies=CREATES)
async def copy_anywhere(session_id: str, request: Request):
    state = request.app.state
    handle = state.store.get(session_id)
    if handle is not None:
        handle.touch()
    export = await state.cluster.export_of(session_id)
    if export is None:
        raise HTTPException(404, f"no session {session_id!r} (it may have expired)")
    return await open_session(state.store, state.hub, "export", export, request)
