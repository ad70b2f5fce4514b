"""The notebook widget's Python API: the engine in this process, the same messages a server
streams, the page's step-through, live play, the record, hand edits, follow()."""

import json
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest

from app.schemas.presets import preset_config
from backprop_playground import Playground
from engine.trainer import Trainer
from tests.browser.conftest import ServerThread


def frame(pg) -> dict:
    return json.loads(pg.frame)


def test_a_playground_starts_with_the_state_frame_and_heatmaps_the_page_draws():
    pg = Playground(dataset="xor", hidden=[2], activation="sigmoid")
    state = json.loads(pg.state)
    assert state["type"] == "state" and state["layers"] == [2, 2, 1]
    assert state["activations"] == ["sigmoid", "tanh"]          # the page's output default
    assert state["config"]["optimizer"] == {"name": "sgd", "learning_rate": 0.03}
    assert frame(pg)["type"] == "frame" and frame(pg)["step"] == 0
    assert json.loads(pg.heatmaps)["resolution"] == 100
    assert pg.record is None


def test_a_wrong_config_field_is_refused_by_name():
    with pytest.raises(ValueError, match="activation"):
        Playground(activation="nope")


def test_step_sends_a_frame_of_that_step_and_its_record_as_arrays():
    pg = Playground(dataset="xor", hidden=[2], activation="sigmoid", batch_size=4)
    before = json.loads(pg.heatmaps)["output"]
    pg.step()
    shown = frame(pg)
    assert shown["step"] == 1 and len(shown["layers"]) == 2 and "dE_dW" in shown["layers"][0]
    assert json.loads(pg.heatmaps)["output"] != before
    record = pg.record
    assert record.step == 1 and record.inputs.shape == (4, 2)
    assert record.layers[0].delta.shape == (4, 2) and record.layers[1].delta.shape == (4, 1)
    assert record.layers[1].dE_dW.shape == (2, 1)
    # The learner's copy: writing into it leaves the engine's record alone
    record.layers[0].delta[:] = 7.0
    assert not np.any(pg.record.layers[0].delta == 7.0)


def test_the_phases_walk_as_the_pages_arrow_does():
    pg = Playground(dataset="xor", hidden=[2], activation="sigmoid")
    assert pg.phase("forward").name == "forward" and pg.step_count == 1   # took the first step
    assert frame(pg)["phase"] == {"index": 0, "name": "forward", "layer": 1, "count": 6}
    assert pg.phase("error").name == "loss"
    shown = pg.phase("backward")
    assert (shown.name, shown.layer) == ("backward", 2)
    assert pg.phase("backward", layer=1).index == 4
    assert frame(pg)["phase"]["name"] == "backward"
    assert pg.phase("update").index == 5
    assert pg.next_phase().index == 0 and pg.step_count == 2        # after the update: a step
    assert pg.phase(None) is None and frame(pg)["phase"] is None
    with pytest.raises(ValueError, match="choose forward, error, backward or update"):
        pg.phase("sideways")


def test_play_trains_in_the_kernel_and_sends_frames_as_it_goes():
    pg = Playground(dataset="xor", hidden=[2], activation="sigmoid")
    seen = []
    pg.observe(lambda change: seen.append(json.loads(change["new"])["step"]), "frame")
    sent = pg.play(steps=300, speed=None, fps=60)
    assert sent["steps"] == 300 and pg.step_count == 300
    assert seen[-1] == 300 and seen == sorted(seen) and len(seen) == sent["frames"]
    assert frame(pg)["status"] == "paused"
    # the frames carried every step's loss to the chart, none twice
    assert sum(1 for _ in seen) >= 2


def test_play_at_a_speed_spreads_the_steps_over_frames():
    pg = Playground(dataset="xor", hidden=[2], activation="sigmoid")
    sent = pg.play(steps=200, speed=2000, fps=50)
    assert sent["steps"] == 200 and sent["frames"] > 3


def test_a_weight_written_into_the_view_is_set_drawn_and_trained_from():
    pg = Playground(dataset="xor", hidden=[2], activation="sigmoid")
    seq = frame(pg)["seq"]
    pg.weights[1][0, 0] = 0.5
    pg.biases[0][1] = -0.25
    trainer = pg._session.trainer
    assert trainer.net.W[2][0, 0] == 0.5 and trainer.net.b[1][1] == -0.25
    assert pg.weights[1][0, 0] == 0.5
    assert frame(pg)["seq"] > seq
    W2 = np.frombuffer(__import__("base64").b64decode(frame(pg)["layers"][1]["W"]), "<f4")
    assert W2[0] == 0.5
    # the next step starts from the edited weights: the same as a trainer set by hand
    reference = Trainer(trainer.cfg, trainer.split, initial_theta=trainer.net.theta.copy())
    pg.step()
    reference.step(1)
    np.testing.assert_allclose(trainer.net.theta, reference.net.theta, rtol=0, atol=0)


def test_an_edit_through_a_slice_or_to_a_non_finite_value_is_refused():
    pg = Playground()
    with pytest.raises(ValueError, match=r"pg.weights\[1\]\[0, 1\]"):
        pg.weights[1][0][1] = 0.5
    with pytest.raises(ValueError, match="finite"):
        pg.weights[0][0, 0] = float("nan")
    assert type(pg.weights[0] * 2) is np.ndarray


def test_selected_is_the_pages_pick_target():
    pg = Playground()
    assert pg.selected is None
    pg.selected = {"kind": "W", "layer": 1, "i": 0, "j": 1}   # what a click in the view sets
    assert pg.selected["kind"] == "W"


def test_a_preset_opens_as_on_the_page():
    pg = Playground.preset("worked_example")
    assert pg.weights[0].tolist() == preset_config("worked_example").network.weights[0]


def test_the_script_replays_the_kernels_run_with_its_weight_edit(tmp_path):
    pg = Playground(dataset="xor", hidden=[2], activation="sigmoid")
    losses = []
    for step in range(40):
        if step == 20:
            pg.weights[0][0, 1] = 0.5
        pg.step()
        losses.append(pg.record.loss)
    path = tmp_path / "run.py"
    path.write_text(pg.to_script())
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True)
    printed = [float(line.split()[1]) for line in done.stdout.splitlines()]
    np.testing.assert_allclose(printed, losses, rtol=1e-9, atol=0)


@pytest.fixture(scope="module")
def server():
    thread = ServerThread()
    thread.start()
    thread.wait_started()
    yield f"http://127.0.0.1:{thread.port}"
    thread.server.should_exit = True
    thread.join(timeout=10)


def wait_until(condition, what: str, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_follow_shows_a_servers_classroom_session_read_only(server):
    made = httpx.post(f"{server}/api/sessions", json={"dataset": "xor", "hidden": [3]}).json()
    control = {"X-Control-Token": made["token"]}
    followed = Playground.follow(server, made["join_code"])
    try:
        assert followed.readonly and followed.session_id == made["id"]
        wait_until(lambda: followed.state and followed.frame and followed.heatmaps, "messages")
        assert json.loads(followed.state)["layers"] == [2, 3, 1]
        httpx.post(f"{server}/api/sessions/{made['id']}/step", json={"steps": 25}, headers=control)
        wait_until(lambda: followed.step_count == 25, "the frame of step 25")
        assert len(json.loads(followed.frame)["layers"][0]["dE_dW"]) > 0
    finally:
        followed.close()


def test_follow_with_an_unknown_code_says_so(server):
    with pytest.raises(Exception, match="404"):
        Playground.follow(server, "zzzzzz")


def test_the_kernels_frames_are_the_servers_for_the_same_session(server):
    """The widget draws what a follower of the same session on a server would be sent."""
    config = {"dataset": "xor", "hidden": [3, 2], "activation": "sigmoid", "batch_size": 5}
    made = httpx.post(f"{server}/api/sessions", json=config).json()
    followed = Playground.follow(server, made["join_code"])
    try:
        httpx.post(f"{server}/api/sessions/{made['id']}/step", json={"steps": 7},
                   headers={"X-Control-Token": made["token"]})
        wait_until(lambda: followed.step_count == 7, "the server's frame of step 7")
        wait_until(lambda: json.loads(followed.heatmaps)["step"] == 7, "its heatmaps")
        pg = Playground(**config)
        pg.step(7)
        theirs, ours = json.loads(followed.frame), frame(pg)
        assert ours["layers"] == theirs["layers"] and ours["metrics"] == theirs["metrics"]
        assert ours["grad_norms"] == theirs["grad_norms"] and ours["input"] == theirs["input"]
        assert json.loads(pg.heatmaps)["output"] == json.loads(followed.heatmaps)["output"]
    finally:
        followed.close()
