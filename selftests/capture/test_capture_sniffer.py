"""Live raw capture on loopback: real traffic from plain sockets, recorded by `Sniffer`."""

from __future__ import annotations

import shutil
import socket
import subprocess

import pytest

from cpmconf.capture import (
    CaptureError,
    CaptureSource,
    CaptureWindow,
    Sniffer,
    capture_available,
    open_capture_source,
    records_from_pcap,
    segment_of,
)

from .conftest import needs_capture, run, sip_message, sip_ok, udp_socket, wait_for_frames

pytestmark = needs_capture


@pytest.fixture
def udp_pair():
    rx, tx = udp_socket(), udp_socket()
    yield rx, tx
    rx.close()
    tx.close()


@pytest.fixture
def tcp_pair():
    """A connected client/server pair on loopback with Nagle off (one send, one segment)."""
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname(), timeout=5)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server, _ = listener.accept()
    server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    yield client, server, listener.getsockname()[1]
    for s in (client, server, listener):
        s.close()


def started(ports, **kw) -> Sniffer:
    s = Sniffer(ports, **kw)
    s.start(timeout=5.0)
    return s


def test_capture_available_here():
    ok, why = capture_available("lo")
    assert ok, why
    assert capture_available("no-such-if0")[0] is False


def test_bad_interface_and_bad_ports_raise_capture_error():
    with pytest.raises(CaptureError):
        Sniffer([5060], iface="no-such-if0").start(timeout=2.0)
    with pytest.raises(CaptureError):
        Sniffer([])
    with pytest.raises(CaptureError):
        Sniffer([70000])


def test_udp_exactly_one_record_per_datagram(udp_pair):
    rx, tx = udp_pair
    port = rx.getsockname()[1]
    sniffer = started([port])
    try:
        assert isinstance(sniffer, CaptureSource) and sniffer.mode == "sniffer"
        window = CaptureWindow(sniffer)
        msgs = [sip_message(i) for i in range(3)]
        for m in msgs:
            tx.sendto(m, ("127.0.0.1", port))
        rx.sendto(sip_ok(0), tx.getsockname())  # reply from the watched port
        result = run(window.barrier([*msgs, sip_ok(0)], timeout=5))
        assert result.complete, result
    finally:
        sniffer.stop()
    recs = window.records()
    assert [r.raw for r in recs] == [*msgs, sip_ok(0)]  # no loopback duplicates
    assert all(r.transport == "udp" and r.message is not None for r in recs)
    assert recs[0].flow == (*tx.getsockname(), *rx.getsockname())
    # 32 MiB when we may force it (CAP_NET_ADMIN), else what net.core.rmem_max allows.
    with open("/proc/sys/net/core/rmem_max") as f:
        assert sniffer.rcvbuf >= min(32 * 1024 * 1024, 2 * int(f.read()))
    assert sniffer.failed is None


def test_without_dedup_loopback_shows_each_packet_twice(udp_pair):
    # Control for the test above: proves the outgoing copy really exists on lo.
    rx, tx = udp_pair
    port = rx.getsockname()[1]
    sniffer = started([port], drop_outgoing=False)
    try:
        window = CaptureWindow(sniffer)
        tx.sendto(sip_message(1), ("127.0.0.1", port))
        result = run(window.barrier([sip_message(1), sip_message(1)], timeout=5))
    finally:
        sniffer.stop()
    assert result.complete and len(window.records()) == 2


def test_ipv6_loopback_once():
    rx, tx = udp_socket(socket.AF_INET6, "::1"), udp_socket(socket.AF_INET6, "::1")
    port = rx.getsockname()[1]
    sniffer = started([port])
    try:
        window = CaptureWindow(sniffer)
        tx.sendto(sip_message(6), ("::1", port))
        assert run(window.barrier([sip_message(6)], timeout=5)).complete
    finally:
        sniffer.stop()
        rx.close()
        tx.close()
    (rec,) = window.records()
    assert rec.flow[0] == "::1" and rec.flow[3] == port


def test_burst_of_1000_datagrams_all_recorded(udp_pair):
    rx, tx = udp_pair
    port = rx.getsockname()[1]
    sniffer = started([port])
    try:
        window = CaptureWindow(sniffer)
        msgs = [sip_message(i, b"burst %d" % i) for i in range(1000)]
        for m in msgs:  # sent straight after start() returned, as fast as possible
            tx.sendto(m, ("127.0.0.1", port))
        result = run(window.barrier(msgs, timeout=8))
        assert result.complete, result
    finally:
        sniffer.stop()
    recs = window.records()
    assert len(recs) == 1000 and sorted(r.raw for r in recs) == sorted(msgs)
    assert sniffer.dropped == 0


def test_kernel_overrun_is_counted_not_hidden(udp_pair):
    rx, tx = udp_pair
    port = rx.getsockname()[1]
    sniffer = started([port], rcvbuf=4096)  # deliberately tiny
    # Datagrams near the loopback MTU: the tiny buffer holds one at a time, so the reader
    # falls behind even on an idle machine (with small ones it sometimes kept up: no drop).
    body = b"x" * 60000
    try:
        for i in range(2000):
            tx.sendto(sip_message(i, body), ("127.0.0.1", port))
    finally:
        sniffer.stop()
    captured = len(sniffer.records_since(0))
    assert sniffer.dropped > 0 and captured + sniffer.dropped == 2000


def test_tcp_several_messages_in_one_segment_and_split_message(tcp_pair):
    client, server, port = tcp_pair
    sniffer = started([port])
    try:
        window = CaptureWindow(sniffer)
        batch = [sip_message(i) for i in range(3)]
        client.sendall(b"".join(batch))
        big = sip_message(9, b"x" * 500)
        parts = [big[:40], big[40:300], big[300:]]
        for part in parts:
            client.sendall(part)
            # Wait until this piece is on the wire so the pieces stay separate segments.
            assert wait_for_frames(sniffer, lambda ps, p=part: any(p in bytes(x) for x in ps))
        server.sendall(sip_ok(9))
        result = run(window.barrier([*batch, big, sip_ok(9)], timeout=5))
        assert result.complete, result
    finally:
        sniffer.stop()
    recs = window.records()
    assert [r.raw for r in recs] == [*batch, big, sip_ok(9)]
    assert all(r.transport == "tcp" and r.error is None for r in recs)
    assert recs[-1].flow[1] == port
    segs = [segment_of(p) for p in window.source.packets_since(window.start)]
    data_segments = [g for g in segs if g is not None and g.payload]
    assert len(data_segments) >= 5  # batch, three pieces of big, the reply


def test_window_excludes_earlier_traffic_and_barrier_reports_missing(udp_pair):
    rx, tx = udp_pair
    port = rx.getsockname()[1]
    sniffer = started([port])
    try:
        first = CaptureWindow(sniffer)
        tx.sendto(sip_message(1), ("127.0.0.1", port))
        assert run(first.barrier([sip_message(1)], timeout=5)).complete
        second = CaptureWindow(sniffer)
        tx.sendto(sip_message(2), ("127.0.0.1", port))
        result = run(second.barrier([sip_message(2), sip_message(3)], timeout=0.3))
    finally:
        sniffer.stop()
    assert not result.complete and result.missing == (sip_message(3),)
    assert [r.raw for r in second.records()] == [sip_message(2)]
    assert [r.raw for r in first.records()] == [sip_message(1), sip_message(2)]


def test_pcap_round_trip_udp_and_tcp(udp_pair, tcp_pair, tmp_path):
    rx, tx = udp_pair
    client, server, tport = tcp_pair
    uport = rx.getsockname()[1]
    sniffer = started([uport, tport])
    try:
        window = CaptureWindow(sniffer)
        expected = [sip_message(1), sip_message(2), sip_message(3, b"over tcp")]
        tx.sendto(expected[0], ("127.0.0.1", uport))
        client.sendall(expected[1] + expected[2])
        assert run(window.barrier(expected, timeout=5)).complete
    finally:
        sniffer.stop()
    path = tmp_path / "window.pcap"
    assert window.write_pcap(path) >= 2
    again = records_from_pcap(str(path))
    assert [r.raw for r in again if r.message] == [r.raw for r in window.records() if r.message]
    assert sorted(r.raw for r in again if r.message) == sorted(expected)
    if shutil.which("tshark"):
        out = subprocess.run(
            [
                "tshark",
                "-r",
                str(path),
                "-Y",
                "sip",
                "-d",
                f"udp.port=={uport},sip",
                "-d",
                f"tcp.port=={tport},sip",
            ],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert out.returncode == 0 and out.stdout.count("MESSAGE") >= 3, out.stdout + out.stderr


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_decodes_written_pcap(udp_pair, tmp_path):
    rx, tx = udp_pair
    port = rx.getsockname()[1]
    sniffer = started([port])
    try:
        window = CaptureWindow(sniffer)
        tx.sendto(sip_message(1), ("127.0.0.1", port))
        assert run(window.barrier([sip_message(1)], timeout=5)).complete
    finally:
        sniffer.stop()
    path = tmp_path / "w.pcap"
    window.write_pcap(path)
    out = subprocess.run(
        ["tshark", "-r", str(path), "-Y", "sip", "-d", f"udp.port=={port},sip"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert "MESSAGE" in out.stdout


def test_add_ports_while_running(udp_pair):
    rx, tx = udp_pair
    other = udp_socket()
    sniffer = started([rx.getsockname()[1]])
    try:
        window = CaptureWindow(sniffer)
        other_port = other.getsockname()[1]
        sniffer.add_ports([other_port])
        tx.sendto(sip_message(7), ("127.0.0.1", other_port))
        assert run(window.barrier([sip_message(7)], timeout=5)).complete
        assert other_port in sniffer.ports
    finally:
        sniffer.stop()
        other.close()


def test_unwatched_ports_are_not_recorded(udp_pair):
    rx, tx = udp_pair
    watched = udp_socket()
    sniffer = started([watched.getsockname()[1]])
    try:
        window = CaptureWindow(sniffer)
        tx.sendto(sip_message(1), rx.getsockname())  # not watched
        tx.sendto(sip_message(2), watched.getsockname())
        assert run(window.barrier([sip_message(2)], timeout=5)).complete
    finally:
        sniffer.stop()
        watched.close()
    assert [r.raw for r in window.records()] == [sip_message(2)]


def test_open_capture_source_prefers_sniffer(udp_pair):
    source = open_capture_source([udp_pair[0].getsockname()[1]])
    try:
        assert source.mode == "sniffer" and source.tap is None and "lo" in source.reason
    finally:
        source.stop()
