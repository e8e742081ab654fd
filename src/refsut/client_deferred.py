"""The CPM Client's side of deferred (queued) messages: the one-time subscription to the
``deferred-messages`` event package (TS 7.2.3.1) and the handling INVITE (TS 7.2.3.2.1).

Subscribing: a SUBSCRIBE with ``Expires: 0`` to the provisioned CPMDeferredMsgMgmt address,
the deferred ICSI in Accept-Contact, Contact and P-Preferred-Service; the NOTIFY that follows
is answered 200 and the Message-URI-IDs it lists are kept. Handling: an INVITE to the same
address, an SDP offer that is ``recvonly`` with ``accept-types:message/cpim text/plain`` (the
further format uses the MAY of step 6b; no media is ever set up, NOTE 3), and, unless every
message is wanted, an RFC 5366 resource list whose entries carry ``?cpm_action=...``. A 488
with Warning text ``125 No messages`` ends the attempt; a 200 is acknowledged and the session
is ended at once with a BYE. The messages the PF then delivers arrive through the ordinary
receive paths of the client.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import xml.etree.ElementTree as ET
from typing import Any

import defusedxml
import defusedxml.ElementTree as DET

from cpmconf.codec.deferred_messages import DeferredList
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import AcceptContact, warnings_of
from cpmconf.codec.resource_lists import CPM_ACTIONS
from cpmconf.codec.sip import SipMessage

from . import bodies, wire
from .client_context import ClientContext
from .sipcore import Dialog, ServerTransaction, build_request, new_branch, new_call_id, new_tag

log = logging.getLogger("refsut.client.deferred")

ICSI_MSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
ICSI_DEFERRED = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.deferred"
EVENT_PACKAGE = "deferred-messages"  # D-event-package
NO_MESSAGES = 125  # OMA warning code of the 488 that says nothing matched
FOREIGN_IDENTITY = "sip:someone-else@example.org"  # used only by the identity fault switch
MALFORMED_TYPE = "text/"  # a further accept-type without a subtype (a fault switch)
FURTHER_TYPE = "text/plain"  # a valid further one, so the condition of step 6b is judged
# The fault switches that misname one action, keyed by the action they break.
MISNAMED = {
    "deliver": ("client.handling-deliver-misnamed", "retrieve"),
    "delete": ("client.handling-delete-misnamed", "discard"),
    "interwork": ("client.handling-interwork-misnamed", "deliver"),
    "store": ("client.handling-store-misnamed", "deliver"),
}


class DeferredError(Exception):
    """A control request that cannot be carried out; ``status`` is the HTTP status."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def is_deferred(req: SipMessage) -> bool:
    """The request carries the deferred ICSI in Accept-Contact (a deferred delivery)."""
    try:
        sets = [AcceptContact.parse(v) for v in req.header_list("Accept-Contact")]
    except CodecError:
        return False
    return any(s.has_icsi(ICSI_DEFERRED) for s in sets)


def message_uri_ids(body: bytes) -> list[str]:
    """The Message-URI-IDs a deferred-messages NOTIFY body lists.

    Our own document (:mod:`cpmconf.codec.deferred_messages`) first; failing that, read
    loosely: any element or attribute called ``message-uri-id`` (any namespace, any case).
    """
    if not body.strip():
        return []
    try:
        return DeferredList.parse(body).ids()
    except CodecError:
        pass
    try:
        root = DET.fromstring(body, forbid_dtd=True)
    except (defusedxml.DefusedXmlException, ET.ParseError, ValueError) as exc:
        raise CodecError("deferred-messages body", f"unreadable XML ({exc})") from exc
    found: list[str] = []

    def local(name: str) -> str:
        return name.rsplit("}", 1)[-1].lower()

    for el in root.iter():
        if local(el.tag) == "message-uri-id" and (el.text or "").strip():
            found.append((el.text or "").strip())
        for name, value in el.attrib.items():
            if local(name) == "message-uri-id" and value.strip():
                found.append(value.strip())
    return list(dict.fromkeys(found))


class DeferredHandling:
    """Subscription and handling of deferred messages; one per client, built with the
    client's shared :class:`ClientContext`."""

    def __init__(self, client: ClientContext) -> None:
        self.client = client
        self.known: list[str] = []  # Message-URI-IDs learnt from NOTIFYs, in order
        self.notifies = 0
        self.handled: list[dict[str, Any]] = []  # one entry per handling attempt

    @property
    def cfg(self):
        return self.client.cfg

    def on(self, fault: str) -> bool:
        return self.client.faults.on(fault)

    def reset(self) -> None:
        self.known.clear()
        self.notifies = 0
        self.handled.clear()

    def refuses(self, req: SipMessage) -> bool:
        """The fault switch: a deferred delivery after a handling INVITE is refused."""
        return (
            self.on("client.reject-deferred-delivery") and bool(self.handled) and is_deferred(req)
        )

    def view(self) -> dict[str, Any]:
        return {"message_uri_ids": list(self.known), "notifies": self.notifies}

    def _target(self, fault: str) -> str:
        return f"sip:deferred@{self.cfg.domain}" if self.on(fault) else self.cfg.deferred_uri

    def _contact(self, fault: str) -> str:
        node = self.client.node
        user_part = self.cfg.user.split(":", 1)[1].split("@", 1)[0]
        transport = ";transport=tcp" if self.cfg.transport == "tcp" else ""
        contact = f"<sip:{user_part}@{node.hostport}{transport}>"
        if not self.on(fault):
            contact += f';+g.3gpp.icsi-ref="{wire.icsi_ref(ICSI_DEFERRED)}"'
        return contact

    def _service_headers(
        self, accept_fault: str, pps_fault: str, identity_fault: str | None = None
    ) -> list[tuple[str, str]]:
        icsi = ICSI_MSG if self.on(accept_fault) else ICSI_DEFERRED
        headers = [("Accept-Contact", f'*;+g.3gpp.icsi-ref="{wire.icsi_ref(icsi)}"')]
        if not self.on(pps_fault):
            headers.append(("P-Preferred-Service", ICSI_DEFERRED))
        # The MAY of 7.2.3.1 step 1d: the user's own address, or with the switch another one.
        identity = self.cfg.user
        if identity_fault is not None and self.on(identity_fault):
            identity = FOREIGN_IDENTITY
        headers += [
            ("P-Preferred-Identity", f"<{identity}>"),
            ("User-Agent", self.cfg.release),
        ]
        return headers

    # -- subscription (TS 7.2.3.1) -----------------------------------------------------------

    async def subscribe(self) -> dict[str, Any]:
        client = self.client
        target = self._target("client.subscribe-wrong-request-uri")
        event = "deferred" if self.on("client.subscribe-wrong-event") else EVENT_PACKAGE
        expires = "3600" if self.on("client.subscribe-expires-nonzero") else "0"
        from_ = f"<{self.cfg.user}>"
        if not self.on("client.subscribe-no-from-tag"):
            from_ += f";tag={new_tag()}"
        raw, branch = client.node.new_request(
            "SUBSCRIBE",
            target,
            from_=from_,
            to=f"<{target}>",
            headers=[
                ("Contact", self._contact("client.subscribe-contact-no-icsi")),
                *self._service_headers(
                    "client.subscribe-no-accept-contact-icsi",
                    "client.subscribe-no-p-preferred-service",
                    "client.subscribe-foreign-identity",
                ),
                ("Event", event),
                ("Expires", expires),
                ("Accept", wire.DEFERRED_TYPE),
            ],
        )
        resp = await client.node.request(raw, branch, client.sip_timeout)
        return {"ok": True, "status": None if resp is None else resp.status}

    async def notify(self, txn: ServerTransaction) -> None:
        """A NOTIFY of the deferred-messages package: answer it and keep what it lists."""
        req = txn.request
        event = (req.header("Event") or "").split(";", 1)[0].strip().lower()
        if event != EVENT_PACKAGE:
            await txn.reply(489)  # RFC 6665: Bad Event
            return
        try:
            ids = message_uri_ids(req.body)
        except CodecError as exc:
            await txn.reply(400, f"Unreadable deferred-messages body ({exc.detail})"[:100])
            return
        await txn.reply(200, headers=[("Server", self.cfg.release)])
        self.notifies += 1
        for uri in ids:
            if uri not in self.known:
                self.known.append(uri)

    # -- handling (TS 7.2.3.2.1) -------------------------------------------------------------

    def _entries(self, actions: list[tuple[str, str]]) -> list[str]:
        """The entry URIs of the handling list: each message with its cpm_action."""
        entries = []
        for i, (uri, action) in enumerate(actions):
            fault, wrong = MISNAMED[action]
            word = wrong if self.on(fault) else action
            if i == 0 and self.on("client.handling-action-dropped"):
                entries.append(uri)
            else:
                entries.append(wire.with_action(uri, word))
        return entries

    def _offer(self) -> bytes:
        # No media is set up (NOTE 3), but the offer still names a path of our MSRP listener.
        host, port = self.client.msrp.address
        path = wire.msrp_uri(host, port, wire.new_ident(), secure=self.client.msrp.secure)
        no_types = self.on("client.handling-no-accept-types")
        accept_types = [] if no_types else ["message/cpim", FURTHER_TYPE]
        if accept_types and self.on("client.handling-malformed-accept-type"):
            accept_types.append(MALFORMED_TYPE)
        offer = wire.sdp_msrp(
            host=host,
            path=path,
            accept_types=accept_types,
            setup="active",
            direction="sendrecv" if self.on("client.handling-sendrecv") else "recvonly",
            session_id=secrets.randbelow(2**31),
        )
        if self.on("client.handling-offer-no-path"):
            offer = b"".join(
                line for line in offer.splitlines(keepends=True) if not line.startswith(b"a=path:")
            )
        return offer

    def parse_actions(self, args: Any) -> list[tuple[str, str]] | None:
        """``{}`` (every message) or ``{"actions": [{"uri": ..., "action": ...}, ...]}``."""
        if not isinstance(args, dict) or set(args) - {"actions"}:
            raise DeferredError(400, 'body must be {} or {"actions": [{"uri", "action"}, ...]}')
        if "actions" not in args:
            return None
        raw = args["actions"]
        if not isinstance(raw, list) or not raw:
            raise DeferredError(400, "actions: expected a non-empty list")
        out = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or set(item) != {"uri", "action"}:
                raise DeferredError(400, f"actions[{i}]: expected {{uri, action}}")
            uri, action = item["uri"], item["action"]
            if not isinstance(uri, str) or not uri.startswith(("sip:", "sips:")):
                raise DeferredError(400, f"actions[{i}].uri: expected a SIP URI")
            if action not in CPM_ACTIONS:
                raise DeferredError(400, f"actions[{i}].action: one of {', '.join(CPM_ACTIONS)}")
            out.append((uri, action))
        return out

    async def handle(self, args: Any) -> dict[str, Any]:
        """Carry out one /deferred/handle request (docs/upper-tester.md)."""
        actions = self.parse_actions(args)
        result = await self._attempt(actions)
        if (
            result.get("status") == 488
            and result.get("no_messages")
            and self.on("client.handling-pursue-after-488")
        ):
            result = await self._attempt(actions)  # the broken client tries again
        self.handled.append(result)
        return {"ok": True, **result}

    async def _attempt(self, actions: list[tuple[str, str]] | None) -> dict[str, Any]:
        client = self.client
        target = self._target("client.handling-wrong-request-uri")
        headers = [
            ("Contact", self._contact("client.handling-contact-no-icsi")),
            *self._service_headers(
                "client.handling-no-accept-contact-icsi", "client.handling-no-p-preferred-service"
            ),
            ("Allow", "INVITE, ACK, BYE, CANCEL, MESSAGE, OPTIONS, NOTIFY"),
        ]
        offer = self._offer()
        if actions is not None and not self.on("client.handling-no-list"):
            listing = wire.resource_list(self._entries(actions))
            ctype, body = bodies.multipart_mixed(
                [
                    ([("Content-Type", "application/sdp")], offer),
                    (
                        [
                            ("Content-Type", "application/resource-lists+xml"),
                            ("Content-Disposition", "recipient-list"),
                        ],
                        listing,
                    ),
                ]
            )
            headers += [("Require", "recipient-list-invite"), ("Content-Type", ctype)]
        else:
            body = offer
            headers.append(("Content-Type", "application/sdp"))
        branch = new_branch()
        call_id = new_call_id(client.node.address[0])
        from_ = f"<{self.cfg.user}>"
        if not self.on("client.handling-no-from-tag"):
            from_ += f";tag={new_tag()}"
        raw = build_request(
            "INVITE",
            target,
            via=client.node.via(branch),
            from_=from_,
            to=f"<{target}>",
            call_id=call_id,
            cseq=1,
            headers=headers,
            body=body,
        )
        txn = await client.node.invite(raw, branch, client.sip_timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + client.sip_timeout
        final: SipMessage | None = None
        while final is None:
            resp = await txn.next_response(deadline - loop.time())
            if resp is None:
                break
            if resp.status >= 200:
                final = resp
        if final is None:
            return {"call_id": call_id, "status": None}
        result: dict[str, Any] = {"call_id": call_id, "status": final.status}
        if not 200 <= final.status < 300:
            result["no_messages"] = final.status == 488 and _says_no_messages(final)
            fault = "client.handling-no-ack-488" if final.status == 488 else None
            fault = fault or "client.handling-no-ack-error"
            if not self.on(fault):
                await txn.ack_non2xx(final)
            return result
        dialog = Dialog.as_uac(txn.request, final)
        if self.on("client.handling-no-ack-200"):
            return result
        await txn.ack_2xx(dialog)
        if self.on("client.handling-no-bye"):
            return result
        bye, bye_branch = dialog.build(client.node, "BYE", [("User-Agent", self.cfg.release)])
        bye_resp = await client.node.request(bye, bye_branch, client.sip_timeout)
        result["bye_status"] = None if bye_resp is None else bye_resp.status
        return result


def _says_no_messages(resp: SipMessage) -> bool:
    try:
        return any(w.oma_code() == NO_MESSAGES for w in warnings_of(resp.header_values("Warning")))
    except CodecError:
        return False
