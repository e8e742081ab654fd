"""Property tests (hypothesis): the capture layer survives arbitrary bytes on the SIP and MSRP
ports it watches.

Complements test_capture_extract.py (arbitrary bytes on one SIP port) and test_capture_msrp.py
(one MSRP flow): here several connections to both a SIP and an MSRP port, over UDP and TCP,
carry a mix of valid messages, protocol-looking prefixes and random bytes, with random
sequence numbers, flags and IPv4/IPv6. Records extraction documents that it never raises on
content: every packet list yields records, each either a message or an error text, none of
them a codec bug, and feeding packet by packet gives what one batch gives.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from cpmconf.capture.records import RecordExtractor, extract_records
from cpmconf.capture.tcp import TcpReassembler

from .conftest import sip_message, sip_ok

SIP_PORT = 5060
MSRP_PORT = 2855
PEERS = [40000, 40001, 40002]

MSRP_SEND = (
    b"MSRP a786hjs2 SEND\r\nTo-Path: msrp://127.0.0.1:2855/s1;tcp\r\n"
    b"From-Path: msrp://127.0.0.1:40000/s2;tcp\r\nMessage-ID: m1\r\nByte-Range: 1-5/5\r\n"
    b"Content-Type: text/plain\r\n\r\nhello\r\n-------a786hjs2$\r\n"
)
PREFIXES = [
    sip_message(1),
    sip_ok(2),
    MSRP_SEND,
    b"MSRP ",
    b"MSRP x SEND\r\n",
    b"MESSAGE sip:x SIP/2.0\r\nContent-Length: 99999999\r\n\r\n",
    b"\r\n\r\n",
    b"-------a786hjs2$\r\n",
]
payloads = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(PREFIXES),
    st.builds(bytes.__add__, st.sampled_from(PREFIXES), st.binary(max_size=60)),
)
flags = st.sampled_from(["", "S", "F", "R", "PA", "FA", "SA", "RA"])


def packet(v6: bool, udp: bool, peer: int, port: int, reply: bool, payload: bytes, seq, flag):
    src, dst = ("::1", "::1") if v6 else ("127.0.0.1", "127.0.0.1")
    sport, dport = (port, peer) if reply else (peer, port)
    ip = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
    if udp:
        l4 = UDP(sport=sport, dport=dport)
    else:
        l4 = TCP(sport=sport, dport=dport, seq=seq, flags=flag)
    pkt = Ether() / ip / l4 / payload
    pkt.time = 1.0
    return pkt


items = st.tuples(
    st.booleans(),
    st.booleans(),
    st.sampled_from(PEERS),
    st.sampled_from([SIP_PORT, MSRP_PORT, 9999]),
    st.booleans(),
    payloads,
    st.integers(0, 2**32 - 1),
    flags,
)


@given(st.lists(items, min_size=1, max_size=10))
def test_arbitrary_bytes_on_sip_and_msrp_ports_never_raise(cases):
    pkts = [packet(*c) for c in cases]
    ports = {SIP_PORT, MSRP_PORT}
    recs = extract_records(pkts, ports=ports)
    assert [r.index for r in recs] == list(range(len(recs)))
    assert all((r.message is None) != (r.error is None) for r in recs)
    assert all(r.protocol in ("SIP", "MSRP") for r in recs)
    assert not [r.error for r in recs if r.error and r.error.startswith("codec bug")]
    assert all(ports & {r.flow[1], r.flow[3]} for r in recs)  # port 9999 is not watched
    ex = RecordExtractor(ports)
    incremental = [r for p in pkts for r in ex.feed(p)] + ex.finish()
    assert incremental == recs


@given(
    st.lists(
        st.tuples(st.integers(0, 3000), st.binary(max_size=200), st.sampled_from([0, 1, 2, 4])),
        max_size=12,
    )
)
def test_reassembler_takes_any_segment_sequence(segments):
    """Sequence numbers anywhere (gaps, overlaps, wrap-around), any flags: events, no raise."""
    r = TcpReassembler(max_message_size=4096, max_out_of_order=2048)
    flow = ("127.0.0.1", PEERS[0], "127.0.0.1", MSRP_PORT)
    events = []
    for offset, data, flag in segments:
        events += r.feed(flow, (2**32 - 1500 + offset) & 0xFFFFFFFF, flag, data, 1.0)
    events += r.finish()
    assert all(e.protocol in ("SIP", "MSRP") for e in events)
    assert not [e.error for e in events if e.error and e.error.startswith("codec bug")]
