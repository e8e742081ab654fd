"""The CPM Client's registration (TS 7.1): the REGISTER with its Contact (instance, CPM
ICSIs, methods), the Service-Route and public GRUU the 200 brings, the refresh halfway
through the granted period, and deregistration.

Built by :class:`~refsut.client.CpmClient` with its shared
:class:`~refsut.client_context.ClientContext`.
"""

from __future__ import annotations

import asyncio
import logging

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import ContactFeatures, Expires
from cpmconf.codec.sip import SipMessage

from . import wire
from .client_context import ALLOW, ClientContext
from .sipcore import build_request, new_branch, new_call_id, new_tag

log = logging.getLogger("refsut.client")

ICSI_MSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
ICSI_LARGE = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.largemsg"
ICSI_DEFERRED = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.deferred"


class Registration:
    """The client's registration state; ``registered`` and ``gruu`` as the last 200 left them."""

    def __init__(self, ctx: ClientContext) -> None:
        self.cfg = ctx.cfg
        self.faults = ctx.faults
        self.node = ctx.node
        self.sip_timeout = ctx.sip_timeout
        self.registered = False
        self.gruu: str | None = None
        self._reg_call_id = ""
        self._reg_tag = new_tag()
        self._reg_cseq = 0
        self._reg_lock = asyncio.Lock()
        self._refresh: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Once the node is bound: the registration's Call-ID names the client's host."""
        self._reg_call_id = new_call_id(self.node.address[0])

    def close(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()

    def contact(self) -> str:
        """The registered Contact: +sip.instance, the CPM ICSIs and the SIP methods it takes
        as RFC 3840 feature parameters (TS 7.1 steps 2, 3 and 6)."""
        user_part = self.cfg.user.split(":", 1)[1].split("@", 1)[0]
        transport = ";transport=tcp" if self.cfg.transport == "tcp" else ""
        icsi = ",".join(wire.icsi_ref(u) for u in (ICSI_MSG, ICSI_LARGE, ICSI_DEFERRED))
        params = []
        if not self.faults.on("client.register-no-instance"):
            params.append(f'+sip.instance="{self.cfg.instance}"')
        if not self.faults.on("client.register-no-capabilities"):
            if not self.faults.on("client.register-no-icsi"):
                params.append(f'+g.3gpp.icsi-ref="{icsi}"')
            params.append(f'methods="{ALLOW.replace(" ", "")}"')
        return f"<sip:{user_part}@{self.node.hostport}{transport}>" + "".join(
            f";{p}" for p in params
        )

    async def register(self, expires: int = 3600) -> int | None:
        async with self._reg_lock:
            if self._refresh is not None:
                self._refresh.cancel()
                self._refresh = None
            self._reg_cseq += 1
            branch = new_branch()
            registrar = f"sip:{self.cfg.domain}"  # RFC 3261 10.2: no user part
            if self.faults.on("client.register-user-in-request-uri"):
                registrar = self.cfg.user
            own_expiry = self.faults.on("client.reregister-on-own-expiry")
            # baresip's way: the expiry asked for in the Contact, not in an Expires header
            contact = self.contact() + (f";expires={expires}" if own_expiry else "")
            headers = [("Contact", contact)]
            if not self.faults.on("client.register-no-supported-gruu"):
                headers.append(("Supported", "gruu"))
            if not self.faults.on("client.register-no-require-gruu"):
                headers.append(("Require", "gruu"))  # as 000 7.1 step 5 writes (D-require-gruu)
            raw = build_request(
                "REGISTER",
                registrar,
                via=self.node.via(branch),
                from_=f"<{self.cfg.user}>;tag={self._reg_tag}",
                to=f"<{self.cfg.user}>",
                call_id=self._reg_call_id,
                cseq=self._reg_cseq,
                headers=[
                    *headers,
                    *([] if own_expiry else [("Expires", str(expires))]),
                    ("User-Agent", self.cfg.release),
                ],
            )
            resp = await self.node.request(raw, branch, self.sip_timeout)
            if resp is None:
                return None
            if 200 <= resp.status < 300:
                self.registered = expires > 0
                # RFC 3608 6: each registration's Service-Route replaces the last one.
                self.node.service_route = (
                    resp.header_list("Service-Route") if self.registered else []
                )
                granted = self._granted(resp, expires)
                if own_expiry:
                    granted = expires  # refreshes on what it asked for, not on the grant
                if self.registered and granted > 0 and not self.faults.on("client.no-reregister"):
                    loop = asyncio.get_running_loop()
                    # refresh halfway through the granted period (TS 7.1 re-registration)
                    self._refresh = loop.call_later(granted / 2, self._refresh_now, expires)
                if not self.registered:
                    self.gruu = None
            return resp.status

    def _granted(self, resp: SipMessage, asked: int) -> int:
        try:
            for text in resp.header_list("Contact"):
                c = ContactFeatures.parse(text)
                if c.param("+sip.instance") in (self.cfg.instance, self.cfg.instance[1:-1]):
                    self.gruu = c.param("pub-gruu")
                    if c.param("expires") is not None:
                        return Expires.parse(c.param("expires") or "").seconds
            if resp.header("Expires") is not None:
                return Expires.parse(resp.header("Expires") or "").seconds
        except CodecError as exc:
            log.warning("unreadable REGISTER response (%s); using the asked expiry", exc)
        return asked

    def _refresh_now(self, expires: int) -> None:
        self._refresh = None
        self.node.spawn(self.register(expires), name="client-reregister")

    async def deregister(self) -> int | None:
        status = await self.register(3600 if self.faults.on("client.deregister-nonzero") else 0)
        if status is not None and 200 <= status < 300:
            self.registered = False
        return status
