"""Races in a cluster (app/cluster/instance.py): a race lives wholly on one instance.

nginx hashes every path of a race and of its lanes by the race's id (a lane's id is
"<race id>.<n>"), and a race made through nginx takes nginx's request id as its own, as a
session does, so it is made where its requests go. Its followers on other instances get its
messages through Redis as a session's do; its snapshot holds every lane's export at once, and
the instance nginx sends it to after its owner died restores the whole race from it. The
race of a lesson's slide lives on its lesson session's instance (its id starts with the
session's) and is not snapshotted: the presentation that plays it is not either.
"""

import json

from app.cluster.redis_state import Snapshot
from app.cluster.shared_loop import RACE, ClusterFeeds, proposed_id
from app.crossing import Outcome, Play
from app.loop.races import Race, Races
from app.worker import races as raceworker


class ClusterRaces(Races):
    def __init__(self, hub, store, settings, cluster) -> None:
        super().__init__(hub, store, settings)
        self.cluster = cluster
        self.feeds = ClusterFeeds(cluster.bus, settings.fanout_rate, RACE)

    def _new_id(self, home: str | None) -> str:
        wanted = proposed_id.get()   # nginx's request id, which it hashed this request by
        if home is None and wanted and wanted not in self.races and \
                self.cluster.state.claim_new(RACE + wanted):
            return wanted
        return super()._new_id(home)

    async def open(self, lanes, vary: str, values: list, home: str | None = None,
                   worker: int | None = None, session=None) -> Race:
        race = await super().open(lanes, vary, values, home, worker, session)
        await self.cluster.race_owned(race)
        return race

    async def adopt(self, race_id: str, snapshot: Snapshot) -> Race:
        """The race as its snapshot left it: same ids, join codes, token (by its digest)."""
        saved = json.loads(snapshot.export)
        worker = self.hub.place()
        handles = []
        try:
            for lane_id, code in snapshot.lanes:
                handles.append(self.store.adopt(lane_id, code, worker))
                handles[-1].race = race_id
            for handle, export in zip(handles, saved["lanes"], strict=True):
                await self.hub.open(handle, "export", export)
        except BaseException:
            for handle in handles:
                self.store.remove(handle.id)
            raise
        race = Race(race_id, "", handles, saved["vary"], saved["values"], digest=snapshot.digest)
        self.races[race_id] = race
        await self.cluster.race_owned(race)
        if snapshot.status == "playing":
            await self.control(race, Play(snapshot.speed))
        return race

    async def joined(self, race: Race) -> Outcome:
        """What a follower on another instance needs: every lane as of one moment."""
        outcomes = await self.hub.call(race.lanes[0], raceworker.race_join, race.ids)
        return self._compose(race, outcomes)

    def end(self, race: Race) -> None:
        """Ended for good: its shared records go too."""
        if self.races.get(race.id) is race:
            super().end(race)
            self.cluster.released(RACE + race.id, {h.join_code: h.id for h in race.lanes})

    def let_go(self, race: Race) -> None:
        """Another instance owns it now: its followers here reconnect (through nginx, to be
        fed through Redis), its lanes go without ending it anywhere else."""
        if self.races.pop(race.id, None) is None:
            return
        if race.driver is not None:
            race.driver.cancel()
        feed = self.feeds.feeds.pop(race.id, None)
        if feed is not None:
            feed.moved()
        self.cluster.keep.update(race.ids)
        try:
            for handle in race.lanes:
                self.store.remove(handle.id)
        finally:
            self.cluster.keep.difference_update(race.ids)
