"""A classroom session of a running server, followed read-only: the join code gives its id
(GET /api/join/{code}), its WebSocket stream (/api/sessions/{id}/stream, docs/stream.md) gives
the messages the widget draws. A thread of the kernel reads the stream."""

import json
import threading
import urllib.parse
import urllib.request

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from backprop_playground.views import StreamView


class Follower(StreamView):
    """Shows a server's session as its watch page does; nothing here drives it."""

    def __init__(self, stream_url: str, session_id: str) -> None:
        super().__init__(readonly=True)
        self.session_id = session_id
        self.closed_reason: str | None = None
        self._socket = connect(stream_url, max_size=None, open_timeout=15)
        self._reader = threading.Thread(target=self._read, name=f"follow {session_id}",
                                        daemon=True)
        self._reader.start()

    @property
    def step_count(self) -> int | None:
        """The step of the last frame received (None before one)."""
        return json.loads(self.frame)["step"] if self.frame else None

    def _read(self) -> None:
        try:
            with self._socket as socket:   # closed when the stream ends, whichever side ends it
                for message in socket:
                    self.show(message)
        except ConnectionClosed:
            pass
        finally:
            close = self._socket.close_reason or f"closed ({self._socket.close_code})"
            self.closed_reason = close

    def close(self) -> None:
        """Stop following: the stream closes, the last picture stays."""
        self._socket.close()
        self._reader.join(timeout=10)
        super().close()


def follow(url: str, code: str) -> Follower:
    """url: the server's address (http://host:port), code: the session's join code."""
    base = url.rstrip("/")
    with urllib.request.urlopen(f"{base}/api/join/{urllib.parse.quote(code)}",
                                timeout=15) as answer:
        session_id = json.load(answer)["id"]
    scheme, rest = base.split("://", 1)
    stream = f"{'wss' if scheme == 'https' else 'ws'}://{rest}/api/sessions/{session_id}/stream"
    return Follower(stream, session_id)
