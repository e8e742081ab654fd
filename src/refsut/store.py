"""The PF's message store: SQLite (stdlib), one row per stored standalone message.

What stays here now that recording can go to a real Message Storage Server (refsut.recording,
IMAP): the deferral queue and its Message-URI-IDs, statuses and expiries (IMAP has no place
for them), the messages a user's `store` preference keeps, those queued for interworking,
and recorded messages only when the config names no `pf.message_store`.

Without a message store it stands in for the Message Storage Server of TS 8.5.1: the PF
hands it the complete request (start line, headers and body, exactly as received) and gets
back the object's UID,
a positive 32-bit integer like an IMAP UID. The same table holds the deferral queue
(``state = 'deferred'``); the ``deferred`` table beside it keeps each deferred message's
Message-URI-ID, what the notification tells about it, its expiry and its queue status
(``queued``, ``delivering`` while a delivery is in flight, ``done``). Every change is one
committed statement (or one transaction), so a killed PF loses nothing it acknowledged.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

MAX_UID = 2**32 - 1
STATES = ("recorded", "stored", "deferred", "interwork", "interworked", "deleted", "delivered")

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


_DEFERRED_SCHEMA = """
CREATE TABLE IF NOT EXISTS deferred (
    uid INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    uri_id TEXT NOT NULL UNIQUE,
    originator TEXT,
    subject TEXT,
    date TEXT,
    size INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    status TEXT NOT NULL
)
"""
DEFERRED_STATUSES = ("queued", "delivering", "done")


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


@dataclass(frozen=True)
class DeferredRow:
    """One deferred message: the queue's view of it (the request itself is in ``messages``)."""

    uid: int
    owner: str
    uri_id: str
    originator: str | None
    subject: str | None
    date: str | None
    size: int
    expires_at: float
    status: str


_DEFERRED_COLUMNS = "uid, owner, uri_id, originator, subject, date, size, expires_at, status"


class MessageStore:
    """A tiny synchronous wrapper; every call is a single short statement."""

    def __init__(self, path: str = ":memory:") -> None:
        try:
            self._db = sqlite3.connect(path, isolation_level=None)  # autocommit
            self._db.execute(_SCHEMA)
            self._db.execute(_DEFERRED_SCHEMA)
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

    # -- the deferral queue -----------------------------------------------------------------

    def defer(
        self,
        owner: str,
        raw: bytes,
        call_id: str,
        mode: str,
        uri_id_for,
        *,
        originator: str | None,
        subject: str | None,
        date: str | None,
        size: int,
        expires_at: float,
    ) -> DeferredRow:
        """Queue one message in a single transaction; ``uri_id_for(uid)`` names it."""
        with self._db:
            self._db.execute("BEGIN")
            cur = self._db.execute(
                "INSERT INTO messages (owner, state, mode, call_id, raw, created) "
                "VALUES (?, 'deferred', ?, ?, ?, ?)",
                (owner, mode, call_id, bytes(raw), time.time()),
            )
            uid = int(cur.lastrowid)
            row = DeferredRow(
                uid,
                owner,
                uri_id_for(uid),
                originator,
                subject,
                date,
                size,
                expires_at,
                "queued",
            )
            self._db.execute(
                f"INSERT INTO deferred ({_DEFERRED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.uid,
                    row.owner,
                    row.uri_id,
                    row.originator,
                    row.subject,
                    row.date,
                    row.size,
                    row.expires_at,
                    row.status,
                ),
            )
        return row

    def deferred(self, owner: str | None = None, statuses=("queued", "delivering")):
        """Deferred rows (of one owner, or all) in a status, oldest first."""
        marks = ", ".join("?" for _ in statuses)
        sql = f"SELECT {_DEFERRED_COLUMNS} FROM deferred WHERE status IN ({marks})"
        args: list = list(statuses)
        if owner is not None:
            sql += " AND owner = ?"
            args.append(owner)
        rows = self._db.execute(sql + " ORDER BY uid", args).fetchall()
        return [DeferredRow(*r) for r in rows]

    def set_deferred_status(self, uid: int, status: str, state: str | None = None) -> None:
        """Move a deferred row on; ``state`` also moves the stored message (e.g. 'stored')."""
        if status not in DEFERRED_STATUSES:
            raise ValueError(f"unknown deferred status {status!r}")
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("UPDATE deferred SET status = ? WHERE uid = ?", (status, uid))
            if state is not None:
                self._db.execute("UPDATE messages SET state = ? WHERE uid = ?", (state, uid))

    def clear(self) -> None:
        """Forget every stored, recorded and deferred message (a reset to the provisioned
        state); UIDs keep counting up, so no UID ever names two messages."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM deferred")
            self._db.execute("DELETE FROM messages")

    def close(self) -> None:
        self._db.close()
