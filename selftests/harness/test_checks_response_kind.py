"""A clause about the 200 judges a 200 only (cpmconf.verdict.checks.pager.not_a_200): on any
other final, or none, it is not-applicable with the status seen, never failed; on a 200 it is
judged as before (baresip answers message/cpim with 415; TS-7.2.2.1-2 and -4 are about the
200)."""

from __future__ import annotations

import pytest

from cpmconf.codec.sip import SipMessage
from cpmconf.verdict.checks import pager
from selftests.captured import captured

REQUEST = captured(
    SipMessage.parse(
        b"MESSAGE sip:c@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa\r\n"
        b"From: <sip:a@example.net>;tag=1\r\nTo: <sip:c@example.net>\r\nCall-ID: k1\r\n"
        b"CSeq: 1 MESSAGE\r\nConversation-ID: conv1\r\nContribution-ID: contr1\r\n"
        b"Content-Length: 0\r\n\r\n"
    ),
    from_sut=False,
)


def final(status: int, reason: str, extra: str = ""):
    return captured(
        SipMessage.parse(
            f"SIP/2.0 {status} {reason}\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa\r\n"
            "From: <sip:a@example.net>;tag=1\r\nTo: <sip:c@example.net>;tag=2\r\nCall-ID: k1\r\n"
            f"CSeq: 1 MESSAGE\r\n{extra}Content-Length: 0\r\n\r\n".encode()
        )
    )


@pytest.mark.parametrize("status,reason", [(415, "Unsupported Media Type"), (202, "Accepted")])
def test_another_final_leaves_the_200_clauses_not_applicable(status, reason):
    for j in (
        pager.server_release(final(status, reason), "CPM-client/OMA2.0"),
        pager.echoes_conversation_headers(final(status, reason), REQUEST),
    ):
        assert j.ok is None and j.arisen is False
        assert j.actual.startswith(str(status))


def test_no_final_leaves_them_not_applicable_too():
    j = pager.echoes_conversation_headers(None, REQUEST)
    assert j.ok is None and j.arisen is False and j.actual == "no final response"


def test_a_200_is_judged():
    bad = pager.echoes_conversation_headers(final(200, "OK"), REQUEST)
    assert bad.ok is False
    good = final(200, "OK", "Conversation-ID: conv1\r\nContribution-ID: contr1\r\n")
    assert pager.echoes_conversation_headers(good, REQUEST).ok is True
    assert pager.server_release(final(200, "OK", "Server: CPM-client/OMA2.0\r\n")).ok is True
