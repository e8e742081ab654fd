"""Self-tests for cpmconf.codec.sip: parsing, building, Content-Length checks."""

from __future__ import annotations

import pytest

from cpmconf.codec.errors import CodecError
from cpmconf.codec.sip import SipMessage, build_message, check_content_length

ICSI_AC = '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg";explicit;require'

HEADERS = [
    ("Via", "SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK776"),
    ("Max-Forwards", "70"),
    ("From", '"Alice" <sip:alice@example.net>;tag=49583'),
    ("To", "<sip:bob@example.net>"),
    ("Call-ID", "a84b4c76e66710@127.0.0.1"),
    ("CSeq", "1 MESSAGE"),
    ("Accept-Contact", ICSI_AC),
    ("Content-Type", "text/plain"),
]

GOLDEN_MESSAGE = (
    b"MESSAGE sip:bob@example.net SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK776\r\n"
    b"Max-Forwards: 70\r\n"
    b'From: "Alice" <sip:alice@example.net>;tag=49583\r\n'
    b"To: <sip:bob@example.net>\r\n"
    b"Call-ID: a84b4c76e66710@127.0.0.1\r\n"
    b"CSeq: 1 MESSAGE\r\n"
    b'Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"'
    b";explicit;require\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 5\r\n"
    b"\r\n"
    b"hello"
)

GOLDEN_RESPONSE = (
    b"SIP/2.0 200 OK\r\n"
    b"v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776;received=127.0.0.1\r\n"
    b"f: <sip:alice@example.net>;tag=49583\r\n"
    b"t: <sip:bob@example.net>;tag=x1\r\n"
    b"i: a84b4c76e66710@127.0.0.1\r\n"
    b"CSeq: 1 MESSAGE\r\n"
    b"Message-UID: 42\r\n"
    b"l: 0\r\n"
    b"\r\n"
)


def test_build_message_golden_bytes():
    assert build_message("MESSAGE sip:bob@example.net SIP/2.0", HEADERS, b"hello") == (
        GOLDEN_MESSAGE
    )


def test_build_replaces_given_content_length_in_place():
    hdrs = [*HEADERS[:2], ("l", "999"), *HEADERS[2:], ("Content-Length", "3")]
    raw = build_message("MESSAGE sip:bob@example.net SIP/2.0", hdrs, b"abcd")
    msg = SipMessage.parse(raw)
    assert [n for n, _ in msg.headers].count("Content-Length") == 1
    assert msg.headers[2] == ("Content-Length", "4")
    assert msg.content_length_ok


def test_build_refuses_header_injection_but_allows_folding():
    with pytest.raises(CodecError):
        build_message("OPTIONS sip:a@b SIP/2.0", [("Subject", "x\r\nEvil: 1")])
    with pytest.raises(CodecError):
        build_message("OPTIONS sip:a@b SIP/2.0", [("Bad Name", "x")])
    raw = build_message("OPTIONS sip:a@b SIP/2.0", [*HEADERS[:6], ("Subject", "one\r\n two")])
    assert SipMessage.parse(raw).header("Subject") == "one two"


def test_parse_request_and_round_trip():
    msg = SipMessage.parse(GOLDEN_MESSAGE)
    assert bytes(msg) == GOLDEN_MESSAGE
    assert str(msg) == GOLDEN_MESSAGE.decode()
    assert SipMessage.parse(bytes(msg)) == msg
    assert msg.is_request and msg.method == "MESSAGE"
    assert msg.request_uri == "sip:bob@example.net"
    assert msg.status is None and msg.reason is None
    assert msg.call_id == "a84b4c76e66710@127.0.0.1"
    assert msg.cseq == (1, "MESSAGE")
    assert msg.body == b"hello"
    assert msg.content_length == 5 and msg.content_length_ok
    assert msg.content_type == "text/plain"
    assert msg.header("accept-contact") == ICSI_AC
    assert msg.header("a") == ICSI_AC  # compact form of Accept-Contact
    assert msg.from_addr.tag == "49583" and msg.from_addr.display_name == "Alice"
    assert msg.to_addr.tag is None
    assert msg.branch == "z9hG4bK776"
    assert msg.summary() == "MESSAGE sip:bob@example.net"


def test_parse_response_with_compact_headers():
    msg = SipMessage.parse(GOLDEN_RESPONSE)
    assert not msg.is_request and msg.status == 200 and msg.reason == "OK"
    assert msg.method is None and msg.request_uri is None
    assert msg.header("Call-ID") == "a84b4c76e66710@127.0.0.1"
    assert msg.header("Content-Length") == "0"
    assert msg.header("v").startswith("SIP/2.0/UDP")
    assert msg.header("Via") == msg.header("v")
    assert msg.headers[0][0] == "v"  # names stay as on the wire
    assert msg.to_addr.tag == "x1"
    assert msg.summary() == "200 OK (MESSAGE)"
    assert bytes(msg) == GOLDEN_RESPONSE


def test_header_values_and_header_list():
    raw = build_message(
        "SIP/2.0 403 Forbidden",
        [
            *HEADERS[:6],
            ("Warning", '399 pf.example.net "122 Function not allowed"'),
            ("Warning", '399 a.example "x, y", 399 b.example "z"'),
            ("Contact", '<sip:a@h;x=1>;+sip.instance="<urn:uuid:1>", <sip:b@h>'),
        ],
    )
    msg = SipMessage.parse(raw)
    assert len(msg.header_values("warning")) == 2
    assert msg.header_list("Warning") == [
        '399 pf.example.net "122 Function not allowed"',
        '399 a.example "x, y"',
        '399 b.example "z"',
    ]
    assert msg.header_list("m") == ['<sip:a@h;x=1>;+sip.instance="<urn:uuid:1>"', "<sip:b@h>"]
    assert msg.header("Nope") is None and msg.header_values("Nope") == []


def test_folded_header_is_unfolded_raw_kept():
    raw = GOLDEN_MESSAGE.replace(b"To: <sip:bob@example.net>", b"To:\r\n <sip:bob@example.net>")
    msg = SipMessage.parse(raw)
    assert msg.header("To") == "<sip:bob@example.net>"
    assert bytes(msg) == raw


def test_content_length_mismatch_detected():
    short = GOLDEN_MESSAGE[:-1]
    msg = SipMessage.parse(short)
    assert not msg.content_length_ok
    assert "5" in check_content_length(msg) and "4" in check_content_length(msg)
    long = SipMessage.parse(GOLDEN_MESSAGE + b"!")
    assert check_content_length(long) is not None
    no_cl = SipMessage.parse(GOLDEN_MESSAGE.replace(b"Content-Length: 5\r\n", b""))
    assert check_content_length(no_cl) is None
    assert check_content_length(no_cl, required=True) == "no Content-Length header"


def test_non_sip_request_uri_and_tel_uri_accepted():
    for uri in ("tel:+15551234567", "urn:service:sos", "sip:pf.example.net;id=a?cpm_action=x"):
        raw = build_message(f"MESSAGE {uri} SIP/2.0", HEADERS)
        assert SipMessage.parse(raw).request_uri == uri


BAD = {
    "not bytes": "MESSAGE sip:a@b SIP/2.0\r\n\r\n",
    "no blank line": GOLDEN_MESSAGE.replace(b"\r\n\r\n", b"\r\n"),
    "bad start": GOLDEN_MESSAGE.replace(b"MESSAGE sip:bob@example.net SIP/2.0", b"HELLO"),
    "bad version": GOLDEN_MESSAGE.replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1),
    "bad status": GOLDEN_RESPONSE.replace(b"200 OK", b"999 Huh"),
    "bad uri": GOLDEN_MESSAGE.replace(b"sip:bob@example.net SIP", b"sip:bob@@ SIP"),
    "no colon": GOLDEN_MESSAGE.replace(b"Max-Forwards: 70", b"Max-Forwards 70"),
    "bare LF": GOLDEN_MESSAGE.replace(b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\n"),
    "non utf8": GOLDEN_MESSAGE.replace(b"Alice", b"Al\xffce"),
    "no call-id": GOLDEN_MESSAGE.replace(b"Call-ID: a84b4c76e66710@127.0.0.1\r\n", b""),
    "two call-ids": GOLDEN_MESSAGE.replace(b"CSeq", b"Call-ID: x\r\nCSeq"),
    "bad cseq": GOLDEN_MESSAGE.replace(b"1 MESSAGE", b"one MESSAGE"),
    "bad via": GOLDEN_MESSAGE.replace(b"SIP/2.0/TCP 127.0.0.1", b"TCP 127.0.0.1"),
    "bad from": GOLDEN_MESSAGE.replace(b'"Alice" <sip:alice@example.net>', b"<sip:alice"),
    "bad length": GOLDEN_MESSAGE.replace(b"Content-Length: 5", b"Content-Length: five"),
    "conflicting lengths": GOLDEN_MESSAGE.replace(
        b"Content-Length: 5", b"l: 4\r\nContent-Length: 5"
    ),
    "huge max-forwards": GOLDEN_MESSAGE.replace(b"Max-Forwards: 70", b"Max-Forwards: 7000"),
    "leading fold": GOLDEN_MESSAGE.replace(b"SIP/2.0\r\nVia", b"SIP/2.0\r\n Via", 1),
    "empty": b"",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_raises_codec_error_only(case):
    with pytest.raises(CodecError) as info:
        SipMessage.parse(BAD[case])
    assert info.value.what and info.value.detail
    if case == "bad from":
        assert info.value.what == "From header"
    assert isinstance(info.value, ValueError)
