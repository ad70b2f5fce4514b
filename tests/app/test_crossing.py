"""A control is a typed call, checked as it is made on the loop, before it crosses to the
worker (app/crossing.py): a malformed one fails there with its name, and the hub and the
races take nothing else."""

import asyncio

import pytest

from app.crossing import (
    BadControl,
    Config,
    Gradcheck,
    Graph,
    Pause,
    Phase,
    Play,
    Rebuild,
    Reset,
    Step,
    Undo,
)
from app.loop.races import RACE_CONTROLS, Race, Races


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda: Step(0), "Step: steps 0"),
        (lambda: Step(2.5), "Step: steps 2.5"),
        (lambda: Step(True), "Step: steps True"),
        (lambda: Play(float("nan")), "Play: speed nan"),
        (lambda: Play("fast"), "Play: speed 'fast'"),
        (lambda: Phase("up"), "Phase: direction 'up'"),
        (lambda: Reset(undoable="yes"), "Reset: undoable"),
        (lambda: Config("lr=1"), "Config: patch"),
        (lambda: Rebuild(config=None), "Rebuild: config"),
        (lambda: Gradcheck("w", 1, 0, 0), "Gradcheck: kind 'w'"),
        (lambda: Graph(1, "0"), "Graph: layer, node"),
    ],
)
def test_a_malformed_control_fails_as_it_is_made_naming_itself(make, named):
    with pytest.raises(BadControl, match=named):
        make()


def test_well_made_controls_keep_their_fields():
    assert Step(5).steps == 5 and not Step(5).after_divergence
    assert Play(None).speed is None and Play(30).speed == 30
    assert Rebuild(config={"hidden": [2]}, undoable=True).undoable
    assert Gradcheck("b", 2, 1).j is None


def test_the_hub_takes_controls_only(client, new_session):
    session_id, _, _ = new_session()
    hub = client.app.state.hub
    handle = client.app.state.store.get(session_id)
    with pytest.raises(BadControl, match="no control"):
        client.portal.call(hub.control, handle, "pause")


def test_a_race_takes_the_controls_its_lanes_take_together_only():
    races = Races.__new__(Races)
    race = Race.__new__(Race)
    for control in (Undo(), Config({})):
        with pytest.raises(BadControl, match="no race control"):
            asyncio.run(races.control(race, control))
    assert isinstance(Pause(), RACE_CONTROLS) and isinstance(Step(3), RACE_CONTROLS)
