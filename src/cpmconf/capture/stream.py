"""Streaming read of a stored capture: one pass, bounded memory, frame numbers kept.

This module owns reading a pcap (or pcapng) file packet by packet without building scapy
packets: the record headers, the link layer (Ethernet with VLAN tags, BSD loopback, Linux
cooked v1/v2, raw IP) and the IPv4/IPv6 UDP/TCP headers are decoded with `struct`, and TCP
goes through the same `TcpReassembler` a live capture uses. It yields `WireMessage`s: the
framed bytes of one SIP or MSRP message with the capture's 1-based frame number (the frame
that completed it, as tshark numbers frames), unparsed, so a reader parses only what it
needs. Closed TCP directions are forgotten after a while, so memory does not grow with
the number of connections in the capture.

Link types or files it cannot decode itself (pcapng with an unusual block layout) fall back
to scapy's reader through `segment_of`, slower but the same segments.
"""

from __future__ import annotations

import ipaddress
import os
import struct
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from cpmconf.capture.records import Segment, segment_of
from cpmconf.capture.tcp import FIN, MSRP, RST, SIP, SYN, Flow, TcpReassembler

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
# Closed TCP directions kept for late retransmissions before they are forgotten.
KEEP_CLOSED = 4096


@dataclass(frozen=True, slots=True)
class WireMessage:
    """One framed message (or a framing error in its place) and the frame that completed it."""

    frame: int
    time: float
    flow: Flow
    transport: str
    raw: bytes
    protocol: str = SIP
    error: str | None = None


_V4_NAMES: dict[bytes, str] = {}


def _v4(raw: bytes) -> str:
    """Dotted form of an IPv4 address, remembered (a capture has few addresses)."""
    name = _V4_NAMES.get(raw)
    if name is None:
        name = ".".join(map(str, raw))
        if len(_V4_NAMES) < 65536:
            _V4_NAMES[raw] = name
    return name


def _ip_segment(data: bytes) -> Segment | None:
    """Transport, flow and payload of an IPv4/IPv6 packet starting at data[0]."""
    if not data:
        return None
    version = data[0] >> 4
    if version == 4:
        if len(data) < 20:
            return None
        ihl = (data[0] & 0x0F) * 4
        total = int.from_bytes(data[2:4], "big")
        if data[6] & 0x3F or data[7]:  # MF flag or a fragment offset: not reassembled
            return None
        proto = data[9]
        src, dst = _v4(data[12:16]), _v4(data[16:20])
        l4 = data[ihl:total] if total >= ihl else b""
    elif version == 6:
        if len(data) < 40:
            return None
        plen = int.from_bytes(data[4:6], "big")
        proto = data[6]
        src = str(ipaddress.IPv6Address(data[8:24]))
        dst = str(ipaddress.IPv6Address(data[24:40]))
        l4 = data[40 : 40 + plen]
    else:
        return None
    if proto == 17 and len(l4) >= 8:
        sport, dport, ulen = struct.unpack_from(">HHH", l4)
        return Segment("udp", (src, sport, dst, dport), bytes(l4[8 : min(ulen, len(l4))]))
    if proto == 6 and len(l4) >= 20:
        sport, dport, seq = struct.unpack_from(">HHI", l4)
        off = (l4[12] >> 4) * 4
        flags = l4[13] & (FIN | SYN | RST)
        return Segment("tcp", (src, sport, dst, dport), bytes(l4[off:]), seq, flags)
    return None


def _link_payload(linktype: int, data: bytes) -> bytes | None:
    """The IP packet inside one link-layer frame, or None when it carries none."""
    if linktype == 1:  # Ethernet, possibly VLAN-tagged
        off, ethertype = 12, int.from_bytes(data[12:14], "big")
        while ethertype in (0x8100, 0x88A8) and len(data) >= off + 6:
            off += 4
            ethertype = int.from_bytes(data[off : off + 2], "big")
        return data[off + 2 :] if ethertype in (0x0800, 0x86DD) else None
    if linktype == 0 or linktype == 108:  # BSD loopback: 4-byte family, host order
        return data[4:]
    if linktype == 113:  # Linux cooked v1
        return data[16:] if int.from_bytes(data[14:16], "big") in (0x0800, 0x86DD) else None
    if linktype == 276:  # Linux cooked v2
        return data[20:] if int.from_bytes(data[0:2], "big") in (0x0800, 0x86DD) else None
    if linktype in (101, 12, 14, 228, 229):  # raw IP
        return data
    return None


def _pcap_packets(f, endian: str, unit: float) -> Iterator[tuple[float, bytes, int]]:
    linktype = struct.unpack(endian + "I", f.read(24)[20:24])[0] & 0xFFFF
    header = struct.Struct(endian + "IIII")
    read = f.read
    while True:
        h = read(16)
        if len(h) < 16:
            return
        sec, frac, incl, _orig = header.unpack(h)
        data = read(incl)
        if len(data) < incl:
            return  # a truncated last record (capture cut off)
        yield sec + frac * unit, data, linktype


def _pcapng_packets(f) -> Iterator[tuple[float, bytes, int]]:
    """Enhanced and simple packet blocks of a pcapng file, per interface's link type."""
    endian = "<"
    interfaces: list[tuple[int, float]] = []
    while True:
        head = f.read(8)
        if len(head) < 8:
            return
        btype = struct.unpack(endian + "I", head[:4])[0]
        if head[:4] == PCAPNG_MAGIC:
            rest = f.read(4)
            endian = "<" if rest == b"\x4d\x3c\x2b\x1a" else ">"
            blen = struct.unpack(endian + "I", head[4:8])[0]
            f.read(blen - 12)
            interfaces = []
            continue
        blen = struct.unpack(endian + "I", head[4:8])[0]
        body = f.read(blen - 8)
        if len(body) < blen - 8:
            return
        if btype == 1:  # interface description
            linktype = struct.unpack_from(endian + "H", body)[0]
            unit = 1e-6
            opts = body[8:-4]
            while len(opts) >= 4:
                code, olen = struct.unpack_from(endian + "HH", opts)
                if code == 0:
                    break
                if code == 9 and olen >= 1:  # if_tsresol
                    r = opts[4]
                    unit = 2.0 ** -(r & 0x7F) if r & 0x80 else 10.0**-r
                opts = opts[4 + ((olen + 3) & ~3) :]
            interfaces.append((linktype, unit))
        elif btype == 6:  # enhanced packet
            iface, hi, lo, incl = struct.unpack_from(endian + "IIII", body)
            linktype, unit = interfaces[iface] if iface < len(interfaces) else (1, 1e-6)
            yield ((hi << 32) | lo) * unit, body[20 : 20 + incl], linktype
        elif btype == 3:  # simple packet
            incl = struct.unpack_from(endian + "I", body)[0]
            linktype = interfaces[0][0] if interfaces else 1
            yield 0.0, body[4 : 4 + incl], linktype


def segments(path: str) -> Iterator[tuple[int, float, Segment | None]]:
    """(frame number, time, segment or None) for every packet of the file, in file order.

    Raises ValueError when the file is neither pcap nor pcapng.
    """
    with open(path, "rb") as f:
        magic = f.read(4)
        f.seek(0)
        if magic in PCAP_MAGICS:
            packets = _pcap_packets(f, *PCAP_MAGICS[magic])
        elif magic == PCAPNG_MAGIC:
            packets = _pcapng_packets(f)
        else:
            raise ValueError(f"not a pcap or pcapng file (magic {magic.hex() or 'empty'})")
        frame = 0
        for when, data, linktype in packets:
            frame += 1
            ip = _link_payload(linktype, data)
            if ip is None:
                if linktype in (0, 1, 12, 14, 101, 108, 113, 228, 229, 276):
                    yield frame, when, None  # not IP
                else:
                    yield frame, when, _scapy_segment(linktype, data, when)
                continue
            try:
                seg = _ip_segment(ip)
            except (struct.error, IndexError, ValueError):
                seg = None
            yield frame, when, seg


def _scapy_segment(linktype: int, data: bytes, when: float) -> Segment | None:
    """A link type this module does not decode: let scapy dissect it (slow, rare)."""
    from scapy.config import conf

    cls = conf.l2types.get(linktype)
    if cls is None:
        return None
    try:
        pkt = cls(data)
    except Exception:
        return None
    pkt.time = when
    return segment_of(pkt)


class _Skip:
    """A framer for a direction the reader was told not to frame: takes bytes, keeps none."""

    def feed(self, data: bytes, now: float) -> list:
        return []

    def pending(self) -> int:
        return 0


class _PruningReassembler(TcpReassembler):
    """The capture layer's reassembler, forgetting the oldest closed directions so that a
    capture with millions of connections does not keep them all; MSRP directions are
    classified as always but, unless asked for, not framed (a SIP judge never reads them)."""

    def __init__(self, keep_closed: int = KEEP_CLOSED, msrp: bool = True) -> None:
        super().__init__()
        self._closed: deque[Flow] = deque()
        self._keep = keep_closed
        self._msrp = msrp

    def _framer(self, protocol: str):
        if protocol == MSRP and not self._msrp:
            return _Skip()
        return super()._framer(protocol)

    def finish(self):
        self._keep = None  # the end: nothing is forgotten while the rest is closed
        return super().finish()

    def _close(self, flow, st, now, why):
        events = super()._close(flow, st, now, why)
        if self._keep is None:
            return events
        self._closed.append(flow)
        while len(self._closed) > self._keep:
            old = self._closed.popleft()
            st_old = self._dirs.get(old)
            if st_old is not None and st_old.closed:
                del self._dirs[old]
        return events


def wire_messages(path: str, msrp: bool = True) -> Iterator[WireMessage]:
    """Every SIP and MSRP message of the capture, framed but not parsed, in one pass.

    `msrp=False`: MSRP streams are recognised and skipped, not framed (much faster)."""
    tcp = _PruningReassembler(msrp=msrp)
    last_frame, last_time = 0, 0.0
    for frame, when, seg in segments(path):
        last_frame, last_time = frame, when
        if seg is None:
            continue
        if seg.transport == "udp":
            if seg.payload and seg.payload.strip(b"\r\n"):
                yield WireMessage(frame, when, seg.flow, "udp", seg.payload)
            continue
        for ev in tcp.feed(seg.flow, seg.seq, seg.flags, seg.payload, when):
            yield WireMessage(frame, ev.time, ev.flow, "tcp", ev.raw, ev.protocol, ev.error)
    for ev in tcp.finish():
        yield WireMessage(last_frame, last_time, ev.flow, "tcp", ev.raw, ev.protocol, ev.error)


def copy_frames(path: str, wanted: dict[str, set[int]], out_dir: str) -> dict[str, str]:
    """Write, per name, a pcap of the wanted frame numbers of a pcap file (a second, cheap
    pass: record headers are read, packets are not decoded). Returns name -> file written;
    a pcapng input gives nothing (its blocks are not copied)."""
    with open(path, "rb") as f:
        head = f.read(24)
        if head[:4] not in PCAP_MAGICS:
            return {}
        endian = PCAP_MAGICS[head[:4]][0]
        record = struct.Struct(endian + "IIII")
        every = set().union(*wanted.values()) if wanted else set()
        kept: dict[int, bytes] = {}
        frame = 0
        last = max(every) if every else 0
        while frame < last:
            h = f.read(16)
            if len(h) < 16:
                break
            frame += 1
            incl = record.unpack(h)[2]
            if frame in every:
                kept[frame] = h + f.read(incl)
            else:
                f.seek(incl, 1)
    os.makedirs(out_dir, exist_ok=True)
    written = {}
    for name, frames in wanted.items():
        target = os.path.join(out_dir, f"{name}.pcap")
        with open(target, "wb") as out:
            out.write(head)
            for n in sorted(frames):
                if n in kept:
                    out.write(kept[n])
        written[name] = target
    return written
