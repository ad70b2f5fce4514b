"""A lesson in browser tests: its slides as the API gives them, and a slide shown on a page."""

import httpx

SHOWN = "(n) => document.getElementById('slide').dataset.slide === String(n) && " \
        "!document.getElementById('slide').classList.contains('busy')"


def lesson(base_url, name):
    return httpx.get(f"{base_url}/api/lessons/{name}", timeout=10).json()


def shown(page, n, timeout=30000):
    page.wait_for_function(SHOWN, arg=n, timeout=timeout)
    page.wait_for_timeout(200)   # the frame of the slide's last call, and its repaint
