"""Reading the SUT's Message Storage Server over IMAP (TS 8.5.1): the store clauses' evidence.

Owns the profile-independent view of a store (:class:`StoreAccess`: address, folder rule,
read credentials per test user) and :func:`fetch`, which logs in as one user, opens the
user's folder read-only and fetches the object with one UID, whole (``BODY.PEEK[]``, so
nothing is marked seen). Every step is bounded by the socket timeout; whatever goes wrong
comes back as the :class:`Fetched` object's ``problem``, said as who broke what, for the
check to weigh. The checks themselves (cpmconf.verdict.checks.store) never talk IMAP.
"""

from __future__ import annotations

import imaplib
from dataclasses import dataclass

from cpmconf.codec.uri import parse_uri, same_aor
from cpmconf.roles.dovecot import Account

TIMEOUT = 3.0


@dataclass(frozen=True)
class StoreAccess:
    address: tuple[str, int]
    folder: str  # the folder rule: "{user}" is the user part of the SIP URI, "{uri}" all of it
    accounts: tuple[Account, ...]

    def account(self, uri: str) -> Account | None:
        return next((a for a in self.accounts if same_aor(a.uri, uri)), None)

    def folder_of(self, uri: str) -> str:
        """The folder rule filled in: {user} is the URI's user part, {uri} its address of
        record (scheme:user@host), both in lower case as mailbox names are kept."""
        u = parse_uri(uri)
        if u is None:
            return self.folder
        user = (u.user or "").lower()
        aor = f"{u.scheme}:{user}@{u.host}" if user else f"{u.scheme}:{u.host}"
        return self.folder.replace("{user}", user).replace("{uri}", aor)


@dataclass(frozen=True)
class Fetched:
    """What the store holds at one UID in one user's folder (evidence for the store checks)."""

    user: str  # the SIP URI whose store was read
    folder: str
    uid: int
    raw: bytes | None  # the whole object; None when there is none
    problem: str | None = None  # why there is no object (None: found)
    harness: bool = False  # the problem is the harness's or the profile's, not the SUT's

    def to_json(self) -> dict:
        return {
            "user": self.user,
            "folder": self.folder,
            "uid": self.uid,
            "object": None if self.raw is None else self.raw.decode("utf-8", "replace"),
            "problem": self.problem,
        }


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fetch(store: StoreAccess, uri: str, uid: int, timeout: float = TIMEOUT) -> Fetched:
    """The object with `uid` in `uri`'s folder, read with `uri`'s credentials."""
    folder = store.folder_of(uri)

    def none(problem: str, harness: bool = False) -> Fetched:
        return Fetched(uri, folder, uid, None, problem, harness)

    account = store.account(uri)
    if account is None:
        return none(f"the profile's [store] names no read credentials for {uri}", True)
    host, port = store.address
    try:
        imap = imaplib.IMAP4(host, port, timeout=timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        return none(f"cannot reach the store at {host}:{port}: {exc}", True)
    try:
        try:
            imap.login(account.login, account.password)
        except imaplib.IMAP4.error as exc:
            return none(f"the store refused the login of {account.login}: {exc}", True)
        typ, data = imap.select(_quote(folder), readonly=True)
        if typ != "OK":
            return none(f"{uri}'s store has no folder {folder!r} ({_text(data)})")
        typ, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if typ != "OK":
            return none(f"UID FETCH {uid} refused: {_text(data)}")
        raw = _body(data)
        if raw is None:
            return none(f"no object with UID {uid} in {uri}'s folder {folder!r}")
        return Fetched(uri, folder, uid, raw)
    except (OSError, imaplib.IMAP4.error) as exc:
        return none(f"the store broke off the fetch: {exc}", True)
    finally:
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            imap.shutdown()


def _text(data) -> str:
    return " ".join(d.decode("utf-8", "replace") for d in data if isinstance(d, bytes))[:120]


def _body(data) -> bytes | None:
    """The literal of the FETCH response (imaplib gives (header, literal) tuples)."""
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1])
    return None


__all__ = ["Fetched", "StoreAccess", "fetch"]
