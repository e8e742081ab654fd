"""The PF's recording into the Message Storage Server (TS 8.5.1): IMAP APPEND, UIDPLUS.

Each recorded message is APPENDed, as the PF recorded it, to the folder of the user whose
store it belongs in (the originator's for originating-side recording, the recipient's for
terminating-side), logged in with that user's account from the config; the UID the PF puts
in Message-UID is the one the server's APPENDUID response code (RFC 4315) gives back. A
server without UIDPLUS, or one that refuses, yields no UID (the PF then puts none on the
wire, and says why in its log). imaplib is blocking: :meth:`ImapRecorder.record` runs it in
a worker thread with a bounded socket timeout.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import re
from dataclasses import dataclass

log = logging.getLogger("refsut.imapstore")

# Each socket step of one APPEND: loopback answers in milliseconds, and the PF's answer to the
# sender waits on it, so a stuck store costs the sender at most about this long per step.
TIMEOUT = 1.0
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)


class RecordError(RuntimeError):
    pass


@dataclass(frozen=True)
class StoreAccount:
    uri: str
    login: str
    password: str


@dataclass(frozen=True)
class MessageStoreConfig:
    address: tuple[str, int]
    folder: str  # rule: "{user}" is the user part of the owner's URI, "{uri}" the whole URI
    accounts: tuple[StoreAccount, ...]


def uri_key(uri: str) -> str:
    uri = uri.strip()
    if "<" in uri and ">" in uri:
        uri = uri[uri.index("<") + 1 : uri.index(">")]
    return uri.split(";", 1)[0].split("?", 1)[0].lower()


def appenduid(response: list) -> int | None:
    """The UID out of an APPEND's tagged OK (``[APPENDUID <validity> <uid>]``)."""
    for line in response or []:
        m = _APPENDUID.search(line if isinstance(line, bytes) else str(line).encode())
        if m:
            return int(m.group(2))
    return None


class ImapRecorder:
    def __init__(self, cfg: MessageStoreConfig, timeout: float = TIMEOUT) -> None:
        self.cfg = cfg
        self.timeout = timeout

    def account(self, owner: str) -> StoreAccount | None:
        key = uri_key(owner)
        return next((a for a in self.cfg.accounts if uri_key(a.uri) == key), None)

    def folder_of(self, owner: str) -> str:
        key = uri_key(owner)
        user = key.split(":", 1)[-1].split("@", 1)[0]
        return self.cfg.folder.replace("{user}", user).replace("{uri}", key)

    def append(self, owner: str, raw: bytes) -> int:
        """APPEND `raw` to `owner`'s folder; the new object's UID (blocking, bounded)."""
        account = self.account(owner)
        if account is None:
            raise RecordError(f"no store account for {owner}")
        host, port = self.cfg.address
        folder = '"' + self.folder_of(owner).replace("\\", "\\\\").replace('"', '\\"') + '"'
        try:
            imap = imaplib.IMAP4(host, port, timeout=self.timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise RecordError(f"store {host}:{port} unreachable: {exc}") from None
        try:
            imap.login(account.login, account.password)
            typ, data = imap.append(folder, None, None, raw)
            if typ != "OK" and "TRYCREATE" in repr(data).upper():
                imap.create(folder)
                typ, data = imap.append(folder, None, None, raw)
            if typ != "OK":
                raise RecordError(f"APPEND refused: {data!r}")
            uid = appenduid(data)
            if uid is None:
                raise RecordError(f"APPEND gave no APPENDUID (no UIDPLUS?): {data!r}")
            return uid
        except (OSError, imaplib.IMAP4.error) as exc:
            raise RecordError(f"APPEND failed: {exc}") from None
        finally:
            try:
                imap.logout()
            except (OSError, imaplib.IMAP4.error):
                imap.shutdown()

    async def record(self, owner: str, raw: bytes) -> int | None:
        """The UID of `raw` stored in `owner`'s store, or None (logged) when it could not be."""
        try:
            return await asyncio.to_thread(self.append, owner, bytes(raw))
        except RecordError as exc:
            log.warning("recording for %s not stored: %s", owner, exc)
            return None
