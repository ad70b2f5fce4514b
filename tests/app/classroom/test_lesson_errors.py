"""A lesson file's errors come all at once, each with its line and field: in the listing, on
/lessons, on /lesson/<name> and from GET /api/lessons/<name>."""

import pytest

# Three distinct problems: the title missing (the file's shape), an unknown action, and an
# action's argument of the wrong type — the first used to hide the other two.
THREE = """\
slides:
  - title: One
    do:
      - preset: xor
      - rase: {vary: optimizer, values: [sgd, adam]}
  - title: Two
    do:
      - play_until: {epoch: soon}
"""
EXPECTED = [
    ("three.yaml", 1, "title", "required, missing"),
    ("three.yaml", 5, "slides[0].do[1].rase", "unknown action 'rase'"),
    ("three.yaml", 8, "slides[1].do[0].play_until.epoch", "Input should be a valid integer"),
]


@pytest.fixture
def three_client(make_client, tmp_path):
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "three.yaml").write_text(THREE)
    return make_client(lessons_dir=folder)


def matches(problems):
    return len(problems) == len(EXPECTED) and all(
        (p["file"], p["line"], p["field"]) == e[:3] and p["message"].startswith(e[3])
        for p, e in zip(problems, EXPECTED, strict=True))


def test_the_listing_has_all_three_errors_with_their_lines_and_fields(three_client):
    (entry,) = [e for e in three_client.get("/api/lessons").json() if e["name"] == "three"]
    assert entry["title"] is None and matches(entry["errors"]), entry["errors"]


def test_reading_the_lesson_is_a_422_with_all_three(three_client):
    answer = three_client.get("/api/lessons/three")
    assert answer.status_code == 422
    detail = [{**d, "message": d["msg"]} for d in answer.json()["detail"]]
    assert matches(detail), detail


@pytest.mark.parametrize("url", ["/lessons", "/lesson/three"])
def test_the_pages_show_all_three(three_client, url):
    text = three_client.get(url).text
    for file, line, field, _ in EXPECTED:
        assert f"{file}:{line}" in text and field in text
