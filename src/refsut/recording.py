"""The PF's recording of standalone messages (TS 8.5.1): which store, which UID per side.

With a Message Storage Server in the config (``pf.message_store``), each side the PF records
on gets its own stored object, APPENDed over IMAP (refsut.imapstore): the originating side in
the originator's store, the terminating side in the recipient's, each with the UID the server
gave it. Without one, the PF records into its SQLite store (refsut.store), one row whose UID
serves both sides. The recording fault switches (refsut.faults.pf_recording) act here.
"""

from __future__ import annotations

import asyncio
import logging
import re

from .faults import Faults
from .imapstore import ImapRecorder, uri_key
from .store import MessageStore

log = logging.getLogger("refsut.recording")

# pf.store-uid-not-stored: how far the UID on the wire is moved off the stored object's
UID_SHIFT = 1000
# pf.store-body-truncated: bytes cut off the end of the stored object
TRUNCATED = 16
DROPPED_HEADER = re.compile(rb"(?im)^(?:Conversation-ID)[ \t]*:[^\r\n]*\r?\n")


class Recording:
    def __init__(self, sides, faults: Faults, store: MessageStore, message_store=None) -> None:
        self.sides = frozenset(sides)
        self.faults = faults
        self.store = store
        self.imap = ImapRecorder(message_store) if message_store is not None else None

    def __bool__(self) -> bool:
        return bool(self.sides)

    async def record(
        self, originator: str, recipient: str, raw: bytes, call_id: str, mode: str
    ) -> tuple[int | None, int | None]:
        """Store the recorded message; (originating-side UID, terminating-side UID)."""
        if not self.sides:
            return None, None
        if self.imap is None:
            uid = self.store.add(recipient, raw, call_id, "recorded", mode=mode)
            return uid, uid
        owners = {"originating": originator, "terminating": recipient}
        if mode == "large" and self.faults.on("pf.store-wrong-user"):
            # A user who is no party to the message (the two parties' stores would hold
            # the same object, so swapping them could not be told apart).
            parties = {uri_key(originator), uri_key(recipient)}
            other = next(
                (a.uri for a in self.imap.cfg.accounts if uri_key(a.uri) not in parties), None
            )
            if other is not None:
                owners = {"originating": other, "terminating": other}
        if mode == "pager" and self.faults.on("pf.store-header-dropped"):
            raw = DROPPED_HEADER.sub(b"", raw, count=1)
        if mode == "large" and self.faults.on("pf.store-body-truncated"):
            raw = raw[:-TRUNCATED]
        sides = [s for s in ("originating", "terminating") if s in self.sides]
        # Both sides at once: the answer to the sender waits on the slower of the two.
        got = await asyncio.gather(*(self.imap.record(owners[s], raw) for s in sides))
        uids: dict[str, int | None] = {}
        for side, uid in zip(sides, got, strict=True):
            if uid is not None and mode == "pager" and self.faults.on("pf.store-uid-not-stored"):
                uid += UID_SHIFT
            uids[side] = uid
        return uids.get("originating"), uids.get("terminating")
