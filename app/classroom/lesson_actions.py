"""What a lesson's slide does to the teacher's session: one entry per action in ACTIONS,
`name: (argument model, coroutine)`. A new action is one more entry here and its argument
model in app/schemas/lesson.py; a name not here is refused when the file loads.
`race` starts a race (app/loop/races.py) that the presentation owns: app/classroom/presenting.py
ends it
when the slide is left or the session ends.

The actions run on the event loop's side and drive the session only through the hub, as the
REST controls do: each is a few calls into the session's worker.
"""

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from pydantic import BaseModel

from app.crossing import Config, Control, Phase, Play, Read, Rebuild, Reset
from app.schemas.lesson import (
    ConfigArgs,
    HighlightArgs,
    PatchArgs,
    PlayUntilArgs,
    PresetArgs,
    RaceArgs,
    ResetArgs,
    StepArgs,
    StepToArgs,
)
from app.schemas.presets import PRESETS
from app.worker.session import phases

HOPS = 30             # play_until shows the run as about this many frames, not one jump
HOP_SECONDS = 1 / 30  # between them: the boundary is seen forming over about a second
LOSS_HOP_SHARE = 8    # play_until loss: each hop at most 1/8 of the steps so far (≥ 1 epoch)


class ActionFailed(Exception):
    """An action that cannot do what the slide says on this session; the message says why
    (app/classroom/presenting.py adds the file, line and field)."""


async def _never() -> bool:
    return False


@dataclass
class Run:
    """One slide's actions on one session; `state` is the SessionState after the last call,
    `race` the race the slide started (app/loop/races.py Races: `races`), its owner's to end."""

    hub: object
    handle: object
    races: object = None
    state: dict | None = None
    race: object = None
    # The slide's pace (epochs a second, as the page's pace menu) spaces play_until's hops;
    # `quiet`: a slide on the way to the one shown, whose hops (the same ones, so the same
    # state) need no watching.
    pace: float | None = None
    quiet: bool = False

    async def between_hops(self, steps: int, per_epoch: int) -> None:
        if not self.quiet:
            await asyncio.sleep(steps / (self.pace * per_epoch) if self.pace else HOP_SECONDS)

    async def control(self, control: Control) -> dict:
        return self._took(await self.hub.control(self.handle, control))

    async def step(self, steps: int) -> dict:
        return self._took(await self.hub.step(self.handle, steps, _never))

    async def read(self) -> dict:
        return self.state if self.state is not None else await self.control(Read())

    def _took(self, outcome) -> dict:
        self.state = orjson.loads(outcome.body)
        return self.state


async def _preset(run: Run, args: PresetArgs) -> None:
    await run.control(Rebuild(config=PRESETS[args.root].config))


async def _config(run: Run, args: ConfigArgs) -> None:
    await run.control(Rebuild(config=args.root.model_dump(mode="json")))


async def _patch(run: Run, args: PatchArgs) -> None:
    await run.control(Config(args.root.model_dump(mode="json", exclude_unset=True)))


async def _reset(run: Run, args: ResetArgs) -> None:
    await run.control(Reset())


async def _step(run: Run, args: StepArgs) -> None:
    await run.step(args.root)


async def _batches(run: Run) -> tuple[int, int, int]:
    """(steps an epoch takes, steps left in this one, epoch now), from the batch order."""
    export = await run.hub.export(run.handle)
    rows, batch = len(export["batch_order"]), export["config"]["batch_size"]
    left = math.ceil((rows - export["batch_cursor"]) / batch)
    return math.ceil(rows / batch), max(left, 1), export["epoch"]


async def _play_until(run: Run, args: PlayUntilArgs) -> None:
    """Steps in hops, each a frame for every follower, until the goal or `within` steps;
    each hop is at most BACKPROP_MAX_STEPS, as a step request would be."""
    per_epoch, left, epoch = await _batches(run)
    if args.epoch is not None:
        need = 0 if epoch >= args.epoch else left + (args.epoch - epoch - 1) * per_epoch
        total = min(need, args.within)
        hop = min(max(1, math.ceil(total / HOPS)), run.hub.settings.max_steps)
        taken = 0
        while taken < total and (await run.read())["status"] != "diverged":
            size = min(hop, total - taken)
            if taken:
                await run.between_hops(size, per_epoch)
            await run.step(size)
            taken += size
        return
    taken = 0
    while taken < args.within:
        state = await run.read()
        loss = state["metrics"]["train_loss"]
        if state["status"] == "diverged" or (loss is not None and loss < args.loss):
            return
        hop = min(max(per_epoch, taken // LOSS_HOP_SHARE), run.hub.settings.max_steps)
        size = min(hop, args.within - taken)
        if taken:
            await run.between_hops(size, per_epoch)
        await run.step(size)
        taken += size


async def _step_to(run: Run, args: StepToArgs) -> None:
    """Walk the phases of the shown step to this one (a new step if none is being walked)."""
    state = await run.read()
    L = len(state["layers"]) - 1
    table = phases(L)
    want = (args.phase, args.layer)
    if want not in table:
        raise ActionFailed(f"layer: this network has layers 1..{L}, not {args.layer}")
    target = table.index(want)
    if state["phase"] is None:   # a new step, walked from its phase 0
        await run.step(1)
        state = await run.control(Phase("next"))
    while state["phase"]["index"] != target:
        direction = "next" if state["phase"]["index"] < target else "prev"
        state = await run.control(Phase(direction))


async def _highlight(run: Run, args: HighlightArgs) -> None:
    """Nothing to do to the session; the pages select it. Checked against the network."""
    sizes = (await run.read())["layers"]
    t, L = args.target(), len(sizes) - 1
    name = "edge" if t["kind"] == "W" else "node" if t["kind"] == "node" else "bias"
    if not (t["kind"] == "node" or t["layer"] >= 1) or t["layer"] > L:
        raise ActionFailed(f"{name}.layer: this network has layers {0 if name == 'node' else 1}"
                           f"..{L}, not {t['layer']}")
    k, j = t["layer"], t["j"] if t["kind"] != "b" else t["i"]
    if j >= sizes[k]:
        raise ActionFailed(f"{name}.j: layer {k} has nodes 0..{sizes[k] - 1}, not {j}")
    if t["kind"] == "W" and t["i"] >= sizes[k - 1]:
        raise ActionFailed(f"edge.i: layer {k - 1} has nodes 0..{sizes[k - 1] - 1}, not {t['i']}")


async def _race(run: Run, args: RaceArgs) -> None:
    """A race of the slide's lanes, from the session's config as it is now unless the slide
    names a base, played at once; a second race on the same slide replaces the first."""
    if run.races is None:
        raise ActionFailed("this server does not run races")
    try:
        configs = args.lane_configs((await run.read())["config"])
    except ValueError as err:
        raise ActionFailed(str(err)) from None
    if run.race is not None:
        run.races.end(run.race)
        run.race = None
    lanes = [("config", c) for c in configs]
    try:   # as POST /api/races: a prompt answer when the lanes' worker is too busy
        run.race = await asyncio.wait_for(run.races.open(lanes, args.vary, args.values,
                                                          home=run.handle.id),
                                          run.races.settings.create_timeout_seconds)
    except TimeoutError:
        raise ActionFailed("the server is too busy to start a race now; try again") from None
    await run.races.control(run.race, Play(args.speed))


@dataclass(frozen=True)
class ActionSpec:
    args: type[BaseModel]
    run: Callable[[Run, BaseModel], Awaitable[None]]


ACTIONS: dict[str, ActionSpec] = {
    "preset": ActionSpec(PresetArgs, _preset),
    "config": ActionSpec(ConfigArgs, _config),
    "patch": ActionSpec(PatchArgs, _patch),
    "reset": ActionSpec(ResetArgs, _reset),
    "step": ActionSpec(StepArgs, _step),
    "play_until": ActionSpec(PlayUntilArgs, _play_until),
    "step_to": ActionSpec(StepToArgs, _step_to),
    "highlight": ActionSpec(HighlightArgs, _highlight),
    "race": ActionSpec(RaceArgs, _race),
}

# What a slide does each time it is shown, beyond its state: its state (every other action)
# is kept once made (app/classroom/presenting.py), a race is started again.
ON_SHOW = {"race"}

# The actions that start the session anew, and the SessionConfig each starts it from: a
# lesson's session opens with the first of them (app/classroom/lessons.py Lesson.start).
SESSION_STARTS: dict[str, Callable[[BaseModel], dict]] = {
    "preset": lambda args: PRESETS[args.root].config,
    "config": lambda args: args.root.model_dump(mode="json"),
}
