"""Passive forms of PF checks: judgements a capture shows without knowing the stimulus.

A conformance case knows what it sent and what it set up; `cpmconf judge` only has the
capture and the target profile. The functions here are registered `passive=True` under PF
clause ids whose own (active) checks need per-test knowledge. Each takes only what a
selector in `cpmconf.judge` can read from the captured messages and the profile, and most
delegate to the active check, so a passive verdict is the same rule as a run's.
"""

from __future__ import annotations

from cpmconf.codec.errors import CodecError
from cpmconf.codec.sip import SipMessage
from cpmconf.codec.uri import parse_uri
from cpmconf.verdict.checks import deferred, pager, routing
from cpmconf.verdict.checks.base import Judgement, judged, register


@register("TS-8.3.2.1-1d", passive=True)
def blocked_refused(final: SipMessage | None, originator: str) -> Judgement:
    """A MESSAGE from an originator the recipient blocks (per the profile) gets 403."""
    j = pager.rejected_403(final)
    return judged(j.ok, f"{j.expected} to the MESSAGE from blocked {originator}", j.actual, final)


@register("TS-8.3.2.1-1d-warning", passive=True)
def blocked_403_warning(final: SipMessage | None) -> Judgement:
    """The 403 to a blocked originator's MESSAGE carries Warning 122."""
    return pager.warning_122(final)


@register("TS-7.2.3.2.1-on488-pf", passive=True)
def handling_488_warning(final: SipMessage) -> Judgement:
    """A 488 to a deferred-message handling INVITE carries Warning 125 (No messages)."""
    return deferred.no_messages_488(final)


@register("TS-8.3.2.4.x-2", passive=True)
def deferral_202(final: SipMessage | None) -> Judgement:
    """The MESSAGE the PF then notified a deferral for was answered 202."""
    return deferred.answered_202(final)


@register("TS-8.3.2.4.x-3a.v", passive=True)
def notification_user_agent(note: SipMessage, release: str) -> Judgement:
    """The deferral notification states the PF's release in User-Agent."""
    return deferred.release_stated(note, release)


@register("TS-8.3.2.1.1-first200-3", passive=True)
def large_200_server(final: SipMessage, release: str) -> Judgement:
    """The PF's 200 to a large-mode INVITE states its release in Server."""
    return pager.release_judgement(final, "Server", release)


@register("TS-8.5.1-send-4a.i", passive=True)
def uid_in_copy(copy: SipMessage) -> Judgement:
    """A terminating-side recording PF's MESSAGE copy carries Message-UID."""
    return pager.uid_in_delivered_message(copy)


@register("TS-8.5.1-send-4a.ii", passive=True)
def uid_in_200(final: SipMessage) -> Judgement:
    """An originating-side recording PF's 200 to a pager MESSAGE carries Message-UID."""
    return pager.uid_in_200(final)


def _gruu(msg: SipMessage, what: str) -> Judgement:
    uri = msg.request_uri or ""
    parsed = parse_uri(uri)
    return judged(
        parsed is not None and parsed.is_gruu,
        f"{what} addressed to a GRUU (a gr parameter)",
        f"Request-URI {uri}",
        msg,
    )


@register("TS-8.3.2.1-4b-2.ii", passive=True)
def copy_to_gruu(copy: SipMessage) -> Judgement:
    """A pager-mode copy to a device is addressed to its public GRUU."""
    return _gruu(copy, "a MESSAGE copy to a device")


@register("TS-8.3.2.1.1-6.ii", passive=True)
def large_invite_to_gruu(invite: SipMessage) -> Judgement:
    """A large-mode INVITE to a device is addressed to its public GRUU."""
    return _gruu(invite, "a large-mode INVITE to a device")


@register("TS-8.3.2.4.1-a", passive=True)
def push_invite_to_gruu(invite: SipMessage) -> Judgement:
    """A push INVITE of deferred messages is addressed to the device's public GRUU."""
    return _gruu(invite, "a push INVITE")


def through_core(
    msg: SipMessage,
    destination: tuple[str, int],
    core: tuple[str, int] | None,
    what: str,
    route: str | None = None,
) -> Judgement:
    """An initial request the PF sent went to the core with a Route naming the core first.

    `core`: the core's address when known (a run's records or a fixed profile port); without
    it the request must go to the address its first Route entry names, a loose route (the
    outbound proxy, D-through-core). `route`: the profile's `pf.core_uri` when it names one.
    """
    expected = f"{what} sent to the SIP/IP core with a Route naming it first"
    try:
        routes = msg.header_list("Route")
    except CodecError as exc:
        return judged(False, expected, f"unreadable Route: {exc}", msg)
    if not routes:
        return judged(False, expected, f"{msg.summary()}: no Route header", msg)
    if route:
        problem = routing._route_problem(msg, [route])
        if problem:
            return judged(False, expected, f"{msg.summary()}: {problem}", msg)
    key = routing._route_key(routes[0])
    if key is None:
        return judged(False, expected, f"Route entry 1 unreadable: {routes[0]}", msg)
    if not key[3]:
        return judged(False, expected, f"Route entry 1 ({routes[0]}) has no lr", msg)
    where = f"{destination[0]}:{destination[1]}"
    if core is not None and tuple(destination) != tuple(core):
        return judged(False, expected, f"sent to {where}, not to the core {core[0]}:{core[1]}", msg)
    if core is None and not route and (key[1], key[2]) != (destination[0], destination[1]):
        return judged(False, expected, f"sent to {where}, but Route names {routes[0]}", msg)
    return judged(True, expected, f"sent to {where}, Route {routes[0]}", msg)


@register("TS-8.3.2.1-4b-2.iii", passive=True)
def copy_via_core(copy, destination, core, route=None) -> Judgement:
    """A pager-mode copy goes through the core."""
    return through_core(copy, destination, core, "a MESSAGE copy", route)


@register("TS-8.3.2.1.1-6.iii", passive=True)
def large_invite_via_core(invite, destination, core, route=None) -> Judgement:
    """A large-mode INVITE to a device goes through the core."""
    return through_core(invite, destination, core, "a large-mode INVITE", route)


@register("TS-8.3.2.4.1-h", passive=True)
def push_invite_via_core(invite, destination, core, route=None) -> Judgement:
    """A push INVITE goes through the core."""
    return through_core(invite, destination, core, "a push INVITE", route)


@register("TS-8.3.2.4.x-3a.vii", passive=True)
def notification_via_core(note, destination, core, route=None) -> Judgement:
    """The deferral notification goes through the core."""
    return through_core(note, destination, core, "the deferral notification", route)
