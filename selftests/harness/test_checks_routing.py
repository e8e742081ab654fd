"""Self-tests for the through-the-core checks (D-through-core): they pass a request routed and
addressed as the core's procedures ask and a response that kept its Via path, and fail the
rest with the reason."""

from __future__ import annotations

from cpmconf.codec.sip import SipMessage, build_message
from cpmconf.verdict.checks import routing
from cpmconf.verdict.checks.base import Seen, View
from selftests.captured import captured

CORE = ("127.0.0.1", 5070)
SUT = ("127.0.0.1", 5080)
PROXY = "sip:127.0.0.1:5070;lr"
SERVICE = "<sip:orig@127.0.0.1:5070;lr>"


def _request(method="MESSAGE", routes=(), call_id="c1", vias=None) -> SipMessage:
    lines = [("Via", v) for v in vias or ["SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK1;rport"]]
    lines += [("Route", r) for r in routes]
    lines += [
        ("From", "<sip:carol@example.net>;tag=1"),
        ("To", "<sip:bob@example.net>"),
        ("Call-ID", call_id),
        ("CSeq", f"1 {method}"),
    ]
    return captured(SipMessage.parse(build_message(f"{method} sip:bob@example.net SIP/2.0", lines)))


def _response(request: SipMessage, vias: list[str], status=200) -> SipMessage:
    lines = [("Via", v) for v in vias]
    lines += [
        ("From", request.header("From") or ""),
        ("To", f"{request.header('To')};tag=2"),
        ("Call-ID", request.call_id),
        ("CSeq", request.header("CSeq") or ""),
    ]
    return SipMessage.parse(build_message(f"SIP/2.0 {status} OK", lines))


def _register_ok(service_route: str | None) -> SipMessage:
    lines = [
        ("Via", "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKr"),
        ("From", "<sip:carol@example.net>;tag=1"),
        ("To", "<sip:carol@example.net>;tag=3"),
        ("Call-ID", "reg"),
        ("CSeq", "1 REGISTER"),
    ]
    if service_route:
        lines.append(("Service-Route", service_route))
    return SipMessage.parse(build_message("SIP/2.0 200 OK", lines))


def _view(*items: tuple[SipMessage, bool, tuple]) -> View:
    """(message, from_sut, flow) in capture order."""
    return View([Seen.captured(i, float(i), fs, m, flow) for i, (m, fs, flow) in enumerate(items)])


TO_CORE = (*SUT, *CORE)
TO_SUT = (*CORE, *SUT)


def test_a_request_with_the_preloaded_route_to_the_core_passes():
    req = _request(routes=[f"<{PROXY}>", SERVICE])
    view = _view((_register_ok(SERVICE), False, TO_SUT), (req, True, TO_CORE))
    j = routing.request_via_core(view, [req], CORE, (PROXY,), "MESSAGE", service_route=True)
    assert j.ok is True, j


def test_a_request_without_route_or_service_route_or_lr_fails():
    for routes, words in [
        ((), "no Route"),
        ((f"<{PROXY}>",), "Route ends before"),
        (("<sip:127.0.0.1:5070>", SERVICE), "not a loose route"),
        (("<sip:127.0.0.1:5999;lr>", SERVICE), "not 127.0.0.1:5070"),
    ]:
        req = _request(routes=routes)
        view = _view((_register_ok(SERVICE), False, TO_SUT), (req, True, TO_CORE))
        j = routing.request_via_core(view, [req], CORE, (PROXY,), "MESSAGE", service_route=True)
        assert j.ok is False and words in j.actual, (routes, j.actual)


def test_a_request_sent_elsewhere_fails_even_with_the_route():
    req = _request(routes=[f"<{PROXY}>"])
    view = _view((req, True, (*SUT, "127.0.0.1", 5999)))
    j = routing.request_via_core(view, [req], CORE, (PROXY,), "MESSAGE")
    assert j.ok is False and "5999" in j.actual


def test_the_service_route_is_the_one_of_the_last_registration_before_the_request():
    req = _request(routes=[f"<{PROXY}>"])
    # registered without a Service-Route: the outbound proxy alone is expected
    view = _view((_register_ok(None), False, TO_SUT), (req, True, TO_CORE))
    assert routing.request_via_core(view, [req], CORE, (PROXY,), "M", service_route=True).ok
    # a registration after the request does not count
    view = _view((req, True, TO_CORE), (_register_ok(SERVICE), False, TO_SUT))
    assert routing.request_via_core(view, [req], CORE, (PROXY,), "M", service_route=True).ok


def test_a_register_is_held_to_the_outbound_proxy_alone():
    req = _request("REGISTER", routes=[f"<{PROXY}>"])
    view = _view((_register_ok(SERVICE), False, TO_SUT), (req, True, TO_CORE))
    assert routing.request_via_core(view, [req], CORE, (PROXY,), "R", service_route=True).ok


def test_with_the_route_expectation_off_only_the_destination_is_judged():
    req = _request()
    j = routing.request_via_core(_view((req, True, TO_CORE)), [req], CORE, (), "MESSAGE")
    assert j.ok is True and "not judged" in (j.note or "")
    j = routing.request_via_core(_view((req, True, TO_SUT)), [req], CORE, (), "MESSAGE")
    assert j.ok is False


def test_nothing_captured_fails():
    assert routing.request_via_core(_view(), [], CORE, (PROXY,), "MESSAGE").ok is False


VIAS = [
    "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa;rport",
    "SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKb;received=127.0.0.1",
]


def test_a_response_keeping_the_vias_passes_with_received_and_rport_added():
    req = _request(vias=VIAS)
    top = "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa;rport=5070;received=127.0.0.1"
    resp = _response(req, [top, VIAS[1]])
    view = _view((req, False, TO_SUT), (resp, True, TO_CORE))
    assert routing.response_via_core(view, req, "200").ok is True


def test_a_response_that_drops_or_reorders_vias_or_goes_elsewhere_fails():
    req = _request(vias=VIAS)
    for vias, flow in [
        (VIAS[:1], TO_CORE),
        (list(reversed(VIAS)), TO_CORE),
        (VIAS, (*SUT, "127.0.0.1", 9)),
    ]:
        view = _view((req, False, TO_SUT), (_response(req, vias), True, flow))
        assert routing.response_via_core(view, req, "200").ok is False, vias


def test_no_final_response_fails():
    req = _request(vias=VIAS)
    assert routing.response_via_core(_view((req, False, TO_SUT)), req, "200").ok is False


def test_behind_a_relay_the_relays_own_forward_is_not_the_suts_sending():
    relay = ("127.0.0.1", 5090)
    req = _request(routes=["<sip:127.0.0.1:5090;lr>"])
    sut_to_relay = (*SUT, *relay)
    relay_to_core = ("127.0.0.1", 5091, *CORE)
    view = _view((req, True, sut_to_relay), (req, True, relay_to_core))
    route = ("sip:127.0.0.1:5090;lr",)
    j = routing.request_via_core(view, [req], relay, route, "MESSAGE", relayed_to=CORE)
    assert j.ok is True, j
    # without the relay named, the forward looks like the SUT sending past its outbound proxy
    j = routing.request_via_core(view, [req], relay, route, "MESSAGE")
    assert j.ok is False and "not to 127.0.0.1:5090" in j.actual, j.actual
    # and a SUT that sends around the relay (somewhere else) still fails
    elsewhere = _view((req, True, (*SUT, "127.0.0.1", 6000)))
    j = routing.request_via_core(elsewhere, [req], relay, route, "MESSAGE", relayed_to=CORE)
    assert j.ok is False and "127.0.0.1:6000" in j.actual, j.actual
