"""Saved sessions in SQLite (the standard library's sqlite3): a short code -> an export.

One small table; each call opens its own connection, so nothing is shared between threads
and a restart of the server finds every saved session where it left it.
"""

import json
import secrets
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
CODE_LENGTH = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS saved (
    code TEXT PRIMARY KEY,
    created REAL NOT NULL,
    export TEXT NOT NULL
)
"""


class SavedSessions:
    def __init__(self, path: Path):
        self.path = Path(path)

    @contextmanager
    def _connect(self):
        """A connection in a transaction, closed afterwards."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            with connection:
                connection.execute(SCHEMA)
                yield connection
        finally:
            connection.close()

    def save(self, text: bytes) -> str:
        """Keep an export's JSON (as its worker encoded it) under a new code."""
        text = text.decode()
        with self._connect() as db:
            while True:
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                try:
                    db.execute("INSERT INTO saved VALUES (?, ?, ?)", (code, time.time(), text))
                    return code
                except sqlite3.IntegrityError:  # the code is taken: draw another
                    continue

    def load(self, code: str) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT export FROM saved WHERE code = ?", (code,)).fetchone()
        return None if row is None else json.loads(row[0])
