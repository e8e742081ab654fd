"""Self-tests for cpmconf.codec.framing: stream framing and datagram frames."""

from __future__ import annotations

import pytest

from cpmconf.codec.errors import CodecError
from cpmconf.codec.framing import Frame, SipStreamFramer, datagram_frame, is_keepalive
from cpmconf.codec.sip import SipMessage, build_message

BASE = [
    ("Via", "SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1"),
    ("From", "<sip:alice@example.net>;tag=1"),
    ("To", "<sip:bob@example.net>"),
    ("Call-ID", "c1"),
    ("CSeq", "1 MESSAGE"),
]


def msg(body: bytes, compact: bool = False) -> bytes:
    raw = build_message("MESSAGE sip:bob@example.net SIP/2.0", BASE, body)
    if compact:
        raw = raw.replace(b"Content-Length:", b"l:")
    return raw


M1, M2, M3 = msg(b"one"), msg(b""), msg(b"three\r\n\r\nwith blank lines", compact=True)


def test_byte_by_byte():
    f = SipStreamFramer()
    frames: list[Frame] = []
    for i, b in enumerate(M1):
        got = f.feed(bytes([b]), float(i))
        if i < len(M1) - 1:
            assert got == [] and f.pending() == i + 1
        frames += got
    assert frames == [Frame(time=float(len(M1) - 1), raw=M1)]
    assert f.pending() == 0 and not f.broken
    assert SipMessage.parse(frames[0].raw).body == b"one"


def test_three_messages_in_one_feed_with_keepalives():
    f = SipStreamFramer()
    data = b"\r\n\r\n" + M1 + b"\r\n" + M2 + b"\r\n\r\n" + M3 + b"\r\n\r\n"
    frames = f.feed(data, 7.5)
    assert [fr.raw for fr in frames] == [M1, M2, M3]
    assert all(fr.time == 7.5 for fr in frames)
    assert f.pending() == 0


def test_split_across_feeds_keeps_remainder():
    f = SipStreamFramer()
    data = M1 + M2
    assert f.feed(data[: len(M1) + 10], 1.0) == [Frame(1.0, M1)]
    assert f.pending() == 10
    assert f.feed(data[len(M1) + 10 :], 2.0) == [Frame(2.0, M2)]


def test_only_keepalives():
    f = SipStreamFramer()
    assert f.feed(b"\r\n\r\n", 0.0) == [] and f.feed(b"\r", 0.0) == []
    assert f.feed(b"\n", 0.0) == [] and f.pending() == 0
    assert is_keepalive(b"\r\n\r\n") and not is_keepalive(M1) and not is_keepalive(b"")


def test_oversize_header_section():
    f = SipStreamFramer(max_size=64)
    with pytest.raises(CodecError, match="exceeds"):
        f.feed(b"MESSAGE sip:a@b SIP/2.0\r\n" + b"X: " + b"y" * 100, 0.0)
    assert f.broken
    with pytest.raises(CodecError, match="broken"):
        f.feed(b"", 0.0)


def test_oversize_declared_body_rejected_before_it_arrives():
    f = SipStreamFramer(max_size=1000)
    head = M1.split(b"\r\n\r\n")[0].replace(b"Content-Length: 3", b"Content-Length: 5000")
    with pytest.raises(CodecError, match="5"):
        f.feed(head + b"\r\n\r\n", 0.0)
    assert f.broken


@pytest.mark.parametrize(
    "data",
    [
        b"\x16\x03\x01\x02\x00",  # a TLS ClientHello on a plain TCP port
        b"GET / HTTP/1.1\r\n",
        b"\n",
        b"hello world\r\n\r\n",
        M1.replace(b"Content-Length: 3\r\n", b""),  # no Content-Length on a stream
        M1.replace(b"Content-Length: 3", b"Content-Length: x"),
        M1.replace(b"Content-Length: 3", b"Content-Length: 3\r\nl: 4"),
        M1.replace(b"Alice", b"\xff").replace(b"alice", b"\xffalice"),
    ],
)
def test_garbage(data):
    f = SipStreamFramer()
    with pytest.raises(CodecError):
        f.feed(data, 0.0)
    assert f.broken


def test_overlong_start_line():
    f = SipStreamFramer()
    with pytest.raises(CodecError, match="too long"):
        f.feed(b"MESSAGE " + b"a" * 9000, 0.0)


def test_datagram_frame():
    assert datagram_frame(M1, 3.0) == Frame(time=3.0, raw=M1)
    assert datagram_frame(bytearray(M2), 1.0).raw == M2
    with pytest.raises(CodecError):
        datagram_frame("text", 0.0)  # type: ignore[arg-type]
