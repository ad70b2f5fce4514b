"""The page when its server goes away and comes back: "server away", then a working page again."""

import pytest

from tests.browser.conftest import ServerThread
from tests.browser.support_page import ready

pytestmark = pytest.mark.browser


def test_the_page_shows_server_away_then_recovers_when_the_server_is_back(browser, shot):
    server = ServerThread()
    server.start()
    server.wait_started()
    port = server.port
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        first = ready(page)
        server.server.should_exit = True
        server.join(timeout=10)
        page.wait_for_function("document.getElementById('status').textContent === 'server away'")
        assert "server is away" in page.inner_text("#message")
        shot(page, "reconnect-server-away")
        server = ServerThread(port)                        # the same address, a fresh process state
        server.start()
        server.wait_started()
        page.wait_for_function(
            f"backprop.page.session.id !== '{first['id']}' && backprop.page.frame"
            " && document.getElementById('status').textContent === 'paused'",
            timeout=20000,
        )
        page.click("#step")
        page.wait_for_function("backprop.page.frame.step === 1")
    finally:
        context.close()
        server.server.should_exit = True
        server.join(timeout=10)
