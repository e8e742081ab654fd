"""SIP endpoint: one local address serving UDP, TCP and optionally TLS on loopback.

TLS shares the TCP port: a connection whose first byte opens a TLS handshake record (0x16,
which no SIP or MSRP message starts with) is accepted as TLS, any other as plain TCP. So one
host:port names the endpoint whatever the transport, as Via sent-by, Contact, Route and MSRP
path URIs need; `tls_port` equals `port`.

This module owns the sockets. Everything above it sees SIP traffic only as
`Inbound` items taken from the endpoint's inbox and as raw bytes handed to
`SipEndpoint.send`. The inbox is pluggable (`SipEndpoint.attach`): by default a bounded
first-match queue (`Inbox`); the harness's core attaches its dispatcher there, so every
inbound item, `receive` included, goes through one place. Bytes are framed and
parsed with the sans-IO codec, so a garbled message from the system under test
becomes an `Inbound` carrying a `CodecError`, never an exception inside the event loop.

Why the stdlib directly: asyncio datagram endpoints and streams give us exactly
the control a conformance harness needs (raw bytes out, raw bytes in, our own
timing). The third-party SIP stacks either bring their own transaction layer,
which would retransmit, absorb and "fix" the very behaviour we are testing, or
are no longer maintained.

Taps (`Tap`) see every message sent or received, including ones later dropped
by the flood guard; the capture layer uses them when raw capture is unavailable.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from cpmconf.codec.errors import CodecError
from cpmconf.codec.framing import SipStreamFramer, datagram_frame
from cpmconf.codec.msrp import MsrpMessage, MsrpStreamFramer
from cpmconf.codec.sip import SipMessage

log = logging.getLogger(__name__)

Address = tuple[str, int]
Predicate = Callable[["Inbound"], bool]


@dataclass(frozen=True)
class WireProtocol:
    """What an endpoint speaks: how streams are framed, how a message is parsed, and whether
    datagrams are served. SIP uses all three transports; MSRP (RFC 4975) is stream-only."""

    name: str
    new_framer: Callable[[int], object]  # max message size -> framer with feed(data, now)
    parse: Callable[[bytes], object]  # raw -> message, raising CodecError
    datagrams: bool


SIP = WireProtocol("SIP", lambda size: SipStreamFramer(max_size=size), SipMessage.parse, True)
# MSRP runs over TCP (or TLS) only; chunks up to the framer's bound, 1 MiB plus headers.
MSRP = WireProtocol("MSRP", lambda size: MsrpStreamFramer(max_size=size), MsrpMessage.parse, False)

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_QUEUE = 10_000
DEFAULT_MAX_MESSAGE = 1024 * 1024
TRANSPORTS = ("udp", "tcp", "tls")
_READ_CHUNK = 65536
_BIND_ATTEMPTS = 8
_TLS_HANDSHAKE = 0x16  # the content type of a TLS handshake record (RFC 8446 5.1)
_BACKLOG = 100


class Tap(Protocol):
    """Observer of every message the endpoint sends or receives."""

    def on_sent(
        self, transport: str, local: Address, remote: Address, raw: bytes, now: float
    ) -> None: ...

    def on_received(
        self, transport: str, local: Address, remote: Address, raw: bytes, now: float
    ) -> None: ...


@dataclass(frozen=True)
class Inbound:
    """One received message, or what arrived in its place when it could not be parsed.

    Exactly one of `message` and `error` is set. When a stream lost its framing,
    `raw` holds the chunk that broke it (empty if the peer closed mid-message).
    """

    time: float
    transport: str
    local: Address
    remote: Address
    raw: bytes
    message: SipMessage | None
    error: CodecError | None

    @property
    def ok(self) -> bool:
        return self.message is not None

    def __str__(self) -> str:
        what = self.message.summary() if self.message else f"unparseable: {self.error}"
        return f"{self.transport} {_fmt(self.remote)} -> {_fmt(self.local)}: {what}"


class TransportError(ConnectionError):
    """A send could not be carried out (connect refused or timed out, endpoint closed...)."""


class TransportTimeout(TimeoutError):
    """`receive` found no matching message within its bound."""


def _fmt(addr: Address) -> str:
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _addr(sockaddr) -> Address:
    # IPv6 socket addresses carry flowinfo and scope id; callers only care about host and port.
    return (sockaddr[0], sockaddr[1])


def _describe(predicate: Predicate | None) -> str:
    if predicate is None:
        return "any message"
    return f"a message matching {getattr(predicate, '__qualname__', repr(predicate))}"


def _parse(raw: bytes, parse=SipMessage.parse) -> tuple[SipMessage | None, CodecError | None]:
    try:
        return parse(raw), None
    except CodecError as exc:
        return None, exc
    except Exception as exc:  # a codec bug must not kill the receive path
        log.exception("SipMessage.parse raised a non-CodecError")
        return None, CodecError("SIP message", f"unexpected {type(exc).__name__}: {exc}")


class InboxLike(Protocol):
    """Where an endpoint hands every inbound item, and where `receive` and `drain` look."""

    dropped: int

    def put(self, item: Inbound) -> None: ...

    async def receive(
        self, predicate: Predicate | None, timeout: float, what: str | None
    ) -> Inbound: ...

    def drain(self) -> list[Inbound]: ...

    def close(self) -> None: ...


class Inbox:
    """The default inbox: a bounded queue; each `receive` takes the oldest matching item."""

    def __init__(self, max_queue: int = DEFAULT_MAX_QUEUE, owner: object = None) -> None:
        self.owner = owner  # named in errors (the endpoint)
        self.dropped = 0
        self._max_queue = max_queue
        # Entries carry a sequence number so a waiting receive only re-checks new arrivals.
        self._items: collections.deque[tuple[int, Inbound]] = collections.deque()
        self._seq = 0
        self._arrived = asyncio.Event()
        self._closed = False

    def put(self, item: Inbound) -> None:
        if len(self._items) >= self._max_queue:
            self.dropped += 1  # flood guard: count, do not grow
            return
        self._seq += 1
        self._items.append((self._seq, item))
        self._arrived.set()

    def close(self) -> None:
        self._closed = True
        self._arrived.set()  # wake receivers so they notice the endpoint is closed

    async def receive(
        self, predicate: Predicate | None, timeout: float, what: str | None
    ) -> Inbound:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = 0
        while True:
            item, seen = self._take(predicate, seen)
            if item is not None:
                return item
            if self._closed:
                raise TransportError(
                    f"{self.owner!r} closed while waiting for {what or 'a message'}"
                )
            remaining = deadline - loop.time()
            if remaining > 0:
                self._arrived.clear()
                # asyncio.timeout, not wait_for: 3.11's wait_for can lose a cancellation that
                # lands while the event fires, leaving a cancelled receive stuck forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._arrived.wait()
                continue
            raise timed_out(self.owner, predicate, timeout, what, len(self._items), self.dropped)

    def drain(self) -> list[Inbound]:
        items = [item for _, item in self._items]
        self._items.clear()
        return items

    def _take(self, predicate: Predicate | None, seen: int) -> tuple[Inbound | None, int]:
        # Walk back from the newest entry to the first one already checked, then test
        # those fresh entries oldest first.
        fresh = []
        for index in range(len(self._items) - 1, -1, -1):
            if self._items[index][0] <= seen:
                break
            fresh.append(index)
        for index in reversed(fresh):
            item = self._items[index][1]
            if predicate is None or predicate(item):
                del self._items[index]
                return item, seen
        return None, self._seq


def timed_out(
    owner: object,
    predicate: Predicate | None,
    timeout: float,
    what: str | None,
    pending: int,
    dropped: int,
) -> TransportTimeout:
    """The expiry of a bounded receive, in the one wording every inbox uses."""
    return TransportTimeout(
        f"timed out after {timeout:g} s waiting for {what or _describe(predicate)} "
        f"on {owner!r} ({pending} other message(s) pending, {dropped} dropped)"
    )


@dataclass(eq=False)  # identity semantics, so connections can live in a set
class _Connection:
    transport: str
    local: Address
    remote: Address
    writer: asyncio.StreamWriter
    task: asyncio.Task | None = None


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, endpoint: SipEndpoint) -> None:
        self._endpoint = endpoint

    def datagram_received(self, data: bytes, addr) -> None:
        self._endpoint._on_datagram(data, _addr(addr))

    def error_received(self, exc: Exception) -> None:
        # ICMP errors (e.g. port unreachable) are normal when a SUT goes away.
        log.debug("UDP error on %s: %s", self._endpoint, exc)


class _MuxListener:
    """A TCP listener that also accepts TLS (with `ssl_server`): each accepted connection is
    told apart by its first byte, then handed to `adopt` as (transport, reader, writer).
    Duck-types the part of `asyncio.Server` the endpoint uses (close, wait_closed)."""

    def __init__(self, sock: socket.socket, ssl_server: ssl.SSLContext, adopt, bound: float):
        self.sock = sock
        self._ssl = ssl_server
        self._adopt = adopt
        self._bound = bound  # of the TLS handshake
        self._tasks: set[asyncio.Task] = set()
        self._accepting = asyncio.create_task(self._accept())

    @property
    def sockets(self) -> list[socket.socket]:
        return [self.sock]

    async def _accept(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(self.sock)
            except OSError as exc:  # listener closed
                log.debug("accept ended: %s", exc)
                return
            conn.setblocking(False)
            task = asyncio.create_task(self._classify(conn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _classify(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            readable = loop.create_future()
            loop.add_reader(conn.fileno(), lambda: readable.done() or readable.set_result(None))
            try:
                await readable  # the connecting side speaks first, in SIP, MSRP and TLS alike
            finally:
                loop.remove_reader(conn.fileno())
            first = conn.recv(1, socket.MSG_PEEK)
            if not first:
                conn.close()
                return
            tls = first[0] == _TLS_HANDSHAKE
            reader = asyncio.StreamReader(limit=_READ_CHUNK, loop=loop)
            protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
            transport, _ = await loop.connect_accepted_socket(
                lambda: protocol,
                conn,
                ssl=self._ssl if tls else None,
                ssl_handshake_timeout=self._bound if tls else None,
            )
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            # A failed handshake leaves nothing to read: the peer sees its connection close.
            log.info("stream connection refused before use: %r", exc)
            conn.close()
            return
        except BaseException:
            conn.close()
            raise
        writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        self._adopt("tls" if tls else "tcp", reader, writer)

    def close(self) -> None:
        self._accepting.cancel()
        for task in list(self._tasks):
            task.cancel()
        self.sock.close()

    async def wait_closed(self) -> None:
        await asyncio.gather(self._accepting, *self._tasks, return_exceptions=True)


class SipEndpoint:
    """UDP and TCP on one host:port (TLS too, on the TCP port), with a bounded inbox.

    Use as ``async with SipEndpoint() as ep:`` or call `start` and `close`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        taps: Iterable[Tap] = (),
        ssl_server: ssl.SSLContext | None = None,
        ssl_client: ssl.SSLContext | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        max_message_size: int = DEFAULT_MAX_MESSAGE,
        connect_timeout: float = 2.0,
        write_timeout: float = 2.0,
        clock: Callable[[], float] = time.time,
        protocol: WireProtocol = SIP,
    ) -> None:
        self.protocol = protocol
        self.host = host
        self.port = port
        self.tls_port: int | None = None
        self.taps = list(taps)
        self.keepalives = 0  # CRLF-only UDP datagrams seen (RFC 5626 3.5.1); not queued
        self._ssl_server = ssl_server
        self._ssl_client = ssl_client
        self._max_message_size = max_message_size
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._clock = clock
        self._inbox: InboxLike = Inbox(max_queue, self)
        self._udp: asyncio.DatagramTransport | None = None
        self._servers: list[asyncio.Server] = []
        self._conns: dict[tuple[str, Address], _Connection] = {}  # for sending, one per remote
        self._live: set[_Connection] = set()  # every open connection, for close()
        self._connect_lock = asyncio.Lock()
        self._started = False
        self._closed = False

    def __repr__(self) -> str:
        return f"<SipEndpoint {_fmt(self.address)}>"

    @property
    def address(self) -> Address:
        """The UDP/TCP address (host, port)."""
        return (self.host, self.port)

    @property
    def tls_address(self) -> Address | None:
        return None if self.tls_port is None else (self.host, self.tls_port)

    @property
    def dropped(self) -> int:
        """Inbound messages the inbox's flood guard did not keep."""
        return self._inbox.dropped

    def attach(self, inbox: InboxLike) -> None:
        """Hand every inbound item to `inbox` from now on (the core's dispatcher); what the
        current inbox holds moves over, in order."""
        for item in self._inbox.drain():
            inbox.put(item)
        self._inbox = inbox
        if self._closed:
            inbox.close()

    def use_tls(self, server: ssl.SSLContext | None, client: ssl.SSLContext | None) -> None:
        """Set the TLS contexts (accepting, connecting) of an endpoint not started yet."""
        if self._started:
            raise TransportError(f"{self!r}: TLS contexts are set before start")
        self._ssl_server, self._ssl_client = server, client

    @property
    def connections(self) -> list[tuple[str, Address, Address]]:
        """Open stream connections usable for sending, as (transport, local, remote)."""
        return [(c.transport, c.local, c.remote) for c in self._conns.values()]

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> SipEndpoint:
        if self._started:
            return self
        try:
            await self._bind()
        except BaseException:
            await self.close()
            raise
        self._started = True
        return self

    async def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        attempts = _BIND_ATTEMPTS if self.port == 0 else 1
        if not self.protocol.datagrams:
            server = await self._listen(self.port)
            self._servers.append(server)
            self.port = _addr(server.sockets[0].getsockname())[1]
            attempts = 0
        for attempt in range(attempts):
            # UDP first on the asked port, then TCP on the port UDP got; if another socket
            # already holds that TCP port, start over with a fresh ephemeral UDP port.
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(self), local_addr=(self.host, self.port)
            )
            port = _addr(udp.get_extra_info("sockname"))[1]
            try:
                server = await self._listen(port)
            except OSError as exc:
                udp.close()
                if exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                    raise
                continue
            self._udp, self.port = udp, port
            self._servers.append(server)
            break
        if self._ssl_server is not None:
            self.tls_port = self.port

    async def _listen(self, port: int):
        """The stream listener on `port`: plain TCP, or TCP and TLS told apart per connection."""
        if self._ssl_server is None:
            return await asyncio.start_server(self._on_accept("tcp"), self.host, port)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, port))
            sock.listen(_BACKLOG)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return _MuxListener(sock, self._ssl_server, self._adopt_accepted, self._connect_timeout)

    def _adopt_accepted(self, transport: str, reader, writer) -> None:
        if self._closed:
            writer.close()
            return
        self._adopt(transport, reader, writer)

    async def close(self) -> None:
        """Close every socket and stop every reader; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._inbox.close()
        if self._udp is not None:
            self._udp.close()
        for server in self._servers:
            server.close()
        conns = list(self._live)
        self._conns.clear()
        self._live.clear()
        for conn in conns:
            conn.writer.close()
            if conn.task is not None:
                conn.task.cancel()
        tasks = [c.task for c in conns if c.task is not None]
        waits = [s.wait_closed() for s in self._servers] + tasks
        if waits:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*waits, return_exceptions=True), self._write_timeout
                )

    async def __aenter__(self) -> SipEndpoint:
        return await self.start()

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    # -- sending -----------------------------------------------------------------------------

    async def send(self, raw: bytes, remote: Address, transport: str = "udp", **tls) -> None:
        """Send one message as-is; returns once it is handed to the kernel.

        TCP/TLS reuse any open connection to `remote`, whichever side opened it
        (RFC 3261 section 18), otherwise a new one is opened. `tls` keywords
        (e.g. ``server_hostname``) are passed to the TLS connect.
        """
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown transport {transport!r}; expected one of {TRANSPORTS}")
        if self._closed or not self._started:
            raise TransportError(f"{self!r} is not open")
        remote = _addr(remote)
        raw = bytes(raw)
        if transport == "udp":
            assert self._udp is not None
            self._udp.sendto(raw, remote)
            self._tap_sent("udp", self.address, remote, raw)
            return
        conn = await self._connection(transport, remote, tls)
        conn.writer.write(raw)
        try:
            await asyncio.wait_for(conn.writer.drain(), self._write_timeout)
        except (OSError, TimeoutError) as exc:
            self._drop_connection(conn)
            raise TransportError(
                f"writing {len(raw)} bytes over {transport} to {_fmt(remote)} failed: {exc!r}"
            ) from exc
        self._tap_sent(transport, conn.local, remote, raw)

    async def send_apart(self, raw: bytes, remote: Address, transport: str = "tcp") -> Address:
        """Send over a new stream connection that no later `send` reuses; returns its local
        address, which `close_local` takes. Replies on it are still read into the inbox.

        Lets a test put bytes that break framing on the wire (robustness stimuli) without
        spoiling the connection other messages to `remote` travel on.
        """
        if transport not in ("tcp", "tls"):
            raise ValueError(f"send_apart needs a stream transport, not {transport!r}")
        if self._closed or not self._started:
            raise TransportError(f"{self!r} is not open")
        remote = _addr(remote)
        context = self._ssl_client if transport == "tls" else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(*remote, ssl=context), self._connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            raise TransportError(f"{transport} connect to {_fmt(remote)} failed: {exc!r}") from exc
        conn = self._adopt(transport, reader, writer, shared=False)
        conn.writer.write(bytes(raw))
        try:
            await asyncio.wait_for(conn.writer.drain(), self._write_timeout)
        except (OSError, TimeoutError) as exc:
            self._drop_connection(conn)
            raise TransportError(
                f"writing {len(raw)} bytes over {transport} to {_fmt(remote)} failed: {exc!r}"
            ) from exc
        self._tap_sent(transport, conn.local, remote, bytes(raw))
        return conn.local

    def close_local(self, local: Address) -> bool:
        """Close the stream connection whose local end is `local`; True if there was one."""
        found = [c for c in self._live if c.local == _addr(local)]
        for conn in found:
            self._drop_connection(conn)
            if conn.task is not None:
                conn.task.cancel()
        return bool(found)

    async def _connection(self, transport: str, remote: Address, tls: dict) -> _Connection:
        async with self._connect_lock:  # one connect per remote even with concurrent sends
            conn = self._conns.get((transport, remote))
            if conn is not None and not conn.writer.is_closing():
                return conn
            context = self._ssl_client if transport == "tls" else None
            if transport == "tls" and context is None:
                raise TransportError("TLS send needs an ssl_client context")
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(*remote, ssl=context, **tls), self._connect_timeout
                )
            except (OSError, TimeoutError) as exc:
                raise TransportError(
                    f"{transport} connect to {_fmt(remote)} failed "
                    f"(bound {self._connect_timeout:g} s): {exc!r}"
                ) from exc
            return self._adopt(transport, reader, writer)

    # -- receiving ---------------------------------------------------------------------------

    async def receive(
        self,
        predicate: Predicate | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        what: str | None = None,
    ) -> Inbound:
        """Take the oldest inbound item matching `predicate`, waiting at most `timeout` s.

        Items that do not match stay in the inbox, in order, for later calls.
        Raises TransportTimeout (naming `what`, or the predicate) when the bound expires.
        """
        return await self._inbox.receive(predicate, timeout, what)

    def drain(self) -> list[Inbound]:
        """Take everything currently in the inbox without waiting."""
        return self._inbox.drain()

    def _deliver(
        self,
        transport: str,
        local: Address,
        remote: Address,
        raw: bytes,
        now: float,
        error: CodecError | None = None,
    ) -> None:
        # Nothing to show for a stream cut mid-message; and a stream that lost its framing hands
        # over a read chunk, not a message, which no capture could match byte for byte.
        observed = raw and (error is None or transport == "udp")
        for tap in self.taps if observed else ():
            try:
                tap.on_received(transport, local, remote, raw, now)
            except Exception:
                log.exception("tap %r failed in on_received", tap)
        if error is None:
            message, error = _parse(raw, self.protocol.parse)
        else:
            message = None
        self._inbox.put(Inbound(now, transport, local, remote, raw, message, error))

    def _tap_sent(self, transport: str, local: Address, remote: Address, raw: bytes) -> None:
        now = self._clock()
        for tap in self.taps:
            try:
                tap.on_sent(transport, local, remote, raw, now)
            except Exception:
                log.exception("tap %r failed in on_sent", tap)

    def _on_datagram(self, data: bytes, remote: Address) -> None:
        if data and not data.replace(b"\r\n", b""):
            self.keepalives += 1  # the TCP framer swallows these too; they are not messages
            return
        now = self._clock()
        try:
            frame = datagram_frame(data, now)
        except CodecError as exc:
            self._deliver("udp", self.address, remote, data, now, exc)
            return
        self._deliver("udp", self.address, remote, frame.raw, frame.time)

    # -- stream connections ------------------------------------------------------------------

    def _on_accept(self, transport: str):
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if self._closed:
                writer.close()
                return
            # The reader runs in a task of our own: cancelling the server's callback task
            # on close makes asyncio 3.11 log a spurious error.
            self._adopt(transport, reader, writer)

        return accepted

    def _adopt(
        self,
        transport: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        shared: bool = True,
    ) -> _Connection:
        conn = _Connection(
            transport,
            _addr(writer.get_extra_info("sockname")),
            _addr(writer.get_extra_info("peername")),
            writer,
        )
        old = self._conns.get((transport, conn.remote))
        if old is not None and old.writer.is_closing():
            self._conns.pop((transport, conn.remote))
        # Keep the first live connection for sending; a second one still gets read.
        if shared:
            self._conns.setdefault((transport, conn.remote), conn)
        self._live.add(conn)
        conn.task = asyncio.create_task(self._read_loop(conn, reader))
        return conn

    async def _read_loop(self, conn: _Connection, reader: asyncio.StreamReader) -> None:
        framer = self.protocol.new_framer(self._max_message_size)
        try:
            while True:
                try:
                    data = await reader.read(_READ_CHUNK)
                except OSError as exc:
                    log.debug("%s read from %s failed: %s", conn.transport, conn.remote, exc)
                    return
                now = self._clock()
                if not data:
                    if framer.pending():
                        error = CodecError(
                            f"{self.protocol.name} stream",
                            f"connection closed with {framer.pending()} bytes of an "
                            "incomplete message",
                        )
                        self._deliver(conn.transport, conn.local, conn.remote, b"", now, error)
                    return
                try:
                    frames = framer.feed(data, now)
                except CodecError as exc:
                    # Messages completed before the fault arrived intact: deliver them first.
                    for frame in getattr(exc, "frames", ()):
                        self._deliver(
                            conn.transport, conn.local, conn.remote, frame.raw, frame.time
                        )
                    # The stream has lost its framing; nothing after this point can be trusted.
                    self._deliver(conn.transport, conn.local, conn.remote, data, now, exc)
                    return
                for frame in frames:
                    self._deliver(conn.transport, conn.local, conn.remote, frame.raw, frame.time)
        finally:
            self._drop_connection(conn)

    def close_connection(self, remote: Address, transport: str = "tcp") -> bool:
        """Close every open stream connection to `remote`; True if there was one.

        Lets a peer drop a connection whose framing it no longer trusts, or a test reset a
        TCP connection on purpose.
        """
        remote = _addr(remote)
        found = [c for c in self._live if c.remote == remote and c.transport == transport]
        for conn in found:
            self._drop_connection(conn)
            if conn.task is not None:
                conn.task.cancel()
        return bool(found)

    def _drop_connection(self, conn: _Connection) -> None:
        if self._conns.get((conn.transport, conn.remote)) is conn:
            del self._conns[(conn.transport, conn.remote)]
        self._live.discard(conn)
        conn.writer.close()
