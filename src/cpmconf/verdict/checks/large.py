"""Checks for large message mode: the INVITE, its SDP offer or answer, and the MSRP transfer
(TS 7.2.1.2, 7.2.2.2, 001 8.3.2.1.1 and the large branch of 8.5.1).

SDP is read through the codec's parser (media-level attributes override session-level ones
for the direction); MSRP through the codec's MSRP parser and reassembler, so a check sees the
message exactly as chunked on the wire.
"""

from __future__ import annotations

from cpmconf.codec.bodies import msrp_path, sdp_of
from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.cpm import ICSI_LARGEMSG  # noqa: F401  (re-exported)
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import AcceptContact, ContactFeatures, NameAddr, PPreferredService
from cpmconf.codec.msrp import MsrpUri, Reassembler
from cpmconf.codec.sip import SipMessage
from cpmconf.codec.uri import same_contact
from cpmconf.verdict.checks.base import Judgement, Seen, judged, register


def msrp_media(msg: SipMessage | None):
    sdp = sdp_of(msg)
    if sdp is None:
        return None, None
    media = sdp.msrp_media()
    return sdp, (media[0] if media else None)


def _sdp_text(msg: SipMessage | None) -> str:
    sdp = sdp_of(msg)
    return "no SDP body" if sdp is None else str(sdp).replace("\r\n", " | ")[:300]


def _icsi_in(msg: SipMessage, header: str, parser, urn: str) -> Judgement:
    """Whether any value of `header` (parsed by `parser`) carries the ICSI, decoded."""
    values = msg.header_list(header)
    for v in values:
        try:
            if parser.parse(v).has_icsi(urn):
                return judged(True, f"{header} with {urn}", v, msg)
        except CodecError:
            continue
    return judged(False, f"{header} with {urn}", f"{header}: {values or 'absent'}", msg)


@register("TS-7.2.1.2-1")
def accept_contact_icsi(msg: SipMessage, urn: str = ICSI_LARGEMSG) -> Judgement:
    """Accept-Contact names the ICSI in g.3gpp.icsi-ref."""
    return _icsi_in(msg, "Accept-Contact", AcceptContact, urn)


@register("TS-7.2.1.2-2")
def contact_icsi(msg: SipMessage, urn: str = ICSI_LARGEMSG) -> Judgement:
    """The Contact carries the ICSI in g.3gpp.icsi-ref."""
    return _icsi_in(msg, "Contact", ContactFeatures, urn)


@register("TS-7.2.1.2-3")
def preferred_service(msg: SipMessage, urn: str = ICSI_LARGEMSG) -> Judgement:
    """P-Preferred-Service names the ICSI."""
    v = msg.header("P-Preferred-Service")
    try:
        ok = bool(v) and PPreferredService.parse(v).has(urn)
    except CodecError:
        ok = False
    return judged(ok, f"P-Preferred-Service: {urn}", f"P-Preferred-Service: {v}", msg)


@register("TS-7.2.1.2-8")
def message_expires(msg: SipMessage, seconds: int) -> Judgement:
    """A large-mode expiry travels in Message-Expires (D-expiry-headers), not Expires."""
    v = msg.header("Message-Expires")
    ok = v is not None and v.strip().isdigit() and int(v) == seconds
    note = "Expires is present instead" if v is None and msg.header("Expires") else None
    return judged(ok, f"Message-Expires: {seconds}", f"Message-Expires: {v}", msg, note)


@register("TS-7.2.1.2-12")
def supported_timer(msg: SipMessage) -> Judgement:
    """Supported lists the option tag timer."""
    tags = [t.strip().lower() for t in msg.header_list("Supported")]
    return judged("timer" in tags, "Supported: timer", f"Supported: {tags}", msg)


@register("TS-7.2.1.2-13")
def session_expires_uac(msg: SipMessage) -> Judgement:
    """Session-Expires with refresher=uac (a SHOULD)."""
    v = msg.header("Session-Expires")
    ok = bool(v) and "refresher=uac" in v.replace(" ", "").lower()
    return judged(ok, "Session-Expires: <delta>;refresher=uac", f"Session-Expires: {v}", msg)


@register(
    "TS-7.2.1.2-17",
    "TS-7.2.2.2-2c",
    "TS-7.2.2.2-2c.i",
    "TS-8.3.2.1.1-first200-2",
    "TS-8.3.2.1.1-first200-2a",
)
def has_msrp_media(msg: SipMessage | None) -> Judgement:
    """The SDP has an m=message line for MSRP over TCP."""
    _, m = msrp_media(msg)
    ok = m is not None and "msrp" in m.proto.lower()
    return judged(ok, "SDP with m=message <port> TCP/MSRP *", _sdp_text(msg), msg)


def _direction(msg, want: str) -> Judgement:
    sdp, m = msrp_media(msg)
    got = None if m is None else m.direction()
    return judged(got == want, f"a={want} (media or session level)", f"direction {got}", msg)


@register("TS-7.2.1.2-17a")
def offer_sendonly(msg: SipMessage) -> Judgement:
    """The offer is sendonly."""
    return _direction(msg, "sendonly")


@register("TS-7.2.2.2-2c.iii", "TS-8.3.2.1.1-first200-2d")
def answer_recvonly(msg: SipMessage | None) -> Judgement:
    """The answer is recvonly."""
    return _direction(msg, "recvonly")


@register("TS-7.2.1.2-17b", "TS-7.2.2.2-2c.iv", "TS-8.3.2.1.1-first200-2c")
def accept_types_cpim(msg: SipMessage | None) -> Judgement:
    """a=accept-types lists message/cpim."""
    _, m = msrp_media(msg)
    types = [] if m is None else [t.lower() for t in (m.accept_types() or [])]
    return judged(
        "message/cpim" in types,
        "a=accept-types:message/cpim",
        f"a=accept-types:{' '.join(types) or '(absent)'}",
        msg,
    )


@register("TS-7.2.1.2-17c")
def accept_wrapped_types(msg: SipMessage | None, required: bool = True) -> Judgement:
    """a=accept-wrapped-types lists at least one type or * (D-wrapped-types-value)."""
    _, m = msrp_media(msg)
    types = [] if m is None else list(m.accept_wrapped_types() or [])
    if not types and not required:
        return judged(
            True,
            "a=accept-wrapped-types, or none (D-answer-wrapped-types)",
            "absent (allowed in an answer)",
            msg,
        )
    return judged(
        bool(types),
        "a=accept-wrapped-types with at least one type",
        f"a=accept-wrapped-types:{' '.join(types) or '(absent)'}",
        msg,
    )


@register("TS-7.2.2.2-2c.v")
def answer_wrapped_types(msg: SipMessage | None, offered: list[str]) -> Judgement:
    """An answer's a=accept-wrapped-types, when present, is `*` or types the offer listed
    (D-answer-wrapped-types: copying the offer or leaving the line out is allowed)."""
    _, m = msrp_media(msg)
    types = [] if m is None else [t.lower() for t in (m.accept_wrapped_types() or [])]
    allowed = {t.lower() for t in offered} | {"*"}
    unoffered = [t for t in types if t not in allowed and "*" not in offered]
    return judged(
        m is not None and not unoffered,
        f"no a=accept-wrapped-types, `*`, or the offered {' '.join(offered) or '(none)'}",
        "no MSRP media line"
        if m is None
        else f"a=accept-wrapped-types:{' '.join(types) or '(absent)'}",
        msg,
    )


path_of = msrp_path  # the name the checks use


@register("TS-7.2.1.2-17d", "TS-7.2.2.2-2c.ii")
def has_path(msg: SipMessage | None) -> Judgement:
    """a=path holds the endpoint's own MSRP URI."""
    path = path_of(msg)
    ok = bool(path)
    for u in path:
        try:
            MsrpUri.parse(u)
        except (CodecError, ValueError):
            ok = False
    return judged(ok, "a=path:msrp://host:port/session;tcp", f"a=path:{' '.join(path) or '-'}", msg)


@register("TS-7.2.1.2-17e")
def file_selector_size(msg: SipMessage, size: int) -> Judgement:
    """a=file-selector carries size:<the message size> (the CPIM wrapper, D-pager-threshold)."""
    _, m = msrp_media(msg)
    fs = None if m is None else m.file_selector()
    got = None if not fs else fs.get("size")
    return judged(got == size, f"a=file-selector:size:{size}", f"file-selector {fs}", msg)


def _setup(msg, want: str) -> Judgement:
    _, m = msrp_media(msg)
    got = None if m is None else m.setup()
    return judged(got == want, f"a=setup:{want}", f"a=setup:{got}", msg)


@register("TS-7.2.1.2-17f", "TS-7.2.2.2-2c.vi")
def setup_active(msg: SipMessage | None) -> Judgement:
    """The client's SDP says a=setup:active (D-msrp-setup)."""
    return _setup(msg, "active")


@register("TS-8.3.2.1.1-first200-2e")
def setup_passive(msg: SipMessage | None) -> Judgement:
    """The PF's answer says a=setup:passive (D-msrp-setup)."""
    return _setup(msg, "passive")


@register("TS-8.3.2.1.1-first200-2b")
def path_prepended(answer: SipMessage | None, device_path: list[str]) -> Judgement:
    """The PF's answer path is its own URI followed by the device's path."""
    path = path_of(answer)
    ok = len(path) == len(device_path) + 1 and path[1:] == device_path
    return judged(
        ok, f"a=path:<PF URI> {' '.join(device_path)}", f"a=path:{' '.join(path)}", answer
    )


# -- MSRP transfer -----------------------------------------------------------------------------


@register("TS-7.2.1.2-on200-6", "TS-7.2.2.2-ack-5")
def first_send_is_empty(sends: list) -> Judgement:
    """The first SEND on the session has no body: it binds the connection (RFC 6135)."""
    if not sends:
        return judged(False, "an empty SEND first", "no SEND from the SUT")
    first = sends[0]
    return judged(
        not first.body,
        "an empty SEND first",
        f"first SEND carries {len(first.body)} bytes",
        bytes(first),
    )


@register(
    "TS-7.2.1.2-on200-3",
    "TS-7.2.1.2-on200-4",
    "TS-7.2.1.2-on200-5",
    "TS-7.2.1.2-on200-9",
    "TS-7.2.2.2-ack-2",
    "TS-7.2.2.2-ack-3",
    "TS-7.2.2.2-ack-4",
)
def connected_to_our_path(sends: list, our_path: str) -> Judgement:
    """The SUT opened the MSRP connection itself, to the path we gave, and sent on it."""
    if not sends:
        return judged(False, f"SENDs to {our_path} on a connection the SUT opened", "no SEND")
    want = MsrpUri.parse(our_path)
    bad = [s.to_path()[0] for s in sends if not s.to_path() or s.to_path()[0] != want]
    return judged(
        not bad,
        f"SENDs to {our_path} on a connection the SUT opened",
        f"{len(sends)} SENDs" + (f", To-Path {bad[0]}" if bad else ""),
        bytes(sends[0]),
    )


@register("TS-7.2.1.2-on200-8a")
def to_path_is_answer_path(sends: list, path: list[str]) -> Judgement:
    """Every content SEND's To-Path is the answer's a=path."""
    want = [MsrpUri.parse(p) for p in path]
    content = [s for s in sends if s.body]
    bad = [s for s in content if list(s.to_path()) != want]
    return judged(
        bool(content) and not bad,
        f"To-Path {' '.join(path)}",
        f"{len(content)} content SENDs, {len(bad)} with another To-Path",
        bytes(bad[0] if bad else content[0]) if content else None,
    )


@register("TS-7.2.1.2-on200-8b")
def sends_are_cpim(sends: list) -> Judgement:
    """Every content SEND has Content-Type message/cpim."""
    content = [s for s in sends if s.body]
    bad = [s for s in content if (s.content_type or "").lower() != "message/cpim"]
    return judged(
        bool(content) and not bad,
        "Content-Type: message/cpim on every chunk",
        f"{len(content)} content SENDs; types {sorted({s.content_type for s in content})}",
        bytes(bad[0]) if bad else None,
    )


def reassemble(sends: list) -> tuple[bytes | None, str]:
    r = Reassembler()
    try:
        for s in sends:
            if s.body:
                r.feed(s.message if isinstance(s, Seen) else s)
    except (CodecError, ValueError) as exc:
        return None, f"chunks do not reassemble: {exc}"
    if not r.complete:
        return None, f"incomplete: gaps {r.gaps()}"
    return r.message(), "complete"


@register("TS-7.2.1.2-on200-8")
def chunks_reassemble(sends: list) -> Judgement:
    """The content SENDs are one message whose chunks (Byte-Range, end-line flags) fit
    together into a complete whole (RFC 4975)."""
    body, state = reassemble(sends)
    actual = state if body is None else f"complete, {len(body)} bytes"
    return judged(body is not None, "chunks reassembling into one complete message", actual)


def _wrapper(body: bytes | None) -> tuple[CpimMessage | None, str]:
    if body is None:
        return None, "no complete message"
    try:
        return CpimMessage.parse(body), "a CPIM wrapper"
    except CodecError as exc:
        return None, f"not a CPIM wrapper ({exc.detail})"


@register("TS-7.2.1.2-on200-8c")
def carries_wrapper_of(body: bytes | None, text: str) -> Judgement:
    """The reassembled SEND body is a CPIM wrapper whose content is the message text."""
    cpim, state = _wrapper(body)
    ok = cpim is not None and cpim.body == text.encode()
    if cpim is not None and not ok:
        state = f"a CPIM wrapper holding {len(cpim.body)} other bytes"
    return judged(ok, f"a CPIM wrapper holding the {len(text)}-character text", state)


@register("TS-7.2.1.2-on200-7")
def wrapper_addressed(body: bytes | None, user: str, target: str) -> Judgement:
    """The CPIM wrapper sent over MSRP names the user as From and the recipient as To."""
    cpim, state = _wrapper(body)
    if cpim is None:
        return judged(False, f"CPIM From <{user}>, To <{target}>", state)
    try:
        got_from, got_to = cpim.from_address(), cpim.to_addresses()
    except CodecError as exc:
        return judged(False, f"CPIM From <{user}>, To <{target}>", f"bad address: {exc.detail}")
    ok = (
        got_from is not None
        and got_from.uri.lower() == user.lower()
        and [a.uri.lower() for a in got_to] == [target.lower()]
    )
    return judged(
        ok,
        f"CPIM From <{user}>, To <{target}>",
        f"CPIM From {cpim.header('From')}, To {cpim.header('To')}",
    )


@register("TS-7.2.2.2-msrp")
def answered_every_send(sends: list, responses: list) -> Judgement:
    """The SUT answered every SEND it received with an MSRP 200 (RFC 4975 section 7.2)."""
    status = {r.transaction_id: r.status for r in responses if not r.is_request}
    bad = [s.transaction_id for s in sends if status.get(s.transaction_id) != 200]
    return judged(
        bool(sends) and not bad,
        "an MSRP 200 to each SEND",
        f"{len(sends)} SENDs, {len(bad)} without a 200"
        + (f" (first {bad[0]}: {status.get(bad[0])})" if bad else ""),
    )


@register("TS-7.2.2.2-chunks")
def receiver_reassembled(reported_text: str | None, expected_text: str) -> Judgement:
    """The receiving client put the chunks back together (read through the upper tester)."""
    ok = reported_text == expected_text
    got = "nothing" if reported_text is None else f"{len(reported_text)} characters"
    return judged(ok, f"the whole {len(expected_text)}-character text", got)


@register("TS-7.2.1.2-intro", "TS-7.2.1.3-4-large")
def large_goes_as_invite(invites: list, messages: list) -> Judgement:
    """A message over 1300 bytes goes as an INVITE, never as a MESSAGE."""
    ok = bool(invites) and not messages
    return judged(
        ok,
        "an INVITE and no MESSAGE",
        f"{len(invites)} INVITE, {len(messages)} MESSAGE",
        messages[0] if messages else (invites[0] if invites else None),
    )


def _session_expires(value: str | None) -> tuple[int | None, str | None]:
    """(delta-seconds, refresher) of a Session-Expires value (RFC 4028 section 4)."""
    if not value:
        return None, None
    delta, *params = [p.strip() for p in value.split(";")]
    refresher = None
    for p in params:
        name, _, v = p.partition("=")
        if name.strip().lower() == "refresher":
            refresher = v.strip().lower()
    return (int(delta) if delta.isdigit() else None), refresher


@register("TS-7.2.1.2-on200-1")
def refresh_keeps_timer(final: SipMessage | None, asked: str) -> Judgement:
    """The 2xx to a session refresh the peer sent carries Session-Expires: at most the
    interval asked (and at least RFC 4028's 90 s minimum) with the asked refresher."""
    want_delta, want_refresher = _session_expires(asked)
    expected = f"2xx with Session-Expires: <90..{want_delta}>;refresher={want_refresher}"
    if final is None:
        return judged(False, expected, "no final response to the refresh re-INVITE")
    if not 200 <= final.status < 300:
        return judged(False, expected, f"{final.status} {final.reason}", final)
    value = final.header("Session-Expires")
    delta, refresher = _session_expires(value)
    ok = (
        delta is not None
        and want_delta is not None
        and 90 <= delta <= want_delta
        and refresher == want_refresher
    )
    return judged(ok, expected, f"Session-Expires: {value}", final)


@register("TS-7.2.1.2-cancel")
def cancels_pending_invite(cancel: SipMessage | None, invite: SipMessage) -> Judgement:
    """A CANCEL of the pending INVITE (RFC 3261 section 9.1): same Request-URI, Call-ID,
    From, To, CSeq number and top Via branch."""
    expected = "CANCEL matching the INVITE (Request-URI, Call-ID, From, To, CSeq number, branch)"
    if cancel is None:
        return judged(False, expected, "no CANCEL after the 180")
    diffs = []
    if not same_contact(cancel.request_uri, invite.request_uri):
        diffs.append(f"Request-URI {cancel.request_uri}")
    for name in ("Call-ID", "From", "To"):
        if (cancel.header(name) or "").strip() != (invite.header(name) or "").strip():
            diffs.append(f"{name}: {cancel.header(name)}")
    if cancel.cseq != (invite.cseq[0], "CANCEL"):
        diffs.append(f"CSeq: {cancel.header('CSeq')}")
    c_via, i_via = cancel.top_via, invite.top_via
    c_branch = c_via.parameters.get("branch") if c_via is not None else None
    if i_via is None or c_branch != i_via.parameters.get("branch"):
        diffs.append(f"Via branch {c_branch}")
    return judged(
        not diffs,
        expected,
        "matching" if not diffs else "; ".join(diffs),
        cancel,
    )


@register("TS-7.2.2.2-cancel")
def cancel_handled(cancel_final: SipMessage | None, final: SipMessage | None) -> Judgement:
    """A CANCEL of the pending INVITE gets 200 and the INVITE then ends with 487."""
    got_cancel = "none" if cancel_final is None else f"{cancel_final.status}"
    got_invite = "none" if final is None else f"{final.status}"
    ok = (
        cancel_final is not None
        and cancel_final.status == 200
        and final is not None
        and final.status == 487
    )
    offending = final if cancel_final is not None and cancel_final.status == 200 else cancel_final
    return judged(
        ok,
        "200 to the CANCEL, 487 to the INVITE",
        f"{got_cancel} to the CANCEL, {got_invite} to the INVITE",
        offending,
    )


def _same(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


@register("TS-7.2.2.2-2")
def accepts_invite(final: SipMessage | None, invite: SipMessage) -> Judgement:
    """The client accepts the INVITE with a 200 built under RFC 3261 as a dialog-creating
    response: From, Call-ID and CSeq as in the INVITE, its To with a tag added, and exactly
    one Contact with a SIP or SIPS URI (sections 8.2.6.2, 12.1.1, 13.3.1.4). The path back
    (the Vias) is TS-7.2.2.2-3's; the headers and the SDP answer that 7.2.2.2 adds are judged
    by sub-items a to d."""
    expected = "200 with the INVITE's From, Call-ID and CSeq, a To tag, one SIP Contact"
    if final is None:
        return judged(False, expected, "no final response to the INVITE")
    if final.status != 200:
        return judged(False, expected, f"{final.status} {final.reason}", final)
    problems = []
    for name in ("From", "Call-ID", "CSeq"):
        if not _same(final.header(name), invite.header(name)):
            problems.append(f"{name}: {final.header(name)}")
    try:
        to = NameAddr.parse(final.header("To") or "")
        if not to.tag:
            problems.append("To has no tag")
        if to.uri.lower() != NameAddr.parse(invite.header("To") or "").uri.lower():
            problems.append(f"To URI {to.uri}")
    except CodecError as exc:
        problems.append(f"unparseable To: {exc}")
    contacts = final.header_list("Contact")
    if len(contacts) != 1:
        problems.append(f"{len(contacts)} Contact values")
    else:
        try:
            scheme = NameAddr.parse(contacts[0]).uri.split(":", 1)[0].lower()
            if scheme not in ("sip", "sips"):
                problems.append(f"Contact URI scheme {scheme}")
        except CodecError as exc:
            problems.append(f"unparseable Contact: {exc}")
    return judged(not problems, expected, "; ".join(problems) or "as expected", final)
