"""Checks for the client's registration at the SIP/IP core (000 TS 7.1): the REGISTER's
form, its Contact (CPM ICSI, +sip.instance, RFC 3840 capabilities), the gruu option tags,
the refresh before the granted expiry runs out, and the de-registration.
"""

from __future__ import annotations

import re

from cpmconf.codec.cpm import CPM_ICSIS
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import ContactFeatures, Expires, NameAddr
from cpmconf.codec.sip import SipMessage
from cpmconf.codec.uri import parse_uri, same_aor
from cpmconf.verdict.checks.base import Judgement, judged, register

# +sip.instance (RFC 5626 4.1): a quoted "<urn:...>"
_INSTANCE_RE = re.compile(r'^"<urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[^\s<>"]+>"$')
# Parameters of a REGISTER Contact that are not user-agent capabilities (RFC 3840 9).
_NOT_CAPABILITIES = {"sip.instance", "expires", "q", "reg-id", "pub-gruu", "temp-gruu"}


def _contact(msg: SipMessage) -> tuple[ContactFeatures | None, str]:
    text = msg.header("Contact")
    if text is None:
        return None, "no Contact"
    try:
        return ContactFeatures.parse(text), text
    except CodecError as exc:
        return None, f"unparseable Contact {text!r}: {exc}"


def _option_tags(msg: SipMessage, header: str) -> list[str]:
    return [t.strip().lower() for v in msg.header_list(header) for t in v.split(",") if t.strip()]


def expiry_of(msg: SipMessage) -> int | None:
    """The expiry a REGISTER asks for: Contact expires, else Expires, else None."""
    contact, _ = _contact(msg)
    try:
        if contact is not None and contact.param("expires") is not None:
            return Expires.parse(contact.param("expires") or "").seconds
        if msg.header("Expires") is not None:
            return Expires.parse(msg.header("Expires") or "").seconds
    except CodecError:
        return None
    return None


@register("TS-7.1-1", passive=True)
def register_form(msg: SipMessage) -> Judgement:
    """RFC 3261 10.2: Request-URI without user part, To = From = the address of record,
    From tag, Call-ID, CSeq REGISTER, a Contact."""
    problems = []
    ruri = msg.request_uri or ""
    parsed = parse_uri(ruri)
    if parsed is None or parsed.user is not None:
        problems.append(f"Request-URI {ruri} carries a user part")
    if not same_aor(msg.header("To"), msg.header("From")):
        problems.append(f"To {msg.header('To')} is not the From {msg.header('From')}")
    try:
        if not NameAddr.parse(msg.header("From") or "").tag:
            problems.append("From has no tag")
    except CodecError as exc:
        problems.append(f"unparseable From: {exc}")
    if not msg.call_id:
        problems.append("no Call-ID")
    if msg.cseq[1] != "REGISTER":
        problems.append(f"CSeq method {msg.cseq[1]}")
    if msg.header("Contact") is None:
        problems.append("no Contact")
    return judged(
        not problems,
        "REGISTER sip:<domain>; To = From (address of record); From tag; Call-ID; CSeq; Contact",
        "; ".join(problems) or "as expected",
        msg,
    )


@register("TS-7.1-2", passive=True)
def contact_cpm_icsi(msg: SipMessage, accepted: tuple[str, ...] = CPM_ICSIS) -> Judgement:
    """The Contact carries at least one CPM ICSI in g.3gpp.icsi-ref (D-register-feature-tag)."""
    contact, text = _contact(msg)
    expected = "Contact with a CPM ICSI in g.3gpp.icsi-ref"
    if contact is None:
        return judged(False, expected, text, msg)
    found = [u for u in accepted if contact.has_icsi(u)]
    return judged(bool(found), expected, f"Contact: {text}", msg)


@register("TS-7.1-3", passive=True)
def contact_instance(msg: SipMessage) -> Judgement:
    """The Contact carries +sip.instance with a URN, quoted and in angle brackets (RFC 5626)."""
    contact, text = _contact(msg)
    expected = 'Contact with +sip.instance="<urn:...>"'
    if contact is None:
        return judged(False, expected, text, msg)
    raw = next((v for k, v in contact.params if k.lower() == "+sip.instance"), None)
    ok = raw is not None and bool(_INSTANCE_RE.match(raw.strip()))
    return judged(ok, expected, f"+sip.instance={raw}" if raw is not None else text, msg)


@register("TS-7.1-4", passive=True)
def supported_gruu(msg: SipMessage) -> Judgement:
    """Supported lists the option tag gruu."""
    tags = _option_tags(msg, "Supported")
    return judged("gruu" in tags, "Supported: gruu", f"Supported: {tags or 'absent'}", msg)


@register("TS-7.1-5", passive=True)
def require_gruu(msg: SipMessage) -> Judgement:
    """Require lists the option tag gruu, as 000 writes it (D-require-gruu)."""
    tags = _option_tags(msg, "Require")
    return judged(
        "gruu" in tags,
        "Require: gruu",
        f"Require: {tags or 'absent'}",
        msg,
        note="RFC 5627 itself only asks for Supported: gruu; a registrar without GRUU support "
        "would refuse this REGISTER with 420 (decision D-require-gruu)",
    )


@register("TS-7.1-6", passive=True)
def contact_capabilities(msg: SipMessage) -> Judgement:
    """The Contact advertises capabilities as RFC 3840 feature parameters (base tags such as
    methods, or + tags other than +sip.instance), each well formed."""
    contact, text = _contact(msg)
    expected = "Contact with RFC 3840 feature parameters"
    if contact is None:
        return judged(False, expected, text, msg)
    caps = {k: v for k, v in contact.features.items() if k not in _NOT_CAPABILITIES}
    bad = [k for k, v in caps.items() if v is not None and not v.strip()]
    ok = bool(caps) and not bad
    actual = f"feature parameters {sorted(caps) or 'none'}" + (f", empty: {bad}" if bad else "")
    return judged(ok, expected, actual, msg)


@register("TS-7.1-reregister")
def refreshed_in_time(
    first: SipMessage,
    granted: int,
    granted_at: float,
    refresh: SipMessage | None,
    refresh_at: float | None,
) -> Judgement:
    """A refresh REGISTER came before the granted expiry ran out, with a non-zero expiry
    (and a higher CSeq when it reuses the Call-ID)."""
    expected = f"a refresh REGISTER within {granted} s of the 200 granting {granted} s"
    if refresh is None or refresh_at is None:
        return judged(False, expected, f"no REGISTER within {granted} s of the 200", first)
    problems = []
    if refresh_at - granted_at > granted:
        problems.append(f"arrived {refresh_at - granted_at:.2f} s after the 200")
    # RFC 3261 10.2.4: with the same Call-ID (a SHOULD) the CSeq must go up
    if refresh.call_id == first.call_id and refresh.cseq[0] <= first.cseq[0]:
        problems.append(f"CSeq {refresh.cseq[0]} not above {first.cseq[0]}")
    if expiry_of(refresh) == 0:
        problems.append("asks for expiry 0")
    actual = "; ".join(problems) or f"refresh {refresh_at - granted_at:.2f} s after the 200"
    return judged(not problems, expected, actual, refresh)


@register("TS-7.1-deregister")
def deregistration(msg: SipMessage | None) -> Judgement:
    """On the user's request the client sends a REGISTER with expiry 0 for its binding."""
    expected = "REGISTER with Expires: 0 (or Contact expires=0)"
    if msg is None:
        return judged(False, expected, "no REGISTER after the de-registration request")
    expiry = expiry_of(msg)
    return judged(expiry == 0, expected, f"expiry {expiry}", msg)


def seen_time(view, msg: SipMessage) -> float | None:
    """Capture time of the first copy of `msg` in a View (None if it is not there)."""
    raw = bytes(msg)
    for s in view.items:
        if bytes(s.message) == raw:
            return s.time
    return None
