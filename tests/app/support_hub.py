"""A hub over a store of hand-made handles, for the scheduler's tests (no worker started)."""

from app.config import Settings
from app.loop.feeds import Feeds
from app.loop.hub import Hub
from app.loop.store import Handle, SessionStore


def fake_hub(*handles):
    store = SessionStore(10, 3600)
    for h in handles:
        store.sessions[h.id] = h
    return Hub(Settings(workers=1), store, Feeds(12_000)), store


def handle(name, followers=1, served_at=0.0, speed=None, status="playing"):
    h = Handle(name, "t", name.upper(), worker=0, status=status, speed=speed)
    h.followers, h.served_at = followers, served_at
    return h
