"""Self-tests for cpmconf.codec.cpim: message/cpim parse, build and round trip."""

from __future__ import annotations

import datetime

import pytest

from cpmconf.codec.cpim import IMDN_NS, CpimAddress, CpimMessage
from cpmconf.codec.errors import CodecError

CPIM_HEADERS = [
    ("From", "<sip:alice@example.net>"),
    ("To", "<sip:bob@example.net>"),
    ("DateTime", "2024-05-06T07:08:09.000Z"),
    ("NS", "imdn <urn:ietf:params:imdn>"),
    ("imdn.Message-ID", "Ms7a8FJ2"),
    ("imdn.Disposition-Notification", "positive-delivery, display"),
]

GOLDEN = (
    b"From: <sip:alice@example.net>\r\n"
    b"To: <sip:bob@example.net>\r\n"
    b"DateTime: 2024-05-06T07:08:09.000Z\r\n"
    b"NS: imdn <urn:ietf:params:imdn>\r\n"
    b"imdn.Message-ID: Ms7a8FJ2\r\n"
    b"imdn.Disposition-Notification: positive-delivery, display\r\n"
    b"\r\n"
    b"Content-Type: text/plain;charset=UTF-8\r\n"
    b"Content-Length: 13\r\n"
    b"\r\n"
    b"Hello Bob \xe2\x98\xba"
)

# RFC 3862 style, with the outer MIME header, a custom prefix and a language parameter.
WITH_OUTER = (
    b"Content-Type: message/cpim\r\n"
    b"\r\n"
    b"From: MR SANDERS <im:piglet@100akerwood.com>\r\n"
    b"To: Depressed Donkey <im:eeyore@100akerwood.com>\r\n"
    b"To: <im:pooh@100akerwood.com>\r\n"
    b"DateTime: 2000-12-13T13:40:00-08:00\r\n"
    b"Subject: the weather will be fine today\r\n"
    b"Subject:;lang=fr beau temps prevu pour aujourd'hui\r\n"
    b"NS: MyImdn <urn:ietf:params:imdn>\r\n"
    b"MyImdn.Message-ID: abc\r\n"
    b"\r\n"
    b"Content-type: text/xml; charset=utf-8\r\n"
    b"Content-ID: <1234567890@foo.com>\r\n"
    b"\r\n"
    b"<body>\r\n\r\nHere is the text</body>\r\n"
)


def test_build_golden_and_round_trip():
    msg = CpimMessage.build(CPIM_HEADERS, "text/plain;charset=UTF-8", "Hello Bob ☺".encode())
    assert bytes(msg) == GOLDEN
    assert CpimMessage.parse(GOLDEN) == msg
    assert str(msg) == GOLDEN.decode()
    assert msg.outer_headers == ()
    assert msg.headers == tuple(CPIM_HEADERS)
    assert msg.content_type == "text/plain"
    assert msg.check_inner_length() is None
    assert msg.body == "Hello Bob ☺".encode()


def test_imdn_namespace_accessors():
    msg = CpimMessage.parse(GOLDEN)
    assert msg.namespaces() == {"imdn": IMDN_NS}
    assert msg.namespaced(IMDN_NS, "Message-ID") == "Ms7a8FJ2"
    assert msg.namespaced("imdn", "Message-ID") == "Ms7a8FJ2"  # by declared prefix too
    assert msg.imdn_message_id() == "Ms7a8FJ2"
    assert msg.disposition_notification() == ["positive-delivery", "display"]
    assert msg.namespaced("urn:example:other", "Message-ID") is None
    assert msg.header("imdn.message-id") == "Ms7a8FJ2"
    assert msg.header("imdn.message-id", exact=True) is None
    assert msg.from_address() == CpimAddress(None, "sip:alice@example.net")
    assert msg.date_time() == datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)


def test_outer_headers_custom_prefix_and_language_parameter():
    msg = CpimMessage.parse(WITH_OUTER)
    assert bytes(msg) == WITH_OUTER
    assert msg.outer_header("content-type") == "message/cpim"
    assert msg.header_values("Subject") == [
        "the weather will be fine today",
        "beau temps prevu pour aujourd'hui",
    ]
    assert msg.imdn_message_id() == "abc"  # resolved through "MyImdn"
    assert [a.name for a in msg.to_addresses()] == ["Depressed Donkey", None]
    assert msg.from_address().uri == "im:piglet@100akerwood.com"
    assert msg.mime_header("Content-ID") == "<1234567890@foo.com>"
    assert msg.content_type == "text/xml"
    assert msg.body == b"<body>\r\n\r\nHere is the text</body>\r\n"
    assert msg.date_time().utcoffset() == datetime.timedelta(hours=-8)


def test_inner_length_mismatch_reported():
    msg = CpimMessage.parse(GOLDEN + b"!")
    assert "13" in msg.check_inner_length()


def test_build_with_outer_header_and_disposition():
    msg = CpimMessage.build(
        [("From", "<sip:a@b>"), ("To", "<sip:c@d>")],
        "message/imdn+xml",
        b"<imdn/>",
        [("Content-Disposition", "notification")],
        outer_headers=[("Content-Type", "message/cpim")],
    )
    assert bytes(msg) == (
        b"Content-Type: message/cpim\r\n\r\n"
        b"From: <sip:a@b>\r\nTo: <sip:c@d>\r\n\r\n"
        b"Content-Type: message/imdn+xml\r\nContent-Disposition: notification\r\n"
        b"Content-Length: 7\r\n\r\n<imdn/>"
    )
    assert msg.mime_header("content-disposition") == "notification"


def test_build_refuses_line_breaks():
    with pytest.raises(CodecError):
        CpimMessage.build([("From", "<sip:a@b>\r\nTo: <x>")], "text/plain", b"")


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"From: <sip:a@b>\r\n",  # no end of the CPIM block
        b"From: <sip:a@b>\r\n\r\nContent-Type: text/plain\r\n",  # no end of the MIME block
        b"From <sip:a@b>\r\n\r\n\r\n",
        b"Fr om: <sip:a@b>\r\n\r\n\r\n",
        b"From: <sip:a@b>\r\n continued\r\n\r\n\r\n",
        b"From: \xff\r\n\r\n\r\n",
        b"From: <sip:a@b>\nTo: x\r\n\r\n\r\n",
    ],
)
def test_malformed(bad):
    with pytest.raises(CodecError):
        CpimMessage.parse(bad)


def test_bad_ns_and_datetime_and_address():
    msg = CpimMessage.parse(b"NS: imdn urn:x\r\nDateTime: yesterday\r\nFrom: alice\r\n\r\n\r\n")
    for call in (msg.namespaces, msg.imdn_message_id, msg.date_time, msg.from_address):
        with pytest.raises(CodecError):
            call()
