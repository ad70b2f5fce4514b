"""The share panel in Chromium: a lecture server shows the address students reach (and it
works); a loopback server says in plain words that nobody else can join, and what to run."""

from urllib.parse import urlsplit

import httpx
import pytest

from app.classroom.reach import lan_addresses
from tests.browser.support_page import ready, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    threads = []

    def start(host, **settings):
        threads.append(serving(tmp_path, host, **settings))
        return threads[-1].port

    yield start
    for thread in threads:
        thread.server.should_exit = True
        thread.join(timeout=10)


def open_share(browser, url, width=1280, height=720):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    session = ready(page)
    page.click("#share-toggle")
    page.wait_for_selector("#share-reach")
    return context, page, session


@pytest.mark.parametrize("path, size", [("/", (1280, 720)), ("/?projector=1", (1920, 1080))])
def test_a_loopback_server_says_students_cannot_join_and_names_the_command(browser, server, shot,
                                                                           path, size):
    port = server("127.0.0.1")
    context, page, _ = open_share(browser, f"http://127.0.0.1:{port}{path}", *size)
    try:
        text = page.inner_text("#share-reach")
        assert "Students cannot join yet" in text
        assert "this computer only" in text and "make lecture" in text
        assert page.is_visible("#lecture-command") and page.locator("#qr").count() == 0
        assert page.is_visible("#join-code")
        box = page.locator("#share-reach").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= size[0]
        assert box["y"] + box["height"] <= size[1]
        shot(page, f"share-loopback-{size[0]}x{size[1]}")
        assert page.errors == []
    finally:
        context.close()


def test_a_lecture_server_shows_its_lan_address_and_students_reach_it(browser, server, shot):
    addresses = lan_addresses()
    if not addresses:
        pytest.skip("this machine has no LAN address")
    port = server("0.0.0.0")
    lan = f"http://{addresses[0]}:{port}"
    # The teacher's own tab says 127.0.0.1: the panel must still show the LAN address.
    context, page, session = open_share(browser, f"http://127.0.0.1:{port}/", 1920, 1080)
    try:
        assert page.inner_text("#join-url") == f"{lan}/join"
        watch = page.get_attribute("#watch-link", "href")
        assert watch == f"{lan}/watch/{session['id']}"
        page.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")
        assert "cannot join" not in page.inner_text("#share")
        shot(page, "share-lecture")
        # Tests send traffic to loopback only: the link's path, on 127.0.0.1
        loopback = f"http://127.0.0.1:{port}{urlsplit(watch).path}"
        assert httpx.get(loopback, timeout=10).status_code == 200
        assert page.errors == []
    finally:
        context.close()
    student = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    try:
        student.goto(loopback)
        student.wait_for_function("() => window.backprop && backprop.page.frame", timeout=15000)
    finally:
        student.context.close()
