"""Captured SIP and MSRP messages (`Record`) and their extraction from packets.

This module owns the pure step from a list of scapy packets to the messages
they carry: UDP datagrams become one SIP record each, TCP segments go through
our `TcpReassembler`, which classifies each direction of a connection as MSRP
(its first bytes are ``MSRP ``) or SIP and frames it accordingly; a TLS direction's
ciphertext yields nothing. Frames whose source MAC is `PLAINTEXT_MAC` are not the wire but
the plaintext a TLS endpoint of the test system sent or received
(`cpmconf.capture.tap.TlsPlaintextTap`): they go through a reassembler of their own and
their records say transport ``tls``. It does no I/O
apart from `records_from_pcap`, which only reads a file, so a stored pcap can
be judged again later with exactly the code that judged the live run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet
from scapy.utils import rdpcap

from cpmconf.capture.tcp import (
    DEFAULT_MAX_MESSAGE,
    FIN,
    MSRP,
    RST,
    SIP,
    SYN,
    Flow,
    StreamEvent,
    TcpReassembler,
)
from cpmconf.codec.errors import CodecError
from cpmconf.codec.framing import datagram_frame
from cpmconf.codec.msrp import MsrpMessage
from cpmconf.codec.sip import SipMessage

# Marks a synthetic frame carrying TLS plaintext seen at our endpoint, not a frame of the wire
# (locally administered, so no real interface has it).
PLAINTEXT_MAC = "02:00:00:00:71:50"


def is_plaintext(pkt: Packet) -> bool:
    """Whether `pkt` is a TLS plaintext frame of the test system, not one of the wire."""
    return pkt.haslayer(Ether) and pkt[Ether].src == PLAINTEXT_MAC


@dataclass(frozen=True)
class Record:
    """One SIP or MSRP message seen on the wire, or what stood in its place (`error` set).

    `protocol` is "SIP" (`message` a `SipMessage`) or "MSRP" (`message` an
    `MsrpMessage`); an error record carries the protocol its stream was classified as.
    """

    time: float
    flow: Flow
    transport: str
    raw: bytes
    message: SipMessage | MsrpMessage | None
    error: str | None
    index: int
    protocol: str = SIP

    @property
    def ok(self) -> bool:
        return self.message is not None

    @property
    def is_msrp(self) -> bool:
        return self.protocol == MSRP

    def __str__(self) -> str:
        src_ip, src_port, dst_ip, dst_port = self.flow
        what = self.message.summary() if self.message is not None else f"unparseable: {self.error}"
        kind = self.transport if self.protocol == SIP else f"{self.transport} {self.protocol}"
        return f"#{self.index} {kind} {src_ip}:{src_port} -> {dst_ip}:{dst_port}: {what}"


@dataclass(frozen=True)
class Segment:
    """The transport-level facts of one packet that matter to SIP and MSRP."""

    transport: str
    flow: Flow
    payload: bytes
    seq: int = 0
    flags: int = 0


def _layers(pkt: Packet):
    ip = pkt.getlayer(IP)
    if ip is None:
        ip = pkt.getlayer(IPv6)
    return ip, (ip.payload if ip is not None else None)


def _unbuilt(ip, l4) -> bool:
    if isinstance(ip, IP) and (ip.len is None or ip.ihl is None):
        return True
    if isinstance(ip, IPv6) and ip.plen is None:
        return True
    return (isinstance(l4, UDP) and l4.len is None) or (isinstance(l4, TCP) and l4.dataofs is None)


def segment_of(pkt: Packet) -> Segment | None:
    """Transport, flow and payload of an IPv4/IPv6 UDP or TCP packet; None for anything else.

    Payload lengths come from the IP/UDP length fields so that link-layer padding
    is never mistaken for SIP bytes.
    """
    try:
        ip, l4 = _layers(pkt)
        if ip is None:
            return None
        if _unbuilt(ip, l4):
            # Crafted and never serialised: let scapy fill in the length fields first.
            ip, l4 = _layers(pkt.__class__(bytes(pkt)))
            if ip is None:
                return None
        if isinstance(ip, IP):
            if ip.frag or ip.flags.MF:
                return None  # fragments are not reassembled (loopback MTU makes them rare)
            room = ip.len - ip.ihl * 4
        else:
            room = ip.plen
        if isinstance(l4, UDP):
            data = bytes(l4.payload)
            limit = min(room, l4.len) - 8
            data = data[: max(limit, 0)]
            flow = (str(ip.src), int(l4.sport), str(ip.dst), int(l4.dport))
            return Segment("udp", flow, data)
        if isinstance(l4, TCP):
            data = bytes(l4.payload)
            data = data[: max(room - l4.dataofs * 4, 0)]
            flow = (str(ip.src), int(l4.sport), str(ip.dst), int(l4.dport))
            flags = int(l4.flags) & (FIN | SYN | RST)
            return Segment("tcp", flow, data, int(l4.seq), flags)
    except Exception:  # malformed packets that scapy dissected oddly are simply not SIP
        return None
    return None


def _parse(raw: bytes, protocol: str = SIP) -> tuple[SipMessage | MsrpMessage | None, str | None]:
    try:
        if protocol == MSRP:
            return MsrpMessage.parse(raw), None
        return SipMessage.parse(raw), None
    except CodecError as exc:
        return None, str(exc)
    except Exception as exc:  # a codec bug must not stop the capture; make it visible instead
        return None, f"codec bug: {type(exc).__name__}: {exc}"


class RecordExtractor:
    """Incremental form of `extract_records`: feed packets in capture order, get records."""

    def __init__(
        self,
        ports: Collection[int] | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE,
    ) -> None:
        self._ports = frozenset(ports) if ports is not None else None
        self._max_message_size = max_message_size
        self._tcp = TcpReassembler(max_message_size=max_message_size)
        self._plain = TcpReassembler(max_message_size=max_message_size)  # TLS plaintext
        self._count = 0

    def feed(self, pkt: Packet) -> list[Record]:
        seg = segment_of(pkt)
        if seg is None:
            return []
        if self._ports is not None and not (
            seg.flow[1] in self._ports or seg.flow[3] in self._ports
        ):
            return []
        now = float(pkt.time)
        if seg.transport == "udp":
            if not seg.payload:
                return []
            return [self._udp(seg, now)]
        if is_plaintext(pkt):
            events = self._plain.feed(seg.flow, seg.seq, seg.flags, seg.payload, now)
            return self._stream(events, "tls")
        return self._stream(self._tcp.feed(seg.flow, seg.seq, seg.flags, seg.payload, now))

    def finish(self) -> list[Record]:
        """Records for TCP data left incomplete at the end of the capture."""
        return self._stream(self._tcp.finish()) + self._stream(self._plain.finish(), "tls")

    def _udp(self, seg: Segment, now: float) -> Record:
        try:
            frame = datagram_frame(seg.payload, now)
        except CodecError as exc:
            return self._make(now, seg.flow, "udp", seg.payload, None, str(exc))
        except Exception as exc:
            return self._make(
                now, seg.flow, "udp", seg.payload, None, f"codec bug: {type(exc).__name__}: {exc}"
            )
        message, error = _parse(frame.raw)
        return self._make(frame.time, seg.flow, "udp", frame.raw, message, error)

    def _stream(self, events: Iterable[StreamEvent], transport: str = "tcp") -> list[Record]:
        out = []
        for ev in events:
            if ev.error is not None:
                out.append(
                    self._make(ev.time, ev.flow, transport, ev.raw, None, ev.error, ev.protocol)
                )
            else:
                message, error = _parse(ev.raw, ev.protocol)
                out.append(
                    self._make(ev.time, ev.flow, transport, ev.raw, message, error, ev.protocol)
                )
        return out

    def _make(self, time, flow, transport, raw, message, error, protocol=SIP) -> Record:
        rec = Record(
            float(time), flow, transport, bytes(raw), message, error, self._count, protocol
        )
        self._count += 1
        return rec


def extract_records(
    packets: Iterable[Packet],
    ports: Collection[int] | None = None,
    *,
    flush: bool = True,
) -> list[Record]:
    """All SIP and MSRP records carried by `packets` (in capture order). Pure; never raises
    on content.

    `ports`, if given, keeps only packets with a source or destination port in it
    (include the MSRP ports, see `cpmconf.capture.sessions.msrp_ports`).
    `flush` adds error records for TCP data still incomplete at the end.
    """
    ex = RecordExtractor(ports)
    out: list[Record] = []
    for pkt in packets:
        out += ex.feed(pkt)
    if flush:
        out += ex.finish()
    return out


def records_from_pcap(path: str, ports: Collection[int] | None = None) -> list[Record]:
    """Judge a stored capture file again: `rdpcap` followed by `extract_records`."""
    return extract_records(rdpcap(str(path)), ports)
