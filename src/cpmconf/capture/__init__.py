"""Capture layer: observes SIP traffic on the wire (or, failing that, at our sockets).

It never sends a packet. The harness reads captured traffic through one
interface, `CaptureSource`, whether it comes from raw capture (`Sniffer`) or
from transport taps (`SocketTapRecorder`); tests use a `CaptureWindow` per test.
"""

from __future__ import annotations

from collections.abc import Iterable

from cpmconf.capture.errors import CaptureError
from cpmconf.capture.records import (
    Record,
    RecordExtractor,
    extract_records,
    records_from_pcap,
    segment_of,
)
from cpmconf.capture.sniffer import Sniffer, capture_available
from cpmconf.capture.source import CaptureSource, PacketStore, RecordingSource
from cpmconf.capture.tap import SocketTapRecorder
from cpmconf.capture.tcp import StreamEvent, TcpReassembler
from cpmconf.capture.window import BarrierResult, CaptureWindow


def open_capture_source(
    ports: Iterable[int],
    iface: str = "lo",
    *,
    timeout: float = 5.0,
    prefer: str = "sniffer",
) -> Sniffer | SocketTapRecorder:
    """Start raw capture if possible, else return a socket tap saying why.

    With the socket tap the caller must attach ``source.tap`` to its endpoints;
    with the sniffer ``source.tap`` is None.
    """
    if prefer == "socket-tap":
        return SocketTapRecorder("socket tap requested")
    ok, why = capture_available(iface)
    if ok:
        sniffer = Sniffer(ports, iface)
        try:
            sniffer.start(timeout)
            return sniffer
        except CaptureError as exc:
            why = str(exc)
    return SocketTapRecorder(f"raw capture unavailable ({why}); recording at our sockets")


__all__ = [
    "BarrierResult",
    "CaptureError",
    "CaptureSource",
    "CaptureWindow",
    "PacketStore",
    "Record",
    "RecordExtractor",
    "RecordingSource",
    "Sniffer",
    "SocketTapRecorder",
    "StreamEvent",
    "TcpReassembler",
    "capture_available",
    "extract_records",
    "open_capture_source",
    "records_from_pcap",
    "segment_of",
]
