"""Self-tests for cpmconf.codec.reginfo (RFC 3680 with RFC 5628 GRUUs)."""

from __future__ import annotations

import pytest

from cpmconf.codec.errors import CodecError
from cpmconf.codec.reginfo import RegContact, RegInfo, Registration

PHONE = "<urn:uuid:00000000-0000-4000-8000-0000000b0b01>"
GOLDEN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" xmlns:gr="urn:ietf:params:xml:ns:gruuinfo"'
    b' version="3" state="full">\n'
    b'  <registration aor="sip:bob@example.net" id="r1" state="active">\n'
    b'    <contact id="c1" state="active" event="registered" expires="600">\n'
    b"      <uri>sip:bob-phone@127.0.0.1:5060</uri>\n"
    b'      <unknown-param name="+sip.instance">"&lt;urn:uuid:00000000-0000-4000-8000-'
    b'0000000b0b01&gt;"</unknown-param>\n'
    b'      <gr:pub-gruu uri="sip:bob@example.net;gr=urn:uuid:00000000-0000-4000-8000-'
    b'0000000b0b01"/>\n'
    b"    </contact>\n"
    b"  </registration>\n"
    b"</reginfo>\n"
)


def _doc() -> RegInfo:
    contact = RegContact(
        "c1",
        "active",
        "registered",
        "sip:bob-phone@127.0.0.1:5060",
        600,
        PHONE,
        f"sip:bob@example.net;gr={PHONE[1:-1]}",
    )
    return RegInfo.build(3, [Registration("sip:bob@example.net", "r1", "active", (contact,))])


def test_golden_bytes_and_round_trip():
    doc = _doc()
    assert bytes(doc) == GOLDEN
    again = RegInfo.parse(str(doc))
    assert again == doc
    c = again.registration("sip:bob@example.net").active()[0]
    assert (c.instance, c.expires, c.temp_gruu) == (PHONE, 600, None)
    assert c.pub_gruu.endswith("0b0b01")


@pytest.mark.parametrize(
    "data, match",
    [
        (b"<x/>", "root element"),
        (GOLDEN.replace(b'version="3"', b'version="x"'), "version"),
        (GOLDEN.replace(b'state="full"', b'state="half"'), "state"),
        (GOLDEN.replace(b"<uri>sip:bob-phone@127.0.0.1:5060</uri>", b""), "without uri"),
        (b'<!DOCTYPE r [<!ENTITY a "b">]><r/>', "unsafe"),
    ],
)
def test_bad_documents_are_codec_errors(data, match):
    with pytest.raises(CodecError, match=match):
        RegInfo.parse(data)
