"""The CPM Client: sending (TS 7.2.1.1, 7.2.1.3) and receiving (7.2.2.1, 7.2.2.3) in pager
mode; its sections, built here with a shared :class:`~refsut.client_context.ClientContext`,
do registration (7.1, :mod:`refsut.client_registration`), large message mode (7.2.1.2,
7.2.2.2, :mod:`refsut.client_large`) and deferred messages (7.2.3,
:mod:`refsut.client_deferred`).

It owns the client's SIP dispatch and its memory of sent and received messages, which the
upper tester (:mod:`refsut.upper_tester`) exposes. Every outbound request goes to the
outbound proxy (the SIP/IP core played by the test system). :meth:`CpmClient.send` picks
the mode by the size of the CPIM wrapper: up to 1300 bytes a MESSAGE (pager mode), above
an INVITE and an MSRP session (large message mode).
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import (
    AcceptContact,
    MessageUID,
    NameAddr,
)
from cpmconf.codec.sip import SipMessage

from . import bodies, wire
from .client_context import ALLOW, ClientContext
from .client_deferred import DeferredHandling
from .client_large import LargeMode
from .client_registration import Registration
from .config import ClientConfig, format_address
from .faults import Faults
from .msrpcore import MsrpNode
from .records import Record
from .sipcore import (
    ServerTransaction,
    SipNode,
    build_request,
    header_uri,
    headers_named,
    loose_route,
    new_branch,
    new_call_id,
    new_tag,
    new_token_id,
    originator,
    uri_key,
)

log = logging.getLogger("refsut.client")

ICSI_MSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
ICSI_LARGE = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.largemsg"
ICSI_DEFERRED = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.deferred"
FOREIGN_IDENTITY = "sip:someone-else@example.org"  # used only by the identity fault switches
PAGER_LIMIT = 1300  # bytes of the CPIM wrapper (TS 7.2.1.3 step 4)
DISPOSITIONS = ("positive-delivery", "negative-delivery", "display")
SEND_KEYS = {
    "to",
    "text",
    "content_type",
    "group",
    "reply_to_message",
    "reply_address",
    "conversation",
    "anonymous",
    "expires",
    "disposition",
    "cancel",
}
CPM_IDS = ("Conversation-ID", "Contribution-ID", "InReplyTo-Contribution-ID")


class Route(NamedTuple):
    """Where a message goes: Request-URI, CPIM To, and the ad-hoc group's list."""

    request_uri: str
    cpim_to: str
    targets: list[str] | None


class ClientError(Exception):
    """A control request the client cannot carry out; ``status`` is the HTTP status."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def _is_imdn(msg: SipMessage) -> bool:
    """Whether a MESSAGE carries a disposition notification rather than a user's message."""
    try:
        inner = CpimMessage.parse(msg.body).content_type or ""
    except CodecError:
        return False
    return inner.split(";", 1)[0].strip().lower() == "message/imdn+xml"


def _sip_uri_arg(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ClientError(400, f"{key}: expected a SIP URI string")
    try:
        return NameAddr.parse(f"<{value}>").uri
    except CodecError as exc:
        raise ClientError(400, f"{key}: {exc.detail}") from None


class CpmClient:
    def __init__(
        self,
        cfg: ClientConfig,
        faults: Faults,
        *,
        sip_timeout: float = 4.0,
        msrp_timeout: float = 2.0,
    ) -> None:
        self.cfg = cfg
        self.faults = faults
        self.sip_timeout = sip_timeout
        self.msrp_timeout = msrp_timeout
        self.node = SipNode(
            "client",
            cfg.listen,
            cfg.transport,
            cfg.outbound_proxy,
            self._on_request,
            on_ack=self._on_ack,
            preloaded_route=[loose_route(cfg.outbound_proxy, cfg.transport)],
            route_fault=self._route_fault,
            via_fault=self._via_fault,
        )
        self.msrp = MsrpNode("client", cfg.listen[0])
        # The sections share the context and reach each other only through these callbacks.
        ctx = ClientContext(cfg, faults, self.node, self.msrp, sip_timeout, msrp_timeout)
        self.deferred = DeferredHandling(ctx)
        self.large = LargeMode(ctx, refuses=self.deferred.refuses, received=self.keep_received)
        self.registration = Registration(ctx)
        self.sent: list[Record] = []
        self.received: list[Record] = []
        self._all: dict[str, Record] = {}  # survives /reset so late replies still resolve
        self._counter = 0
        self._last_contribution: str | None = None
        self._last_conversation: str | None = None

    async def start(self) -> None:
        await self.node.start()
        await self.msrp.start()
        self.registration.start()

    async def close(self) -> None:
        self.registration.close()
        await self.node.close()
        await self.msrp.close()

    @property
    def address(self) -> tuple[str, int]:
        return self.node.address

    def _next_id(self) -> str:
        self._counter += 1
        return f"m{self._counter}"

    def _keep(self, record: Record) -> Record:
        self._all[record.id] = record
        (self.sent if record.direction == "sent" else self.received).append(record)
        return record

    # -- upper-tester views ------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {"ok": True, "registered": self.registration.registered, "user": self.cfg.user}

    def messages(self) -> dict[str, Any]:
        return {
            "sent": [r.public() for r in self.sent],
            "received": [r.public() for r in self.received],
        }

    def reset(self) -> None:
        self.sent.clear()
        self.received.clear()
        self.deferred.reset()

    # -- registration (TS 7.1), in :mod:`refsut.client_registration` -------------------------

    async def register(self, expires: int = 3600) -> int | None:
        return await self.registration.register(expires)

    async def deregister(self) -> int | None:
        return await self.registration.deregister()

    # -- through the core (D-through-core) ---------------------------------------------------

    def _route_fault(self, msg: SipMessage) -> str | None:
        """The switch that sends this initial request without its preloaded Route."""
        if msg.method == "REGISTER":
            return "client.register-no-route"
        if msg.method == "SUBSCRIBE":
            return "client.subscribe-no-route"
        if msg.method == "INVITE":
            handling = uri_key(msg.request_uri or "") == uri_key(self.cfg.deferred_uri)
            return "client.handling-invite-no-route" if handling else "client.invite-no-route"
        if msg.method == "MESSAGE" and not _is_imdn(msg):
            return "client.message-no-route"
        return None

    def _via_fault(self, request: SipMessage, status: int) -> str | None:
        """The switch that cuts the Vias of this response to the top one."""
        if not 200 <= status < 300:
            return None
        if request.method == "MESSAGE":
            return "client.message-200-drops-via"
        if request.method == "INVITE":
            return "client.invite-200-drops-via"
        return None

    # -- sending (TS 7.2.1.1, 7.2.1.3) -------------------------------------------------------

    def _common_headers(self) -> list[tuple[str, str]]:
        icsi = ICSI_LARGE if self.faults.on("client.accept-contact-no-msg-icsi") else ICSI_MSG
        headers = [("Accept-Contact", f'*;+g.3gpp.icsi-ref="{wire.icsi_ref(icsi)}"')]
        if not self.faults.on("client.no-p-preferred-service"):
            headers.append(("P-Preferred-Service", ICSI_MSG))
        if not self.faults.on("client.no-user-agent"):
            headers.append(("User-Agent", self.cfg.release))
        # The MAY of 7.2.1.1 step 2: assert the user's own registered address.
        who = (
            FOREIGN_IDENTITY
            if self.faults.on("client.foreign-preferred-identity")
            else self.cfg.user
        )
        headers.append(("P-Preferred-Identity", f"<{who}>"))
        return headers

    def _find(self, key: str, value: Any, received_only: bool) -> Record:
        if not isinstance(value, str):
            raise ClientError(400, f"{key}: expected a message id string")
        rec = self._all.get(value)
        if rec is None or (received_only and rec.direction != "received"):
            kind = "received message" if received_only else "message"
            raise ClientError(400, f"{key}: no {kind} with id {value!r}")
        return rec

    async def send(self, args: Any) -> dict[str, Any]:
        """Carry out one /send request; see docs/upper-tester.md for ``args``."""
        if not isinstance(args, dict):
            raise ClientError(400, "body must be a JSON object")
        unknown = sorted(set(args) - SEND_KEYS)
        if unknown:
            raise ClientError(400, f"unknown key {unknown[0]!r}")
        text = args.get("text")
        if not isinstance(text, str):
            raise ClientError(400, "text: required string")
        content_type = args.get("content_type", "text/plain")
        if not isinstance(content_type, str) or "/" not in content_type:
            raise ClientError(400, "content_type: expected a media type")
        if "to" in args and "group" in args:
            raise ClientError(400, "to and group are exclusive")
        replied = (
            self._find("reply_to_message", args["reply_to_message"], True)
            if args.get("reply_to_message") is not None
            else None
        )
        continued = (
            self._find("conversation", args["conversation"], False)
            if args.get("conversation") is not None
            else None
        )
        reply_address = args.get("reply_address")
        if reply_address is not None:
            reply_address = _sip_uri_arg(reply_address, "reply_address")
        anonymous = args.get("anonymous", False)
        if not isinstance(anonymous, bool):
            raise ClientError(400, "anonymous: expected true or false")
        expires = args.get("expires")
        if expires is not None and (
            not isinstance(expires, int) or isinstance(expires, bool) or not 0 <= expires < 2**32
        ):
            raise ClientError(400, "expires: expected seconds (integer >= 0)")
        disposition = args.get("disposition", [])
        if not isinstance(disposition, list) or any(d not in DISPOSITIONS for d in disposition):
            raise ClientError(400, f"disposition: expected a list drawn from {DISPOSITIONS}")
        cancel = args.get("cancel", False)
        if not isinstance(cancel, bool):
            raise ClientError(400, "cancel: expected true or false")

        # The mode is chosen on the wrapper the unbroken client would send, so that a fault
        # switch of one mode never moves a message into the other (TS 7.2.1.3 step 4).
        plain = self._addressing(args, replied, faulty=False)
        probe = self._wrapper(plain, text, content_type, disposition, faulty=False)
        size = len(probe)
        if self.faults.on("client.pager-over-1300"):
            size = len(text.encode("utf-8"))  # the limit applied to the text, not the wrapper
        large = size > PAGER_LIMIT
        if size == PAGER_LIMIT and self.faults.on("client.large-at-1300"):
            large = True  # the limit taken as exclusive
        if cancel and not large:
            raise ClientError(400, "cancel: only a large-mode message (over 1300 bytes) has one")
        # The pager-mode fault switches act on pager-mode messages only.
        route = self._addressing(args, replied, faulty=True, large=large)
        pager_fault = (lambda name: False) if large else self.faults.on

        if pager_fault("client.new-conversation-id-always") or (
            large and self.faults.on("client.large-new-conversation-id-always")
        ):
            conversation_id = new_token_id()
        elif continued is not None and continued.conversation_id:
            conversation_id = continued.conversation_id
        elif replied is not None and replied.conversation_id:
            conversation_id = replied.conversation_id
        elif self._last_conversation and (
            pager_fault("client.reuse-conversation-id")
            or (large and self.faults.on("client.large-reuse-conversation-id"))
        ):
            conversation_id = self._last_conversation
        else:
            conversation_id = new_token_id()
        reuse = pager_fault("client.reuse-contribution-id") or (
            large and self.faults.on("client.large-reuse-contribution-id")
        )
        if reuse and self._last_contribution:
            contribution_id = self._last_contribution
        else:
            contribution_id = new_token_id()
        in_reply_to = None
        if replied is not None and not pager_fault("client.no-in-reply-to"):
            in_reply_to = replied.contribution_id

        if pager_fault("client.no-disposition-request"):
            disposition = []  # the user's wish to track the message is dropped
        # The CPIM switches of 7.2.1.3 act on pager mode; large mode has its own (on200-7).
        wrapper = self._wrapper(route, text, content_type, disposition, faulty=not large)
        self._last_contribution = contribution_id
        self._last_conversation = conversation_id
        record = Record(
            id=self._next_id(),
            direction="sent",
            call_id=new_call_id(self.node.address[0]),
            from_=self.cfg.user,
            to=route.request_uri,
            conversation_id=conversation_id,
            contribution_id=contribution_id,
            in_reply_to=in_reply_to,
            reply_to=reply_address,
            content_type=content_type,
            text=text,
            message_uid=None,
            mode="large" if large else "pager",
        )
        if large:
            headers = self.large.invite_headers(
                reply_address=reply_address,
                anonymous=anonymous,
                expires=expires,
                ids=[
                    ("Conversation-ID", conversation_id),
                    ("Contribution-ID", contribution_id),
                    *([("InReplyTo-Contribution-ID", in_reply_to)] if in_reply_to else []),
                ],
            )
            self._keep(record)
            await self.large.send(
                record, route.request_uri, route.targets, headers, wrapper, [content_type], cancel
            )
            return {"ok": True, "id": record.id, "call_id": record.call_id, "status": record.status}

        headers = self._common_headers()
        if reply_address is not None and not self.faults.on("client.no-reply-to"):
            headers.append(("Reply-To", f"<{reply_address}>"))
        if anonymous and not self.faults.on("client.no-privacy"):
            headers.append(("Privacy", "id"))
        if expires is not None and not self.faults.on("client.no-expires"):
            headers.append(("Expires", str(expires)))
        headers += [("Conversation-ID", conversation_id), ("Contribution-ID", contribution_id)]
        if in_reply_to:
            headers.append(("InReplyTo-Contribution-ID", in_reply_to))
        if self.faults.on("client.cpim-no-header-separator"):
            # the blank line after the CPIM message headers becomes a stray continuation line
            # (same size, so the pager/large choice is unchanged)
            wrapper = wrapper.replace(b"\r\n\r\n", b"\r\n  ", 1)
        body = wrapper
        # the switch leaves the list out of a new group message only: a reply to a group
        # builds its recipients from the replied message (9c/9d), a behaviour of its own
        drop_list = replied is None and self.faults.on("client.adhoc-no-resource-list")
        if route.targets is not None and not drop_list:
            # RFC 5365: the list travels next to the message in a multipart/mixed body
            ctype, body = bodies.multipart_mixed(
                [
                    ([("Content-Type", "message/cpim")], wrapper),
                    (
                        [
                            ("Content-Type", "application/resource-lists+xml"),
                            ("Content-Disposition", "recipient-list"),
                        ],
                        bodies.recipient_list(route.targets),
                    ),
                ]
            )
            headers += [("Require", "recipient-list-message"), ("Content-Type", ctype)]
        else:
            ctype = "text/plain" if self.faults.on("client.message-not-typed-cpim") else None
            headers.append(("Content-Type", ctype or "message/cpim"))

        self._keep(record)
        await self._send_message(record, route.request_uri, headers, body)
        return {"ok": True, "id": record.id, "call_id": record.call_id, "status": record.status}

    def _addressing(
        self, args: dict, replied: Record | None, *, faulty: bool, large: bool = False
    ) -> Route:
        """Request-URI, CPIM To and ad-hoc list of a send; ``faulty`` applies the fault
        switches of the send's mode (``large``) that change them."""

        def fault(name: str) -> bool:
            # Each mode's switches act on that mode's messages only.
            return faulty and name.startswith("client.large-") == large and self.faults.on(name)

        # The party a reply goes to: its Reply-To, else its authenticated originator (8b/8c).
        reply_target = None
        if replied is not None:
            reply_target = replied.originator
            single = "group" not in args
            own = fault("client.reply-to-own-address") or fault("client.large-reply-to-own-address")
            if not replied.reply_to and single and own:
                reply_target = replied.to
            ignore = (single and fault("client.reply-ignores-reply-to")) or fault(
                "client.large-reply-ignores-reply-to"
            )
            if replied.reply_to and not ignore:
                reply_target = replied.reply_to

        targets: list[str] | None = None
        if "group" in args:
            group = args["group"]
            if not isinstance(group, dict) or group.get("kind") not in ("adhoc", "predefined"):
                raise ClientError(400, "group: expected {kind: adhoc|predefined, ...}")
            if group["kind"] == "adhoc":
                if self.cfg.controlling_function is None:
                    raise ClientError(400, "group: no controlling_function configured")
                raw_targets = group.get("targets", [])
                if not isinstance(raw_targets, list):
                    raise ClientError(400, "group.targets: expected a list of URIs")
                targets = [_sip_uri_arg(t, "group.targets") for t in raw_targets]
                omit = fault("client.group-reply-omits-replied") or (
                    replied is not None
                    and not replied.reply_to
                    and fault("client.group-reply-omits-originator")
                )
                if replied is not None and large:
                    omit = omit or fault(
                        "client.large-group-reply-omits-reply-to"
                        if replied.reply_to
                        else "client.large-group-reply-omits-originator"
                    )
                if reply_target and reply_target not in targets and not omit:
                    targets.append(reply_target)  # 9c/9d: the replied party is listed
                if not targets:
                    raise ClientError(400, "group.targets: at least one target needed")
                request_uri = cpim_to = self.cfg.controlling_function
                if fault("client.adhoc-to-first-target") or fault(
                    "client.large-adhoc-to-first-target"
                ):
                    request_uri = targets[0]
                if fault("client.adhoc-cpim-to-first-target"):
                    cpim_to = targets[0]
            else:
                request_uri = cpim_to = _sip_uri_arg(group.get("uri"), "group.uri")
                factory = self.cfg.controlling_function or self.cfg.user
                if fault("client.predefined-group-via-factory") or fault(
                    "client.large-predefined-group-via-factory"
                ):
                    request_uri = factory
                if fault("client.predefined-cpim-to-factory"):
                    cpim_to = factory
        elif "to" in args:
            request_uri = cpim_to = _sip_uri_arg(args["to"], "to")  # typed by the user
            if fault("client.new-message-to-own-address") or fault("client.large-to-own-address"):
                request_uri = self.cfg.user
        elif reply_target is not None:
            request_uri = cpim_to = reply_target
        else:
            raise ClientError(400, "one of to, group or reply_to_message is required")
        return Route(request_uri, cpim_to, targets)

    def _wrapper(
        self, route: Route, text: str, content_type: str, disposition: list, *, faulty: bool
    ) -> bytes:
        """The CPIM wrapper of a message (TS 7.2.1.3); ``faulty`` applies its fault switches."""
        cpim_from, cpim_to = self.cfg.user, route.cpim_to
        if faulty and self.faults.on("client.cpim-wrong-from"):
            cpim_from = f"sip:someone-else@{self.cfg.domain}"
        if faulty and self.faults.on("client.cpim-wrong-to"):
            cpim_to = self.cfg.user
        return bodies.cpim_wrapper(
            from_uri=cpim_from,
            to_uri=cpim_to,
            content_type=content_type,
            content=text.encode("utf-8"),
            message_id=new_token_id(),
            disposition=disposition,
        )

    async def _send_message(
        self, record: Record, request_uri: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        branch = new_branch()
        raw = build_request(
            "MESSAGE",
            request_uri,
            via=self.node.via(branch),
            from_=f"<{self.cfg.user}>;tag={new_tag()}",
            to=f"<{request_uri}>",
            call_id=record.call_id,
            cseq=1,
            headers=headers,
            body=body,
        )
        resp = await self.node.request(raw, branch, self.sip_timeout)
        if resp is None:
            return
        record.status = resp.status
        uid = resp.header("Message-UID")
        if self.faults.on("client.drop-uid-from-200"):
            uid = None
        if uid is not None and 200 <= resp.status < 300:
            try:
                record.message_uid = MessageUID.parse(uid).value  # TS 7.2.1.1-17
            except CodecError as exc:
                log.warning("bad Message-UID in %s: %s", resp.summary(), exc)

    # -- receiving (TS 7.2.2.1, 7.2.2.3) -----------------------------------------------------

    def _on_ack(self, msg: SipMessage) -> None:
        self.large.ack(msg)

    async def _on_request(self, txn: ServerTransaction) -> None:
        req = txn.request
        if req.method == "MESSAGE":
            await self._message(txn)
        elif req.method == "OPTIONS":
            await txn.reply(
                200,
                headers=[
                    ("Allow", ALLOW),
                    ("Accept", "message/cpim, multipart/mixed"),
                    ("Server", self.cfg.release),
                ],
            )
        elif req.method == "INVITE":
            await self.large.invite(txn)
        elif req.method == "NOTIFY":
            await self.deferred.notify(txn)
        elif req.method == "BYE":
            if not await self.large.bye(txn):
                await txn.reply(481)
        elif req.method == "CANCEL":
            invite = self.node.find_invite(req)
            await txn.reply(200 if invite is not None else 481)
            self.large.cancel(invite)  # 487 to the INVITE if it is still pending
        else:
            await txn.reply(405, headers=[("Allow", ALLOW)])

    @staticmethod
    def _icsi_ok(req: SipMessage) -> bool:
        try:
            sets = [AcceptContact.parse(v) for v in req.header_list("Accept-Contact")]
        except CodecError:
            return False
        return any(s.has_icsi(ICSI_MSG) or s.has_icsi(ICSI_DEFERRED) for s in sets)

    async def _message(self, txn: ServerTransaction) -> None:
        req = txn.request
        if self.deferred.refuses(req):
            await txn.reply(403)
            return
        if not self._icsi_ok(req):
            # The core routes only CPM requests here; accept anyway, but say so in the log.
            log.info("MESSAGE %s without the msg/deferred ICSI accepted", req.call_id)
        cpim = None
        content_type = req.content_type
        text_bytes = req.body
        if content_type == "message/cpim":
            try:
                cpim = CpimMessage.parse(req.body)
            except CodecError as exc:
                await txn.reply(400, f"Bad CPIM body ({exc.detail})"[:100])
                return
            content_type, text_bytes = cpim.content_type, cpim.body
        uid = None
        if req.header("Message-UID") is not None and not self.faults.on("client.drop-message-uid"):
            try:
                uid = MessageUID.parse(req.header("Message-UID") or "").value
            except CodecError as exc:
                log.warning("bad Message-UID on %s: %s", req.call_id, exc)

        echo = headers_named(req, CPM_IDS)
        if self.faults.on("client.no-conversation-id-echo"):
            echo = [(n, v) for n, v in echo if n.lower() != "conversation-id"]
        headers = echo + (
            [] if self.faults.on("client.no-server-header") else [("Server", self.cfg.release)]
        )
        # The MAY of 7.2.2.1 step 3: name the user's own address as the answering identity.
        who = (
            FOREIGN_IDENTITY if self.faults.on("client.foreign-identity-in-200") else self.cfg.user
        )
        headers.append(("P-Preferred-Identity", f"<{who}>"))
        status = 202 if self.faults.on("client.message-answer-202") else 200
        await txn.reply(status, headers=headers)

        self.keep_received(req, cpim, content_type, text_bytes, uid)

    def keep_received(
        self,
        req: SipMessage,
        cpim: CpimMessage | None,
        content_type: str | None,
        text_bytes: bytes,
        uid: int | None,
        mode: str = "pager",
    ) -> Record:
        """Keep a received message (pager or large mode) for /messages and, as TS 7.2.2.3
        asks, send the delivery IMDN its sender requested."""
        record = self._keep(
            Record(
                id=self._next_id(),
                direction="received",
                call_id=req.call_id,
                from_=header_uri(req, "From"),
                to=header_uri(req, "To"),
                conversation_id=req.header("Conversation-ID"),
                contribution_id=req.header("Contribution-ID"),
                in_reply_to=req.header("InReplyTo-Contribution-ID"),
                reply_to=header_uri(req, "Reply-To"),
                content_type=content_type,
                text=text_bytes.decode("utf-8", errors="replace"),
                message_uid=uid,
                mode=mode,
                status=200,
                originator=originator(req),
            )
        )
        if (
            cpim is not None
            and content_type != "message/imdn+xml"
            and "positive-delivery" in cpim.disposition_notification()
            and not self.faults.on("client.no-delivery-imdn")
        ):
            self.node.spawn(self._send_delivery_imdn(record, cpim), name="client-imdn")
        return record

    async def _send_delivery_imdn(self, original: Record, cpim: CpimMessage) -> None:
        """TS 7.2.2.3 step 3 / RFC 5438: tell the sender the message was delivered."""
        sender = cpim.from_address()
        target = sender.uri if sender is not None else original.originator
        if self.faults.on("client.imdn-to-recipient"):
            target = self.cfg.user  # the CPIM From and To mixed up
        if target is None or cpim.imdn_message_id() is None:
            log.warning("cannot send a delivery IMDN for %s: no sender or Message-ID", original.id)
            return
        recipients = cpim.to_addresses()
        document = bodies.delivery_imdn(
            message_id=cpim.imdn_message_id() or "",
            date_time=cpim.header("DateTime"),
            recipient=self.cfg.user,
            original_recipient=recipients[0].uri if recipients else self.cfg.user,
        )
        wrapper = bodies.cpim_wrapper(
            from_uri=self.cfg.user,
            to_uri=target,
            content_type="message/imdn+xml",
            content=document,
            message_id=new_token_id(),
            mime_headers=[("Content-Disposition", "notification")],
        )
        contribution = original.contribution_id
        if contribution is None or self.faults.on("client.imdn-new-contribution-id"):
            contribution = new_token_id()
        conversation = original.conversation_id or new_token_id()
        headers = self._common_headers() + [
            ("Conversation-ID", conversation),
            ("Contribution-ID", contribution),
            ("Content-Type", "message/cpim"),
        ]
        record = self._keep(
            Record(
                id=self._next_id(),
                direction="sent",
                call_id=new_call_id(self.node.address[0]),
                from_=self.cfg.user,
                to=target,
                conversation_id=conversation,
                contribution_id=contribution,
                in_reply_to=None,
                reply_to=None,
                content_type="message/imdn+xml",
                text=document.decode("utf-8"),
                message_uid=None,
            )
        )
        await self._send_message(record, target, headers, wrapper)

    def describe(self) -> str:
        return f"client {self.cfg.user} at {format_address(self.address)}"
