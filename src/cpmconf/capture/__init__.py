"""Capture layer: observes SIP and MSRP traffic on the wire (or, failing that, at our sockets).

It never sends a packet. The harness reads captured traffic through one
interface, `CaptureSource`, whether it comes from raw capture (`Sniffer`) or
from transport taps (`SocketTapRecorder`); tests use a `CaptureWindow` per test.

Records carry `protocol` "SIP" or "MSRP": a TCP direction whose first bytes are
``MSRP `` is framed and parsed as MSRP (RFC 4975), anything else as SIP; UDP is
always SIP. MSRP ports are chosen at run time and named only in SDP: pass
``follow_msrp=True`` to `Sniffer` / `open_capture_source` to have the sniffer
add the MSRP ports that captured SDP names, and/or call ``source.add_ports``
(a no-op on the socket tap, which sees every message of its endpoints).
`dialog_of(records)` ties each MSRP record to the Call-ID that negotiated it.
`cpmconf.capture.view.View` is what the checks read: the window's records with who sent each,
handed out as `Seen` items that only the capture makes and that carry their capture index.

Reading a window's pcap with tshark: ``tshark -r FILE -Y msrp`` finds MSRP on
any port by its ``msrp_tcp`` heuristic (enabled by default), including a
message split across segments; SIP is only recognised on 5060/5061 unless told.
``tshark_decode_args(window.records())`` returns the ``-d udp.port==N,sip`` /
``-d tcp.port==N,msrp`` options naming every port seen, for both. Known tshark
limit (4.0, with or without ``-d``): its MSRP dissector shows one message per
segment run, so the second of two MSRP messages sharing a TCP segment, or a
message starting mid-segment, is not shown; the records are the authority.
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
from cpmconf.capture.sessions import (
    dialog_of,
    msrp_targets,
    normalise_host,
    sdp_bodies,
    tshark_decode_args,
)
from cpmconf.capture.sniffer import Sniffer, capture_available
from cpmconf.capture.source import CaptureSource, PacketStore, RecordingSource
from cpmconf.capture.tap import SocketTapRecorder
from cpmconf.capture.tcp import StreamEvent, TcpReassembler, detect_protocol
from cpmconf.capture.window import BarrierResult, CaptureWindow


def open_capture_source(
    ports: Iterable[int],
    iface: str = "lo",
    *,
    timeout: float = 5.0,
    prefer: str = "sniffer",
    follow_msrp: bool = False,
) -> Sniffer | SocketTapRecorder:
    """Start raw capture if possible, else return a socket tap saying why.

    With the socket tap the caller must attach ``source.tap`` to its endpoints;
    with the sniffer ``source.tap`` is None. `follow_msrp` is passed to `Sniffer`.
    """
    if prefer == "socket-tap":
        return SocketTapRecorder("socket tap requested")
    ok, why = capture_available(iface)
    if ok:
        sniffer = Sniffer(ports, iface, follow_msrp=follow_msrp)
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
    "detect_protocol",
    "dialog_of",
    "extract_records",
    "msrp_targets",
    "normalise_host",
    "open_capture_source",
    "records_from_pcap",
    "sdp_bodies",
    "segment_of",
    "tshark_decode_args",
]
