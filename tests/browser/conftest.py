"""Browser tests: a real uvicorn server in a thread and headless Chromium through Playwright."""

import asyncio
import os
import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.config import Settings
from app.loop.sockets import websocket_options
from app.main import create_app
from tests.cluster.cluster_servers import free_port  # noqa: F401 (test_lecture_page's too)

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

if not os.path.exists(CHROMIUM) and shutil.which("chromium") is None:
    pytest.skip(f"browser tests need Chromium at {CHROMIUM}", allow_module_level=True)


class ServerThread(threading.Thread):
    """uvicorn on 127.0.0.1 (or a given host), port 0 (or a given one); the bound port is read
    from the socket."""

    def __init__(self, port: int = 0, settings: Settings | None = None,
                 host: str = "127.0.0.1") -> None:
        super().__init__(daemon=True)
        settings = settings or Settings()
        config = uvicorn.Config(
            create_app(settings), host=host, port=port, log_level="warning",
            lifespan="on", **websocket_options(settings.follower_send_seconds),
        )
        self.server = uvicorn.Server(config)
        self.port = 0

    def run(self) -> None:
        asyncio.run(self.server.serve())

    def wait_started(self) -> None:
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]


@pytest.fixture(scope="session")
def base_url():
    # As if behind a proxy at its own address: the share panel shows a link and a QR code
    # (test_lecture_page.py has a loopback server without one, whose panel says students can't join)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The whole suite creates its sessions from one address, faster than a class would.
    thread = ServerThread(port, Settings(port=port, public_url=url, create_burst=10_000))
    thread.start()
    thread.wait_started()
    yield f"http://127.0.0.1:{thread.port}"
    thread.server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield CspBypassing(b)
        b.close()


class CspBypassing:
    """The browser, whose contexts bypass the pages' CSP unless told otherwise: the tests' own
    polling (wait_for_function with a string) is eval, which the CSP refuses. test_csp.py
    opens its pages with bypass_csp=False, as a visitor's browser does."""

    def __init__(self, browser) -> None:
        self._browser = browser

    def new_context(self, **options):
        return self._browser.new_context(**{"bypass_csp": True, **options})

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture
def api(base_url):
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


def open_in(browser, url, width=1280, height=720):
    """`url` in a fresh page of its own context; console errors are collected on page.errors."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    return page


@pytest.fixture
def open_page(browser, base_url):
    """Open a path in a fresh 1280×720 page; console errors are collected on page.errors."""
    pages = []

    def opener(path="/", width=1280, height=720):
        page = open_in(browser, base_url + path, width, height)
        pages.append(page.context)
        return page

    yield opener
    for context in pages:
        context.close()


@pytest.fixture
def shot():
    """Save a screenshot under tests/browser/artifacts/ (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return lambda page, name: page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
