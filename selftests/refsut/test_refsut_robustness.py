"""The reference SUT's input guard (`refsut.robustness`): the 400 to bad input, and the
robustness switches that take it with a 200 or hang the SUT instead. The SIP transaction
core only asks the guard; it holds no refusal rule and names no robustness switch."""

from __future__ import annotations

import asyncio
import inspect

from cpmconf.codec.errors import CodecError
from cpmconf.codec.sip import SipMessage
from cpmconf.transport import Inbound
from refsut import robustness, sipcore
from refsut.robustness import InputGuard

HEAD = (
    "MESSAGE sip:bob@example.net SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc\r\n"
    "From: <sip:alice@example.net>;tag=1\r\n"
    "To: <sip:bob@example.net>\r\n"
    "Call-ID: c1@127.0.0.1\r\n"
    "CSeq: {cseq} MESSAGE\r\n"
    "Max-Forwards: 70\r\n"
)


def _request(extra: str = "", cseq: int = 1, body: bytes = b"") -> Inbound:
    raw = (HEAD.format(cseq=cseq) + extra + f"Content-Length: {len(body)}\r\n\r\n").encode()
    raw += body
    return Inbound(
        0.0, "udp", ("127.0.0.1", 5060), ("127.0.0.1", 5070), raw, SipMessage.parse(raw), None
    )


def _guard(*on: str) -> InputGuard:
    return InputGuard("pf", lambda name: name in on)


class _Replies:
    def __init__(self) -> None:
        self.sent: list[tuple] = []

    async def __call__(self, status: int, reason: str | None = None) -> None:
        self.sent.append((status, reason))


def test_a_repeated_header_is_refused_with_400():
    replies = _Replies()
    item = _request("Expires: 10\r\nExpires: 20\r\n")
    assert asyncio.run(_guard().screen(item, replies))
    assert replies.sent == [(400, "Bad Request (expires header repeated)")]


def test_a_good_request_passes_to_its_role():
    replies = _Replies()
    assert not asyncio.run(_guard().screen(_request(), replies))
    assert replies.sent == []


def test_under_an_accept_switch_the_bad_request_gets_200():
    replies = _Replies()
    item = _request("Expires: 10\r\nExpires: 20\r\n")
    assert asyncio.run(_guard("robust.accept-repeated-header").screen(item, replies))
    assert replies.sent == [(200, None)]


def test_a_hang_swallows_that_request_and_the_next_then_clears():
    guard = _guard("robust.crash-on-repeated-header")
    replies = _Replies()
    assert asyncio.run(guard.screen(_request("Expires: 1\r\nExpires: 2\r\n"), replies))
    assert replies.sent == []
    # the bad request's retransmission and the next request go unanswered, then it clears
    assert guard.swallows(_request(cseq=2).message)
    assert guard.swallows(_request(cseq=2).message)  # a retransmission of the swallowed one
    assert not guard.swallows(_request(cseq=3).message)


def test_a_huge_header_section_stalls_only_under_its_switch():
    item = _request("X-Padding: " + "a" * (robustness.HUGE_HEADER_SECTION + 1) + "\r\n")
    assert not _guard().stalls(item)
    assert _guard("robust.stall-on-huge-header").stalls(item)


def test_an_unparseable_request_is_answered_200_from_its_raw_lines_under_the_switch():
    raw = HEAD.format(cseq=7).replace("sip:bob@example.net SIP", "sip:bob@@ SIP").encode()
    raw += b"Content-Length: 0\r\n\r\n"
    error = CodecError("SIP Request-URI", "bad URI")
    item = Inbound(0.0, "udp", ("127.0.0.1", 5060), ("127.0.0.1", 5070), raw, None, error)
    sent: list[bytes] = []

    async def send(data: bytes, remote, transport: str) -> bool:
        sent.append(data)
        return True

    assert not asyncio.run(_guard().take_unparseable(item, send))
    assert asyncio.run(_guard("robust.accept-invalid-uri").take_unparseable(item, send))
    answer = SipMessage.parse(sent[0])
    assert answer.status == 200
    assert answer.header("CSeq") == "7 MESSAGE"
    assert ";tag=" in (answer.header("To") or "")


def test_the_transaction_core_holds_no_refusal_rule_and_no_robustness_switch():
    source = inspect.getsource(sipcore)
    assert "robust." not in source
    for name in ("malformed", "ACCEPTED_UNDER", "HANG_UNDER", "_swallow"):
        assert name not in source, f"{name} is back in refsut.sipcore"
