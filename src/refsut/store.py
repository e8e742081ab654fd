"""The PF's message store: SQLite (stdlib), one row per stored standalone message.

It stands in for the CPM Message Storage Server of TS 8.5.1: the PF hands it the complete
request (start line, headers and body, exactly as received) and gets back the object's UID,
a positive 32-bit integer like an IMAP UID. The same table holds the deferral queue
(``state = 'deferred'``) so deferred delivery can be added without a second store.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

MAX_UID = 2**32 - 1
STATES = ("recorded", "stored", "deferred", "interwork")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    uid INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    state TEXT NOT NULL,
    mode TEXT NOT NULL,
    call_id TEXT NOT NULL,
    raw BLOB NOT NULL,
    created REAL NOT NULL
)
"""


class StoreError(RuntimeError):
    pass


@dataclass(frozen=True)
class StoredMessage:
    uid: int
    owner: str
    state: str
    mode: str
    call_id: str
    raw: bytes
    created: float


class MessageStore:
    """A tiny synchronous wrapper; every call is a single short statement."""

    def __init__(self, path: str = ":memory:") -> None:
        try:
            self._db = sqlite3.connect(path, isolation_level=None)  # autocommit
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open message store {path!r}: {exc}") from exc

    def add(self, owner: str, raw: bytes, call_id: str, state: str, mode: str = "pager") -> int:
        """Store one complete request; return its UID."""
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        cur = self._db.execute(
            "INSERT INTO messages (owner, state, mode, call_id, raw, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (owner, state, mode, call_id, bytes(raw), time.time()),
        )
        uid = int(cur.lastrowid)
        if not 0 < uid <= MAX_UID:
            raise StoreError(f"UID {uid} outside the IMAP range")
        return uid

    def get(self, uid: int) -> StoredMessage | None:
        row = self._db.execute(
            "SELECT uid, owner, state, mode, call_id, raw, created FROM messages WHERE uid = ?",
            (uid,),
        ).fetchone()
        return None if row is None else StoredMessage(*row[:5], bytes(row[5]), row[6])

    def by_state(self, owner: str, state: str) -> list[StoredMessage]:
        rows = self._db.execute(
            "SELECT uid, owner, state, mode, call_id, raw, created FROM messages "
            "WHERE owner = ? AND state = ? ORDER BY uid",
            (owner, state),
        ).fetchall()
        return [StoredMessage(*r[:5], bytes(r[5]), r[6]) for r in rows]

    def set_state(self, uid: int, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        self._db.execute("UPDATE messages SET state = ? WHERE uid = ?", (state, uid))

    def close(self) -> None:
        self._db.close()
