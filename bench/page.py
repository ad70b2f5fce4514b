"""Milliseconds the page spends on each message in headless Chromium (prints figures).

Starts the app on a free port, opens the page for each network and plays it for a few seconds,
timing in-page with performance.now() every whole "frame" handler (network, charts, readouts) and
every "heatmaps" handler (node thumbnails and the output plane) while playing. Then, paused, it
times drawing the last frame's network and the last heatmaps message 200 times each
(window.backprop.redraw / redrawHeatmaps), also with a raster flush (getImageData) inside the
timing. The budgets (issue 10): a heatmaps message at 6 × 8 ≤ 3 ms p90, a frame ≤ 8 ms p90.
Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/page.py
"""

import asyncio
import statistics
import sys
import threading
import time
from pathlib import Path

# bench/engine.py would shadow the engine package: put the repository first on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn

from app.config import Settings
from app.loop.sockets import websocket_options
from app.main import create_app

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NETWORKS = {"default 2-4-2-1": "/", "6 × 8 (hidden [8,8,8,8,8,8])": "/?hidden=8,8,8,8,8,8"}
SIZES = {"1280×720": (1280, 720), "1920×1080": (1920, 1080)}


def serve() -> tuple[uvicorn.Server, int]:
    settings = Settings()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning",
                            **websocket_options(settings.follower_send_seconds))
    server = uvicorn.Server(config)
    threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, server.servers[0].sockets[0].getsockname()[1]


def figures(label: str, times: list[float]) -> str:
    if len(times) < 10:
        return f"{label} ({len(times)}): too few"
    return (f"{label} ({len(times)}): median {statistics.median(times):5.2f} ms"
            f"  p90 {statistics.quantiles(times, n=10)[8]:5.2f} ms")


def measure(page, seconds: float) -> None:
    """Play `seconds` (after a warm-up), then pause and time the fixed redraws; print a block."""
    page.wait_for_function("window.backprop && backprop.page.frame && backprop.page.session")
    page.click("#play")
    page.wait_for_function("backprop.page.frame.step > 500 && backprop.page.heatmaps")
    page.evaluate("backprop.page.frameTimes.length = 0; backprop.page.heatmapTimes.length = 0")
    page.wait_for_timeout(seconds * 1000)
    frames = page.evaluate("backprop.page.frameTimes.slice()")
    heatmaps = page.evaluate("backprop.page.heatmapTimes.slice()")
    page.click("#play")
    page.wait_for_function("backprop.page.frame.status === 'paused'")
    page.wait_for_timeout(300)
    print("  " + figures("playing: whole frame handler", frames))
    print("  " + figures("playing: heatmaps message   ", heatmaps))
    print("  " + figures("paused: network draw ×200   ", page.evaluate("backprop.redraw(200)"))
          + " | " + figures("+ raster flush", page.evaluate("backprop.redraw(200, true)")))
    again = page.evaluate("backprop.redrawHeatmaps(200)")
    flushed = page.evaluate("backprop.redrawHeatmaps(200, true)")
    print("  " + figures("paused: heatmaps message ×200", again)
          + " | " + figures("+ raster flush", flushed))


def main() -> None:
    from playwright.sync_api import sync_playwright

    server, port = serve()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for size, (w, h) in SIZES.items():
            for name, path in NETWORKS.items():
                # Playwright's string predicates are eval, which the page's CSP refuses.
                page = browser.new_page(viewport={"width": w, "height": h}, bypass_csp=True)
                page.goto(f"http://127.0.0.1:{port}{path}")
                print(f"{size} {name}")
                measure(page, 4.0)
                page.close()
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
