"""Checks that a message went through the SIP/IP core following the core's procedures
(decision D-through-core).

The test system is the SUT's only SIP peer, so "did it reach the core" cannot fail on its own:
every case waits for the message. What the core's procedures make observable is how the
message is addressed:

* a request the SUT originates goes to the core's address (the outbound proxy the target
  profile names; the capture knows every packet's destination) and carries the Route the
  core's procedures ask for: its first entries name the core as loose routes (`lr`). A client
  preloads its outbound proxy and then the Service-Route its registrar returned (RFC 3261
  8.1.2, RFC 3608 6, as 3GPP TS 24.229 has the UE do); a PF, originating as an application
  server, names the core's S-CSCF URI. The Service-Route is read from the capture: the last
  2xx to a REGISTER the test system sent before the request. A profile may turn the Route
  expectation off (`test_system.judge_route = false`); then only the destination is judged,
  and the judgement says so.
* a response the SUT returns keeps the request's Vias, in order (RFC 3261 8.2.6.2; the SUT
  may add `received` and fill in `rport` on the top one, RFC 3581), and goes where the top Via
  says (RFC 3261 18.2.2 with RFC 3581: over a stream, back on the request's connection; over
  UDP, to `received` or the sent-by host, at the `rport` source port or the sent-by port). The
  core forwards requests with the originating device's Via below its own, as a proxy does, so
  a response that loses or reorders Vias is visible.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sipmessage import URI, Via

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import NameAddr
from cpmconf.codec.sip import SipMessage
from cpmconf.verdict.checks.base import Judgement, Seen, View, judged, register

# The top Via parameters the SUT itself writes on receipt (RFC 3261 18.2.1, RFC 3581).
_RECEIVER_PARAMS = ("received", "rport")


def _route_key(value: str) -> tuple[str, str, int, bool] | None:
    """(user, host, port, lr) of a Route / Service-Route / configured URI value, or None."""
    text = value.strip()
    if "<" not in text:
        text = f"<{text}>"  # a bare URI: its parameters (lr) belong to it
    try:
        uri = NameAddr.parse(text).uri
        parsed = URI.parse(uri.split("?", 1)[0])
    except (CodecError, ValueError):
        return None
    secure = parsed.scheme.lower() == "sips"
    port = parsed.port or (5061 if secure else 5060)
    lr = "lr" in {k.lower() for k in parsed.parameters}
    return (parsed.user or "", parsed.host.lower().strip("[]"), port, lr)


def _show(key: tuple[str, str, int, bool] | None, raw: str) -> str:
    return raw if key is None else f"{key[0] + '@' if key[0] else ''}{key[1]}:{key[2]}"


def service_route_before(view: View, index: int) -> list[str]:
    """The Service-Route of the last 2xx to a REGISTER the test system sent before capture
    index `index` (RFC 3608: each registration replaces it; a de-registration clears it)."""
    found: list[str] = []
    for s in view.items:
        m = s.message
        if s.index >= index or s.from_sut or m.is_request or m.cseq[1] != "REGISTER":
            continue
        if m.status is not None and 200 <= m.status < 300:
            try:
                found = m.header_list("Service-Route")
            except CodecError:
                found = []
    return found


def _copies(view: View, msg: SipMessage, *, from_sut: bool) -> list[Seen]:
    """Every captured copy of `msg` (retransmissions included) sent by the given side."""
    want = (msg.call_id, msg.cseq, msg.branch, msg.start_line)
    out = []
    for s in view.items:
        m = s.message
        if s.from_sut != from_sut:
            continue
        try:
            if (m.call_id, m.cseq, m.branch, m.start_line) == want:
                out.append(s)
        except CodecError:
            continue
    return out


def _route_problem(msg: SipMessage, expected: Sequence[str]) -> str | None:
    """Why the Route of `msg` does not begin with `expected` (loose routes), or None."""
    try:
        routes = msg.header_list("Route")
    except CodecError as exc:
        return f"unreadable Route: {exc}"
    if not routes:
        return "no Route header"
    for i, want in enumerate(expected):
        if i >= len(routes):
            return f"Route ends before {want}"
        have_key, want_key = _route_key(routes[i]), _route_key(want)
        if have_key is None:
            return f"Route entry {i + 1} unreadable: {routes[i]}"
        if have_key[:3] != (want_key or ("", "", 0, True))[:3]:
            return (
                f"Route entry {i + 1} is {_show(have_key, routes[i])}, not {_show(want_key, want)}"
            )
        if not have_key[3]:
            return f"Route entry {i + 1} ({routes[i]}) is not a loose route (no lr)"
    return None


@register(
    "TS-7.1-8",
    "TS-7.2.1.1-16",
    "TS-7.2.1.2-18",
    "TS-7.2.3.1-1h",
    "TS-7.2.3.2.1-8",
    "TS-8.3.2.1-4b-2.iii",
    "TS-8.3.2.1.1-6.iii",
    "TS-8.3.2.4.1-h",
    "TS-8.3.2.4.x-3a.vii",
)
def request_via_core(
    view: View,
    requests: Iterable[SipMessage],
    core: tuple[str, int],
    route: Sequence[str],
    what: str,
    *,
    service_route: bool = False,
    relayed_to: tuple[str, int] | None = None,
) -> Judgement:
    """Each request went to the core's address with the Route the core's procedures ask for
    (D-through-core). `route`: the URIs the Route must begin with (() when the profile does
    not judge the Route); `service_route`: a client's request, so the Service-Route the
    registrar returned (read from the capture) follows them. `relayed_to`: when the test
    system put a relay in front of the core (the chaos proxy), the core's own address: the
    relay's copies forwarded there are not the SUT's sending."""
    requests = list(requests)
    where = f"{core[0]}:{core[1]}"
    judge_route = bool(route)
    expected = f"{what} sent to the SIP/IP core at {where}"
    if judge_route:
        expected += " with a Route beginning with the core's loose route" + (
            " and the registrar's Service-Route" if service_route else ""
        )
    note = None if judge_route else "the profile turns the Route expectation off: not judged"
    if not requests:
        return judged(False, expected, f"no {what} captured", note=note)
    for msg in requests:
        copies = _copies(view, msg, from_sut=True)
        if not copies:
            return judged(False, expected, f"{msg.summary()} not in the capture", msg, note)
        for s in copies:
            if s.flow is not None and relayed_to and (s.flow[2], s.flow[3]) == tuple(relayed_to):
                continue
            if s.flow is not None and (s.flow[2], s.flow[3]) != (core[0], core[1]):
                actual = f"{msg.summary()} sent to {s.flow[2]}:{s.flow[3]}, not to {where}"
                return judged(False, expected, actual, msg, note)
        if judge_route:
            want = list(route)
            if service_route and msg.method != "REGISTER":
                want += service_route_before(view, copies[0].index)
            problem = _route_problem(msg, want)
            if problem is not None:
                actual = f"{msg.summary()}: {problem} (expected {', '.join(want)})"
                return judged(False, expected, actual, msg, note)
    shown = "; ".join(", ".join(m.header_list("Route")) or "no Route" for m in requests[:3])
    actual = f"{what} ({len(requests)}) sent to {where}" + (
        f", Route {shown}" if judge_route else ""
    )
    return judged(True, expected, actual, requests[0], note)


def _via_key(via, top: bool) -> tuple:
    params = {
        k.lower(): (v or "")
        for k, v in via.parameters.items()
        if not (top and k.lower() in _RECEIVER_PARAMS)
    }
    port = via.port or 5060
    return (via.transport.upper(), via.host.lower(), port, tuple(sorted(params.items())))


def _vias(msg: SipMessage) -> list:
    out = []
    for value in msg.header_values("Via"):
        out.extend(Via.parse_many(value))
    return out


def _reply_address(request: Seen) -> tuple[str, int] | None:
    """Where a response to the captured request belongs (RFC 3261 18.2.2, RFC 3581)."""
    via = request.message.top_via
    if via is None or request.flow is None:
        return None
    source = (request.flow[0], request.flow[1])
    if via.transport.upper() != "UDP":
        return source  # back on the connection the request came over
    params = {k.lower(): v for k, v in via.parameters.items()}
    host = params.get("maddr") or params.get("received") or request.flow[0]
    if "rport" in params:
        return (host, source[1])
    return (host, via.port or 5060)


@register("TS-7.2.2.1-5", "TS-7.2.2.2-3", "TS-8.3.2.1.1-first200-6")
def response_via_core(view: View, request: SipMessage, what: str) -> Judgement:
    """The SUT's final responses to `request` keep its Vias in order and go where the top Via
    names (D-through-core)."""
    expected = f"{what} with the request's Vias in order, sent where its top Via names"
    sent = _copies(view, request, from_sut=False)
    finals = [
        s
        for s in view.items
        if s.from_sut
        and not s.message.is_request
        and s.message.call_id == request.call_id
        and s.message.cseq == request.cseq
        and (s.message.status or 0) >= 200
    ]
    if not finals:
        return judged(False, expected, f"no final response to {request.summary()} captured")
    try:
        want = _vias(request)
    except (CodecError, ValueError) as exc:
        return judged(False, expected, f"the request's Via unreadable: {exc}", request)
    target = _reply_address(sent[0]) if sent else None
    for s in finals:
        resp = s.message
        try:
            have = _vias(resp)
        except (CodecError, ValueError) as exc:
            return judged(False, expected, f"unreadable Via: {exc}", resp)
        want_keys = [_via_key(v, i == 0) for i, v in enumerate(want)]
        have_keys = [_via_key(v, i == 0) for i, v in enumerate(have)]
        if have_keys != want_keys:
            actual = (
                f"{resp.summary()} has {len(have)} Via(s) "
                f"[{', '.join(f'{v.host}:{v.port}' for v in have)}], the request had "
                f"{len(want)} [{', '.join(f'{v.host}:{v.port}' for v in want)}]"
            )
            return judged(False, expected, actual, resp)
        if target is not None and s.flow is not None and (s.flow[2], s.flow[3]) != target:
            actual = (
                f"{resp.summary()} sent to {s.flow[2]}:{s.flow[3]}, not {target[0]}:{target[1]}"
            )
            return judged(False, expected, actual, resp)
    where = "" if target is None else f", sent to {target[0]}:{target[1]}"
    return judged(True, expected, f"{len(want)} Via(s) kept in order{where}", finals[0].message)
