"""A race's page through nginx in headless Chromium, two instances behind it: the owner's tab
plays it, a follower's tab follows it and copies a lane (the copy made where its own id
hashes), the saved link opens a new race. Chromium runs in a thread of its own (Playwright's
sync API refuses a thread where the browser tests' event loop runs)."""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts"
LANES_DRAWN = """(n) => window.backpropRace && backpropRace.lanes.length === n
  && backpropRace.lanes.every((l) => l.lane.frame && l.lane.heatmaps)"""
PAGE_READY = "() => window.backprop && backprop.page && backprop.page.state"

if not os.path.exists(CHROMIUM) and shutil.which("chromium") is None:
    pytest.skip(f"this test needs Chromium at {CHROMIUM}", allow_module_level=True)


def in_chromium(work):
    def run():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                return work(browser)
            finally:
                browser.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def test_a_race_page_through_nginx_plays_is_followed_copied_and_saved(cluster):
    base = cluster.nginx.base
    made = httpx.post(f"{base}/api/races", json={"preset": "xor",
                                                 "vary": {"learning_rate": [0.5, 4.0]}},
                      timeout=60).json()
    token = {"X-Control-Token": made["token"]}
    assert httpx.post(f"{base}/api/races/{made['id']}/step", json={"steps": 40}, headers=token,
                      timeout=60).status_code == 200
    ARTIFACTS.mkdir(exist_ok=True)

    def pages(browser):
        errors = []

        def open_page(path):
            page = browser.new_context(viewport={"width": 1280, "height": 720},
                                       bypass_csp=True).new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.goto(base + path)
            return page

        owner = open_page("/")
        owner.evaluate(f"sessionStorage.setItem('backprop-token:{made['id']}', "
                       f"'{made['token']}')")
        owner.goto(f"{base}/race/{made['id']}")
        owner.wait_for_function(LANES_DRAWN, arg=2, timeout=30000)
        follower = open_page(f"/race/{made['id']}")
        follower.wait_for_function(LANES_DRAWN, arg=2, timeout=30000)
        owner.click("#race-play")
        for page in (owner, follower):
            page.wait_for_function("backpropRace.step >= 300 && backpropRace.playing",
                                   timeout=60000)
        owner.screenshot(path=str(ARTIFACTS / "cluster-race-owner-1280x720.png"))
        follower.screenshot(path=str(ARTIFACTS / "cluster-race-follower-1280x720.png"))
        owner.click("#race-play")
        owner.wait_for_function("!backpropRace.playing", timeout=30000)
        owner.click("#race-save")
        owner.wait_for_selector("#race-saved-link[href*='/r/']")
        link = owner.get_attribute("#race-saved-link", "href")
        # No public address set: the link is at the address the teacher's browser used, nginx's
        assert link.startswith(base + "/r/"), link
        link = link[len(base):]
        follower.locator(".lane-copy").nth(1).click()
        follower.wait_for_url("**/?session=*")
        follower.wait_for_function(PAGE_READY, timeout=30000)
        copy = follower.evaluate("[backprop.page.session.id, backprop.page.state]")
        reopened = open_page(link)
        reopened.wait_for_url("**/race/*")
        reopened.wait_for_function(LANES_DRAWN, arg=2, timeout=30000)
        new_race = reopened.evaluate("backpropRace.lanes.map((l) => l.lane.frame.step)")
        return copy, reopened.url, new_race, errors

    (copy_id, copy_state), reopened_url, new_steps, errors = in_chromium(pages)
    assert errors == []
    assert copy_state["step"] >= 300 and copy_state["config"]["optimizer"]["learning_rate"] == 4
    assert cluster.owner(copy_id) is not None
    assert made["id"] not in reopened_url and len(set(new_steps)) == 1 and new_steps[0] >= 300
    assert not any("restored here" in i.output() for i in cluster.instances)
