"""How the reference PF learns registrations: it writes them into the binding table
(:mod:`refsut.pf_bindings`) that its other sections read.

Owns the registrar (:class:`Registrar`: direct REGISTER, the PF handing out public GRUUs per
RFC 5627) and the two modes besides direct REGISTER (``[pf] registration`` in the refsut
config):

* ``third-party``: the SIP/IP core sends the PF a REGISTER on a device's behalf (3GPP TS
  24.229 style) with the device's own REGISTER as a ``message/sip`` body; the PF takes the
  address of record, Contact and expiry from that inner request;
* ``reg-event``: the PF subscribes to the reg event package (RFC 3680) of every provisioned
  user at the core and rebuilds the user's bindings from each NOTIFY's reginfo, public GRUUs
  included (RFC 5628). A SUBSCRIBE that gets no 2xx is sent again a little later, so the PF
  subscribes whenever the core starts answering.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import ContactFeatures, Expires
from cpmconf.codec.reginfo import RegInfo
from cpmconf.codec.sip import SipMessage

from .bodies import body_part
from .config import UserConfig
from .pf_bindings import Binding
from .pf_context import PfContext
from .sipcore import ServerTransaction, build_request, new_branch, new_call_id, new_tag, uri_key

log = logging.getLogger("refsut.pf.registration")

DEFAULT_EXPIRES = 3600
MAX_EXPIRES = 7 * 24 * 3600
SUPPORTED_OPTIONS = ("gruu",)
SUBSCRIBE_EXPIRES = 3600
RETRY = 1.0  # seconds before a SUBSCRIBE without a 2xx is sent again


def embedded_register(req: SipMessage) -> SipMessage | None:
    """The device's REGISTER inside a third-party REGISTER, or None."""
    inner = body_part(req.header("Content-Type"), req.body, "message/sip")
    if inner is None:
        return None
    try:
        msg = SipMessage.parse(inner)
    except CodecError:
        return None
    return msg if msg.is_request and msg.method == "REGISTER" else None


class Registrar:
    """The PF as registrar for its domain: a device's REGISTER (or, in ``third-party`` mode,
    the one embedded in the core's) writes the binding table; the 200 lists each live
    binding with its expiry and public GRUU (RFC 5627). ``registered(user)`` is called once
    the user has a binding (push what waits for it)."""

    def __init__(self, pf: PfContext, *, registered: Callable[[UserConfig], None]) -> None:
        self.pf = pf
        self.registered = registered

    async def register(self, txn: ServerTransaction) -> None:
        req = txn.request
        if self.pf.cfg.registration == "third-party":
            # The core registered the device; the device's own REGISTER is the body.
            inner = embedded_register(req)
            if inner is None:
                await txn.reply(400, "Third-party REGISTER without the device's REGISTER")
                return
            req = inner
        try:
            aor = req.to_addr.uri
        except CodecError:
            await txn.reply(400, "Bad To header")
            return
        user_key = uri_key(aor)
        user = self.pf.users.get(user_key)
        if user is None:
            await txn.reply(404)
            return
        try:
            default = DEFAULT_EXPIRES
            if req.header("Expires") is not None:
                default = Expires.parse(req.header("Expires")).seconds
            contacts = req.header_list("Contact")
        except CodecError as exc:
            await txn.reply(400, f"Bad {exc.what}")
            return
        loop = asyncio.get_running_loop()
        table = self.pf.bindings.table(user_key)
        if contacts == ["*"]:
            if default != 0:
                await txn.reply(400, "Wildcard Contact needs Expires 0")
                return
            table.clear()
        else:
            for text in contacts:
                try:
                    contact = ContactFeatures.parse(text)
                except CodecError as exc:
                    await txn.reply(400, f"Bad Contact ({exc.detail})"[:100])
                    return
                if contact.uri is None:
                    await txn.reply(400, "Wildcard Contact mixed with others")
                    return
                expires = default
                if contact.param("expires") is not None:
                    try:
                        expires = Expires.parse(contact.param("expires") or "").seconds
                    except CodecError:
                        await txn.reply(400, "Bad Contact expires")
                        return
                expires = min(expires, MAX_EXPIRES)
                instance = contact.param("+sip.instance")
                if instance is not None and not instance.startswith("<"):
                    instance = f"<{instance}>"
                keep = ("expires", "pub-gruu", "temp-gruu")
                binding = Binding(
                    contact_uri=contact.uri,
                    contact_text=contact.target,
                    params=tuple((k, v) for k, v in contact.params if k.lower() not in keep),
                    instance=instance,
                    expires_at=loop.time() + expires,
                )
                if expires == 0:
                    table.pop(binding.key, None)
                else:
                    table[binding.key] = binding
        headers: list[tuple[str, str]] = []
        now = loop.time()
        for b in self.pf.bindings.live(user_key):
            params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in b.params)
            text = b.contact_text + params
            text += f";expires={max(0, round(b.expires_at - now))}"
            gruu = self.pf.bindings.gruu(user, b)
            if gruu is not None:
                text += f';pub-gruu="{gruu}"'
            headers.append(("Contact", text))
        headers.append(("Supported", ", ".join(SUPPORTED_OPTIONS)))
        log.info("registered %s: %d binding(s)", user.uri, len(table))
        await txn.reply(200, headers=headers)
        if table:
            self.registered(user)  # push what waits for this user, if anything


class RegEventSubscriber:
    """The PF's reg-event subscriptions, one per provisioned user; built with the PF's
    shared :class:`PfContext` and what to do once a user has a binding (``registered``)."""

    def __init__(self, pf: PfContext, *, registered: Callable[[UserConfig], None]) -> None:
        self.pf = pf
        self.registered = registered
        self.dialogs: dict[str, str] = {}  # Call-ID of the subscription -> user key

    def start(self) -> None:
        for user in self.pf.cfg.users:
            self.pf.node.spawn(self._subscribe(user), name="pf-reg-subscribe")

    async def _subscribe(self, user: UserConfig) -> None:
        pf = self.pf
        branch = new_branch()
        call_id = new_call_id(pf.node.address[0])
        self.dialogs[call_id] = uri_key(user.uri)
        raw = build_request(
            "SUBSCRIBE",
            user.uri,
            via=pf.node.via(branch),
            from_=f"<{pf.cfg.server_identity}>;tag={new_tag()}",
            to=f"<{user.uri}>",
            call_id=call_id,
            cseq=1,
            headers=[
                ("Event", "reg"),
                ("Accept", "application/reginfo+xml"),
                ("Expires", str(SUBSCRIBE_EXPIRES)),
                ("Contact", pf.contact()),
                ("User-Agent", pf.cfg.release),
            ],
        )
        resp = await pf.node.request(raw, branch, pf.leg_timeout)
        if resp is None or not 200 <= (resp.status or 0) < 300:
            self.dialogs.pop(call_id, None)
            log.info("reg-event SUBSCRIBE for %s: %s; again later", user.uri, resp and resp.status)
            pf.node._later(RETRY, lambda: pf.node.spawn(self._subscribe(user)))
            return
        log.info("subscribed to the reg event of %s", user.uri)

    async def notify(self, txn: ServerTransaction) -> bool:
        """Handle a reg-event NOTIFY; False when it belongs to no subscription of ours."""
        req = txn.request
        user_key = self.dialogs.get(req.call_id)
        if user_key is None:
            return False
        user = self.pf.users.get(user_key)
        try:
            doc = RegInfo.parse(req.body)
        except CodecError as exc:
            await txn.reply(400, f"Bad reginfo ({exc.detail})"[:100])
            return True
        await txn.reply(200)
        if user is not None:
            self._apply(user, doc)
        return True

    def _apply(self, user: UserConfig, doc: RegInfo) -> None:
        loop = asyncio.get_running_loop()
        table = self.pf.bindings.table(uri_key(user.uri))
        reg = next((r for r in doc.registrations if uri_key(r.aor) == uri_key(user.uri)), None)
        if reg is None:
            return
        if doc.state == "full":
            table.clear()
        for c in reg.contacts:
            instance = c.instance
            if instance is not None and not instance.startswith("<"):
                instance = f"<{instance}>"
            binding = Binding(
                contact_uri=c.uri,
                contact_text=f"<{c.uri}>",
                params=(),
                instance=instance,
                expires_at=loop.time() + (c.expires if c.expires is not None else 3600),
                pub_gruu=c.pub_gruu,
            )
            if c.state == "active":
                table[binding.key] = binding
            else:
                table.pop(binding.key, None)
        log.info("reg event of %s: %d binding(s)", user.uri, len(table))
        if table:
            self.registered(user)
