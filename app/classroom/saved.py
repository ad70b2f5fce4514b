"""Saved sessions in SQLite (the standard library's sqlite3): a short code -> an export.

One small table; each call opens its own connection, so nothing is shared between threads
and a restart of the server finds every saved session where it left it. The routes call it
through `off_loop`: a file another process holds locked makes a save wait (at most
`busy_seconds`, then a 503), and that wait is a thread's, never the event loop's. A data directory
that cannot be used (missing and not creatable, read-only, a damaged file) is found at
start (`check`) and every call then fails as StorageUnavailable with the reason, which the
app answers as a 503; reads go on wherever the file can still be read.
"""

import asyncio
import json
import secrets
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path

CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
CODE_LENGTH = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    code TEXT PRIMARY KEY,
    created REAL NOT NULL,
    export TEXT NOT NULL
)
"""


# Saves and loads wait here, apart from the threads the sync routes run in: a locked file
# (each call waiting busy_seconds) never takes those from the pages.
STORAGE_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="saved")


class StorageUnavailable(Exception):
    """Saved sessions cannot be written (or read): the message says why."""


async def off_loop(call, *args):
    """call(*args) (a save or a load, SQLite's or Redis's) in a storage thread: the event loop
    answers everyone else while it waits on a lock, a disk or the network."""
    return await asyncio.get_running_loop().run_in_executor(STORAGE_THREADS, partial(call, *args))


class SavedSessions:
    table = "saved"   # app/loop/races.py keeps saved races beside them, in their own table

    def __init__(self, path: Path, busy_seconds: float = 1.0):
        self.path, self.busy_seconds = Path(path), busy_seconds

    def check(self) -> str | None:
        """Why saving is unavailable (None: it works). Opens, checks and probes a write."""
        try:
            with self._connect() as db:
                if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    return f"{self.path} is damaged (SQLite's quick_check fails)"
                db.execute(f"DELETE FROM {self.table} WHERE code = ''")   # a write, no change
        except StorageUnavailable as err:
            return str(err)
        return None

    @contextmanager
    def _connect(self, read_only: bool = False):
        """A connection in a transaction, closed afterwards; any failure of the data
        directory or the file comes out as StorageUnavailable naming the cause."""
        try:
            if read_only:
                connection = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True,
                                             timeout=self.busy_seconds)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=self.busy_seconds)
        except (OSError, sqlite3.Error) as err:
            raise StorageUnavailable(f"{self.path}: {_reason(err)}") from err
        try:
            with connection:
                if not read_only:
                    connection.execute(SCHEMA.format(table=self.table))
                yield connection
        except sqlite3.Error as err:
            raise StorageUnavailable(f"{self.path}: {_reason(err)}") from err
        finally:
            connection.close()

    def save(self, text: bytes) -> str:
        """Keep an export's JSON (as its worker encoded it) under a new code."""
        text = text.decode()
        with self._connect() as db:
            while True:
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                try:
                    db.execute(f"INSERT INTO {self.table} VALUES (?, ?, ?)",
                               (code, time.time(), text))
                    return code
                except sqlite3.IntegrityError:  # the code is taken: draw another
                    continue

    def load(self, code: str) -> dict | None:
        # Read-only: a read-only data directory still serves what was saved, and a missing
        # file means nothing was saved (it is not created by a read).
        if not self.path.exists():
            return None
        with self._connect(read_only=True) as db:
            try:
                row = db.execute(f"SELECT export FROM {self.table} WHERE code = ?",
                                 (code,)).fetchone()
            except sqlite3.OperationalError as err:
                if "no such table" in str(err):
                    return None
                raise
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except ValueError as err:
            raise StorageUnavailable(f"{self.path}: saved {code!r} is damaged") from err


def _reason(err: Exception) -> str:
    if isinstance(err, OSError):
        return err.strerror or str(err)
    return str(err)


class SavedRaces(SavedSessions):
    """Saved races (a race's lanes' exports, app/loop/races.py), in the same file."""

    table = "saved_races"
