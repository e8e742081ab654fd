"""TCP stream reassembly for captured SIP and MSRP traffic.

This module owns turning TCP segments, as seen on the wire, back into the byte
stream of each direction of each connection, and handing that stream to the
codec's framer for the protocol the direction speaks: `MsrpStreamFramer` when
its first payload bytes are ``MSRP `` (RFC 4975 start lines begin so), else
`SipStreamFramer`. A direction is classified on its own first bytes; while
they are still a proper prefix of ``MSRP `` nothing is decided (or framed). A direction
whose first bytes open a TLS record (a handshake, 0x16; or, joined late, another record of
version 3.x) is ``TLS``: its bytes are ciphertext,
consumed and never framed (the plaintext comes from the TLS endpoints' tap, see
`cpmconf.capture.tap.TlsPlaintextTap`).

Why by hand: scapy's TCPSession loses messages when one reassembled buffer holds
more than two of them, and it does not report gaps or framing errors. A
conformance harness must see exactly what the system under test put on the wire,
including retransmissions, out-of-order delivery and garbage, so we keep our own
small reassembler keyed by sequence number. It is sans-IO: segments in, framed
messages (or errors) out; it never raises on bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cpmconf.codec.errors import CodecError
from cpmconf.codec.framing import SipStreamFramer
from cpmconf.codec.msrp import DEFAULT_MAX_SIZE as DEFAULT_MAX_MSRP_MESSAGE
from cpmconf.codec.msrp import MsrpStreamFramer

Flow = tuple[str, int, str, int]

FIN = 0x01
SYN = 0x02
RST = 0x04

DEFAULT_MAX_MESSAGE = 1024 * 1024
DEFAULT_MAX_OUT_OF_ORDER = 4 * 1024 * 1024

SIP = "SIP"
MSRP = "MSRP"
TLS = "TLS"
MSRP_MAGIC = b"MSRP "
TLS_HANDSHAKE = 0x16  # no SIP or MSRP message starts with this byte
TLS_RECORD_TYPES = (0x14, 0x15, 0x17)  # change cipher spec, alert, application data

_MASK = 0xFFFFFFFF
# A jump this large cannot be reordering; treat it as a new stream on a reused port.
_RESYNC = 1 << 30


def seq_diff(a: int, b: int) -> int:
    """Signed distance a - b in 32-bit sequence space."""
    return ((a - b + (1 << 31)) & _MASK) - (1 << 31)


def reverse(flow: Flow) -> Flow:
    return (flow[2], flow[3], flow[0], flow[1])


def detect_protocol(data: bytes, previous: str | None = None) -> str | None:
    """The protocol a stream (or a fresh start of one) speaks, judged by its first bytes.

    ``MSRP`` when `data` starts with ``MSRP ``; None while `data` is still a proper
    prefix of that (wait for more bytes); ``TLS`` when it opens a TLS handshake record, or
    another TLS record (version 3.x) when the capture joined the connection late;
    otherwise `previous` (what the direction spoke before a restart), else ``SIP``.
    """
    if data[:1] == bytes([TLS_HANDSHAKE]):
        return TLS
    if data and data[0] in TLS_RECORD_TYPES:
        # A later TLS record (application data, alert, change cipher spec): the capture
        # began mid-connection (a port watched only after its handshake). Its second byte
        # is the record version's major number, 3.
        if len(data) < 2:
            return None
        if data[1] == 3:
            return TLS
    if data.startswith(MSRP_MAGIC):
        return MSRP
    if MSRP_MAGIC.startswith(data):
        return None
    return previous or SIP


@dataclass(frozen=True)
class StreamEvent:
    """One framed message from a stream, or an error in its place (`error` set).

    `protocol` is what the direction was classified as ("SIP" or "MSRP").
    """

    time: float
    flow: Flow
    raw: bytes
    error: str | None = None
    protocol: str = SIP


class _Ciphertext:
    """The framer of a TLS direction: takes every byte, frames nothing."""

    def feed(self, data: bytes, now: float) -> list:
        return []

    def pending(self) -> int:
        return 0


Framer = SipStreamFramer | MsrpStreamFramer | _Ciphertext


@dataclass
class _Direction:
    # None until the first bytes (after a start or a restart) decide the protocol.
    framer: Framer | None = None
    protocol: str | None = None
    isn: int | None = None  # from the SYN, when seen; a SYN with the same ISN is a retransmit
    next_seq: int | None = None
    # Out-of-order segments waiting for the gap before them, by absolute sequence number.
    pending: dict[int, bytes] = field(default_factory=dict)
    pending_bytes: int = 0
    fin_seq: int | None = None
    closed: bool = False
    # Bytes handed to the framer (or awaiting classification) not yet part of a message.
    tail: bytes = b""
    last_time: float = 0.0


class TcpReassembler:
    """Per-direction reassembly by sequence number, framing SIP or MSRP messages as they
    complete.

    `feed` takes one segment and returns the events it completed. A framing error
    is reported as an event and the direction starts again with a fresh framer
    (of the same protocol, unless the fresh bytes start with ``MSRP ``); an
    out-of-order buffer overflow does the same. A sequence number jump means a
    new stream on a reused port, which is classified afresh. `finish` reports
    what is still incomplete when the capture ends.
    """

    def __init__(
        self,
        max_message_size: int = DEFAULT_MAX_MESSAGE,
        max_out_of_order: int = DEFAULT_MAX_OUT_OF_ORDER,
        max_msrp_message_size: int = DEFAULT_MAX_MSRP_MESSAGE,
    ) -> None:
        self._max_message_size = max_message_size
        self._max_msrp_message_size = max_msrp_message_size
        self._max_out_of_order = max_out_of_order
        self._dirs: dict[Flow, _Direction] = {}

    def _new(self) -> _Direction:
        return _Direction()

    def _framer(self, protocol: str) -> Framer:
        if protocol == TLS:
            return _Ciphertext()
        if protocol == MSRP:
            return MsrpStreamFramer(max_size=self._max_msrp_message_size)
        return SipStreamFramer(max_size=self._max_message_size)

    def protocol_of(self, flow: Flow) -> str | None:
        """What `flow` (one direction) was classified as so far, or None."""
        st = self._dirs.get(flow)
        return None if st is None else st.protocol

    def feed(
        self, flow: Flow, seq: int, flags: int, payload: bytes, now: float
    ) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        seq &= _MASK
        if flags & RST:
            # A reset ends the connection in both directions; whatever was buffered is lost.
            for key in (flow, reverse(flow)):
                st = self._dirs.get(key)
                if st is not None and not st.closed:
                    events += self._close(key, st, now, "connection reset")
            return events

        st = self._dirs.get(flow)
        if flags & SYN:
            isn_next = (seq + 1) & _MASK
            if st is not None and st.isn != seq:
                # Not a retransmitted SYN: a new connection reusing the same ports.
                if not st.closed:
                    events += self._close(flow, st, now, "connection replaced")
                st = None
            if st is None:
                st = self._new()
                st.isn = seq
                st.next_seq = isn_next
                self._dirs[flow] = st
            data_seq = isn_next
        else:
            if st is None:
                # Capture started mid-connection: the first segment seen anchors the stream.
                st = self._new()
                self._dirs[flow] = st
            data_seq = seq
        st.last_time = now
        if st.closed:
            return events  # retransmission after the close was processed
        if st.next_seq is None:
            st.next_seq = data_seq

        if payload:
            events += self._accept(flow, st, data_seq, payload, now)
        if flags & FIN:
            st.fin_seq = (data_seq + len(payload)) & _MASK
        if st.fin_seq is not None and st.next_seq == st.fin_seq and not st.pending:
            events += self._close(flow, st, now, "connection closed")
        return events

    def finish(self) -> list[StreamEvent]:
        """Report every direction still holding data when the capture ends."""
        events: list[StreamEvent] = []
        for flow, st in self._dirs.items():
            if not st.closed:
                events += self._close(flow, st, st.last_time, "capture ended")
        return events

    def _accept(self, flow: Flow, st: _Direction, seq: int, data: bytes, now: float):
        events: list[StreamEvent] = []
        assert st.next_seq is not None
        off = seq_diff(seq, st.next_seq)
        if abs(off) >= _RESYNC:
            events += self._reset(flow, st, now, "sequence number jump; stream restarted", b"")
            st.protocol = None  # a new stream on a reused port: classify it afresh
            st.next_seq = seq
            off = 0
        if off < 0:
            if off + len(data) <= 0:
                return events  # pure retransmission of delivered bytes
            data = data[-off:]
            off = 0
        if off > 0:
            old = st.pending.get(seq)
            if old is None or len(old) < len(data):
                st.pending[seq] = data
                st.pending_bytes += len(data) - (len(old) if old else 0)
            if st.pending_bytes > self._max_out_of_order:
                events += self._reset(
                    flow,
                    st,
                    now,
                    f"gap not filled after {st.pending_bytes} bytes; stream restarted",
                    b"",
                )
                st.next_seq = None  # re-anchor on the next segment
            return events
        events += self._deliver(flow, st, data, now)
        self._drain(flow, st, now, events)
        return events

    def _drain(self, flow: Flow, st: _Direction, now: float, events: list[StreamEvent]) -> None:
        while st.pending and st.next_seq is not None:
            nxt = st.next_seq
            start = min(st.pending, key=lambda s: seq_diff(s, nxt))
            off = seq_diff(start, nxt)
            if off > 0:
                return
            chunk = st.pending.pop(start)
            st.pending_bytes -= len(chunk)
            if off + len(chunk) <= 0:
                continue
            events += self._deliver(flow, st, chunk[-off:] if off < 0 else chunk, now)

    def _deliver(self, flow: Flow, st: _Direction, data: bytes, now: float) -> list[StreamEvent]:
        assert st.next_seq is not None
        st.next_seq = (st.next_seq + len(data)) & _MASK
        combined = st.tail + data  # equals the framer's buffer after this feed
        if st.framer is None:
            protocol = detect_protocol(combined, st.protocol)
            if protocol is None:
                st.tail = combined  # still a prefix of "MSRP ": wait for more bytes
                return []
            st.protocol = protocol
            st.framer = self._framer(protocol)
            data = combined  # the held bytes were never given to a framer
        protocol = st.protocol or SIP
        try:
            frames = st.framer.feed(data, now)
        except Exception as exc:
            why = (
                str(exc)
                if isinstance(exc, CodecError)
                else f"codec bug: {type(exc).__name__}: {exc}"
            )
            return self._recover(flow, st, now, why, combined)
        held = st.framer.pending()
        st.tail = combined[-held:] if held else b""
        return [StreamEvent(f.time, flow, f.raw, None, protocol) for f in frames]

    def _recover(
        self, flow: Flow, st: _Direction, now: float, why: str, combined: bytes
    ) -> list[StreamEvent]:
        """After a framing error: keep the messages the failed call had already cut, report
        the rest as the error's bytes, and restart the direction with a fresh framer."""
        assert st.framer is not None
        protocol = st.protocol or SIP
        left = min(st.framer.pending(), len(combined))
        good, bad = combined[: len(combined) - left], combined[len(combined) - left :]
        events: list[StreamEvent] = []
        if good:
            # These bytes formed complete messages before the error; frame them again.
            try:
                frames = self._framer(protocol).feed(good, now)
                events += [StreamEvent(f.time, flow, f.raw, None, protocol) for f in frames]
            except Exception:
                bad = combined
        return events + self._reset(flow, st, now, why, bad, keep_seq=True)

    def _reset(
        self, flow: Flow, st: _Direction, now: float, why: str, raw: bytes, keep_seq: bool = False
    ) -> list[StreamEvent]:
        """Report an error and start the direction over; the next bytes get a fresh framer."""
        st.framer = None
        st.tail = b""
        if not keep_seq:
            st.pending.clear()
            st.pending_bytes = 0
        return [StreamEvent(now, flow, raw, why, st.protocol or SIP)]

    def _close(self, flow: Flow, st: _Direction, now: float, why: str) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        protocol = st.protocol or SIP
        if (st.framer is not None and st.framer.pending()) or st.tail:
            events.append(
                StreamEvent(
                    now,
                    flow,
                    st.tail,
                    f"{why} with {len(st.tail)} bytes of an incomplete message",
                    protocol,
                )
            )
        if st.pending_bytes:
            base = st.next_seq or 0
            events.append(
                StreamEvent(
                    now,
                    flow,
                    b"".join(
                        st.pending[s] for s in sorted(st.pending, key=lambda s: seq_diff(s, base))
                    ),
                    f"{why} with {st.pending_bytes} bytes after a gap never filled",
                    protocol,
                )
            )
        st.closed = True
        st.pending.clear()
        st.pending_bytes = 0
        st.tail = b""
        return events
