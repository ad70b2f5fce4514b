"""Values kept in one place: the point limit is the server's setting alone, the plane's extent,
export format and design example have one source, and an engine error carries its field."""

import json
import pickle
from pathlib import Path

import pytest

from app.routes.catalog import CLASS_COLORS, catalog
from app.routes.guards import field_path
from app.schemas.session import EXPORT_FORMAT, OwnData
from app.schemas.step import DESIGN_EXAMPLE
from engine.datasets import BOX, DATASETS, make_dataset
from engine.errors import EngineError

ROOT = Path(__file__).resolve().parents[2]


def test_the_point_limit_is_the_servers_setting_alone(make_client):
    client = make_client(max_points=10_000)
    made = client.post("/api/sessions", json={"dataset": "circle", "points": 8000, "hidden": [2]})
    assert made.status_code == 201, made.text
    refused = client.post("/api/sessions", json={"dataset": "circle", "points": 10_001})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "points"]
    assert len(make_dataset("circle", 20_000, 0.0, 0.5, seed=0).X_train) == 10_000


def test_own_points_and_the_page_use_the_engines_plane():
    assert catalog_of()["plane"] == BOX
    OwnData(inputs=[[BOX, -BOX]], labels=[1])
    with pytest.raises(ValueError, match="less than or equal to 6"):
        OwnData(inputs=[[BOX + 0.1, 0.0]], labels=[1])
    for name in ("owndata.js", "heatmap.js"):
        text = (ROOT / "static" / name).read_text()
        assert "REGISTRY.plane" in text and "6]" not in text


def test_the_export_format_and_design_example_have_one_source(client, new_session):
    session_id, _, _ = new_session(hidden=[2])
    assert client.get(f"/api/sessions/{session_id}/export").json()["format"] == EXPORT_FORMAT
    assert (ROOT / "docs" / "example.json").resolve() == (
        ROOT / "app" / "schemas" / "design_example.json"
    )
    assert json.loads((ROOT / "docs" / "example.json").read_text()) == DESIGN_EXAMPLE


def test_class_colours_live_in_the_registry_and_nowhere_in_javascript():
    assert catalog_of()["class_colors"] == list(CLASS_COLORS)
    for path in (ROOT / "static").glob("*.js"):
        for colour in CLASS_COLORS:
            assert colour not in path.read_text(), (path.name, colour)


def test_an_engine_error_keeps_its_field_across_a_process_boundary():
    err = pickle.loads(pickle.dumps(EngineError("loss: no", "loss")))
    assert (str(err), err.field) == ("loss: no", "loss")


@pytest.mark.parametrize(
    ("field", "loc"),
    [(None, []), ("points", ["points"]), ("optimizer_state.m", ["optimizer_state", "m"]),
     ("activations[1]", ["activations", 1]), ("network.weights[0]", ["network", "weights", 0])],
)
def test_a_field_becomes_a_pydantic_loc(field, loc):
    assert field_path(field) == loc


def test_the_app_answers_an_engine_error_at_its_field_not_its_first_word(client, new_session):
    # the message starts "n must…" (the engine's parameter); the field is the API's "points"
    with pytest.raises(EngineError) as raised:
        make_dataset("circle", 0, 0.0, 0.5, seed=0)
    assert raised.value.field == "points" and str(raised.value).startswith("n ")
    session_id, control, _ = new_session(hidden=[2])
    exported = client.get(f"/api/sessions/{session_id}/export").json()
    exported["batch_order"] = exported["batch_order"][:-1]
    answer = client.post("/api/sessions/import", json=exported)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "batch_order"]


def test_every_data_set_says_its_outputs_on_the_page():
    for name, spec in catalog_of()["datasets"].items():
        assert (spec["kind"], spec["classes"]) == (DATASETS[name].kind, DATASETS[name].classes)


def catalog_of() -> dict:
    from app.config import Settings

    return catalog(Settings())
