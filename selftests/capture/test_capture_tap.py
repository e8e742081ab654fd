"""Socket-tap mode: records built from what the harness's own sockets saw."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import pytest

from cpmconf.capture import (
    CaptureSource,
    CaptureWindow,
    Sniffer,
    SocketTapRecorder,
    open_capture_source,
    records_from_pcap,
)

from .conftest import needs_capture, run, sip_message, sip_ok

US = ("127.0.0.1", 41000)
SUT = ("127.0.0.1", 5060)


def triples(records):
    return [(r.transport, r.flow, r.raw) for r in records]


def test_tap_is_a_capture_source_and_records_both_directions():
    tap = SocketTapRecorder("no raw capture in this test")
    assert isinstance(tap, CaptureSource) and tap.mode == "socket-tap" and tap.tap is tap
    window = CaptureWindow(tap)
    tap.on_sent("udp", US, SUT, sip_message(1), 10.0)
    tap.on_received("udp", US, SUT, sip_ok(1), 11.0)
    recs = window.records()
    assert triples(recs) == [
        ("udp", (*US, *SUT), sip_message(1)),
        ("udp", (*SUT, *US), sip_ok(1)),
    ]
    assert [r.time for r in recs] == [10.0, 11.0]
    assert recs[1].message.status == 200 and tap.reason == "no raw capture in this test"


def test_tap_tcp_chunks_are_framed_like_the_wire():
    tap = SocketTapRecorder()
    window = CaptureWindow(tap)
    big = sip_message(3, b"y" * 70000)  # larger than one synthetic segment
    tap.on_sent("tcp", US, SUT, sip_message(1) + sip_message(2), 1.0)
    tap.on_sent("tcp", US, SUT, big, 2.0)
    tap.on_received("tls", US, SUT, sip_ok(1), 3.0)
    recs = window.records()
    assert [r.raw for r in recs] == [sip_message(1), sip_message(2), big, sip_ok(1)]
    assert all(r.transport == "tcp" and r.error is None for r in recs)


def test_tap_keeps_one_copy_when_both_ends_are_ours():
    tap = SocketTapRecorder()
    window = CaptureWindow(tap)
    a, b, a_conn = ("127.0.0.1", 42000), ("127.0.0.1", 42001), ("127.0.0.1", 50000)
    tap.on_sent("udp", a, b, sip_message(1), 1.0)
    tap.on_received("udp", b, a, sip_message(1), 1.1)
    # TCP: the receiving side's tap may run before the sender's.
    tap.on_received("tcp", b, a_conn, sip_message(2), 1.2)
    tap.on_sent("tcp", a_conn, b, sip_message(2), 1.3)
    tap.on_sent("tcp", b, a_conn, sip_ok(2), 1.4)
    tap.on_received("tcp", a_conn, b, sip_ok(2), 1.5)
    assert [r.raw for r in window.records()] == [sip_message(1), sip_message(2), sip_ok(2)]


def test_tap_pairs_tcp_copies_by_stream_position_not_by_write():
    # One write carrying two messages, reported one by one by the receiving endpoint,
    # before or after the sender's tap runs: each message is kept exactly once.
    b, a_conn = ("127.0.0.1", 42001), ("127.0.0.1", 50000)
    m1, m2, m3 = sip_message(1), sip_message(2), sip_message(3)
    for order in ("receiver first", "sender first", "interleaved"):
        tap = SocketTapRecorder()
        window = CaptureWindow(tap)
        if order == "receiver first":
            tap.on_received("tcp", b, a_conn, m1, 1.0)
            tap.on_received("tcp", b, a_conn, m2, 1.1)
            tap.on_sent("tcp", a_conn, b, m1 + m2, 1.2)
        elif order == "sender first":
            tap.on_sent("tcp", a_conn, b, m1 + m2, 1.0)
            tap.on_received("tcp", b, a_conn, m1, 1.1)
            tap.on_received("tcp", b, a_conn, m2, 1.2)
        else:
            tap.on_received("tcp", b, a_conn, m1, 1.0)
            tap.on_sent("tcp", a_conn, b, m1 + m2, 1.1)
            tap.on_received("tcp", b, a_conn, m2, 1.2)
        tap.on_sent("tcp", a_conn, b, m3, 2.0)  # the pairing stays aligned afterwards
        tap.on_received("tcp", b, a_conn, m3, 2.1)
        assert [r.raw for r in window.records()] == [m1, m2, m3], order
        assert not [r for r in window.records() if r.error], order
    # A peer that is not ours repeating itself over TCP is two records, as on the wire.
    tap = SocketTapRecorder()
    window = CaptureWindow(tap)
    tap.on_received("tcp", US, SUT, sip_message(4), 1.0)
    tap.on_received("tcp", US, SUT, sip_message(4), 1.1)
    assert [r.raw for r in window.records()] == [sip_message(4)] * 2


def test_tap_keeps_genuine_repeats_from_the_peer():
    tap = SocketTapRecorder()
    window = CaptureWindow(tap)
    for t in (1.0, 1.5):  # a retransmission by the system under test is two records
        tap.on_received("udp", US, SUT, sip_message(1), t)
    assert [r.raw for r in window.records()] == [sip_message(1)] * 2


def test_tap_ipv6_and_barrier():
    tap = SocketTapRecorder()
    window = CaptureWindow(tap)

    async def scenario():
        waiter = asyncio.create_task(window.barrier([sip_message(1)], timeout=5))
        # Runs after the barrier's first step (FIFO), so the barrier is woken by the tap.
        asyncio.get_running_loop().call_soon(
            tap.on_sent, "udp", ("::1", 41000, 0, 0), ("::1", 5060, 0, 0), sip_message(1), 1.0
        )
        return await waiter

    result = run(scenario())
    assert result.complete and result.mode == "socket-tap"
    assert window.records()[0].flow == ("::1", 41000, "::1", 5060)
    missing = run(window.barrier([sip_message(2)], timeout=0.05))
    assert not missing and missing.missing == (sip_message(2),) and "not captured" in str(missing)


def test_tap_pcap_round_trip(tmp_path):
    tap = SocketTapRecorder()
    window = CaptureWindow(tap)
    sent = [sip_message(1), sip_message(2, b"tcp body")]
    tap.on_sent("udp", US, SUT, sent[0], 1.0)
    tap.on_sent("tcp", US, SUT, sent[1], 2.0)
    tap.on_received("tcp", US, SUT, sip_ok(2), 3.0)
    path = tmp_path / "tap.pcap"
    assert window.write_pcap(path) == 3
    again = records_from_pcap(str(path))
    assert triples(again) == triples(window.records())
    assert [r.time for r in again] == [1.0, 2.0, 3.0]
    if shutil.which("tshark"):
        out = subprocess.run(
            ["tshark", "-r", str(path), "-Y", "sip"], capture_output=True, text=True, timeout=20
        )
        assert out.stdout.count("MESSAGE") >= 2 and "200 OK" in out.stdout, out.stdout


def test_open_capture_source_socket_tap_on_request():
    source = open_capture_source([5060], prefer="socket-tap")
    assert source.mode == "socket-tap" and source.tap is source


@needs_capture
def test_socket_tap_equivalent_to_sniffer_with_real_endpoints():
    transport = pytest.importorskip("cpmconf.transport")
    tap = SocketTapRecorder()

    async def scenario():
        async with (
            transport.SipEndpoint(taps=[tap]) as a,
            transport.SipEndpoint(taps=[tap]) as b,
        ):
            sniffer = Sniffer([a.port, b.port])
            sniffer.start(timeout=5)
            try:
                wire, taps = CaptureWindow(sniffer), CaptureWindow(tap)
                exchange = [
                    (a, b, sip_message(1), "udp"),
                    (b, a, sip_ok(1), "udp"),
                    (a, b, sip_message(2), "tcp"),
                    (b, a, sip_ok(2), "tcp"),
                    (a, b, sip_message(3, b"again"), "tcp"),
                ]
                for src, dst, raw, kind in exchange:
                    await src.send(raw, dst.address, kind)
                    await dst.receive(lambda m, raw=raw: m.raw == raw, timeout=5)
                expected = [raw for _, _, raw, _ in exchange]
                assert (await wire.barrier(expected, timeout=5)).complete
                assert (await taps.barrier(expected, timeout=5)).complete
            finally:
                sniffer.stop()
            return wire.records(), taps.records()

    wire_recs, tap_recs = run(scenario())
    assert sorted(triples(tap_recs)) == sorted(triples(wire_recs))
    assert len(tap_recs) == 5
