"""A race started from a session takes the session's followers along, and brings them back.

The race menu's race names the session it is started from (RaceConfig.from_session). Every
follower of the session, and every one who joins while the race runs, is sent a `race`
message naming it (docs/stream.md); their pages show its lanes in place of the session's
panels, as a lesson slide's race is shown, while they stay followers of the session. When the
race ends (ended, deleted, a lane expired) they are sent `race` null: the session again, with
its join code, at its step.
"""

from app.worker import frames


class Escort:
    def __init__(self, feeds) -> None:
        self.feeds = feeds          # the sessions' (app/loop/feeds.py Feeds)
        self.away: dict[str, str] = {}   # session id -> the race its followers are taken to

    def take(self, handle, race) -> None:
        """The followers of `handle`'s session to `race`, now and whoever joins meanwhile; a
        race started before from the session no longer brings them back when it ends."""
        race.session = handle.id
        self.away[handle.id] = race.id
        self.feeds.of(handle).announce("race", _message(race.announced()))

    def bring_back(self, race) -> None:
        """`race` ended: the followers of the session it was started from are back there."""
        if race.session is None or self.away.get(race.session) != race.id:
            return
        del self.away[race.session]
        feed = self.feeds.feeds.get(race.session)
        if feed is not None:   # the session itself may have ended meanwhile
            feed.announce("race", _message(None))
            feed.sticky.pop("race", None)   # a follower who joins now needs no word of it

    def session_gone(self, handle) -> None:
        self.away.pop(handle.id, None)


def _message(race: dict | None) -> str:
    return frames.dumps({"type": "race", "race": race})
