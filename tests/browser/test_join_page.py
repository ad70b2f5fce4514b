"""The address students are given, /join, in Chromium and through an HTTP client: a box for the
code (never a redirect loop), which leads on to the teacher's session."""

import httpx
import pytest

from tests.browser.support_page import ready

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/join", "/join/"])
def test_an_http_client_following_redirects_gets_the_join_box(base_url, path):
    response = httpx.get(base_url + path, follow_redirects=True, timeout=10)
    assert response.status_code == 200 and len(response.history) <= 1
    assert 'name="code"' in response.text


@pytest.mark.parametrize("path", ["/join", "/join/"])
def test_a_student_opens_the_bare_join_address_types_the_code_and_follows(open_page, api, path,
                                                                         shot):
    made = api.post("/api/sessions", json={}).json()
    student = open_page(path, 390, 844)
    assert student.title().startswith("Join a lecture")
    assert student.evaluate("document.activeElement.name") == "code"   # ready to type
    shot(student, f"join-box{path.rstrip('/').replace('/', '-')}-390x844")
    student.keyboard.type(made["join_code"].lower())
    student.keyboard.press("Enter")
    student.wait_for_url(f"**/watch/{made['id']}")
    student.wait_for_function("() => window.backprop && backprop.page.frame", timeout=15000)
    assert student.errors == []


def test_the_headers_join_button_with_an_empty_box_shows_the_join_box(open_page):
    page = open_page("/")
    ready(page)
    page.click("#join-form button")
    page.wait_for_url("**/join?code=")
    assert page.is_visible("#join-code-input") and page.errors == []
