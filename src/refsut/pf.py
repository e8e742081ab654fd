"""The CPM Participating Function, pager mode (TS 8.3.2.1, recording per TS 8.5.1); large
message mode (TS 8.3.2.1.1) lives in :mod:`refsut.pf_large`.

It owns the PF's SIP dispatch, builds its sections with their shared
:class:`~refsut.pf_context.PfContext` (the registrar and reg-event registration in
:mod:`refsut.pf_registration`, large mode, deferred messages), and the terminating handling
of a MESSAGE addressed to a provisioned user: access policy, content policy, expiry, then
the user's preference (deliver to the selected devices, store, defer or interwork).
Delivery copies the MESSAGE once per selected device, addressed to the device's public GRUU
and sent through the outbound proxy (the SIP/IP core); the first 2xx is answered to the
originator and later finals are absorbed.

A deferring preference hands the MESSAGE to :mod:`refsut.pf_deferred` (202, notification,
the deferred-messages subscription, handling INVITEs to the management address and push on
registration); the device selection (:mod:`refsut.pf_bindings`) is shared with large mode
and push.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import logging

from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import AcceptContact, Expires
from cpmconf.codec.sip import SipMessage, canonical_name

from . import wire
from .config import PfConfig, UserConfig
from .faults import Faults
from .msrpcore import MsrpNode
from .pf_bindings import Binding, Bindings
from .pf_context import PfContext
from .pf_deferred import ICSI_DEFERRED, DeferredHandling
from .pf_large import LargeDelivery
from .pf_registration import SUPPORTED_OPTIONS, RegEventSubscriber, Registrar
from .recording import Recording
from .sipcore import (
    ServerTransaction,
    SipNode,
    build_response,
    headers_named,
    loose_route,
    media_type,
    new_tag,
    originator,
    uri_key,
)
from .store import MessageStore

log = logging.getLogger("refsut.pf")

REQUIRE_INVITE = ("gruu", "timer")  # option tags an INVITE may require (RFC 4028 timers)
ALLOW = "REGISTER, INVITE, ACK, BYE, CANCEL, MESSAGE, OPTIONS, SUBSCRIBE"

# Headers of the originator's MESSAGE that each device copy carries unchanged.
COPIED_TO_DEVICE = (
    "From",
    "To",
    "P-Asserted-Identity",
    "Accept-Contact",
    "Conversation-ID",
    "Contribution-ID",
    "InReplyTo-Contribution-ID",
    "Reply-To",
    "Privacy",
    "Expires",
    "Date",
    "Content-Type",
)
CPM_IDS = ("Conversation-ID", "Contribution-ID", "InReplyTo-Contribution-ID")


def _accepts_icsi(msg: SipMessage, icsi: str) -> bool:
    """Whether an Accept-Contact of ``msg`` names ``icsi``."""
    for value in msg.header_list("Accept-Contact"):
        try:
            if AcceptContact.parse(value).has_icsi(icsi):
                return True
        except CodecError:
            continue
    return False


class _Refusal(Exception):
    """A policy step turned the request down with this response."""

    def __init__(self, status: int, headers: list[tuple[str, str]] | None = None, reason=None):
        super().__init__(status)
        self.status = status
        self.headers = headers or []
        self.reason = reason


class ParticipatingFunction:
    def __init__(
        self,
        cfg: PfConfig,
        faults: Faults,
        store: MessageStore,
        *,
        leg_timeout: float = 4.0,
        msrp_timeout: float = 2.0,
    ) -> None:
        self.cfg = cfg
        self.faults = faults
        self.store = store
        self.recording = Recording(cfg.recording, faults, store, cfg.message_store)
        self.leg_timeout = leg_timeout
        self.msrp_timeout = msrp_timeout
        self.allow = ALLOW
        self.users = {uri_key(u.uri): u for u in cfg.users}
        self.bindings = Bindings(self.users, faults)
        self.node = SipNode(
            "pf",
            cfg.listen,
            cfg.transport,
            cfg.outbound_proxy,
            self._on_request,
            on_ack=self._on_ack,
            preloaded_route=[
                f"<{cfg.core_uri}>"
                if cfg.core_uri
                else loose_route(cfg.outbound_proxy, cfg.transport)
            ],
            route_fault=self._route_fault,
            via_fault=self._via_fault,
        )
        self.msrp = MsrpNode("pf", cfg.listen[0])
        # The sections share the context and reach each other only through these callbacks.
        self.ctx = PfContext(
            cfg=cfg,
            faults=faults,
            store=store,
            node=self.node,
            msrp=self.msrp,
            users=self.users,
            bindings=self.bindings,
            allow=ALLOW,
            leg_timeout=leg_timeout,
            msrp_timeout=msrp_timeout,
            recording=self.recording,
        )
        self.deferred = DeferredHandling(self.ctx)
        self.large = LargeDelivery(self.ctx, defer=self.deferred.defer_large)
        self.registrar = Registrar(self.ctx, registered=self.deferred.registered)
        self.regevent = RegEventSubscriber(self.ctx, registered=self.deferred.registered)

    async def start(self) -> None:
        await self.node.start()
        await self.msrp.start()
        if self.cfg.registration == "reg-event":
            self.regevent.start()

    async def close(self) -> None:
        await self.node.close()
        await self.msrp.close()

    @property
    def address(self) -> tuple[str, int]:
        return self.node.address

    # -- through the core (D-through-core) ---------------------------------------------------

    def _route_fault(self, msg: SipMessage) -> str | None:
        """The switch that sends this initial request without the Route naming the core."""
        deferred = _accepts_icsi(msg, ICSI_DEFERRED)
        if msg.method == "MESSAGE":
            if media_type(msg.header("Content-Type")) == wire.DEFERRED_TYPE:
                return "pf.notification-no-core-route"
            return None if deferred else "pf.copy-no-core-route"
        if msg.method == "INVITE":
            return "pf.push-no-core-route" if deferred else "pf.invite-no-core-route"
        return None

    def _via_fault(self, request: SipMessage, status: int) -> str | None:
        """The switch that cuts the Vias of this response to the top one."""
        large = request.method == "INVITE" and not self.deferred.is_management(request)
        return "pf.large-200-drops-via" if large and 200 <= status < 300 else None

    # -- request dispatch --------------------------------------------------------------------

    def _on_ack(self, msg: SipMessage) -> None:
        """An ACK no transaction took: a handling session's, else a large session's."""
        if not self.deferred.ack(msg):
            self.large.ack(msg)

    async def _on_request(self, txn: ServerTransaction) -> None:
        req = txn.request
        known = REQUIRE_INVITE if req.method == "INVITE" else SUPPORTED_OPTIONS
        unsupported = [t for t in req.header_list("Require") if t.strip().lower() not in known]
        if unsupported and req.method != "CANCEL":
            await txn.reply(420, headers=[("Unsupported", ", ".join(unsupported))])
            return
        if req.method == "REGISTER":
            await self.registrar.register(txn)
        elif req.method == "MESSAGE":
            await self._message(txn)
        elif req.method == "INVITE" and self.deferred.is_management(req):
            await self.deferred.invite(txn)
        elif req.method == "INVITE":
            await self.large.invite(txn)
        elif req.method == "SUBSCRIBE" and self.deferred.is_management(req):
            await self.deferred.subscribe(txn)
        elif req.method == "NOTIFY" and await self.regevent.notify(txn):
            pass
        elif req.method == "BYE":
            if not await self.deferred.bye(txn) and not await self.large.bye(txn):
                await txn.reply(481)
        elif req.method == "OPTIONS":
            await txn.reply(
                200,
                headers=[
                    ("Allow", ALLOW),
                    ("Accept", ", ".join(self.cfg.allowed_content_types)),
                    ("Supported", ", ".join(SUPPORTED_OPTIONS)),
                    ("Server", self.cfg.release),
                ],
            )
        elif req.method == "CANCEL":
            invite = self.node.find_invite(req)
            await txn.reply(200 if invite is not None else 481)
            self.large.cancel(invite)  # 487 to the INVITE if it is still pending
        else:
            await txn.reply(405, headers=[("Allow", ALLOW)])

    # -- terminating MESSAGE -----------------------------------------------------------------

    async def _message(self, txn: ServerTransaction) -> None:
        req = txn.request
        user = self.users.get(uri_key(req.request_uri or ""))
        if user is None:
            await txn.reply(404)
            return
        try:
            self._check_access(req, user)
            self._check_content(req)
            self._check_expiry(req)
        except _Refusal as r:
            await txn.reply(r.status, r.reason, headers=r.headers)
            return

        pref = user.preference
        if pref == "deliver":
            await self._deliver(txn, user)
        elif pref == "store":
            uid = self.store.add(user.uri, req.raw, req.call_id, "stored")
            status = 202 if self.faults.on("pf.stored-answers-202") else 200
            await txn.reply(status, headers=self._uid_for_originator(uid) + self._server())
        elif pref == "defer":
            await self.deferred.defer_pager(txn, user)
        else:  # interwork: queued for the hand-over to the ISF (not implemented yet)
            self.store.add(user.uri, req.raw, req.call_id, "interwork")
            await txn.reply(202, headers=self._server())

    def _server(self) -> list[tuple[str, str]]:
        return [("Server", self.cfg.release)]

    def _check_access(self, req, user: UserConfig) -> None:
        if self.faults.on("pf.ignore-block"):
            return
        who = originator(req)
        blocked = {uri_key(b) for b in user.blocked}
        if who is not None and uri_key(who) in blocked:
            log.info("MESSAGE from blocked %s to %s refused", who, user.uri)
            headers = (
                []
                if self.faults.on("pf.403-no-warning")
                else [self.ctx.warning("122 Function not allowed")]
            )
            raise _Refusal(403, headers)

    def _check_content(self, req) -> None:
        allowed = self.cfg.allowed_content_types
        outer = req.content_type
        if outer is None:
            raise _Refusal(400, reason="MESSAGE without Content-Type")
        types = [outer]
        if outer == "message/cpim":
            try:
                inner = CpimMessage.parse(req.body).content_type
            except CodecError as exc:
                raise _Refusal(400, reason=f"Bad CPIM body ({exc.detail})"[:100]) from None
            if inner is None:
                raise _Refusal(400, reason="CPIM body without Content-Type")
            types.append(inner)
        if self.faults.on("pf.no-415"):
            return
        if any(t not in allowed for t in types):
            raise _Refusal(415, [("Accept", ", ".join(allowed))])

    def _check_expiry(self, req) -> None:
        """Date + Expires in the past: expired. Without Date the message is taken as fresh."""
        value = req.header("Expires")
        if value is None:
            return
        try:
            seconds = Expires.parse(value).seconds
        except CodecError:
            raise _Refusal(400, reason="Bad Expires header") from None
        date = req.header("Date")
        if date is None:
            return
        try:
            sent = email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            return  # an unreadable Date cannot prove the message expired
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=datetime.UTC)
        expiry = sent + datetime.timedelta(seconds=seconds)
        if expiry < datetime.datetime.now(datetime.UTC) and not self.faults.on(
            "pf.deliver-expired"
        ):
            log.info("expired MESSAGE %s discarded", req.call_id)
            raise _Refusal(403, [self.ctx.warning("Message expired")])

    def _uid_for_originator(self, uid: int | None) -> list[tuple[str, str]]:
        if uid is None or "originating" not in self.cfg.recording:
            return []
        if self.faults.on("pf.no-uid-in-200"):
            return []
        return [("Message-UID", str(uid))]

    def _device_copy(self, req, user: UserConfig, b: Binding, uid: int | None):
        gruu = self.bindings.gruu(user, b)
        target = gruu
        if gruu is None or self.faults.on("pf.request-uri-not-gruu"):
            target = b.contact_uri
        # RFC 3325: an identity the originator asked to hide does not go out to the device.
        skip = {"from", "to"}
        if any(
            p.strip().lower() == "id" for v in req.header_values("Privacy") for p in v.split(";")
        ):
            skip.add("p-asserted-identity")
        headers = [
            (n, v) for n, v in headers_named(req, COPIED_TO_DEVICE) if canonical_name(n) not in skip
        ]
        if (
            uid is not None
            and "terminating" in self.cfg.recording
            and not self.faults.on("pf.no-uid-in-forwarded-message")
        ):
            headers.append(("Message-UID", str(uid)))
        raw, branch = self.node.new_request(
            "MESSAGE",
            target,
            from_=req.header("From") or "",
            to=req.header("To") or "",
            headers=headers,
            body=req.body,
        )
        return raw, branch

    async def _deliver(self, txn: ServerTransaction, user: UserConfig) -> None:
        req = txn.request
        targets = self.bindings.selected(user)
        if not targets:
            await txn.reply(480, headers=self._server())
            return
        # Recorded before the copies go out, because the terminating-side UID rides on them.
        uid, term_uid = await self.recording.record(
            originator(req) or "", user.uri, req.raw, req.call_id, "pager"
        )
        legs = []
        for b in targets:
            raw, branch = self._device_copy(req, user, b, term_uid)
            legs.append(self.node.spawn(self.node.request(raw, branch, self.leg_timeout)))
        if self.faults.on("pf.second-copy-to-first-device"):
            raw, branch = self._device_copy(req, user, targets[0], term_uid)
            legs.append(self.node.spawn(self.node.request(raw, branch, self.leg_timeout)))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.leg_timeout
        pending = set(legs)
        failures: list[tuple[int, str]] = []
        answered = False
        to_tag = new_tag()
        while pending:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            done, pending = await asyncio.wait(
                pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                resp = task.result() if not task.cancelled() else None
                if resp is None:
                    continue
                if 200 <= resp.status < 300:
                    if not answered and self.faults.on("pf.first-2xx-as-202"):
                        # the device's 2xx is not passed back: the PF answers 202 of its own
                        headers = self._uid_for_originator(uid) + self._server()
                        await txn.reply(202, headers=headers)
                        answered = True
                    elif not answered or self.faults.on("pf.forward-second-2xx"):
                        await txn.respond(self._ok_to_originator(req, resp, uid, to_tag))
                        answered = True
                    # else: later finals are absorbed (TS 8.3.2.1, "other")
                else:
                    failures.append((resp.status, resp.reason or ""))
            if answered and not self.faults.on("pf.forward-second-2xx"):
                return  # remaining legs finish on their own; their answers go nowhere
        if not answered:
            if failures:
                status, reason = min(failures)
                await txn.reply(status, reason or None, headers=self._server())
            else:
                await txn.reply(480, headers=self._server())

    def _ok_to_originator(self, req, device_resp, uid: int | None, to_tag: str) -> bytes:
        headers = []
        for name in CPM_IDS:
            value = device_resp.header(name) or req.header(name)
            if value is not None:
                headers.append((name, value))
        headers += self._uid_for_originator(uid)
        headers += self._server()
        return build_response(req, 200, "OK", headers, to_tag=to_tag)
