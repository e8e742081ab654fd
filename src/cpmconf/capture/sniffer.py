"""Session-wide raw capture on an interface (default loopback) with scapy's AsyncSniffer.

This module owns the capture socket and its thread. It only observes: the
socket is a listen-only PF_PACKET socket and nothing here ever sends a packet.

Three details matter for a conformance harness and are handled here:
- `start` waits for the sniffer thread's started callback (bounded), because
  packets sent before the thread runs were measured to be lost;
- the socket gets a large kernel receive buffer so a burst is not dropped
  while Python catches up;
- on loopback the kernel shows every packet twice (once leaving, once
  arriving); the outgoing copy is dropped in the kernel filter and again when
  reading, so each packet is recorded exactly once.

MSRP runs on ports chosen at run time and named only in SDP. With
``follow_msrp=True`` the sniffer reads every captured SIP message as it arrives
(records are then extracted in the capture thread, not lazily), and when its
SDP names an MSRP ``host:port`` on a watched host it adds the port to the
kernel filter. So that the race between learning the port and the peer's first
MSRP segment loses nothing, the filter in this mode also passes any TCP segment
whose payload starts with ``MSRP `` (see `bpf`). Such segments are stored but
only shown (records, packets, pcaps) once their port is watched, so MSRP of
other processes on the same interface never enters a test's evidence. The
harness may also call `add_ports` itself, and `wait_for_ports` to know a port
is watched.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import struct
import threading
import time
from collections.abc import Collection, Iterable

from scapy.arch.linux import L2ListenSocket, get_last_packet_timestamp
from scapy.config import conf
from scapy.sendrecv import AsyncSniffer

import cpmconf.capture.bpf as bpf
from cpmconf.capture.errors import CaptureError
from cpmconf.capture.records import Record, segment_of
from cpmconf.capture.sessions import msrp_targets, normalise_host, sdp_bodies
from cpmconf.capture.source import DEFAULT_MAX_PACKETS, RecordingSource
from cpmconf.capture.tap import TlsPlaintextTap
from cpmconf.capture.tcp import SIP
from cpmconf.codec.sip import SipMessage

DEFAULT_RCVBUF = 32 * 1024 * 1024
DEFAULT_START_TIMEOUT = 5.0
SO_RCVBUFFORCE = 33
SOL_PACKET = 263
PACKET_STATISTICS = 6
ETH_P_ALL = 0x0003
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
PACKET_OUTGOING = 4


def capture_available(iface: str = "lo") -> tuple[bool, str]:
    """Whether raw capture can be opened on `iface`, and why not if it cannot."""
    if not hasattr(socket, "AF_PACKET"):
        return False, "raw capture needs Linux PF_PACKET sockets"
    try:
        # Protocol 0: the socket receives nothing, it only proves we may open one.
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except PermissionError:
        return False, "no permission for raw packet sockets (needs root or CAP_NET_RAW)"
    except OSError as exc:
        return False, f"cannot open a raw packet socket: {exc}"
    try:
        s.bind((iface, 0))
    except OSError as exc:
        return False, f"cannot capture on interface {iface!r}: {exc}"
    finally:
        s.close()
    return True, f"raw capture on {iface} available"


class _ListenSocket(L2ListenSocket):
    """Listen-only socket returning undissected frames, without loopback's outgoing copies."""

    drop_outgoing = True

    def recv_raw(self, x=None):
        pkt, sa_ll, ts = self._recv_raw(self.ins, bpf.SNAPLEN)
        if not pkt or (self.drop_outgoing and sa_ll and sa_ll[2] == PACKET_OUTGOING):
            return None, None, None
        if ts is None:
            ts = get_last_packet_timestamp(self.ins)
        return conf.raw_layer, pkt, ts


class Sniffer(RecordingSource):
    """Raw capture of SIP (and MSRP) ports on one interface, as a `CaptureSource`.

    Use `start(timeout)` / `stop()` or a ``with`` block. Ports may be added
    while running (`add_ports`); the kernel filter is replaced atomically.

    `follow_msrp` adds the MSRP ports that captured SDP names (see the module
    docstring). A host is watched if it is in `follow_hosts` when that is given;
    otherwise if it is an address of a captured SIP message, or any loopback
    address (or ``localhost``) when capturing on a loopback interface.
    `followed` lists the ports added so, `follow_errors` any port that could
    not be added (the filter holds at most `bpf.MAX_PORTS`). In this mode
    `records_since` and `packets_since` leave out traffic on ports not watched
    (yet) at the time of reading.
    """

    mode = "sniffer"
    tap = None  # the wire is the truth; nothing to attach to the transports

    def __init__(
        self,
        ports: Iterable[int],
        iface: str = "lo",
        *,
        max_packets: int = DEFAULT_MAX_PACKETS,
        rcvbuf: int = DEFAULT_RCVBUF,
        drop_outgoing: bool | None = None,
        follow_msrp: bool = False,
        follow_hosts: Iterable[str] | None = None,
    ) -> None:
        self._ports = set(int(p) for p in ports)
        bpf.assemble(self._ports, False)  # validate early
        super().__init__(max_packets)
        self.follow_msrp = follow_msrp
        self._follow_hosts = (
            None if follow_hosts is None else {normalise_host(h) for h in follow_hosts}
        )
        self._seen_hosts: set[str] = set()
        self._loopback = iface.startswith("lo")  # confirmed by the link type in start()
        self.followed: list[int] = []
        self.follow_errors: list[str] = []
        self._ports_changed = threading.Condition()
        self.iface = iface
        self.rcvbuf_requested = rcvbuf
        self.rcvbuf = 0  # effective size as reported by the kernel
        self._drop_outgoing = drop_outgoing
        self._sock: _ListenSocket | None = None
        self._sniffer: AsyncSniffer | None = None
        self._started = threading.Event()
        self._stats_lock = threading.Lock()
        self._kernel_drops = 0
        self._failed: str | None = None
        self._stopping = False

    @property
    def ports(self) -> frozenset[int]:
        return frozenset(self._ports)

    @property
    def filter_expression(self) -> str:
        return bpf.describe(self._ports, self.follow_msrp)

    @property
    def reason(self) -> str:  # type: ignore[override]
        text = f"raw capture on {self.iface}: {self.filter_expression}"
        if self.follow_msrp:
            followed = ", ".join(str(p) for p in self.followed) or "none yet"
            text += f"; following MSRP ports named in SDP ({followed})"
            if self.follow_errors:
                text += f"; not followed: {'; '.join(self.follow_errors)}"
        if self.rcvbuf and self.rcvbuf < self.rcvbuf_requested:
            text += f" (receive buffer only {self.rcvbuf} bytes: bursts may be dropped)"
        if self.failed:
            text += f"; capture failed: {self.failed}"
        return text

    @property
    def failed(self) -> str | None:
        """Why the capture stopped working, or None while it is healthy."""
        if self._failed is None and self._sniffer is not None and not self._stopping:
            thread = self._sniffer.thread
            if self._started.is_set() and thread is not None and not thread.is_alive():
                return "sniffer thread ended unexpectedly (socket error)"
        return self._failed

    @property
    def kernel_drops(self) -> int:
        """Packets the kernel discarded because the socket buffer was full."""
        with self._stats_lock:
            sock = self._sock
            if sock is not None and not sock.closed:
                try:
                    # struct tpacket_stats {packets, drops}; reading resets the counters.
                    raw = sock.ins.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
                    self._kernel_drops += struct.unpack("II", raw)[1]
                except OSError:
                    pass
            return self._kernel_drops

    @property
    def dropped(self) -> int:
        """Packets lost to the capture: kernel buffer overruns plus a full store."""
        return self._store.dropped + self.kernel_drops

    @property
    def running(self) -> bool:
        return bool(self._sniffer is not None and self._sniffer.running)

    def start(self, timeout: float = DEFAULT_START_TIMEOUT) -> None:
        if self._sniffer is not None:
            raise CaptureError("sniffer already started")
        ok, why = capture_available(self.iface)
        if not ok:
            raise CaptureError(why)
        try:
            sock = _ListenSocket(iface=self.iface, type=ETH_P_ALL, filter=None, nofilter=1)
        except (OSError, ValueError) as exc:
            raise CaptureError(f"cannot open capture socket on {self.iface}: {exc}") from exc
        try:
            self._configure(sock)
        except CaptureError:
            sock.close()
            raise
        self._sock = sock
        self._sniffer = AsyncSniffer(
            opened_socket=sock,
            prn=self._on_packet,
            store=False,
            started_callback=self._started.set,
        )
        self._sniffer.start()
        if not self._started.wait(timeout):
            self._abort()
            raise CaptureError(f"sniffer on {self.iface} did not start within {timeout:g} s")

    def _configure(self, sock: _ListenSocket) -> None:
        hatype = sock.ins.getsockname()[3]
        if hatype not in (ARPHRD_ETHER, ARPHRD_LOOPBACK):
            raise CaptureError(f"interface {self.iface} is not Ethernet-framed (type {hatype})")
        drop = self._drop_outgoing
        if drop is None:
            drop = hatype == ARPHRD_LOOPBACK
        self._loopback = hatype == ARPHRD_LOOPBACK
        sock.drop_outgoing = drop
        with self._ports_changed:
            bpf.attach(sock.ins, bpf.assemble(self._ports, drop, self.follow_msrp))
        # Frames queued before the filter was attached may be anything: discard them.
        while select.select([sock.ins], [], [], 0)[0]:
            sock.ins.recv(bpf.SNAPLEN)
        try:
            sock.ins.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, self.rcvbuf_requested)
        except OSError:
            # Without CAP_NET_ADMIN the kernel caps the request at net.core.rmem_max.
            sock.ins.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf_requested)
        self.rcvbuf = sock.ins.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)

    def add_ports(self, ports: Collection[int]) -> None:
        """Watch more ports from now on (e.g. an MSRP listener's, before it is used).

        Raises `CaptureError` for an invalid port or when the filter would hold too many.
        """
        with self._ports_changed:
            new = self._ports | set(int(p) for p in ports)
            if new == self._ports:
                return
            sock = self._sock
            program = bpf.assemble(new, bool(sock and sock.drop_outgoing), self.follow_msrp)
            if sock is not None and not sock.closed:
                bpf.attach(sock.ins, program)
            self._ports = new
            self._ports_changed.notify_all()

    def _on_watched_port(self, flow) -> bool:
        ports = self._ports
        return flow[1] in ports or flow[3] in ports

    def records_since(self, mark: int) -> list[Record]:
        records = super().records_since(mark)
        if not self.follow_msrp:
            return records
        return [r for r in records if self._on_watched_port(r.flow)]

    def plaintext_tap(self) -> TlsPlaintextTap:
        """A tap recording the plaintext of our endpoints' TLS messages into this sniffer's
        store (the wire shows TLS as ciphertext); attach it to the endpoints."""
        return TlsPlaintextTap(self._store)

    def packets_since(self, mark: int, *, include_unwatched: bool = False, plaintext=False):
        """Frames stored from `mark` on; in follow mode only those on watched ports, unless
        `include_unwatched` (MSRP segments kept for a port not followed, or never);
        `plaintext`: the TLS plaintext frames instead of the wire's (`plaintext_tap`)."""
        packets = super().packets_since(mark, plaintext=plaintext)
        if not self.follow_msrp or include_unwatched:
            return packets
        out = []
        for pkt in packets:
            seg = segment_of(pkt)
            if seg is None or self._on_watched_port(seg.flow):
                out.append(pkt)
        return out

    def wait_for_ports(self, ports: Collection[int], timeout: float) -> bool:
        """Block (at most `timeout` s) until every port in `ports` is watched."""
        want = set(int(p) for p in ports)
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._ports_changed:
            while not want <= self._ports:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._ports_changed.wait(remaining)
            return True

    def _on_packet(self, pkt) -> None:
        # Runs in the sniffer thread; an exception here would make scapy close the socket.
        try:
            self._store.append(float(pkt.time), bytes(pkt))
            if self.follow_msrp:
                # Read SDP now, not when a test asks: the MSRP connection follows at once.
                with self._extract_lock:
                    self._catch_up()
        except Exception as exc:
            self._failed = f"capture callback failed: {exc}"

    def _watched_host(self, host: str) -> bool:
        if self._follow_hosts is not None:
            return host in self._follow_hosts
        if host in self._seen_hosts:
            return True
        if not self._loopback:
            return False
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def _on_records(self, records: list[Record]) -> None:
        if not self.follow_msrp:
            return
        for r in records:
            if r.protocol != SIP or not isinstance(r.message, SipMessage):
                continue
            self._seen_hosts.update(normalise_host(r.flow[i]) for i in (0, 2))
            for sdp in sdp_bodies(r.message):
                for host, port in msrp_targets(sdp):
                    if port in self._ports or not self._watched_host(host):
                        continue
                    self.followed.append(port)  # before a waiter can see the port
                    try:
                        self.add_ports([port])
                    except CaptureError as exc:
                        self.followed.remove(port)
                        note = f"{host}:{port} ({exc})"
                        if note not in self.follow_errors:
                            self.follow_errors.append(note)

    def stop(self, timeout: float = DEFAULT_START_TIMEOUT) -> None:
        """Stop the thread, keep what is still queued in the kernel, close the socket."""
        sniffer, sock = self._sniffer, self._sock
        if sniffer is None or sock is None:
            return
        self._stopping = True
        if sniffer.running:
            try:
                sniffer.stop(join=False)
            except Exception as exc:
                self._failed = f"stopping the sniffer failed: {exc}"
        if sniffer.thread is not None:
            sniffer.thread.join(timeout)
            if sniffer.thread.is_alive():
                self._failed = f"sniffer thread did not stop within {timeout:g} s"
        if not sock.closed:
            self._drain(sock)
            self.kernel_drops  # noqa: B018 - collect the counters before the socket goes
            sock.close()
        self._sock = None

    def _drain(self, sock: _ListenSocket) -> None:
        while select.select([sock.ins], [], [], 0)[0]:
            try:
                pkt = sock.recv()
            except OSError:
                return
            if pkt is not None:
                self._on_packet(pkt)

    def _abort(self) -> None:
        if self._sniffer is not None and self._sniffer.running:
            try:
                self._sniffer.stop(join=False)
            except Exception:
                pass
        if self._sock is not None:
            self._sock.close()
        self._sock = None

    def __enter__(self) -> Sniffer:
        if self._sniffer is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
