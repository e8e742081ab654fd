"""Checks for a CPM Client handling deferred (queued) messages (004 TS 7.2.3.1, 7.2.3.2.1):
the one-time SUBSCRIBE to the deferred-messages package, the handling INVITE (addressing,
service identification, recvonly offer, the cpm_action resource list), what follows its
final response (ACK, BYE, no retry after 488 with Warning 125), and the reception of the
deliveries that follow.
"""

from __future__ import annotations

import re

from cpmconf.codec.cpm import ICSI_DEFERRED
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import Expires, NameAddr
from cpmconf.codec.msrp import MsrpUri
from cpmconf.codec.resource_lists import CPM_ACTION, CPM_ACTIONS
from cpmconf.codec.sdp import SessionDescription
from cpmconf.codec.sip import SipMessage
from cpmconf.codec.uri import same_aor, same_contact, same_identifier
from cpmconf.verdict.checks import large
from cpmconf.verdict.checks.base import Judgement, judged, not_arisen, register
from cpmconf.verdict.checks.pager import _parts, resource_list_of

EVENT_PACKAGE = "deferred-messages"
# RFC 2045 token (any printable ASCII but tspecials), the type and subtype of a media type.
_MIME_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"
# RFC 4975 accept-types entry: `*`, type/`*` or type/subtype.
_ACCEPT_ENTRY = re.compile(f"\\*|{_MIME_TOKEN}/{_MIME_TOKEN}")


def _initial_request_problems(msg: SipMessage, method: str) -> list[str]:
    """What keeps `msg` from being a well-formed initial (out-of-dialog) request under RFC
    3261 8.1.1: a From tag, no To tag, a Contact, a numeric Max-Forwards, CSeq of `method`."""
    problems = []
    try:
        if NameAddr.parse(msg.header("To") or "").tag is not None:
            problems.append("To carries a tag (not an initial request)")
    except CodecError as exc:
        problems.append(f"unparseable To: {exc}")
    try:
        if not NameAddr.parse(msg.header("From") or "").tag:
            problems.append("From has no tag")
    except CodecError as exc:
        problems.append(f"unparseable From: {exc}")
    if msg.header("Contact") is None:
        problems.append("no Contact")
    max_forwards = msg.header("Max-Forwards")
    if max_forwards is None or not max_forwards.strip().isdigit():
        problems.append(f"Max-Forwards: {max_forwards}")
    if msg.cseq[1] != method:
        problems.append(f"CSeq method {msg.cseq[1]}")
    return problems


# -- the SUBSCRIBE (TS 7.2.3.1) ----------------------------------------------------------------


@register("TS-7.2.3.1-1")
def subscribe_form(msg: SipMessage) -> Judgement:
    """RFC 6665 over RFC 3261: an initial SUBSCRIBE (From tag, no To tag, Contact,
    Max-Forwards, CSeq SUBSCRIBE) with exactly one Event and an Expires. What those carry
    is judged by sub-items a to h."""
    problems = _initial_request_problems(msg, "SUBSCRIBE")
    if len(msg.header_values("Event")) != 1:
        problems.append(f"{len(msg.header_values('Event'))} Event headers")
    if msg.header("Expires") is None:
        problems.append("no Expires")
    return judged(
        not problems,
        "initial SUBSCRIBE: From tag, no To tag, Contact, Max-Forwards, one Event, Expires",
        "; ".join(problems) or "as expected",
        msg,
    )


@register("TS-7.2.3.1-1a", "TS-7.2.3.2.1-2")
def request_uri_management(msg: SipMessage, management: str) -> Judgement:
    """The Request-URI is the provisioned deferred-message management address."""
    return judged(
        same_contact(msg.request_uri, management),
        f"Request-URI {management}",
        f"Request-URI {msg.request_uri}",
        msg,
    )


@register("TS-7.2.3.1-1b", "TS-7.2.3.2.1-4")
def accept_contact_deferred(msg: SipMessage) -> Judgement:
    """Accept-Contact carries the deferred ICSI in g.3gpp.icsi-ref."""
    return large.accept_contact_icsi(msg, ICSI_DEFERRED)


@register("TS-7.2.3.1-1c", "TS-7.2.3.2.1-3")
def contact_deferred(msg: SipMessage) -> Judgement:
    """The Contact carries the deferred ICSI in g.3gpp.icsi-ref."""
    return large.contact_icsi(msg, ICSI_DEFERRED)


@register("TS-7.2.3.1-1e", "TS-7.2.3.2.1-5")
def preferred_service_deferred(msg: SipMessage) -> Judgement:
    """P-Preferred-Service holds the deferred ICSI."""
    return large.preferred_service(msg, ICSI_DEFERRED)


@register("TS-7.2.3.1-1f", "TS-7.2.3.1-intro")
def event_package(msg: SipMessage, package: str = EVENT_PACKAGE) -> Judgement:
    """Event names the deferred-messages package (D-event-package)."""
    values = msg.header_values("Event")
    names = [v.split(";", 1)[0].strip().lower() for v in values]
    return judged(names == [package], f"Event: {package}", f"Event: {values or 'absent'}", msg)


@register("TS-7.2.3.1-1g")
def expires_zero(msg: SipMessage) -> Judgement:
    """Expires: 0, a one-time fetch."""
    v = msg.header("Expires")
    try:
        ok = v is not None and Expires.parse(v).seconds == 0
    except CodecError:
        ok = False
    return judged(ok, "Expires: 0", f"Expires: {v}", msg)


# -- the handling INVITE (TS 7.2.3.2.1) --------------------------------------------------------


@register("TS-7.2.3.2.1-1")
def initial_invite(msg: SipMessage) -> Judgement:
    """An initial INVITE (RFC 3261): From tag, no To tag, Contact, Max-Forwards, CSeq INVITE."""
    problems = _initial_request_problems(msg, "INVITE")
    return judged(
        not problems,
        "initial INVITE: From tag, no To tag, Contact, Max-Forwards",
        "; ".join(problems) or "as expected",
        msg,
    )


def _sdp_body(msg: SipMessage) -> bytes | None:
    """The application/sdp body of `msg`, alone or as a part of a multipart body."""
    if (msg.content_type or "").startswith("application/sdp"):
        return msg.body
    return next((b for t, b in _parts(msg) if t.startswith("application/sdp")), None)


@register("TS-7.2.3.2.1-6")
def offer_valid(msg: SipMessage) -> Judgement:
    """The offer is a valid SDP description of one MSRP stream: it parses under RFC 4566
    (with a t= line and a c= line for the stream) and has an m=message line over TCP/MSRP or
    TCP/TLS/MSRP whose format list is `*`, with an a=path of MSRP URIs (RFC 4975 section 8).
    The accept-types and the direction are left to 6a, 6b and 6c."""
    expected = "SDP offer: v/o/s/t/c lines, m=message <port> TCP/MSRP *, a=path of MSRP URIs"
    body = _sdp_body(msg)
    if body is None:
        return judged(False, expected, f"no application/sdp body ({msg.content_type})", msg)
    try:
        sdp = SessionDescription.parse(body)
    except CodecError as exc:
        return judged(False, expected, f"unparseable SDP: {exc}", msg)
    problems = []
    if not any(t == "t" for t, _ in sdp.lines):
        problems.append("no t= line")
    media = sdp.msrp_media()
    if not media:
        lines = [f"m={m.media} {m.port} {m.proto} {' '.join(m.fmt)}" for m in sdp.media]
        problems.append(f"no MSRP media line ({'; '.join(lines) or 'no m= line'})")
    else:
        m = media[0]
        if m.fmt != ("*",):
            problems.append(f"format list {' '.join(m.fmt)!r}, not '*'")
        try:
            if m.connection() is None:
                problems.append("no c= line for the stream")
        except CodecError as exc:
            problems.append(f"bad c= line: {exc}")
        if not m.path():
            problems.append("no a=path")
        for uri in m.path():
            try:
                MsrpUri.parse(uri)
            except (CodecError, ValueError) as exc:
                problems.append(f"a=path URI {uri!r}: {exc}")
    text = str(sdp).replace("\r\n", " | ")[:300]
    return judged(
        not problems, expected, "; ".join(problems) or text, msg, text if problems else None
    )


@register("TS-7.2.3.2.1-6a")
def offer_accepts_cpim(msg: SipMessage) -> Judgement:
    """a=accept-types lists message/cpim."""
    return large.accept_types_cpim(msg)


def _accept_types(msg: SipMessage) -> tuple[list[str], list[str], str]:
    """The offer's accept-types, those not `*`, type/`*` or type/subtype (RFC 2045 tokens,
    as RFC 4975 defines them), and the attribute as seen."""
    _, m = large.msrp_media(msg)
    types = [] if m is None else list(m.accept_types() or [])
    bad = [t for t in types if not _ACCEPT_ENTRY.fullmatch(t)]
    return types, bad, f"a=accept-types:{' '.join(types) or '(absent)'}"


@register("TS-7.2.3.2.1-6b")
def offer_other_types(msg: SipMessage) -> Judgement:
    """A MAY: whatever accept-types the offer lists besides message/cpim is valid under RFC
    4975: `*`, type/`*` or type/subtype, type and subtype RFC 2045 tokens. None at all is
    allowed (the absence of message/cpim is 6a's). An invalid entry is the option not used
    as allowed: `other_types_valid` fails it (D-may-binding-condition)."""
    _, bad, got = _accept_types(msg)
    return judged(
        not bad,
        "accept-types entries that are `*`, type/* or type/subtype",
        f"{got}; not a media type: {' '.join(bad)}" if bad else got,
        msg,
    )


@register("TS-7.2.3.2.1-6b-valid")
def other_types_valid(msg: SipMessage) -> Judgement:
    """Each accept-types entry besides message/cpim is `*`, type/`*` or type/subtype; an
    offer naming nothing else leaves the clause not-applicable (its MAY was not used)."""
    types, bad, got = _accept_types(msg)
    expected = "further accept-types entries that are `*`, type/* or type/subtype"
    if not [t for t in types if t.lower() != "message/cpim"]:
        return not_arisen(expected, got, "the offer names no format besides message/cpim", msg)
    return judged(
        not bad, expected, f"{got}; not a media type: {' '.join(bad)}" if bad else got, msg
    )


@register("TS-7.2.3.2.1-6c")
def offer_recvonly(msg: SipMessage) -> Judgement:
    """The offer's direction is recvonly."""
    _, m = large.msrp_media(msg)
    got = None if m is None else m.direction()
    return judged(got == "recvonly", "a=recvonly", f"direction {got}", msg)


@register("TS-7.2.3.2.1-7")
def list_matches_request(msg: SipMessage, all_messages: bool) -> Judgement:
    """A resource list is present exactly when not every message is wanted (no list = all)."""
    rl = resource_list_of(msg)
    if all_messages:
        return judged(
            rl is None,
            "no resource list (every message)",
            "a resource list" if rl is not None else "no resource list",
            msg,
        )
    return judged(
        rl is not None,
        "an application/resource-lists+xml body",
        f"{len(rl.entries)} entries" if rl is not None else "no resource list",
        msg,
    )


@register("TS-7.2.3.2.1-7a")
def entries_name_known_messages(msg: SipMessage, known: list[str]) -> Judgement:
    """Each entry names a Message-URI-ID from the notification and has exactly one cpm_action
    with one of the four values."""
    rl = resource_list_of(msg)
    if rl is None:
        return judged(False, "a resource list", "no resource list", msg)
    problems = []
    for e in rl.entries:
        try:
            actions = [v for n, v in e.uri_headers if n.lower() == CPM_ACTION]
        except CodecError as exc:
            problems.append(f"{e.uri}: {exc}")
            continue
        if len(actions) != 1:
            problems.append(f"{e.uri}: {len(actions)} cpm_action values")
        elif actions[0] not in CPM_ACTIONS:
            problems.append(f"{e.uri}: cpm_action={actions[0]}")
        if not any(same_identifier(e.base_uri, k) for k in known):
            problems.append(f"{e.uri}: not a notified Message-URI-ID")
    return judged(
        not problems and bool(rl.entries),
        "entries naming notified Message-URI-IDs, each with one cpm_action",
        "; ".join(problems) or f"{len(rl.entries)} entries as expected",
        msg,
    )


def action_for(msg: SipMessage, wanted: dict[str, str], action: str) -> Judgement:
    """Every message the user asked `action` for is listed with ?cpm_action=<action>."""
    rl = resource_list_of(msg)
    targets = [u for u, a in wanted.items() if a == action]
    expected = f"{len(targets)} entries with ?cpm_action={action}"
    if rl is None:
        return judged(False, expected, "no resource list", msg)
    got: list[tuple[str, str | None]] = []
    for e in rl.entries:
        try:
            got.append((e.base_uri, e.action))
        except CodecError:
            continue

    def listed(u: str) -> str:
        return next((a or "no action" for b, a in got if same_identifier(b, u)), "not listed")

    wrong = [f"{u}: {listed(u)}" for u in targets if listed(u) != action]
    return judged(not wrong and bool(targets), expected, "; ".join(wrong) or "as expected", msg)


@register("TS-7.2.3.2.1-7a.i")
def action_deliver(msg: SipMessage, wanted: dict[str, str]) -> Judgement:
    return action_for(msg, wanted, "deliver")


@register("TS-7.2.3.2.1-7a.ii")
def action_delete(msg: SipMessage, wanted: dict[str, str]) -> Judgement:
    return action_for(msg, wanted, "delete")


@register("TS-7.2.3.2.1-7a.iii")
def action_interwork(msg: SipMessage, wanted: dict[str, str]) -> Judgement:
    return action_for(msg, wanted, "interwork")


@register("TS-7.2.3.2.1-7a.iv")
def action_store(msg: SipMessage, wanted: dict[str, str]) -> Judgement:
    return action_for(msg, wanted, "store")


# -- after the final response ------------------------------------------------------------------


@register("TS-7.2.3.2.1-on488")
def no_retry(invite: SipMessage, retries: list[SipMessage], watched: float) -> Judgement:
    """No further handling INVITE after the 488 with Warning 125, within the watched time."""
    return judged(
        not retries,
        f"no new handling INVITE within {watched:g} s of the 488",
        f"{len(retries)} new INVITE(s)" if retries else "none",
        retries[0] if retries else invite,
    )


@register("TS-7.2.3.2.1-on488-process", "TS-7.2.3.2.1-error", "TS-7.2.3.2.1-on200-ack")
def acknowledged(ack: SipMessage | None, invite: SipMessage, status: int) -> Judgement:
    """The final response was acknowledged with an ACK of the INVITE's CSeq number."""
    expected = f"ACK for the {status}"
    if ack is None:
        return judged(False, expected, "no ACK", invite)
    ok = ack.call_id == invite.call_id and ack.cseq[0] == invite.cseq[0]
    return judged(ok, expected, f"ACK CSeq {ack.cseq[0]}", ack)


@register("TS-7.2.3.2.1-on200-bye")
def bye_after_ack(
    ack: SipMessage | None, bye: SipMessage | None, msrp_sends: int, invite: SipMessage
) -> Judgement:
    """After the ACK the client ends the session with a BYE, with no MSRP set up."""
    problems = []
    if bye is None:
        problems.append("no BYE")
    if ack is None:
        problems.append("no ACK before it")
    if msrp_sends:
        problems.append(f"{msrp_sends} MSRP SEND(s) on the handling session")
    return judged(
        not problems, "ACK, then BYE, no MSRP", "; ".join(problems) or "ACK then BYE", bye or invite
    )


@register("TS-7.2.3.2.1-receive")
def delivery_accepted(final: SipMessage | None, what: str) -> Judgement:
    """A deferred delivery (deferred ICSI) is received: answered 200."""
    if final is None:
        return judged(False, f"200 to the {what}", "no final response")
    actual = f"{final.status} {final.reason}"
    return judged(final.status == 200, f"200 to the {what}", actual, final)


@register("TS-7.2.3.1-1d")
def optional_identity(msg: SipMessage, user: str) -> Judgement:
    """A MAY: every asserted identity, when any is given, is one of the user's own addresses."""
    values = msg.header_list("P-Preferred-Identity")
    if not values:
        return judged(True, "no P-Preferred-Identity, or the user's", "absent (allowed)", msg)
    foreign = [v for v in values if not same_aor(v, user)]
    actual = "P-Preferred-Identity: " + ", ".join(values)
    if foreign and len(values) > 1:
        actual += f" (not the user's: {', '.join(foreign)})"
    return judged(not foreign, f"P-Preferred-Identity: <{user}>", actual, msg)
