"""The robustness checks (cpmconf.verdict.checks.robustness) on hand-made captures."""

from __future__ import annotations

from cpmconf.codec.sip import SipMessage
from cpmconf.verdict.checks import robustness as checks

# A 200 that copies the broken From of its request: the codec cannot parse it.
BROKEN_200 = (
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
    b"From: <sip:@@>;tag=1\r\nTo: <sip:bob@example.net>;tag=2\r\nCall-ID: rb-1@here\r\n"
    b"CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
)


def test_raw_finals_picks_finals_to_the_stimulus_only():
    provisional = BROKEN_200.replace(b"200 OK", b"100 Trying")
    other = BROKEN_200.replace(b"rb-1@here", b"someone-else")
    request = b"MESSAGE sip:bob@example.net SIP/2.0\r\nCall-ID: rb-1@here\r\n\r\n"
    found = checks.raw_finals([BROKEN_200, provisional, other, request, b"junk"], {"rb-1@here"})
    assert found == [BROKEN_200]


def test_unparseable_2xx_is_an_acceptance():
    j = checks.refused_or_dropped([], "a MESSAGE with an empty From host", None, [BROKEN_200])
    assert j.ok is False
    assert "accepted with 200 OK" in j.actual
    assert j.message == BROKEN_200


def test_unparseable_error_status_is_a_refusal():
    refused = BROKEN_200.replace(b"200 OK", b"400 Bad Request")
    j = checks.refused_or_dropped([], "a MESSAGE with an empty From host", None, [refused])
    assert j.ok is True


def test_not_fetched():
    url = "http://127.0.0.1:8080/cpmconf-entity-abc"
    head = b"GET /cpmconf-entity-abc HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
    assert checks.not_fetched([], url).ok is True
    assert checks.not_fetched([b"GET /other HTTP/1.1\r\n\r\n"], url).ok is True
    j = checks.not_fetched([head], url)
    assert j.ok is False and j.message == head


# -- RB-cpm-unknown-action: the PF leaves a really deferred message alone ---------------------

URI_ID = "sip:CPMDeferredMsgMgmt@example.net;id=d1xabcd"
OTHER_ID = "sip:CPMDeferredMsgMgmt@example.net;id=d2xef01"
WHAT = "a handling INVITE naming a deferred message with cpm_action='explode'"


def _final(status: int, reason: str) -> SipMessage:
    return SipMessage.parse(
        f"SIP/2.0 {status} {reason}\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK2\r\n"
        "From: <sip:frank@example.net>;tag=1\r\nTo: <sip:CPMDeferredMsgMgmt@example.net>;tag=2\r\n"
        "Call-ID: rb-2@here\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n".encode()
    )


DELIVERY = SipMessage.parse(
    b"MESSAGE sip:frank@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK3\r\n"
    b"From: <sip:alice@example.net>;tag=3\r\nTo: <sip:frank@example.net>\r\nCall-ID: rb-3@pf\r\n"
    b"CSeq: 1 MESSAGE\r\nContent-Type: message/cpim\r\nContent-Length: 9\r\n\r\nmarker-42"
)


def test_unknown_action_refused_and_kept_passes():
    j = checks.unknown_action_not_acted(
        _final(488, "Not Acceptable Here"), URI_ID, [URI_ID], [URI_ID], [], WHAT
    )
    assert j.ok is True
    assert "488" in j.actual and "still listed" in j.actual


def test_unknown_action_ignored_or_empty_200_passes():
    assert checks.unknown_action_not_acted(None, URI_ID, [URI_ID], [URI_ID], [], WHAT).ok is True
    j = checks.unknown_action_not_acted(_final(200, "OK"), URI_ID, [URI_ID], [URI_ID], [], WHAT)
    assert j.ok is True


def test_unknown_action_taken_as_deliver_fails_on_the_delivery():
    ok = _final(200, "OK")
    j = checks.unknown_action_not_acted(ok, URI_ID, [URI_ID], [], [DELIVERY], WHAT)
    assert j.ok is False
    assert "content was sent" in j.actual and "200 OK" in j.actual
    assert j.message == bytes(DELIVERY)


def test_unknown_action_taken_as_delete_fails_on_the_list():
    ok = _final(200, "OK")
    j = checks.unknown_action_not_acted(ok, URI_ID, [URI_ID, OTHER_ID], [OTHER_ID], [], WHAT)
    assert j.ok is False
    assert URI_ID in j.actual and "no longer listed" in j.actual
    assert j.message == bytes(ok)
    # an error status does not excuse dropping the message
    refused = _final(488, "Not Acceptable Here")
    j = checks.unknown_action_not_acted(refused, URI_ID, [URI_ID], [], [], WHAT)
    assert j.ok is False


def test_unknown_action_without_a_deferred_message_is_not_judged():
    assert checks.unknown_action_not_acted(None, None, [], None, [], WHAT).ok is None
    assert checks.unknown_action_not_acted(None, URI_ID, [OTHER_ID], [], [], WHAT).ok is None
    assert checks.unknown_action_not_acted(None, URI_ID, None, None, [], WHAT).ok is None
    # the list unreadable afterwards: nothing to say about dropping
    assert checks.unknown_action_not_acted(None, URI_ID, [URI_ID], None, [], WHAT).ok is None
