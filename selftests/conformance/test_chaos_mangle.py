"""What each chaos mode does to a message from the SUT, without sockets (chaos.mangle)."""

from __future__ import annotations

import pytest

from chaos import MODES, Mangler
from chaos.mangle import TCP_PAD, UDP_PAD
from cpmconf.codec.framing import SipStreamFramer

OK = (
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
    b"From: <sip:a@example.net>;tag=1\r\nTo: <sip:b@example.net>;tag=2\r\n"
    b"Call-ID: c1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
)


def sent(actions):
    return [a.data for a in actions if not a.reset and not a.to_msrp]


def test_unknown_mode_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="drop"):
        Mangler("nope", 0.5, "udp")


def test_every_mode_changes_something_over_tcp():
    for mode in MODES:
        m = Mangler(mode, 0.5, "tcp")
        first, second = m.from_sut(OK), m.from_sut(OK)
        plain = [OK], [OK]
        changed = (sent(first), sent(second)) != plain or any(
            a.delay or a.reset or a.to_msrp for a in first + second
        )
        assert changed, mode


def test_drop_and_duplicate_and_reorder():
    m = Mangler("drop", 0.5, "udp")
    assert [len(sent(m.from_sut(OK))) for _ in range(4)] == [1, 0, 1, 0]
    assert sent(Mangler("duplicate", 0.5, "udp").from_sut(OK)) == [OK, OK]
    r = Mangler("reorder", 0.5, "udp")
    assert r.from_sut(b"one") == [] and sent(r.from_sut(b"two")) == [b"two", b"one"]
    assert r.from_sut(b"three") == [] and sent(r.release()) == [b"three"] and r.release() == []


def test_delay_is_beyond_the_guard():
    (a,) = Mangler("delay", 0.5, "udp").from_sut(OK)
    assert a.data == OK and a.delay > 2 * 0.5


def test_truncate_and_garble_are_repeatable():
    for mode in ("truncate", "garble"):
        one, two = Mangler(mode, 0.5, "udp"), Mangler(mode, 0.5, "udp")
        out = sent(one.from_sut(OK))
        assert out == sent(two.from_sut(OK)) and out != [OK]


def test_reset_only_on_streams():
    assert [a.reset for a in Mangler("reset", 0.5, "udp").from_sut(OK)] == [False]
    assert [a.reset for a in Mangler("reset", 0.5, "tcp").from_sut(OK)] == [False, True]


def test_malformed_injects_sip_and_msrp_before_the_real_message():
    actions = Mangler("malformed", 0.5, "udp").from_sut(OK)
    assert actions[-1].data == OK and any(a.to_msrp for a in actions)
    assert any(not a.to_msrp and a.data != OK for a in actions)


def test_flood_follows_each_message_with_framable_requests():
    out = sent(Mangler("flood", 0.5, "tcp").from_sut(OK))
    assert out[0] == OK and len(out) == 21
    frames = SipStreamFramer().feed(b"".join(out[1:]), 0.0)
    assert len(frames) == 20


def test_huge_grows_responses_only():
    udp = sent(Mangler("huge", 0.5, "udp").from_sut(OK))[0]
    assert UDP_PAD < len(udp) < 65_507 and udp.endswith(b"\r\n\r\n")
    tcp = sent(Mangler("huge", 0.5, "tcp").from_sut(OK))[0]
    assert len(tcp) > TCP_PAD and b"Content-Length: %d" % TCP_PAD in tcp
    request = b"MESSAGE sip:b@example.net SIP/2.0\r\nContent-Length: 0\r\n\r\n"
    assert sent(Mangler("huge", 0.5, "udp").from_sut(request)) == [request]
