"""The network around the SUT: SIP/IP core, simulated devices and simulated originators.

Owns the test system's side of the wire. One `SipEndpoint` is the core: the SUT's outbound
proxy, the address every simulated peer sends from, and where the SUT's requests arrive. Requests
the SUT sends towards a device are dispatched by Request-URI (the device's public GRUU) to the
simulated device they belong to; the test body decides how each device answers, so ordering
(which device answers first) is explicit rather than timing-based. A Route naming the core (its
proxy URI, or the Service-Route its registrar returned) is a loose route to this hop: the core
takes it as its own and routes by the Request-URI alone, as if it had stripped it.

Every message the core receives goes to exactly one handler, through its `Dispatcher`
(`cpmconf.roles.dispatch`): our client transaction waiting for its responses first, then a
dialog, then the oldest wait whose predicate matches; two waits never race on one message.
What arrives before its wait is kept for it.

The core answers everything it receives. A request no case took (a store-and-forward PF's
re-send to an address of record, a retransmission, a refresh after the case ended) is
recorded in `Core.unexpected` (when, in which case window, what the core answered) and
answered when its window closes (`end_case` at the case's teardown, or the reset before the
next case for what came later), so it never races a case still waiting for it: a
retransmission of a request the test system already answered gets that answer again; any
other request a final error that changes nothing at the SUT: 481 inside a dialog, 480 to a
user or device the profile provisions, 404 to anyone else. Never silence, and never a 200
the SUT could take as a delivery (ACK needs no answer). A case's own records, and the
overlapping waits of its window, go into its evidence, never judged (`CaseWindow`).

A `Journal` tap records every message the test system sends or receives; the capture barrier
waits for exactly those, and the evidence of each test is built from them.

Every wait ends by cause: `NoAnswer` when the guard time passes in silence, `UnparseableAnswer`
when only bytes the codec could not parse came; `unless` ends a wait at once when what runs
beside it (the upper-tester call, our own transaction: `refusal`) makes it pointless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from cpmconf.codec.cpm import ICSI_DEFERRED, ICSI_LARGEMSG, ICSI_MSG
from cpmconf.codec.headers import NameAddr
from cpmconf.codec.sip import SipMessage
from cpmconf.codec.uri import same_aor, same_contact, same_gruu
from cpmconf.roles import regevent
from cpmconf.roles.devices import SimDevice
from cpmconf.roles.dispatch import (
    DIALOG,
    TRANSACTION,
    Dispatcher,
    Handler,
    Overlap,
    Unexpected,
)
from cpmconf.roles.errors import (
    NoAnswer,
    SetupError,
    SetupRefused,
    StimulusError,
    UnparseableAnswer,
)
from cpmconf.roles.profile import Address, Profile
from cpmconf.roles.stimulus import Stimulus, Templates, token
from cpmconf.transport import Inbound, SipEndpoint, TransportError, TransportTimeout
from cpmconf.transport.tls import TlsFiles

log = logging.getLogger("cpmconf.core")
T1, T2 = 0.5, 4.0  # RFC 3261 timers: first UDP retransmission interval, and its cap
MAX_UNEXPECTED = 1000  # records of unexpected messages kept over a run; beyond, only counted


@dataclass(frozen=True)
class JournalEntry:
    direction: str  # "sent" or "received"
    time: float
    transport: str
    local: tuple
    remote: tuple
    raw: bytes


class Journal:
    """Tap recording what the test system's sockets sent and received, with marks per test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: list[JournalEntry] = []
        # Called with each received entry, on the endpoint's loop (the manual upper tester
        # watches the wire for the operator's action through this).
        self.listeners: list[Callable[[JournalEntry], None]] = []

    def on_sent(self, transport, local, remote, raw, now) -> None:
        with self._lock:
            self.entries.append(JournalEntry("sent", now, transport, local, remote, bytes(raw)))

    def on_received(self, transport, local, remote, raw, now) -> None:
        entry = JournalEntry("received", now, transport, local, remote, bytes(raw))
        with self._lock:
            self.entries.append(entry)
        for listener in list(self.listeners):
            listener(entry)

    def mark(self) -> int:
        with self._lock:
            return len(self.entries)

    def since(self, mark: int) -> list[JournalEntry]:
        with self._lock:
            return list(self.entries[mark:])

    def on_the_wire(self, mark: int) -> list[bytes]:
        """What crossed the wire since `mark`: a message the test system sent to itself (a
        SUT that hands us our own address, e.g. a path without its own hop) was journalled
        twice, once per socket, but is one message on the wire."""
        entries = self.since(mark)
        sent: dict[bytes, int] = {}
        for e in entries:
            if e.direction == "sent":
                sent[e.raw] = sent.get(e.raw, 0) + 1
        out: list[bytes] = []
        for e in entries:
            if e.direction == "received" and sent.get(e.raw, 0) > 0:
                sent[e.raw] -= 1
                continue
            out.append(e.raw)
        return out


@dataclass(frozen=True)
class CaseWindow:
    """What a case's window held that no one judges: the messages no handler took in it
    (with what the core answered), the overlapping waits (a harness defect), and how many
    unexpected messages went unrecorded because the run's bound on records was reached."""

    case: str
    unexpected: list[Unexpected]
    overlaps: list[Overlap]
    unrecorded: int = 0


@dataclass
class Exchange:
    """One request the test system sent and the responses it got."""

    request: Stimulus
    responses: list[SipMessage] = field(default_factory=list)

    @property
    def final(self) -> SipMessage | None:
        for r in self.responses:
            if r.status is not None and r.status >= 200:
                return r
        return None


class MsrpPeerLike(Protocol):
    """What the core holds of the run's MSRP peer (`cpmconf.roles.msrp_peer.MsrpPeer`, a
    module built on this one): the scene and the fixtures use the rest of it."""

    @property
    def port(self) -> int: ...

    def reset(self) -> None: ...


class Core:
    """The SIP/IP core and every simulated peer, on one endpoint."""

    def __init__(
        self,
        profile: Profile,
        templates: Templates,
        endpoint: SipEndpoint,
        journal: Journal,
        msrp: MsrpPeerLike | None = None,
        tls: TlsFiles | None = None,
    ):
        self.profile = profile
        self.templates = templates
        self.endpoint = endpoint
        self.journal = journal
        self.devices: list[SimDevice] = []
        self.sut_pf: Address | None = None
        self.sut_client: Address | None = None
        # The run's MsrpPeer (cpmconf.roles.msrp_peer, which builds on this module, hence
        # only its shape here); None for a core that sets up no MSRP session.
        self.msrp = msrp
        self.tls = tls  # the run's TLS files (cpmconf.transport.tls.TlsFiles), when TLS is used
        # Where the SUT was told its outbound proxy is, when that is not this endpoint (the
        # chaos proxy's relay in front of the core); set once by the session fixture.
        self.sut_outbound: tuple[str, int] | None = None
        # The ports of a real core in front of this one (cpmconf.roles.kamailio): its hops
        # are the test system's side of the wire, not the SUT's.
        self.hop_ports: tuple[int, ...] = ()
        # Set by the manual upper tester while an operator's instruction is pending.
        self.operator_guard: float | None = None
        # Requests no case took, drained by `reset` and answered by `answer_unclaimed`.
        self.unclaimed: list[SipMessage] = []
        # The final answers the test system gave, by transaction, this case's and the last
        # one's: a retransmission no case took gets the same answer again.
        self._answered: dict[tuple, tuple[bytes, Address, str | None]] = {}
        self._answered_before: dict[tuple, tuple[bytes, Address, str | None]] = {}
        # What `answer_unclaimed` sent over the run, "METHOD status" -> count
        self.unclaimed_answers: dict[str, int] = {}
        # The ACK the test system sent for each non-2xx final to its INVITEs, by the final's
        # transaction: a retransmitted final (the SUT's Timer G) gets the same ACK again.
        self._acked: dict[tuple, tuple[bytes, Address, str]] = {}
        # The text of every message a simulated originator sent for deferral over the run: a
        # store-and-forward PF's later re-send of one is not a notification (testcases).
        self.deferred_texts: set[str] = set()
        self.reacked: list[SipMessage] = []
        # Every inbound message goes to one handler (transaction, dialog, expectation).
        self.dispatcher = Dispatcher(owner=endpoint)
        endpoint.attach(self.dispatcher)
        # What no handler took, window by window (see `reset`); bounded over the run.
        self.unexpected: list[Unexpected] = []
        self.unexpected_overflow = 0
        self._records: dict[int, Unexpected] = {}  # id(request) -> its record, until answered
        # The case window the core is in: named by `begin` (the test id), "after <id>" once
        # `end_case` closed it; otherwise numbered by resets.
        self.case: str | None = None
        self.windows = 0
        # Where the named case's window began: the lengths of `unexpected` and `overlaps`,
        # and the overflow count.
        self._case_marks = (0, 0, 0)
        # The reg-event registrar's state for a PF SUT (cpmconf.roles.regevent).
        self.regstate = regevent.RegState()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return self.endpoint.address

    @property
    def host(self) -> str:
        return self.endpoint.address[0]

    @property
    def port(self) -> int:
        return self.endpoint.address[1]

    @property
    def guard(self) -> float:
        """The bound of a wait; while an operator carries out an instruction (the manual upper
        tester), the operator's guard time, so the wire wait it caused lasts as long."""
        if self.operator_guard is not None:
            return max(self.profile.guard, self.operator_guard)
        return self.profile.guard

    # -- routing through the core (D-through-core) --------------------------------------------

    @property
    def outbound_proxy(self) -> tuple[str, int]:
        """The address the SUT sends its requests to: the core's own, or the relay the SUT was
        given in front of it. The through-the-core checks judge destinations against this."""
        return self.sut_outbound or self.address

    @property
    def relay_target(self) -> tuple[str, int] | None:
        """With a relay in front of the core, the core's own address, where the relay forwards
        what the SUT sent (those copies are the relay's, not the SUT's); None without one."""
        return self.address if self.sut_outbound else None

    @staticmethod
    def _hostport(address: tuple[str, int]) -> str:
        host, port = address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def proxy_uri(self) -> str:
        """The core's entry point as a loose-routing URI: what a client preloads in Route
        for its outbound proxy (RFC 3261 8.1.2)."""
        return f"sip:{self._hostport(self.outbound_proxy)};lr"

    @property
    def service_route(self) -> str | None:
        """The Service-Route the registrar returns (RFC 3608), naming the core's S-CSCF as
        an IMS core does (`orig` user part), or None when the profile turns it off."""
        if not self.profile.service_route:
            return None
        return f"<sip:orig@{self._hostport(self.address)};lr>"

    def route_expected(self, role: str) -> tuple[str, ...]:
        """The URIs the Route of an initial request from the SUT's `role` ("client" or
        "pf") must begin with; () when the profile says its Route is not judged. A client's
        Service-Route comes on top of this, read from the capture by the check."""
        if not self.profile.judge_route:
            return ()
        if role == "pf" and self.profile.pf is not None and self.profile.pf.core_uri:
            return (self.profile.pf.core_uri,)
        return (self.proxy_uri,)

    def base_context(self, transport: str | None = None) -> dict:
        """Values every template may use; `transport` the SIP transport the request goes
        over (its Via), by default the profile's."""
        return {
            "core_host": self.host,
            "core_port": self.port,
            "transport": (transport or (self.profile.pf or self.profile.client).transport).upper(),
            "icsi_msg": ICSI_MSG,
            "icsi_largemsg": ICSI_LARGEMSG,
            "icsi_deferred": ICSI_DEFERRED,
            "branch": "z9hG4bK" + token(6),
            # The Via of the originating device, below the core's own in a request the core
            # forwards to the SUT, as a proxy leaves it (RFC 3261 16.6): the SUT's response
            # must carry both, in order. Its sent-by is on loopback, port 9 (discard): a SUT
            # that answered there instead of the top Via would reach nobody.
            "origin_via": f"SIP/2.0/UDP {self._hostport((self.host, 9))}"
            f";branch=z9hG4bK{token(6)};received={self.host}",
            "tag": token(4),
            "call_id": token(10) + "@" + self.host,
        }

    def render(
        self, name: str, body: bytes | str = b"", transport: str | None = None, **context
    ) -> Stimulus:
        """Render template `name`; `transport`: the SIP transport a request is to go over,
        when not the profile's (pass the same to `transact` or `send`)."""
        ctx = self.base_context(transport)
        ctx.update(context)
        return self.templates.render(name, body=body, **ctx)

    # -- per-test reset ----------------------------------------------------------------------

    @property
    def window(self) -> str:
        """The case window unexpected messages are recorded under."""
        return self.case or f"window {self.windows}"

    @property
    def overlaps(self) -> list[Overlap]:
        """Messages that matched two waiting expectations at once (a harness defect)."""
        return self.dispatcher.overlaps

    def begin(self, case: str) -> None:
        """Open the window of case `case` (its test id): what no one expects from now on is
        recorded under it. The answers the previous case gave are kept for one more case,
        so a late retransmission of a request it answered gets the same answer again."""
        self.case = case
        self._case_marks = (
            len(self.unexpected),
            len(self.dispatcher.overlaps),
            self.unexpected_overflow,
        )
        self._answered_before, self._answered = self._answered, {}

    async def end_case(self) -> CaseWindow:
        """Close the window `begin` opened: record and answer what no handler took in it
        (`reset`, `answer_unclaimed`), and return the case's records. What arrives later is
        recorded under "after <case>" and answered by the reset before the next case."""
        case = self.case or self.window
        records, overlaps, overflow = self._case_marks
        self.reset()
        await self.answer_unclaimed()
        self.case = f"after {case}"
        return CaseWindow(
            case,
            [u for u in self.unexpected[records:] if u.window == case],
            self.dispatcher.overlaps[overlaps:],
            self.unexpected_overflow - overflow,
        )

    def reset(self) -> None:
        """End the case window: what no handler took in it (late retransmissions, stray
        requests, unparseable bytes) is recorded in `unexpected`; the requests among it wait
        in `unclaimed` for `answer_unclaimed`."""
        for item in self.dispatcher.drain():
            record = self._record(item)
            msg = item.message
            if msg is not None and msg.is_request and msg.method != "ACK":
                self.unclaimed.append(msg)
                if record is not None:
                    self._records[id(msg)] = record
            elif msg is not None and not msg.is_request and _final_key(msg) in self._acked:
                self.reacked.append(msg)
                if record is not None:
                    record.answer = "ACK again"
        self.windows += 1
        self.case = None

    def _record(self, item: Inbound) -> Unexpected | None:
        if len(self.unexpected) >= MAX_UNEXPECTED:
            self.unexpected_overflow += 1
            return None
        record = Unexpected.of(item, self.window)
        self.unexpected.append(record)
        return record

    async def answer_unclaimed(self) -> list[Stimulus]:
        """Answer every request `reset` drained (see the module docstring); returns what was
        sent. Run between cases only, so no case still waits for any of them."""
        pending, self.unclaimed = self.unclaimed, []
        sent = []
        finals, self.reacked = self.reacked, []
        for final in finals:  # a retransmitted non-2xx final to our INVITE: ACK it again
            raw, remote, transport = self._acked[_final_key(final)]
            with contextlib.suppress(NoAnswer):
                await self.send(raw, remote, transport)
        for req in pending:
            again = self._answered.get(_txn_key(req)) or self._answered_before.get(_txn_key(req))
            record = self._records.pop(id(req), None)
            try:
                if again is not None:
                    raw, remote, transport = again
                    await self.send(raw, remote, transport)
                    if record is not None:
                        record.answer = "the case's answer again"
                    continue
                status, reason = self._unclaimed_answer(req)
                sent.append(await self.respond(req, status, reason))
                if record is not None:
                    record.answer = f"{status} {reason}"
                key = f"{req.method} {status}"
                self.unclaimed_answers[key] = self.unclaimed_answers.get(key, 0) + 1
                log.info("no case took %s: answered %s", req.summary(), status)
            except (NoAnswer, StimulusError):
                continue  # an unanswerable request (no Via, connection gone): nothing to do
        return sent

    def _unclaimed_answer(self, req: SipMessage) -> tuple[int, str]:
        if _to_tag(req) or req.method == "CANCEL":
            return 481, "Call/Transaction Does Not Exist"
        served = [u.uri for u in self.profile.users]
        served += [d.gruu for d in self.devices if d.gruu]
        # the contact every simulated device registers (cpmconf.roles.regevent)
        here = self._hostport(self.address)
        served += [f"sip:{d.name}@{here}" for u in self.profile.users for d in u.devices]
        if self.profile.client is not None:
            served.append(self.profile.client.user)
        target = req.request_uri
        if any(same_aor(target, s) for s in served) or self.device_for(target or "") is not None:
            return 480, "Temporarily Unavailable"
        return 404, "Not Found"

    # -- sending and waiting -----------------------------------------------------------------

    def _transport_to(self, remote: Address) -> str:
        """The profile's SIP transport to `remote`: a call that names none sends over this."""
        if self.sut_client is not None and remote == self.sut_client and self.profile.client:
            return self.profile.client.transport
        return self.profile.pf.transport if self.profile.pf else "udp"

    async def send(
        self, stimulus: Stimulus | bytes, remote: Address, transport: str | None = None
    ) -> None:
        raw = stimulus.raw if isinstance(stimulus, Stimulus) else stimulus
        try:
            await self.endpoint.send(raw, remote.tuple, transport or self._transport_to(remote))
        except TransportError as exc:
            raise NoAnswer(f"connection to the SUT at {remote} ({exc})", 0) from exc

    async def wait(
        self,
        predicate: Callable[[SipMessage], bool],
        what: str,
        timeout: float | None = None,
    ) -> SipMessage:
        """The next parsed message matching `predicate`; NoAnswer after the guard time.

        Messages the codec could not parse never match: they stay in the capture, where the
        checks see them, but a role waits for something it can act on. When the guard time
        runs out while such messages came, the NoAnswer says so (`UnparseableAnswer`).
        """
        garbled = Unparsed()

        def match(item: Inbound) -> bool:
            if item.message is None:
                garbled.see(item)
                return False
            return predicate(item.message)

        bound = self.guard if timeout is None else timeout
        try:
            item = await self.dispatcher.receive(match, bound, what)
        except TransportTimeout:
            raise garbled.no_answer(what, bound) from None
        assert item.message is not None
        return item.message

    @contextlib.contextmanager
    def dialog(self, call_id: str, what: str) -> Iterator[Handler]:
        """Hold the dialog `call_id` while the block runs: the SUT's requests in it come to
        the returned handler (read them with `next_in`), ahead of any predicate wait."""

        def in_dialog(item: Inbound) -> bool:
            m = item.message
            return m is not None and m.is_request and m.call_id == call_id

        with self.dispatcher.open(in_dialog, what, DIALOG) as handler:
            yield handler

    async def next_in(self, handler: Handler, timeout: float | None = None) -> SipMessage:
        """The next message handed to `handler` (a dialog's); NoAnswer after the bound."""
        bound = self.guard if timeout is None else timeout
        try:
            item = await handler.next(bound)
        except TransportTimeout:
            raise NoAnswer(handler.what, bound) from None
        assert item.message is not None
        return item.message

    async def wait_request(
        self,
        method: str,
        what: str | None = None,
        timeout: float | None = None,
        where: Callable[[SipMessage], bool] = lambda m: True,
    ) -> SipMessage:
        return await self.wait(
            lambda m: m.is_request and m.method == method and where(m),
            what or f"{method} request",
            timeout,
        )

    async def transact(
        self,
        stimulus: Stimulus,
        remote: Address,
        timeout: float | None = None,
        retransmit: bool = False,
        transport: str | None = None,
    ) -> Exchange:
        """Send a request and collect its responses until the final one (or the guard time).

        An INVITE is an INVITE client transaction (RFC 3261 17.1.1): over UDP it is sent
        again, unchanged, until a response comes, at 0.5 s and then doubling (Timer A); a
        non-2xx final is acknowledged at once with an ACK on the INVITE's branch carrying the
        response's To tag (17.1.1.3), and again whenever the SUT retransmits that final (the
        2xx ACK is the dialog's, sent by the step that owns the dialog). With `retransmit`, any
        other request over UDP is sent again until a response comes, at 0.5 s doubling up to
        4 s (17.1.2.2, Timer E): one datagram the SUT lost (or a parser joined to the one
        before) is not yet silence. `transport`: the SIP transport the request (rendered for
        it) goes over, by default the profile's; the ACK of a non-2xx final goes over it too."""
        ex = Exchange(stimulus)
        call_id, (cseq, method) = stimulus.message.call_id, stimulus.message.cseq
        garbled = Unparsed()  # what came instead of a response, named on expiry

        def mine(item: Inbound) -> bool:
            m = item.message
            if m is None:
                garbled.see(item)
                return False
            return not m.is_request and m.call_id == call_id and m.cseq == (cseq, method)

        # The transaction holds its responses from before the first send to its end: a
        # response to it never reaches a predicate wait running beside it.
        with self.dispatcher.open(mine, f"response to {method}", TRANSACTION) as txn:
            transport = transport or self._transport_to(remote)
            await self.send(stimulus, remote, transport)
            return await self._collect(ex, txn, garbled, remote, timeout, retransmit, transport)

    async def _collect(
        self,
        ex: Exchange,
        txn: Handler,
        garbled: Unparsed,
        remote: Address,
        timeout: float | None,
        retransmit: bool,
        transport: str,
    ) -> Exchange:
        stimulus = ex.request
        method = stimulus.message.cseq[1]
        invite = method == "INVITE"
        udp = transport == "udp"
        interval = T1 if (retransmit or invite) and udp else None
        cap = float("inf") if invite else T2
        bound = self.guard if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + bound
        again = loop.time() + interval if interval else None
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                what = f"final response to {method} ({stimulus.template})"
                raise garbled.no_answer(what, bound)
            if again is not None and not ex.responses:
                step = min(remaining, max(again - loop.time(), 0.0))
                try:
                    item = await txn.next(step)
                except TransportTimeout:
                    if loop.time() < deadline:  # Timer E fired: the same datagram again
                        await self.send(stimulus, remote, transport)
                        interval = min(interval * 2, cap)
                        again = loop.time() + interval
                    continue
            else:
                try:
                    item = await txn.next(remaining)
                except TransportTimeout:
                    raise garbled.no_answer(f"response to {method}", remaining) from None
            resp = item.message
            assert resp is not None
            ex.responses.append(resp)
            if resp.status is not None and resp.status >= 200:
                if invite and resp.status >= 300:
                    await self.ack_non2xx(stimulus.message, resp, remote, transport)
                return ex

    async def ack_non2xx(
        self, invite: SipMessage, final: SipMessage, remote: Address, transport: str | None = None
    ) -> None:
        """ACK a non-2xx final to an INVITE we sent (RFC 3261 17.1.1.3): the INVITE's
        Request-URI, top Via (so its branch), From, Call-ID and CSeq number, the response's To
        (with its tag), over the INVITE's transport; remembered, so a retransmission of the
        final gets the ACK again."""
        transport = transport or self._transport_to(remote)
        ack = self.render(
            "common/ack_non2xx.sip.j2",
            transport=transport,
            target=invite.request_uri,
            via=invite.header("Via"),
            from_=invite.header("From"),
            to=final.header("To"),
            call_id=invite.call_id,
            cseq=invite.cseq[0],
            routes=invite.header_values("Route"),
        )
        self._acked[_final_key(final)] = (ack.raw, remote, transport)
        await self.send(ack, remote, transport)

    def response_to(
        self,
        request: SipMessage,
        status: int,
        reason: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        to_tag: str | None = None,
        template: str = "common/response.sip.j2",
    ) -> Stimulus:
        """Build the response a simulated peer gives to `request` (RFC 3261 section 8.2.6);
        `template` a response template naming the clauses the case's response embodies."""
        to = request.header("To") or ""
        if status > 100 and ";tag=" not in to.replace(" ", ""):
            to = f"{to};tag={to_tag or token(4)}"
        return self.render(
            template,
            body=body,
            status=status,
            reason=reason,
            vias=request.header_values("Via"),
            record_routes=request.header_values("Record-Route"),
            from_=request.header("From"),
            to=to,
            call_id=request.call_id,
            cseq=request.header("CSeq"),
            extra=headers or [],
            content_type=content_type,
        )

    def in_dialog(
        self,
        invite: SipMessage,
        final: SipMessage,
        method: str,
        cseq: int,
        extra: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        transport: str | None = None,
    ) -> Stimulus:
        """A request inside the dialog an INVITE we sent set up (ACK, BYE), RFC 3261 12.2.1.

        The target is the remote Contact of the final response; ACK keeps the INVITE's CSeq.
        `transport`: the dialog's SIP transport (the INVITE's), by default the profile's.
        """
        contact = final.header("Contact") or invite.request_uri or ""
        target = (
            contact.split(";")[0].strip().strip("<>")
            if "<" not in contact
            else (contact[contact.index("<") + 1 : contact.index(">")])
        )
        return self.render(
            "common/in_dialog.sip.j2",
            body=body,
            transport=transport,
            method=method,
            target=target,
            from_=invite.header("From"),
            to=final.header("To"),
            call_id=invite.call_id,
            cseq=cseq,
            extra=extra or [],
        )

    def cancel_of(self, invite: SipMessage, transport: str | None = None) -> Stimulus:
        """CANCEL of an INVITE we sent: same Via branch, Call-ID, From, To, CSeq number
        (`transport`: the INVITE's, by default the profile's)."""
        return self.render(
            "common/cancel.sip.j2",
            transport=transport,
            target=invite.request_uri,
            via=invite.header("Via"),
            from_=invite.header("From"),
            to=invite.header("To"),
            call_id=invite.call_id,
            cseq=invite.cseq[0],
        )

    async def respond(
        self,
        request: SipMessage,
        status: int,
        reason: str,
        transport: str | None = None,
        **kwargs,
    ) -> Stimulus:
        """Answer `request` over the transport its top Via names (RFC 3261 18.2.2), or
        `transport` (by default the profile's) when the Via names none we speak."""
        stim = self.response_to(request, status, reason, **kwargs)
        remote = self._reply_address(request)
        via = request.top_via
        named = (via.transport or "").lower() if via is not None else ""
        transport = named if named in ("udp", "tcp", "tls") else transport
        await self.send(stim, remote, transport)
        if status >= 200:
            self._answered[_txn_key(request)] = (stim.raw, remote, transport)
        return stim

    def _reply_address(self, request: SipMessage) -> Address:
        """Where a response goes: the top Via's sent-by (with received/rport when present)."""
        via = request.top_via
        if via is None:
            raise StimulusError("common/response.sip.j2", "request has no Via to answer to")
        params = via.parameters
        host = params.get("received") or via.host
        port = params.get("rport") or via.port
        try:
            return Address(host, int(port or 5060))
        except ValueError:
            return Address(host, 5060)

    # -- devices (for a PF SUT) --------------------------------------------------------------

    def device_for(self, uri: str) -> SimDevice | None:
        for d in self.devices:
            if d.gruu and same_gruu(d.gruu, uri):
                return d
            if same_contact(d.contact, uri):
                return d
        return None

    async def register_devices(self) -> list[SimDevice]:
        """Register every device of every registered user at the PF; learn each public GRUU.

        Done at the start of each PF test so no test depends on another having registered.
        """
        if self.sut_pf is None:
            raise SetupError("no PF address: the profile has no [pf] table")
        devices = []
        for user in self.profile.users:
            if not user.registered:
                continue
            for dev in user.devices:
                devices.append(await regevent.register_device(self, user.uri, dev, 600))
        self.devices = devices
        return devices


class Unparsed:
    """Inbound items a wait saw that the codec could not parse (the SUT's: what the test
    system sends always parses). They never match a wait, but on its expiry they tell a
    garbling SUT from a silent one."""

    def __init__(self) -> None:
        self._items: dict[int, Inbound] = {}  # by id; the values keep the ids unique

    def see(self, item: Inbound) -> None:
        if item.message is None and item.raw:
            self._items.setdefault(id(item), item)

    def no_answer(self, what: str, bound: float) -> NoAnswer:
        if not self._items:
            return NoAnswer(what, bound)
        first = next(iter(self._items.values()))
        return UnparseableAnswer(what, bound, len(self._items), str(first.error))


T = TypeVar("T")


def failed(side: asyncio.Future) -> BaseException | None:
    """The default `stop` of `unless`: any failure of the side task ends the wait."""
    return side.exception()


async def unless(
    main: Awaitable[T],
    side: asyncio.Future,
    stop: Callable[[asyncio.Future], BaseException | None] = failed,
) -> T:
    """Await `main` (a wait for the SUT) while `side` runs alongside it (the upper-tester call
    that makes the SUT act, our own request's transaction).

    When `side` ends first and `stop(side)` returns an exception, what `main` waits for can
    no longer come: `main` is cancelled and that exception raised at once, instead of after
    the guard time. Otherwise `side` is left to the caller (never cancelled here); a failure
    of it looked at here counts as retrieved.
    """
    task = asyncio.ensure_future(main)
    try:
        if not side.done():
            await asyncio.wait({task, side}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done() and side.done() and not side.cancelled():
            error = stop(side)
            if error is not None:
                raise error
        return await task
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def refusal(what: str, consequence: str) -> Callable[[asyncio.Future], BaseException | None]:
    """A `stop` for `unless` with our own transaction (`Core.transact`) as the side: its
    final error response (3xx-6xx) is the SUT refusing `what`, so `consequence` follows; a
    failed send ends the wait too. Its guard expiring does not: the main wait then runs out
    on its own and names what it waited for."""

    def stop(side: asyncio.Future) -> BaseException | None:
        error = side.exception()
        if error is not None:
            return None if isinstance(error, NoAnswer) and error.timeout > 0 else error
        final = side.result().final
        if final is not None and final.status is not None and final.status >= 300:
            return SetupRefused(what, final.status, final.reason or "", consequence)
        return None

    return stop


def forget(task: asyncio.Future) -> None:
    """Stop caring about `task`: cancel it if still running; if it already failed, take its
    exception, so asyncio never logs "Task exception was never retrieved"."""
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()


def _txn_key(req: SipMessage) -> tuple:
    """What a retransmission of `req` shares with it (RFC 3261 17.2.3): the top Via's branch
    and sent-by, and the method (Call-ID and CSeq where a branch is missing)."""
    via = req.top_via
    branch = via.parameters.get("branch") if via is not None else None
    sent_by = (via.host, via.port) if via is not None else None
    return (branch or (req.call_id, req.header("CSeq")), sent_by, req.method)


def _final_key(resp: SipMessage) -> tuple:
    """What ties a final response to the INVITE transaction it ends: the top Via's branch,
    Call-ID and CSeq (a retransmission of the final shares all three)."""
    via = resp.top_via
    branch = via.parameters.get("branch") if via is not None else None
    return (branch, resp.call_id, resp.header("CSeq"))


def _to_tag(req: SipMessage) -> bool:
    to = (req.header("To") or "").replace(" ", "").lower()
    return ";tag=" in to


def now() -> float:
    return time.time()


__all__ = [
    "CaseWindow",
    "Core",
    "Exchange",
    "Journal",
    "JournalEntry",
    "NameAddr",
    "SimDevice",
    "Unparsed",
    "failed",
    "forget",
    "now",
    "refusal",
    "unless",
]
