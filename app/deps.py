"""Dependencies: settings, the session store, a session by id, control by token."""

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Path, Request

from app.config import Settings
from app.live import Pumps
from app.sessions import Session, SessionStore


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> SessionStore:
    return request.app.state.store


def get_pumps(request: Request) -> Pumps:
    return request.app.state.pumps


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[SessionStore, Depends(get_store)]
PumpsDep = Annotated[Pumps, Depends(get_pumps)]


async def get_session(
    store: StoreDep,
    pumps: PumpsDep,
    session_id: Annotated[str, Path(description="the session's id")],
) -> Session:
    session = store.get(session_id)
    if session is None:
        raise HTTPException(404, f"no session {session_id!r} (it may have expired)")
    pumps.of(session)
    return session


async def get_controlled(
    session: Annotated[Session, Depends(get_session)],
    x_control_token: Annotated[
        str | None, Header(description="the session's control token")
    ] = None,
) -> Session:
    if not SessionStore.authorised(session, x_control_token):
        raise HTTPException(
            403, "this session is read-only without its control token (header X-Control-Token)"
        )
    session.touch()
    return session


SessionDep = Annotated[Session, Depends(get_session)]
ControlDep = Annotated[Session, Depends(get_controlled)]
