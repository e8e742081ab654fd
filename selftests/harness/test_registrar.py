"""The core's registrar (cpmconf.roles.registrar) grants one expiry per Contact: a client that
put its own `expires` in the Contact gets the granted one instead, never both (RFC 3261 10.3;
baresip refreshed on the first of two and never on the grant); a pub-gruu, with `gr`, only to
a REGISTER with +sip.instance and gruu in Supported (RFC 5627)."""

from __future__ import annotations

from cpmconf.codec.sip import SipMessage
from cpmconf.roles.registrar import answer_headers

REGISTER = (
    "REGISTER sip:example.net SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKr1\r\n"
    "From: <sip:c@example.net>;tag=1\r\nTo: <sip:c@example.net>\r\n"
    "Call-ID: r1\r\nCSeq: 1 REGISTER\r\n{supported}"
    "Contact: <sip:c@127.0.0.1:5062>{params}\r\nContent-Length: 0\r\n\r\n"
)


def contact(params: str, supported: str = "Supported: gruu\r\n") -> str:
    msg = SipMessage.parse(REGISTER.format(params=params, supported=supported).encode())
    return dict(answer_headers(msg, "sip:c@example.net", 2))["Contact"]


def test_the_granted_expiry_replaces_the_clients():
    got = contact(';expires=3600;+sip.instance="<urn:uuid:1>"')
    assert got.count("expires=") == 1 and ";expires=2;" in got
    assert '+sip.instance="<urn:uuid:1>"' in got


def test_a_contact_without_expires_gets_the_grant():
    assert contact("").count("expires=2") == 1


def test_a_bare_contact_keeps_one_expires():
    msg = SipMessage.parse(
        REGISTER.format(params="", supported="")
        .replace("<sip:c@127.0.0.1:5062>", "sip:c@127.0.0.1:5062;expires=600")
        .encode()
    )
    got = dict(answer_headers(msg, "sip:c@example.net", 2))["Contact"]
    assert got.count("expires=") == 1 and got.endswith(";expires=2")


def test_a_pub_gruu_with_gr_for_an_instance_that_supports_gruu():
    got = contact(';+sip.instance="<urn:uuid:1>"')
    assert 'pub-gruu="sip:c@example.net;gr=urn:uuid:1"' in got


def test_no_pub_gruu_without_supported_gruu():
    assert "gruu" not in contact(';+sip.instance="<urn:uuid:1>"', supported="")


def test_no_pub_gruu_without_an_instance():
    got = contact(";expires=600")
    assert "pub-gruu" not in got and got.count("expires=") == 1
