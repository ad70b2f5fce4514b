"""The hub: the event loop's side of the worker processes that train the sessions.

Each worker is a ProcessPoolExecutor of one process (the standard library's tool: futures,
pickling and death detection come with it), so a session stays in the one process that
owns it. Per worker, two drivers hand out rounds of slices fairly, one call a round: a
session followed by several (the teacher's) whenever a frame of it is due, every other
playing session in turn, least recently served first; how long each slice trains follows
the cycle the worker's sessions really get (_measure). Calls answer with finished bytes
(app/worker/process.py); here they are only routed. A stateless request (/api/step, /api/gradcheck)
is a job kept in one worker and worked in parts of about STEP_PART_SECONDS between those
calls, one part at a time a worker, until done or its client has gone. A worker that dies is
replaced and its sessions rebuilt from their last checkpoints, which every answer carries.
"""

import asyncio
import logging
import multiprocessing
import os
import secrets
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from app.crossing import BadControl, Control, Failure, Outcome, Pause, SlideState, Step
from app.loop.feeds import Feeds
from app.loop.store import Handle, SessionStore
from app.worker import process as work

log = logging.getLogger(__name__)

DRIVERS_PER_WORKER = 3   # rounds queued a worker: it never idles while the loop is busy
ROUND_SECONDS = 0.012    # a round's slices fill about this long; a shared view is queued in
                         # each of a worker's rounds when due (bench/classroom.py: 5 ms gave
                         # students 12 frames/s, 12 ms 15-16 with the teacher still ≥ 30;
                         # with 3 rounds queued and a 1/28 s cycle, median 20, min 15)
SWITCH_INTERVAL = 0.0005 # seconds: a result waits this long at most for the GIL (default 5 ms)
SLICE_OVERHEAD = 0.0006  # seconds a slice spends beyond training (record, frame): at first;
                         # then as each worker measures it, preemption by other work included
SHORTEST_SLICE = 0.0003  # training seconds a slice at least, however many play: ≈ 100 steps of
                         # the default network, at 20 slices a second ≈ 80 epochs/s on a core
                         # of its own (TF Playground: ~56)
LOADED_CYCLE = 1 / 24    # under load, every playing session gets a slice this often: the
                         # worker's slice budget follows the cycle its sessions really get
CYCLE_WEIGHT = 0.05      # each session's gap between two slices moves the measured cycle this much
BUDGET_GAIN = 0.1        # a round moves the budget's scale by (wanted / measured cycle) ** this
SCALE_RANGE = (0.05, 4.0)
RELAX = 0.05             # a round with nothing to measure moves the scale this much back to 1
STEP_PART_SECONDS = 0.02 # a long step request's part: a shared view waits ≤ this for a frame
HEATMAP_SHARE = 0.02     # seconds of heatmap spacing per playing session of a worker
SHARED = 2               # followers that make a session a shared view (the teacher's)


def _context():
    # A fork server, not fork: the event loop's threads must not be forked. Its preload
    # loads the compiled loop once; every worker forked from it (a restart too) starts ready.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["app.worker.warmed", "app.main"])
    return context


def _close_unused_result_writer(executor: ProcessPoolExecutor) -> None:
    """The executor keeps its own copy of the pipe its process answers on, and never writes
    to it. A process killed halfway through an answer then leaves the executor's reader
    waiting forever for the rest (the pool never turns broken, every call to it hangs).
    Closed here, once the process holds its copy, the reader sees the end of the pipe."""
    executor._result_queue._writer.close()


class Worker:
    def __init__(self, index: int, settings) -> None:
        self.index = index
        self.settings = settings
        self.executor: ProcessPoolExecutor | None = None
        self.wake = asyncio.Event()
        self.generation = 0
        self.overhead = SLICE_OVERHEAD
        self.cycle = LOADED_CYCLE   # measured: how long a session playing waits between slices
        self.scale = 1.0            # the fair budget times this gives that cycle (feedback)
        self.reviving: asyncio.Task | None = None
        self.waiting = 0   # calls submitted and not yet answered
        self.jobs = 0      # stateless requests under way here (Hub.stateless)
        # Stateless requests' parts go to the worker one at a time, in turn: however many
        # run, a session's call or round waits behind one part at most.
        self.lane = asyncio.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            1, mp_context=_context(), initializer=work.start,
            initargs=(self.settings, self.index, os.getpid()),
        )

    async def run(self, fn, *args):
        """fn(*args) in this worker, after any restart under way has rebuilt its sessions."""
        if self.reviving is not None and not self.reviving.done():
            await asyncio.shield(self.reviving)
        self.waiting += 1
        try:
            return await self.submit(fn, *args)
        finally:
            self.waiting -= 1

    async def submit(self, fn, *args):
        loop = asyncio.get_running_loop()
        if self.executor is not None:
            return await loop.run_in_executor(self.executor, fn, *args)
        self.executor = self._executor()   # the first call, or one after a stop or a death
        answer = loop.run_in_executor(self.executor, fn, *args)   # starts the process
        _close_unused_result_writer(self.executor)
        return await answer

    def shutdown(self, wait: bool = False) -> None:
        """Stop the worker; `wait` for it to exit (a stop: its round ends within ms)."""
        if self.executor is not None:
            self.executor.shutdown(wait=wait, cancel_futures=True)
            self.executor = None


class Hub:
    def __init__(self, settings, store: SessionStore, feeds: Feeds) -> None:
        self.settings, self.store, self.feeds = settings, store, feeds
        count = settings.workers or os.cpu_count() or 1
        self.workers = [Worker(i, settings) for i in range(count)]
        self.tasks: list[asyncio.Task] = []

    # --- lifetime --------------------------------------------------------------------

    async def start(self) -> None:
        # The executors' threads hand results to the event loop; while the loop is busy
        # sending frames, the default 5 ms switch interval would add that much to each slice.
        sys.setswitchinterval(SWITCH_INTERVAL)
        await asyncio.gather(*(w.run(work.pid) for w in self.workers))
        loop = asyncio.get_running_loop()
        self.tasks = [
            loop.create_task(self._drive(w))
            for w in self.workers
            for _ in range(DRIVERS_PER_WORKER)
        ]
        self.tasks.append(loop.create_task(self._watch_unwatched()))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for w in self.workers:
            w.shutdown(wait=True)

    def pids(self) -> list[int]:
        return [
            p.pid for w in self.workers if w.executor for p in w.executor._processes.values()
        ]

    # --- calls -----------------------------------------------------------------------

    def place(self) -> int:
        """The worker for a new session: least playing, then fewest sessions, each weighed by
        the slices it takes (weight): a class's copies go beside the teacher's projected
        session only as far as its frames leave room."""
        def load(w: Worker):
            handles = self.store.on_worker(w.index)
            playing = sum(self.weight(h) for h in handles if h.status == "playing")
            return playing, sum(self.weight(h) for h in handles)

        return min(self.workers, key=load).index

    def weight(self, handle: Handle) -> float:
        """Sessions' worth of slices: a shared view is served whenever its frame is due, up
        to frame_rate a second, where any other gets one slice a LOADED_CYCLE."""
        if handle.followers >= SHARED:
            return max(1.0, self.settings.frame_rate * LOADED_CYCLE)
        return 1.0

    async def call(self, handle: Handle, fn, *args):
        """Run fn in the handle's worker; if that worker died, revive it and try once more."""
        w = self.workers[handle.worker]
        generation = w.generation
        try:
            return await w.run(fn, *args)
        except BrokenProcessPool:
            await self.revive(w, generation)
        except KeyError as err:
            if err.args != (handle.id,) or handle.checkpoint is None:
                raise
            # Its worker was replaced while the hub was stopped: rebuild it there.
            await w.run(work.restore, handle.checkpoint, handle.id, handle.join_code)
        return await w.run(fn, *args)

    async def stateless(self, start, args: tuple, abandoned) -> bytes | tuple | None:
        """A stateless request (/api/step, /api/gradcheck) as a job in the worker with the
        fewest: `start(key, *args)` there opens it (or answers a refusal tuple), then parts of
        about STEP_PART_SECONDS follow, in that worker's lane, with sessions' calls and rounds
        between them, until one answers the bytes. A request given up on (`abandoned()`,
        asked before each part) is dropped there at once: None. A worker that died under it
        is revived and the request started once more."""
        w = min(self.workers, key=lambda w: (w.jobs, w.waiting))
        generation = w.generation
        try:
            return await self._job(w, start, args, abandoned)
        except BrokenProcessPool:
            await self.revive(w, generation)
        return await self._job(w, start, args, abandoned)

    async def _job(self, w: Worker, start, args: tuple, abandoned) -> bytes | tuple | None:
        key = secrets.token_hex(8)
        w.jobs += 1
        open_there = True   # from the start's call on: it may open it even if cancelled
        try:
            async with w.lane:
                refused = await w.run(start, key, *args)
            if refused is not None:
                open_there = False
                return refused
            while True:
                async with w.lane:
                    if await abandoned():
                        return None
                    answer = await w.run(work.job_part, key, STEP_PART_SECONDS)
                if answer is not None:
                    open_there = False   # done: the worker freed it
                    return answer
        finally:   # given up, cancelled or failed: dropping a job already freed is harmless
            w.jobs -= 1
            if open_there:
                self._submit(w, work.drop_job, key)

    async def open(self, handle: Handle, source: str, data: dict) -> Outcome:
        """Build a session in its worker from a config or an export; gone again on failure."""
        try:
            outcome = await self.call(
                handle, work.open_session, handle.id, handle.join_code, source, data
            )
        except BaseException:
            self.store.remove(handle.id)
            raise
        self.absorb(handle, outcome)
        return outcome

    async def control(self, handle: Handle, control: Control) -> Outcome:
        """A control or a read on the session in its worker (checked as it was made)."""
        if not isinstance(control, Control):
            raise BadControl(f"{control!r} is no control (app/crossing.py)")
        heatmap = self.heatmap_due(handle)
        outcome = await self.call(
            handle, work.call, handle.id, control, handle.followers, heatmap
        )
        self.absorb(handle, outcome)
        return outcome

    async def step(self, handle: Handle, steps: int, abandoned) -> Outcome:
        """`steps` steps in parts of about STEP_PART_SECONDS each, other sessions' rounds
        between them, then the last step recorded: the same state as one step(steps). A
        request given up on (`abandoned()`) stops at the next part, its last step recorded."""
        left, diverged, asked = steps, False, steps
        while left > 1 and not diverged:
            taken, diverged = await self.call(
                handle, work.step_part, handle.id, left - 1, STEP_PART_SECONDS, asked
            )
            left, asked = left - taken, None
            if taken == 0 or await abandoned():
                left = 1
                break
        return await self.control(handle, Step(left, after_divergence=diverged))

    async def export(self, handle: Handle) -> dict:
        return await self.call(handle, work.export, handle.id)

    async def capture(self, handle: Handle) -> SlideState:
        """The session's whole state, for control "adopt" to put back (a lesson's slide)."""
        return await self.call(handle, work.capture, handle.id)

    async def join(self, handle: Handle) -> Outcome:
        return await self.call(handle, work.join, handle.id)

    def drop(self, handle: Handle) -> None:
        self._submit(self.workers[handle.worker], work.drop, handle.id)

    @staticmethod
    def _submit(w: Worker, fn, *args) -> None:
        """fn(*args) in the worker, unawaited: something to forget there."""
        try:
            if w.executor is not None:
                w.executor.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError):
            pass   # a dead or stopped worker has forgotten it already

    def absorb(self, handle: Handle, outcome: Outcome) -> None:
        """Take in what a call reported: status, the checkpoint, messages for followers."""
        was_playing = handle.status == "playing"
        handle.status, handle.speed = outcome.status, outcome.speed
        if handle.status == "playing" and not was_playing:
            handle.unwatched_since = time.monotonic()
            self.workers[handle.worker].wake.set()
        self._keep(handle, outcome.checkpoint)
        if outcome.messages:
            self.feeds.of(handle).publish(outcome)

    @staticmethod
    def _keep(handle: Handle, checkpoint) -> None:
        if checkpoint is None:
            return
        old = handle.checkpoint
        if old is not None:
            if checkpoint.log_state is None:
                checkpoint.log_state = old.log_state
                checkpoint.charts = old.charts
                old.chunks.extend(checkpoint.chunks)
                checkpoint.chunks = old.chunks
            if checkpoint.config is None:
                checkpoint.config = old.config
        handle.checkpoint = checkpoint

    # --- fair slices -----------------------------------------------------------------

    def heatmap_due(self, handle: Handle, playing: int | None = None) -> bool:
        """Heatmaps on this call? At most heatmap_rate a second, spaced further under load
        (HEATMAP_SHARE per session playing on the worker): each costs about a slice."""
        now = time.monotonic()
        if handle.followers == 0 or now < handle.heatmap_due:
            return False
        if playing is None:
            playing = sum(h.status == "playing" for h in self.store.on_worker(handle.worker))
        spacing = max(1.0 / self.settings.heatmap_rate, HEATMAP_SHARE * playing)
        # Keep the cadence from the due time, not from now, while slices come on time.
        on_time = now - handle.heatmap_due < spacing
        handle.heatmap_due = (handle.heatmap_due if on_time else now) + spacing
        return True

    def _round(self, w: Worker) -> tuple[list[Handle], float, int]:
        """(the sessions to serve in the next round, seconds until one is due if none,
        playing count). A shared view (the teacher's) whose frame is due goes first, then the
        others least recently served first, as many as fill ROUND_SECONDS."""
        now, interval = time.monotonic(), 1.0 / self.settings.frame_rate
        playing = [h for h in self.store.on_worker(w.index) if h.status == "playing"]
        playing = [h for h in playing if h.race is None]   # a race plays its lanes together
        # A shared view may be in every round a worker has queued (the worker runs them in
        # turn): it never waits for the round ahead of it to end before being queued again.
        ready = [h for h in playing if not h.in_flight or h.followers >= SHARED]
        # A set speed needs a slice a frame; as fast as it goes, always.
        due = [h for h in ready if h.speed is None or h.served_at + interval <= now]
        if not due:
            waits = [h.served_at + interval - now for h in ready]
            return [], min(waits, default=1.0), len(playing)
        # This round starts when the one ahead of it ends, about ROUND_SECONDS from now.
        starts = now + ROUND_SECONDS
        due.sort(key=lambda h: (not (h.followers >= SHARED and h.served_at + interval <= starts),
                                h.served_at))
        cost = self.budget(w, len(playing)) + w.overhead
        return due[: max(1, int(ROUND_SECONDS / cost))], 0.0, len(playing)

    def budget(self, w: Worker, playing: int) -> float:
        """Training seconds a slice: every playing session of the worker gets a frame each
        LOADED_CYCLE, after what the frames themselves cost (as the worker measures it),
        times the scale that makes the cycle its sessions really get that long (_measure);
        never less than SHORTEST_SLICE, which keeps training going however many play."""
        interval = 1.0 / self.settings.frame_rate
        fair = max(LOADED_CYCLE / max(playing, 1) - w.overhead, SHORTEST_SLICE) * w.scale
        return max(SHORTEST_SLICE, min(interval - w.overhead, fair))

    @staticmethod
    def _measure(w: Worker, gaps: list[float]) -> None:
        """Feedback from a round: `gaps` are the seconds its sessions (playing as fast as they
        go, no shared view) waited since their previous slice. A slice's wall time is not its
        cost: the worker shares the cores with the event loop, the other workers and anything
        else on the machine, and waits while the event loop is busy. So the cycle is measured,
        and the budget's scale follows: shorter slices when the cycle is too long (frames
        first), longer when there is room (training)."""
        if not gaps:   # only shared views or set speeds: nothing to measure, so the scale
            w.scale += RELAX * (1.0 - w.scale)   # goes back to none (a teacher left alone)
            return
        for gap in gaps:   # a session back from a pause waited longer: count it as 4 cycles
            w.cycle += CYCLE_WEIGHT * (min(gap, 4 * LOADED_CYCLE) - w.cycle)
        low, high = SCALE_RANGE
        w.scale = min(high, max(low, w.scale * (LOADED_CYCLE / w.cycle) ** BUDGET_GAIN))

    async def _drive(self, w: Worker) -> None:
        while True:
            handles, wait, playing = self._round(w)
            if not handles:
                w.wake.clear()
                try:
                    await asyncio.wait_for(w.wake.wait(), timeout=wait)
                except TimeoutError:
                    pass
                continue
            await self._serve(w, handles, self.budget(w, playing), playing)

    async def _serve(
        self, w: Worker, handles: list[Handle], budget: float, playing: int
    ) -> None:
        """One round: a slice of each session, in one call to their worker."""
        for handle in handles:
            handle.in_flight = True
        slices = [(h.id, budget, h.followers, self.heatmap_due(h, playing)) for h in handles]
        generation = w.generation
        try:
            results = await w.run(work.play_round, slices)
        except BrokenProcessPool:
            await self.revive(w, generation)
            return
        finally:
            now = time.monotonic()
            gaps = [now - h.served_at for h in handles
                    if h.speed is None and h.followers < SHARED and h.served_at > 0]
            for handle in handles:
                handle.in_flight, handle.served_at = False, now
        self._measure(w, gaps)
        for handle, result in zip(handles, results, strict=True):
            if self.store.get(handle.id) is not handle:
                continue   # it ended during the round
            if isinstance(result, Failure):
                # A failure pauses the session; it never stops it silently (its followers
                # would wait for frames that never come).
                log.error("session %s: training or publishing failed\n%s", handle.id,
                          result.traceback)
                await self._pause_after_failure(handle)
            else:
                w.overhead = 0.9 * w.overhead + 0.1 * result.overhead
                self.absorb(handle, result)

    async def _pause_after_failure(self, handle: Handle) -> None:
        try:
            await self.control(handle, Pause())
        except Exception:
            log.exception("session %s: could not pause it after a failure", handle.id)
            handle.status = "paused"

    # --- nobody watching, nothing burning -----------------------------------------------

    async def _watch_unwatched(self) -> None:
        limit = self.settings.unwatched_seconds
        while True:
            await asyncio.sleep(min(1.0, limit / 4))
            now = time.monotonic()
            for handle in list(self.store.sessions.values()):
                idle = now - handle.unwatched_since
                if handle.race is not None:
                    continue   # a race's lanes pause together (app/loop/races.py)
                if handle.status == "playing" and handle.followers == 0 and idle > limit:
                    log.info("session %s: nobody has watched it for %.0f s; paused",
                             handle.id, idle)
                    try:
                        await self.control(handle, Pause())
                    except Exception:
                        log.exception("session %s: could not pause it", handle.id)

    # --- a worker that dies ------------------------------------------------------------

    async def revive(self, w: Worker, generation: int) -> None:
        """Replace a dead worker (once, however many calls noticed) and rebuild its sessions
        from their checkpoints: they go on from the last state their followers were sent."""
        if w.generation != generation:
            return   # revived already
        if w.reviving is None or w.reviving.done():
            w.reviving = asyncio.get_running_loop().create_task(self._replace(w))
        await asyncio.shield(w.reviving)

    async def _replace(self, w: Worker) -> None:
        started = time.monotonic()
        w.shutdown()
        await w.submit(work.pid)
        handles = self.store.on_worker(w.index)
        restored = 0
        for handle in handles:
            if handle.checkpoint is None:
                self.store.remove(handle.id)
                continue
            await w.submit(work.restore, handle.checkpoint, handle.id, handle.join_code)
            restored += 1
        w.generation += 1
        w.wake.set()
        log.error(
            "worker %d died; replaced, %d session(s) restored from their checkpoints in %.2f s",
            w.index, restored, time.monotonic() - started,
        )
