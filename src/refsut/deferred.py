"""The PF's deferral queue (TS 8.3.2.4.x; "queued" messages in SD 5.2.2.2), SIP-free.

Owns what a deferred message is to the PF: the Message-URI-ID it is named by (a URI under the
deferred-message management address, opaque to clients), what the notification says about it
(originator, subject, date, size), its expiry on the PF's clock, and the queue operations on
the SQLite store (:mod:`refsut.store`): queue, list, expire by policy, and choose what a
handling request's list selects. :mod:`refsut.pf_deferred` does the signalling around it.

The clock is the wall clock plus an offset the control interface (:mod:`refsut.control`)
advances, so a test moves time forward instead of waiting; a reset puts it back to zero.
"""

from __future__ import annotations

import datetime
import secrets
import time
from dataclasses import dataclass

from defusedxml import DefusedXmlException

from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import Expires
from cpmconf.codec.resource_lists import CPM_ACTIONS, ResourceList
from cpmconf.codec.sip import SipMessage

from . import lax_xml, wire
from .faults import Faults
from .robustness import Hang
from .sipcore import media_type, originator
from .store import DEFERRED_STATUSES, DeferredRow, MessageStore


class Clock:
    """Wall-clock time plus an offset the control interface moves forward (never back, but
    to zero on a reset)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> float:
        self.offset += seconds
        return self.offset

    def reset(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Selection:
    """What a handling request asks for: (row, action) pairs, in queue order."""

    actions: tuple[tuple[DeferredRow, str], ...]
    # Only under a robustness fault switch: the request is taken though it selects nothing.
    taken: bool = False

    def __bool__(self) -> bool:
        return bool(self.actions) or self.taken


class DeferredQueue:
    def __init__(
        self,
        store: MessageStore,
        management: str,
        clock: Clock,
        faults: Faults,
        *,
        lifetime: int,
        expiry_policy: str,
    ) -> None:
        self.store = store
        self.management = management
        self.clock = clock
        self.faults = faults
        self.lifetime = lifetime
        self.expiry_policy = expiry_policy

    def uri_id(self, uid: int) -> str:
        # Opaque to the client: it only ever echoes the whole URI back.
        return f"{self.management};id=d{uid}x{secrets.token_hex(4)}"

    def defer(self, owner: str, req: SipMessage, mode: str = "pager") -> DeferredRow:
        """Queue a received request exactly as it arrived."""
        subject = date = None
        body = req.body
        if media_type(req.content_type) == "message/cpim":
            try:
                cpim = CpimMessage.parse(body)
                subject = cpim.header("Subject")
                date = cpim.header("DateTime")
            except (CodecError, AttributeError):
                pass
        now = self.clock.now()
        lifetime = self.lifetime
        expires = req.header("Expires") if mode == "pager" else req.header("Message-Expires")
        if expires is not None:
            try:
                lifetime = Expires.parse(expires).seconds
            except CodecError:
                pass
        return self.store.defer(
            owner,
            req.raw,
            req.call_id,
            mode,
            self.uri_id,
            originator=originator(req),
            subject=subject,
            date=date or _iso(now),
            size=len(req.raw) if self.faults.on("pf.deferred-wrong-size") else len(body),
            expires_at=now + lifetime,
        )

    def expire(self, owner: str | None = None) -> list[DeferredRow]:
        """Apply the expiry policy to every lapsed message; return the ones it removed."""
        if self.faults.on("pf.deferred-deliver-expired"):
            return []
        now = self.clock.now()
        gone = []
        for row in self.store.deferred(owner):
            if row.expires_at <= now:
                state = "stored" if self.expiry_policy == "store" else "deleted"
                self.store.set_deferred_status(row.uid, "done", state)
                gone.append(row)
        return gone

    def pending(self, owner: str) -> list[DeferredRow]:
        """The owner's messages still deferred (expired ones dealt with first)."""
        self.expire(owner)
        return self.store.deferred(owner)

    def listing(
        self, owner: str, rows: list[DeferredRow] | None = None, *, named_as: str | None = None
    ) -> bytes:
        """The owner's deferred-messages list; ``named_as`` replaces every Message-URI-ID
        (a fault switch names the messages by the management address instead)."""
        rows = self.pending(owner) if rows is None else rows
        return wire.deferred_list(
            owner,
            [(named_as or r.uri_id, r.originator, r.subject, r.date, r.size) for r in rows],
        )

    def _ever_issued(self) -> set[str]:
        """Every Message-URI-ID this PF has issued, handled or expired ones included."""
        return {r.uri_id for r in self.store.deferred(None, DEFERRED_STATUSES)}

    def select(self, owner: str, body: bytes | None) -> Selection:
        """The messages a handling INVITE names: all of them for no list, else the listed
        ones with their ``cpm_action``; unknown ids and bad actions are skipped."""
        rows = self.pending(owner)
        if body is None:
            return Selection(tuple((r, "deliver") for r in rows))
        try:
            entries = ResourceList.parse(body).entries
        except CodecError as exc:
            entries = lax_xml.entries(body, self.faults)
            if entries is None:
                unsafe = isinstance(exc.__cause__, DefusedXmlException)  # a DTD, not a typo
                if not unsafe and self.faults.on("robust.crash-on-invalid-resource-list"):
                    raise Hang("a resource list that does not parse") from None
                return Selection(())
        by_id = {r.uri_id: r for r in rows}
        out: list[tuple[DeferredRow, str]] = []
        seen = set()
        taken = False
        for e in entries:
            row = by_id.get(e.base_uri)
            action = (e.action or "").lower()
            never_issued = row is None and e.base_uri not in self._ever_issued()
            # Robustness switches only: an unknown action or id hangs the PF, or an id it
            # never issued is taken anyway.
            if action not in CPM_ACTIONS and self.faults.on("robust.crash-on-unknown-action"):
                raise Hang(f"cpm_action {action!r}")
            if never_issued and self.faults.on("robust.crash-on-unknown-message-id"):
                raise Hang(f"Message-URI-ID {e.base_uri} never issued")
            if action in CPM_ACTIONS and never_issued:
                taken = taken or self.faults.on("robust.accept-unknown-message-id")
            if row is None or action not in CPM_ACTIONS or row.uid in seen:
                continue
            seen.add(row.uid)
            out.append((row, action))
        return Selection(tuple(out), taken=taken)
