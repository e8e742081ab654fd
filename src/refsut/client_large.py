"""The CPM Client in large message mode: sending (TS 7.2.1.2) and receiving (TS 7.2.2.2).

A large message travels in an MSRP session that a SIP INVITE sets up. Sending: the INVITE
goes to the outbound proxy with an SDP offer (``sendonly``, ``accept-types:message/cpim``,
``file-selector`` size, ``setup:active``); on the 200 the client ACKs, connects to the first
URI of the answer's ``a=path``, sends the empty SEND that binds the connection, sends the
CPIM wrapper in chunks (each waiting, bounded, for its 200) and ends with a BYE whose 200
may carry the Message-UID. Receiving: the client answers the INVITE (480 when out of
resources, 488 when the offer accepts no CPIM), and after the ACK connects to the offer's
path, binds, answers each SEND chunk and rebuilds the message; the BYE may carry the
Message-UID. The client is the active MSRP endpoint both ways (RFC 6135).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import AcceptContact, MessageUID
from cpmconf.codec.msrp import MsrpMessage, MsrpUri, Reassembler
from cpmconf.codec.sip import SipMessage

from . import bodies, wire
from .client_context import ClientContext
from .msrpcore import MsrpLeg
from .records import Record
from .sessions import msrp_media, session_expires_answer
from .sipcore import (
    Dialog,
    ServerTransaction,
    build_response,
    headers_named,
    new_branch,
    new_tag,
)
from .sipcore import (
    build_request as build_sip_request,
)

log = logging.getLogger("refsut.client.large")

ICSI_MSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
ICSI_LARGE = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.largemsg"
ICSI_DEFERRED = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.deferred"
CPM_IDS = ("Conversation-ID", "Contribution-ID", "InReplyTo-Contribution-ID")
ALLOW = "INVITE, ACK, BYE, CANCEL, MESSAGE, OPTIONS"
SESSION_EXPIRES = "1800;refresher=uac"
FOREIGN_IDENTITY = "sip:someone-else@example.org"  # used only by the identity fault switches
SEND_BOUND = 4.5  # /send answers within the upper tester's 5 s; the session may go on
STALL_BOUND = 30.0  # how long the stall fault keeps a transfer silent
IDLE_BOUND = 30.0  # a received session with no MSRP traffic and no BYE is dropped after this


@dataclass
class Incoming:
    """One received large-mode session."""

    invite: SipMessage
    dialog: Dialog
    leg: MsrpLeg
    offer_path: list[MsrpUri]
    record: Record | None = None
    uid: int | None = None
    started: bool = False
    ended: bool = False
    parts: dict[str, Reassembler] = field(default_factory=dict)
    delivered: set[str] = field(default_factory=set)


@dataclass
class Outgoing:
    """One sent large-mode session (kept so a BYE from the peer can be answered)."""

    record: Record
    leg: MsrpLeg
    dialog: Dialog | None = None
    offer: bytes = b""  # the SDP offer, offered again in the answer to a session refresh


class LargeMode:
    """The client's large message mode; one per :class:`~refsut.client.CpmClient`, built
    with the client's shared :class:`ClientContext` and two callbacks: ``refuses(invite)``
    (the deferred section turns a deferred delivery down) and ``received(...)`` (the client
    keeps a rebuilt message and sends the delivery IMDN it asks for, as for pager mode)."""

    def __init__(
        self,
        client: ClientContext,
        *,
        refuses: Callable[[SipMessage], bool],
        received: Callable[..., Record],
    ) -> None:
        self.client = client
        self.refuses = refuses
        self.received = received
        self.incoming: dict[str, Incoming] = {}  # by Call-ID
        self.outgoing: dict[str, Outgoing] = {}  # by Call-ID
        self._cancels: dict[tuple, asyncio.Event] = {}  # INVITE server txn key -> CANCEL seen
        # Set through the upper tester's /answer-delay (until /reset); None: the configured one.
        self.answer_delay_ms: int | None = None

    @property
    def cfg(self):
        return self.client.cfg

    def on(self, fault: str) -> bool:
        return self.client.faults.on(fault)

    def _identity(self, fault: str) -> str:
        """The address asserted under the MAYs of 7.2.1.2 step 4 and 7.2.2.2 step 2b: the
        user's own, or with ``fault`` on one that is not the user's."""
        return FOREIGN_IDENTITY if self.on(fault) else self.cfg.user

    def contact(self) -> str:
        node = self.client.node
        user_part = self.cfg.user.split(":", 1)[1].split("@", 1)[0]
        transport = ";transport=tcp" if self.cfg.transport == "tcp" else ""
        return (
            f"<sip:{user_part}@{node.hostport}{transport}>"
            f';+g.3gpp.icsi-ref="{wire.icsi_ref(ICSI_LARGE)}"'
        )

    # -- sending (TS 7.2.1.2) ----------------------------------------------------------------

    def invite_headers(
        self,
        *,
        reply_address: str | None,
        anonymous: bool,
        expires: int | None,
        ids: list[tuple[str, str]],
    ) -> list[tuple[str, str]]:
        icsi = ICSI_MSG if self.on("client.large-no-largemsg-icsi") else ICSI_LARGE
        contact = self.contact()
        if self.on("client.large-contact-no-icsi"):
            contact = contact.split(";", 1)[0]
        service = ICSI_MSG if self.on("client.large-preferred-service-msg") else ICSI_LARGE
        headers = [
            ("Accept-Contact", f'*;+g.3gpp.icsi-ref="{wire.icsi_ref(icsi)}"'),
            ("Contact", contact),
            ("P-Preferred-Service", service),
            ("P-Preferred-Identity", f"<{self._identity('client.large-foreign-identity')}>"),
        ]
        if not self.on("client.large-no-user-agent"):
            headers.append(("User-Agent", self.cfg.release))
        if reply_address is not None and not self.on("client.large-no-reply-to"):
            headers.append(("Reply-To", f"<{reply_address}>"))
        if anonymous and not self.on("client.large-no-privacy"):
            headers.append(("Privacy", "id"))
        if expires is not None:
            name = (
                "Expires"
                if self.on("client.large-expires-not-message-expires")
                else "Message-Expires"
            )
            headers.append((name, str(expires)))
        if not self.on("client.large-no-timer"):
            headers.append(("Supported", "timer"))
        session_expires = SESSION_EXPIRES
        if self.on("client.large-session-expires-no-refresher"):
            session_expires = SESSION_EXPIRES.split(";", 1)[0]
        if self.on("client.large-no-in-reply-to"):
            ids = [(n, v) for n, v in ids if n != "InReplyTo-Contribution-ID"]
        headers += [("Session-Expires", session_expires), ("Allow", ALLOW), *ids]
        return headers

    def _offer(self, leg: MsrpLeg, size: int, wrapped: list[str]) -> bytes:
        selector_size = size - 1 if self.on("client.large-wrong-file-selector-size") else size
        offer = wire.sdp_msrp(
            host=leg.uri.host,
            path=leg.uri,
            accept_types=() if self.on("client.large-no-accept-types") else "message/cpim",
            accept_wrapped_types=() if self.on("client.large-no-accept-wrapped-types") else wrapped,
            setup="passive" if self.on("client.large-setup-passive") else "active",
            direction="sendrecv" if self.on("client.large-sendrecv") else "sendonly",
            file_selector=f"size:{selector_size}",
            session_id=secrets.randbelow(2**31),
        )
        if self.on("client.large-offer-no-path"):
            offer = b"".join(
                line for line in offer.splitlines(keepends=True) if not line.startswith(b"a=path:")
            )
        if self.on("client.large-offer-not-msrp"):
            offer = offer.replace(b" TCP/MSRP ", b" TCP/RTP ", 1)
        return offer

    async def send(
        self,
        record: Record,
        request_uri: str,
        targets: list[str] | None,
        headers: list[tuple[str, str]],
        wrapper: bytes,
        wrapped: list[str],
        cancel: bool,
    ) -> None:
        """Run one large-mode send; returns when it ended or after :data:`SEND_BOUND`."""
        client = self.client
        if self.on("client.large-cpim-wrong-from"):
            who = f"From: <{self.cfg.user}>".encode()
            wrapper = wrapper.replace(who, f"From: <sip:someone-else@{self.cfg.domain}>".encode())
        if self.on("client.large-send-bare-text"):
            wrapper = CpimMessage.parse(wrapper).body  # the content without its CPIM wrapper
        leg = client.msrp.leg(f"send-{record.id}")
        offer = self._offer(leg, len(wrapper), wrapped)
        headers = list(headers)
        if targets is not None and not self.on("client.large-adhoc-no-resource-list"):
            # RFC 5366: the recipient list travels next to the SDP offer
            ctype, body = bodies.multipart_mixed(
                [
                    ([("Content-Type", "application/sdp")], offer),
                    (
                        [
                            ("Content-Type", "application/resource-lists+xml"),
                            ("Content-Disposition", "recipient-list"),
                        ],
                        bodies.recipient_list(targets),
                    ),
                ]
            )
            headers += [("Require", "recipient-list-invite"), ("Content-Type", ctype)]
        else:
            body = offer
            headers.append(("Content-Type", "application/sdp"))
        branch = new_branch()
        raw = build_sip_request(
            "INVITE",
            request_uri,
            via=client.node.via(branch),
            from_=f"<{self.cfg.user}>;tag={new_tag()}",
            to=f"<{request_uri}>",
            call_id=record.call_id,
            cseq=1,
            headers=headers,
            body=body,
        )
        self.outgoing[record.call_id] = Outgoing(record, leg, offer=offer)
        task = client.node.spawn(
            self._session(record, raw, branch, leg, wrapper, cancel),
            name=f"client-large-{record.id}",
        )
        await asyncio.wait([task], timeout=SEND_BOUND)

    async def _session(
        self,
        record: Record,
        raw: bytes,
        branch: str,
        leg: MsrpLeg,
        wrapper: bytes,
        cancel: bool,
    ) -> None:
        client = self.client
        try:
            txn = await client.node.invite(raw, branch, client.sip_timeout)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + client.sip_timeout
            final = None
            cancelled = False
            may_cancel = not self.on("client.large-no-cancel")
            while final is None:
                resp = await txn.next_response(deadline - loop.time())
                if resp is None:
                    break
                if resp.status >= 200:
                    final = resp
                elif cancel and not cancelled and resp.status > 100 and may_cancel:
                    # TS 7.2.1.2: abort before a final response arrived (RFC 3261 9.1)
                    cancelled = True
                    client.node.spawn(txn.cancel(client.sip_timeout), name="client-cancel")
            if final is None:
                log.info("INVITE %s: no final response within the bound", record.call_id)
                if txn.provisional and not cancelled and may_cancel:
                    client.node.spawn(txn.cancel(client.sip_timeout), name="client-cancel")
                return
            record.status = final.status
            if not 200 <= final.status < 300:
                await txn.ack_non2xx(final)
                return
            dialog = Dialog.as_uac(txn.request, final)
            self.outgoing[record.call_id].dialog = dialog
            if not self.on("client.large-no-ack"):
                await txn.ack_2xx(dialog)
            if not cancelled:
                problem = await self._transfer(leg, final, wrapper)
                if problem is not None:
                    record.status = problem
            if not self.on("client.large-no-bye"):
                await self._bye(record, dialog)
        finally:
            self.outgoing.pop(record.call_id, None)
            leg.close()

    async def _transfer(self, leg: MsrpLeg, answer: SipMessage, wrapper: bytes) -> str | None:
        """Bind and send the wrapper in chunks; None on success, else the failure."""
        client = self.client
        media = msrp_media(answer)
        if media is None or not media.path():
            log.info("200 %s has no usable MSRP answer", answer.call_id)
            return "msrp-no-answer"
        to_path = media.path_uris()
        if self.on("client.large-no-connect"):
            return "msrp-failed"  # waits as if passive: nobody opens the connection
        leg.connect_to(to_path[0])  # the active side, whatever the answer says (TS 7.2.1.2)
        if not self.on("client.large-no-bind-send"):
            # RFC 4975 5.4 / RFC 6135: an empty SEND lets the passive side bind the connection
            bind = wire.msrp_chunks(
                b"", 1, to_path=to_path, from_path=leg.uri, message_id=wire.new_ident()
            )[0]
            problem = self._problem(leg, await leg.transact(bind, client.msrp_timeout))
            if problem is not None:
                return problem
        typed = "text/plain" if self.on("client.large-send-typed-text") else "message/cpim"
        sends = wire.msrp_chunks(
            wrapper,
            self.cfg.msrp_chunk_size,
            to_path=[leg.uri] if self.on("client.large-wrong-to-path") else to_path,
            from_path=leg.uri,
            message_id=wire.new_ident(),
            content_type=typed,
        )
        if self.on("client.large-last-chunk-continues"):
            # the last chunk ends in '+' like the others: the message never completes
            sends[-1] = sends[-1][:-3] + b"+\r\n"
        for i, send in enumerate(sends):
            if i == 1 and self.on("client.large-stall-mid-send"):
                # Goes silent after the first chunk (bounded, so the refsut itself ends).
                log.info("fault: transfer stalls after the first chunk")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(STALL_BOUND):
                        await asyncio.Event().wait()
                return "stalled"
            problem = self._problem(leg, await leg.transact(send, client.msrp_timeout))
            if problem is not None:
                return problem
        return None

    @staticmethod
    def _problem(leg: MsrpLeg, resp: MsrpMessage | None) -> str | None:
        if resp is None:
            return "msrp-failed" if leg.failed else "msrp-timeout"
        if resp.status != 200:
            return f"msrp-{resp.status}"
        return None

    async def _bye(self, record: Record, dialog: Dialog) -> None:
        client = self.client
        raw, branch = dialog.build(client.node, "BYE", [("User-Agent", self.cfg.release)])
        if self.on("client.large-bye-outside-dialog"):
            stray = f"Call-ID: {new_tag()}@{client.node.hostport}".encode()
            raw = raw.replace(f"Call-ID: {record.call_id}".encode(), stray, 1)
        resp = await client.node.request(raw, branch, client.sip_timeout)
        self.outgoing.pop(record.call_id, None)
        if resp is None or not 200 <= resp.status < 300:
            log.info("BYE %s: %s", record.call_id, "no answer" if resp is None else resp.status)
            return
        uid = None if self.on("client.large-drop-uid-from-bye-200") else resp.header("Message-UID")
        if uid is not None:
            try:
                record.message_uid = MessageUID.parse(uid).value  # TS 7.2.1.2 BYE step 3
            except CodecError as exc:
                log.warning("bad Message-UID in %s: %s", resp.summary(), exc)

    # -- receiving (TS 7.2.2.2) --------------------------------------------------------------

    @staticmethod
    def is_large_invite(req: SipMessage) -> bool:
        try:
            sets = [AcceptContact.parse(v) for v in req.header_list("Accept-Contact")]
        except CodecError:
            return False
        return any(s.has_icsi(ICSI_LARGE) or s.has_icsi(ICSI_DEFERRED) for s in sets)

    async def invite(self, txn: ServerTransaction) -> None:
        req = txn.request
        client = self.client
        if req.header("To") and ";tag=" in (req.header("To") or "").replace(" ", ""):
            outgoing = self.outgoing.get(req.call_id)
            if outgoing is not None and outgoing.dialog is not None:
                await self._refresh(txn, outgoing)
                return
            await txn.reply(481 if req.call_id not in self.incoming else 488)
            return  # no other re-INVITE support: sessions are short and never modified
        if self.refuses(req):
            await txn.reply(403)
            return
        if not self.is_large_invite(req):
            # The core routes only CPM requests here; accept anyway, but say so in the log.
            log.info("INVITE %s without the largemsg/deferred ICSI taken as large", req.call_id)
        if self.cfg.out_of_resources:
            await txn.reply(480, headers=[("Server", self.cfg.release)])
            return
        media = msrp_media(req)
        if media is None:
            await txn.reply(488, headers=[("Server", self.cfg.release)])
            return
        types = [t.lower() for t in media.accept_types()]
        if self.on("client.recv-accept-any-types"):
            types.append("*")
        if "message/cpim" not in types and "*" not in types:
            await txn.reply(488, "Media Type Not Acceptable Here")
            return
        to_tag = new_tag()
        delay_ms = self.answer_delay_ms
        if delay_ms is None:
            delay_ms = self.cfg.answer_delay_ms
        if delay_ms > 0:
            # The client's own answering delay: the window in which a CANCEL can arrive.
            cancelled = asyncio.Event()
            self._cancels[txn.key] = cancelled
            try:
                await txn.respond(build_response(req, 180, to_tag=to_tag))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay_ms / 1000):
                        await cancelled.wait()
            finally:
                self._cancels.pop(txn.key, None)
            if cancelled.is_set():
                await txn.respond(build_response(req, 487, to_tag=to_tag))
                return

        leg = client.msrp.leg(f"recv-{req.call_id}")
        session = Incoming(req, Dialog.as_uas(req, to_tag), leg, media.path_uris())
        self.incoming[req.call_id] = session
        accepted = "text/plain" if self.on("client.recv-accept-types-text") else "message/cpim"
        wrapped = "*"
        if self.on("client.recv-unoffered-wrapped-types"):
            wrapped = "application/x-unoffered"
        body = wire.sdp_msrp(
            host=leg.uri.host,
            path=leg.uri,
            accept_types=accepted,
            accept_wrapped_types=wrapped,
            setup="passive" if self.on("client.recv-setup-passive") else "active",
            direction="sendrecv" if self.on("client.recv-answer-sendrecv") else "recvonly",
            session_id=secrets.randbelow(2**31),
        )
        if self.on("client.recv-answer-no-path"):
            body = b"".join(
                line for line in body.splitlines(keepends=True) if not line.startswith(b"a=path:")
            )
        if self.on("client.recv-answer-not-msrp"):
            body = body.replace(b" TCP/MSRP ", b" TCP/RTP ", 1)
        headers = headers_named(req, CPM_IDS)
        if self.on("client.recv-no-id-echo"):
            headers = []
        if not self.on("client.recv-no-server"):
            headers.append(("Server", self.cfg.release))
        if not self.on("client.recv-200-no-contact"):
            headers.append(("Contact", self.contact()))
        headers += [
            ("P-Preferred-Identity", f"<{self._identity('client.recv-foreign-identity-in-200')}>"),
            ("Allow", ALLOW),
            *session_expires_answer(req),
            ("Content-Type", "application/sdp"),
        ]
        await txn.respond(build_response(req, 200, headers=headers, body=body, to_tag=to_tag))
        # No ACK at all: give the session up after the idle bound.
        client.node._later(IDLE_BOUND, self._expire, req.call_id, session)

    def cancel(self, invite_txn: ServerTransaction | None) -> bool:
        """A CANCEL matched ``invite_txn``; True if the INVITE was still pending."""
        if invite_txn is None:
            return False
        event = self._cancels.get(invite_txn.key)
        if event is None or invite_txn.final is not None:
            return False
        if self.on("client.recv-cancel-ignored"):
            return False  # the 200 to the CANCEL went out; the INVITE is answered as usual
        event.set()
        return True

    async def _refresh(self, txn: ServerTransaction, outgoing: Outgoing) -> None:
        """A re-INVITE in a session this client set up: a session refresh (RFC 4028). The
        answer offers the same SDP again and takes the refresh's Session-Expires."""
        req = txn.request
        timer = session_expires_answer(req)
        if self.on("client.large-refresh-no-session-expires"):
            timer = []
        headers = [
            ("Contact", self.contact()),
            ("Allow", ALLOW),
            ("Server", self.cfg.release),
            *timer,
            ("Content-Type", "application/sdp"),
        ]
        await txn.respond(build_response(req, 200, headers=headers, body=outgoing.offer))

    def ack(self, msg: SipMessage) -> None:
        session = self.incoming.get(msg.call_id)
        if session is None or session.started:
            return
        if msg.cseq[0] != session.invite.cseq[0]:
            return
        session.started = True
        self.client.node.spawn(self._receive(session), name="client-large-recv")

    async def _receive(self, session: Incoming) -> None:
        """After the ACK: connect, bind, answer and rebuild the chunks until the BYE."""
        client = self.client
        leg = session.leg
        try:
            if not session.offer_path or self.on("client.recv-no-connect"):
                return  # the latter: waits as if passive; nobody opens the connection
            leg.connect_to(session.offer_path[0])  # TS 7.2.2.2 ACK steps 2-4
            if self.on("client.recv-no-bind-send"):
                # Connected, but silent: an empty write opens the connection and sends nothing.
                assert leg.remote is not None
                await client.msrp.send_raw(b"", leg.remote)
            else:
                bind = wire.msrp_request(
                    wire.new_ident(),
                    "SEND",
                    session.offer_path,
                    leg.uri,
                    message_id=wire.new_ident(),
                    range_=(1, 0, 0),
                )
                # The answer to the bind comes back on the dispatch loop; do not hold the
                # chunks up for it.
                client.node.spawn(leg.transact(bind, client.msrp_timeout), name="client-bind")
            while not session.ended:
                got = await leg.next_request(IDLE_BOUND)
                if got is None:
                    log.info("large session %s idle: dropped", session.invite.call_id)
                    return
                item, msg = got
                if msg is None:
                    return  # the BYE's wake-up, queued after every chunk that came before
                if msg.method != "SEND":
                    await leg.respond(item, msg, 501)
                    continue
                code = self._chunk(session, msg)
                if msg.body and self.on("client.recv-send-answered-400"):
                    code = 400  # the chunk is taken, but the transaction says otherwise
                await leg.respond(item, msg, code)
        finally:
            leg.close()

    def _chunk(self, session: Incoming, msg: MsrpMessage) -> int:
        """Take one SEND; the MSRP status to answer with."""
        if not msg.body:
            return 200  # an empty SEND (binding, keep-alive)
        mid = msg.message_id or ""
        if mid in session.delivered:
            return 200
        if self.on("client.recv-no-reassembly"):
            session.delivered.add(mid)
            self._deliver(session, msg.body)
            return 200
        parts = session.parts.setdefault(mid, Reassembler(mid))
        try:
            parts.feed(msg)
        except CodecError as exc:
            log.info("bad chunk %s: %s", msg.summary(), exc)
            return 400
        if parts.complete:
            session.delivered.add(mid)
            session.parts.pop(mid, None)
            self._deliver(session, parts.message())
        return 200

    def _deliver(self, session: Incoming, wrapper: bytes) -> None:
        """Record the rebuilt message and process it as TS 7.2.2.3 says (delivery IMDN)."""
        req = session.invite
        cpim = None
        content_type, text_bytes = "message/cpim", wrapper
        try:
            cpim = CpimMessage.parse(wrapper)
            content_type, text_bytes = cpim.content_type, cpim.body
        except CodecError as exc:
            log.info("received large message is not a whole CPIM message: %s", exc)
        session.record = self.received(
            req, cpim, content_type, text_bytes, session.uid, mode="large"
        )

    async def bye(self, txn: ServerTransaction) -> bool:
        """A BYE for a large-mode session; False when it belongs to none."""
        req = txn.request
        session = self.incoming.pop(req.call_id, None)
        if session is not None:
            uid = None
            if req.header("Message-UID") is not None and not self.on("client.recv-drop-bye-uid"):
                try:
                    uid = MessageUID.parse(req.header("Message-UID") or "").value
                except CodecError as exc:
                    log.warning("bad Message-UID on BYE %s: %s", req.call_id, exc)
            session.uid = uid  # TS 7.2.2.2: kept for IMAP correlation
            if session.record is not None and uid is not None:
                session.record.message_uid = uid
            status = 500 if self.on("client.recv-bye-not-200") else 200
            await txn.reply(status, headers=[("Server", self.cfg.release)])
            session.ended = True
            if not session.started:
                session.leg.close()
            else:
                # Wake the receiving loop so it finishes what is queued and closes.
                session.leg.requests.put_nowait((None, None))  # type: ignore[arg-type]
            return True
        outgoing = self.outgoing.pop(req.call_id, None)
        if outgoing is not None:
            await txn.reply(200, headers=[("Server", self.cfg.release)])
            outgoing.leg.close()
            return True
        return False

    def _expire(self, call_id: str, session: Incoming) -> None:
        if self.incoming.get(call_id) is session and not session.started:
            del self.incoming[call_id]
            session.leg.close()
