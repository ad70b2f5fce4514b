"""A worker's slice budget follows the cycle its sessions really get (app/loop/hub.py, _measure):
shorter slices when sessions wait longer than LOADED_CYCLE between frames, longer when they
wait less, never below SHORTEST_SLICE nor past a frame interval; and new sessions are placed
by the slices the sessions already there take."""

from support_hub import fake_hub, handle

from app.config import Settings
from app.loop.feeds import Feeds
from app.loop.hub import LOADED_CYCLE, SHORTEST_SLICE, Hub
from app.loop.store import SessionStore


def measured(cycle: float, rounds: int, playing: int = 30) -> list[float]:
    """The budget after each of `rounds` rounds whose ten sessions each waited `cycle`."""
    hub, _ = fake_hub()
    w = hub.workers[0]
    budgets = []
    for _ in range(rounds):
        hub._measure(w, [cycle] * 10)
        budgets.append(hub.budget(w, playing))
    return budgets


def test_a_cycle_too_long_shortens_the_slices_down_to_the_shortest():
    hub, _ = fake_hub()
    first = hub.budget(hub.workers[0], 30)
    budgets = measured(2 * LOADED_CYCLE, 400)
    assert budgets[0] < first and budgets == sorted(budgets, reverse=True)
    assert budgets[-1] == SHORTEST_SLICE


def test_a_cycle_with_room_lengthens_the_slices_up_to_a_frame_interval():
    hub, _ = fake_hub()
    w = hub.workers[0]
    first = hub.budget(w, 30)
    budgets = measured(LOADED_CYCLE / 3, 400)
    assert budgets[0] > first and budgets == sorted(budgets)
    assert budgets[-1] < 1 / hub.settings.frame_rate
    alone = measured(LOADED_CYCLE / 3, 400, playing=1)[-1]
    assert alone == 1 / hub.settings.frame_rate - w.overhead


def test_the_cycle_wanted_keeps_the_budget_where_it_is():
    hub, _ = fake_hub()
    first = hub.budget(hub.workers[0], 30)
    assert measured(LOADED_CYCLE, 50) == [first] * 50


def test_a_session_back_from_a_pause_counts_as_a_few_cycles_not_its_whole_pause():
    hub, _ = fake_hub()
    w = hub.workers[0]
    hub._measure(w, [3600.0])
    assert w.cycle <= 4 * LOADED_CYCLE
    hub._measure(w, [])   # a round of shared views and set speeds only: nothing measured
    assert w.cycle <= 4 * LOADED_CYCLE


def test_a_teacher_left_alone_gets_its_whole_budget_back_after_a_crowded_lesson():
    hub, _ = fake_hub()
    w = hub.workers[0]
    alone = hub.budget(w, 1)
    for _ in range(400):                  # the class played on a crowded machine
        hub._measure(w, [3 * LOADED_CYCLE] * 10)
    assert hub.budget(w, 1) < alone / 2
    for _ in range(200):                  # then only the teacher's shared view plays
        hub._measure(w, [])
    assert hub.budget(w, 1) == alone


def placing(hub, store, count: int) -> list[int]:
    """Make `count` playing sessions, each where hub.place() puts it; their workers."""
    placed = []
    for i in range(count):
        student = handle(f"s{i}")
        student.worker = hub.place()
        store.sessions[student.id] = student
        placed.append(student.worker)
    return placed


def test_new_sessions_go_beside_a_shared_view_only_as_far_as_its_slices_leave_room():
    store = SessionStore(100, 3600)
    hub = Hub(Settings(workers=2), store, Feeds(12_000))
    teacher = handle("teacher", followers=200)   # projected and playing, on worker 0
    store.sessions["teacher"] = teacher
    assert hub.weight(teacher) == 60 * LOADED_CYCLE == 2.5
    # worker 1 takes copies until it holds as many sessions' worth as the teacher's worker
    assert placing(hub, store, 10) == [1, 1, 1, 0, 1, 0, 1, 0, 1, 0]


def test_sessions_without_a_shared_view_alternate():
    store = SessionStore(100, 3600)
    hub = Hub(Settings(workers=2), store, Feeds(12_000))
    assert placing(hub, store, 6) == [0, 1, 0, 1, 0, 1]
