"""Races in tests: a new race over the API, and the base config the race tests share."""


TOKEN = "X-Control-Token"


BASE = {"dataset": "xor", "hidden": [3], "batch_size": 5, "points": 60, "seed": 3}


def new_race(client, **body) -> tuple[str, dict, dict]:
    response = client.post("/api/races", json=body)
    assert response.status_code == 201, response.text
    made = response.json()
    return made["id"], {TOKEN: made["token"]}, made
