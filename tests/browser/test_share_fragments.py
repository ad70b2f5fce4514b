"""The share panel's server-rendered parts, swapped in by htmx: the panel names the session the
page is in (a structural change keeps it, and its join code), and "save" shows the saved link as
/fragments/saved/{code} renders it, whose "copy link" button copies it."""

import pytest

pytestmark = pytest.mark.browser

READY = (
    "() => window.backprop && backprop.page.frame && backprop.page.state && backprop.page.session"
)

SHOWS_CODE = "(c) => document.querySelector('#join-code')?.textContent === c"


def test_the_open_share_panel_keeps_its_code_through_a_new_layer_and_copies_the_saved_link(
        open_page, api, base_url):
    page = open_page("/")
    page.wait_for_function(READY, timeout=15000)
    first = page.evaluate("backprop.page.session")
    page.click("#share-toggle")
    code = api.get(f"/api/sessions/{first['id']}").json()["join_code"]
    page.wait_for_function(SHOWS_CODE, arg=code)
    page.click("#add-layer")   # structural: the same session, rebuilt
    page.wait_for_function("backprop.page.state.layers.length === 5")
    assert page.evaluate("backprop.page.session") == first
    assert api.get(f"/api/sessions/{first['id']}").json()["join_code"] == code
    page.wait_for_function(SHOWS_CODE, arg=code)
    assert page.get_attribute("#export-csv", "href") == f"/api/sessions/{first['id']}/history.csv"

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    with page.expect_response(lambda r: "/fragments/saved/" in r.url) as fragment:
        page.click("#save")
    assert fragment.value.status == 200
    page.wait_for_selector("#saved-url")
    link = page.input_value("#saved-url")
    assert link.startswith(base_url + "/s/")
    assert page.evaluate("document.activeElement.id") == "saved-url"   # selected for copying
    page.click("#copy-link")
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    assert page.errors == []
