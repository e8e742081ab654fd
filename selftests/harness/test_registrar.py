"""The core's registrar (cpmconf.roles.registrar) grants one expiry per Contact: a client that
put its own `expires` in the Contact gets the granted one instead, never both (RFC 3261 10.3;
baresip refreshed on the first of two and never on the grant)."""

from __future__ import annotations

from cpmconf.codec.sip import SipMessage
from cpmconf.roles.registrar import answer_headers

REGISTER = (
    "REGISTER sip:example.net SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKr1\r\n"
    "From: <sip:c@example.net>;tag=1\r\nTo: <sip:c@example.net>\r\n"
    "Call-ID: r1\r\nCSeq: 1 REGISTER\r\n"
    "Contact: <sip:c@127.0.0.1:5062>{params}\r\nContent-Length: 0\r\n\r\n"
)


def contact(params: str) -> str:
    msg = SipMessage.parse(REGISTER.format(params=params).encode())
    return dict(answer_headers(msg, "sip:c@example.net", 2))["Contact"]


def test_the_granted_expiry_replaces_the_clients():
    got = contact(';expires=3600;+sip.instance="<urn:uuid:1>"')
    assert got.count("expires=") == 1 and ";expires=2;" in got
    assert '+sip.instance="<urn:uuid:1>"' in got


def test_a_contact_without_expires_gets_the_grant():
    assert contact("").count("expires=2") == 1
