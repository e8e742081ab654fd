"""Capture fallback when raw capture is impossible: record what our own sockets saw.

This module owns `SocketTapRecorder`, a transport tap (``on_sent`` /
``on_received``) that turns each observed message into a synthetic
Ethernet/IP/UDP or Ethernet/IP/TCP frame and stores it exactly like the sniffer
stores real frames. Records, windows and pcap files therefore work the same way
in both modes, and a pcap written in this mode still decodes as SIP (and MSRP)
in Wireshark. MSRP endpoints use the same tap interface: each TCP direction is
classified by its first bytes when records are extracted, exactly as on the
wire, so a connection whose first message starts ``MSRP `` yields MSRP records.
Building frames here only writes bytes into memory or a file; nothing is ever
sent.

Limits, by nature of the source: only traffic through the harness's own
endpoints is seen; TCP segment boundaries, retransmissions and timing are those
of our socket calls, not of the wire; TLS appears as its plaintext.

`TlsPlaintextTap` is the same recorder for the sniffer: the wire shows TLS as ciphertext,
so the plaintext of every TLS message our endpoints sent or received goes into the
sniffer's own frame store, in capture order, as frames marked with `PLAINTEXT_MAC`; the
records made from them say transport ``tls``. They are what the checks judge for TLS; the
wire frames stay in the store for the pcap, which tshark decrypts with the run's key log.
"""

from __future__ import annotations

import ipaddress
import threading

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from cpmconf.capture.records import PLAINTEXT_MAC
from cpmconf.capture.source import DEFAULT_MAX_PACKETS, PacketStore, RecordingSource

_ZERO_MAC = "00:00:00:00:00:00"
# Keep each synthetic segment inside one IP packet.
_MAX_SEGMENT = 60000
_MASK = 0xFFFFFFFF
_MAX_UNPAIRED = 10_000
# Bytes of one TCP direction seen from one end only, kept to pair with the other end's copy.
_MAX_BACKLOG = 8 * 1024 * 1024

Endpoint = tuple[str, str, int]  # (udp|tcp, ip, port)


def _norm(address: tuple) -> tuple[str, int]:
    host, port = address[0], int(address[1])
    try:
        host = str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    return host, port


def _kind(transport: str) -> str:
    return "udp" if transport == "udp" else "tcp"  # tcp and tls are both byte streams


class SocketTapRecorder(RecordingSource):
    """A `CaptureSource` fed by transport taps instead of the wire.

    When both ends of an exchange are harness endpoints, the message is seen
    twice (sent by one, received by the other) and only one copy is kept: a
    received copy is skipped when its sender is a local endpoint this tap has
    already seen, and either copy is skipped when it matches an unpaired copy of
    the other kind. The second rule covers a TCP peer that reports the message
    before the sender's tap runs. For UDP a match is the same flow and bytes;
    for TCP/TLS it is by position in the byte stream of the flow, since one
    write may carry several messages (e.g. MSRP chunks sent back to back) that
    the receiving end reports one by one.
    """

    mode = "socket-tap"
    mac = _ZERO_MAC  # the source MAC of the frames it builds

    def __init__(
        self, reason: str = "socket tap requested", *, max_packets: int = DEFAULT_MAX_PACKETS
    ) -> None:
        super().__init__(max_packets)
        self.reason = reason
        self._lock = threading.Lock()
        self._locals: set[Endpoint] = set()
        self._seq: dict[tuple[str, int, str, int], int] = {}
        # Copies not yet paired with their counterpart: key -> count, oldest first.
        self._unpaired: dict[tuple[str, bool, tuple, bytes], int] = {}
        # TCP: bytes of (flow, sent?) recorded but not yet seen from the other end.
        self._backlog: dict[tuple[tuple, bool], bytearray] = {}

    @property
    def tap(self) -> SocketTapRecorder:
        return self

    def add_ports(self, ports) -> None:
        """Nothing to do: a tap records every message of the endpoints it is attached to.

        Present so the harness can announce MSRP ports whichever source is in use.
        """

    def wait_for_ports(self, ports, timeout: float) -> bool:
        return True

    def on_sent(self, transport: str, local: tuple, remote: tuple, raw: bytes, now: float) -> None:
        src, dst = _norm(local), _norm(remote)
        kind = _kind(transport)
        with self._lock:
            self._locals.add((kind, *src))
            if kind == "tcp":
                raw = self._stream_pair(True, src, dst, raw)
            elif self._pair(kind, True, src, dst, raw):
                return
            self._record(transport, src, dst, raw, now)

    def on_received(
        self, transport: str, local: tuple, remote: tuple, raw: bytes, now: float
    ) -> None:
        src, dst = _norm(remote), _norm(local)
        kind = _kind(transport)
        with self._lock:
            self._locals.add((kind, *dst))
            if (kind, *src) in self._locals:
                if kind == "tcp":  # settle the sender's backlog; nothing new to record
                    self._stream_pair(False, src, dst, raw, remember=False)
                return  # already recorded when our own endpoint sent it
            if kind == "tcp":
                raw = self._stream_pair(False, src, dst, raw)
            elif self._pair(kind, False, src, dst, raw):
                return
            self._record(transport, src, dst, raw, now)

    def _stream_pair(self, sent: bool, src, dst, raw: bytes, remember: bool = True) -> bytes:
        """The part of a TCP copy not already recorded from the other end's copy.

        The other end's unpaired bytes of the same flow that this copy repeats are
        consumed; bytes beyond them are new (returned, and remembered for the other
        end). Copies that disagree mean the two ends saw different streams: the other
        end's backlog is dropped and this copy counts as new.
        """
        flow = (*src, *dst)
        other = self._backlog.get((flow, not sent))
        if other:
            n = min(len(other), len(raw))
            if other[:n] == raw[:n]:
                del other[:n]
                raw = raw[n:]
            else:
                other.clear()
        if raw and remember:
            mine = self._backlog.setdefault((flow, sent), bytearray())
            mine += raw
            if len(mine) > _MAX_BACKLOG:
                mine.clear()  # only one end is ours: nothing will ever pair with it
        return raw

    def _pair(self, kind: str, sent: bool, src, dst, raw: bytes) -> bool:
        """True if this copy completes an earlier copy of the other kind (so skip it);
        otherwise remember it as unpaired."""
        flow = (*src, *dst)
        other = (kind, not sent, flow, raw)
        if self._unpaired.get(other):
            self._unpaired[other] -= 1
            if not self._unpaired[other]:
                del self._unpaired[other]
            return True
        key = (kind, sent, flow, raw)
        self._unpaired[key] = self._unpaired.get(key, 0) + 1
        while len(self._unpaired) > _MAX_UNPAIRED:
            del self._unpaired[next(iter(self._unpaired))]
        return False

    def _record(self, transport: str, src, dst, raw: bytes, now: float) -> None:
        if not raw:
            return
        ip_layer = IPv6 if ":" in src[0] or ":" in dst[0] else IP
        base = Ether(src=self.mac, dst=_ZERO_MAC) / ip_layer(src=src[0], dst=dst[0])
        if _kind(transport) == "udp":
            self._store.append(now, bytes(base / UDP(sport=src[1], dport=dst[1]) / raw))
            return
        flow = (src[0], src[1], dst[0], dst[1])
        back = (dst[0], dst[1], src[0], src[1])
        for start in range(0, len(raw), _MAX_SEGMENT):
            chunk = raw[start : start + _MAX_SEGMENT]
            seq = self._seq.get(flow, 1)
            ack = self._seq.get(back, 1)
            seg = TCP(sport=src[1], dport=dst[1], flags="PA", seq=seq, ack=ack, window=65535)
            self._store.append(now, bytes(base / seg / chunk))
            self._seq[flow] = (seq + len(chunk)) & _MASK


class TlsPlaintextTap(SocketTapRecorder):
    """A transport tap that records only TLS messages, as plaintext frames in `store` (a
    sniffer's: see the module docstring)."""

    mac = PLAINTEXT_MAC

    def __init__(self, store: PacketStore) -> None:
        super().__init__("the plaintext of the test system's TLS connections")
        self._store = store

    def on_sent(self, transport: str, local: tuple, remote: tuple, raw: bytes, now: float) -> None:
        if transport == "tls":
            super().on_sent(transport, local, remote, raw, now)

    def on_received(
        self, transport: str, local: tuple, remote: tuple, raw: bytes, now: float
    ) -> None:
        if transport == "tls":
            super().on_received(transport, local, remote, raw, now)
