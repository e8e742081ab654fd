"""The PF's deferred-message signalling (TS 8.3.2.4.x, 8.3.2.4.1; SD 5.2.2.2).

Owns everything the PF says about and does with deferred messages on the wire:

* deferral of a pager-mode MESSAGE: 202 to the originator, then the deferred-message
  notification: a MESSAGE with Accept-Contact ``+g.oma.cpm.system-message`` from the server
  identity, addressed to the user's CPM address when a device is registered, otherwise to the
  interworking function; its body is the deferred-messages list (our own XML, see
  docs/deferred-messages-body.md) naming the message by its Message-URI-ID. A large message
  every device failed is deferred and notified the same way;
* the deferred-messages event package: a SUBSCRIBE to the management address is answered 200
  and followed by a NOTIFY listing the user's deferred messages;
* the handling INVITE to the management address: no body means every message, otherwise an
  RFC 5366 list with ``?cpm_action=`` per message; nothing to handle is 488 with Warning
  ``125 No messages``; after the BYE the PF delivers (MESSAGE with the deferred ICSI),
  interworks (MESSAGE to the IWF), stores or deletes each named message and drops it from
  the queue; unlisted messages stay;
* push: when a device of a user whose messages wait for push registers, every selected device
  gets an INVITE (GRUU as Request-URI, deferred ICSI in Accept-Contact and Contact,
  ``automata``, User-Agent, Session-Expires with refresher=uac, sendonly MSRP offer); on the
  200 the PF acks, waits for the device's MSRP connection, sends each message's body as
  originally received, says BYE and drops what the device took.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import ContactFeatures
from cpmconf.codec.sip import SipMessage, canonical_name

from . import wire
from .bodies import body_part
from .config import UserConfig
from .deferred import Clock, DeferredQueue
from .pf_context import PfContext
from .sessions import msrp_media
from .sipcore import (
    TIMER_J,
    Dialog,
    ServerTransaction,
    build_response,
    headers_named,
    new_tag,
    originator,
    uri_key,
)
from .store import DeferredRow

log = logging.getLogger("refsut.pf.deferred")

SYSTEM_MESSAGE_TAG = "+g.oma.cpm.system-message"
ICSI_DEFERRED = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.deferred"
ICSI_MSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
EVENT_PACKAGE = "deferred-messages"
PAGER_LIMIT = 1300
SESSION_EXPIRES = 1800
# Headers of the original MESSAGE that a delivered deferred message keeps.
KEPT_ON_DELIVERY = (
    "From",
    "To",
    "P-Asserted-Identity",
    "Conversation-ID",
    "Contribution-ID",
    "InReplyTo-Contribution-ID",
    "Reply-To",
    "Date",
    "Content-Type",
)


@dataclass
class Handling:
    """One handling session: the INVITE, what it selected, and the device behind it."""

    txn: ServerTransaction
    user: UserConfig
    actions: tuple[tuple[DeferredRow, str], ...]
    device: str | None  # the +sip.instance of the handling INVITE's Contact
    to_tag: str
    acked: asyncio.Event = field(default_factory=asyncio.Event)


class DeferredHandling:
    """The PF's deferred messages; built by the PF with its shared :class:`PfContext`."""

    def __init__(self, pf: PfContext) -> None:
        self.pf = pf
        cfg = pf.cfg
        self.clock = Clock()
        self.queue = DeferredQueue(
            pf.store,
            cfg.deferred_management,
            self.clock,
            pf.faults,
            lifetime=cfg.deferred_lifetime,
            expiry_policy=cfg.expiry_policy,
        )
        self.sessions: dict[str, Handling] = {}
        # Users with a push in progress -> whether another registration came meanwhile.
        self.pushing: dict[str, bool] = {}
        self.push_tried: set[int] = set()  # only with pf.push-no-retry

    @property
    def cfg(self):
        return self.pf.cfg

    def on(self, fault: str) -> bool:
        return self.pf.faults.on(fault)

    def is_management(self, req: SipMessage) -> bool:
        return uri_key(req.request_uri or "") == uri_key(self.cfg.deferred_management)

    def _server(self) -> list[tuple[str, str]]:
        return [("Server", self.cfg.release)]

    def _user_of(self, req: SipMessage) -> UserConfig | None:
        who = originator(req)
        return None if who is None else self.pf.users.get(uri_key(who))

    # -- deferral and notification (8.3.2.4.x) ---------------------------------------------

    async def defer_pager(self, txn: ServerTransaction, user: UserConfig) -> None:
        row = self.queue.defer(user.uri, txn.request)
        log.info("deferred %s for %s as %s", txn.request.call_id, user.uri, row.uri_id)
        status = 200 if self.on("pf.no-202-on-defer") else 202
        await txn.reply(status, headers=self._server())
        await self.notify(user, [row])
        if self.on("pf.push-while-unregistered") and user.deferred == "push":
            if not self.pf.bindings.live(uri_key(user.uri)):
                # pushes at once to the user's address, with nothing registered to take it
                self.pf.node.spawn(self._push_to(user, user.uri, [row]), name="pf-early-push")

    async def defer_large(self, user: UserConfig, req: SipMessage) -> None:
        """A large message every selected device failed (TS 8.3.2.1.1 allfail)."""
        row = self.queue.defer(user.uri, req, mode="large")
        log.info("deferred large %s for %s as %s", req.call_id, user.uri, row.uri_id)
        await self.notify(user, [row])

    async def notify(self, user: UserConfig, rows: list[DeferredRow]) -> None:
        """The system-message MESSAGE about newly deferred messages."""
        registered = bool(self.pf.bindings.live(uri_key(user.uri)))
        if self.on("pf.defer-no-notification"):
            await self._resend_stored(user, rows)
            return
        if self.on("pf.defer-notify-not-iwf"):
            registered = True  # the notification goes to the user even with nobody there
        if self.on("pf.defer-notify-iwf-always"):
            registered = False  # the registered devices are overlooked: the IWF is told
        target = user.uri if registered else self.cfg.iwf
        identity = self.cfg.server_identity
        if self.on("pf.defer-notify-from-originator") and rows:
            identity = rows[0].originator or identity  # the deferred message's sender
        headers = [("P-Asserted-Identity", f"<{identity}>")]
        if not self.on("pf.defer-no-system-message-tag"):
            headers.append(("Accept-Contact", f"*;{SYSTEM_MESSAGE_TAG}"))
        if not self.on("pf.defer-notify-no-user-agent"):
            headers.append(("User-Agent", self.cfg.release))
        headers.append(("Content-Type", wire.DEFERRED_TYPE))
        named_as = None
        if registered and self.on("pf.defer-notify-no-uri-id"):
            # each message named by the management address instead of its Message-URI-ID
            named_as = self.cfg.deferred_management
        body = self.queue.listing(user.uri, rows, named_as=named_as)
        method = "NOTIFY" if self.on("pf.defer-notify-not-message") else "MESSAGE"
        raw, branch = self.pf.node.new_request(
            method,
            target,
            from_=f"<{identity}>;tag={new_tag()}",
            to=f"<{user.uri}>",
            headers=headers,
            body=body,
        )
        resp = await self.pf.node.request(raw, branch, self.pf.leg_timeout)
        log.info(
            "deferral notification for %s to %s: %s",
            user.uri,
            target,
            "no answer" if resp is None else resp.status,
        )

    async def _resend_stored(self, user: UserConfig, rows: list[DeferredRow]) -> None:
        """What a store-and-forward relay does instead of notifying (msilo): the deferred
        message's text re-sent as a plain MESSAGE to the user's address of record."""
        stored = self.pf.store.get(rows[0].uid) if rows else None
        if stored is None or stored.mode != "pager":
            return  # a large message has no text to re-send: nothing at all
        try:
            text = SipMessage.parse(stored.raw).body
        except CodecError:
            return
        raw, branch = self.pf.node.new_request(
            "MESSAGE",
            user.uri,
            from_=f"<{rows[0].originator or self.cfg.server_identity}>;tag={new_tag()}",
            to=f"<{user.uri}>",
            headers=[("Content-Type", "text/plain")],
            body=b"[Offline message] " + text,
        )
        # sent once (a bound below Timer E's first interval): its answer changes nothing
        await self.pf.node.request(raw, branch, 0.4)

    # -- the deferred-messages event package --------------------------------------------------

    async def subscribe(self, txn: ServerTransaction) -> None:
        req = txn.request
        event = (req.header("Event") or "").split(";", 1)[0].strip().lower()
        if event != EVENT_PACKAGE:
            await txn.reply(489, "Bad Event", headers=[("Allow-Events", EVENT_PACKAGE)])
            return
        user = self._user_of(req)
        if user is None:
            await txn.reply(403, headers=self._server())
            return
        to_tag = new_tag()
        await txn.respond(
            build_response(
                req,
                200,
                headers=[("Expires", "0"), ("Contact", self.pf.contact()), *self._server()],
                to_tag=to_tag,
            )
        )
        dialog = Dialog.as_uas(req, to_tag)
        body = self.queue.listing(user.uri)
        raw, branch = dialog.build(
            self.pf.node,
            "NOTIFY",
            [
                ("Event", EVENT_PACKAGE),
                ("Subscription-State", "terminated;reason=timeout"),
                ("Contact", self.pf.contact()),
                ("User-Agent", self.cfg.release),
                ("Content-Type", wire.DEFERRED_TYPE),
            ],
            body,
        )
        await self.pf.node.request(raw, branch, self.pf.leg_timeout)

    # -- the handling INVITE (SD 5.2.2.2.1) ----------------------------------------------------

    async def invite(self, txn: ServerTransaction) -> None:
        req = txn.request
        user = self._user_of(req)
        if user is None:
            await txn.reply(403, headers=self._server())
            return
        rl = body_part(req.header("Content-Type"), req.body, "application/resource-lists+xml")
        selection = self.queue.select(user.uri, rl)
        if not selection:
            headers = [*self._server()]
            if not self.on("pf.deferred-488-no-warning"):
                headers.append(self.pf.warning("125 No messages"))
            await txn.reply(488, headers=headers)
            return
        device = None
        try:
            device = ContactFeatures.parse(req.header("Contact") or "").param("+sip.instance")
        except CodecError:
            pass
        handling = Handling(txn, user, selection.actions, device, new_tag())
        self.sessions[req.call_id] = handling
        leg = self.pf.msrp.leg("deferred-handling")
        answer = wire.sdp_msrp(
            host=leg.uri.host,
            path=leg.uri,
            accept_types="message/cpim",
            setup="passive",
            direction="sendonly",
            session_id=secrets.randbelow(2**31),
        )
        await txn.respond(
            build_response(
                req,
                200,
                headers=[
                    ("Contact", self.pf.contact()),
                    ("Allow", self.pf.allow),
                    *self._server(),
                    ("Content-Type", "application/sdp"),
                ],
                body=answer,
                to_tag=handling.to_tag,
            )
        )
        # A session whose BYE never comes is forgotten later; the queue stays as it was.
        self.pf.node._later(TIMER_J * 4, self._forget_session, req.call_id, leg)

    def _forget_session(self, call_id: str, leg) -> None:
        if self.sessions.pop(call_id, None) is not None:
            log.info("handling session %s ended without BYE: queue unchanged", call_id)
        leg.close()

    def ack(self, msg: SipMessage) -> bool:
        handling = self.sessions.get(msg.call_id)
        if handling is None:
            return False
        handling.acked.set()
        return True

    async def bye(self, txn: ServerTransaction) -> bool:
        handling = self.sessions.pop(txn.request.call_id, None)
        if handling is None:
            return False
        await txn.reply(200, headers=self._server())
        await self._carry_out(handling)
        return True

    async def _carry_out(self, handling: Handling) -> None:
        user = handling.user
        handled = set()
        for row, action in handling.actions:
            if action == "delete" and self.on("pf.deferred-action-ignored"):
                continue  # the delete is ignored: the message stays deferred
            done = True
            if action == "deliver":
                done = await self._deliver(user, row, handling.device)
                if done and self.on("pf.deferred-deliver-twice"):
                    await self._deliver(user, row, handling.device)
                state = "delivered"
            elif action == "interwork":
                done = await self._interwork(user, row)
                state = "interworked"
            elif action == "store":
                state = "stored"
            else:
                state = "deleted"
            if done:
                self.pf.store.set_deferred_status(row.uid, "done", state)
                handled.add(row.uid)
        if self.on("pf.deferred-remove-unlisted"):
            for row in self.pf.store.deferred(user.uri):
                if row.uid not in handled:
                    self.pf.store.set_deferred_status(row.uid, "done", "deleted")
        log.info("handled %d deferred message(s) of %s", len(handled), user.uri)

    def _original(self, row: DeferredRow) -> SipMessage | None:
        stored = self.pf.store.get(row.uid)
        if stored is None:
            return None
        try:
            return SipMessage.parse(stored.raw)
        except CodecError:
            return None

    def _target(self, user: UserConfig, instance: str | None) -> str:
        """The GRUU of the device that asked, else the user's address."""
        for b in self.pf.bindings.live(uri_key(user.uri)):
            if instance and (b.instance or "").strip("<>") == instance.strip("<>"):
                return self.pf.bindings.gruu(user, b) or b.contact_uri
        return user.uri

    async def _send_message(self, target: str, req: SipMessage, accept_contact: str | None):
        headers = [
            (n, v)
            for n, v in headers_named(req, KEPT_ON_DELIVERY)
            if canonical_name(n) not in ("from", "to")
        ]
        if accept_contact:
            headers.append(("Accept-Contact", accept_contact))
        headers.append(("User-Agent", self.cfg.release))
        raw, branch = self.pf.node.new_request(
            "MESSAGE",
            target,
            from_=req.header("From") or "",
            to=req.header("To") or "",
            headers=headers,
            body=req.body,
        )
        resp = await self.pf.node.request(raw, branch, self.pf.leg_timeout)
        return resp is not None and 200 <= (resp.status or 0) < 300

    async def _deliver(self, user: UserConfig, row: DeferredRow, instance: str | None) -> bool:
        req = self._original(row)
        if req is None or req.method != "MESSAGE":
            # A large message deferred after every device failed never reached the PF's
            # MSRP side, so there is no content to deliver: it stays deferred.
            log.info("deferred %s has no content to deliver: kept", row.uri_id)
            return False
        target = self._target(user, instance)
        if len(req.body) > PAGER_LIMIT:  # large message mode: a session with one message
            return row.uid in await self._push_to(user, target, [row])
        accept = f'*;+g.3gpp.icsi-ref="{wire.icsi_ref(ICSI_DEFERRED)}"'
        return await self._send_message(target, req, accept)

    async def _interwork(self, user: UserConfig, row: DeferredRow) -> bool:
        req = self._original(row)
        if req is None or req.method != "MESSAGE":
            return False
        return await self._send_message(self.cfg.iwf, req, None)

    # -- push on registration (8.3.2.4.1, SD 5.2.2.2.2) -----------------------------------------

    def registered(self, user: UserConfig) -> None:
        """A device of ``user`` registered: push what waits, once at a time per user."""
        if user.preference != "defer" or user.deferred != "push":
            return
        if user.uri in self.pushing:
            self.pushing[user.uri] = True  # look again once the running push is over
            return
        if not self.queue.pending(user.uri):
            return
        self.pushing[user.uri] = False
        self.pf.node.spawn(self._push(user), name="pf-deferred-push")

    async def _push(self, user: UserConfig) -> None:
        try:
            while True:
                self.pushing[user.uri] = False
                await self._push_once(user)
                if not self.pushing[user.uri] or not self.queue.pending(user.uri):
                    return
        finally:
            self.pushing.pop(user.uri, None)

    async def _push_once(self, user: UserConfig) -> None:
        rows = self.queue.pending(user.uri)
        targets = self.pf.bindings.selected(user)
        if self.on("pf.push-unselected"):
            targets = self.pf.bindings.live(uri_key(user.uri))  # preferences ignored
        if self.on("pf.push-no-retry") and targets:
            rows = [r for r in rows if r.uid not in self.push_tried]  # tried once: never again
            self.push_tried.update(r.uid for r in rows)
            if not rows:
                return
        copies = 2 if self.on("pf.push-invite-twice") else 1
        results = await asyncio.gather(
            *(
                self._push_to(user, self._push_target(user, b), rows)
                for b in targets
                for _ in range(copies)
            ),
            return_exceptions=True,
        )
        taken = set()
        for r in results:
            if isinstance(r, BaseException):
                log.warning("push to a device of %s failed: %r", user.uri, r)
            else:
                taken |= r
        for row in rows:
            if row.uid in taken:
                self.pf.store.set_deferred_status(row.uid, "done", "delivered")

    def _push_target(self, user: UserConfig, b) -> str:
        """The Request-URI of a push INVITE: the device's public GRUU."""
        if self.on("pf.push-to-contact"):
            return b.contact_uri  # the registered contact, not the GRUU
        return self.pf.bindings.gruu(user, b) or b.contact_uri

    def _push_invite(self, user: UserConfig, target: str, sdp: bytes) -> tuple[bytes, str]:
        features = []
        if not self.on("pf.push-contact-no-icsi"):
            features.append(f'+g.3gpp.icsi-ref="{wire.icsi_ref(ICSI_DEFERRED)}"')
        if not self.on("pf.push-no-automata"):
            features.append("automata")
        icsi = ICSI_MSG if self.on("pf.push-accept-contact-msg-icsi") else ICSI_DEFERRED
        identity = self.cfg.server_identity
        headers = [
            ("P-Asserted-Identity", f"<{identity}>"),
            ("Accept-Contact", f'*;+g.3gpp.icsi-ref="{wire.icsi_ref(icsi)}"'),
            ("Contact", self.pf.contact(*features)),
        ]
        if not self.on("pf.push-no-user-agent"):
            headers.append(("User-Agent", self.cfg.release))
        headers.append(("Supported", "timer"))
        if not self.on("pf.push-no-session-expires"):
            headers.append(("Session-Expires", f"{SESSION_EXPIRES};refresher=uac"))
        headers += [("Allow", self.pf.allow), ("Content-Type", "application/sdp")]
        raw, branch = self.pf.node.new_request(
            "INVITE",
            target,
            from_=f"<{identity}>;tag={new_tag()}",
            to=f"<{user.uri}>",
            headers=headers,
            body=sdp,
        )
        return raw, branch

    async def _push_to(self, user: UserConfig, target: str, rows: list[DeferredRow]) -> set[int]:
        """One session to one device (its GRUU) carrying `rows`; the uids it accepted."""
        leg = self.pf.msrp.leg("deferred-push")
        try:
            offer = wire.sdp_msrp(
                host=leg.uri.host,
                path=leg.uri,
                accept_types="message/cpim",
                setup="passive",  # the client always connects (D-msrp-setup)
                direction="sendrecv" if self.on("pf.push-sendrecv") else "sendonly",
                session_id=secrets.randbelow(2**31),
            )
            raw, branch = self._push_invite(user, target, offer)
            txn = await self.pf.node.invite(raw, branch, self.pf.leg_timeout)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.pf.leg_timeout
            final = None
            while final is None:
                resp = await txn.next_response(deadline - loop.time())
                if resp is None:
                    await txn.cancel(self.pf.leg_timeout)
                    return set()
                if (resp.status or 0) >= 200:
                    final = resp
            if not 200 <= (final.status or 0) < 300:
                await txn.ack_non2xx(final)
                return set()
            dialog = Dialog.as_uac(txn.request, final)  # the 200's Contact is the target
            if self.on("pf.push-ack-to-request-uri"):
                dialog.remote_target = target  # the 200's Contact ignored for ACK and BYE
            await txn.ack_2xx(dialog)
            media = msrp_media(final)
            taken: set[int] = set()
            if media is not None and await leg.wait_bound(self.pf.leg_timeout):
                to_path = media.path_uris()
                got = await leg.next_request(self.pf.msrp_timeout)  # the device's bind SEND
                if got is not None:
                    await leg.respond(*got)
                for row in rows:
                    req = self._original(row)
                    if req is None:
                        continue
                    ok = await self._msrp_send(leg, to_path, req.body)
                    if ok and self.on("pf.deferred-deliver-twice"):
                        await self._msrp_send(leg, to_path, req.body)
                    if ok:
                        taken.add(row.uid)
            if self.on("pf.push-no-bye"):
                return taken  # the session is left open after the last message
            bye, bye_branch = dialog.build(self.pf.node, "BYE", [("User-Agent", self.cfg.release)])
            await self.pf.node.request(bye, bye_branch, self.pf.leg_timeout)
            return taken
        finally:
            leg.close()

    async def _msrp_send(self, leg, to_path, body: bytes) -> bool:
        """One message, unchunked, as originally received."""
        send = wire.msrp_request(
            None,  # a fresh transaction id whose end-line is not in the body
            "SEND",
            to_path,
            leg.uri,
            message_id=wire.new_ident(),
            content_type="message/cpim",
            body=body,
        )
        resp = await leg.transact(send, self.pf.msrp_timeout)
        return resp is not None and resp.status == 200
