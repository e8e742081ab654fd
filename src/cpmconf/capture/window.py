"""Per-test view of the session capture: records since the test started, barrier, pcap.

Records are SIP and MSRP alike; a barrier waits for either kind by exact bytes.

This module owns `CaptureWindow`. A window marks the capture position when a
test starts; `barrier` waits (bounded) until given messages have been captured,
woken by the capture source rather than by polling with sleeps; `write_pcap`
stores the window's frames for the report and for judging again later, less the bare TCP
control segments (FIN, ACK, RST) of connections this window never used: those close an
earlier test's connections, and the sniffer can store them just after the window began.
"""

from __future__ import annotations

import asyncio
import collections
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.packet import Packet

from cpmconf.capture.records import Record
from cpmconf.capture.source import CaptureSource

DLT_EN10MB = 1


@dataclass(frozen=True)
class BarrierResult:
    """Outcome of a barrier: `complete` when every expected message was captured in time."""

    complete: bool
    missing: tuple[bytes, ...]
    expected: int
    elapsed: float
    mode: str

    def __bool__(self) -> bool:
        return self.complete

    def __str__(self) -> str:
        if self.complete:
            return f"all {self.expected} messages captured ({self.mode}) in {self.elapsed:.3f} s"
        return (
            f"{len(self.missing)} of {self.expected} messages not captured ({self.mode}) "
            f"after {self.elapsed:.3f} s"
        )


class CaptureWindow:
    """Records and frames captured from the moment the window was created."""

    def __init__(self, source: CaptureSource) -> None:
        self.source = source
        self.start = source.mark()

    @property
    def mode(self) -> str:
        return self.source.mode

    def records(self) -> list[Record]:
        return self.source.records_since(self.start)

    def messages(self) -> list[Record]:
        """Only the records that parsed as SIP."""
        return [r for r in self.records() if r.message is not None and r.protocol == "SIP"]

    def msrp_messages(self) -> list[Record]:
        """Only the records that parsed as MSRP."""
        return [r for r in self.records() if r.message is not None and r.protocol == "MSRP"]

    def missing(self, expected: Iterable[bytes]) -> list[bytes]:
        """Which of `expected` (raw messages) the capture does not hold now."""
        return self._missing(expected)

    def _missing(self, expected: Iterable[bytes]) -> list[bytes]:
        seen = collections.Counter(r.raw for r in self.records())
        missing = []
        for raw in expected:
            if seen[raw] > 0:
                seen[raw] -= 1
            else:
                missing.append(raw)
        return missing

    async def barrier(self, expected_raw: list[bytes], timeout: float) -> BarrierResult:
        """Wait until each expected message (exact bytes; repeats count) is in the window.

        Never raises on timeout: the result lists what is missing.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + max(timeout, 0.0)
        arrived = asyncio.Event()
        scheduled = False

        def on_loop() -> None:
            nonlocal scheduled
            scheduled = False
            arrived.set()

        def wake() -> None:
            # Called from the capture thread: coalesce into one callback per loop turn.
            nonlocal scheduled
            if scheduled:
                return
            scheduled = True
            try:
                loop.call_soon_threadsafe(on_loop)
            except RuntimeError:  # loop already closed
                pass

        unsubscribe = self.source.subscribe(wake)
        try:
            while True:
                arrived.clear()
                missing = self._missing(expected_raw)
                remaining = deadline - loop.time()
                if not missing or remaining <= 0:
                    return BarrierResult(
                        not missing,
                        tuple(missing),
                        len(expected_raw),
                        loop.time() - started,
                        self.source.mode,
                    )
                try:
                    async with asyncio.timeout(remaining):  # cancellation-safe, unlike wait_for
                        await arrived.wait()
                except TimeoutError:
                    pass
        finally:
            unsubscribe()

    def write_pcap(self, path: str | os.PathLike[str]) -> int:
        """Write the window's frames (SIP and MSRP alike) to a pcap file; returns how many
        were written. `cpmconf.capture.tshark_decode_args(window.records())` gives the
        ``-d`` options for reading it with tshark. TLS is on the wire as ciphertext: tshark
        shows what is inside with ``-o tls.keylog_file:<the run's key log>``."""
        packets = own_packets(self.source.packets_since(self.start))
        write_frames(path, ((float(p.time), _frame_bytes(p)) for p in packets))
        return len(packets)

    def write_plaintext_pcap(self, path: str | os.PathLike[str]) -> int:
        """Write the TLS plaintext frames the window's checks judged (a sniffer with a
        `plaintext_tap`) to a pcap file, if there are any; returns how many were written."""
        since = getattr(self.source, "packets_since", None)
        try:
            packets = since(self.start, plaintext=True) if since else []
        except TypeError:  # a source without plaintext frames
            packets = []
        if packets:
            write_frames(path, ((float(p.time), _frame_bytes(p)) for p in packets))
        return len(packets)


PCAP_SNAPLEN = 262144


def _frame_bytes(pkt: Packet) -> bytes:
    # The bytes the frame was dissected from: rebuilding them from the layers (as scapy's
    # writer does) costs more than the rest of a case's teardown.
    original = getattr(pkt, "original", None)
    return original if isinstance(original, bytes) and original else bytes(pkt)


def write_frames(path: str | os.PathLike[str], frames: Iterable[tuple[float, bytes]]) -> None:
    """A classic pcap file (microsecond stamps, Ethernet link type) of (time, frame) pairs."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, PCAP_SNAPLEN, DLT_EN10MB)]
    for t, frame in frames:
        sec = int(t)
        usec = int(round((t - sec) * 1_000_000))
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
        out.append(frame)
    with open(os.fspath(path), "wb") as fh:
        fh.write(b"".join(out))


def _tcp_flow(pkt: Packet) -> tuple | None:
    """The connection a TCP frame belongs to (both directions alike), or None."""
    if not pkt.haslayer(TCP):
        return None
    net = pkt.getlayer(IP) or pkt.getlayer(IPv6)
    if net is None:
        return None
    tcp = pkt[TCP]
    ends = sorted([(str(net.src), int(tcp.sport)), (str(net.dst), int(tcp.dport))])
    return tuple(ends)


def _bare(pkt: Packet) -> bool:
    """A TCP segment with no payload and no SYN: an ACK, FIN or RST."""
    tcp = pkt[TCP]
    return not (int(tcp.flags) & 0x02) and len(bytes(tcp.payload)) == 0


def own_packets(packets: list[Packet]) -> list[Packet]:
    """`packets` less the bare control segments of TCP connections that carry no SYN and no
    payload in them (another window's connections being closed)."""
    used = set()
    for pkt in packets:
        flow = _tcp_flow(pkt)
        if flow is not None and not _bare(pkt):
            used.add(flow)
    out = []
    for pkt in packets:
        flow = _tcp_flow(pkt)
        if flow is not None and flow not in used and _bare(pkt):
            continue
        out.append(pkt)
    return out
