"""A race in browser tests: one made over the API, its lanes drawn, their pictures and boxes."""


LANES_DRAWN = """(n) => window.backpropRace && backpropRace.lanes.length === n
  && backpropRace.lanes.every((l) => l.lane.frame && l.lane.heatmaps)"""


def pictures(page, within: str = "") -> list[dict]:
    """Each lane's network and output plane as PNG data URLs, from the canvases themselves
    (of the lanes `within` a selector: a lesson's race slide)."""
    return page.evaluate(
        """(within) => [...document.querySelectorAll(`${within} .lane`)].map((el) => ({
             network: el.querySelector('.lane-network').toDataURL(),
             plane: el.querySelector('.lane-boundary').toDataURL(),
           }))""",
        within,
    )


def rects(page, selector) -> list[dict]:
    return page.eval_on_selector_all(
        selector, "e => e.map((x) => x.getBoundingClientRect().toJSON())"
    )


def new_race(api, **body) -> dict:
    response = api.post("/api/races", json=body)
    assert response.status_code == 201, response.text
    return response.json()
