"""Every engine registry entry reaches the schemas, the page's menus and a /api/step round trip.

Adding an activation, loss, optimizer, regularizer, initializer, data set or feature to the
engine must need no edit elsewhere: this walks every registry and fails on the first entry the
API or the page does not offer, or whose optimizer state does not survive state out → state in.
"""

import copy
import re
import typing

import numpy as np
import pytest

from app.schemas.race import RaceConfig
from app.schemas.session import DatasetName, FeatureName, HiddenActivation, OutputActivation
from app.schemas.step import (
    OPTIMIZER_MODELS,
    ActivationName,
    InitName,
    LossName,
    OptimizerState,
    Regularization,
)
from engine.activations import ACTIVATIONS
from engine.datasets import DATASETS
from engine.features import FEATURE_LABELS, FEATURES
from engine.initializers import INITIALIZERS
from engine.losses import LOSSES
from engine.optimizers import OPTIMIZERS, OptimizerConfig
from tests.app.support import DESIGN_STEP

HIDDEN = [name for name, g in ACTIVATIONS.items() if not g.output_only]


def literal(annotation) -> set:
    return set(typing.get_args(annotation))


def options(page: str, select_id: str) -> list[str]:
    block = re.search(rf'<select id="{select_id}".*?</select>', page, re.S).group(0)
    return [value or text for value, text in
            re.findall(r'<option(?: value="([^"]*)")?>([^<]*)</option>', block)]


@pytest.fixture(scope="module")
def page():
    from fastapi.testclient import TestClient

    from app.main import create_app

    return TestClient(create_app()).get("/").text   # no lifespan: the page needs no worker


def test_every_name_registry_is_a_schema_literal():
    assert literal(ActivationName) == set(ACTIVATIONS) == literal(OutputActivation)
    assert literal(HiddenActivation) == set(HIDDEN)
    assert literal(LossName) == set(LOSSES)
    assert literal(InitName) == set(INITIALIZERS)
    assert literal(DatasetName) == {*DATASETS, "custom"}
    assert literal(FeatureName) == set(FEATURES)
    from engine.regularizers import REGULARIZERS

    assert literal(Regularization.model_fields["name"].annotation) == set(REGULARIZERS)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_has_a_model_with_its_hypers_and_a_state_with_its_slots(name):
    spec = OPTIMIZERS[name]
    model = OPTIMIZER_MODELS[name]
    assert set(model.model_fields) == {"name", "learning_rate", *(h.name for h in spec.hypers)}
    defaults = model(name=name)
    assert defaults.learning_rate == spec.learning_rate
    for h in spec.hypers:
        assert getattr(defaults, h.name) == h.default
        assert hasattr(OptimizerConfig(), h.name), f"OptimizerConfig has no field {h.name}"
    assert set(spec.slot_names) <= set(OptimizerState.model_fields)


def test_the_optimizer_config_defaults_are_the_registry_defaults():
    config = OptimizerConfig()
    for spec in OPTIMIZERS.values():
        for h in spec.hypers:
            assert getattr(config, h.name) == h.default, h.name


def test_every_menu_on_the_page_lists_its_registry(page):
    assert options(page, "activation") == HIDDEN
    assert options(page, "optimizer") == list(OPTIMIZERS)
    assert options(page, "loss") == ["auto", *LOSSES]
    from engine.regularizers import REGULARIZERS

    assert options(page, "regularization") == ["none", *REGULARIZERS]
    assert re.findall(r'data-dataset="([^"]+)"', page) == [*DATASETS, "custom"]
    shown = re.findall(r'name="features" value="([^"]+)">([^<]+)</label>', page)
    assert shown == list(FEATURE_LABELS.items())
    assert list(FEATURE_LABELS) == list(FEATURES)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_hyper_has_a_control_shown_for_it(page, name):
    for h in OPTIMIZERS[name].hypers:
        found = re.search(rf'<label data-for-optimizer="([^"]*)">[^<]*<input id="{h.name}"', page)
        assert found and name in found.group(1).split(), h.name


RACED = [("optimizer", name) for name in OPTIMIZERS] + [("activation", name) for name in HIDDEN]


@pytest.mark.parametrize(("setting", "name"), RACED, ids=[f"{s}-{n}" for s, n in RACED])
def test_a_race_can_vary_each_optimizer_and_hidden_activation(setting, name):
    other = next(n for n in (OPTIMIZERS if setting == "optimizer" else HIDDEN) if n != name)
    lanes = RaceConfig.model_validate({"vary": {setting: [other, name]}}).lanes()
    chosen = [lane.optimizer.name if setting == "optimizer" else lane.activation for lane in lanes]
    assert chosen == [other, name]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_state_round_trips_through_api_step(client, name):
    """Two steps in one call equal a step, then a step from the first answer's network and
    optimizer state: every slot the engine keeps goes out and comes back in."""
    body = copy.deepcopy(DESIGN_STEP)
    body["optimizer"] = {"name": name, "learning_rate": 0.1}
    whole = client.post("/api/step", json={**body, "steps": 2})
    first = client.post("/api/step", json=body)
    assert whole.status_code == first.status_code == 200, first.text
    state = first.json()["optimizer_state"]
    given = {slot for slot, value in state.items() if value is not None}
    assert given == {"name", "t", *OPTIMIZERS[name].slot_names}
    network = first.json()["network"]
    second = client.post("/api/step", json={**body, "network": network, "optimizer_state": state})
    assert second.status_code == 200, second.text
    for key in ("weights", "biases"):
        np.testing.assert_allclose(
            np.concatenate([np.ravel(w) for w in second.json()["network"][key]]),
            np.concatenate([np.ravel(w) for w in whole.json()["network"][key]]), rtol=1e-12,
        )
    assert second.json()["optimizer_state"]["t"] == whole.json()["optimizer_state"]["t"] == 2


@pytest.mark.parametrize("name", DATASETS)
def test_each_data_set_makes_a_session_that_says_its_problem(new_session, name):
    spec = DATASETS[name]
    _, _, body = new_session(dataset=name, hidden=[2])
    problem = body["state"]["problem"]
    assert (problem["kind"], problem["classes"]) == (spec.kind, spec.classes)
    assert problem["fused"] == LOSSES[body["state"]["config"]["loss"]].fused
