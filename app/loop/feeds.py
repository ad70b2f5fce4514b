"""Followers: each session's feed hands the messages its worker encoded once to every
follower, through latest-only mailboxes.

A follower holds only the latest message of each type, so a slow one skips frames and never
makes memory grow; the loss series of the frames it skipped comes after as `losses`
messages, from the last few seconds' that the feed keeps.

A feed paces its deliveries by its audience (`pace`): a few followers get every frame; a
lecture's hundreds get the latest `FEWEST_FPS` times a second, so that what one feed asks of
its instance stays near its fan-out rate (`BACKPROP_FANOUT_RATE` deliveries a second) however
many follow, but never at a follower's expense of its floor.
A follower who keeps up is written to straight from the delivery (`Follower.deliver`), with
no task woken; one whose connection has not drained is left to its own loop.
"""

import asyncio
from collections import deque
from collections.abc import Callable

from app.worker import frames

# skipped frames' `losses` go before "frame"
ORDER = ("state", "lesson", "race", "heatmaps", "frame", "end")
END = frames.dumps({"type": "end", "reason": "the session has ended"})
MOVED = "moved"   # not sent: the follower's connection closes with 1012 and the page reconnects
KEPT_LOSSES = 256   # the frames' loss series a feed keeps for followers that skipped some
FEWEST_FPS = 24        # never fewer deliveries than this a second (a follower's floor)
DIRECT = frozenset({"state", "heatmaps", "frame"})   # what a delivery may write itself


def pace(followers: int, rate: float) -> float:
    """Seconds between a feed's deliveries to `followers`, at `rate` follower-deliveries a
    second: next to none for a class (every frame goes), a 24th of a second for a lecture's
    thousand."""
    return min(1 / FEWEST_FPS, followers / rate)


class Follower:
    def __init__(self) -> None:
        self.slots: dict[str, str] = {}
        self.wake = asyncio.Event()
        self.loss_end: int | None = None  # next loss index this follower needs
        self.frame_span: tuple[int, int] = (0, 0)
        # The connection's write of whole messages when it can be done now (False: it
        # cannot), set by the fan-out's loop; None: every message goes through that loop.
        self.write: Callable[[list[str]], bool] | None = None
        self.sending = False   # the loop is sending: news waits in the slots for it
        self.backlog: list[str] = []   # taken from the slots, not written: the loop sends it

    def offer(self, kind: str, text: str, span: tuple[int, int] | None = None) -> None:
        if kind == "state":
            self.frame_span = (0, 0)   # a state (a reset's too) starts the steps anew
        elif span is not None:
            if span[1] < self.frame_span[1]:
                return   # older than the frame it has (its join's): a step back
            self.frame_span = span
        self.slots[kind] = text

    def tell(self, kind: str, text: str) -> None:
        """Offer what only the follower's loop sends (a slide, the end, a move), and wake it."""
        self.offer(kind, text)
        self.wake.set()

    def deliver(self, feed: "Feed") -> None:
        """Write the news now when nothing is being sent to this follower, else wake its
        loop: a follower who keeps up costs a delivery one write, not a task's turn."""
        if self.write is None or self.sending or not DIRECT.issuperset(self.slots):
            self.wake.set()
            return
        texts = self.take(feed)
        if texts and not self.write(texts):
            self.backlog = texts
            self.wake.set()

    def news(self, feed: "Feed") -> list[str]:
        """What the loop sends now: the backlog, then the news, in order. The fan-out's loop
        awaits `wake` itself before calling it (a coroutine here would be one more to resume
        for every follower and message)."""
        self.wake.clear()
        texts, self.backlog = self.backlog, []
        return texts + self.take(feed)

    def take(self, feed: "Feed") -> list[str]:
        """The news since the last take, in order, with `losses` messages for any gap
        skipped."""
        slots, self.slots = self.slots, {}
        texts = []
        for kind in ORDER:
            if kind not in slots:
                continue
            if kind == "frame":
                start, end = self.frame_span
                if self.loss_end is not None and start > self.loss_end:
                    texts.extend(feed.losses_between(self.loss_end, start))
                self.loss_end = end
            texts.append(slots[kind])
        return texts


class Feed:
    """One session's followers and the loss series of its recent frames."""

    def __init__(self, fanout_rate: float) -> None:
        self.fanout_rate = fanout_rate
        self.followers: set[Follower] = set()
        self.recent_losses: deque[tuple[int, int, str]] = deque(maxlen=KEPT_LOSSES)
        self.joining: asyncio.Future | None = None
        self.sticky: dict[str, str] = {}   # kind -> the latest, which every joiner gets too
        self.held: dict[str, str] = {}     # published, not delivered yet: the latest of each
        self.held_span: tuple[int, int] | None = None
        self.due = 0.0                     # the loop's time the next delivery may go
        self.timer: asyncio.TimerHandle | None = None
        self.gaps: dict[tuple[int, int], list[str]] = {}   # losses_between's, this delivery

    def announce(self, kind: str, text: str) -> None:
        """A message made on the event loop's side (a lesson's slide): every follower gets
        it now, and every follower who joins later gets the latest of its kind."""
        self.sticky[kind] = text
        for follower in self.followers:
            follower.tell(kind, text)

    def publish(self, outcome) -> None:
        """Hold an outcome's messages (encoded once, in the worker) for every follower, and
        deliver them now or when the pace allows: the latest of each kind goes."""
        messages = outcome.messages
        if "losses" in messages and outcome.span is not None:
            self.recent_losses.append((*outcome.span, messages["losses"]))
        if "state" in messages:   # what was held before it, it covers
            self.held, self.held_span = {"state": messages["state"]}, None
        for kind in ("frame", "heatmaps"):
            if kind in messages:
                self.held[kind] = messages[kind]
        if "frame" in messages:
            self.held_span = outcome.span
        if self.timer is None and self.held:
            loop = asyncio.get_running_loop()
            if loop.time() >= self.due:
                self.flush()
            else:
                self.timer = loop.call_at(self.due, self.flush)

    def flush(self) -> None:
        """Offer what is held to every follower, and send it."""
        self.timer = None
        held, span, self.held, self.held_span = self.held, self.held_span, {}, None
        self.gaps = {}
        self.due = asyncio.get_running_loop().time() + pace(len(self.followers), self.fanout_rate)
        for follower in self.followers:
            if "state" in held:
                follower.offer("state", held["state"])
                follower.loss_end = None   # the state's history covers every step so far
            if "frame" in held:
                follower.offer("frame", held["frame"], span)
            if "heatmaps" in held:
                follower.offer("heatmaps", held["heatmaps"])
            follower.deliver(self)

    def losses_between(self, start: int, end: int) -> list[str]:
        """The kept `losses` messages of the steps from `start` to `end`: found once for
        every follower of a delivery that skipped the same frames."""
        found = self.gaps.get((start, end))
        if found is None:
            found = self.gaps[start, end] = [
                text for first, last, text in self.recent_losses if last > start and first < end]
        return found

    def join(self, outcome) -> Follower:
        """A new follower, given what its join call made for it alone."""
        follower = Follower()
        for kind in ("state", "frame", "heatmaps"):
            follower.offer(kind, outcome.messages[kind], outcome.span if kind == "frame" else None)
        for kind, text in self.sticky.items():
            follower.offer(kind, text)
        follower.loss_end = None
        follower.wake.set()
        self.followers.add(follower)
        return follower

    def leave(self, follower: Follower) -> None:
        self.followers.discard(follower)

    def end(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for follower in self.followers:
            follower.tell("end", END)   # followers hear it and close


class Feeds:
    """One feed per session, made when first needed, ended when the session goes."""

    def __init__(self, fanout_rate: float) -> None:
        self.fanout_rate = fanout_rate
        self.feeds: dict[str, Feed] = {}

    def of(self, handle) -> Feed:
        feed = self.feeds.get(handle.id)
        if feed is None:
            feed = self.feeds[handle.id] = Feed(self.fanout_rate)
        return feed

    def discard(self, handle) -> None:
        feed = self.feeds.pop(handle.id, None)
        if feed is not None:
            feed.end()

    def end_all(self) -> None:
        for feed in self.feeds.values():
            feed.end()
        self.feeds.clear()
