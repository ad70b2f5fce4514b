"""A race at the address students reach, in headless Chromium: its follow link, saved link, join
address and QR code use the configured public address (as the share panel's), never the address
the teacher's browser typed."""

import io

import httpx
import pytest
import segno

from tests.browser.support_page import serving
from tests.browser.support_race import LANES_DRAWN

pytestmark = pytest.mark.browser

HALL = "http://hall.example.org"   # only written in links: no test sends traffic there


@pytest.fixture
def hall(tmp_path):
    """A server on loopback whose public address is HALL (as behind a proxy): its base URL."""
    thread = serving(tmp_path, "127.0.0.1", public_url=HALL)
    yield f"http://127.0.0.1:{thread.port}"
    thread.server.should_exit = True
    thread.join(timeout=10)


def qr_of(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, dark="#000",
                                    light="#fff", xmldecl=False)
    return out.getvalue()


def test_a_race_s_links_and_qr_code_use_the_public_address(browser, hall, shot):
    made = httpx.post(f"{hall}/api/races", json={"vary": {"learning_rate": [0.03, 0.3]}}).json()
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    page.goto(f"{hall}/")
    page.evaluate("([id, t]) => sessionStorage.setItem(`backprop-token:${id}`, t)",
                  [made["id"], made["token"]])
    page.goto(f"{hall}/race/{made['id']}")
    page.wait_for_function(LANES_DRAWN, arg=2, timeout=15000)
    assert page.get_attribute("#race-link", "href") == f"{HALL}/race/{made['id']}"
    assert page.inner_text("#race-join-url") == f"{HALL}/join"
    page.wait_for_function("document.getElementById('race-qr').naturalWidth > 0")
    qr = httpx.get(f"{hall}{page.get_attribute('#race-qr', 'src')}")
    assert qr.headers["content-type"] == "image/svg+xml"
    assert qr.content == qr_of(f"{HALL}/race/{made['id']}")
    for _ in range(3):   # three steps the page sees: three points of its loss chart
        page.click("#race-step")
    page.wait_for_function("backpropRace.step === 3")
    lines = page.evaluate("backpropRace.lanes.map((l) => [l.trainLine().xs, l.trainLine().ys])")
    page.click("#race-save")
    page.wait_for_selector("#race-saved-link[href*='/r/']")
    saved = page.get_attribute("#race-saved-link", "href")
    assert saved.startswith(f"{HALL}/r/") and page.inner_text("#race-saved-link") == saved
    shot(page, "race-public-links")
    # the saved race opens again with its loss chart: every lane's line as it was
    reopened = page.context.new_page()
    reopened.goto(f"{hall}{saved.removeprefix(HALL)}")
    reopened.wait_for_url("**/race/*")
    reopened.wait_for_function(LANES_DRAWN, arg=2, timeout=15000)
    again = reopened.evaluate("backpropRace.lanes.map((l) => [l.trainLine().xs, l.trainLine().ys])")
    assert again == lines and lines[0][0] == [1, 2, 3]
    shot(reopened, "race-reopened-chart")
    page.context.close()

