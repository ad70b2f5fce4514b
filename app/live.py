"""Live sessions: the pump that plays a session, and its followers' latest-only mailboxes.

One pump task a session trains in slices that leave room for the event loop, encodes
each frame once and offers it to every follower. A follower holds only the latest message
of each type, so a slow one skips frames and never makes memory grow.
"""

import asyncio
import logging
import time

from app import frames, state
from app.sessions import Session

log = logging.getLogger(__name__)
ORDER = ("state", "losses", "heatmaps", "frame", "end")
END = frames.dumps({"type": "end", "reason": "the session has ended"})


class Follower:
    def __init__(self) -> None:
        self.slots: dict[str, str] = {}
        self.wake = asyncio.Event()
        self.loss_end: int | None = None  # next loss index this follower needs
        self.frame_span: tuple[int, int] = (0, 0)

    def offer(self, kind: str, text: str, span: tuple[int, int] | None = None) -> None:
        self.slots[kind] = text
        if span is not None:
            self.frame_span = span
        self.wake.set()

    async def take(self, session: Session) -> list[str]:
        """Wait for news; return it in order, with a `losses` message for any gap skipped."""
        await self.wake.wait()
        self.wake.clear()
        slots, self.slots = self.slots, {}
        if "state" in slots:
            self.loss_end = session.trainer.step_count
        if "frame" in slots:
            start, end = self.frame_span
            if self.loss_end is not None and start > self.loss_end:
                first, values = session.log.since(self.loss_end)
                values = values[: max(0, -(-(start - first) // session.log.stride))]
                slots["losses"] = frames.losses(first, session.log.stride, values)
            self.loss_end = end
        return [slots[kind] for kind in ORDER if kind in slots]


class Pump:
    """Plays one session and publishes to its followers."""

    def __init__(self, session: Session, settings) -> None:
        self.session, self.settings = session, settings
        self.followers: set[Follower] = set()
        self.seq = 0
        self.sent_version = -1
        self.sent_structure = -1
        self.heatmap_version = -1
        self.heatmap_due = 0.0  # when the next heatmap may go
        self.kick = asyncio.Event()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())
        self.kick.set()

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.offer_all("end", END)   # followers hear it and close

    async def run(self) -> None:
        """Play and publish until cancelled; a failure pauses the session, it never ends the
        pump silently (followers would otherwise wait for frames that never come)."""
        while True:
            try:
                await self._play()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("session %s: training or publishing failed", self.session.id)
                self.session.status = "paused"
                self.session.changed()
                await asyncio.sleep(0.1)

    async def _play(self) -> None:
        interval = 1.0 / self.settings.frame_rate
        played_steps, played_since = 0, time.perf_counter()
        while True:
            session = self.session
            tick = time.perf_counter()
            if session.status == "playing":
                if session.speed is None:
                    # Train for most of a frame interval, then publish and let sends through.
                    self._train_until(tick + 0.75 * interval)
                else:
                    due = int(session.speed * (tick - played_since)) - played_steps
                    if due > 0:
                        before = session.trainer.step_count
                        self._train_until(tick + 0.75 * interval, limit=due)
                        played_steps += session.trainer.step_count - before
                session.changed()
            if self.followers:
                self.publish()
            if session.status != "playing":
                self.kick.clear()
                await self.kick.wait()
                played_steps, played_since = 0, time.perf_counter()
                continue
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - tick)))

    def _train_until(self, deadline: float, limit: int | None = None) -> None:
        session, chunk, taken = self.session, 8, 0
        while session.status == "playing" and time.perf_counter() < deadline:
            n = chunk if limit is None else min(chunk, limit - taken)
            if n <= 0:
                break
            session.step(n)
            taken += n

    def publish(self) -> None:
        """Encode what changed once, offer it to every follower."""
        session = self.session
        if session.structure != self.sent_structure:
            self.sent_structure = session.structure
            self.offer_all("state", self.state_message())
        if session.version == self.sent_version:
            return
        self.sent_version = session.version
        self.seq += 1
        text, start, end = frames.frame(session, self.seq, *session.take_pending())
        for follower in self.followers:
            follower.offer("frame", text, (start, end))
        now, interval = time.perf_counter(), 1.0 / self.settings.heatmap_rate
        if self.heatmap_version != session.version and now >= self.heatmap_due:
            # Keep the cadence from the due time, not from now: publishes come on frame ticks,
            # and "40 ms since the last" rounds up to 3 ticks of 16.7 ms, i.e. 20/s, not 25.
            on_time = now - self.heatmap_due < interval
            self.heatmap_due = (self.heatmap_due if on_time else now) + interval
            self.heatmap_version = session.version
            self.offer_all(
                "heatmaps",
                frames.heatmaps(
                    session, self.settings.heatmap_resolution, self.settings.thumbnail_stride
                ),
            )

    def offer_all(self, kind: str, text: str) -> None:
        for follower in self.followers:
            follower.offer(kind, text)

    def state_message(self) -> str:
        session = self.session
        return frames.dumps(
            {
                "type": "state",
                **state.session_state(session),
                "points": state.points(session),
                "history": state.history(session),
            }
        )

    def join(self) -> Follower:
        follower = Follower()
        session = self.session
        follower.offer("state", self.state_message())  # its history covers every step so far
        step = session.trainer.step_count
        text, start, end = frames.frame(session, self.seq, step, [])
        follower.offer("frame", text, (start, end))
        follower.offer(
            "heatmaps",
            frames.heatmaps(
                session, self.settings.heatmap_resolution, self.settings.thumbnail_stride
            ),
        )
        self.followers.add(follower)
        session.followers = len(self.followers)
        return follower

    def leave(self, follower: Follower) -> None:
        self.followers.discard(follower)
        self.session.followers = len(self.followers)


class Pumps:
    """One pump per session, made when first needed, stopped when the session goes."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.pumps: dict[str, Pump] = {}

    def of(self, session: Session) -> Pump:
        pump = self.pumps.get(session.id)
        if pump is None:
            pump = self.pumps[session.id] = Pump(session, self.settings)
            session.on_change = lambda _: pump.start()
        return pump

    def discard(self, session: Session) -> None:
        pump = self.pumps.pop(session.id, None)
        if pump is not None:
            pump.stop()

    def stop_all(self) -> None:
        for pump in self.pumps.values():
            pump.stop()
        self.pumps.clear()
