"""Followers: each session's feed hands the messages its worker encoded once to every
follower, through latest-only mailboxes.

A follower holds only the latest message of each type, so a slow one skips frames and never
makes memory grow; the loss series of the frames it skipped comes after as `losses`
messages, from the last few seconds' that the feed keeps.
"""

import asyncio
from collections import deque

from app import frames

# skipped frames' `losses` go before "frame"
ORDER = ("state", "lesson", "heatmaps", "frame", "end")
END = frames.dumps({"type": "end", "reason": "the session has ended"})
MOVED = "moved"   # not sent: the follower's connection closes with 1012 and the page reconnects
KEPT_LOSSES = 256   # the frames' loss series a feed keeps for followers that skipped some


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

    def news(self, feed: "Feed") -> list[str]:
        """The news since the last call, in order, with `losses` messages for any gap
        skipped. The fan-out's loop awaits `wake` itself before calling it (a coroutine here
        would be one more to resume for every follower and message)."""
        self.wake.clear()
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

    def __init__(self) -> None:
        self.followers: set[Follower] = set()
        self.recent_losses: deque[tuple[int, int, str]] = deque(maxlen=KEPT_LOSSES)
        self.joining: asyncio.Future | None = None
        self.sticky: dict[str, str] = {}   # kind -> the latest, which every joiner gets too

    def announce(self, kind: str, text: str) -> None:
        """A message made on the event loop's side (a lesson's slide): every follower gets
        it now, and every follower who joins later gets the latest of its kind."""
        self.sticky[kind] = text
        for follower in self.followers:
            follower.offer(kind, text)

    def publish(self, outcome) -> None:
        """Offer an outcome's messages (encoded once, in the worker) to every follower."""
        messages = outcome.messages
        if "losses" in messages and outcome.span is not None:
            self.recent_losses.append((*outcome.span, messages["losses"]))
        for follower in self.followers:
            if "state" in messages:
                follower.offer("state", messages["state"])
                follower.loss_end = None   # the state's history covers every step so far
            if "frame" in messages:
                follower.offer("frame", messages["frame"], outcome.span)
            if "heatmaps" in messages:
                follower.offer("heatmaps", messages["heatmaps"])

    def losses_between(self, start: int, end: int) -> list[str]:
        return [text for first, last, text in self.recent_losses if last > start and first < end]

    def join(self, outcome) -> Follower:
        """A new follower, given what its join call made for it alone."""
        follower = Follower()
        for kind in ("state", "frame", "heatmaps"):
            follower.offer(kind, outcome.messages[kind], outcome.span if kind == "frame" else None)
        for kind, text in self.sticky.items():
            follower.offer(kind, text)
        follower.loss_end = None
        self.followers.add(follower)
        return follower

    def leave(self, follower: Follower) -> None:
        self.followers.discard(follower)

    def end(self) -> None:
        for follower in self.followers:
            follower.offer("end", END)   # followers hear it and close


class Feeds:
    """One feed per session, made when first needed, ended when the session goes."""

    def __init__(self) -> None:
        self.feeds: dict[str, Feed] = {}

    def of(self, handle) -> Feed:
        feed = self.feeds.get(handle.id)
        if feed is None:
            feed = self.feeds[handle.id] = Feed()
        return feed

    def discard(self, handle) -> None:
        feed = self.feeds.pop(handle.id, None)
        if feed is not None:
            feed.end()

    def end_all(self) -> None:
        for feed in self.feeds.values():
            feed.end()
        self.feeds.clear()
