"""The reference SUT's robustness against bad SIP input: what it refuses, and how its
robustness fault switches break that.

It owns the checks a request must pass before a role sees it (RFC 3261 8.2, 18.3): a
repeated single-value header, a URI that does not parse, a UDP Content-Length beyond the
datagram, a badly encoded Accept-Contact feature tag, a malformed CPIM body. Each gets a
400. Under a switch of :mod:`refsut.faults.robust_sip` the SUT takes such a request with a
200 instead, or hangs on it: that request and the next go unanswered, and the hang clears.

The SIP core (:mod:`refsut.sipcore`) keeps one :class:`InputGuard` per node and asks it at
four points of its dispatch: :meth:`~InputGuard.swallows` (is the SUT hung?),
:meth:`~InputGuard.take_unparseable` (a request the codec refused),
:meth:`~InputGuard.stalls` (an oversized header section) and :meth:`~InputGuard.screen`
(a parsed request, its server transaction made). A role's handler raises :class:`Hang`
to hang the SUT from deeper in (the PF's resource-list parser does).
"""

from __future__ import annotations

import logging
import re
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable

from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import AcceptContact, NameAddr
from cpmconf.codec.sip import SipMessage, canonical_name
from cpmconf.transport import Inbound

from . import wire

# The SIP core's logger: these lines read as the node's own.
log = logging.getLogger("refsut.sip")

Address = tuple[str, int]
Send = Callable[[bytes, Address, str], Awaitable[bool]]
Reply = Callable[..., Awaitable[None]]

# Headers a request carries at most once (RFC 3261 7.3.1, 20); Call-ID and CSeq twice are
# already refused by the codec.
_SINGLE = ("from", "to", "max-forwards", "content-type", "content-length", "expires")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
BEYOND_DATAGRAM = "Content-Length beyond the datagram"
# A header section this large is legal but unusual; under robust.stall-on-huge-header the SUT
# chokes on it.
HUGE_HEADER_SECTION = 32 * 1024

# Why a request was refused (the kind `malformed` or `_codec_refusal` gives) -> the switch
# under which the SUT takes it with a 200 instead. The 200 is sent from the refusal point,
# so the request is answered but never reaches the role: no state changes.
ACCEPTED_UNDER = {
    "repeated-header": "robust.accept-repeated-header",
    "uri": "robust.accept-invalid-uri",
    "content-length": "robust.accept-udp-excess-content-length",
}
# Kinds judged on survival (RB- entries whose refusal no RFC rule makes a MUST) -> the switch
# under which the SUT hangs on them instead.
HANG_UNDER = {
    "feature-tag": "robust.crash-on-bad-feature-tag",
    "cpim": "robust.crash-on-malformed-cpim",
    # these two must also be survived where a SUT chooses not to refuse them (SHOULD)
    "uri": "robust.crash-on-invalid-uri",
    "repeated-header": "robust.crash-on-repeated-header",
}


class Hang(Exception):
    """Raised by a role's handler under a fault switch that models the SUT hanging: the
    request is left unanswered and the node swallows the next request too."""


def _codec_refusal(error: CodecError | None) -> str | None:
    """The refusal kind of a request the codec could not parse, for ACCEPTED_UNDER."""
    if error is None:
        return None
    if error.what in ("SIP Request-URI", "From header", "To header"):
        return "uri"
    if error.detail.startswith(("more than one Call-ID", "more than one CSeq")):
        return "repeated-header"
    return None


def response_from_raw(raw: bytes, status: int, reason: str) -> bytes | None:
    """A response to a request the codec refused, built from its header lines as written
    (Via, From, To, Call-ID, CSeq), or None when the request has no header section."""
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("utf-8", "replace").split("\r\n")
    if not lines[0].rstrip().endswith("SIP/2.0"):
        return None
    found: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            found.setdefault(canonical_name(name.strip()), []).append(value.strip())
    to = (found.get("to") or [""])[0]
    if ";tag=" not in to.replace(" ", "").lower():
        to = f"{to};tag={secrets.token_hex(6)}"
    out = [("Via", v) for v in found.get("via", [])]
    out += [
        ("From", (found.get("from") or [""])[0]),
        ("To", to),
        ("Call-ID", (found.get("call-id") or [""])[0]),
        ("CSeq", (found.get("cseq") or [""])[0]),
    ]
    return wire.sip_message(f"SIP/2.0 {status} {reason}", out)


def malformed(item: Inbound) -> tuple[str, str] | None:
    """Why a parsed request must get a 400 before its role sees it (RFC 3261 8.2, 18.3), as
    (kind, reason), or None. The codec is lenient on purpose (the harness judges what it
    can); the UA is not.
    """
    msg = item.message
    assert msg is not None
    counts: dict[str, int] = {}
    for name, _ in msg.headers:
        key = canonical_name(name)
        counts[key] = counts.get(key, 0) + 1
    twice = [n for n in _SINGLE if counts.get(n, 0) > 1]
    if twice:
        return "repeated-header", f"{twice[0]} header repeated"
    for name in ("From", "To"):
        try:
            NameAddr.parse(msg.header(name) or "")
        except CodecError:
            return "uri", f"bad {name} header"
    declared = msg.header("Content-Length")
    if item.transport == "udp" and declared is not None:
        head_end = item.raw.find(b"\r\n\r\n")
        carried = len(item.raw) - head_end - 4 if head_end >= 0 else 0
        if declared.strip().isdigit() and int(declared) > carried:
            return "content-length", BEYOND_DATAGRAM
    for value in msg.header_list("Accept-Contact"):
        try:
            feature_set = AcceptContact.parse(value)
        except CodecError:
            return "feature-tag", "bad Accept-Contact header"
        for _, raw in feature_set.params:
            if raw is not None and _BAD_PERCENT.search(raw):
                return "feature-tag", "bad percent-encoding in Accept-Contact"
            if raw is not None:
                try:
                    urllib.parse.unquote_to_bytes(raw).decode("utf-8")
                except UnicodeDecodeError:
                    return "feature-tag", "Accept-Contact value is not UTF-8"
    content_type = (msg.header("Content-Type") or "").split(";", 1)[0].strip().lower()
    if content_type == "message/cpim":
        why = _bad_cpim(msg.body)
        return None if why is None else ("cpim", why)
    return None


def _bad_cpim(body: bytes) -> str | None:
    """Why a message/cpim body cannot be taken (RFC 3862), or None."""
    try:
        cpim = CpimMessage.parse(body)
        cpim.from_address()
        cpim.to_addresses()
        cpim.date_time()
    except CodecError as exc:
        return f"bad CPIM body: {exc.detail}"[:80]
    if cpim.content_type is None:
        return "CPIM body without Content-Type"
    return cpim.check_inner_length()


def _head_size(raw: bytes) -> int:
    end = raw.find(b"\r\n\r\n")
    return len(raw) if end < 0 else end


class InputGuard:
    """One node's screening of inbound requests, and its hang state under a fault switch.

    `fault(name)` says whether a switch is on for this run (False where the node has none).
    """

    def __init__(self, name: str, fault: Callable[[str], bool]) -> None:
        self.name = name
        self._fault = fault
        # The robustness switches that hang the SUT (see hang): requests still to swallow, a
        # hang that clears after the next request so later tests of a mutants run are unaffected.
        self._swallow = 0
        # The transaction (Call-ID, CSeq) of the request swallowed last: its retransmissions
        # are swallowed too, so a retransmitting sender still meets a hung SUT.
        self._swallowed: tuple | None = None

    def swallows(self, msg: SipMessage) -> bool:
        """True when the SUT is hung: this request goes unanswered (it clears the hang)."""
        key = (msg.call_id, msg.header("CSeq"))
        if self._swallow or key == self._swallowed:
            self._swallow = max(self._swallow - 1, 0)
            self._swallowed = key
            log.warning("%s: fault: %s swallowed", self.name, msg.summary())
            return True
        return False

    def hang(self, what: str) -> None:
        """A fault switch hangs the SUT on `what`: it and the next request go unanswered.
        The hang clears after that one request, so later tests of a mutants run are
        unaffected."""
        log.warning("%s: fault: hanging on %s", self.name, what)
        self._swallow = 1

    async def take_unparseable(self, item: Inbound, send: Send) -> bool:
        """Robustness switches acting on a request the codec refused; True if one did (it is
        then hung on, or answered 200 through `send`)."""
        error = item.error
        if (
            item.transport == "udp"
            and error is not None
            and error.detail.startswith("no empty line")
            and self._fault("robust.stall-on-unterminated")
        ):
            self.hang("a datagram whose header section never ends")
            return True
        kind = _codec_refusal(error)
        if kind in HANG_UNDER and self._fault(HANG_UNDER[kind]):
            self.hang(f"an unparseable request ({error})")
            return True
        if kind not in ACCEPTED_UNDER or not self._fault(ACCEPTED_UNDER[kind]):
            return False
        raw = response_from_raw(item.raw, 200, "OK")
        if raw is None:
            return False
        log.warning("%s: fault: 200 to an unparseable request (%s)", self.name, error)
        await send(raw, item.remote, item.transport)
        return True

    def stalls(self, item: Inbound) -> bool:
        """True if a switch hangs the SUT on this request's oversized header section."""
        head = _head_size(item.raw)
        if head > HUGE_HEADER_SECTION and self._fault("robust.stall-on-huge-header"):
            summary = item.message.summary() if item.message is not None else "a request"
            self.hang(f"a {head}-byte header section ({summary})")
            return True
        return False

    async def screen(self, item: Inbound, reply: Reply) -> bool:
        """Refuse a parsed request its role must not see, through `reply(status, reason)`
        (its server transaction's); True if it was refused, or taken or hung on by a
        switch, so the role never sees it."""
        refusal = malformed(item)
        if refusal is None:
            return False
        msg = item.message
        assert msg is not None
        kind, why = refusal
        if kind == "content-length" and self._fault("robust.crash-on-bad-content-length"):
            self.hang(msg.summary())
            return True
        if kind in HANG_UNDER and self._fault(HANG_UNDER[kind]):
            self.hang(f"{msg.summary()} ({why})")
            return True
        if kind in ACCEPTED_UNDER and self._fault(ACCEPTED_UNDER[kind]):
            log.warning("%s: fault: 200 to %s despite %s", self.name, msg.summary(), why)
            await reply(200)
            return True
        log.info("%s: 400 to %s: %s", self.name, msg.summary(), why)
        await reply(400, f"Bad Request ({why})")
        return True
