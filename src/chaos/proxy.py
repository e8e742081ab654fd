"""The chaos proxy: relays SIP between the suite and the reference SUT, hostile on the way back.

Owns the sockets of the relays. Each relay listens on one loopback port number for both UDP and
TCP and forwards to one target:

- one relay fronts the test system's core: the SUT is configured with it as its outbound proxy,
  so the SUT's requests (and whatever it sends on those flows) reach the suite through it;
- one relay fronts each SUT role (PF, client): the suite sends its stimuli there, and the SUT
  answers to the relay's source address, so every response to a stimulus comes back through it.

Only what travels from the SUT towards the suite is mangled (`chaos.mangle`); a UDP peer or a
TCP connection gets its own `Mangler`. TCP streams are framed with the codec's SIP framer so a
mode acts on whole messages; once the SUT's stream cannot be framed the rest is relayed as is.
MSRP is not relayed: SDP carries the real MSRP addresses, and rewriting them would change what
the checks judge. MSRP is still attacked: `malformed` sends broken MSRP to the suite's MSRP
port. Requests the suite sends inside a dialog go to the SUT's Contact and bypass the relays.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import struct
from collections import Counter

from cpmconf.codec.errors import CodecError
from cpmconf.codec.framing import SipStreamFramer

from .mangle import Action, Mangler

Address = tuple[str, int]


class ChaosProxy:
    """The relays of one run, all on one event loop."""

    def __init__(self, mode: str, guard: float, host: str = "127.0.0.1") -> None:
        Mangler(mode, guard, "udp")  # fail early on an unknown mode
        self.mode, self.guard, self.host = mode, guard, host
        self.msrp_target: Address | None = None
        self.stats: Counter[str] = Counter()
        self._relays: list[_Relay] = []

    async def relay(self, target: Address, sut_side: str) -> Address:
        """Listen on a new port relaying to `target`; `sut_side` is "target" or "listener"."""
        r = _Relay(self, target, sut_is_target=(sut_side == "target"))
        await r.start()
        self._relays.append(r)
        return (self.host, r.port)

    async def close(self) -> None:
        for r in self._relays:
            await r.close()
        self._relays.clear()

    def mangler(self, transport: str) -> Mangler:
        return Mangler(self.mode, self.guard, transport)


class _Relay:
    def __init__(self, proxy: ChaosProxy, target: Address, sut_is_target: bool) -> None:
        self.proxy = proxy
        self.target = target
        self.sut_is_target = sut_is_target
        self.loop = asyncio.get_running_loop()
        self.port = 0
        self.udp: socket.socket | None = None
        self.server: asyncio.AbstractServer | None = None
        self.peers: dict[Address, tuple[socket.socket, Mangler]] = {}
        self.timers: set[asyncio.TimerHandle] = set()
        self.tasks: set[asyncio.Task] = set()
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        for _ in range(50):  # a port number free for both UDP and TCP
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.proxy.host, 0))
            port = udp.getsockname()[1]
            try:
                self.server = await asyncio.start_server(self._accepted, self.proxy.host, port)
            except OSError as exc:
                udp.close()
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            udp.setblocking(False)
            self.udp, self.port = udp, port
            self.loop.add_reader(udp, self._on_listen)
            return
        raise OSError("no loopback port free for both UDP and TCP")

    async def close(self) -> None:
        for h in self.timers:
            h.cancel()
        for t in self.tasks:
            t.cancel()
        for w in self.writers:
            w.transport.abort()
        if self.server is not None:
            self.server.close()
        for sock in [self.udp, *(s for s, _ in self.peers.values())]:
            if sock is not None:
                self.loop.remove_reader(sock)
                sock.close()
        self.peers.clear()

    def _later(self, delay: float, fn, *args) -> None:
        def run() -> None:
            self.timers.discard(handle)
            fn(*args)

        handle = self.loop.call_later(delay, run)
        self.timers.add(handle)

    def _spawn(self, coro) -> None:
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- UDP -----------------------------------------------------------------------------------

    def _on_listen(self) -> None:
        try:
            data, peer = self.udp.recvfrom(65536)
        except OSError:
            return
        if peer not in self.peers:
            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            up.bind((self.proxy.host, 0))
            up.setblocking(False)
            self.peers[peer] = (up, self.proxy.mangler("udp"))
            self.loop.add_reader(up, self._on_upstream, peer)
        up, mangler = self.peers[peer]
        if self.sut_is_target:
            self._sendto(up, data, self.target)
        else:
            self._udp_actions(mangler, data, lambda raw: self._sendto(up, raw, self.target))

    def _on_upstream(self, peer: Address) -> None:
        up, mangler = self.peers[peer]
        try:
            data, _ = up.recvfrom(65536)
        except OSError:
            return
        if self.sut_is_target:
            self._udp_actions(mangler, data, lambda raw: self._sendto(self.udp, raw, peer))
        else:
            self._sendto(self.udp, data, peer)

    def _sendto(self, sock: socket.socket, raw: bytes, to: Address) -> None:
        with contextlib.suppress(OSError):  # e.g. a datagram too large: it is lost, as on a wire
            sock.sendto(raw, to)
            self.proxy.stats["udp_sent"] += 1

    def _udp_actions(self, mangler: Mangler, raw: bytes, send) -> None:
        self.proxy.stats["from_sut"] += 1
        self._apply(mangler, mangler.from_sut(raw), send, reset=None)
        if mangler.held is not None:
            self._later(mangler.hold_time, lambda: self._apply(mangler, mangler.release(), send))

    def _apply(self, mangler: Mangler, actions: list[Action], send, reset=None) -> None:
        for a in actions:
            if a.reset:
                if reset is not None:
                    self.proxy.stats["reset"] += 1
                    reset()
            elif a.to_msrp:
                if self.proxy.msrp_target is not None:
                    self._spawn(self._send_msrp(a.data))
            elif a.delay:
                self._later(a.delay, send, a.data)
            else:
                send(a.data)

    async def _send_msrp(self, data: bytes) -> None:
        target = self.proxy.msrp_target
        try:
            async with asyncio.timeout(self.proxy.guard + 1.0):
                _, writer = await asyncio.open_connection(*target)
                writer.write(data)
                await writer.drain()
                writer.close()
                self.proxy.stats["msrp_injected"] += 1
        except (OSError, TimeoutError):
            pass

    # -- TCP -----------------------------------------------------------------------------------

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            async with asyncio.timeout(self.proxy.guard + 1.0):
                up_reader, up_writer = await asyncio.open_connection(*self.target)
        except (OSError, TimeoutError):
            writer.transport.abort()
            return
        self.writers.add(up_writer)
        mangler = self.proxy.mangler("tcp")

        def reset() -> None:
            for w in (writer, up_writer):
                with contextlib.suppress(OSError):
                    sock = w.get_extra_info("socket")
                    if sock is not None:  # linger 0: close sends RST, not FIN
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                w.transport.abort()

        if self.sut_is_target:
            self._spawn(self._pump(reader, up_writer, None, reset))
            self._spawn(self._pump(up_reader, writer, mangler, reset))
        else:
            self._spawn(self._pump(reader, up_writer, mangler, reset))
            self._spawn(self._pump(up_reader, writer, None, reset))

    async def _pump(self, reader, writer, mangler: Mangler | None, reset) -> None:
        framer = SipStreamFramer(max_size=64 * 1024 * 1024) if mangler else None

        def write(raw: bytes) -> None:
            if not writer.is_closing():
                writer.write(raw)

        try:
            while data := await reader.read(65536):
                if framer is None or framer.broken:
                    write(data)
                    continue
                try:
                    frames = framer.feed(data, 0.0)
                except CodecError:
                    write(data)  # not framable SIP: relay the rest untouched
                    continue
                for frame in frames:
                    self.proxy.stats["from_sut"] += 1
                    self._apply(mangler, mangler.from_sut(frame.raw), write, reset)
                if mangler.held is not None:
                    self._later(
                        mangler.hold_time, lambda: self._apply(mangler, mangler.release(), write)
                    )
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                if not writer.is_closing():
                    writer.close()
