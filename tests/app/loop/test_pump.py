"""The pump that plays a session survives a failure and tells followers; deletion ends feeds."""

import logging

from support_stream import follow_until, play, stream_url


def break_next_step(session_id: str) -> None:
    """Run in the session's worker: its next step raises, once."""
    from app.worker.process import SESSIONS

    trainer = SESSIONS[session_id].trainer

    def broken(n):
        del trainer.advance, trainer.step
        raise RuntimeError("boom")

    trainer.advance = trainer.step = broken


def test_a_failing_step_pauses_the_session_and_followers_still_hear_of_it(
    client, new_session, caplog
):
    session_id, control, _ = new_session()
    handle = client.app.state.store.get(session_id)
    client.app.state.hub.workers[handle.worker].executor.submit(
        break_next_step, session_id
    ).result()
    with (
        caplog.at_level(logging.ERROR, logger="app.loop.hub"),
        client.websocket_connect(stream_url(session_id)) as websocket,
    ):
        play(client, session_id, control)
        messages = follow_until(  # seq 0 is the frame on joining, from before the play
            websocket, lambda m: m["type"] == "frame" and m["seq"] >= 1 and m["status"] == "paused"
        )
    assert messages[-1]["status"] == "paused"
    assert "training or publishing failed" in caplog.text
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
