"""The htmx fragment routes, without a browser: the block alone for htmx, the page otherwise."""

import re

from app.schemas.presets import PRESETS

HTMX = {"HX-Request": "true"}


def test_the_presets_fragment_is_the_menu_alone_for_htmx(client):
    response = client.get("/fragments/presets", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="registry"' not in response.text
    assert re.findall(r'data-preset="([^"]+)"', response.text) == list(PRESETS)
    for preset in PRESETS.values():
        assert preset.title in response.text


def test_the_presets_fragment_without_htmx_is_the_page_with_the_menu_filled_in(client):
    response = client.get("/fragments/presets")
    assert response.status_code == 200
    assert "<html" in response.text and 'id="registry"' in response.text
    assert re.findall(r'data-preset="([^"]+)"', response.text) == list(PRESETS)
    assert "loading…" not in response.text


def test_the_share_fragment_names_the_session_for_htmx(client, new_session):
    session_id, _, body = new_session(hidden=[2])
    response = client.get(f"/fragments/share/{session_id}", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert f'<b id="join-code">{body["join_code"]}</b>' in response.text
    assert f"/api/sessions/{session_id}/history.csv" in response.text


def test_the_share_fragment_without_htmx_is_the_watch_page_with_the_panel(client, new_session):
    session_id, _, body = new_session(hidden=[2])
    response = client.get(f"/fragments/share/{session_id}")
    assert response.status_code == 200
    assert 'data-readonly="true"' in response.text
    assert f'data-session="{session_id}"' in response.text
    assert body["join_code"] in response.text


def test_the_share_fragment_of_no_session_is_a_404(client):
    assert client.get("/fragments/share/no_such_session", headers=HTMX).status_code == 404


def saved_code(client, new_session) -> str:
    session_id, control, _ = new_session(hidden=[2])
    response = client.post(f"/api/sessions/{session_id}/save", headers=control)
    assert response.status_code == 200, response.text
    return response.json()["code"]


def test_the_saved_link_fragment_is_the_full_link_alone_for_htmx(client, new_session):
    code = saved_code(client, new_session)
    response = client.get(f"/fragments/saved/{code}", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    # no public address set: the address the page was opened at (the test client's)
    assert f'<input id="saved-url" readonly value="http://testserver/s/{code}"' in response.text
    assert 'id="copy-link"' in response.text


def test_the_saved_link_fragment_names_the_public_address_when_there_is_one(make_client):
    client = make_client(public_url="https://class.example.org/")
    made = client.post("/api/sessions", json={"hidden": [2]}).json()
    code = client.post(f"/api/sessions/{made['id']}/save",
                       headers={"X-Control-Token": made["token"]}).json()["code"]
    response = client.get(f"/fragments/saved/{code}", headers=HTMX)
    assert f'value="https://class.example.org/s/{code}"' in response.text


def test_the_saved_link_fragment_without_htmx_is_the_saved_sessions_page(client, new_session):
    code = saved_code(client, new_session)
    response = client.get(f"/fragments/saved/{code}")
    assert response.status_code == 200
    assert f'data-saved="{code}"' in response.text


def test_the_saved_link_fragment_of_no_saved_session_is_a_404(client):
    response = client.get("/fragments/saved/nosuchcode", headers=HTMX)
    assert response.status_code == 404
    assert "/s/nosuchcode" in response.text
