"""Self-tests for cpmconf.codec.msrp: URIs, messages, stream framing, chunking, reassembly."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpmconf.codec.errors import CodecError, FramingError
from cpmconf.codec.framing import Frame
from cpmconf.codec.msrp import (
    ByteRange,
    MsrpFrame,
    MsrpMessage,
    MsrpStreamFramer,
    MsrpUri,
    Reassembler,
    ReportStatus,
    build_report,
    build_request,
    build_response,
    chunk,
    is_ident,
    new_ident,
)

FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

BOB = "msrp://bob.example.com:8888/9di4eae923wzd;tcp"
ALICE = "msrp://alicepc.example.com:7654/iau39soe2843z;tcp"
RELAY = "msrps://relay.example.net:2855/kjfjan;tcp"

GOLDEN_SEND = (
    b"MSRP a786hjs2 SEND\r\n"
    b"To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
    b"From-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp\r\n"
    b"Message-ID: 87652491\r\n"
    b"Byte-Range: 1-23/23\r\n"
    b"Success-Report: yes\r\n"
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"Hey Bob, are you there?\r\n"
    b"-------a786hjs2$\r\n"
)
GOLDEN_OK = (
    b"MSRP a786hjs2 200 OK\r\n"
    b"To-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp\r\n"
    b"From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
    b"-------a786hjs2$\r\n"
)
GOLDEN_REPORT = (
    b"MSRP dkei38sd REPORT\r\n"
    b"To-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp\r\n"
    b"From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
    b"Message-ID: 87652491\r\n"
    b"Byte-Range: 1-23/23\r\n"
    b"Status: 000 200 OK\r\n"
    b"-------dkei38sd$\r\n"
)
# RFC 6135 / RFC 4975 7.1: a SEND without a body binds the connection to the session.
EMPTY_SEND = (
    b"MSRP 5b9a1f02 SEND\r\n"
    b"To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
    b"From-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp\r\n"
    b"Message-ID: 1ab2c3d4\r\n"
    b"Byte-Range: 1-0/0\r\n"
    b"-------5b9a1f02$\r\n"
)


def send(body: bytes = b"hello", tid: str = "tid12345", **kw) -> bytes:
    kw.setdefault("message_id", "m1234")
    kw.setdefault("content_type", "text/plain" if body else None)
    return bytes(build_request(tid, "SEND", BOB, ALICE, body=body, **kw))


# ------------------------------------------------------------------ messages


def test_golden_send_round_trip():
    m = MsrpMessage.parse(GOLDEN_SEND)
    assert bytes(m) == GOLDEN_SEND and str(m) == GOLDEN_SEND.decode()
    assert (m.transaction_id, m.method, m.status, m.comment) == ("a786hjs2", "SEND", None, None)
    assert m.is_request and not m.is_response and m.paths_first
    assert m.body == b"Hey Bob, are you there?" and m.continuation == "$"
    assert m.to_path() == [MsrpUri.parse(BOB)] and m.from_path() == [MsrpUri.parse(ALICE)]
    assert m.message_id == "87652491"
    assert m.byte_range() == (1, 23, 23) and str(m.byte_range()) == "1-23/23"
    assert m.success_report is True and m.failure_report is None
    assert m.content_type == "text/plain"
    assert m.start_line == "MSRP a786hjs2 SEND" and m.end_line == "-------a786hjs2$"
    assert m.summary() == "SEND a786hjs2 $"
    built = build_request(
        "a786hjs2",
        "SEND",
        BOB,
        ALICE,
        message_id="87652491",
        byte_range=(1, 23, 23),
        content_type="text/plain",
        body=b"Hey Bob, are you there?",
        extra=[("Success-Report", "yes")],
    )
    assert bytes(built) == GOLDEN_SEND and built == m


def test_golden_response_round_trip():
    m = MsrpMessage.parse(GOLDEN_OK)
    assert bytes(m) == GOLDEN_OK
    assert (m.method, m.status, m.comment, m.body) == (None, 200, "OK", b"")
    assert m.is_response and m.summary() == "200 OK a786hjs2"
    request = MsrpMessage.parse(GOLDEN_SEND)
    assert bytes(build_response(request, 200)) == GOLDEN_OK
    assert bytes(build_response(request, 200, "OK", own_uri=BOB)) == GOLDEN_OK


def test_golden_report_round_trip():
    m = MsrpMessage.parse(GOLDEN_REPORT)
    assert bytes(m) == GOLDEN_REPORT and m.method == "REPORT"
    assert m.report_status() == ReportStatus("000", 200, "OK")
    assert str(m.report_status()) == "000 200 OK"
    assert bytes(build_report(MsrpMessage.parse(GOLDEN_SEND), "dkei38sd")) == GOLDEN_REPORT


def test_response_goes_back_one_hop_through_a_relay():
    req = build_request(
        "tidrelay1",
        "SEND",
        [BOB],
        [RELAY, ALICE],
        message_id="m1",
        content_type="text/plain",
        body=b"x",
    )
    resp = build_response(req, 403)
    assert resp.to_path() == [MsrpUri.parse(RELAY)]
    assert resp.from_path() == [MsrpUri.parse(BOB)]
    assert (resp.status, resp.comment) == (403, "Forbidden")
    assert build_response(req, 299).comment is None  # no standard phrase: no comment
    assert MsrpMessage.parse(bytes(build_response(req, 299))).start_line == "MSRP tidrelay1 299"
    report = build_report(req, "tidrep01", 413, own_uri=BOB)
    assert report.to_path() == [MsrpUri.parse(RELAY), MsrpUri.parse(ALICE)]
    assert report.report_status() == ("000", 413, "Stop sending message")


def test_builders_refuse_what_must_not_be_sent():
    report = MsrpMessage.parse(GOLDEN_REPORT)
    with pytest.raises(CodecError, match="REPORT"):
        build_response(report, 200)
    with pytest.raises(CodecError):
        build_response(MsrpMessage.parse(GOLDEN_OK), 200)
    with pytest.raises(CodecError):
        build_report(report, "abcd1234")
    bad = [
        {"tid": "ab"},  # too short for an ident
        {"tid": "a" * 33},
        {"method": "send"},
        {"flag": "!"},
        {"body": b"x", "content_type": None},
        {"body": "text"},
        {"byte_range": (0, 1, 1)},
        {"byte_range": (1, 2)},
        {"extra": [("X-Bad", "a\r\nb")]},
        {"extra": [("Bad Name", "v")]},
        {"to_path": "sip:bob@example.com"},
        {"body": b"a\r\n-------tid12345$\r\nb", "content_type": "text/plain"},
        {"body": b"-------tid12345#\r\n", "content_type": "text/plain"},
    ]
    for kw in bad:
        args = {"tid": "tid12345", "method": "SEND", "to_path": BOB, "from_path": ALICE, **kw}
        with pytest.raises(CodecError):
            build_request(**args)


def test_empty_send_binds_connection():
    m = MsrpMessage.parse(EMPTY_SEND)
    assert m.body == b"" and m.content_type is None and m.byte_range() == (1, 0, 0)
    assert bytes(m) == EMPTY_SEND
    built = build_request("5b9a1f02", "SEND", BOB, ALICE, message_id="1ab2c3d4", byte_range="1-0/0")
    assert bytes(built) == EMPTY_SEND


def test_content_type_with_empty_content():
    m = MsrpMessage.parse(send(b"", content_type="text/plain"))
    assert m.body == b"" and m.content_type == "text/plain"
    assert bytes(m).endswith(b"Content-Type: text/plain\r\n\r\n\r\n-------tid12345$\r\n")


def test_body_may_hold_dashes_and_blank_lines():
    body = b"\r\n\r\n-------\r\n-------tid12345\r\n-------tid12345x\r\n-------other$\r\nend\r\n"
    m = MsrpMessage.parse(send(body))
    assert m.body == body


def test_byte_range_forms():
    assert ByteRange.parse("1-*/*") == (1, None, None)
    assert ByteRange.parse("5-9/*") == ByteRange(5, 9, None)
    assert ByteRange.parse("11-*/20") == (11, None, 20)
    for bad in ("0-1/1", "3-1/5", "1-9/5", "7-*/5", "1-2", "a-b/c", "1 - 2/3", "-1-2/3"):
        with pytest.raises(CodecError):
            ByteRange.parse(bad)
    assert MsrpMessage.parse(send(b"x", byte_range="1-*/*")).byte_range() == (1, None, None)
    assert MsrpMessage.parse(send(b"x")).byte_range() is None


def test_report_flags():
    m = MsrpMessage.parse(send(extra=[("Success-Report", "no"), ("Failure-Report", "Partial")]))
    assert m.success_report is False and m.failure_report == "partial"
    m = MsrpMessage.parse(send(extra=[("Success-Report", "maybe"), ("Failure-Report", "never")]))
    with pytest.raises(CodecError):
        m.success_report  # noqa: B018
    with pytest.raises(CodecError):
        m.failure_report  # noqa: B018
    with pytest.raises(CodecError):
        MsrpMessage.parse(send(extra=[("Status", "200 OK")])).report_status()


def test_end_line_tid_mismatch_rejected():
    with pytest.raises(CodecError, match="does not match"):
        MsrpMessage.parse(GOLDEN_SEND.replace(b"-------a786hjs2$", b"-------a786hjs3$"))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"MSRP a786hjs2 SEND\r\n",
        GOLDEN_SEND[:-2],  # no CRLF after the end-line
        GOLDEN_SEND.replace(b"$\r\n", b"!\r\n"),
        GOLDEN_SEND.replace(b"MSRP a786hjs2", b"msrp a786hjs2"),
        GOLDEN_SEND.replace(b"a786hjs2", b"a7"),  # ident too short
        GOLDEN_SEND.replace(b" SEND", b" Send"),
        GOLDEN_OK.replace(b" 200 OK", b" 20 OK"),
        GOLDEN_SEND.replace(b"To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n", b""),
        GOLDEN_SEND.replace(b"From-Path:", b"From-Path: " + ALICE.encode() + b"\r\nFrom-Path:"),
        GOLDEN_SEND.replace(b"To-Path: msrp://bob", b"To-Path: sip://bob"),
        GOLDEN_SEND.replace(b";tcp\r\nFrom", b"\r\nFrom"),  # URI without transport
        GOLDEN_SEND.replace(b"Byte-Range: 1-23/23", b"Byte-Range: 1-23"),
        GOLDEN_SEND.replace(b"Content-Type: text/plain\r\n", b""),  # body, no Content-Type
        EMPTY_SEND.replace(b"Byte-Range", b"Content-Type: text/plain\r\nByte-Range"),
        GOLDEN_OK.replace(b"\r\n-------", b"\r\nContent-Type: text/plain\r\n\r\nx\r\n-------"),
        GOLDEN_SEND.replace(b"there?\r\n", b"there?"),  # no CRLF before the end-line
        GOLDEN_SEND.replace(b"Message-ID", b" Message-ID"),
        GOLDEN_SEND.replace(b"Message-ID:", b"Message-ID"),
        GOLDEN_SEND.replace(b"Message-ID", b"Message\rID"),
        GOLDEN_SEND.replace(b"87652491", b"\xff\xfe"),
        GOLDEN_SEND.replace(b"Bob, are", b"Bob\r\n-------a786hjs2+\r\nare"),
        b"MSRP a786hjs2 SEND\r\n-------a786hjs2$\r\n",
        b"\x16\x03\x01\x02\x00\r\n",
    ],
)
def test_garbage_rejected(data):
    with pytest.raises(CodecError):
        MsrpMessage.parse(data)


def test_parse_type_checks():
    with pytest.raises(CodecError):
        MsrpMessage.parse("MSRP text")  # type: ignore[arg-type]
    assert MsrpMessage.parse(bytearray(GOLDEN_OK)).raw == GOLDEN_OK


# ------------------------------------------------------------------ URIs


def test_uri_parts():
    u = MsrpUri.parse("msrp://127.0.0.1:2855/abcd;tcp")
    assert (u.scheme, u.host, u.port, u.session_id, u.transport) == (
        "msrp",
        "127.0.0.1",
        2855,
        "abcd",
        "tcp",
    )
    assert str(u) == "msrp://127.0.0.1:2855/abcd;tcp" and not u.secure
    u = MsrpUri.parse("MSRPS://alice@[2001:db8::1]:9/s+=/x;tls;foo=bar;baz")
    assert (u.userinfo, u.host, u.port, u.session_id, u.transport) == (
        "alice",
        "2001:db8::1",
        9,
        "s+=/x",
        "tls",
    )
    assert u.params == ("foo=bar", "baz") and u.secure
    u = MsrpUri.parse("msrp://relay.example.net;tcp")
    assert u.port is None and u.session_id is None
    assert MsrpUri.build("::1", 2855, "abc") == MsrpUri.parse("msrp://[::1]:2855/abc;tcp")
    assert str(MsrpUri.build("h", None, None, secure=True)) == "msrps://h;tcp"


def test_uri_comparison_rfc4975_6_1():
    base = MsrpUri.parse("msrp://Example.COM:2855/abcd;tcp")
    same = [
        "MSRP://example.com:2855/abcd;TCP",
        "msrp://user@example.com:2855/abcd;tcp",  # userinfo not compared
        "msrp://example.com:2855/abcd;tcp;extra=1",  # other parameters not compared
    ]
    different = [
        "msrps://example.com:2855/abcd;tcp",
        "msrp://example.org:2855/abcd;tcp",
        "msrp://example.com:2856/abcd;tcp",
        "msrp://example.com/abcd;tcp",  # an explicit port never equals an absent one
        "msrp://example.com:2855/ABCD;tcp",  # session id is case-sensitive
        "msrp://example.com:2855;tcp",
        "msrp://example.com:2855/abcd;sctp",
    ]
    for text in same:
        assert MsrpUri.parse(text) == base and hash(MsrpUri.parse(text)) == hash(base)
    for text in different:
        assert MsrpUri.parse(text) != base
    assert MsrpUri.parse("msrp://[2001:db8:0::1]:1/a;tcp") == MsrpUri.parse(
        "msrp://[2001:DB8::1]:1/a;tcp"
    )
    assert base != "msrp://example.com:2855/abcd;tcp"
    assert len({base, *(MsrpUri.parse(t) for t in same)}) == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sip:alice@example.com",
        "msrp://h:2855/abc",  # no transport
        "msrp://h:99999/abc;tcp",
        "msrp://[zz::1]:1/a;tcp",
        "msrp://h:1/a b;tcp",
        "msrp://h:1/a;tcp;",
        "msrp:/h:1/a;tcp",
        "http://h:1/a;tcp",
    ],
)
def test_bad_uris(text):
    with pytest.raises(CodecError):
        MsrpUri.parse(text)


def test_idents():
    tid = new_ident()
    assert is_ident(tid) and len(tid) == 16 and tid != new_ident()
    assert (
        is_ident("a786hjs2") and not is_ident("abc") and not is_ident("_abc1") and not is_ident(3)
    )
    with pytest.raises(CodecError):
        new_ident(3)


# ------------------------------------------------------------------ framing

M1, M2, M3 = GOLDEN_SEND, GOLDEN_OK, EMPTY_SEND


def test_framer_byte_by_byte():
    f = MsrpStreamFramer()
    frames: list[MsrpFrame] = []
    for i, b in enumerate(M1):
        got = f.feed(bytes([b]), float(i))
        if i < len(M1) - 1:
            assert got == [] and f.pending() == i + 1
        frames += got
    assert frames == [MsrpFrame(time=float(len(M1) - 1), raw=M1)]
    assert isinstance(frames[0], Frame)
    assert f.pending() == 0 and not f.broken


def test_framer_three_messages_in_one_feed():
    f = MsrpStreamFramer()
    frames = f.feed(M1 + M2 + M3, 2.5)
    assert [fr.raw for fr in frames] == [M1, M2, M3] and all(fr.time == 2.5 for fr in frames)
    assert [MsrpMessage.parse(fr.raw).transaction_id for fr in frames] == [
        "a786hjs2",
        "a786hjs2",
        "5b9a1f02",
    ]


def test_framer_keeps_remainder_across_feeds():
    f = MsrpStreamFramer()
    data = M1 + M2
    assert f.feed(data[: len(M1) + 10], 1.0) == [MsrpFrame(1.0, M1)]
    assert f.pending() == 10
    assert f.feed(data[len(M1) + 10 :], 2.0) == [MsrpFrame(2.0, M2)]


def test_framer_body_with_dashes_that_are_not_the_end_line():
    body = b"-------tid12345\r\n-------tid12345x\r\n-------tid1234$\r\n--------tid12345$\r\nz"
    raw = send(body)
    for step in (1, 7, len(raw)):
        f = MsrpStreamFramer()
        got = []
        for i in range(0, len(raw), step):
            got += f.feed(raw[i : i + step], 0.0)
        assert [fr.raw for fr in got] == [raw]
        assert MsrpMessage.parse(got[0].raw).body == body


def test_framer_end_line_split_at_every_point():
    raw = send(b"payload")
    for cut in range(len(raw) + 1):
        f = MsrpStreamFramer()
        got = f.feed(raw[:cut], 0.0) + f.feed(raw[cut:], 1.0)
        assert [fr.raw for fr in got] == [raw], cut


@pytest.mark.parametrize(
    "data",
    [
        b"\x16\x03\x01\x02\x00",  # TLS on a plain TCP connection
        b"GET / HTTP/1.1\r\n",
        b"\r\n",
        b"MSRP ab SEND\r\n",
        b"MSRP abcd send\r\n",
        b"MSRP " + b"a" * 40,
    ],
)
def test_framer_garbage(data):
    f = MsrpStreamFramer()
    with pytest.raises(CodecError):
        f.feed(data, 0.0)
    assert f.broken
    with pytest.raises(CodecError, match="broken"):
        f.feed(b"", 0.0)


def test_framer_oversize_and_long_start_line():
    f = MsrpStreamFramer(max_size=200)
    with pytest.raises(CodecError, match="exceeds"):
        f.feed(send(b"x" * 300), 0.0)
    f = MsrpStreamFramer(max_size=200)
    with pytest.raises(CodecError, match="exceeds"):
        f.feed(send(b"x" * 300)[:-20], 0.0)  # no end-line yet, already too big
    f = MsrpStreamFramer()
    with pytest.raises(CodecError, match="too long"):
        f.feed(b"MSRP abcd 200 " + b"x" * 5000, 0.0)
    with pytest.raises(ValueError):
        MsrpStreamFramer(max_size=0)


def test_framer_error_keeps_completed_frames():
    f = MsrpStreamFramer()
    with pytest.raises(FramingError) as info:
        f.feed(M1 + M2 + b"GARBAGE\r\n", 1.0)
    assert [fr.raw for fr in info.value.frames] == [M1, M2] and f.broken


# ------------------------------------------------------------------ chunking and reassembly


def reassemble(msgs, rng=None, duplicates=0) -> Reassembler:
    msgs = list(msgs)
    if rng is not None:
        msgs += [rng.choice(msgs) for _ in range(duplicates)]
        rng.shuffle(msgs)
    r = Reassembler()
    for m in msgs:
        r.feed(m)
    return r


def chunks(body, size, **kw):
    return list(chunk(body, size, to_path=BOB, from_path=ALICE, message_id="msg0001", **kw))


@pytest.mark.parametrize("size", [1, 1301, 1024 * 1024])
def test_chunk_and_reassemble_round_trip(size):
    rng = random.Random(size)
    body = rng.randbytes(size)
    sizes = [rng.randint(1, max(1, size // 3)) for _ in range(40)]
    msgs = chunks(body, sizes)
    assert [m.continuation for m in msgs] == ["+"] * (len(msgs) - 1) + ["$"]
    pos = 0
    for m in msgs:
        assert m.byte_range() == (pos + 1, pos + len(m.body), size)
        assert m.message_id == "msg0001" and m.content_type == "message/cpim"
        pos += len(m.body)
    assert pos == size
    r = reassemble(msgs, rng, duplicates=3)
    assert r.complete and r.message() == body and r.gaps() == []
    assert r.received() == [(1, size)] and r.total == size and r.duplicates >= 1

    # The same chunks through the stream framer, cut at random points.
    stream = b"".join(bytes(m) for m in msgs)
    f = MsrpStreamFramer()
    got, pos = [], 0
    while pos < len(stream):
        step = rng.randint(1, 70000)
        got += f.feed(stream[pos : pos + step], 0.0)
        pos += step
    assert [MsrpMessage.parse(fr.raw) for fr in got] == msgs


def test_fixed_chunk_size_and_unknown_total():
    msgs = chunks(
        b"abcdefghij", 4, total_known=False, transaction_ids=["t0000001", "t0000002", "t0000003"]
    )
    assert [str(m.byte_range()) for m in msgs] == ["1-4/*", "5-8/*", "9-10/*"]
    assert [m.transaction_id for m in msgs] == ["t0000001", "t0000002", "t0000003"]
    r = Reassembler("msg0001")
    for m in reversed(msgs):
        r.feed(m)
    assert r.complete and r.message() == b"abcdefghij" and r.total == 10
    with pytest.raises(CodecError, match="ran out"):
        chunks(b"abcdefghij", 4, transaction_ids=["t0000001"])
    with pytest.raises(CodecError):
        chunks(b"abc", 0)


def test_empty_message_is_one_bodyless_send():
    (m,) = chunks(b"", 100)
    assert m.body == b"" and m.content_type is None and m.byte_range() == (1, 0, 0)
    r = reassemble([m])
    assert r.complete and r.message() == b""


def test_utf8_character_split_across_chunks():
    text = "héllo wörld ☃ 𝄞 end"
    body = text.encode("utf-8")
    cut = body.index("☃".encode()) + 1  # inside the three-byte snowman
    msgs = chunks(body, [cut, 3, 2])  # later cuts fall inside 𝄞 (four bytes) as well
    assert any(_splits_utf8(m.body) for m in msgs)
    r = reassemble(msgs, random.Random(1))
    assert r.message().decode("utf-8") == text


def _splits_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def test_gaps_and_incomplete():
    msgs = chunks(bytes(range(100)), 10)
    r = Reassembler()
    for m in msgs[:3] + msgs[5:]:
        r.feed(m)
    assert not r.complete and r.gaps() == [(31, 50)]
    with pytest.raises(CodecError, match="gaps"):
        r.message()
    r.feed(msgs[4])
    r.feed(msgs[3])
    assert r.complete and r.message() == bytes(range(100))
    r = Reassembler()
    r.feed(msgs[1])
    assert r.gaps() == [(1, 10), (21, 100)]
    r = Reassembler()
    assert r.gaps() == [(1, None)]
    r.feed(chunks(b"abcdef", 3, total_known=False)[0])
    assert r.gaps() == [(4, None)] and not r.complete
    with pytest.raises(CodecError, match="final"):
        r.message()


def piece(tid, byte_range, body, flag, message_id="msg0001"):
    return build_request(
        tid,
        "SEND",
        BOB,
        ALICE,
        message_id=message_id,
        byte_range=byte_range,
        content_type="text/plain",
        body=body,
        flag=flag,
    )


def test_interrupted_chunk_then_continuation():
    body = b"0123456789" * 5
    # RFC 4975 7.1.1: the sender starts a chunk as 1-*/50 and interrupts it after 17 bytes
    # ('+'); the next one announced 18-50 but was interrupted after 13; the last completes.
    first = piece("int00001", (1, None, 50), body[:17], "+")
    second = piece("int00002", (18, 50, 50), body[17:30], "+")
    last = piece("int00003", (31, 50, 50), body[30:], "$")
    r = Reassembler()
    for m in (first, last, second):
        r.feed(m)
    assert r.complete and r.message() == body and r.interrupted == 1
    assert r.chunks == 3 and r.duplicates == 0


def test_aborted_message():
    msgs = chunks(b"x" * 30, 10)
    abort = piece("abrt0001", (11, 20, 30), b"x" * 4, "#")
    r = Reassembler()
    for m in (msgs[0], abort, msgs[2]):
        r.feed(m)
    assert r.aborted and not r.complete and r.gaps() == [(15, 20)]
    with pytest.raises(CodecError, match="aborted"):
        r.message()
    r.feed(msgs[1])
    assert not r.complete


def test_rejected_chunk_leaves_state_unchanged():
    r = Reassembler()
    r.feed(piece("good0001", (1, 5, 10), b"abcde", "+"))
    with pytest.raises(CodecError):
        r.feed(piece("bad00001", (6, 10, 99), b"fghij", "$"))
    assert (r.total, r.chunks, r.received()) == (10, 1, [(1, 5)])
    r.feed(piece("good0002", (6, 10, 10), b"fghij", "$"))
    assert r.message() == b"abcdefghij"


@pytest.mark.parametrize(
    "second",
    [
        {"message_id": "other"},
        {"byte_range": (1, 5, 99)},  # total changed
        {"byte_range": (1, 9, 10)},  # '$' chunk whose end disagrees with its bytes
        {"body": b"ABCDE"},  # overlapping bytes that differ
        {"byte_range": (8, 12, 10)},  # runs past the total
    ],
)
def test_inconsistent_chunks_rejected(second):
    base = {
        "message_id": "m1",
        "byte_range": (1, 5, 10),
        "content_type": "text/plain",
        "body": b"abcde",
    }
    r = Reassembler()
    r.feed(build_request("cnk00001", "SEND", BOB, ALICE, flag="+", **base))
    args = {**base, **second}
    with pytest.raises(CodecError):
        r.feed(build_request("cnk00002", "SEND", BOB, ALICE, flag="$", **args))


def test_reassembler_rejects_non_send_and_oversize():
    r = Reassembler(max_size=10)
    with pytest.raises(CodecError):
        r.feed(MsrpMessage.parse(GOLDEN_REPORT))
    with pytest.raises(CodecError):
        r.feed(MsrpMessage.parse(send(b"x", message_id=None)))
    with pytest.raises(CodecError, match="larger"):
        r.feed(MsrpMessage.parse(send(b"x" * 11, byte_range=(1, 11, 11))))
    with pytest.raises(CodecError, match="larger"):
        r.feed(MsrpMessage.parse(send(b"x", byte_range=(1, 1, 10**12))))


# ------------------------------------------------------------------ properties

bodies = st.binary(max_size=200) | st.sampled_from(
    [
        b"",
        b"\r\n",
        b"-------",
        b"\r\n-------tid12345",
        b"-------tid12345x\r\n",
        b"MSRP abcd SEND\r\n",
    ]
)


@st.composite
def streams(draw):
    msgs = []
    for i, body in enumerate(draw(st.lists(bodies, min_size=1, max_size=4))):
        try:
            msgs.append(send(body, tid=f"tid{i}2345", byte_range=(1, len(body), len(body))))
        except CodecError:
            continue  # the drawn body contained its own end-line
    stream = b"".join(msgs)
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    return msgs, stream, cuts


@FAST
@given(streams())
def test_framing_independent_of_cut_points(case):
    msgs, stream, cuts = case
    f = MsrpStreamFramer()
    got, prev = [], 0
    for cut in [*cuts, len(stream)]:
        got += [fr.raw for fr in f.feed(stream[prev:cut], 0.0)]
        prev = cut
    assert got == msgs and f.pending() == 0
    for raw in got:
        assert bytes(MsrpMessage.parse(raw)) == raw


@FAST
@given(
    st.lists(
        st.binary(max_size=200) | st.sampled_from([M1, M2, b"MSRP abcd ", b"\r\n"]), max_size=6
    )
)
def test_framer_only_codec_error_on_garbage(chunks_):
    f = MsrpStreamFramer(max_size=512)
    try:
        for c in chunks_:
            for fr in f.feed(c, 0.0):
                try:
                    MsrpMessage.parse(fr.raw)
                except CodecError:
                    pass
            assert f.pending() <= 512 + 200
    except CodecError:
        assert f.broken


@FAST
@given(st.data())
def test_parse_mutations_only_codec_error(data):
    raw = data.draw(st.sampled_from([GOLDEN_SEND, GOLDEN_OK, GOLDEN_REPORT, EMPTY_SEND]))
    pos = data.draw(st.integers(0, len(raw) - 1))
    junk = data.draw(st.binary(max_size=4) | st.sampled_from([b"\r\n", b"-", b":", b"$", b" "]))
    mutated = raw[:pos] + junk + raw[pos + data.draw(st.integers(0, 3)) :]
    try:
        m = MsrpMessage.parse(mutated)
    except CodecError:
        return
    assert bytes(m) == mutated
    m.to_path(), m.from_path(), m.byte_range(), m.summary(), m.content_type  # noqa: B018
    for prop in ("success_report", "failure_report"):
        try:
            getattr(m, prop)
        except CodecError:
            pass


@FAST
@given(
    st.text(max_size=60)
    | st.from_regex(r"msrps?://[a-z0-9.:\[\]@]{0,20}(/[a-z=+/]{0,8})?;[a-z]{0,4}", fullmatch=True)
)
def test_uri_parse_only_codec_error(text):
    try:
        u = MsrpUri.parse(text)
    except CodecError:
        return
    assert str(u) == text and u == MsrpUri.parse(text)


@FAST
@given(st.binary(max_size=300), st.lists(st.integers(1, 64), min_size=1, max_size=10), st.randoms())
def test_reassembly_any_order(body, sizes, rnd):
    msgs = chunks(body, sizes)
    rnd.shuffle(msgs)
    r = reassemble(msgs)
    assert r.complete and r.message() == body


def test_framer_start_line_bounded_by_max_size():
    f = MsrpStreamFramer(max_size=100)
    with pytest.raises(CodecError, match="too long"):
        f.feed(b"MSRP abcd 200 " + b"x" * 200, 0.0)
