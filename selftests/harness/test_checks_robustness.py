"""The robustness checks (cpmconf.verdict.checks.robustness) on hand-made captures."""

from __future__ import annotations

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
