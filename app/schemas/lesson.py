"""Lesson files (lessons/README.md): slides with a title, narration and actions, and each
action's arguments. Validation only; app/lessons.py reads the files, app/lesson_actions.py
runs the actions."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from app.presets import PRESETS
from app.schemas.session import ConfigPatch, SessionConfig
from app.schemas.step import Strict

PresetName = Literal[tuple(PRESETS)]
MAX_SLIDES = 200
MAX_NARRATION = 20_000   # characters: a slide is read from the back row, not a chapter
MAX_PLAY_STEPS = 1_000_000


class Lax(BaseModel):
    """A teacher's file, not a program's request: 2 may stand for 2.0 (YAML has no float
    type hint), but unknown fields are still refused, so a typo is named, never ignored."""

    model_config = ConfigDict(extra="forbid")


class Slide(Lax):
    title: str = Field(min_length=1, max_length=200)
    narration: str = Field("", max_length=MAX_NARRATION, description="Markdown, $…$ for maths")
    # Each a one-key mapping, `name: arguments`; app/lesson_actions.ACTIONS checks the rest.
    do: list[dict[str, Any]] = Field([], max_length=20)


class LessonFile(Lax):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=1000)
    slides: list[Slide] = Field(min_length=1, max_length=MAX_SLIDES)


# --- each action's arguments -----------------------------------------------------------


class PresetArgs(RootModel[PresetName]):
    """`preset: xor`: the session starts again from a lecture preset (app/presets.py)."""


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
    slide: int = Field(ge=0, lt=MAX_SLIDES)


class LessonPosition(BaseModel):
    type: Literal["lesson"] = "lesson"
    lesson: str
    title: str
    slide: int = Field(description="0-based")
    count: int
    highlight: dict | None
