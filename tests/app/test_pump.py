"""The pump that plays a session survives a failure and tells followers; deletion ends feeds."""

import logging

from test_stream import follow_until, play, stream_url


def test_a_failing_step_pauses_the_session_and_followers_still_hear_of_it(
    client, new_session, caplog
):
    session_id, control, _ = new_session()
    session = client.app.state.store.get(session_id)

    def broken(n):
        raise RuntimeError("boom")

    session.step = broken
    with (
        caplog.at_level(logging.ERROR, logger="app.live"),
        client.websocket_connect(stream_url(session_id)) as websocket,
    ):
        play(client, session_id, control)
        messages = follow_until(  # seq 0 is the frame on joining, from before the play
            websocket, lambda m: m["type"] == "frame" and m["seq"] >= 1 and m["status"] == "paused"
        )
    assert messages[-1]["status"] == "paused"
    assert "training or publishing failed" in caplog.text
    del session.step
    assert (
        client.post(f"/api/sessions/{session_id}/step", json={"steps": 2}, headers=control).json()[
            "step"
        ]
        == 2
    )


def test_deleting_a_session_sends_followers_an_end_message(client, new_session):
    session_id, control, _ = new_session()
    with client.websocket_connect(stream_url(session_id)) as websocket:
        follow_until(websocket, lambda m: m["type"] == "frame")
        assert client.delete(f"/api/sessions/{session_id}", headers=control).status_code == 204
        messages = follow_until(websocket, lambda m: m["type"] == "end")
    assert messages[-1]["type"] == "end"
