"""Dependencies: settings, the session store, the hub, a session by id, control by token."""

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Path, Request
from fastapi.responses import Response

from app.config import Settings
from app.crossing import Outcome
from app.loop.hub import Hub
from app.loop.store import Handle, SessionStore


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> SessionStore:
    return request.app.state.store


def get_hub(request: Request) -> Hub:
    return request.app.state.hub


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[SessionStore, Depends(get_store)]
HubDep = Annotated[Hub, Depends(get_hub)]


async def get_session(
    store: StoreDep,
    session_id: Annotated[str, Path(description="the session's id")],
) -> Handle:
    handle = store.get(session_id)
    if handle is None:
        raise HTTPException(404, f"no session {session_id!r} (it may have expired)")
    # A read is no use (Handle.touched): a script reading its sessions must not keep them
    # from making room; control, steps and followers are.
    return handle


async def get_controlled(
    handle: Annotated[Handle, Depends(get_session)],
    x_control_token: Annotated[
        str | None,
        Header(alias="X-Control-Token", description="the session's control token"),
    ] = None,
) -> Handle:
    if not SessionStore.authorised(handle, x_control_token):
        raise HTTPException(
            403, "this session is read-only without its control token (header X-Control-Token)"
        )
    handle.touch()
    return handle


SessionDep = Annotated[Handle, Depends(get_session)]
ControlDep = Annotated[Handle, Depends(get_controlled)]


def answer(outcome: Outcome, media_type: str = "application/json", **kwargs) -> Response:
    """The worker's answer, as the bytes it made."""
    return Response(outcome.body, media_type=media_type, **kwargs)
