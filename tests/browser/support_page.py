"""The playground's pages in browser tests: a page ready (its session, frame and state in),
the step-through walked to a phase, an edge found on the canvas, a projector page stepped, a
student joined by code, a server on a given host."""

from app.config import Settings
from tests.browser.conftest import ServerThread, free_port

READY = (
    "() => window.backprop && backprop.page.frame && backprop.page.state && backprop.page.session"
)


def ready(page):
    page.wait_for_function(READY, timeout=15000)
    return page.evaluate("backprop.page.session")


def edge_point(page, k, i, j):
    return page.evaluate(
        """([k, i, j]) => {
          const v = backprop.view, a = v.nodePosition(k - 1, i), b = v.nodePosition(k, j);
          const r = document.getElementById('network').getBoundingClientRect();
          return [r.left + a.x + a.size + (b.x - a.x - a.size) * 0.3,
                  r.top + a.y + a.size / 2 + (b.y - a.y) * 0.3];
        }""",
        [k, i, j],
    )


def click_edge(page, k, i, j):
    page.mouse.click(*edge_point(page, k, i, j))


def walk_to(page, heading):
    """Press → until the step-through's phase heading says `heading`."""
    for _ in range(12):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
        if page.locator(f"#inspector .phase h3:has-text('{heading}')").count():
            return
    raise AssertionError(f"no phase {heading!r}")


def stepped_projector(open_page, path, width, height):
    """A projector page after one step, walked to the second forward phase."""
    page = open_page(path, width, height)
    ready(page)
    page.keyboard.press("s")
    page.wait_for_function("backprop.page.frame.step === 1 && backprop.page.heatmaps")
    for _ in range(2):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
    page.wait_for_selector("#inspector .phase h3:has-text('forward layer 2')")
    page.wait_for_timeout(300)
    return page


# What a page shows: its session's join code, step, slide and race, and whether it says "ended".
SHOWN = """() => ({
  code: window.backprop && backprop.page.state ? backprop.page.state.join_code : null,
  step: window.backprop && backprop.page.frame ? backprop.page.frame.step : null,
  layers: window.backprop && backprop.page.state ? backprop.page.state.layers.length : null,
  slide: document.getElementById('slide').hidden ? null
    : document.getElementById('slide').dataset.slide,
  race: window.backpropLessonRace ? window.backpropLessonRace.id : null,
  ended: document.getElementById('status').textContent === 'ended'
    || document.getElementById('message').textContent.includes('ended'),
  path: location.pathname,
})"""


def join(open_page, code, session_id):
    student = open_page("/join", 390, 844)
    student.fill("#join-code-input", code)
    student.press("#join-code-input", "Enter")
    student.wait_for_url(f"**/watch/{session_id}")
    student.wait_for_function("backprop.page.frame !== null", timeout=15000)
    return student


def serving(tmp_path, host, **settings):
    port = free_port()
    settings = Settings(data_dir=tmp_path, workers=1, host=host, port=port, **settings)
    thread = ServerThread(port, settings, host=host)
    thread.start()
    thread.wait_started()
    return thread
