"""`python -m app` / `backprop-playground`: serve the playground with uvicorn."""

import argparse

import uvicorn

# Per-message deflate costs several times the frame rate on loopback; frames are small.
# The sans-I/O websockets implementation sends to many followers markedly faster than the
# legacy one (bench/follow.py: about 600 against 370 epochs/s with 200 followers).
WEBSOCKET_OPTIONS = {"ws": "websockets-sansio", "ws_per_message_deflate": False}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="backprop-playground", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    # Per-message deflate costs several times the frame rate on loopback; frames are small.
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    main()
