"""View.find follows a proxy's copy to the sender's (a real core in the path,
cpmconf.roles.kamailio): identifiers taken from the copy the core received name, by the
Vias below the proxy's own, the copy the SUT sent; with no such copy it still finds nothing.
"""

from __future__ import annotations

from cpmconf.capture.view import Seen, View
from cpmconf.codec.sip import SipMessage
from cpmconf.procedures.results import Ids

SUT_VIA = "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKsut1;rport"
HOP_VIA = "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKhop1"


def _message(*vias: str) -> SipMessage:
    lines = ["MESSAGE sip:bob@example.net SIP/2.0", *(f"Via: {v}" for v in vias)]
    lines += [
        "From: <sip:carol@example.net>;tag=1",
        "To: <sip:bob@example.net>",
        "Call-ID: c1@127.0.0.1",
        "CSeq: 1 MESSAGE",
        "Max-Forwards: 70",
        "Content-Length: 0",
    ]
    return SipMessage.parse(("\r\n".join(lines) + "\r\n\r\n").encode())


def test_the_core_received_copy_names_the_sut_sent_copy():
    sut = Seen.captured(0, 0.0, True, _message(SUT_VIA), ("127.0.0.1", 5061, "127.0.0.1", 5070))
    hop = Seen.captured(
        1, 0.1, False, _message(HOP_VIA, SUT_VIA), ("127.0.0.1", 5070, "127.0.0.1", 5080)
    )
    view = View([sut, hop])
    received = Ids.of(hop.message)
    assert view.find(received, from_sut=True) is sut
    assert view.find(received, from_sut=False) is hop
    assert view.find(Ids.of(sut.message), from_sut=True) is sut


def test_no_sender_copy_finds_nothing():
    hop = Seen.captured(
        1, 0.1, False, _message(HOP_VIA, SUT_VIA), ("127.0.0.1", 5070, "127.0.0.1", 5080)
    )
    assert View([hop]).find(Ids.of(hop.message), from_sut=True) is None
