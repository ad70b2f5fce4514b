"""Races on the event loop's side: 2–4 lane sessions that play in lockstep.

A race's lanes are ordinary sessions (a Handle each, in the session store, so each lane's
REST reads, watch page, stream and copy work as any session's), placed in one worker and
marked with the race's id: the hub's rounds leave them alone, and every call that moves them
is one call into their worker that moves them all (app/worker/races.py). A playing race has a
driver task that asks for a round of its lanes whenever a frame is due. A race's followers
get each lane's messages, encoded once in the worker, side by side in one message
(docs/stream.md); the lanes' own followers get theirs as usual. A race ends with any lane.

A lane's id is its race's id and its place, "<race id>.<n>", and the race of a lesson's slide
has the id "<lesson session id>.<random>": nginx (deploy/nginx/backprop.conf) hashes every
path of a race, of its lanes and of its lesson by what comes before the first dot, so that in
a cluster they all reach the one instance where the race lives (app/cluster/races.py).
"""

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass, field

from app.crossing import BadControl, Control, Outcome, Pause, Play, Read, Reset, Step
from app.loop.escort import Escort
from app.loop.feeds import Feed, Feeds, Follower
from app.loop.hub import STEP_PART_SECONDS, Hub
from app.loop.store import Handle, SessionStore
from app.worker import races as raceworker

log = logging.getLogger(__name__)

RACE_FORMAT = "backprop-playground/race@1"
KINDS = ("state", "frame", "heatmaps", "losses")
RACE_CONTROLS = (Read, Play, Pause, Reset, Step)   # what a race's lanes take together


@dataclass
class Race:
    id: str
    token: str
    lanes: list[Handle]
    vary: str
    values: list
    status: str = "paused"          # as the lanes' worker last reported it
    speed: float | None = None
    step: int = 0
    watchers: int = 0               # followers of the race's own stream
    remote: int = 0                 # …on other instances of a cluster (app/cluster/instance.py)
    digest: str | None = None       # restored from a snapshot: the token's digest (store.py)
    home: str | None = None         # the lesson session whose slide plays it
    session: str | None = None      # the session it was started from (app/loop/escort.py)
    unwatched_since: float = field(default_factory=time.monotonic)
    heatmap_due: float = 0.0
    served_at: float = 0.0
    driver: asyncio.Task | None = None

    @property
    def watch_url(self) -> str:
        return f"/race/{self.id}"

    @property
    def ids(self) -> list[str]:
        return [h.id for h in self.lanes]

    @property
    def worker(self) -> int:
        return self.lanes[0].worker

    @property
    def followers(self) -> int:
        """Pages that show a lane (the race's followers are every lane's): heatmaps are due
        only while there are some (Hub.heatmap_due reads this)."""
        return max(h.followers for h in self.lanes)

    def lane_followers(self) -> list[int]:
        return [h.followers for h in self.lanes]

    def header(self) -> str:
        """The race's own fields as JSON, without the closing brace (the lanes follow)."""
        return json.dumps({"id": self.id, "vary": self.vary, "values": self.values,
                           "followers": self.watchers + self.remote, "watch_url": self.watch_url,
                           "join_code": self.join_code, "session": self.session})[:-1]

    def announced(self) -> dict:
        """What a session's followers are told of it (a `lesson` or `race` message's `race`,
        docs/stream.md): what their pages follow."""
        return {"id": self.id, "watch_url": self.watch_url, "vary": self.vary,
                "values": self.values}

    @property
    def join_code(self) -> str:
        """The first lane's: /join/{code} leads to the race page (routes/pages.py)."""
        return self.lanes[0].join_code

    def touch(self) -> None:
        for handle in self.lanes:
            handle.touch()


class Races:
    """The live races: made, controlled, driven, followed, exported, ended."""

    def __init__(self, hub: Hub, store: SessionStore, settings) -> None:
        self.hub, self.store, self.settings = hub, store, settings
        self.races: dict[str, Race] = {}
        self.feeds = Feeds(settings.fanout_rate)
        self.escort = Escort(hub.feeds)   # a race's session's followers, to it and back

    # --- records ----------------------------------------------------------------------

    def get(self, race_id: str) -> Race | None:
        return self.races.get(race_id)

    def lane_gone(self, handle: Handle) -> None:
        """A lane ended (expired, evicted, its worker lost it): the race ends with it."""
        race = self.races.get(handle.race) if handle.race else None
        if race is not None:
            self.end(race)

    def end(self, race: Race) -> None:
        if self.races.pop(race.id, None) is None:
            return
        if race.driver is not None:
            race.driver.cancel()
        self.feeds.discard(race)   # its followers hear "end"
        for handle in race.lanes:
            self.store.remove(handle.id)
        self.escort.bring_back(race)   # …and its session's, that they are back there

    def end_all(self) -> None:
        for race in list(self.races.values()):
            if race.driver is not None:
                race.driver.cancel()
        self.feeds.end_all()

    def _new_id(self, home: str | None) -> str:
        return f"{home}.{secrets.token_hex(4)}" if home else secrets.token_urlsafe(12)

    async def open(self, lanes: list[tuple[str, object]], vary: str, values: list,
                   home: str | None = None, worker: int | None = None,
                   session: Handle | None = None) -> Race:
        """A race of lanes built from ("config", SessionConfig) or ("export", export) each, all
        in `worker` (where app/routes/lanes.py made them) or the least loaded one; nothing is left
        behind when one fails. `home`: the lesson session whose slide plays it; `session`:
        the one it is started from, whose followers it takes along."""
        race_id = self._new_id(home)
        worker = self.hub.place() if worker is None else worker
        handles: list[Handle] = []
        try:
            for n in range(len(lanes)):
                handles.append(self.store.create(worker, f"{race_id}.{n}"))
                handles[-1].race = race_id
            for handle, (source, data) in zip(handles, lanes, strict=True):
                await self.hub.open(handle, source, data)
        except BaseException:
            for handle in handles:
                self.store.remove(handle.id)
            raise
        race = Race(race_id, secrets.token_urlsafe(24), handles, vary, list(values), home=home)
        self.races[race_id] = race
        if session is not None:
            self.escort.take(session, race)
        return race

    # --- calls ------------------------------------------------------------------------

    def answer(self, race: Race, body: bytes) -> bytes:
        """The RaceState: the race's fields around the lanes' states its worker encoded."""
        return race.header().encode() + b"," + body + b"}"

    async def control(self, race: Race, control: Control) -> bytes:
        """A control on every lane at once (one call into their worker): the RaceState."""
        if not isinstance(control, RACE_CONTROLS):
            raise BadControl(f"{control!r} is no race control")
        heatmap = self.hub.heatmap_due(race, self._playing(race.worker))
        result = await self.hub.call(
            race.lanes[0], raceworker.race_call, race.ids, control, race.lane_followers(),
            heatmap,
        )
        return self.answer(race, self._absorb(race, result))

    async def step(self, race: Race, steps: int, abandoned) -> bytes:
        """`steps` steps of every lane, in parts of about STEP_PART_SECONDS (other sessions'
        rounds run between them), the last one recorded, as Hub.step does for a session."""
        left, asked = steps, steps
        while left > 1:
            taken = await self.hub.call(
                race.lanes[0], raceworker.race_step_part, race.ids, left - 1,
                STEP_PART_SECONDS, asked,
            )
            left, asked = left - taken, None
            if taken == 0 or await abandoned():
                left = 1
                break
        return await self.control(race, Step(left))

    async def export(self, race: Race) -> bytes:
        """The race as a saved race's JSON: what varies and every lane's export."""
        lanes = await self.hub.call(race.lanes[0], raceworker.race_export, race.ids)
        head = json.dumps({"format": RACE_FORMAT, "vary": race.vary, "values": race.values})
        return head[:-1].encode() + b',"lanes":' + lanes + b"}"

    def _absorb(self, race: Race, result) -> bytes | None:
        """Take in a race call's answer: each lane's as the hub takes a session's, then one
        message of each kind with every lane's for the race's followers."""
        outcomes, body, race.status, race.speed, race.step = result
        for handle, outcome in zip(race.lanes, outcomes, strict=True):
            self.hub.absorb(handle, outcome)
        composed = self._compose(race, outcomes)
        if composed.messages:
            self.feeds.of(race).publish(composed)
        if race.status == "playing" and (race.driver is None or race.driver.done()):
            race.unwatched_since = max(race.unwatched_since, time.monotonic() - 1.0)
            race.driver = asyncio.get_running_loop().create_task(self._drive(race))
        return body

    @staticmethod
    def _compose(race: Race, outcomes: list[Outcome]) -> Outcome:
        """The lanes' messages (text their worker made), side by side: race_state,
        race_frame, race_heatmaps, race_losses. A lane with nothing new is null."""
        messages = {}
        for kind in KINDS:
            texts = [o.messages.get(kind) for o in outcomes]
            if all(text is None for text in texts):
                continue
            lanes = ",".join("null" if text is None else text for text in texts)
            head = f'"race":{race.header()}}},' if kind == "state" else ""
            messages[kind] = f'{{"type":"race_{kind}",{head}"lanes":[{lanes}]}}'
        span = next((o.span for o in outcomes if o.span is not None), None)
        return Outcome(status=race.status, speed=race.speed, messages=messages, span=span)

    def _playing(self, worker: int) -> int:
        """Playing sessions of a worker for its budget, a race counting as one."""
        sessions = sum(
            h.status == "playing" and h.race is None for h in self.store.on_worker(worker)
        )
        races = sum(
            r.status == "playing" and r.worker == worker for r in self.races.values()
        )
        return sessions + races

    # --- playing ----------------------------------------------------------------------

    async def _drive(self, race: Race) -> None:
        """Rounds of a playing race, one a frame; it pauses when nobody has watched it for
        `unwatched_seconds`, or after a round that failed."""
        interval = 1.0 / self.settings.frame_rate
        while self.races.get(race.id) is race and race.status == "playing":
            # As the hub's rounds do: a set speed a round a frame; as fast as it goes, always
            # (the worker runs other sessions' rounds queued meanwhile in turn).
            wait = race.served_at + interval - time.monotonic() if race.speed else 0.0
            await asyncio.sleep(max(0.0, wait))
            try:
                if self._unwatched(race):
                    log.info("race %s: nobody has watched it; paused", race.id)
                    await self.control(race, Pause())
                    return
                playing = max(1, self._playing(race.worker))
                budget = self.hub.budget(self.hub.workers[race.worker], playing)
                heatmap = self.hub.heatmap_due(race, playing)
                result = await self.hub.call(
                    race.lanes[0], raceworker.race_round, race.ids, budget,
                    race.lane_followers(), heatmap,
                )
            except Exception:
                log.exception("race %s: a round failed; paused", race.id)
                await self._pause_after_failure(race)
                return
            race.served_at = time.monotonic()
            if self.races.get(race.id) is not race:
                return
            self._absorb(race, result)

    async def _pause_after_failure(self, race: Race) -> None:
        try:
            await self.control(race, Pause())
        except Exception:
            log.exception("race %s: could not pause it after a failure", race.id)
            race.status = "paused"

    def _unwatched(self, race: Race) -> bool:
        if race.followers > 0:
            return False
        since = max([race.unwatched_since, *(h.unwatched_since for h in race.lanes)])
        return time.monotonic() - since > self.settings.unwatched_seconds

    # --- followers ----------------------------------------------------------------------

    async def join(self, race: Race) -> tuple[Feed, Follower]:
        """A new follower of the race: it counts as a follower of every lane until it
        leaves (call leave() whatever happens here)."""
        race.watchers += 1
        for handle in race.lanes:
            handle.watched(handle.followers + 1)
        feed = self.feeds.of(race)
        outcomes = await self.hub.call(race.lanes[0], raceworker.race_join, race.ids)
        return feed, feed.join(self._compose(race, outcomes))

    def leave(self, race: Race, follower: Follower | None) -> None:
        feed = self.feeds.feeds.get(race.id)
        if follower is not None and feed is not None:
            feed.leave(follower)
        race.watchers -= 1
        for handle in race.lanes:
            handle.watched(handle.followers - 1)
        if race.watchers == 0:
            race.unwatched_since = time.monotonic()
