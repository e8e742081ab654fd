"""The streaming capture reader (`cpmconf.capture.stream`) gives what the scapy path gives.

Crafted captures in every link type it decodes itself (Ethernet with and without a VLAN
tag, Linux cooked, raw IP; IPv4 and IPv6; pcap and pcapng) must yield the same messages,
flows and times as `records_from_pcap`, with 1-based frame numbers of the frame that
completed each message; a SIP message split over TCP segments is reassembled by the
capture layer's reassembler; MSRP streams are skipped unframed when asked; closed TCP
directions are forgotten beyond a bound; a file that is no capture is refused.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import CookedLinux, Dot1Q, Ether
from scapy.utils import PcapNgWriter, wrpcap

from cpmconf.capture import records_from_pcap, stream
from cpmconf.capture.stream import wire_messages

SIP = (
    b"MESSAGE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
    b"From: <sip:a@example.net>;tag=1\r\nTo: <sip:bob@example.net>\r\nCall-ID: c1@h\r\n"
    b"CSeq: 1 MESSAGE\r\nContent-Length: 5\r\n\r\nhello"
)


def udp(l3, payload=SIP, sport=5070, dport=5060):
    return l3 / UDP(sport=sport, dport=dport) / payload


def tcp_pieces(l3, payload=SIP, sport=40000, dport=5060):
    half = len(payload) // 2
    return [
        l3 / TCP(sport=sport, dport=dport, flags="S", seq=100),
        l3 / TCP(sport=sport, dport=dport, flags="PA", seq=101) / payload[:half],
        l3 / TCP(sport=sport, dport=dport, flags="PA", seq=101 + half) / payload[half:],
    ]


def timed(pkts):
    for i, p in enumerate(pkts):
        p.time = 1000.0 + i * 0.25
    return pkts


V4 = IP(src="127.0.0.1", dst="127.0.0.2")
V6 = IPv6(src="::1", dst="::2")

CASES = {
    "ethernet-v4": [Ether() / udp(V4), *(Ether() / p for p in tcp_pieces(V4))],
    "ethernet-vlan-v6": [Ether() / Dot1Q(vlan=7) / udp(V6)],
    "linux-cooked": [CookedLinux(proto=0x0800) / udp(V4)],
    "raw-ip": [udp(V4), *tcp_pieces(V4)],  # (scapy reads a raw-IP file as IPv4 only)
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_stream_reader_matches_the_scapy_records(tmp_path, name, fmt):
    pkts = timed([p.__class__(bytes(p)) for p in CASES[name]])
    path = tmp_path / f"{name}.{fmt}"
    if fmt == "pcap":
        wrpcap(str(path), pkts)
    else:
        w = PcapNgWriter(str(path))
        for p in pkts:
            w.write(p)
        w.close()
    want = [(r.raw, r.flow, r.transport, round(r.time, 3)) for r in records_from_pcap(str(path))]
    got = list(wire_messages(str(path)))
    assert [(w.raw, w.flow, w.transport, round(w.time, 3)) for w in got] == want
    assert want and all(w.raw == SIP for w in got)
    # The frame that completed each message, numbered from 1 as tshark numbers them.
    if name == "ethernet-v4":
        assert [w.frame for w in got] == [1, 4]


def test_msrp_streams_can_be_skipped_unframed(tmp_path):
    msrp = b"MSRP a1 SEND\r\nTo-Path: msrp://h:1/x;tcp\r\nFrom-Path: msrp://h:2/y;tcp\r\n-------a1$\r\n"
    pkts = timed([Ether() / p for p in tcp_pieces(V4, msrp, 40001, 2855)] + [Ether() / udp(V4)])
    wrpcap(str(tmp_path / "m.pcap"), pkts)
    framed = [w.protocol for w in wire_messages(str(tmp_path / "m.pcap"))]
    skipped = [w.protocol for w in wire_messages(str(tmp_path / "m.pcap"), msrp=False)]
    assert "MSRP" in framed and framed[-1] == "SIP" and skipped == ["SIP"]


def test_closed_directions_are_forgotten_beyond_the_bound(tmp_path, monkeypatch):
    pkts = []
    for n in range(30):
        for p in tcp_pieces(V4, SIP, 41000 + n, 5060):
            pkts.append(Ether() / p)
        pkts.append(Ether() / V4 / TCP(sport=41000 + n, dport=5060, flags="FA", seq=101 + len(SIP)))
    for n in range(10):  # left open: closed by the end of the capture, after the others
        pkts += [Ether() / p for p in tcp_pieces(V4, SIP + b"x", 42000 + n, 5060)]
    wrpcap(str(tmp_path / "many.pcap"), timed(pkts))
    seen = []
    original = stream._PruningReassembler.__init__

    def small(self, keep_closed=stream.KEEP_CLOSED, msrp=True):
        original(self, 5, msrp)
        seen.append(self)

    monkeypatch.setattr(stream._PruningReassembler, "__init__", small)
    got = list(wire_messages(str(tmp_path / "many.pcap")))
    assert len([w for w in got if w.error is None]) == 40
    assert len([w for w in got if w.error]) == 10  # the extra byte, cut off by the end
    assert len(seen[0]._dirs) <= 5 + 10


def test_not_a_capture_is_refused(tmp_path):
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture")
    with pytest.raises(ValueError, match="not a pcap or pcapng"):
        list(wire_messages(str(junk)))
