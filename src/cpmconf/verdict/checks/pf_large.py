"""Checks for a terminating PF in large message mode (001 8.3.2.1.1) and the large branch of
recording (TS 8.5.1 step 4b).

The PF sits between the sender and the devices as a back-to-back user agent, so most checks
compare what it sent on one side with what the test system sent on the other: the device
INVITEs against the sender's INVITE, the 200 upstream against the device's 200, the relayed
SENDs against the chunks the sender sent. Checks shared with the pager and client cases are
registered here under the PF clause ids as well.
"""

from __future__ import annotations

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import NameAddr
from cpmconf.codec.msrp import MsrpUri
from cpmconf.codec.sip import SipMessage
from cpmconf.codec.uri import parse_uri, same_contact
from cpmconf.verdict.checks import large, pager
from cpmconf.verdict.checks.base import (
    Judgement,
    Seen,
    judged,
    not_arisen,
    not_judged,
    register,
)

# Shared checks, registered under the PF's clause ids.
register("TS-8.3.2.1.1-6")(pager.delivered_to_selected)
register("TS-8.3.2.1.1-6.i")(pager.one_copy_each)
register("TS-8.3.2.1.1-6.ii")(pager.request_uri_is_gruu)
register("TS-8.3.2.1.1-ack-2")(pager.arrived_at_core)
register("TS-8.3.2.1.1-first200-2", "TS-8.3.2.1.1-first200-2a")(large.has_msrp_media)
register("TS-8.3.2.1.1-first200-2c")(large.accept_types_cpim)
register("TS-8.3.2.1.1-first200-2d")(large.answer_recvonly)
register("TS-8.3.2.1.1-first200-3")(pager.server_release)
register("TS-8.3.2.1.1-bye-1")(pager.answered_200)


def _status(final: SipMessage | None) -> str:
    return "no final response" if final is None else f"{final.status} {final.reason}"


@register("TS-8.3.2.1.1-1.i", "TS-8.3.2.1.1-2.i", "TS-8.3.2.1.1-3.i")
def refused_403(final: SipMessage | None) -> Judgement:
    """The PF turns the INVITE down with 403."""
    ok = final is not None and final.status == 403
    return judged(ok, "403 to the INVITE", _status(final), final)


def _needs_403(final: SipMessage | None, what: str) -> Judgement | None:
    if final is None or final.status != 403:
        return not_judged(
            f"a 403 whose {what} can be judged",
            _status(final),
            final,
            "precondition not met: the PF did not refuse with 403",
        )
    return None


@register("TS-8.3.2.1.1-1.ii", "TS-8.3.2.1.1-3.ii")
def warning_on_403(final: SipMessage | None) -> Judgement:
    """The 403 explains itself in a Warning header (D-large-403-warning: any text)."""
    pre = _needs_403(final, "Warning")
    if pre is not None:
        return pre
    values = final.header_values("Warning")
    return judged(
        bool(values), "a Warning header on the 403", f"Warning: {values or 'absent'}", final
    )


@register("TS-8.3.2.1.1-2.i-errorinfo")
def error_info_on_403(final: SipMessage | None) -> Judgement:
    """The version-mismatch 403 carries Error-Info with a URI in angle brackets."""
    pre = _needs_403(final, "Error-Info")
    if pre is not None:
        return pre
    values = final.header_values("Error-Info")
    ok = any("<" in v and ">" in v for v in values)
    return judged(ok, "Error-Info: <URI>", f"Error-Info: {values or 'absent'}", final)


@register("TS-8.3.2.1.1-4")
def session_timer_handled(device_invites: list[SipMessage], final: SipMessage | None) -> Judgement:
    """With Session-Expires offered, the device INVITEs and the 200 upstream carry one too
    (RFC 4028, per D-session-expires-pager-rfc). A PF that forwarded nothing and accepted
    nothing (e.g. 405 to the INVITE) set up no session whose timer it could process."""
    accepted = final is not None and final.status == 200
    if not device_invites and not accepted:
        return not_arisen(
            "Session-Expires on the device INVITEs and the 200 to the sender",
            f"no device INVITE; final {_status(final)}",
            "the PF set up no session (no device INVITE, no 200), so no session timer arose",
            final,
        )
    legs = [m for m in device_invites if m.header("Session-Expires")]
    upstream = accepted and final.header("Session-Expires") is not None
    # The 200 upstream is judged only when there is one: a device leg that was not accepted
    # is no fault of the PF's timer handling.
    ok = bool(device_invites) and len(legs) == len(device_invites) and (upstream or not accepted)
    return judged(
        ok,
        "Session-Expires on every device INVITE and on the 200 to the sender",
        f"{len(legs)} of {len(device_invites)} device INVITEs; "
        + (("200 has it" if upstream else "200 lacks it") if accepted else _status(final)),
        final,
    )


def _from_tag(msg: SipMessage) -> str:
    try:
        return NameAddr.parse(msg.header("From") or "").tag or ""
    except CodecError:
        return ""


@register("TS-8.3.2.1.1-5")
def separate_dialogs(device_invites: list[SipMessage], incoming: SipMessage) -> Judgement:
    """Each device INVITE starts a dialog of the PF's own: another Call-ID and From tag.
    Without a device INVITE the INVITE was not accepted for delivery, so the clause's
    condition never arose (whether it should have been is TS-8.3.2.1.1-6's question)."""
    if not device_invites:
        return not_arisen(
            "device INVITEs in dialogs of the PF's own",
            "no device INVITE",
            "the PF sent no device INVITE, so no dialog of its own was started",
        )
    same = [
        m
        for m in device_invites
        if m.call_id == incoming.call_id or _from_tag(m) == _from_tag(incoming)
    ]
    return judged(
        not same,
        "a new Call-ID and From tag on every device INVITE",
        f"{len(same)} of {len(device_invites)} device INVITEs reuse the sender's dialog",
        same[0] if same else device_invites[0],
    )


@register("TS-8.3.2.1.1-first200-1")
def one_200_upstream(finals: list[SipMessage], device_accepted: bool | None = None) -> Judgement:
    """Once a device accepts, the sender gets one final response, a 200.

    Conditional on a device's 200: when `device_accepted` is False, or (not given) the PF
    sent the sender no 200 at all, that condition never arose and the clause does not apply;
    a refusal such as 405 is not judged here."""
    statuses = [f.status for f in finals]
    if device_accepted is False or (device_accepted is None and 200 not in statuses):
        return not_arisen(
            "exactly one final response to the sender: 200, once a device accepted",
            f"finals {statuses}" if finals else "no final response",
            "no device accepted the INVITE, so there was no first 200 to answer for",
            finals[0] if finals else None,
        )
    return judged(
        statuses == [200],
        "exactly one final response to the sender: 200",
        f"finals {statuses}" if finals else "no final response",
        finals[0] if finals else None,
    )


@register("TS-8.3.2.1.1-first200-4")
def allow_lists(final: SipMessage | None, methods: tuple[str, ...]) -> Judgement:
    """The 200 has an Allow header listing (at least) the methods this session uses."""
    if final is None:
        return judged(False, "Allow on the 200", "no final response")
    listed = {token.strip().upper() for v in final.header_values("Allow") for token in v.split(",")}
    missing = [m for m in methods if m not in listed]
    return judged(
        bool(listed) and not missing,
        f"Allow listing {', '.join(methods)}",
        f"Allow: {final.header_values('Allow') or 'absent'}",
        final,
        f"missing: {', '.join(missing)}" if listed and missing else None,
    )


@register("TS-8.3.2.1.1-first200-5")
def contact_is_the_pf(final: SipMessage | None, device_contacts: list[str]) -> Judgement:
    """The 200's Contact is an address of the PF, not the device's Contact passed through."""
    if final is None:
        return judged(False, "a Contact of the PF on the 200", "no final response")
    contact = final.header("Contact")
    return judged(
        parse_uri(contact) is not None
        and not any(same_contact(contact, c) for c in device_contacts),
        "a Contact of the PF (not a device's)",
        f"Contact: {contact or 'absent'}",
        final,
    )


def _to_first(msg) -> MsrpUri | None:
    try:
        path = msg.to_path()
    except (CodecError, ValueError):
        return None
    return path[0] if path else None


@register("TS-8.3.2.1.1-ack-1")
def sender_connects(
    msrp: list[Seen], sender_uri: str, listening_port: int, bound: bool
) -> Judgement:
    """The PF takes the connection the sender opens (its bind is answered) and opens none of
    its own towards the sender's path."""
    want = MsrpUri.parse(sender_uri)
    dialled = [
        s
        for s in msrp
        if s.from_sut
        and s.flow is not None
        and s.flow[3] == listening_port
        and _to_first(s.message) == want
    ]
    ok = bound and not dialled
    actual = "the sender's binding SEND was " + ("answered" if bound else "not answered")
    if dialled:
        actual += f"; the PF connected to the sender's path itself ({len(dialled)} messages)"
    return judged(
        ok,
        "the PF accepts the sender's connection and does not connect out",
        actual,
        bytes(dialled[0].message) if dialled else None,
    )


@register("TS-8.3.2.1.1-send-2")
def relayed_to_device(device_sends: list, device_path: list[str], expected: bytes) -> Judgement:
    """The SENDs reaching the device are addressed to its path and carry the whole message."""
    want = [MsrpUri.parse(p) for p in device_path]
    content = [s for s in device_sends if s.body]
    misaddressed = [s for s in content if list(s.to_path()) != want]
    body, state = large.reassemble(device_sends)
    ok = bool(content) and not misaddressed and body == expected
    if body is None:
        actual = state
    else:
        actual = f"{len(body)} bytes, {'equal' if body == expected else 'different'}"
    if misaddressed:
        actual += f"; {len(misaddressed)} SENDs with To-Path {misaddressed[0].to_path()}"
    return judged(
        ok,
        f"the {len(expected)}-byte message relayed with To-Path {' '.join(device_path)}",
        actual,
        bytes(misaddressed[0]) if misaddressed else None,
    )


@register("TS-8.3.2.1.1-msrp200-1")
def sender_chunks_answered(responses: list, sent: int) -> Judgement:
    """Each chunk the sender sent got the device's 200 back through the PF."""
    codes = [r.status for r in responses]
    ok = len(codes) == sent and all(c == 200 for c in codes)
    return judged(
        ok,
        f"a 200 for each of the {sent} chunks",
        f"{len(codes)} responses: {sorted(set(codes))}",
        next((bytes(r) for r in responses if r.status != 200), None),
    )


@register("TS-8.3.2.1.1-bye-2")
def device_bye_after_media(
    items: list[Seen], msrp: list[Seen], device_call_id: str, device_uri: str
) -> Judgement:
    """The device's leg is ended with a BYE, sent after the last chunk reached the device."""
    want = MsrpUri.parse(device_uri)
    byes = [
        s
        for s in items
        if s.from_sut
        and s.message.is_request
        and s.message.method == "BYE"
        and s.message.call_id == device_call_id
    ]
    chunks = [s for s in msrp if s.from_sut and s.message.body and _to_first(s.message) == want]
    if not byes:
        return judged(False, "a BYE on the device leg after the last chunk", "no BYE to the device")
    last = max((s.index for s in chunks), default=-1)
    ok = byes[0].index > last
    return judged(
        ok,
        "a BYE on the device leg after the last chunk",
        f"BYE at capture #{byes[0].index}, last chunk at #{last}",
        byes[0].message,
    )


@register("TS-8.5.1-send-4b.i")
def uid_in_bye_to_device(bye: SipMessage | None) -> Judgement:
    """A terminating-side recording PF puts Message-UID in the BYE it sends the device."""
    uid, problem = pager.message_uid(bye)
    return judged(
        uid is not None,
        "Message-UID with a UID in the BYE to the device",
        problem or f"Message-UID: {uid}",
        bye,
    )


@register("TS-8.5.1-send-4b.ii")
def uid_in_200_to_bye(final: SipMessage | None) -> Judgement:
    """An originating-side recording PF puts Message-UID in the 200 to the sender's BYE."""
    uid, problem = pager.message_uid(final)
    ok = uid is not None and final is not None and final.status == 200
    return judged(
        ok,
        "Message-UID with a UID in the 200 to the sender's BYE",
        problem or f"{final.status} with Message-UID: {uid}",
        final,
    )
