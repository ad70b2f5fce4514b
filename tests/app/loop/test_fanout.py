"""The fan-out's direct send (app/loop/sockets.py): through a real uvicorn server (the test client
sends through ASGI), followers get websockets' own frames, the same messages the ASGI way
gives, and the session's end as a close."""

import json

import httpx
import pytest
from support_server import followers, stalled_follower, wait_for
from websockets.frames import Frame, Opcode
from websockets.sync.client import connect

import app.loop.sockets


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 300_000])
def test_a_text_frame_is_the_one_websockets_makes(size):
    text = ("é" + "x" * size)[:size] if size else ""
    websockets_frame = Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
    assert app.loop.sockets.text_frame(text) == websockets_frame


def test_a_frame_is_made_once_for_the_same_message_and_anew_for_an_equal_one():
    text = json.dumps({"type": "frame", "seq": 1, "x": "y" * 1000})
    first = app.loop.sockets.text_frame(text)
    assert app.loop.sockets.text_frame(text) is first
    again = "".join(list(text))   # equal, another object
    assert again is not text and app.loop.sockets.text_frame(again) == first


class RawFollower:
    """A follower on a plain socket that checks each frame's bytes are exactly the ones
    websockets makes of its payload (final, unmasked, no extension)."""

    def __init__(self, address: str, path: str) -> None:
        self.peer = stalled_follower(address, path)
        self.peer.settimeout(60)
        received = b""
        while b"\r\n\r\n" not in received:
            received += self.peer.recv(1 << 16)
        head, _, self.pending = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        self.messages, self.closed = [], None

    def frame(self) -> tuple[Opcode, bytes] | None:
        """The next whole frame, or None when the server closed the socket."""
        while True:
            if len(self.pending) >= 2:
                size, head = self.pending[1] & 0x7F, 2
                if size >= 126:
                    head = 4 if size == 126 else 10
                    size = int.from_bytes(self.pending[2:head])
                if len(self.pending) >= head + size:
                    whole, self.pending = (self.pending[:head + size],
                                           self.pending[head + size:])
                    opcode, payload = Opcode(whole[0] & 0x0F), whole[head:]
                    assert whole == Frame(opcode, payload).serialize(mask=False), whole[:40]
                    return opcode, payload
            data = self.peer.recv(1 << 16)
            if not data:
                return None
            self.pending += data

    def read_until(self, done) -> None:
        while not (self.closed or (self.messages and done(self.messages[-1]))):
            if (frame := self.frame()) is None:
                return
            opcode, payload = frame
            if opcode is Opcode.TEXT:
                self.messages.append(json.loads(payload))
            elif opcode is Opcode.CLOSE:
                self.closed = int.from_bytes(payload[:2])


def paused(step):
    return lambda m: m["type"] == "frame" and m["status"] == "paused" and m["step"] == step


def test_followers_get_the_same_messages_on_the_direct_path_and_a_close_at_the_end(
        server, monkeypatch):
    made = []
    def counted(text):
        made.append(len(text))
        return frame_of(text)
    frame_of = app.loop.sockets.text_frame
    monkeypatch.setattr(app.loop.sockets, "text_frame", counted)
    with httpx.Client(base_url=f"http://{server}", timeout=30) as http:
        created = http.post("/api/sessions", json={"dataset": "circle", "hidden": [4]})
        assert created.status_code == 201, created.text
        session_id, control = created.json()["id"], {"X-Control-Token": created.json()["token"]}
        path = f"/api/sessions/{session_id}/stream"
        raw = RawFollower(server, path)
        with connect(f"ws://{server}{path}", max_size=None) as through:
            assert wait_for(lambda: followers(http, session_id) == 2, 30)
            assert http.post(f"/api/sessions/{session_id}/play", json={"speed": 300},
                             headers=control).status_code == 200
            raw.read_until(lambda m: m["type"] == "frame" and m["step"] >= 50)
            step = http.post(f"/api/sessions/{session_id}/pause", headers=control).json()["step"]
            raw.read_until(paused(step))
            seen = [json.loads(through.recv(timeout=60))]
            while not paused(step)(seen[-1]):
                seen.append(json.loads(through.recv(timeout=60)))
            # Every message but the state went the direct way, and reached both followers
            # alike: the paused frame (the last, never dropped) is the same message.
            assert made and raw.messages[0]["type"] == seen[0]["type"] == "state"
            assert raw.messages[-1] == seen[-1]
            assert {m["type"] for m in raw.messages[1:]} >= {"frame"}
            assert http.delete(f"/api/sessions/{session_id}", headers=control).status_code == 204
            raw.read_until(lambda m: False)
            assert raw.closed == 1000
    raw.peer.close()


def test_a_follower_that_closes_mid_play_leaves_and_a_new_one_is_fed(server):
    """The peer's close frame moves the connection out of OPEN: the next send goes the ASGI
    way, and the follower's loop ends like any disconnect."""
    with httpx.Client(base_url=f"http://{server}", timeout=30) as http:
        created = http.post("/api/sessions", json={"dataset": "circle", "hidden": [4]})
        session_id, control = created.json()["id"], {"X-Control-Token": created.json()["token"]}
        path = f"/api/sessions/{session_id}/stream"
        with connect(f"ws://{server}{path}", max_size=None) as leaving:
            leaving.recv(timeout=60)
            assert wait_for(lambda: followers(http, session_id) == 1, 30)
            assert http.post(f"/api/sessions/{session_id}/play", json={"speed": None},
                             headers=control).status_code == 200
            leaving.recv(timeout=60)
        assert wait_for(lambda: followers(http, session_id) == 0, 60)
        with connect(f"ws://{server}{path}", max_size=None) as staying:
            assert json.loads(staying.recv(timeout=60))["type"] == "state"
            assert "type" in json.loads(staying.recv(timeout=60))
