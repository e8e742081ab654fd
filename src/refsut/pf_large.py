"""The terminating PF in large message mode (TS 8.3.2.1.1), recording per TS 8.5.1.

For an INVITE with the largemsg ICSI to a provisioned user the PF checks its policies
(access 403 with Warning 122, minimum client release 403 with Error-Info, anonymity 403
with Warning), then acts as a B2BUA: it forks its own INVITE, with its own SDP offer, to the
public GRUU of each selected device through the outbound proxy, answers the sender with
the first device 200 (its own MSRP URI prepended to the device's ``a=path``, ``recvonly``,
``setup:passive``, Server, Allow, its own Contact) and CANCELs the other legs. The ACK of
the sender is passed on to the device. The PF is the passive MSRP side towards the sender;
towards the device it listens when the device answers ``active`` and connects when it
answers ``passive``. Each SEND is relayed hop by hop (To-Path loses the PF's URI, From-Path
gains it) and answered to the sender with the device's status. The sender's BYE is answered
once the media has been passed; then the device leg gets its BYE. When every leg fails the
sender gets the lowest error and the message is handed over for deferral (a store row).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import AcceptContact, NameAddr, Privacy, ReleaseVersion
from cpmconf.codec.msrp import MsrpMessage, MsrpUri, Reassembler
from cpmconf.codec.sdp import MediaDescription
from cpmconf.codec.sip import SipMessage, canonical_name

from . import wire
from .config import UserConfig
from .msrpcore import MsrpLeg
from .pf_bindings import Binding
from .pf_context import PfContext
from .sessions import msrp_media, session_expires_answer
from .sipcore import (
    TIMER_J,
    Dialog,
    InviteClientTxn,
    ServerTransaction,
    build_response,
    header_uri,
    headers_named,
    new_tag,
    originator,
    uri_key,
)

log = logging.getLogger("refsut.pf.large")

ICSI_LARGE = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.largemsg"

IDLE_BOUND = 30.0  # an MSRP session with no traffic and no BYE is torn down after this
# Headers of the sender's INVITE that each device INVITE carries unchanged.
COPIED_TO_DEVICE = (
    "P-Asserted-Identity",
    "Accept-Contact",
    "Conversation-ID",
    "Contribution-ID",
    "InReplyTo-Contribution-ID",
    "Reply-To",
    "Privacy",
    "Message-Expires",
    "Date",
    "Supported",
    "Session-Expires",
)
# Headers of the INVITE stored with the reassembled message (TS 8.5.1, large branch).
RECORDED = (
    "From",
    "To",
    "P-Asserted-Identity",
    "Date",
    "Call-ID",
    "Conversation-ID",
    "Contribution-ID",
    "InReplyTo-Contribution-ID",
    "Reply-To",
    "Privacy",
    "Message-Expires",
)
CPM_IDS = ("Conversation-ID", "Contribution-ID", "InReplyTo-Contribution-ID")
CANCEL = object()  # the sender's CANCEL, on a session's event queue


class Refusal(Exception):
    def __init__(self, status: int, headers: list[tuple[str, str]], reason=None) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers
        self.reason = reason


def release_tuple(text: str) -> tuple[int, ...]:
    """``OMA2.0`` or ``CPM-client/OMA2.1`` -> (2, 0) / (2, 1): the numbers of the version."""
    version = text.rsplit("/", 1)[-1]
    return tuple(int(n) for n in re.findall(r"[0-9]+", version))


@dataclass
class DeviceLeg:
    binding: Binding
    txn: InviteClientTxn | None = None
    final: SipMessage | None = None
    dialog: Dialog | None = None
    ringing: bool = False
    done: bool = False  # a final response came or the leg gave up


@dataclass
class Session:
    """One sender's INVITE and the device legs it fans out to."""

    txn: ServerTransaction
    user: UserConfig
    to_tag: str
    orig_leg: MsrpLeg
    dev_leg: MsrpLeg
    offer: MediaDescription
    legs: list[DeviceLeg] = field(default_factory=list)
    events: asyncio.Queue = field(default_factory=asyncio.Queue)
    chosen: DeviceLeg | None = None
    accepting: bool = True  # a device 2xx may still become the answer
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    dev_path: list[MsrpUri] = field(default_factory=list)
    dialog: Dialog | None = None  # towards the sender
    relay: asyncio.Task | None = None
    reassembler: Reassembler | None = None
    uid: int | None = None  # terminating-side Message-UID (TS 8.5.1 4b.i)
    uid_orig: int | None = None  # originating-side Message-UID (4b.ii)
    recorded: bool = False
    passed: bool = False  # the whole message reached the device
    ended: bool = False
    device_gone: bool = False

    @property
    def request(self) -> SipMessage:
        return self.txn.request


class LargeDelivery:
    """The PF's large message mode; one per :class:`~refsut.pf.ParticipatingFunction`,
    built with the PF's shared :class:`PfContext` and the deferral that takes a message
    every device failed (``defer(user, invite)``: queued and notified)."""

    def __init__(
        self, pf: PfContext, *, defer: Callable[[UserConfig, SipMessage], Awaitable[None]]
    ) -> None:
        self.pf = pf
        self.defer = defer
        self.sessions: dict[str, Session] = {}  # by the sender's Call-ID
        self.device_calls: dict[str, Session] = {}  # by a device leg's Call-ID

    @property
    def cfg(self):
        return self.pf.cfg

    def on(self, fault: str) -> bool:
        return self.pf.faults.on(fault)

    def contact(self) -> str:
        return self.pf.contact()

    def _server(self) -> list[tuple[str, str]]:
        return [("Server", self.cfg.release)]

    # -- INVITE ------------------------------------------------------------------------------

    @staticmethod
    def is_large(req: SipMessage) -> bool:
        try:
            sets = [AcceptContact.parse(v) for v in req.header_list("Accept-Contact")]
        except CodecError:
            return False
        return any(s.has_icsi(ICSI_LARGE) for s in sets)

    def check_policies(self, req: SipMessage, user: UserConfig) -> None:
        """TS 8.3.2.1.1 steps 1-3; raises :class:`Refusal`."""
        pf = self.pf
        who = originator(req)
        blocked = {uri_key(b) for b in user.blocked}
        if who is not None and uri_key(who) in blocked and not self.on("pf.large-ignore-block"):
            log.info("INVITE from blocked %s to %s refused", who, user.uri)
            warning = (
                []
                if self.on("pf.large-block-403-no-warning")
                else [pf.warning("122 Function not allowed")]
            )
            raise Refusal(403, warning)
        minimum = self.cfg.min_client_release
        if minimum is not None and not self.on("pf.large-ignore-min-release"):
            release = None
            try:
                release = ReleaseVersion.parse(req.header("User-Agent") or "").cpm_release()
            except CodecError:
                pass
            if release is None or release_tuple(release) < release_tuple(minimum):
                log.info("INVITE from client release %s (< %s) refused", release, minimum)
                raise Refusal(
                    403,
                    []
                    if self.on("pf.large-403-no-error-info")
                    else [("Error-Info", f"<http://{self.cfg.domain}/cpm/upgrade>")],
                    "Forbidden (client release not supported)",
                )
        if not self.cfg.allow_anonymity and not self.on("pf.large-allow-anonymous"):
            anonymous = False
            for value in req.header_values("Privacy"):
                try:
                    anonymous = anonymous or Privacy.parse(value).has("id")
                except CodecError:
                    pass
            if anonymous:
                log.info("anonymous INVITE to %s refused", user.uri)
                warning = (
                    []
                    if self.on("pf.large-anonymous-403-no-warning")
                    else [pf.warning("122 Function not allowed")]
                )
                raise Refusal(403, warning)

    async def invite(self, txn: ServerTransaction) -> None:
        req = txn.request
        pf = self.pf
        if ";tag=" in (req.header("To") or "").replace(" ", ""):
            known = req.call_id in self.sessions or req.call_id in self.device_calls
            await txn.reply(488 if known else 481)  # no re-INVITEs: sessions are short
            return
        user = pf.users.get(uri_key(req.request_uri or ""))
        if user is None:
            await txn.reply(404)
            return
        if not self.is_large(req):
            await txn.reply(
                488, headers=[pf.warning("Only large message mode sessions are supported")]
            )
            return
        try:
            self.check_policies(req, user)
        except Refusal as r:
            await txn.reply(r.status, r.reason, headers=r.headers)
            return
        offer = msrp_media(req)
        types = [t.lower() for t in offer.accept_types()] if offer is not None else []
        if offer is None or ("message/cpim" not in types and "*" not in types):
            await txn.reply(488, headers=self._server())
            return
        to_tag = new_tag()
        await txn.respond(build_response(req, 100, to_tag=to_tag))
        if user.preference != "deliver":
            log.info("large message to %s with preference %s", user.uri, user.preference)
            await self._handover(txn, user, [], to_tag)
            return
        bindings = pf.bindings.selected(user)
        if not bindings:
            await self._handover(txn, user, [], to_tag)
            return
        session = Session(
            txn=txn,
            user=user,
            to_tag=to_tag,
            orig_leg=pf.msrp.leg(f"orig-{req.call_id}"),
            dev_leg=pf.msrp.leg(f"dev-{req.call_id}"),
            offer=offer,
        )
        self.sessions[req.call_id] = session
        try:
            await self._fork(session, bindings)
        except BaseException:
            self._forget(session)
            raise

    async def _handover(
        self,
        txn: ServerTransaction,
        user: UserConfig,
        failures: list[tuple[int, str]],
        to_tag: str,
    ) -> None:
        """Every device failed (or none could be tried): lowest error to the sender, and
        the message deferred and the user notified (TS 8.3.2.1.1 allfail, 8.3.2.4.x)."""
        req = txn.request
        status, reason = min(failures) if failures else (480, "")
        await txn.respond(
            build_response(req, status, reason or None, self._server(), to_tag=to_tag)
        )
        if user.preference in ("deliver", "defer"):
            if not self.on("pf.large-allfail-not-deferred"):
                await self.defer(user, req)  # queued and notified (8.3.2.4.x)

    def _offer(self, session: Session) -> bytes:
        offer = session.offer
        wrapped = offer.accept_wrapped_types() or ["*"]
        selector = offer.attr("file-selector")
        return wire.sdp_msrp(
            host=session.dev_leg.uri.host,
            path=session.dev_leg.uri,
            accept_types="message/cpim",
            accept_wrapped_types=wrapped,
            setup="actpass",
            direction="sendonly",
            file_selector=selector,
            session_id=secrets.randbelow(2**31),
        )

    @staticmethod
    def _sender_tag(req: SipMessage) -> str:
        try:
            return NameAddr.parse(req.header("From") or "").tag or new_tag()
        except CodecError:
            return new_tag()

    def _device_invite(self, session: Session, leg: DeviceLeg, sdp: bytes) -> tuple[bytes, str]:
        req = session.request
        gruu = self.pf.bindings.gruu(session.user, leg.binding)
        target = gruu or leg.binding.contact_uri
        if self.on("pf.large-invite-contact-not-gruu"):
            target = leg.binding.contact_uri
        skip = set()
        if any(
            p.strip().lower() == "id" for v in req.header_values("Privacy") for p in v.split(";")
        ):
            skip.add("p-asserted-identity")  # RFC 3325: a hidden identity stays hidden
        if self.on("pf.large-drop-session-expires"):
            skip.add("session-expires")
        headers = [
            (n, v) for n, v in headers_named(req, COPIED_TO_DEVICE) if canonical_name(n) not in skip
        ]
        headers += [
            ("Contact", self.contact()),
            ("Content-Type", "application/sdp"),
        ]
        sender = header_uri(req, "From") or "sip:anonymous@anonymous.invalid"
        from_tag = self._sender_tag(req) if self.on("pf.large-reuse-from-tag") else new_tag()
        raw, branch = self.pf.node.new_request(
            "INVITE",
            target,
            from_=f"<{sender}>;tag={from_tag}",
            to=f"<{session.user.uri}>",
            headers=headers,
            body=sdp,
        )
        return raw, branch

    async def _fork(self, session: Session, bindings: list[Binding]) -> None:
        pf = self.pf
        loop = asyncio.get_running_loop()
        deadline = loop.time() + pf.leg_timeout
        sdp = self._offer(session)
        if self.on("pf.large-first-device-only"):
            bindings = bindings[:1]
        for b in bindings:
            leg = DeviceLeg(b)
            raw, branch = self._device_invite(session, leg, sdp)
            leg.txn = await pf.node.invite(raw, branch, pf.leg_timeout)
            self.device_calls[leg.txn.request.call_id] = session
            session.legs.append(leg)
            # The watcher outlives the deadline so late answers (487s) are still ACKed.
            pf.node.spawn(self._watch(session, leg, deadline + pf.leg_timeout), name="pf-leg")

        cancelled = False
        while session.chosen is None and not all(leg.done for leg in session.legs):
            try:
                event = await asyncio.wait_for(session.events.get(), deadline - loop.time())
            except TimeoutError:
                break
            if event is CANCEL:
                cancelled = True
                break
            leg, resp = event
            if resp is not None and 100 < resp.status < 200 and not leg.ringing:
                leg.ringing = True
                if not any(other.ringing for other in session.legs if other is not leg):
                    await session.txn.respond(
                        build_response(session.request, 180, to_tag=session.to_tag)
                    )
        chosen = session.chosen
        session.accepting = False if chosen is None else session.accepting
        for leg in session.legs:
            if leg is not chosen and not leg.done and leg.txn is not None:
                pf.node.spawn(leg.txn.cancel(pf.leg_timeout), name="pf-cancel-leg")
        if cancelled:
            await session.txn.respond(build_response(session.request, 487, to_tag=session.to_tag))
            self._forget(session)
            return
        if chosen is None:
            failures = [
                (leg.final.status, leg.final.reason or "")
                for leg in session.legs
                if leg.final is not None and leg.final.status >= 300
            ]
            self._forget(session)
            await self._handover(session.txn, session.user, failures, session.to_tag)
            return
        await self._answer(session, chosen)

    async def _watch(self, session: Session, leg: DeviceLeg, deadline: float) -> None:
        """Read one device leg's responses; ACK its non-2xx final, settle a late 2xx."""
        assert leg.txn is not None
        loop = asyncio.get_running_loop()
        try:
            while True:
                resp = await leg.txn.next_response(deadline - loop.time())
                if resp is None:
                    return
                if resp.status < 200:
                    session.events.put_nowait((leg, resp))
                    continue
                leg.final = resp
                if resp.status >= 300:
                    await leg.txn.ack_non2xx(resp)
                    return
                leg.dialog = Dialog.as_uac(leg.txn.request, resp)
                if session.chosen is None and session.accepting:
                    session.chosen = leg  # the first 200 (TS 8.3.2.1.1); its ACK waits
                    return
                # A second 2xx, or one after the sender was answered otherwise: end it.
                await leg.txn.ack_2xx(leg.dialog)
                await self._bye_leg(leg, [])
                return
        finally:
            leg.done = True
            session.events.put_nowait((leg, None))

    async def _answer(self, session: Session, chosen: DeviceLeg) -> None:
        """The 200 to the sender (TS 8.3.2.1.1 "upon receiving the first 200")."""
        req = session.request
        assert chosen.final is not None
        media = msrp_media(chosen.final)
        if media is None:
            log.info("device 200 %s without a usable SDP answer", chosen.final.call_id)
            await self._bye_leg(chosen, [], ack=True)
            self._forget(session)
            await self._handover(
                session.txn, session.user, [(488, "Not Acceptable Here")], session.to_tag
            )
            return
        session.dev_path = media.path_uris()
        path = list(session.dev_path)
        if not self.on("pf.large-no-path-prepend"):
            path.insert(0, session.orig_leg.uri)  # TS 8.3.2.1.1 first200 2b
        body = wire.sdp_msrp(
            host=session.orig_leg.uri.host,
            path=path,
            port=session.orig_leg.uri.port,
            accept_types="text/plain" if self.on("pf.large-answer-text-plain") else "message/cpim",
            accept_wrapped_types=media.accept_wrapped_types() or ["*"],
            setup="active" if self.on("pf.large-setup-active") else "passive",
            direction="sendrecv" if self.on("pf.large-answer-sendrecv") else "recvonly",
            session_id=secrets.randbelow(2**31),
        )
        headers = []
        for name in CPM_IDS:
            value = chosen.final.header(name) or req.header(name)
            if value is not None:
                headers.append((name, value))
        if not self.on("pf.large-no-server"):
            headers += self._server()
        if not self.on("pf.large-no-allow"):
            headers.append(("Allow", self.pf.allow))
        contact = chosen.final.header("Contact") if self.on("pf.large-device-contact") else None
        headers += [
            ("Contact", contact or self.contact()),
            *([] if self.on("pf.large-drop-session-expires") else session_expires_answer(req)),
            ("Content-Type", "application/sdp"),
        ]
        if self.cfg.recording:
            session.reassembler = Reassembler()
        session.dialog = Dialog.as_uas(req, session.to_tag)
        session.relay = self.pf.node.spawn(self._relay(session), name="pf-relay")
        self.pf.node.spawn(self._device_side(session, media), name="pf-device-msrp")
        if self.on("pf.large-answer-not-msrp"):
            body = body.replace(b"TCP/MSRP", b"TCP/BFCP")  # no MSRP media line any more
        await session.txn.respond(
            build_response(req, 200, headers=headers, body=body, to_tag=session.to_tag)
        )
        if self.on("pf.large-second-200"):
            # A second 200 on another early dialog, as if a second device were passed through.
            extra = build_response(req, 200, headers=headers, body=body, to_tag=new_tag())
            await self.pf.node.send_raw(extra, session.txn.remote, session.txn.transport)
        self.pf.node.spawn(self._await_ack(session), name="pf-await-ack")

    async def _await_ack(self, session: Session) -> None:
        """Pass the sender's ACK on to the device (TS 8.3.2.1.1 "upon receiving ACK")."""
        chosen = session.chosen
        assert chosen is not None and chosen.txn is not None and chosen.dialog is not None
        try:
            await asyncio.wait_for(session.acked.wait(), TIMER_J)
        except TimeoutError:
            log.info("no ACK from the sender of %s: session ended", session.request.call_id)
            await chosen.txn.ack_2xx(chosen.dialog)
            await self._teardown(session)
            return
        if self.on("pf.large-no-ack-to-device"):
            return  # the device leg is never acknowledged
        await chosen.txn.ack_2xx(chosen.dialog)

    def ack(self, msg: SipMessage) -> None:
        session = self.sessions.get(msg.call_id)
        if session is not None and msg.cseq[0] == session.request.cseq[0]:
            session.acked.set()

    def cancel(self, invite_txn: ServerTransaction | None) -> None:
        if invite_txn is None or invite_txn.final is not None:
            return
        session = self.sessions.get(invite_txn.request.call_id)
        if session is not None and session.txn is invite_txn:
            session.events.put_nowait(CANCEL)

    # -- MSRP --------------------------------------------------------------------------------

    async def _device_side(self, session: Session, media: MediaDescription) -> None:
        """Connect to the device when it answered passive; answer what it sends (its bind)."""
        leg = session.dev_leg
        try:
            setup = media.setup()
        except CodecError:
            setup = None
        if setup == "passive" and session.dev_path:
            try:  # the device learns of the session with the ACK
                await asyncio.wait_for(session.acked.wait(), TIMER_J)
            except TimeoutError:
                return
            leg.connect_to(session.dev_path[0])
            bind = wire.msrp_request(
                None,
                "SEND",
                session.dev_path,
                leg.uri,
                message_id=wire.new_ident(),
                range_=(1, 0, 0),
            )
            self.pf.node.spawn(leg.transact(bind, self.pf.msrp_timeout), name="pf-bind")
        while not session.ended:
            got = await leg.next_request(IDLE_BOUND)
            if got is None or got[1] is None:
                return
            item, msg = got
            await leg.respond(item, msg, 200 if msg.method == "SEND" else 501)

    async def _relay(self, session: Session) -> None:
        """Relay the sender's SENDs to the device, one at a time, in order."""
        orig, dev = session.orig_leg, session.dev_leg
        timeout = self.pf.msrp_timeout
        while True:
            got = await orig.next_request(IDLE_BOUND)
            if got is None:
                log.info("large session %s idle: torn down", session.request.call_id)
                self.pf.node.spawn(self._teardown(session), name="pf-teardown")
                return
            item, msg = got
            if msg is None:
                return  # the BYE's wake-up, queued after every SEND before it
            if msg.method != "SEND":
                await orig.respond(item, msg, 501)
                continue
            if not msg.body and msg.content_type is None:
                await orig.respond(item, msg, 200)  # the sender's bind (RFC 6135)
                continue
            await self._record(session, msg)
            code = 408
            if await dev.wait_bound(timeout):
                resp = await dev.transact(self._forward(session, msg), timeout)
                if resp is not None:
                    code = resp.status or 500
            if code == 200 and msg.continuation == "$":
                session.passed = True
            if self.on("pf.large-stall-mid-relay"):
                # Stops dead after the first chunk: no answer to it, nothing more relayed.
                log.info("fault: relay of %s stalls", session.request.call_id)
                return
            await orig.respond(item, msg, code)

    def _forward(self, session: Session, msg: MsrpMessage) -> bytes:
        """The SEND towards the device: To-Path without the PF, From-Path with it."""
        to_path = msg.to_path()[1:] or session.dev_path
        from_path = [session.dev_leg.uri, *msg.from_path()]
        extra = [
            (n, v) for n, v in msg.headers if n.lower() in ("success-report", "failure-report")
        ]
        return wire.msrp_request(
            None,
            "SEND",
            to_path,
            from_path,
            message_id=msg.message_id,
            range_=msg.header("Byte-Range"),
            content_type=msg.header("Content-Type"),
            body=msg.body,
            flag=msg.continuation,
            extra=extra,
        )

    async def _record(self, session: Session, msg: MsrpMessage) -> None:
        """TS 8.5.1 large branch: rebuild the message, then store it with INVITE headers."""
        parts = session.reassembler
        if parts is None or session.recorded:
            return
        try:
            parts.feed(msg)
        except CodecError as exc:
            log.info("recording of %s stopped: %s", session.request.call_id, exc)
            session.reassembler = None
            return
        if not parts.complete:
            return
        req = session.request
        cpim = parts.message()
        head = "".join(f"{n}: {v}\r\n" for n, v in headers_named(req, RECORDED))
        head += f"Content-Type: message/cpim\r\nContent-Length: {len(cpim)}\r\n\r\n"
        session.recorded = True
        session.uid_orig, session.uid = await self.pf.recording.record(
            originator(req) or "",
            session.user.uri,
            head.encode("utf-8") + cpim,
            req.call_id,
            "large",
        )

    # -- BYE and teardown --------------------------------------------------------------------

    async def bye(self, txn: ServerTransaction) -> bool:
        """A BYE in a large-mode dialog; False when it belongs to none."""
        req = txn.request
        session = self.sessions.get(req.call_id)
        if session is not None:
            await self._finish_media(session)
            headers = self._server()
            if (
                session.uid_orig is not None
                and "originating" in self.cfg.recording
                and not self.on("pf.large-no-uid-in-bye-200")
            ):
                headers.append(("Message-UID", str(session.uid_orig)))
            await txn.reply(200, headers=headers)
            self._forget(session)
            await self._end_device(session)
            return True
        session = self.device_calls.get(req.call_id)
        if session is not None:
            await txn.reply(200, headers=self._server())
            session.device_gone = True
            return True
        return False

    async def _finish_media(self, session: Session) -> None:
        """Let the relay pass what the sender sent before its BYE (bounded)."""
        session.ended = True
        session.orig_leg.requests.put_nowait((None, None))  # type: ignore[arg-type]
        session.dev_leg.requests.put_nowait((None, None))  # type: ignore[arg-type]
        if session.relay is not None and not session.relay.done():
            await asyncio.wait([session.relay], timeout=2 * self.pf.msrp_timeout)

    async def _end_device(self, session: Session) -> None:
        """BYE to the device once the media has been passed (TS 8.3.2.1.1 BYE step 2)."""
        chosen = session.chosen
        headers = []
        if (
            session.uid is not None
            and "terminating" in self.cfg.recording
            and not self.on("pf.large-no-uid-in-bye")
        ):
            headers.append(("Message-UID", str(session.uid)))  # TS 8.5.1 step 4b.i
        if not session.passed:
            log.info(
                "large session %s ended before the whole message passed", session.request.call_id
            )
        if chosen is not None and not session.device_gone:
            await self._bye_leg(chosen, headers)
        session.orig_leg.close()
        session.dev_leg.close()

    async def _bye_leg(self, leg: DeviceLeg, headers: list, *, ack: bool = False) -> None:
        if leg.dialog is None:
            return
        if ack and leg.txn is not None:
            await leg.txn.ack_2xx(leg.dialog)
        raw, branch = leg.dialog.build(self.pf.node, "BYE", headers)
        await self.pf.node.request(raw, branch, self.pf.leg_timeout)

    async def _teardown(self, session: Session) -> None:
        """End both sides without a BYE from the sender (no ACK, idle MSRP)."""
        if session.ended:
            return
        await self._finish_media(session)
        self._forget(session)
        if session.dialog is not None:
            raw, branch = session.dialog.build(self.pf.node, "BYE")
            await self.pf.node.request(raw, branch, self.pf.leg_timeout)
        await self._end_device(session)

    def _forget(self, session: Session) -> None:
        self.sessions.pop(session.request.call_id, None)
        for leg in session.legs:
            if leg.txn is not None and leg is not session.chosen:
                self.device_calls.pop(leg.txn.request.call_id, None)
        if session.chosen is None:
            session.orig_leg.close()
            session.dev_leg.close()
        else:
            # The chosen leg's BYE may still come from the device for a while.
            chosen_call = session.chosen.txn.request.call_id if session.chosen.txn else ""
            self.pf.node._later(TIMER_J, self.device_calls.pop, chosen_call, None)
