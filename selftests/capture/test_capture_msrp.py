"""MSRP in the capture: crafted segments, real loopback sessions, SDP following, pcaps, tshark."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from cpmconf.capture import (
    CaptureWindow,
    Record,
    Sniffer,
    SocketTapRecorder,
    TcpReassembler,
    bpf,
    detect_protocol,
    dialog_of,
    extract_records,
    msrp_targets,
    records_from_pcap,
    sdp_bodies,
    segment_of,
    tshark_decode_args,
)
from cpmconf.capture.tcp import SYN
from cpmconf.codec.msrp import Reassembler, build_request, build_response, chunk
from cpmconf.codec.sdp import SessionDescription, build_sdp
from cpmconf.codec.sip import SipMessage

from .conftest import needs_capture, run, sip_message, udp_socket, wait_for_frames

A = ("127.0.0.1", 40000)  # active MSRP endpoint (connects)
B = ("127.0.0.1", 2855)  # passive MSRP endpoint (listens)
SIP_A = ("127.0.0.1", 5070)
SIP_B = ("127.0.0.1", 5060)
ISN_A, ISN_B = 1000, 7000
BODY = b"".join(b"%03d," % i for i in range(100))  # 400 bytes, three 150-byte chunks
RANGES = ["1-0/0", "1-150/400", "151-300/400", "301-400/400"]


def uri(addr, session: str) -> str:
    return f"msrp://{addr[0]}:{addr[1]}/{session};tcp"


def msrp_exchange(a_uri: str, b_uri: str, tag: str = "x") -> tuple[list[bytes], list[bytes]]:
    """The binding empty SEND and three chunks of BODY (a -> b), and a 200 for each."""
    (bind,) = chunk(
        b"",
        1,
        to_path=b_uri,
        from_path=a_uri,
        message_id=f"bind{tag}001",
        transaction_ids=[f"tb{tag}00001"],
    )
    parts = list(
        chunk(
            BODY,
            150,
            to_path=b_uri,
            from_path=a_uri,
            message_id=f"msg{tag}0001",
            transaction_ids=[f"tc{tag}0000{i}" for i in range(1, 4)],
        )
    )
    sends = [bytes(m) for m in (bind, *parts)]
    oks = [bytes(build_response(m, 200)) for m in (bind, *parts)]
    return sends, oks


def sdp(addr, session: str, setup: str) -> bytes:
    return bytes(build_sdp(host=addr[0], path=uri(addr, session), setup=setup))


def sip_with_sdp(start: str, call_id: str, body: bytes, ctype="application/sdp", tag="") -> bytes:
    head = (
        f"{start}\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-msrp1\r\n"
        "From: <sip:alice@example.net>;tag=a1\r\n"
        f"To: <sip:bob@example.net>{tag}\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:alice@127.0.0.1:5070>\r\n"
        f"Content-Type: {ctype}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode() + body


def invite(call_id: str, body: bytes, **kw) -> bytes:
    return sip_with_sdp("INVITE sip:bob@example.net SIP/2.0", call_id, body, **kw)


def ok_200(call_id: str, body: bytes) -> bytes:
    return sip_with_sdp("SIP/2.0 200 OK", call_id, body, tag=";tag=b1")


# ----------------------------------------------------------------------------- crafted packets


def pkt(payload: bytes, seq: int, flags: str = "PA", src=A, dst=B, t: float = 1.0):
    p = (
        Ether()
        / IP(src=src[0], dst=dst[0])
        / TCP(sport=src[1], dport=dst[1], seq=seq & 0xFFFFFFFF, flags=flags)
        / payload
    )
    p.time = t
    return p


def udp(payload: bytes, src=SIP_A, dst=SIP_B, t: float = 1.0):
    p = Ether() / IP(src=src[0], dst=dst[0]) / UDP(sport=src[1], dport=dst[1]) / payload
    p.time = t
    return p


class Stream:
    """Sequence numbers of both directions of one crafted connection A -> B."""

    def __init__(self, a=A, b=B):
        self.a, self.b = a, b
        self.next = {a: ISN_A + 1, b: ISN_B + 1}

    def handshake(self):
        return [
            pkt(b"", ISN_A, "S", self.a, self.b),
            pkt(b"", ISN_B, "SA", self.b, self.a),
        ]

    def send(self, data: bytes, *, reply: bool = False, t: float = 1.0):
        src, dst = (self.b, self.a) if reply else (self.a, self.b)
        p = pkt(data, self.next[src], "PA", src, dst, t)
        self.next[src] += len(data)
        return p


def msrp_records(records: list[Record]) -> list[Record]:
    return [r for r in records if r.protocol == "MSRP"]


def byte_ranges(records: list[Record]) -> list[str]:
    return [
        str(r.message.byte_range())
        for r in records
        if r.protocol == "MSRP" and r.message is not None and r.message.method == "SEND"
    ]


def reassembled(records: list[Record], message_id: str) -> bytes:
    r = Reassembler(message_id)
    for rec in records:
        m = rec.message
        if rec.protocol == "MSRP" and m is not None and m.method == "SEND":
            if m.message_id == message_id:
                r.feed(m)
    return r.message()


def test_detect_protocol_on_first_bytes():
    assert detect_protocol(b"MSRP abcd SEND\r\n") == "MSRP"
    assert detect_protocol(b"MSR") is None and detect_protocol(b"M") is None
    assert detect_protocol(b"MESSAGE sip:x SIP/2.0") == "SIP"
    assert detect_protocol(b"\r\n\r\n") == "SIP"
    assert detect_protocol(b"garbage", previous="MSRP") == "MSRP"


def test_msrp_records_split_and_coalesced_segments():
    sends, oks = msrp_exchange(uri(A, "sessA"), uri(B, "sessB"))
    s = Stream()
    c1 = sends[1]
    pkts = [
        *s.handshake(),
        s.send(sends[0]),
        s.send(oks[0], reply=True),
        s.send(c1[:3]),  # inside the start line: "MSR" alone decides nothing yet
        s.send(c1[3:90]),
        s.send(c1[90:]),
        s.send(oks[1], reply=True),
        s.send(sends[2] + sends[3]),  # two SENDs in one segment
        s.send(oks[2] + oks[3], reply=True),
    ]
    recs = extract_records(pkts)
    assert [r.raw for r in recs] == [
        sends[0],
        oks[0],
        sends[1],
        oks[1],
        sends[2],
        sends[3],
        oks[2],
        oks[3],
    ]
    assert all(r.protocol == "MSRP" and r.error is None and r.is_msrp for r in recs)
    assert byte_ranges(recs) == RANGES
    assert [r.message.status for r in recs if r.message.status] == [200] * 4
    assert reassembled(recs, "msgx0001") == BODY
    assert "tcp MSRP 127.0.0.1:40000 -> 127.0.0.1:2855: SEND" in str(recs[0])


def test_msrp_out_of_order_and_retransmitted_segments():
    sends, oks = msrp_exchange(uri(A, "sessA"), uri(B, "sessB"))
    stream = b"".join(sends)
    cuts = [0, 7, 60, len(sends[0]) + 100, len(sends[0]) + len(sends[1]) + 5, 700, len(stream)]
    segs = [pkt(stream[a:b], ISN_A + 1 + a) for a, b in pairwise(cuts)]
    order = [segs[3], segs[0], segs[5], segs[2], segs[0], segs[4], segs[1], segs[3]]
    recs = extract_records([pkt(b"", ISN_A, "S"), *order])
    assert [r.raw for r in recs] == sends
    assert byte_ranges(recs) == RANGES and not [r for r in recs if r.error]


def test_sip_and_msrp_directions_are_classified_separately():
    sends, oks = msrp_exchange(uri(A, "sessA"), uri(B, "sessB"))
    sip_stream = Stream(("127.0.0.1", 41000), SIP_B)
    msrp_stream = Stream()
    m = sip_message(1)
    pkts = [
        *sip_stream.handshake(),
        *msrp_stream.handshake(),
        sip_stream.send(m[:1]),  # "M": could still be "MSRP "
        msrp_stream.send(sends[0][:2]),  # "MS"
        sip_stream.send(m[1:]),
        msrp_stream.send(sends[0][2:]),
        msrp_stream.send(oks[0], reply=True),
    ]
    recs = extract_records(pkts)
    assert [(r.protocol, r.raw) for r in recs] == [("SIP", m), ("MSRP", sends[0]), ("MSRP", oks[0])]
    assert isinstance(recs[0].message, SipMessage)


def test_msrp_garbage_is_an_error_record_and_the_flow_recovers():
    sends, _ = msrp_exchange(uri(A, "sessA"), uri(B, "sessB"))
    junk = b"\x16\x03\x01 not msrp at all\r\n"
    s = Stream()
    pkts = [*s.handshake(), s.send(sends[0] + junk), s.send(sends[1]), s.send(b"MSRP zz")]
    recs = extract_records(pkts)
    assert [r.raw for r in recs if r.ok] == [sends[0], sends[1]]
    errs = [r for r in recs if r.error]
    assert errs[0].raw == junk and errs[0].protocol == "MSRP"
    assert "incomplete" in errs[-1].error and errs[-1].raw == b"MSRP zz"
    assert all(r.protocol == "MSRP" for r in recs)


def test_unparseable_msrp_message_keeps_its_protocol():
    bad = b"MSRP abcd1234 SEND\r\nFrom-Path: msrp://a:1/x;tcp\r\n-------abcd1234$\r\n"
    recs = extract_records([*Stream().handshake(), Stream().send(bad)])
    (rec,) = recs
    assert rec.protocol == "MSRP" and rec.message is None and "To-Path" in rec.error


def test_new_connection_on_same_ports_is_classified_afresh():
    sends, _ = msrp_exchange(uri(A, "sessA"), uri(B, "sessB"))
    m = sip_message(2)
    r = TcpReassembler()
    flow = (*A, *B)
    r.feed(flow, ISN_A, SYN, b"", 1.0)
    (ev,) = r.feed(flow, ISN_A + 1, 0, sends[0], 1.0)
    assert ev.protocol == "MSRP" and r.protocol_of(flow) == "MSRP"
    r.feed(flow, 50_000, SYN, b"", 2.0)  # another ISN: a new connection
    (ev,) = r.feed(flow, 50_001, 0, m, 2.0)
    assert ev.protocol == "SIP" and ev.raw == m


_SENDS, _OKS = msrp_exchange(uri(A, "sessA"), uri(B, "sessB"))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.binary(max_size=200), st.sampled_from(_SENDS + _OKS)), max_size=6),
    st.lists(st.integers(0, 2000), max_size=8),
    st.randoms(use_true_random=False),
)
def test_arbitrary_bytes_on_an_msrp_flow_never_raise(pieces, cuts, rnd):
    stream = _SENDS[0] + b"".join(pieces)  # begins as MSRP, then anything
    bounds = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    segs = [pkt(stream[a:b], ISN_A + 1 + a) for a, b in pairwise(bounds)]
    rnd.shuffle(segs)
    segs += rnd.sample(segs, k=min(2, len(segs)))  # retransmissions
    recs = extract_records([pkt(b"", ISN_A, "S"), *segs])
    assert [r.index for r in recs] == list(range(len(recs)))
    assert all((r.message is None) != (r.error is None) for r in recs)
    assert all(r.protocol == "MSRP" for r in recs)
    assert not [r for r in recs if r.error and r.error.startswith("codec bug")]
    assert recs[0].raw == _SENDS[0]  # the valid first message survives whatever follows
    assert b"".join(r.raw for r in recs) == stream or any(r.error for r in recs)


# ----------------------------------------------------------------------------- SDP and dialogs


def test_msrp_targets_from_sdp_path_and_media_line():
    offer = SessionDescription.parse(sdp(("127.0.0.1", 45000), "s1", "actpass"))
    assert msrp_targets(offer) == [("127.0.0.1", 45000)]
    relayed = build_sdp(
        host="::1",
        path=["msrp://relay.example:2855/r1;tcp", "msrp://[::1]:45001/s2;tcp"],
        port=9,  # the discard port of an active endpoint names no listener
    )
    assert msrp_targets(relayed) == [("relay.example", 2855), ("::1", 45001)]
    no_port = build_sdp(host="127.0.0.1", path="msrp://127.0.0.1/s3;tcp")
    assert msrp_targets(no_port) == [("127.0.0.1", 2855)]
    secure = build_sdp(host="127.0.0.1", path="msrps://127.0.0.1:45002/s4;tcp", tls=True)
    assert msrp_targets(secure) == []  # encrypted: nothing to read on the wire
    assert msrp_targets(secure, tls=True) == [("127.0.0.1", 45002)]


def test_sdp_bodies_plain_multipart_and_unparseable():
    body = sdp(B, "s1", "passive")
    assert len(sdp_bodies(SipMessage.parse(invite("c1", body)))) == 1
    multipart = (
        b"--xyz\r\nContent-Type: application/resource-lists+xml\r\n\r\n<x/>\r\n"
        b"--xyz\r\nContent-Type: application/sdp\r\n\r\n" + body + b"\r\n--xyz--\r\n"
    )
    msg = SipMessage.parse(invite("c1", multipart, ctype='multipart/mixed;boundary="xyz"'))
    (found,) = sdp_bodies(msg)
    assert found.msrp_media()[0].path() == [uri(B, "s1")]
    assert sdp_bodies(SipMessage.parse(invite("c1", b"v=1\r\n"))) == []
    assert sdp_bodies(SipMessage.parse(sip_message(1))) == []


def test_dialog_of_maps_msrp_records_to_call_ids():
    a1, b1 = uri(A, "sessA1"), uri(B, "sessB1")
    a2, b2 = uri(("127.0.0.1", 40001), "sessA2"), uri(B, "sessB2")
    sends1, oks1 = msrp_exchange(a1, b1, "p")
    sends2, oks2 = msrp_exchange(a2, b2, "q")
    stranger = bytes(build_request("tstranger1", "SEND", uri(B, "nobody"), uri(A, "who")))
    s1, s2 = Stream(), Stream(("127.0.0.1", 40001), B)
    pkts = [
        udp(invite("call-1", sdp(A, "sessA1", "active"))),
        udp(ok_200("call-1", sdp(B, "sessB1", "passive")), SIP_B, SIP_A),
        s2.send(sends2[0]),  # negotiated only later in the capture
        udp(invite("call-2", sdp(B, "sessB2", "passive"))),
        *[s1.send(m) for m in sends1],
        *[s1.send(m, reply=True) for m in oks1],
        s1.send(stranger),
        s1.send(b"MSRP broken1 SEND\r\n-------broken1$\r\n"),
    ]
    recs = extract_records(pkts)
    got = dialog_of(recs)
    msrp = msrp_records(recs)
    assert set(got) == {r.index for r in msrp}
    by_raw = {r.raw: got[r.index] for r in msrp if r.ok}
    assert all(by_raw[m] == "call-1" for m in sends1 + oks1)
    assert by_raw[sends2[0]] == "call-2" and by_raw[stranger] is None
    (broken,) = [r for r in msrp if not r.ok]
    assert got[broken.index] is None
    assert dialog_of([r for r in recs if r.protocol == "SIP"]) == {}


def test_dialog_of_prefers_the_latest_negotiation_before_the_message():
    a, b = uri(A, "reused1"), uri(B, "reused2")
    sends, _ = msrp_exchange(a, b, "r")
    s = Stream()
    pkts = [
        udp(invite("first", sdp(A, "reused1", "active"))),
        s.send(sends[0]),
        udp(invite("second", sdp(A, "reused1", "active"))),
        s.send(sends[1]),
    ]
    recs = extract_records(pkts)
    got = dialog_of(recs)
    assert [got[r.index] for r in msrp_records(recs)] == ["first", "second"]


def test_tshark_decode_args_name_every_port_once():
    sends, _ = msrp_exchange(uri(A, "a"), uri(B, "b"))
    recs = extract_records([udp(sip_message(1)), pkt(sends[0], 5)])
    assert tshark_decode_args(recs) == [
        "-d",
        "tcp.port==2855,msrp",
        "-d",
        "tcp.port==40000,msrp",
        "-d",
        "udp.port==5060,sip",
        "-d",
        "udp.port==5070,sip",
    ]


# ----------------------------------------------------------------------------- kernel filter


def run_bpf(program, frame: bytes, pkttype: int = 0) -> int:
    """A classic BPF interpreter for the opcodes `bpf.assemble` emits."""
    a = x = 0
    mem = [0] * 16
    pc = 0
    while True:
        code, jt, jf, k = program[pc]
        pc += 1
        size = {0x20: 4, 0x28: 2, 0x30: 1, 0x40: 4, 0x48: 2, 0x50: 1}.get(code)
        if size is not None:
            if code == 0x20 and k == bpf.SKF_AD_OFF + bpf.SKF_AD_PKTTYPE:
                a = pkttype
                continue
            off = k + (x if code >= 0x40 else 0)
            if off < 0 or off + size > len(frame):
                return 0
            a = int.from_bytes(frame[off : off + size], "big")
        elif code == 0x60:
            a = mem[k]
        elif code == 0x02:
            mem[k] = a
        elif code == 0x01:
            x = k
        elif code == 0xB1:
            x = 4 * (frame[k] & 0xF)
        elif code == 0x74:
            a >>= k
        elif code == 0x64:
            a = (a << k) & 0xFFFFFFFF
        elif code == 0x0C:
            a = (a + x) & 0xFFFFFFFF
        elif code == 0x07:
            x = a
        elif code == 0x05:
            pc += k
        elif code == 0x15:
            pc += jt if a == k else jf
        elif code == 0x45:
            pc += jt if a & k else jf
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unknown opcode {code:#x}")


def test_filter_passes_msrp_payloads_on_any_port_only_when_asked():
    plain = bpf.assemble([5060], drop_outgoing=True)
    follow = bpf.assemble([5060], drop_outgoing=True, msrp=True)
    tcp_opts = TCP(sport=50000, dport=50001, flags="PA", options=[("NOP", None)] * 4)
    cases = {
        "msrp v4": (Ether() / IP() / TCP(sport=50000, dport=50001) / b"MSRP a SEND\r\n", True),
        "msrp v4 options": (Ether() / IP() / tcp_opts / b"MSRP a SEND\r\n", True),
        "msrp v6": (Ether() / IPv6() / TCP(sport=50000, dport=50001) / b"MSRP b 200 OK", True),
        "no space": (Ether() / IP() / TCP(sport=50000, dport=50001) / b"MSRPx", False),
        "other tcp": (Ether() / IP() / TCP(sport=50000, dport=50001) / b"GET / HTTP/1.1", False),
        "syn": (Ether() / IP() / TCP(sport=50000, dport=50001, flags="S"), False),
        "udp": (Ether() / IP() / UDP(sport=50000, dport=50001) / b"MSRP a SEND\r\n", False),
        "sip port": (Ether() / IP() / UDP(sport=50000, dport=5060) / b"x", True),
    }
    for name, (frame, expected) in cases.items():
        raw = bytes(frame)
        assert bool(run_bpf(follow, raw)) is expected, name
        assert bool(run_bpf(plain, raw)) is (name == "sip port"), name
        assert run_bpf(follow, raw, pkttype=bpf.PACKET_OUTGOING) == 0, name
    big = bpf.assemble(range(1, bpf.MAX_PORTS + 1), drop_outgoing=True, msrp=True)
    assert all(0 <= jt <= 255 and 0 <= jf <= 255 for _, jt, jf, _ in big)
    assert bpf.describe([5060], msrp=True).endswith('or tcp payload starting "MSRP ")')


# ----------------------------------------------------------------------------- socket tap


def test_tap_records_msrp_from_its_raw_messages(tmp_path):
    sends, oks = msrp_exchange(uri(A, "sessA"), uri(B, "sessB"))
    tap = SocketTapRecorder()
    window = CaptureWindow(tap)
    tap.on_sent("udp", SIP_A, SIP_B, invite("tap-call", sdp(A, "sessA", "active")), 1.0)
    for i, (send, ok) in enumerate(zip(sends, oks, strict=True)):
        tap.on_sent("tcp", A, B, send, 2.0 + i)
        tap.on_received("tcp", A, B, ok, 2.5 + i)
    recs = window.records()
    assert [r.protocol for r in recs] == ["SIP"] + ["MSRP"] * 8
    assert byte_ranges(recs) == RANGES and not [r for r in recs if r.error]
    assert set(dialog_of(recs).values()) == {"tap-call"}
    pairs = zip(sends, oks, strict=True)
    assert [r.raw for r in window.msrp_messages()] == [m for pair in pairs for m in pair]
    assert [r.protocol for r in window.messages()] == ["SIP"]
    tap.add_ports([1234])  # accepted and ignored: the tap sees all its endpoints' traffic
    path = tmp_path / "tap.pcap"
    window.write_pcap(path)
    again = records_from_pcap(str(path))
    assert [(r.protocol, r.flow, r.raw) for r in again] == [
        (r.protocol, r.flow, r.raw) for r in recs
    ]


# ----------------------------------------------------------------------------- live loopback


def tshark_fields(path, *args: str) -> list[list[str]]:
    out = subprocess.run(
        ["tshark", "-r", str(path), *args, "-T", "fields", "-E", "separator=|"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    return [line.split("|") for line in out.stdout.splitlines()]


@pytest.fixture
def msrp_sockets():
    """A passive MSRP listener and an active socket bound to its port but not connected."""
    listener = socket.create_server(("127.0.0.1", 0))
    active = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    active.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    active.bind(("127.0.0.1", 0))
    yield listener, active
    active.close()
    listener.close()


class Unfiltered:
    """A sniffer seen with every stored frame, watched port or not."""

    def __init__(self, sniffer):
        self.subscribe = sniffer.subscribe
        self.sniffer = sniffer

    def packets_since(self, mark):
        return self.sniffer.packets_since(mark, include_unwatched=True)


def on_wire(source, data: bytes) -> bool:
    if isinstance(source, Sniffer):
        source = Unfiltered(source)
    return wait_for_frames(source, lambda ps: any(data in bytes(p) for p in ps))


@needs_capture
def test_live_sdp_then_msrp_session_followed_recorded_and_decoded(msrp_sockets, tmp_path):
    listener, active = msrp_sockets
    passive_addr, active_addr = listener.getsockname(), active.getsockname()
    a_uri, b_uri = uri(active_addr, "sessA"), uri(passive_addr, "sessB")
    sends, oks = msrp_exchange(a_uri, b_uri)
    offer = invite("live-1@127.0.0.1", sdp(passive_addr, "sessB", "passive"))
    answer = ok_200("live-1@127.0.0.1", sdp(active_addr, "sessA", "active"))
    uas, uac = udp_socket(), udp_socket()
    sip_port = uas.getsockname()[1]
    sniffer = Sniffer([sip_port], follow_msrp=True)
    sniffer.start(timeout=5)
    server = None
    try:
        window = CaptureWindow(sniffer)
        uac.sendto(offer, uas.getsockname())
        assert sniffer.wait_for_ports([passive_addr[1]], 5), sniffer.reason
        uas.sendto(answer, uac.getsockname())
        assert sniffer.wait_for_ports([active_addr[1]], 5), sniffer.reason
        active.connect(passive_addr)
        server, _ = listener.accept()
        server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        active.sendall(sends[0])
        assert on_wire(sniffer, sends[0])
        server.sendall(oks[0])
        c1 = sends[1]
        for piece in (c1[:40], c1[40:120], c1[120:]):  # one SEND across three segments
            active.sendall(piece)
            assert on_wire(sniffer, piece)
        server.sendall(oks[1])
        assert on_wire(sniffer, oks[1])
        active.sendall(sends[2] + sends[3])  # two SENDs in one segment
        assert on_wire(sniffer, sends[2] + sends[3])
        server.sendall(oks[2])
        assert on_wire(sniffer, oks[2])
        server.sendall(oks[3])
        expected = [offer, answer, *sends, *oks]
        result = run(window.barrier(expected, timeout=5))
        assert result.complete, result
    finally:
        sniffer.stop()
        for s in (server, uas, uac):
            if s is not None:
                s.close()
    recs = window.records()
    assert [r.protocol for r in recs] == ["SIP", "SIP"] + ["MSRP"] * 8
    assert not [r for r in recs if r.error], [str(r) for r in recs]
    assert [r.raw for r in recs[2:]] == [
        sends[0],
        oks[0],
        sends[1],
        oks[1],
        sends[2],
        sends[3],
        oks[2],
        oks[3],
    ]
    assert byte_ranges(recs) == RANGES and reassembled(recs, "msgx0001") == BODY
    assert sniffer.followed == [passive_addr[1], active_addr[1]] and not sniffer.follow_errors
    assert "following MSRP ports" in sniffer.reason
    assert set(dialog_of(recs).values()) == {"live-1@127.0.0.1"}
    segs = [segment_of(p) for p in window.source.packets_since(window.start)]
    syns = [g for g in segs if g and g.transport == "tcp" and g.flags & SYN]
    assert len(syns) == 2  # the port was watched before the connection opened
    payloads = [g.payload for g in segs if g and g.transport == "tcp" and g.payload]
    assert c1[:40] in payloads and sends[2] + sends[3] in payloads

    path = tmp_path / "msrp.pcap"
    window.write_pcap(path)
    again = records_from_pcap(str(path))
    assert [(r.protocol, r.flow, r.raw) for r in again] == [
        (r.protocol, r.flow, r.raw) for r in recs
    ]
    assert dialog_of(again) == dialog_of(recs)
    if shutil.which("tshark") is None:
        return
    # MSRP needs no decode option (heuristic); the options add SIP on its odd port.
    heuristic = tshark_fields(path, "-Y", "msrp", "-e", "msrp.method", "-e", "msrp.byte.range")
    shown = [rng for method, rng in heuristic if method == "SEND"]
    # tshark 4.0 shows only the first of two MSRP messages sharing a segment.
    assert shown[:3] == RANGES[:3] and set(shown) <= set(RANGES), heuristic
    both = tshark_fields(
        path, *tshark_decode_args(recs), "-Y", "sip || msrp", "-e", "_ws.col.Protocol"
    )
    assert {"SIP/SDP", "MSRP"} <= {row[0] for row in both}, both


@needs_capture
def test_live_follow_race_msrp_sent_at_once_is_still_recorded(msrp_sockets):
    listener, active = msrp_sockets
    passive_addr = listener.getsockname()
    sends, oks = msrp_exchange(uri(active.getsockname(), "raceA"), uri(passive_addr, "raceB"))
    uas, uac = udp_socket(), udp_socket()
    offer = invite("race@127.0.0.1", sdp(passive_addr, "raceB", "passive"))
    sniffer = Sniffer([uas.getsockname()[1]], follow_msrp=True)
    sniffer.start(timeout=5)
    server = None
    try:
        window = CaptureWindow(sniffer)
        uac.sendto(offer, uas.getsockname())
        active.connect(passive_addr)  # no wait: the filter may not know the port yet
        active.sendall(sends[0])
        server, _ = listener.accept()
        server.sendall(oks[0])
        result = run(window.barrier([offer, sends[0], oks[0]], timeout=5))
        assert result.complete, result
        assert sniffer.wait_for_ports([passive_addr[1]], 5)
    finally:
        sniffer.stop()
        for s in (server, uas, uac):
            if s is not None:
                s.close()
    recs = window.records()
    assert [(r.protocol, r.raw) for r in recs if r.ok] == [
        ("SIP", offer),
        ("MSRP", sends[0]),
        ("MSRP", oks[0]),
    ]
    assert set(dialog_of(recs).values()) == {"race@127.0.0.1"}


@needs_capture
def test_live_follow_mode_keeps_early_msrp_but_shows_only_watched_ports(msrp_sockets):
    listener, active = msrp_sockets
    msrp_port = listener.getsockname()[1]
    sends, oks = msrp_exchange(uri(active.getsockname(), "h1"), uri(listener.getsockname(), "h2"))
    marker = udp_socket()
    watched = [marker.getsockname()[1]]
    follow, plain = Sniffer(watched, follow_msrp=True), Sniffer(watched)
    follow.start(timeout=5)
    plain.start(timeout=5)
    server = None
    try:
        fw, pw = CaptureWindow(follow), CaptureWindow(plain)
        active.connect(listener.getsockname())
        server, _ = listener.accept()
        active.sendall(sends[0])  # no SDP named this port: it is not watched
        server.sendall(oks[0])
        assert on_wire(follow, oks[0])  # kept by the kernel filter's MSRP clause...
        marker.sendto(sip_message(1), marker.getsockname())
        assert run(pw.barrier([sip_message(1)], timeout=5)).complete
        assert run(fw.barrier([sip_message(1)], timeout=5)).complete
        assert [r.raw for r in fw.records()] == [sip_message(1)]  # ...but not shown
        shown = follow.packets_since(fw.start)
        assert shown and all(segment_of(p).transport == "udp" for p in shown)
        stored = follow.packets_since(fw.start, include_unwatched=True)
        ours = [g for g in map(segment_of, stored) if g and msrp_port in (g.flow[1], g.flow[3])]
        assert [g.payload for g in ours] == [sends[0], oks[0]]  # no handshake: not watched
        follow.add_ports([msrp_port])  # e.g. the harness announces it late
        active.sendall(b"not msrp\r\n")  # its own segment, since the reply came in between
        server.sendall(oks[1])
        assert run(fw.barrier([oks[1]], timeout=5)).complete
    finally:
        follow.stop()
        plain.stop()
        marker.close()
        if server is not None:
            server.close()
    recs = fw.records()
    assert [(r.protocol, r.raw) for r in recs if r.ok] == [
        ("MSRP", sends[0]),
        ("MSRP", oks[0]),
        ("SIP", sip_message(1)),
        ("MSRP", oks[1]),
    ]
    assert any(r.error and r.raw == b"not msrp\r\n" and r.is_msrp for r in recs)
    assert [r.raw for r in pw.records()] == [sip_message(1)]  # nothing but the watched port
    assert follow.followed == []  # no SDP: nothing followed automatically


@needs_capture
def test_live_msrp_endpoints_tap_matches_wire():
    transport = pytest.importorskip("cpmconf.transport")
    tap = SocketTapRecorder()

    async def scenario():
        async with (
            transport.SipEndpoint(taps=[tap], protocol=transport.MSRP) as passive,
            transport.SipEndpoint(taps=[tap], protocol=transport.MSRP) as active,
        ):
            sniffer = Sniffer([passive.address[1]])
            sniffer.start(timeout=5)
            try:
                wire, taps = CaptureWindow(sniffer), CaptureWindow(tap)
                sends, oks = msrp_exchange(
                    uri(active.address, "tapA"), uri(passive.address, "tapB")
                )
                await active.send(sends[0] + sends[1], passive.address, "tcp")
                for send, ok in zip(sends, oks, strict=True):
                    if send not in (sends[0], sends[1]):
                        await active.send(send, passive.address, "tcp")
                    got = await passive.receive(lambda m, s=send: m.raw == s, timeout=5)
                    await passive.send(ok, got.remote, "tcp")
                    await active.receive(lambda m, o=ok: m.raw == o, timeout=5)
                expected = [*sends, *oks]
                assert (await wire.barrier(expected, timeout=5)).complete
                assert (await taps.barrier(expected, timeout=5)).complete
            finally:
                sniffer.stop()
            return wire.records(), taps.records()

    wire_recs, tap_recs = asyncio.run(asyncio.wait_for(scenario(), 10))

    def key(recs):
        return sorted((r.protocol, r.transport, r.flow, r.raw) for r in recs)

    assert key(tap_recs) == key(wire_recs)
    assert len(tap_recs) == 8 and all(r.protocol == "MSRP" and r.ok for r in tap_recs)
