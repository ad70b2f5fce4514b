"""Issue 20, row 6: join-code lookups are limited per address. A code that finds no session
spends a token of its address's bucket (app/loop/ratelimit.py), one that finds a session does not:
a whole class behind one NAT joins, a script guessing codes gets 429 with Retry-After, on
/api/join/{code} and /join/{code} alike, and other addresses go on."""

import secrets

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.loop.ratelimit import CreateLimiter
from app.loop.store import JOIN_ALPHABET

ROUTES = ["/api/join/{code}", "/join/{code}"]


def guess() -> str:
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(6))


def looked_up(client, route: str, code: str):
    return client.get(route.format(code=code), follow_redirects=False)


@pytest.fixture
def code(client) -> str:
    return client.post("/api/sessions", json={"hidden": [2]}).json()["join_code"]


def test_a_class_of_a_few_hundred_joins_from_one_address_and_its_typos_pass(client, code):
    answers = [looked_up(client, route, code).status_code for route in ROUTES for _ in range(300)]
    assert set(answers) == {200, 303}
    typos = [looked_up(client, "/api/join/{code}", guess()).status_code for _ in range(60)]
    assert set(typos) == {404}


@pytest.mark.parametrize("route", ROUTES)
def test_a_script_guessing_codes_gets_429_with_retry_after(client, code, route):
    answers = [looked_up(client, route, guess()) for _ in range(2000)]
    limited = [answer for answer in answers if answer.status_code == 429]
    assert [answer.status_code for answer in answers[:100]] == [404] * 100
    assert len(limited) > 1500
    assert all(int(answer.headers["Retry-After"]) >= 1 for answer in limited)
    assert "join codes" in limited[0].json()["detail"]
    for other in ROUTES:   # a limited address guesses no more, right codes included
        assert looked_up(client, other, code).status_code == 429


def test_another_address_still_joins_while_one_is_limited(client, code):
    misses = [looked_up(client, "/api/join/{code}", guess()).status_code for _ in range(200)]
    assert misses[-1] == 429
    # the same app, asked from another address (no `with`: the app is started already)
    elsewhere = TestClient(client.app, client=("203.0.113.7", 50000))
    assert looked_up(elsewhere, "/api/join/{code}", code).status_code == 200
    assert looked_up(elsewhere, "/join/{code}", code).status_code == 303


def test_the_join_limit_is_a_setting(make_client):
    client = make_client(join_miss_burst=3, join_misses_per_minute=0)
    answers = [looked_up(client, "/api/join/{code}", guess()).status_code for _ in range(5)]
    assert answers == [404, 404, 404, 429, 429]


def test_waiting_spends_nothing_and_the_bucket_refills_with_time():
    limiter = CreateLimiter(per_minute=60, burst=2)
    assert limiter.wait("a", now=0.0) is None
    assert limiter.take("a", now=0.0) is None and limiter.take("a", now=0.0) is None
    assert limiter.wait("a", now=0.0) == pytest.approx(1.0)
    assert limiter.wait("a", now=0.5) == pytest.approx(0.5)   # asked twice: still 0.5 s
    assert limiter.wait("a", now=1.0) is None


def test_the_default_lets_a_class_through():
    settings = Settings()
    assert settings.join_miss_burst >= 60 and settings.join_misses_per_minute >= 1
