"""Pure extraction: crafted packets into `extract_records` / `TcpReassembler`, nothing sent."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from cpmconf.capture import CaptureError, Record, TcpReassembler, bpf, extract_records
from cpmconf.capture.source import frame_packet
from cpmconf.capture.tcp import FIN, RST, SYN

from .conftest import sip_message, sip_ok

A = ("127.0.0.1", 40000)
B = ("127.0.0.1", 5060)
ISN = 1000


def udp(payload: bytes, src=A, dst=B, t: float = 1.0):
    pkt = Ether() / IP(src=src[0], dst=dst[0]) / UDP(sport=src[1], dport=dst[1]) / payload
    pkt.time = t
    return pkt


def tcp(payload: bytes, seq: int, flags: str = "PA", src=A, dst=B, t: float = 1.0):
    pkt = (
        Ether()
        / IP(src=src[0], dst=dst[0])
        / TCP(sport=src[1], dport=dst[1], seq=seq & 0xFFFFFFFF, flags=flags)
        / payload
    )
    pkt.time = t
    return pkt


def handshake(isn: int = ISN):
    return [tcp(b"", isn, "S"), tcp(b"", 7000, "SA", src=B, dst=A)]


def segments(stream: bytes, cuts: list[int], isn: int = ISN):
    """TCP data segments carrying `stream` cut at the given offsets (after a SYN at isn)."""
    bounds = [0, *cuts, len(stream)]
    return [
        tcp(stream[a:b], isn + 1 + a) for a, b in zip(bounds, bounds[1:], strict=False) if b > a
    ]


def raws(records: list[Record]) -> list[bytes]:
    return [r.raw for r in records if r.message is not None]


def errors(records: list[Record]) -> list[str]:
    return [r.error for r in records if r.error is not None]


def test_udp_one_record_per_datagram_with_fields():
    m1, m2 = sip_message(1), sip_ok(1)
    recs = extract_records([udp(m1, t=5.0), udp(m2, src=B, dst=A, t=6.0)])
    assert [r.raw for r in recs] == [m1, m2]
    assert [r.index for r in recs] == [0, 1]
    assert recs[0].flow == ("127.0.0.1", 40000, "127.0.0.1", 5060)
    assert recs[0].transport == "udp" and recs[0].time == 5.0
    assert recs[0].message.method == "MESSAGE" and recs[1].message.status == 200
    assert "MESSAGE sip:bob@example.net" in str(recs[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        recs[0].raw = b""  # type: ignore[misc]


def test_udp_garbage_is_an_error_record():
    recs = extract_records([udp(b"\x00\xffnot sip")])
    assert len(recs) == 1 and recs[0].message is None and recs[0].error


def test_udp_ethernet_padding_is_not_payload():
    # A tiny datagram is padded to the Ethernet minimum; lengths must cut the padding.
    raw = bytes(udp(b"x")) + b"\x00" * 20
    pkt = Ether(raw)
    pkt.time = 1.0
    (rec,) = extract_records([pkt])
    assert rec.raw == b"x"


def test_ports_filter_and_non_sip_packets_are_ignored():
    other = Ether() / IP() / UDP(sport=1, dport=2) / sip_message(1)
    icmp = Ether() / IP() / b"\x08\x00"
    for p in (other, icmp):
        p.time = 1.0
    assert extract_records([other, icmp, udp(sip_message(2))], ports={5060}) == [
        extract_records([udp(sip_message(2))])[0]
    ]


def test_ipv6_udp_and_tcp():
    s6, d6 = ("::1", 40000), ("::1", 5060)
    m = sip_message(6)
    p1 = Ether() / IPv6(src="::1", dst="::1") / UDP(sport=40000, dport=5060) / m
    p2 = Ether() / IPv6(src="::1", dst="::1") / TCP(sport=40001, dport=5060, seq=5, flags="PA") / m
    p1.time = p2.time = 1.0
    recs = extract_records([p1, p2])
    assert raws(recs) == [m, m]
    assert recs[0].flow == (s6[0], s6[1], d6[0], d6[1])


def test_tcp_several_messages_in_one_segment():
    msgs = [sip_message(i) for i in range(4)]
    recs = extract_records([*handshake(), tcp(b"".join(msgs), ISN + 1)])
    assert raws(recs) == msgs and not errors(recs)
    assert all(r.transport == "tcp" for r in recs)


def test_tcp_one_message_split_across_segments():
    m = sip_message(1, b"x" * 300)
    recs = extract_records([*handshake(), *segments(m, [3, 40, 200, 299])])
    assert raws(recs) == [m] and not errors(recs)


def test_tcp_out_of_order_segments():
    stream = b"".join(sip_message(i, b"body%d" % i) for i in range(3))
    segs = segments(stream, [10, 100, 250, 400])
    reordered = [segs[3], segs[0], segs[2], segs[4], segs[1]]
    recs = extract_records([*handshake(), *reordered])
    assert b"".join(raws(recs)) == stream and not errors(recs)


def test_tcp_retransmitted_and_overlapping_segments():
    stream = sip_message(1, b"a" * 100) + sip_message(2, b"b" * 50)
    segs = segments(stream, [120, 300])
    overlap = tcp(stream[100:200], ISN + 1 + 100)  # straddles two segments
    recs = extract_records([*handshake(), segs[0], segs[0], overlap, segs[1], segs[2], segs[1]])
    assert raws(recs) == [sip_message(1, b"a" * 100), sip_message(2, b"b" * 50)]
    assert not errors(recs)


def test_tcp_sequence_wraparound():
    m = sip_message(1, b"w" * 80)
    isn = 0xFFFFFFFF - 50
    recs = extract_records([*handshake(isn), *segments(m, [30, 60, 120], isn=isn)])
    assert raws(recs) == [m] and not errors(recs)


def test_tcp_mid_stream_start_without_syn():
    m1, m2 = sip_message(1), sip_message(2)
    recs = extract_records([tcp(m1, 555), tcp(m2, 555 + len(m1))])
    assert raws(recs) == [m1, m2]


def test_tcp_fin_with_incomplete_message_reports_error():
    m = sip_message(1, b"z" * 40)
    recs = extract_records(
        [*handshake(), tcp(m[:-10], ISN + 1), tcp(b"", ISN + 1 + len(m) - 10, "FA")]
    )
    assert raws(recs) == []
    (err,) = [r for r in recs if r.error]
    assert "incomplete" in err.error and err.raw == m[:-10]


def test_tcp_clean_fin_gives_no_error_and_keepalive_ignored():
    m = sip_message(1)
    stream = b"\r\n\r\n" + m + b"\r\n\r\n"
    recs = extract_records(
        [*handshake(), tcp(stream, ISN + 1), tcp(b"", ISN + 1 + len(stream), "FA")]
    )
    assert raws(recs) == [m] and not errors(recs)


def test_tcp_rst_discards_and_new_connection_starts_fresh():
    m = sip_message(1)
    recs = extract_records(
        [
            *handshake(),
            tcp(m[:20], ISN + 1),
            tcp(b"", ISN + 21, "R"),
            tcp(b"", 90000, "S"),
            tcp(m, 90001),
        ]
    )
    assert raws(recs) == [m]
    assert any("reset" in e for e in errors(recs))


def test_tcp_framer_error_is_recorded_and_flow_reset():
    good1, good2 = sip_message(1), sip_message(2)
    junk = b"\x16\x03\x01 this is not SIP\r\n\r\n"
    stream = good1 + junk
    recs = extract_records([*handshake(), tcp(stream, ISN + 1), tcp(good2, ISN + 1 + len(stream))])
    # The message before the junk is kept, the junk is one error, the stream then recovers.
    assert raws(recs) == [good1, good2]
    (err,) = [r for r in recs if r.error]
    assert err.raw == junk and err.transport == "tcp"


def test_tcp_gap_never_filled_reported_at_end():
    m1, m2 = sip_message(1), sip_message(2)
    recs = extract_records([*handshake(), tcp(m2, ISN + 1 + len(m1))])
    assert raws(recs) == []
    assert any("gap" in e for e in errors(recs))
    assert extract_records([*handshake(), tcp(m2, ISN + 1 + len(m1))], flush=False) == []


def test_reassembler_direct_api():
    r = TcpReassembler()
    flow = ("10.0.0.1", 1, "10.0.0.2", 5060)
    m = sip_message(3)
    assert r.feed(flow, 99, SYN, b"", 1.0) == []
    assert r.feed(flow, 100 + 10, 0, m[10:], 2.0) == []
    (ev,) = r.feed(flow, 100, 0, m[:10], 3.0)
    assert ev.raw == m and ev.time == 3.0 and ev.error is None
    assert r.feed(flow, 100 + len(m), FIN, b"", 4.0) == []
    assert r.feed(flow, 100, 0, m, 5.0) == []  # retransmission after close
    assert r.feed(flow, 1, RST, b"", 6.0) == []
    assert r.finish() == []


def test_extraction_is_pure_and_repeatable():
    pkts = [*handshake(), *segments(sip_message(1) + sip_message(2), [33, 400]), udp(sip_ok(1))]
    assert extract_records(pkts) == extract_records(pkts)


_flags = st.sampled_from(["", "S", "F", "R", "PA", "FA", "SA"])
_sip_ish = st.sampled_from([sip_message(1), sip_ok(2), b"\r\n\r\n", b"MESSAGE sip:x SIP/2.0\r\n"])
_payload = st.one_of(
    st.binary(max_size=300), _sip_ish, st.builds(bytes.__add__, _sip_ish, st.binary(max_size=40))
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.booleans(), _payload, st.integers(0, 2**32 - 1), _flags, st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_arbitrary_bytes_on_watched_ports_never_raise(items):
    pkts = []
    for is_udp, payload, seq, flags, reply in items:
        src, dst = (B, A) if reply else (A, B)
        pkts.append(udp(payload, src, dst) if is_udp else tcp(payload, seq, flags, src, dst))
    recs = extract_records(pkts, ports={5060})
    assert [r.index for r in recs] == list(range(len(recs)))
    assert all((r.message is None) != (r.error is None) for r in recs)
    assert not [e for e in errors(recs) if e.startswith("codec bug")]


@settings(deadline=None)
@given(st.binary(min_size=0, max_size=200))
def test_arbitrary_frames_never_raise(frame):
    # Goes through the same conversion the capture store uses for sniffed frames.
    extract_records([frame_packet(0.0, frame), frame_packet(0.0, bytes(udp(b"")) + frame)])


def test_tcp_retransmitted_syn_does_not_restart_stream():
    m = sip_message(1)
    recs = extract_records([*handshake(), tcp(m, ISN + 1), tcp(b"", ISN, "S"), tcp(m, ISN + 1)])
    assert raws(recs) == [m] and not errors(recs)


def test_kernel_filter_program_limits():
    prog = bpf.assemble(range(1, bpf.MAX_PORTS + 1), drop_outgoing=True)
    assert prog[-1] == (0x06, 0, 0, bpf.SNAPLEN) and all(0 <= jt <= 255 for _, jt, _, _ in prog)
    assert bpf.describe([5061, 5060]) == "(udp or tcp) and (port 5060 or port 5061)"
    for bad in ([], [0], range(1, bpf.MAX_PORTS + 2)):
        with pytest.raises(CaptureError):
            bpf.assemble(bad, drop_outgoing=False)
