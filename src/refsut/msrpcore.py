"""The refsut's small MSRP core (RFC 4975), shared by the client and the PF.

One :class:`MsrpNode` per role owns an MSRP :class:`~cpmconf.transport.SipEndpoint` (TCP,
listening on an ephemeral loopback port, so the role can be the passive side) and a
dispatch loop. Each side of a session is an :class:`MsrpLeg`: one local MSRP URI with its
own session id. The loop hands each incoming request to the leg named by the session id of
the first To-Path URI (481 when none), and each response to the request that waits for it
(by transaction id). A leg remembers where its peer is:

* passive (the peer connected to us): the remote address of the connection its first
  request came in on (the binding of RFC 4975 section 5.4 / RFC 6135);
* active (we connect): the host and port of the first URI of the To-Path, given by
  :meth:`MsrpLeg.connect_to`; the transport opens the connection on the first send.

With TLS armed (:func:`arm_tls`, for a role whose SIP transport is tls) the node's URIs are
``msrps:`` and it connects over TLS (RFC 4975 section 6); every endpoint of the role then also
accepts TLS on its port.

Every wait is bounded by the caller. Bodies are bytes throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from cpmconf.codec.errors import CodecError
from cpmconf.codec.msrp import DEFAULT_MAX_SIZE, MsrpMessage, MsrpUri
from cpmconf.transport import (
    MSRP,
    Inbound,
    SipEndpoint,
    TransportError,
)
from refsut import wire
from refsut.sipcore import serve

log = logging.getLogger("refsut.msrp")

Address = tuple[str, int]


class MsrpLeg:
    """One local MSRP URI: the requests addressed to it and the peer it talks to."""

    def __init__(self, node: MsrpNode, name: str) -> None:
        self.node = node
        self.name = name
        self.session_id = wire.new_ident(20)
        host, port = node.address
        self.uri = MsrpUri.parse(wire.msrp_uri(host, port, self.session_id, secure=node.secure))
        self.remote: Address | None = None
        self.bound = asyncio.Event()
        self.requests: asyncio.Queue[tuple[Inbound, MsrpMessage]] = asyncio.Queue()
        self.closed = False
        self.failed = False  # a send to the peer failed (connect refused, write error)

    def __repr__(self) -> str:
        return f"<MsrpLeg {self.name} {self.uri}>"

    def connect_to(self, uri: MsrpUri) -> None:
        """Be the active side towards ``uri`` (its host and port; RFC 4975 default port)."""
        self.remote = (uri.host, uri.port or 2855)
        self.bound.set()

    async def wait_bound(self, timeout: float) -> bool:
        """True once the leg knows its peer (bound passively or set active)."""
        if self.bound.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.bound.wait(), timeout)
        return self.bound.is_set()

    async def next_request(self, timeout: float) -> tuple[Inbound, MsrpMessage] | None:
        """The next request addressed to this leg, or None when ``timeout`` runs out."""
        if timeout <= 0 and self.requests.empty():
            return None
        try:
            return await asyncio.wait_for(self.requests.get(), max(timeout, 0.001))
        except TimeoutError:
            return None

    async def send(self, raw: bytes) -> bool:
        """Send ``raw`` (a message written by :mod:`refsut.wire`) to the peer; False when
        there is no peer or the send failed."""
        if self.remote is None or self.closed:
            self.failed = True
            return False
        ok = await self.node.send_raw(raw, self.remote)
        self.failed = self.failed or not ok
        return ok

    async def transact(self, raw: bytes, timeout: float) -> MsrpMessage | None:
        """Send a request and wait (bounded) for its transaction response."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        tid = wire.msrp_tid(raw)
        self.node._pending[tid] = future
        try:
            if not await self.send(raw):
                return None
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            self.node._pending.pop(tid, None)

    async def respond(self, item: Inbound, request: MsrpMessage, code: int = 200) -> None:
        """Answer ``request`` on the connection it came in on (RFC 4975 section 7.2)."""
        if request.method == "REPORT":
            return
        if (request.header("Failure-Report") or "").lower() == "no":
            return  # the sender asked for no transaction responses
        try:
            resp = wire.msrp_response(
                request.transaction_id, code, request.from_path()[0], self.uri
            )
        except (CodecError, IndexError) as exc:
            log.info("%s: cannot answer %s: %s", self.name, request.summary(), exc)
            return
        await self.node.send_raw(resp, item.remote)

    def close(self) -> None:
        """Forget the leg and drop its connection."""
        if self.closed:
            return
        self.closed = True
        self.node._legs.pop(self.session_id, None)
        if self.remote is not None:
            self.node.endpoint.close_connection(self.remote, self.node.stream)


class MsrpNode:
    """One role's MSRP presence: an endpoint, its legs and a dispatch loop."""

    def __init__(self, name: str, host: str) -> None:
        self.name = name
        self.endpoint = SipEndpoint(host, 0, protocol=MSRP, max_message_size=DEFAULT_MAX_SIZE)
        self._legs: dict[str, MsrpLeg] = {}
        self._pending: dict[str, asyncio.Future] = {}
        self._task: asyncio.Task | None = None
        self.secure = False  # msrps: URIs and TLS connections (arm_tls)

    @property
    def stream(self) -> str:
        return "tls" if self.secure else "tcp"

    async def start(self) -> None:
        await self.endpoint.start()
        self._task = asyncio.create_task(self._run(), name=f"{self.name}-msrp")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for future in self._pending.values():
            if not future.done():
                future.cancel()
        await self.endpoint.close()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.gather(self._task, return_exceptions=True), 2.0)

    @property
    def address(self) -> Address:
        return self.endpoint.address

    def leg(self, name: str) -> MsrpLeg:
        leg = MsrpLeg(self, name)
        self._legs[leg.session_id] = leg
        return leg

    async def send_raw(self, raw: bytes, remote: Address) -> bool:
        try:
            await self.endpoint.send(raw, remote, self.stream)
        except TransportError as exc:
            log.warning("%s: MSRP send to %s failed: %s", self.name, remote, exc)
            return False
        return True

    async def _run(self) -> None:
        await serve(self.endpoint, self._dispatch, f"{self.name} (MSRP)")

    async def _dispatch(self, item: Inbound) -> None:
        msg = item.message
        if msg is None:
            log.info("%s: unparseable MSRP from %s: %s", self.name, item.remote, item.error)
            if item.raw:  # the stream lost its framing: nothing after this can be trusted
                self.endpoint.close_connection(item.remote, item.transport)
            return
        assert isinstance(msg, MsrpMessage)
        if msg.is_response:
            future = self._pending.get(msg.transaction_id)
            if future is not None and not future.done():
                future.set_result(msg)
            return
        if msg.method == "REPORT":
            log.debug("%s: REPORT %s ignored", self.name, msg.transaction_id)
            return
        here = msg.to_path()[0]
        session = here.session_id
        leg = self._legs.get(session or "")
        if leg is None:
            log.info("%s: %s for unknown session %s: 481", self.name, msg.summary(), session)
            with contextlib.suppress(CodecError, IndexError):
                resp = wire.msrp_response(msg.transaction_id, 481, msg.from_path()[0], here)
                await self.send_raw(resp, item.remote)
            return
        if leg.remote is None:
            leg.remote = item.remote  # passive side: bind the connection to the session
            leg.bound.set()
        leg.requests.put_nowait((item, msg))


def arm_tls(tls, role) -> None:
    """Before a role (PF or client: its `node`, `msrp` and `cfg`) starts: with a tls config,
    its SIP and MSRP endpoints accept TLS on their ports; with SIP over TLS, its MSRP goes
    over TLS as well (msrps: URIs)."""
    if tls is None:
        return
    from cpmconf.transport.tls import client_context, server_context

    for endpoint in (role.node.endpoint, role.msrp.endpoint):
        endpoint.use_tls(server_context(tls.cert, tls.key), client_context(tls.ca))
    role.msrp.secure = role.cfg.transport == "tls"
