"""Issue 20, row 7: a saved-sessions file another process holds locked makes a save wait in
a storage thread, never on the event loop: another user's GET is answered while the save
waits, and the save is answered 503 once its short busy timeout is over. Through a real
uvicorn server (the test client would run the request in the test's own thread)."""

import sqlite3
import threading

import httpx
from support_server import serving

from app.classroom.saved import SavedSessions
from app.config import Settings


def test_a_save_into_a_locked_file_waits_off_the_loop_and_is_answered_503(tmp_path, monkeypatch):
    reached = threading.Event()
    saving = SavedSessions.save

    def save(self, text: bytes) -> str:   # the save has got as far as the file
        reached.set()
        return saving(self, text)

    monkeypatch.setattr(SavedSessions, "save", save)
    with serving(Settings(data_dir=tmp_path, workers=1)) as address:
        base = f"http://{address}"
        mine = httpx.post(f"{base}/api/sessions", json={"hidden": [2]}).json()
        other = httpx.post(f"{base}/api/sessions", json={"hidden": [3]}).json()
        lock = sqlite3.connect(tmp_path / "saved.sqlite3", isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")   # another process holding the file
        answers = {}

        def save_mine() -> None:
            answers["save"] = httpx.post(f"{base}/api/sessions/{mine['id']}/save",
                                         headers={"X-Control-Token": mine["token"]}, timeout=60)

        saver = threading.Thread(target=save_mine)
        try:
            saver.start()
            assert reached.wait(timeout=60)
            read = httpx.get(f"{base}/api/sessions/{other['id']}", timeout=60)
            assert read.status_code == 200
            assert "save" not in answers   # answered while the save still waits on the lock
            saver.join(timeout=60)
            assert answers["save"].status_code == 503
            assert "database is locked" in answers["save"].json()["detail"]
        finally:
            saver.join(timeout=60)
            lock.rollback()
            lock.close()
        again = httpx.post(f"{base}/api/sessions/{mine['id']}/save",
                           headers={"X-Control-Token": mine["token"]})
        assert again.status_code == 200
        assert httpx.get(f"{base}/api/saved/{again.json()['code']}").status_code == 200


def test_the_busy_timeout_is_a_setting_under_two_seconds():
    assert Settings().save_busy_seconds <= 2.0
