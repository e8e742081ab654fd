"""The refsut's small SIP user-agent core, shared by the PF and the client.

It owns one :class:`~cpmconf.transport.SipEndpoint` per role and adds what a UA needs on top
of raw send/receive, and nothing more:

* a dispatch loop that hands each new request to the role's handler in its own task, once
  :mod:`refsut.robustness` has screened it (bad input is refused there, not here);
* server transactions keyed by Via branch and method, so a retransmitted request gets the
  cached final response again and is never processed twice (RFC 3261 17.2.2);
* client transactions for non-INVITE requests: the request goes to the outbound proxy,
  is retransmitted over UDP on the Timer E schedule, and the first final response is
  returned (or None when the caller's bound runs out);
* INVITE client transactions (:meth:`SipNode.invite`): every response is queued for the
  caller, the INVITE is retransmitted over UDP on the Timer A schedule until a response
  arrives, and a retransmitted 2xx is answered with the ACK sent for the first;
* INVITE server transactions: a final response over UDP is retransmitted until the ACK
  arrives (RFC 3261 13.3.1.4, 17.2.1), and ACKs are handed to the role's ACK hook;
* dialogs (:class:`Dialog`) for the large-message sessions: ACK, BYE and CANCEL builders;
* builders for requests and responses (text written by :mod:`refsut.wire`), plus URI and
  identifier helpers.

A full SIP stack would be more than the reference SUT needs and third-party ones bring their
own behaviour into the test; this keeps every byte the SUT sends visible in this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import NameAddr
from cpmconf.codec.sip import SipMessage, canonical_name
from cpmconf.transport import Inbound, SipEndpoint, TransportError, TransportTimeout

from . import wire
from .robustness import Hang, InputGuard

log = logging.getLogger("refsut.sip")

Address = tuple[str, int]

T1 = 0.5  # RFC 3261 timer values
T2 = 4.0
TIMER_J = 64 * T1  # how long a completed server transaction keeps its response
MAGIC = "z9hG4bK"

REASONS = {
    100: "Trying",
    180: "Ringing",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    420: "Bad Extension",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    501: "Not Implemented",
}


# --------------------------------------------------------------------------- identifiers


def new_branch() -> str:
    return MAGIC + secrets.token_hex(10)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    return f"{secrets.token_hex(12)}@{host}"


def new_token_id() -> str:
    """A fresh CPM id (Conversation-ID, Contribution-ID ...): a UUID, which is a token."""
    return str(uuid.uuid4())


# --------------------------------------------------------------------------- URIs


def strip_angle(value: str) -> str:
    value = value.strip()
    return value[1:-1] if value.startswith("<") and value.endswith(">") else value


def uri_key(uri: str) -> str:
    """Comparison key for a SIP URI: scheme, user and host, host and scheme case-folded.

    Parameters, headers and port are dropped; good enough to match provisioned users and
    blocked originators, which is all the refsut compares URIs for.
    """
    uri = strip_angle(uri)
    scheme, _, rest = uri.partition(":")
    rest = rest.split(";", 1)[0].split("?", 1)[0]
    user, at, host = rest.rpartition("@")
    if host.startswith("["):
        host = host[: host.find("]") + 1]
    else:
        host = host.split(":", 1)[0]
    return f"{scheme.lower()}:{user}{at}{host.lower()}"


def loose_route(address: Address, transport: str) -> str:
    """The Route value naming a proxy by its address, loose routing (RFC 3261 19.1.1)."""
    host, port = address
    host = f"[{host}]" if ":" in host else host
    suffix = ";transport=tcp" if transport == "tcp" else ""
    return f"<sip:{host}:{port}{suffix};lr>"


def header_uri(msg: SipMessage, name: str) -> str | None:
    """The URI of a name-addr header (From, To, P-Asserted-Identity, Reply-To), or None."""
    value = msg.header(name)
    if value is None:
        return None
    try:
        # P-Asserted-Identity may list several identities; the first one is the SIP one
        # in the cases the refsut meets.
        if name.lower().startswith("p-"):
            value = value.split(",", 1)[0]
        return NameAddr.parse(value).uri
    except CodecError:
        return None


def originator(msg: SipMessage) -> str | None:
    """Authenticated originator: P-Asserted-Identity when present, else the From URI."""
    return header_uri(msg, "P-Asserted-Identity") or header_uri(msg, "From")


def headers_named(msg: SipMessage, names: Iterable[str]) -> list[tuple[str, str]]:
    """Every header line of ``msg`` whose name is in ``names``, wire order and spelling."""
    want = {canonical_name(n) for n in names}
    return [(n, v) for n, v in msg.headers if canonical_name(n) in want]


def media_type(value: str | None) -> str | None:
    return None if value is None else value.split(";", 1)[0].strip().lower()


# --------------------------------------------------------------------------- builders


def build_request(
    method: str,
    request_uri: str,
    *,
    via: str,
    from_: str,
    to: str,
    call_id: str,
    cseq: int,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
) -> bytes:
    lines = [
        ("Via", via),
        ("Max-Forwards", "70"),
        ("From", from_),
        ("To", to),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} {method}"),
        *headers,
    ]
    return wire.sip_message(f"{method} {request_uri} SIP/2.0", lines, body)


def build_response(
    request: SipMessage,
    status: int,
    reason: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    to_tag: str | None = None,
) -> bytes:
    """A response to ``request``: Via, From, To (tagged), Call-ID and CSeq copied."""
    to = request.header("To") or ""
    if status > 100 and ";tag=" not in to.replace(" ", "").lower():
        to = f"{to};tag={to_tag or new_tag()}"
    lines = [(n, v) for n, v in request.headers if canonical_name(n) == "via"]
    lines += [
        ("From", request.header("From") or ""),
        ("To", to),
        ("Call-ID", request.call_id),
        ("CSeq", request.header("CSeq") or ""),
        *headers,
    ]
    reason = reason or REASONS.get(status, "Unknown")
    return wire.sip_message(f"SIP/2.0 {status} {reason}", lines, body)


# --------------------------------------------------------------------------- transactions


async def serve(endpoint, dispatch, name: str) -> None:
    """Hand every inbound item of `endpoint` to `dispatch` until the endpoint closes.

    One bad message is logged and skipped; it never stops the role.
    """
    while True:
        try:
            item = await endpoint.receive(timeout=3600.0, what="any traffic")
        except TransportTimeout:
            continue
        except TransportError:
            return
        try:
            await dispatch(item)
        except Exception:
            log.exception("%s: dispatch of %s failed", name, item)


@dataclass
class ServerTransaction:
    """One received request and the responses sent to it."""

    node: SipNode
    request: SipMessage
    inbound: Inbound
    key: tuple
    final: bytes | None = None

    @property
    def remote(self) -> Address:
        return self.inbound.remote

    @property
    def transport(self) -> str:
        return self.inbound.transport

    async def respond(self, raw: bytes) -> None:
        """Send a response; the first final one is kept for retransmitted requests.

        A final response to an INVITE over UDP is retransmitted until its ACK arrives.
        """
        status = int(raw[8:11])
        raw = self.node._vias_of(self.request, status, raw)
        first_final = False
        if status >= 200:
            if self.final is None:
                self.final = raw
                first_final = True
                self.node._completed(self)
        await self.node.send_raw(raw, self.remote, self.transport)
        if first_final and self.request.method == "INVITE":
            self.node._await_ack(self)

    async def reply(
        self,
        status: int,
        reason: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> None:
        await self.respond(build_response(self.request, status, reason, headers, body))


Handler = Callable[[ServerTransaction], Awaitable[None]]


@dataclass
class _ClientTxn:
    future: asyncio.Future
    provisional: bool = False
    responses: list[SipMessage] = field(default_factory=list)
    queue: asyncio.Queue | None = None  # INVITE: every response, in arrival order
    ack: bytes | None = None  # INVITE: the ACK sent for the 2xx, re-sent on a retransmission


class InviteClientTxn:
    """An INVITE sent through the outbound proxy; the caller reads its responses in order."""

    def __init__(self, node: SipNode, raw: bytes, branch: str, txn: _ClientTxn) -> None:
        self.node = node
        self.raw = raw
        self.request = SipMessage.parse(raw)
        self.branch = branch
        self._txn = txn

    async def next_response(self, timeout: float) -> SipMessage | None:
        """The next response (provisional or final), or None when ``timeout`` runs out."""
        assert self._txn.queue is not None
        if timeout <= 0 and self._txn.queue.empty():
            return None
        try:
            return await asyncio.wait_for(self._txn.queue.get(), max(timeout, 0.001))
        except TimeoutError:
            return None

    @property
    def provisional(self) -> bool:
        return self._txn.provisional

    async def ack_non2xx(self, resp: SipMessage) -> None:
        """The ACK of a non-2xx final: same branch, To as in the response (RFC 3261 17.1.1.3)."""
        req = self.request
        lines = [
            ("Via", req.header("Via") or ""),
            ("Max-Forwards", "70"),
            ("From", req.header("From") or ""),
            ("To", resp.header("To") or req.header("To") or ""),
            ("Call-ID", req.call_id),
            ("CSeq", f"{req.cseq[0]} ACK"),
            *[("Route", v) for v in req.header_values("Route")],
        ]
        raw = wire.sip_message(f"ACK {req.request_uri} SIP/2.0", lines)
        self._txn.ack = raw
        await self.node.send_raw(raw, self.node.outbound_proxy, self.node.transport)

    async def ack_2xx(self, dialog: Dialog) -> None:
        """The ACK of a 2xx: a new transaction in the dialog; re-sent if the 2xx is."""
        raw, _ = dialog.build(self.node, "ACK", cseq=self.request.cseq[0])
        self._txn.ack = raw
        await self.node.send_raw(raw, self.node.outbound_proxy, self.node.transport)

    async def cancel(self, timeout: float) -> SipMessage | None:
        """CANCEL the INVITE (RFC 3261 9.1); returns the CANCEL's final response."""
        req = self.request
        lines = [
            ("Via", req.header("Via") or ""),
            ("Max-Forwards", "70"),
            ("From", req.header("From") or ""),
            ("To", req.header("To") or ""),
            ("Call-ID", req.call_id),
            ("CSeq", f"{req.cseq[0]} CANCEL"),
            *[("Route", v) for v in req.header_values("Route")],
        ]
        raw = wire.sip_message(f"CANCEL {req.request_uri} SIP/2.0", lines)
        return await self.node.request(raw, self.branch, timeout)


@dataclass
class Dialog:
    """The state of one INVITE dialog that the refsut needs to send requests in it.

    ``local`` and ``remote`` are the From and To values of requests the refsut sends (tags
    included); requests go to the outbound proxy with the remote target as Request-URI and
    the route set as Route headers.
    """

    call_id: str
    local: str
    remote: str
    remote_target: str
    route: list[str]
    cseq: int

    @classmethod
    def as_uac(cls, invite: SipMessage, resp: SipMessage) -> Dialog:
        """The dialog a 2xx to our INVITE creates (RFC 3261 12.1.2)."""
        target = header_uri(resp, "Contact") or invite.request_uri or ""
        return cls(
            call_id=invite.call_id,
            local=invite.header("From") or "",
            remote=resp.header("To") or "",
            remote_target=target,
            route=list(reversed(resp.header_list("Record-Route"))),
            cseq=invite.cseq[0],
        )

    @classmethod
    def as_uas(cls, invite: SipMessage, to_tag: str) -> Dialog:
        """The dialog our 2xx to a received INVITE creates (RFC 3261 12.1.1)."""
        target = header_uri(invite, "Contact") or header_uri(invite, "From") or ""
        return cls(
            call_id=invite.call_id,
            local=f"{invite.header('To') or ''};tag={to_tag}",
            remote=invite.header("From") or "",
            remote_target=target,
            route=list(invite.header_list("Record-Route")),
            cseq=0,
        )

    def build(
        self,
        node: SipNode,
        method: str,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        cseq: int | None = None,
    ) -> tuple[bytes, str]:
        """An in-dialog request and its branch; CSeq advances unless given (ACK)."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        branch = new_branch()
        raw = build_request(
            method,
            self.remote_target,
            via=node.via(branch),
            from_=self.local,
            to=self.remote,
            call_id=self.call_id,
            cseq=cseq,
            headers=[*[("Route", r) for r in self.route], *headers],
            body=body,
        )
        return raw, branch


# Header lines the preloaded Route goes below (RFC 3261 does not fix the order; this keeps
# Via and Max-Forwards first, as build_request writes them).
_ABOVE_ROUTE = ("via", "max-forwards")


def _cut_to_content_length(item: Inbound) -> Inbound:
    """A datagram carrying more than its Content-Length: the rest is discarded (RFC 3261
    18.3), so the message is the one the declared length delimits."""
    declared = item.message.header("Content-Length") if item.message else None
    if item.transport != "udp" or declared is None or not declared.strip().isdigit():
        return item
    head_end = item.raw.find(b"\r\n\r\n")
    if head_end < 0 or len(item.raw) - head_end - 4 <= int(declared):
        return item
    raw = item.raw[: head_end + 4 + int(declared)]
    try:
        message, error = SipMessage.parse(raw), None
    except CodecError as exc:
        message, error = None, exc
    return dataclasses.replace(item, raw=raw, message=message, error=error)


def _server_key(msg: SipMessage) -> tuple:
    method = msg.cseq[1]
    branch = msg.branch
    if branch and branch.startswith(MAGIC):
        return ("branch", branch, method)
    # RFC 2543 peer: fall back to the identifiers of the request
    from_tag = (msg.header("From") or "").split(";tag=")[-1]
    return ("legacy", msg.call_id, msg.cseq[0], method, from_tag, msg.request_uri)


class SipNode:
    """One role's SIP presence: an endpoint, its dispatch loop and its transactions."""

    def __init__(
        self,
        name: str,
        listen: Address,
        transport: str,
        outbound_proxy: Address,
        handler: Handler,
        on_ack: Callable[[SipMessage], None] | None = None,
        *,
        preloaded_route: Iterable[str] = (),
        route_fault: Callable[[SipMessage], str | None] | None = None,
        via_fault: Callable[[SipMessage, int], str | None] | None = None,
    ) -> None:
        self.name = name
        self.transport = transport
        self.outbound_proxy = outbound_proxy
        # The core's routing (see _preload): the Route values every initial request starts
        # with, and the Service-Route the registrar last returned (the client's, RFC 3608).
        self.preloaded_route = list(preloaded_route)
        self.service_route: list[str] = []
        # Which fault switch, if any, governs the Route of a request / the Vias of a response
        # (named by the role, which knows what kind of message it is).
        self._route_fault = route_fault
        self._via_fault = via_fault
        self.endpoint = SipEndpoint(listen[0], listen[1])
        self._handler = handler
        self._on_ack = on_ack
        self._server: dict[tuple, ServerTransaction] = {}
        self._client: dict[tuple[str, str], _ClientTxn] = {}
        self._unacked: dict[tuple[str, int], asyncio.Event] = {}  # (Call-ID, CSeq) of INVITEs
        self._tasks: set[asyncio.Task] = set()
        self._timers: list[asyncio.TimerHandle] = []
        self._loop_task: asyncio.Task | None = None
        # The run's fault switches live on the role that owns the handler.
        self.faults = getattr(getattr(handler, "__self__", None), "faults", None)
        # Refusal of bad input, and the robustness switches that break it (refsut.robustness).
        self.guard = InputGuard(name, self._fault)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self.endpoint.start()
        self._loop_task = asyncio.create_task(self._run(), name=f"{self.name}-dispatch")

    async def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        tasks = [t for t in (self._loop_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for txn in self._client.values():
            if not txn.future.done():
                txn.future.cancel()
        await self.endpoint.close()
        if tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 2.0)

    @property
    def address(self) -> Address:
        return self.endpoint.address

    @property
    def hostport(self) -> str:
        host, port = self.address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def via(self, branch: str) -> str:
        return f"SIP/2.0/{self.transport.upper()} {self.hostport};branch={branch};rport"

    def new_request(
        self,
        method: str,
        target: str,
        *,
        from_: str,
        to: str,
        headers: list[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> tuple[bytes, str]:
        """A request outside any dialog: fresh branch and Call-ID, CSeq 1. Returns (raw,
        branch) for :meth:`request` or :meth:`invite`."""
        branch = new_branch()
        raw = build_request(
            method,
            target,
            via=self.via(branch),
            from_=from_,
            to=to,
            call_id=new_call_id(self.address[0]),
            cseq=1,
            headers=list(headers),
            body=body,
        )
        return raw, branch

    def spawn(self, coro: Awaitable, name: str | None = None) -> asyncio.Task:
        """Run a background task owned by this node (cancelled on close)."""
        task = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: task %s failed", self.name, task.get_name(), exc_info=task.exception())

    # -- sending -----------------------------------------------------------------------------

    def route_set(self, method: str) -> list[str]:
        """The Route values of an initial request: the core's entry point, then (except for a
        REGISTER, which is how the service route is learnt) the registrar's Service-Route."""
        return self.preloaded_route + ([] if method == "REGISTER" else self.service_route)

    def _preload(self, raw: bytes) -> bytes:
        """An initial request as it goes to the outbound proxy: with the preloaded Route set
        (RFC 3261 8.1.2, RFC 3608 6), unless it has one already. Requests inside a dialog
        (To tag) use the dialog's route set; CANCEL and ACK copy the INVITE's."""
        try:
            msg = SipMessage.parse(raw)
            method = msg.method or ""
            in_dialog = NameAddr.parse(msg.header("To") or "").tag is not None
        except CodecError:
            return raw
        route = self.route_set(method)
        if not route or in_dialog or method in ("ACK", "CANCEL") or msg.has_header("Route"):
            return raw
        fault = self._route_fault(msg) if self._route_fault is not None else None
        if fault is not None and self._fault(fault):
            log.warning("%s: fault %s: %s sent without its Route", self.name, fault, method)
            return raw
        headers = list(msg.headers)
        at = next(
            (i for i, (n, _) in enumerate(headers) if canonical_name(n) not in _ABOVE_ROUTE),
            len(headers),
        )
        headers[at:at] = [("Route", value) for value in route]
        return wire.sip_message(msg.start_line, headers, msg.body)

    async def send_raw(self, raw: bytes, remote: Address, transport: str) -> bool:
        try:
            await self.endpoint.send(raw, remote, transport)
        except TransportError as exc:
            log.warning("%s: send to %s failed: %s", self.name, remote, exc)
            return False
        return True

    async def request(self, raw: bytes, branch: str, timeout: float) -> SipMessage | None:
        """Run a non-INVITE client transaction through the outbound proxy.

        Returns the first final response, or None if none came within ``timeout`` seconds
        (or the request could not be sent). Later responses to the same branch are absorbed.
        """
        raw = self._preload(raw)
        loop = asyncio.get_running_loop()
        txn = _ClientTxn(loop.create_future())
        key = (branch, raw[: raw.index(b" ")].decode("ascii"))
        self._client[key] = txn
        deadline = loop.time() + timeout
        interval = T1
        try:
            if not await self.send_raw(raw, self.outbound_proxy, self.transport):
                return None
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                wait = remaining if self.transport != "udp" else min(interval, remaining)
                try:
                    return await asyncio.wait_for(asyncio.shield(txn.future), wait)
                except TimeoutError:
                    if loop.time() >= deadline:
                        return None
                # Timer E: retransmit, doubling up to T2 (T2 at once after a provisional)
                interval = T2 if txn.provisional else min(interval * 2, T2)
                await self.send_raw(raw, self.outbound_proxy, self.transport)
        finally:
            # Keep absorbing stray responses to this branch for a while, then forget it.
            self._later(TIMER_J, self._client.pop, key, None)

    async def invite(self, raw: bytes, branch: str, timeout: float) -> InviteClientTxn:
        """Send an INVITE through the outbound proxy and return its client transaction.

        Over UDP the INVITE is retransmitted (Timer A: T1, doubling) until the first
        response arrives or ``timeout`` runs out; the caller reads the responses.
        """
        raw = self._preload(raw)
        loop = asyncio.get_running_loop()
        txn = _ClientTxn(loop.create_future(), queue=asyncio.Queue())
        key = (branch, "INVITE")
        self._client[key] = txn
        # Responses (2xx retransmissions above all) keep arriving for a while after the end.
        self._later(timeout + TIMER_J, self._client.pop, key, None)
        await self.send_raw(raw, self.outbound_proxy, self.transport)
        if self.transport == "udp":
            self.spawn(self._retransmit_invite(raw, txn, timeout), name=f"{self.name}-timer-a")
        return InviteClientTxn(self, raw, branch, txn)

    async def _retransmit_invite(self, raw: bytes, txn: _ClientTxn, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        interval = T1
        while not txn.responses:
            wait = min(interval, deadline - loop.time())
            if wait <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(txn.future), wait)
            if txn.responses or loop.time() >= deadline:
                return
            await self.send_raw(raw, self.outbound_proxy, self.transport)
            interval *= 2

    def _await_ack(self, txn: ServerTransaction) -> None:
        """Retransmit the final response to an INVITE over UDP until the ACK arrives."""
        key = (txn.request.call_id, txn.request.cseq[0])
        event = asyncio.Event()
        self._unacked[key] = event
        if txn.transport == "udp" and txn.final is not None:
            self.spawn(self._retransmit_final(txn, event), name=f"{self.name}-timer-g")
        self._later(TIMER_J, self._unacked.pop, key, None)

    async def _retransmit_final(self, txn: ServerTransaction, acked: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMER_J
        interval = T1
        while not acked.is_set():
            wait = min(interval, deadline - loop.time())
            if wait <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(acked.wait(), wait)
            if acked.is_set() or loop.time() >= deadline or txn.final is None:
                return
            await self.send_raw(txn.final, txn.remote, txn.transport)
            interval = min(interval * 2, T2)

    def find_invite(self, cancel: SipMessage) -> ServerTransaction | None:
        """The INVITE server transaction a CANCEL names (same branch), if still known."""
        try:
            key = list(_server_key(cancel))
        except (CodecError, ValueError):
            return None
        key[2 if key[0] == "branch" else 3] = "INVITE"
        return self._server.get(tuple(key))

    # -- receiving ---------------------------------------------------------------------------

    async def _run(self) -> None:
        await serve(self.endpoint, self._dispatch, self.name)

    async def _dispatch(self, item: Inbound) -> None:
        msg = item.message
        if msg is not None and msg.is_request and self.guard.swallows(msg):
            return
        if item.message is None:
            if await self.guard.take_unparseable(item, self.send_raw):
                return
            log.info(
                "%s: ignoring unparseable %s data from %s: %s",
                self.name,
                item.transport,
                item.remote,
                item.error,
            )
            if item.transport != "udp":
                self._drop_stream(item.transport, item.remote)
            return
        item = _cut_to_content_length(item)
        msg = item.message
        if msg is None:
            log.info("%s: datagram unparseable once cut to its Content-Length", self.name)
            return
        if not msg.is_request:
            self._on_response(msg)
            return
        if msg.method == "ACK":
            self._ack(msg)
            return
        if self.guard.stalls(item):
            return
        try:
            key = _server_key(msg)
        except (CodecError, ValueError) as exc:
            log.info("%s: request without usable Via/CSeq ignored: %s", self.name, exc)
            return
        txn = self._server.get(key)
        if txn is not None:
            if txn.final is not None:  # retransmission: same answer, no reprocessing
                await self.send_raw(txn.final, item.remote, item.transport)
            return
        txn = ServerTransaction(self, msg, item, key)
        self._server[key] = txn
        if await self.guard.screen(item, txn.reply):
            return
        self.spawn(self._handle(txn), name=f"{self.name}-{msg.method}")

    def _fault(self, name: str) -> bool:
        return self.faults is not None and self.faults.on(name)

    def _vias_of(self, request: SipMessage, status: int, raw: bytes) -> bytes:
        """A response as it leaves: build_response copied the request's Vias in order
        (RFC 3261 8.2.6.2); a fault switch the role names may cut them to the top one."""
        fault = self._via_fault(request, status) if self._via_fault is not None else None
        if fault is None or not self._fault(fault):
            return raw
        msg = SipMessage.parse(raw)
        vias = msg.header_list("Via")
        if len(vias) < 2:
            return raw
        headers = [(n, v) for n, v in msg.headers if canonical_name(n) != "via"]
        log.warning("%s: fault %s: %d answered with its top Via only", self.name, fault, status)
        return wire.sip_message(msg.start_line, [("Via", vias[0]), *headers], msg.body)

    async def _handle(self, txn: ServerTransaction) -> None:
        try:
            await self._handler(txn)
        except asyncio.CancelledError:
            raise
        except Hang:
            self.guard.hang(txn.request.summary())
        except Exception:
            log.exception("%s: handler failed on %s", self.name, txn.request.summary())
            if txn.final is None:
                await txn.reply(500)
        finally:
            if txn.final is None:
                # A handler that never answered: forget it so a retransmission is retried.
                self._server.pop(txn.key, None)

    def _completed(self, txn: ServerTransaction) -> None:
        self._later(TIMER_J, self._server.pop, txn.key, None)

    def _later(self, delay: float, callback, *args) -> None:
        loop = asyncio.get_running_loop()
        if len(self._timers) > 256:  # drop handles that already ran
            self._timers = [t for t in self._timers if not t.cancelled() and t.when() > loop.time()]
        self._timers.append(loop.call_later(delay, callback, *args))

    def _ack(self, msg: SipMessage) -> None:
        try:
            key = (msg.call_id, msg.cseq[0])
        except (CodecError, ValueError, IndexError):
            return
        event = self._unacked.get(key)
        if event is not None:
            event.set()
        if self._on_ack is not None:
            self._on_ack(msg)

    def _on_response(self, msg: SipMessage) -> None:
        try:
            branch = msg.branch
            method = msg.cseq[1]
        except (CodecError, ValueError, IndexError):
            return
        txn = self._client.get((branch or "", method))
        if txn is None:
            log.debug("%s: response to unknown branch dropped: %s", self.name, msg.summary())
            return
        if txn.queue is not None and (msg.status or 0) >= 200 and txn.future.done():
            # A retransmitted final: the ACK of the first may have been lost, so it goes
            # again (RFC 3261 17.1.1.2, 13.2.2.4); the caller has seen this answer already.
            if txn.ack is not None:
                self.spawn(self.send_raw(txn.ack, self.outbound_proxy, self.transport))
            return
        txn.responses.append(msg)
        if txn.queue is not None:
            txn.queue.put_nowait(msg)
        if msg.status is not None and msg.status < 200:
            txn.provisional = True
        elif not txn.future.done():
            txn.future.set_result(msg)

    def _drop_stream(self, transport: str, remote: Address) -> None:
        """Close a stream connection that carried garbage."""
        self.endpoint.close_connection(remote, transport)
