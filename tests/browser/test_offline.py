"""Nothing any page loads comes from outside the server: no CDN, the hall has no internet."""

from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser


def requests_made(browser, url: str, ready: str) -> list[str]:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    seen = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto(url)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    context.close()
    return seen


@pytest.mark.parametrize(("path", "ready"), [("/", "canvas"), ("/docs", ".swagger-ui .info")])
def test_a_page_loads_everything_from_its_own_server(browser, base_url, path, ready):
    seen = requests_made(browser, base_url + path, ready)
    server = urlparse(base_url).netloc
    outside = [
        u
        for u in seen
        if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc != server
    ]
    assert seen and not outside


def test_the_api_docs_render_every_endpoint_offline(browser, base_url, api):
    context = browser.new_context()
    page = context.new_page()
    page.goto(base_url + "/docs")
    page.wait_for_selector(".opblock")
    shown = page.locator(".opblock-summary-path").all_inner_texts()
    context.close()
    paths = api.get("/openapi.json").json()["paths"]
    assert {p.replace("\u200b", "") for p in shown} == set(paths)


def test_typeset_equations_load_katex_and_its_fonts_from_the_server(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    seen = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto(base_url + "/")
    page.wait_for_function("window.backprop && backprop.page.frame && backprop.page.session")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#inspector [data-field=a] .katex")
    page.wait_for_function("document.fonts.check('16px KaTeX_Main')")
    page.wait_for_load_state("networkidle")
    context.close()
    server = urlparse(base_url).netloc
    fonts = [u for u in seen if "/static/vendor/katex/fonts/" in u]
    assert fonts and all(urlparse(u).netloc == server for u in seen if urlparse(u).scheme != "data")
