"""A follower that stops reading is cut off, and the others go on (app/loop/sockets.py): through a
real uvicorn server, since the test client has no socket buffers to fill."""

import threading

import httpx
from support_server import (
    followers,
    large_session,
    play_at_full_speed,
    stalled_follower,
    wait_for,
)
from websockets.sync.client import connect


class Reading:
    """A follower that reads everything as it comes, counting the frames, in a thread."""

    def __init__(self, websocket) -> None:
        self.count, self.error = 0, None
        self.thread = threading.Thread(target=self.read, args=(websocket,), daemon=True)
        self.thread.start()

    def read(self, websocket) -> None:
        try:
            for text in websocket:
                self.count += '"type":"frame"' in text
        except Exception as error:   # noqa: BLE001 - reported by the test
            self.error = error


def test_a_follower_that_stops_reading_is_cut_off_and_the_others_go_on(server):
    with httpx.Client(base_url=f"http://{server}", timeout=30) as http:
        session_id, token = large_session(http)
        path = f"/api/sessions/{session_id}/stream"
        stalled = stalled_follower(server, path)
        with connect(f"ws://{server}{path}", max_size=None) as reader:
            frames = Reading(reader)
            assert wait_for(lambda: followers(http, session_id) == 2, 30)
            play_at_full_speed(http, session_id, token)

            assert wait_for(lambda: followers(http, session_id) == 1), \
                "the follower that never reads was never cut off"
            assert frames.error is None and frames.thread.is_alive(), frames.error
            seen = frames.count
            assert wait_for(lambda: frames.count > seen + 10, 60), "the reading follower stalled"
        # The server closed it: the socket ends (after the bytes already in its buffer).
        stalled.settimeout(30)
        while stalled.recv(1 << 16):
            pass
        stalled.close()
