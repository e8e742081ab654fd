"""How a PF SUT learns registrations, played from the core's side (TS 8.1.3 as the drafts
use it; RFC 3680 with RFC 5628 GRUUs; third-party REGISTER of 3GPP TS 24.229).

Owns the registration of one simulated device at a PF SUT in the mode its target profile
names (`[pf] registration`):

* ``direct``: the device's REGISTER goes to the PF, which is the registrar and returns the
  public GRUU in the 200;
* ``third-party``: the core registers the device on its own and sends the PF a REGISTER on
  the device's behalf, with the device's REGISTER as a ``message/sip`` body;
* ``reg-event``: the PF has subscribed to the reg event of each user at the core; the core
  answers that SUBSCRIBE (once; the subscription lives for the run) and sends a full-state
  NOTIFY with the user's registered contacts, their ``+sip.instance`` and public GRUUs after
  every change; the reginfo document is rendered from `scenarios/bodies/reginfo.xml.j2`.

In the last two modes the core is the registrar, so it assigns the public GRUU itself:
``<aor>;gr=<instance URN>`` (RFC 5627 section 3.1). Every wait is bounded by the guard time.

The core (`cpmconf.roles.network`) calls in here and owns the `RegState`; this module only
needs the few things of the core that `CoreSide` names, so it never imports the core.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cpmconf.codec.reginfo import RegContact, Registration
from cpmconf.codec.sip import SipMessage
from cpmconf.codec.uri import same_gruu
from cpmconf.roles.devices import SimDevice, pub_gruu
from cpmconf.roles.errors import NoAnswer, SetupError, SetupRefused

REGISTRAR = "sip:scscf@core.invalid"  # the identity of the core's registrar (S-CSCF)
EXPIRES = 600


@dataclass
class Subscription:
    """The reg-event subscription the PF holds at the core for one user."""

    user: str
    subscribe: SipMessage
    to_tag: str
    version: int = 0
    cseq: int = 0


@dataclass
class RegState:
    """What the core knows: subscriptions and the registered devices of each user."""

    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    registered: dict[str, dict[str, SimDevice]] = field(default_factory=dict)


class CoreSide(Protocol):
    """What registering a device needs of the core (`cpmconf.roles.network.Core`)."""

    profile: Any
    sut_pf: Any
    regstate: RegState

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def guard(self) -> float: ...

    def render(self, name: str, body: bytes | str = b"", **context) -> Any: ...

    async def transact(self, stimulus: Any, remote: Any) -> Any: ...

    async def wait(self, predicate: Callable[[SipMessage], bool], what: str) -> SipMessage: ...

    async def respond(self, request: SipMessage, status: int, reason: str, **kwargs) -> Any: ...


def _state(core: CoreSide) -> RegState:
    return core.regstate


def mode(core: CoreSide) -> str:
    return getattr(core.profile.pf, "registration", "direct")


def public_gruu(user: str, instance: str) -> str:
    return f"{user};gr={instance.strip('<>')}"


async def register_device(core: CoreSide, user: str, dev, expires: int = EXPIRES) -> SimDevice:
    """Register (expires 0: deregister) one provisioned device of `user` at the PF."""
    if core.sut_pf is None:
        raise SetupError("no PF address: the profile has no [pf] table")
    d = SimDevice(user, dev.name, dev.instance, dev.selected)
    d.contact = f"sip:{dev.name}@{core.host}:{core.port}"
    how = mode(core)
    device_register = core.render(
        "pf/register_device.sip.j2",
        user=user,
        domain=core.profile.pf.domain,
        contact=d.contact,
        instance=dev.instance,
        expires=expires,
    )
    if how == "direct":
        ex = await core.transact(device_register, core.sut_pf)
        if ex.final is None or ex.final.status != 200:
            raise _refused(ex, f"the REGISTER of device {dev.name}", core.guard)
        d.gruu = pub_gruu(ex.final, dev.instance) if expires else None
        return d
    # The core is the registrar here: it hands out a GRUU unless the profile says none.
    d.gruu = public_gruu(user, dev.instance) if core.profile.pf.gruu else None
    if how == "third-party":
        stim = core.render(
            "pf/third_party_register.sip.j2",
            body=device_register.raw,
            domain=core.profile.pf.domain,
            registrar=REGISTRAR,
            user=user,
            expires=expires,
        )
        ex = await core.transact(stim, core.sut_pf)
        if ex.final is None or ex.final.status != 200:
            raise _refused(ex, f"the third-party REGISTER for {dev.name}", core.guard)
        return d
    if how == "reg-event":
        state = _state(core)
        devices = state.registered.setdefault(user, {})
        if expires:
            devices[dev.name] = d
        else:
            devices.pop(dev.name, None)
        sub = await subscribed(core, user)
        await notify(core, sub, list(devices.values()))
        return d
    raise SetupError(f"[pf] registration = {how!r} is not one of direct, third-party, reg-event")


async def subscribed(core: CoreSide, user: str) -> Subscription:
    """The PF's reg-event subscription for `user`, answering its SUBSCRIBE if still open."""
    state = _state(core)
    sub = state.subscriptions.get(user)
    if sub is not None:
        return sub

    def is_subscribe(m: SipMessage) -> bool:
        return (
            m.is_request
            and m.method == "SUBSCRIBE"
            and (m.header("Event") or "").split(";")[0].strip().lower() == "reg"
            and same_gruu(m.request_uri, user)  # the AOR, not a device's GRUU
        )

    req = await core.wait(is_subscribe, f"the PF's reg-event SUBSCRIBE for {user}")
    to_tag = "reg" + str(len(state.subscriptions) + 1)
    await core.respond(
        req,
        200,
        "OK",
        headers=[("Expires", "3600"), ("Contact", f"<sip:scscf@{core.host}:{core.port}>")],
        to_tag=to_tag,
    )
    sub = Subscription(user, req, to_tag)
    state.subscriptions[user] = sub
    return sub


async def notify(core: CoreSide, sub: Subscription, devices: list[SimDevice]) -> None:
    """A full-state NOTIFY of `devices` in the subscription; its 200 is awaited."""
    contacts = tuple(
        RegContact(
            id=f"c-{d.name}",
            state="active",
            event="registered",
            uri=d.contact,
            expires=EXPIRES,
            instance=d.instance,
            pub_gruu=d.gruu,
        )
        for d in devices
    )
    doc = core.templates.render_body(
        "bodies/reginfo.xml.j2",
        version=sub.version,
        state="full",
        registrations=[
            Registration(
                sub.user, "r-" + sub.user.split(":")[-1], "active" if contacts else "init", contacts
            )
        ],
    )
    sub.version += 1
    sub.cseq += 1
    req = sub.subscribe
    contact = req.header("Contact") or req.header("From") or ""
    target = contact[contact.index("<") + 1 : contact.index(">")] if "<" in contact else contact
    stim = core.render(
        "pf/notify_reg.sip.j2",
        body=doc,
        target=target.split(";")[0] if "<" not in contact else target,
        from_=f"{req.header('To')};tag={sub.to_tag}",
        to=req.header("From"),
        dialog_call_id=req.call_id,
        cseq=sub.cseq,
        expires=3600,
    )
    ex = await core.transact(stim, core.sut_pf)
    if ex.final is None or not 200 <= ex.final.status < 300:
        raise _refused(ex, f"the reg-event NOTIFY for {sub.user}", core.guard)


def _refused(ex, what: str, guard: float) -> Exception:
    """The error for a registration step the PF did not accept: its final error status as a
    refusal (the device cannot be registered), or no answer when there was no final."""
    final = ex.final
    if final is None:
        return NoAnswer(f"200 to {what}", guard)
    return SetupRefused(
        what, final.status, final.reason or "", "the test device is not registered at the PF"
    )
