"""Where captured traffic is kept, and the one interface the harness reads it through.

This module owns `PacketStore` (a bounded, thread-safe list of link-layer
frames with their capture time), `RecordingSource` (the shared machinery of
both capture sources: positions, lazy extraction of records, listeners) and the
`CaptureSource` protocol that the rest of the harness codes against, whichever
source is in use ("sniffer" or "socket-tap").

Frames are stored as bytes and dissected only when somebody asks for records,
so the sniffer thread does the least possible work per packet.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Callable, Collection
from typing import Protocol, runtime_checkable

from scapy.config import conf
from scapy.layers.l2 import Ether
from scapy.packet import Packet

from cpmconf.capture.records import PLAINTEXT_MAC, Record, RecordExtractor

log = logging.getLogger(__name__)

DEFAULT_MAX_PACKETS = 1_000_000

Listener = Callable[[], None]


@runtime_checkable
class CaptureSource(Protocol):
    """What a test reads captured traffic through."""

    mode: str  # "sniffer" or "socket-tap"
    reason: str  # why this source is in use, for the report
    # The transport tap to attach to endpoints (socket-tap mode), or None (sniffer mode).
    tap: object | None

    def mark(self) -> int: ...

    def records_since(self, mark: int) -> list[Record]: ...

    def packets_since(self, mark: int) -> list[Packet]: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]: ...

    @property
    def dropped(self) -> int: ...


class PacketStore:
    """Bounded, thread-safe, append-only list of (capture time, frame bytes).

    When full, new frames are counted in `dropped` and discarded, so positions
    already handed out stay valid.
    """

    def __init__(self, max_packets: int = DEFAULT_MAX_PACKETS) -> None:
        self.max_packets = max_packets
        self.dropped = 0
        self._frames: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def append(self, time: float, frame: bytes) -> bool:
        with self._lock:
            if len(self._frames) >= self.max_packets:
                self.dropped += 1
                return False
            self._frames.append((time, frame))
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener()
            except Exception:  # a listener must never break the capture thread
                log.exception("capture listener %r failed", listener)
        return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    def since(self, position: int) -> list[tuple[float, bytes]]:
        with self._lock:
            return self._frames[position:]

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe


def frame_packet(time: float, frame: bytes) -> Packet:
    """A stored frame as a scapy packet; a frame scapy cannot dissect stays raw bytes."""
    try:
        pkt = Ether(frame)
    except Exception:  # e.g. a runt frame: scapy 2.8 raises struct.error on short fields
        pkt = conf.raw_layer(frame)
    pkt.time = time
    return pkt


class RecordingSource:
    """Shared part of the capture sources: a store of frames and records extracted on demand.

    A mark is a position in the frame store. `records_since(mark)` returns the
    records completed by frames at or after that position (a TCP message that
    began before the mark but ended after it is included).
    """

    mode = "none"
    reason = ""

    def __init__(
        self, max_packets: int = DEFAULT_MAX_PACKETS, ports: Collection[int] | None = None
    ) -> None:
        self._store = PacketStore(max_packets)
        self._extractor = RecordExtractor(ports)
        self._extract_lock = threading.Lock()
        self._records: list[Record] = []
        self._record_pos: list[int] = []  # frame position that completed each record
        self._processed = 0

    @property
    def dropped(self) -> int:
        """Frames discarded because the store was full."""
        return self._store.dropped

    def mark(self) -> int:
        return len(self._store)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` (from any thread) whenever a frame is stored; returns unsubscribe."""
        return self._store.subscribe(listener)

    def records_since(self, mark: int) -> list[Record]:
        with self._extract_lock:
            self._catch_up()
            start = bisect.bisect_left(self._record_pos, mark)
            return self._records[start:]

    def _catch_up(self) -> None:
        """Extract records from the frames not yet processed (caller holds the lock)."""
        frames = self._store.since(self._processed)
        fresh: list[Record] = []
        for time, frame in frames:
            recs = self._extractor.feed(frame_packet(time, frame))
            self._records += recs
            self._record_pos += [self._processed] * len(recs)
            self._processed += 1
            fresh += recs
        if fresh:
            try:
                self._on_records(fresh)
            except Exception:  # a hook must never cost the caller its records
                log.exception("capture record hook failed")

    def _on_records(self, records: list[Record]) -> None:
        """Called once for every batch of new records, in order (subclass hook)."""

    def packets_since(self, mark: int, *, plaintext: bool = False) -> list[Packet]:
        """The frames stored from `mark` on: the wire's, or with `plaintext` only the TLS
        plaintext frames of a `Sniffer.plaintext_tap` (never both: they share flows)."""
        frames = self._store.since(mark)
        return [frame_packet(t, f) for t, f in frames if _is_plaintext(f) == plaintext]

    def write_wire_pcap(self, path, mark: int = 0) -> int:
        """Write the wire's frames from `mark` on to a pcap file as stored, without dissecting
        them (fast enough for a whole run); returns how many were written."""
        from scapy.utils import RawPcapWriter

        frames = [(t, f) for t, f in self._store.since(mark) if not _is_plaintext(f)]
        with RawPcapWriter(str(path), linktype=1, sync=False) as writer:
            writer.write_header(None)  # write_packet alone writes none
            for time, frame in frames:
                sec = int(time)
                writer.write_packet(frame, sec=sec, usec=int(round((time - sec) * 1e6)))
        return len(frames)


_PLAINTEXT_SRC = bytes.fromhex(PLAINTEXT_MAC.replace(":", ""))


def _is_plaintext(frame: bytes) -> bool:
    return frame[6:12] == _PLAINTEXT_SRC  # Ethernet source address
