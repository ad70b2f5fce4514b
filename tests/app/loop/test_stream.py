"""The WebSocket stream: what a follower receives while a session plays (docs/stream.md)."""

import base64

import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect
from support import bf16, f32, strict_json
from support_stream import follow_until, pause, paused_at, play, stream_url


def played_past(step):
    return lambda m: m["type"] == "frame" and m["step"] >= step


def record_play(client, session_id, control, websockets, steps=300, speed=None):
    """Play until the first follower has seen `steps` steps, pause; each follower's messages."""
    first = websockets[0]
    play(client, session_id, control, speed)
    seen = [follow_until(first, played_past(steps))]
    final = pause(client, session_id, control)
    seen[0] += follow_until(first, paused_at(final))
    seen += [follow_until(ws, paused_at(final)) for ws in websockets[1:]]
    return final, seen


# At this speed a frame (60 a second) carries about 25 steps: every one exactly.
EXACT_SPEED = 1500


def loss_series(messages) -> dict[int, np.float32]:
    """Loss by step index from frames' `losses` and any `losses` gap messages (each exact)."""
    series = {}
    for m in messages:
        if m["type"] == "frame":
            assert m["loss_stride"] == 1 and m["losses_min"] is None
            for i, value in enumerate(bf16(m["losses"])):
                series[m["loss_start"] + i] = value
        elif m["type"] == "losses":
            assert m["stride"] == 1
            for i, value in enumerate(bf16(m["values"])):
                series[m["start"] + i] = value
        elif m["type"] == "state":
            history = m["history"]
            assert history["stride"] == 1
            for i, value in enumerate(bf16(history["values"])):
                series[history["start"] + i] = value
    return series


def test_the_first_message_is_the_state_with_points_and_history(client, new_session):
    session_id, _, _ = new_session()
    with client.websocket_connect(stream_url(session_id)) as ws:
        first = strict_json(ws.receive_text())
    assert first["type"] == "state" and first["id"] == session_id
    assert len(first["points"]["train"]["x"]) == 250
    assert first["history"] == {"start": 0, "stride": 1, "values": "", "min": None, "max": None}


def test_a_follower_receives_state_heatmaps_and_frames_while_the_session_plays(client, new_session):
    session_id, control, _ = new_session()
    with client.websocket_connect(stream_url(session_id)) as ws:
        _, (messages,) = record_play(client, session_id, control, [ws])
    kinds = {m["type"] for m in messages}
    assert {"state", "frame", "heatmaps"} <= kinds
    frames = [m for m in messages if m["type"] == "frame"]
    assert any(m["status"] == "playing" for m in frames)
    assert [m["seq"] for m in frames] == sorted(m["seq"] for m in frames)


def test_heatmap_grids_have_the_documented_sizes(client, new_session):
    session_id, control, _ = new_session()
    with client.websocket_connect(stream_url(session_id)) as ws:
        _, (messages,) = record_play(client, session_id, control, [ws], steps=50)
    heatmap = next(m for m in messages if m["type"] == "heatmaps")
    resolution, thumb = heatmap["resolution"], heatmap["thumb"]
    assert [len(layer) for layer in heatmap["nodes"]] == [2, 4, 2, 1]
    assert len(heatmap["ranges"]) == 4
    assert all(len(base64.b64decode(g)) == thumb * thumb for g in heatmap["nodes"][1])
    assert [len(base64.b64decode(g)) for g in heatmap["output"]] == [resolution * resolution]


def test_the_loss_series_has_every_step_and_equals_the_export_history(client, new_session):
    session_id, control, _ = new_session()
    with client.websocket_connect(stream_url(session_id)) as ws:
        final, (messages,) = record_play(client, session_id, control, [ws], speed=EXACT_SPEED)
    series = loss_series(messages)
    assert sorted(series) == list(range(final))
    history = client.get(f"/api/sessions/{session_id}/export").json()["history"]
    assert history["stride"] == 1 and len(history["values"]) == final
    # bfloat16 keeps 8 significant bits: within 2^-8 of the exact loss, relatively.
    np.testing.assert_allclose([series[i] for i in range(final)], history["values"], rtol=2**-8)


def test_a_follower_joining_late_gets_the_earlier_losses_from_the_state(client, new_session):
    session_id, control, _ = new_session()
    client.post(f"/api/sessions/{session_id}/step", json={"steps": 40}, headers=control)
    with client.websocket_connect(stream_url(session_id)) as ws:
        final, (messages,) = record_play(
            client, session_id, control, [ws], steps=100, speed=EXACT_SPEED
        )
    assert sorted(loss_series(messages)) == list(range(final))


def test_two_followers_see_the_same_steps(client, new_session):
    session_id, control, _ = new_session()
    with (
        client.websocket_connect(stream_url(session_id)) as one,
        client.websocket_connect(stream_url(session_id)) as two,
    ):
        final, (first, second) = record_play(
            client, session_id, control, [one, two], speed=EXACT_SPEED
        )
    series_one, series_two = loss_series(first), loss_series(second)
    assert sorted(series_one) == sorted(series_two) == list(range(final))
    assert all(series_one[i] == series_two[i] for i in range(final))
    assert first[-1]["layers"] == second[-1]["layers"]


def test_a_frames_arrays_decode_to_the_sessions_weights(client, new_session):
    session_id, control, _ = new_session()
    with client.websocket_connect(stream_url(session_id)) as ws:
        _, (messages,) = record_play(client, session_id, control, [ws], steps=30)
    frame = messages[-1]
    state = client.get(f"/api/sessions/{session_id}").json()
    sizes = state["layers"]
    for k, layer in enumerate(frame["layers"], start=1):
        W = f32(layer["W"]).reshape(sizes[k - 1], sizes[k])
        np.testing.assert_array_equal(W, np.float32(state["network"]["weights"][k - 1]))
        np.testing.assert_array_equal(
            f32(layer["b"]), np.float32(state["network"]["biases"][k - 1])
        )
        np.testing.assert_array_equal(
            f32(layer["dE_dW"]).reshape(W.shape),
            np.float32(state["record"]["gradients"]["weights"][k - 1]),
        )


def test_a_frames_grad_norms_are_the_rms_of_the_last_gradients(client, new_session):
    session_id, control, _ = new_session()
    with client.websocket_connect(stream_url(session_id)) as ws:
        _, (messages,) = record_play(client, session_id, control, [ws], steps=30)
    state = client.get(f"/api/sessions/{session_id}").json()
    for k, norm in enumerate(messages[-1]["grad_norms"]):
        gradient = np.array(state["record"]["gradients"]["weights"][k])
        assert norm == np.sqrt(np.mean(gradient**2))


def test_a_stream_of_an_unknown_session_is_closed(client):
    with client.websocket_connect("/api/sessions/nope/stream") as websocket:
        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_text()
    assert closed.value.code == 4404


def test_followers_are_counted_while_connected(client, new_session):
    session_id, _, _ = new_session()
    with client.websocket_connect(stream_url(session_id)) as ws:
        ws.receive_text()
        assert client.get(f"/api/sessions/{session_id}").json()["followers"] == 1


def test_a_follower_over_the_limit_is_closed_with_a_reason(make_client):
    client = make_client(max_followers=1)
    created = client.post("/api/sessions", json={}).json()
    url = stream_url(created["id"])
    with client.websocket_connect(url) as first:
        first.receive_text()
        with client.websocket_connect(url) as second:
            with pytest.raises(WebSocketDisconnect) as closed:
                second.receive_text()
    assert closed.value.code == 4429


def test_frames_stay_small_at_full_speed_and_summarise_their_losses(client, new_session):
    session_id, control, _ = new_session(hidden=[8, 8])
    with client.websocket_connect(stream_url(session_id)) as ws:
        play(client, session_id, control)
        messages = follow_until(ws, played_past(30_000))
        pause(client, session_id, control)
    frames = [m for m in messages if m["type"] == "frame"]
    assert all(len(base64.b64decode(m["losses"])) <= 2 * 128 for m in frames)
    summarised = [m for m in frames if m["loss_stride"] > 1]
    assert summarised, "at full speed a frame carries more steps than it has points"
    for m in summarised:
        low, mean, high = bf16(m["losses_min"]), bf16(m["losses"]), bf16(m["losses_max"])
        assert (low <= mean).all() and (mean <= high).all()
    sizes = [len(text) for text in _frame_texts(client, session_id, control)]
    assert max(sizes) <= 4096


def _frame_texts(client, session_id, control, count=40):
    """Raw frame texts of a 2-8-8-1 session playing as fast as it goes."""
    with client.websocket_connect(stream_url(session_id)) as ws:
        play(client, session_id, control)
        texts = []
        while len(texts) < count:
            text = ws.receive_text()
            if text.startswith('{"type":"frame"'):
                texts.append(text)
        pause(client, session_id, control)
    return texts[2:]   # past the joining frame and the first after play


def test_each_frames_metrics_are_measured_at_its_own_step(client, new_session):
    session_id, control, _ = new_session()
    with client.websocket_connect(stream_url(session_id)) as ws:
        play(client, session_id, control)
        messages = follow_until(ws, played_past(20_000))
        pause(client, session_id, control)
    frames = [m for m in messages if m["type"] == "frame" and m["step"] > 0]
    # Training moves the loss every step: a frame showing an earlier step's metrics repeats them.
    for before, after in zip(frames, frames[1:], strict=False):
        if after["step"] != before["step"]:
            assert after["metrics"]["train_loss"] != before["metrics"]["train_loss"]
