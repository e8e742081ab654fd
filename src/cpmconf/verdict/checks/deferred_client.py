"""Checks for a CPM Client handling deferred (queued) messages (004 TS 7.2.3.1, 7.2.3.2.1):
the one-time SUBSCRIBE to the deferred-messages package, the handling INVITE (addressing,
service identification, recvonly offer, the cpm_action resource list), what follows its
final response (ACK, BYE, no retry after 488 with Warning 125), and the reception of the
deliveries that follow.
"""

from __future__ import annotations

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import Expires, NameAddr
from cpmconf.codec.resource_lists import CPM_ACTION, CPM_ACTIONS
from cpmconf.codec.sip import SipMessage
from cpmconf.verdict.checks import large
from cpmconf.verdict.checks.base import Judgement, judged, register
from cpmconf.verdict.checks.pager import resource_list_of

ICSI_DEFERRED = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.deferred"
EVENT_PACKAGE = "deferred-messages"


def _uri(text: str | None) -> str:
    if not text:
        return ""
    try:
        return NameAddr.parse(f"<{text.strip().strip('<>')}>").uri.lower()
    except CodecError:
        return text.strip().strip("<>").lower()


# -- the SUBSCRIBE (TS 7.2.3.1) ----------------------------------------------------------------


@register("TS-7.2.3.1-1")
def subscribe_form(msg: SipMessage) -> Judgement:
    """RFC 6665: a SUBSCRIBE with one Event, a From tag, a Contact, and an Expires."""
    problems = []
    if len(msg.header_values("Event")) != 1:
        problems.append(f"{len(msg.header_values('Event'))} Event headers")
    try:
        if not NameAddr.parse(msg.header("From") or "").tag:
            problems.append("From has no tag")
    except CodecError as exc:
        problems.append(f"unparseable From: {exc}")
    if msg.header("Contact") is None:
        problems.append("no Contact")
    if msg.header("Expires") is None:
        problems.append("no Expires")
    if msg.cseq[1] != "SUBSCRIBE":
        problems.append(f"CSeq method {msg.cseq[1]}")
    return judged(
        not problems,
        "SUBSCRIBE with one Event, From tag, Contact, Expires",
        "; ".join(problems) or "as expected",
        msg,
    )


@register("TS-7.2.3.1-1a", "TS-7.2.3.2.1-2")
def request_uri_management(msg: SipMessage, management: str) -> Judgement:
    """The Request-URI is the provisioned deferred-message management address."""
    return judged(
        _uri(msg.request_uri) == _uri(management),
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


@register("TS-7.2.3.1-1h", "TS-7.2.3.2.1-8")
def arrived_at_core(seen: bool, what: str, msg: SipMessage | None = None) -> Judgement:
    """The request reached the test system's core (the SUT's outbound proxy)."""
    return judged(
        seen, f"{what} received at the SIP/IP core", "received" if seen else "not received", msg
    )


# -- the handling INVITE (TS 7.2.3.2.1) --------------------------------------------------------


@register("TS-7.2.3.2.1-1")
def initial_invite(msg: SipMessage) -> Judgement:
    """An initial INVITE (RFC 3261): no To tag, a From tag, a Contact, CSeq INVITE."""
    problems = []
    if ";tag=" in (msg.header("To") or "").replace(" ", "").lower():
        problems.append("To carries a tag (not an initial request)")
    try:
        if not NameAddr.parse(msg.header("From") or "").tag:
            problems.append("From has no tag")
    except CodecError as exc:
        problems.append(f"unparseable From: {exc}")
    if msg.header("Contact") is None:
        problems.append("no Contact")
    if msg.cseq[1] != "INVITE":
        problems.append(f"CSeq method {msg.cseq[1]}")
    return judged(
        not problems,
        "initial INVITE: From tag, no To tag, Contact",
        "; ".join(problems) or "as expected",
        msg,
    )


@register("TS-7.2.3.2.1-6")
def offer_has_msrp(msg: SipMessage) -> Judgement:
    """The offer describes an MSRP stream (m=message ... TCP/MSRP)."""
    return large.has_msrp_media(msg)


@register("TS-7.2.3.2.1-6a")
def offer_accepts_cpim(msg: SipMessage) -> Judgement:
    """a=accept-types lists message/cpim."""
    return large.accept_types_cpim(msg)


@register("TS-7.2.3.2.1-6b")
def offer_other_types(msg: SipMessage) -> Judgement:
    """A MAY: further accept-types are well-formed media types or *."""
    _, m = large.msrp_media(msg)
    types = [] if m is None else [t.lower() for t in (m.accept_types() or [])]
    bad = [t for t in types if t != "*" and (t.count("/") != 1 or t.startswith("/"))]
    return judged(
        not bad,
        "accept-types of media types or *",
        f"a=accept-types:{' '.join(types) or '(absent)'}",
        msg,
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
    known_keys = {_uri(k) for k in known}
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
        if _uri(e.base_uri) not in known_keys:
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
    got = {}
    for e in rl.entries:
        try:
            got[_uri(e.base_uri)] = e.action
        except CodecError:
            continue
    wrong = [
        f"{u}: {got.get(_uri(u), 'not listed')}" for u in targets if got.get(_uri(u)) != action
    ]
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
    """A MAY: an asserted identity, when present, is one of the user's own addresses."""
    v = msg.header("P-Preferred-Identity")
    if v is None:
        return judged(True, "no P-Preferred-Identity, or the user's", "absent (allowed)", msg)
    return judged(_uri(v) == _uri(user), f"P-Preferred-Identity: <{user}>", v, msg)
