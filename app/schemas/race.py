"""Race requests and answers: 2–4 lanes, each an ordinary session, that differ in one setting.

A race is given as a base (a preset, a session config, or the defaults) and `vary`: one of
the settings below with 2–4 values, one a lane. Every lane's config is the base with that one
setting changed, so lanes share the data set and (unless `init` varies) the initial weights.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.answers import ExportAnswer, SessionState, Status
from app.schemas.presets import PRESETS, preset_config
from app.schemas.session import HiddenActivation, SessionConfig
from app.schemas.step import Finite, InitName, OptimizerName, Strict, whole
from engine.trainer import MAX_BATCH

MIN_LANES, MAX_LANES = 2, 4
PresetName = Literal[tuple(PRESETS)]


def _absent_not_null(schema: dict) -> None:
    """The field may be left out but not sent as null (a validator refuses null): the schema
    shows the value's own type only, so that what fits the schema is what the server takes."""
    kept = [choice for choice in schema.pop("anyOf") if choice.get("type") != "null"]
    schema.update(kept[0])


def _lanes(item):
    """2–4 distinct values, or absent (uniqueItems says "distinct" in the schema)."""
    distinct = {"uniqueItems": True}
    lanes = Field(min_length=MIN_LANES, max_length=MAX_LANES, json_schema_extra=distinct)
    return Annotated[Annotated[list[item], lanes] | None, Field(json_schema_extra=_absent_not_null)]


class Vary(Strict):
    """Exactly one setting, with 2–4 distinct values: one lane each, in this order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"learning_rate": [0.01, 0.1, 1.0]}],
            "minProperties": 1,
            "maxProperties": 1,
        }
    )

    optimizer: _lanes(OptimizerName) = Field(
        None, description="optimizer names; each keeps the base's learning rate"
    )
    learning_rate: _lanes(Annotated[Finite, Field(gt=0)]) = None
    activation: _lanes(HiddenActivation) = Field(None, description="hidden layers'")
    init: _lanes(InitName) = None
    batch_size: _lanes(whole(ge=1, le=MAX_BATCH)) = None
    l2_rate: _lanes(Annotated[Finite, Field(ge=0)]) = Field(
        None, description="L2 regularisation rates λ (0: none in effect)"
    )

    @model_validator(mode="after")
    def one_setting(self):
        given = [name for name in VARIED if name in self.model_fields_set]
        if len(given) == 1 and getattr(self, given[0]) is None:
            raise ValueError(f"vary.{given[0]}: a list of 2–4 values, not null")
        if len(given) != 1:
            raise ValueError(
                f"vary: give exactly one of {', '.join(VARIED)} (with 2–4 values), got "
                f"{', '.join(given) or 'none'}"
            )
        values = getattr(self, given[0])
        if len(set(values)) != len(values):
            raise ValueError(f"vary.{given[0]}: each value once, got {values}")
        return self

    @property
    def field(self) -> str:
        return next(name for name in VARIED if getattr(self, name) is not None)

    @property
    def values(self) -> list:
        return getattr(self, self.field)


def _optimizer(base: dict, name: str) -> dict:
    rate = base["optimizer"]["learning_rate"]
    return {**base, "optimizer": {"name": name, "learning_rate": rate}}


def _learning_rate(base: dict, rate: float) -> dict:
    return {**base, "optimizer": {**base["optimizer"], "learning_rate": rate}}


# How one lane's config differs from the base: (base as JSON, the lane's value) -> config.
VARIED = {
    "optimizer": _optimizer,
    "learning_rate": _learning_rate,
    "activation": lambda base, v: {**base, "activation": v},
    "init": lambda base, v: {**base, "init": v},
    "batch_size": lambda base, v: {**base, "batch_size": v},
    "l2_rate": lambda base, v: {**base, "regularization": {"name": "l2", "rate": v}},
}


class FromSession(Strict):
    """The session a race is started from, with its control token: the session's followers
    are taken to the race while it runs (a `race` stream message, docs/stream.md), and back."""

    id: str = Field(max_length=200, description="the session's id")
    token: str = Field(max_length=200, description="the session's control token")


class RaceConfig(Strict):
    """A new race: a base (a preset's or a config; neither: the defaults) and what varies."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"preset": "xor", "vary": {"learning_rate": [0.5, 2.0, 8.0]}}],
            "not": {"required": ["preset", "config"]},
        }
    )

    preset: PresetName | None = Field(
        None,
        description="a lecture preset's name as the base",
        json_schema_extra=_absent_not_null,
    )
    config: SessionConfig | None = Field(
        None,
        description="the base settings, e.g. the current session's `config`",
        json_schema_extra=_absent_not_null,
    )
    vary: Vary
    from_session: FromSession | None = Field(
        None,
        description="the session it is started from, with its token: its followers are "
        "taken to the race while it runs, and back when it ends",
        json_schema_extra=_absent_not_null,
    )

    @model_validator(mode="after")
    def one_base(self):
        for name in ("preset", "config", "from_session"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name}: leave it out rather than null")
        if self.preset is not None and self.config is not None:
            raise ValueError("preset: give a preset or a config as the base, not both")
        base = self.base()
        if self.vary.field == "init" and base.network is not None and base.network.weights:
            raise ValueError(
                "vary.init: the base sets its weights by hand (config.network), so every "
                "initialisation would start from the same weights; vary something else"
            )
        return self

    def base(self) -> SessionConfig:
        if self.preset is not None:
            return preset_config(self.preset)
        return self.config or SessionConfig()

    def lanes(self) -> list[SessionConfig]:
        """Each lane's session config: the base with the varied setting changed (a lane the
        base and its value cannot make: a ValidationError). Made in the race's worker for
        POST /api/races (app/routes/lanes.py): it validates the base's data again for every lane."""
        base = self.base().model_dump(mode="json")
        change = VARIED[self.vary.field]
        return [SessionConfig.model_validate(change(base, value)) for value in self.vary.values]

    def lane_configs(self) -> list[dict]:
        """Each lane's session config, as JSON."""
        return [lane.model_dump(mode="json") for lane in self.lanes()]


class RaceState(BaseModel):
    """A race: what GET /api/races/{id} and every race control answer."""

    id: str
    vary: str = Field(description="the setting that differs between lanes")
    values: list = Field(description="its value in each lane, in lane order")
    status: Status = Field(
        description="playing while any lane plays; diverged when every lane has diverged"
    )
    speed: float | None = Field(description="steps a second; null: as fast as it goes")
    step: int = Field(description="the lanes' step (a diverged lane stays where it stopped)")
    followers: int = Field(description="pages following the race")
    watch_url: str = Field(description="the race page: /race/{id}")
    join_code: str = Field(description="/join/{code} opens the race page (it is lane 1's code)")
    session: str | None = Field(
        None, description="the session it was started from (`from_session`), whose followers "
        "it takes along; null: none"
    )
    lanes: list[SessionState] = Field(description="each lane's session, in lane order")


class RaceCreated(BaseModel):
    """A new race: keep `token`, it is the only way to control the race and its lanes."""

    id: str
    token: str = Field(description="send it as the X-Control-Token header to control it")
    watch_url: str
    state: RaceState


class SavedRaceLink(BaseModel):
    code: str
    url: str = Field(description="the page that reopens it: /r/{code}")


class SavedRace(BaseModel):
    """A saved race: what varies and every lane's export (as GET /api/sessions/{id}/export)."""

    format: Literal["backprop-playground/race@1"]
    vary: str
    values: list
    lanes: list[ExportAnswer]
