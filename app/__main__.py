"""`python -m app` / `backprop-playground`: serve the playground with uvicorn."""

import argparse

import uvicorn


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
        ws="websockets",
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    main()
