"""Lesson files (lessons/README.md): slides with a title, narration and actions, and each
action's arguments. Validation only; app/classroom/lessons.py reads the files,
app/classroom/lesson_actions.py
runs the actions."""

from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from app.schemas.presets import PRESETS
from app.schemas.race import MAX_LANES, MIN_LANES, VARIED, RaceConfig, Vary
from app.schemas.session import ConfigPatch, PlayBody, SessionConfig
from app.schemas.step import Strict, whole

PresetName = Literal[tuple(PRESETS)]
MAX_SLIDES = 200
MAX_NARRATION = 20_000   # characters: a slide is read from the back row, not a chapter
MAX_PLAY_STEPS = 1_000_000


class Lax(BaseModel):
    """A teacher's file, not a program's request: 2 may stand for 2.0 (YAML has no float
    type hint), but unknown fields are still refused, so a typo is named, never ignored."""

    model_config = ConfigDict(extra="forbid")


# Which loss a slide's narration means: E of the shown step's batch before its update (what
# the step record holds), or the training set's loss after it (the header's "train loss").
LossShown = Literal["before", "after"]


class Slide(Lax):
    title: str = Field(min_length=1, max_length=200)
    narration: str = Field("", max_length=MAX_NARRATION, description="Markdown, $…$ for maths")
    # Each a one-key mapping, `name: arguments`; app/lesson_actions.ACTIONS checks the rest.
    do: list[dict[str, Any]] = Field([], max_length=20)
    loss: LossShown | None = Field(None, description="the loss the narration means, labelled")
    pace: float | None = Field(
        None, description="epochs a second while the slide plays (the page's pace menu)")

    @field_validator("pace")
    @classmethod
    def a_play_speed(cls, pace: float | None) -> float | None:
        return _play_speed(pace)


class LessonFile(Lax):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=1000)
    slides: list[Slide] = Field(min_length=1, max_length=MAX_SLIDES)


# --- each action's arguments -----------------------------------------------------------


class PresetArgs(RootModel[PresetName]):
    """`preset: xor`: the session starts again from a lecture preset (app/schemas/presets.py)."""


class ConfigArgs(RootModel[SessionConfig]):
    """`config: {...}`: the session starts again from this SessionConfig (docs/stream.md)."""


class PatchArgs(RootModel[ConfigPatch]):
    """`patch: {...}`: change hyper-parameters live, as PATCH /config does."""


class ResetArgs(RootModel[None | Literal[True]]):
    """`reset:` back to step 0 (the same seed, the same start)."""


class StepArgs(RootModel[Annotated[int, Field(ge=1, le=10_000)]]):
    """`step: n`: n training steps, the last one recorded."""


class PlayUntilArgs(Lax):
    """`play_until: {epoch: N}` or `{loss: x}`: train, shown as it goes, until epoch ≥ N or
    the training loss < x, at most `within` steps."""

    epoch: int | None = Field(None, ge=1)
    loss: float | None = Field(None, gt=0)
    within: int = Field(20_000, ge=1, le=MAX_PLAY_STEPS, description="steps at most")

    @model_validator(mode="after")
    def one_goal(self):
        if (self.epoch is None) == (self.loss is None):
            raise ValueError("give either epoch or loss")
        return self


PhaseName = Literal["forward", "loss", "backward", "update"]


class StepToArgs(Lax):
    """`step_to: {phase: backward, layer: 2}`: walk one step's phases to this one."""

    phase: PhaseName
    layer: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def layer_where_needed(self):
        if self.phase in ("forward", "backward") and self.layer is None:
            raise ValueError(f"the {self.phase} phase needs a layer (1..L)")
        if self.phase in ("loss", "update") and self.layer is not None:
            raise ValueError(f"the {self.phase} phase has no layer; drop it")
        return self


class EdgeRef(Lax):
    layer: int = Field(ge=1, description="k: the edge runs from layer k−1 to layer k")
    i: int = Field(ge=0, description="source node in layer k−1")
    j: int = Field(ge=0, description="target node in layer k")


class NodeRef(Lax):
    layer: int = Field(ge=0, description="k = 0 (inputs) … L")
    j: int = Field(ge=0)


class BiasRef(Lax):
    layer: int = Field(ge=1)
    j: int = Field(ge=0, description="the node of layer k whose bias it is")


class HighlightArgs(Lax):
    """`highlight: {edge: {layer, i, j}}` (or node, bias): select it on every screen, its
    numbers and chain rule in the inspector."""

    edge: EdgeRef | None = None
    node: NodeRef | None = None
    bias: BiasRef | None = None

    @model_validator(mode="after")
    def one_target(self):
        if sum(x is not None for x in (self.edge, self.node, self.bias)) != 1:
            raise ValueError("give exactly one of edge, node or bias")
        return self

    def target(self) -> dict:
        """As the page's pick event names it (static/network-layout.js hit())."""
        if self.edge is not None:
            return {"kind": "W", **self.edge.model_dump()}
        if self.node is not None:
            return {"kind": "node", **self.node.model_dump()}
        return {"kind": "b", "layer": self.bias.layer, "i": self.bias.j}


def _inner(model: type[BaseModel], data: dict):
    """`data` checked by another model (the race's own, not a copy of it), its errors placed
    under the field being validated: {learning_rate: [.., -1]}'s `learning_rate.1` is this
    field's `[1]` (lenient, as a lesson file is: YAML's 3 stands for 3.0)."""
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as err:
        raise ValidationError.from_exception_data(err.title, [
            InitErrorDetails(type=e["type"], loc=tuple(e["loc"][1:]), input=e["input"],
                             ctx=e.get("ctx", {}))
            for e in err.errors()
        ]) from None


def _play_speed(speed: float | None) -> float | None:
    """Steps a second as POST /play takes them (null: as fast as it goes)."""
    return _inner(PlayBody, {"speed": speed}).speed


class RaceArgs(Lax):
    """`race: {vary: learning_rate, values: [0.03, 0.3, 3]}`: a race of 2–4 lanes that differ
    in that one setting, played while the slide is shown (app/loop/races.py). Its base is the
    session's config as the slide finds it, or `preset` / `config`; `speed` as for play."""

    vary: Literal[tuple(VARIED)] = Field(description="the setting that differs between lanes")
    values: list[Any] = Field(
        min_length=MIN_LANES, max_length=MAX_LANES, description="one lane each, in order"
    )
    preset: PresetName | None = Field(None, description="a lecture preset's name as the base")
    config: SessionConfig | None = Field(None, description="a SessionConfig as the base")
    speed: float | None = Field(None, description="steps a second; null: as fast as it goes")

    @field_validator("values")
    @classmethod
    def values_of_the_setting(cls, values: list, info: ValidationInfo) -> list:
        if "vary" not in info.data:
            return values   # its own error names it
        return _inner(Vary, {info.data["vary"]: values}).values

    @field_validator("speed")
    @classmethod
    def a_play_speed(cls, speed: float | None) -> float | None:
        return _play_speed(speed)

    @model_validator(mode="after")
    def lanes_that_can_be_made(self):
        if self.preset is not None or self.config is not None:
            self.lane_configs(None)   # the base is known: its lanes are checked now
        return self

    def request(self, current: dict | None) -> RaceConfig:
        """The race as POST /api/races takes it; `current`: the session's config, the base
        when the slide names none."""
        if self.preset is not None or self.config is not None:
            base = {"preset": self.preset, "config": self.config and self.config.model_dump(
                mode="json", exclude_none=True)}
        else:
            base = {"config": current}
        body = {**{k: v for k, v in base.items() if v is not None},
                "vary": {self.vary: self.values}}
        return RaceConfig.model_validate_json(orjson.dumps(body))

    def lane_configs(self, current: dict | None) -> list[dict]:
        """Each lane's SessionConfig as JSON; ValueError saying why a lane cannot be made."""
        try:
            return self.request(current).lane_configs()
        except ValidationError as err:
            raise ValueError("; ".join(
                "".join(f"{'.'.join(map(str, e['loc']))}: " for _ in e["loc"][:1])
                + e["msg"].removeprefix("Value error, ") for e in err.errors()
            )) from None


# --- answers ---------------------------------------------------------------------------


class LessonProblemOut(BaseModel):
    file: str
    line: int = Field(description="1-based line in the file")
    field: str = Field(description="e.g. slides[2].do[0].play_until.epoch")
    message: str


class SlideOut(BaseModel):
    title: str
    narration: str = Field(description="the Markdown as written")
    html: str = Field(description="the narration as HTML; maths in span.math / div.math")
    actions: list[dict[str, Any]]
    highlight: dict | None = Field(description="the pick target, as the page names it")
    loss: LossShown | None = Field(
        None, description="before: E of the shown step before its update; after: the train loss")
    pace: float | None = Field(None, description="epochs a second the slide plays at")


class LessonOut(BaseModel):
    name: str
    file: str
    title: str
    description: str
    slides: list[SlideOut]


class LessonListed(BaseModel):
    name: str
    file: str
    title: str | None = Field(description="null when the file has an error")
    description: str
    slides: int
    errors: list[LessonProblemOut]


class LessonMove(Strict):
    """Present one slide of a lesson: its actions drive the session, followers see it."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"lesson": "xor", "slide": 1}]}
    )

    lesson: str = Field(min_length=1, max_length=100)
    slide: whole(ge=0, lt=MAX_SLIDES)


class LessonRace(BaseModel):
    """The race a slide shows: follow it at /api/races/{id}/stream, or open `watch_url`."""

    id: str
    watch_url: str
    vary: str
    values: list


class SlideLoss(BaseModel):
    """The loss a slide's narration means, from the slide's state, for the page to label."""

    shown: LossShown = Field(description="before: E of the step's batch before its update; "
                                         "after: the training set's loss after it")
    value: float | None = Field(description="null: no step taken yet, or no training set")
    step: int = Field(description="the step shown (the one whose update it is before or after)")


class LessonPosition(BaseModel):
    type: Literal["lesson"] = "lesson"
    lesson: str
    title: str
    slide: int = Field(description="0-based")
    count: int
    highlight: dict | None
    race: LessonRace | None = Field(None, description="the race the slide plays, or null")
    loss: SlideLoss | None = Field(None, description="the slide's `loss`, or null")
