"""Milliseconds to draw one frame of the network canvas in headless Chromium (prints figures).

Starts the app on a free port, opens the page for each network, trains a little so every field of
the frame (gradients, updates, heatmaps) is present, then times the network view's draw of the
last real frame 200 times in-page with performance.now() (window.backprop.redraw).
Run: .venv/bin/python bench/page.py
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

from app.__main__ import WEBSOCKET_OPTIONS
from app.config import Settings
from app.main import create_app

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NETWORKS = {"default 2-4-2-1": "/", "6 × 8 (hidden [8,8,8,8,8,8])": "/?hidden=8,8,8,8,8,8"}
SIZES = {"1280×720": (1280, 720), "1920×1080": (1920, 1080)}


def serve() -> tuple[uvicorn.Server, int]:
    config = uvicorn.Config(create_app(Settings()), host="127.0.0.1", port=0, log_level="warning",
                            **WEBSOCKET_OPTIONS)
    server = uvicorn.Server(config)
    threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, server.servers[0].sockets[0].getsockname()[1]


def main() -> None:
    from playwright.sync_api import sync_playwright

    server, port = serve()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for size, (w, h) in SIZES.items():
            for name, path in NETWORKS.items():
                page = browser.new_page(viewport={"width": w, "height": h})
                page.goto(f"http://127.0.0.1:{port}{path}")
                page.wait_for_function("window.backprop && backprop.page.frame")
                page.click("#play")
                page.wait_for_function("backprop.page.frame.step > 500")
                page.click("#play")
                page.wait_for_function("backprop.page.frame.status === 'paused'")
                page.wait_for_timeout(300)
                live = page.evaluate("backprop.page.drawTimes.slice()")
                times = page.evaluate("backprop.redraw(200)")
                flushed = page.evaluate("backprop.redraw(200, true)")
                q = statistics.quantiles(times, n=10)
                lq = statistics.quantiles(live, n=10) if len(live) >= 10 else [float("nan")] * 9
                med = statistics.median(times)
                print(f"{size:9} {name:30} fixed frame ×200: median {med:5.2f} ms"
                      f"  p90 {q[8]:5.2f} ms | live frames ({len(live)}): median "
                      f"{statistics.median(live):5.2f} ms  p90 {lq[8]:5.2f} ms | with raster flush:"
                      f" median {statistics.median(flushed):5.2f} ms"
                      f"  p90 {statistics.quantiles(flushed, n=10)[8]:5.2f} ms")
                page.close()
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
