"""Steps shared by the PF deferred-message cases (TS 8.3.2.4.x, 8.3.2.4.1; SD 5.2.2.2).

The test system plays every peer of the PF: the originator whose message gets deferred, the
SIP/IP core with the user's devices (registered and deregistered by the case itself, so each
case starts from a known registration state), the interworking function (requests whose
Request-URI is the IWF address of the profile), and a device acting on the deferred messages
(SUBSCRIBE for the list, handling INVITE with ACK and BYE, push sessions over MSRP).

Message-URI-IDs are the PF's own; the steps learn them from what the PF sent (the
notification or a NOTIFY) and echo them back unchanged. A case that rests on a deferral the PF
refused (`require_deferred`: `SetupRefused`) or on ids the PF never gave (`require_ids`:
inconclusive) says so before it indexes anything the SUT provided.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from cpmconf.capture.view import View
from cpmconf.codec.bodies import offer_path
from cpmconf.codec.deferred_reader import ListReader
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import NameAddr
from cpmconf.codec.resource_lists import Entry
from cpmconf.codec.sip import SipMessage
from cpmconf.codec.uri import same_contact, same_gruu
from cpmconf.outcome import Inconclusive, NotApplicable
from cpmconf.procedures.pf import declining_legs, invite_to_pf
from cpmconf.procedures.results import Ids
from cpmconf.roles import hooks, regevent
from cpmconf.roles.errors import NoAnswer, SetupError, SetupRefused
from cpmconf.roles.network import SimDevice
from cpmconf.roles.profile import ROLES, Device
from cpmconf.roles.stimulus import token

# The roles of the deferring users (cpmconf.roles.profile.ROLES); every step taking a `user`
# takes a role name or a URI.
PULL_USER = "pull_deferral_user"  # defers, pulls
PUSH_USER = "push_deferral_user"  # defers, gets pushed to its selected devices only
FETCHER = "<urn:uuid:00000000-0000-4000-8000-0000000fe7c4>"  # a device that only subscribes


# -- who is where ---------------------------------------------------------------------------


def who(pf, user: str) -> str:
    """The URI of `user`: a role name resolved through the profile, or a URI as given."""
    return pf.role(user) if user in ROLES else user


def device_of(pf, user: str, selected: bool = True) -> Device:
    """The first selected (or unselected) provisioned device of `user`."""
    devices = pf.profile.user(who(pf, user)).devices
    for d in devices:
        if d.selected == selected:
            return d
    raise SetupError(f"the profile has no {'' if selected else 'un'}selected device for {user}")


def deferred_target(pf):
    if pf.profile.pf is None or pf.profile.pf.deferred is None:
        raise SetupError("the profile has no [pf.deferred] table")
    return pf.profile.pf.deferred


def reader(pf) -> ListReader:
    d = deferred_target(pf)
    return ListReader(d.uri_id_xpath, dict(d.namespaces))


def is_to(uri: str):
    return lambda m: m.is_request and same_gruu(m.request_uri, uri)


def is_to_device(gruu: str | None, contact: str | None):
    """A request addressed to the fetching device: at its GRUU or at the Contact its handling
    INVITE gave (D-pull-delivery-target: either is where the PF may deliver)."""

    def match(m: SipMessage) -> bool:
        if not m.is_request:
            return False
        target = m.request_uri or ""
        if gruu and same_gruu(target, gruu):
            return True
        return bool(contact) and same_contact(target, contact)

    return match


# -- registration ---------------------------------------------------------------------------


async def register(pf, user: str, device: str | Device, expires: int = 600) -> SimDevice:
    """Register one provisioned device of `user` (expires 0: deregister it), in the way the
    profile says the PF learns registrations."""
    user = who(pf, user)
    name = device.name if isinstance(device, Device) else device
    prof_user = pf.profile.user(user)
    dev = next((d for d in prof_user.devices if d.name == name), None)
    if dev is None:
        raise SetupError(f"the profile has no device {name!r} for {user}")
    d = await regevent.register_device(pf.core, user, dev, expires)
    pf.core.devices = [x for x in pf.core.devices if x.name != name]
    if expires:
        pf.core.devices.append(d)
    return d


async def deregister_all(pf, user: str) -> None:
    user = who(pf, user)
    for dev in pf.profile.user(user).devices:
        await register(pf, user, dev.name, expires=0)


# -- deferral and the notification ----------------------------------------------------------


@dataclass(frozen=True)
class Deferral:
    """A message sent for the PF to defer (defer_one): identifiers of the originator's
    MESSAGE and of the notification tied to it (the system message, to the user or the IWF;
    None: none came), the final status and reason our socket got, the CPIM body sent, and
    the Message-URI-IDs the notification named."""

    request: Ids | None
    status: int | None
    reason: str
    notification: Ids | None
    body: bytes
    ids: list[str] = field(default_factory=list)


def message_for(pf, recipient: str, text: str | None = None, **headers):
    recipient, originator = who(pf, recipient), pf.role("originator")
    # Each message's text is unique over the run, so a store-and-forward PF's re-send of it,
    # in this case or a later one, is known for what it is (`notification_of`).
    text = text or f"hello {token(6)}"
    pf.core.deferred_texts.add(text)
    body, _ = pf.cpim(originator, recipient, text)
    stim = pf.render(
        "pf/message_from_originator.sip.j2",
        body=body,
        recipient=recipient,
        originator=originator,
        conversation_id=token(8),
        contribution_id=token(8),
        content_type="message/cpim",
        **headers,
    )
    return stim, body


# Requests that are never the system message: sessions, registration, subscriptions.
NOT_A_NOTIFICATION = ("INVITE", "ACK", "CANCEL", "BYE", "PRACK", "UPDATE", "REGISTER", "SUBSCRIBE")


def _to_tag(m: SipMessage) -> str | None:
    try:
        return NameAddr.parse(m.header("To") or "").tag
    except CodecError:
        return None


def is_notification(user: str, iwf: str):
    """A request from the PF, outside any dialog, to the user's address or to the IWF that
    is not a delivery: the system message. It should be a MESSAGE; a notification sent with
    another method is taken too, so the check can say what came instead."""
    to_user, to_iwf = is_to(user), is_to(iwf)

    def match(m: SipMessage) -> bool:
        if not m.is_request or m.method in NOT_A_NOTIFICATION or _to_tag(m):
            return False
        if not (to_user(m) or to_iwf(m)):
            return False
        return (m.content_type or "").lower() != "message/cpim"  # not a delivery

    return match


def notification_of(pf, mark: int, candidate):
    """Predicate: a `candidate` (is_notification) tied to the deferral that started at journal
    `mark`: it arrived after the originator's MESSAGE was sent, and it is not a re-send of a
    message an originator sent (a store-and-forward PF re-sending an earlier deferral on a
    REGISTER, as msilo does, carries that message's text). Whatever the candidate takes but
    the cause does not explain is listed as unrelated in the evidence (`Scene.unrelated`),
    never judged; the core answers it between cases."""

    def match(m: SipMessage) -> bool:
        if not candidate(m):
            return False
        after = {e.raw for e in pf.core.journal.since(mark) if e.direction == "received"}
        body = m.body.decode("utf-8", "replace") if m.body else ""
        resent = next((t for t in pf.core.deferred_texts if t in body), None)
        why = None
        if m.raw not in after:
            why = "it came before the deferred MESSAGE was sent"
        elif resent is not None:
            why = f"it re-sends the message {resent!r} rather than announcing a deferral"
        if why is None:
            return True
        pf.unrelated_to(m, f"not the deferral notification: {why}")
        return False

    return match


async def defer_one(pf, recipient: str, text: str | None = None, **headers) -> Deferral:
    """Send a message the PF defers; answer and return its notification (or None): the
    first request that `is_notification` and is tied to this deferral (`notification_of`)."""
    d = deferred_target(pf)
    recipient = who(pf, recipient)
    stim, body = message_for(pf, recipient, text, **headers)
    mark = pf.core.journal.mark()
    ex = await pf.transact(stim)
    status = None if ex.final is None else ex.final.status
    reason = "" if ex.final is None else ex.final.reason or ""
    if status is not None and status >= 300:
        # A final error means nothing was deferred: no notification to wait a guard time for.
        return Deferral(Ids.of(stim), status, reason, None, body)
    note = await pf.observe(
        notification_of(pf, mark, is_notification(recipient, d.iwf)),
        "the deferral notification",
        pf.guard,
    )
    if note is not None:
        await pf.respond(note, 200, "OK")
    return Deferral(Ids.of(stim), status, reason, Ids.of(note), body, ids_in(pf, note))


def refusal_of(d: Deferral) -> SetupRefused | None:
    """The PF's final error (3xx-6xx) to an originator's MESSAGE as the refusal it is."""
    if d.status is None or d.status < 300:
        return None
    return SetupRefused("the originator's MESSAGE", d.status, d.reason, "nothing was deferred")


def require_deferred(deferrals: list[Deferral]) -> None:
    """Raise the PF's refusal of any of the originator's MESSAGEs: what the case judges
    next (a notification, a push, the list) rests on the messages being deferred."""
    for d in deferrals:
        refused = refusal_of(d)
        if refused is not None:
            raise refused


def require_ids(deferrals: list[Deferral], ids: list[str], need: int = 1) -> None:
    """Raise why fewer than `need` Message-URI-IDs were learnt from the notifications: the
    PF refused a MESSAGE, sent no notification, or its notifications listed too few ids."""
    if len(ids) >= need:
        return
    require_deferred(deferrals)
    notified = sum(1 for d in deferrals if d.notification is not None)
    if not notified:
        raise Inconclusive(
            f"the PF sent no notification for {len(deferrals)} deferred message(s), so no "
            "Message-URI-ID is known to act on"
        )
    if not ids:
        raise Inconclusive("the PF's notification listed no Message-URI-ID")
    raise Inconclusive(
        f"the PF's notifications listed {len(ids)} Message-URI-ID(s) for {len(deferrals)} "
        f"deferred message(s); {need} are needed"
    )


def ids_in(pf, msg: SipMessage | None) -> list[str]:
    if msg is None:
        return []
    found = reader(pf).read(msg)
    return found.ids if found.ok else []


@dataclass(frozen=True)
class Declined:
    """A large-mode INVITE whose every device leg was declined (declined_everywhere): its
    identifiers, how many legs were declined, the final status our socket got, the
    notification tied to it (None: none came) and the View."""

    invite: Ids
    declined: int
    status: int | None
    notification: Ids | None
    view: View


async def declined_everywhere(pf, recipient: str) -> Declined:
    """Send `recipient` a large-mode INVITE through the PF, decline (486) every leg it forks,
    and take the deferral notification that follows (`notification_of`). A final error
    before any leg was offered is `SetupRefused`: the condition never arose, and no
    notification is waited for."""
    stim, _ = invite_to_pf(pf, 2000, recipient=recipient)
    note = None
    async with declining_legs(pf, stim.message.header("Contribution-ID")) as declined:
        mark = pf.core.journal.mark()
        final = (await pf.transact(stim)).final
        if not declined and final is not None and final.status >= 300:
            raise SetupRefused(
                "the sender's INVITE", final.status, final.reason or "", "no device leg was offered"
            )
        note = await pf.observe(
            notification_of(pf, mark, is_notification(recipient, deferred_target(pf).iwf)),
            "the deferral notification",
            pf.guard,
        )
        if note is not None:
            await pf.respond(note, 200, "OK")
        count = len(declined)
    status = None if final is None else final.status
    return Declined(Ids.of(stim), count, status, Ids.of(note), await pf.settle())


# -- the subscription -----------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """A one-time SUBSCRIBE (subscribe): its identifiers, the final status our socket got,
    the NOTIFY's identifiers (None: none came) and the ids it listed (None: unreadable)."""

    request: Ids
    status: int | None
    notify: Ids | None
    ids: list[str] | None


async def subscribe(pf, user: str, device: SimDevice | None = None) -> Subscription:
    """One-time SUBSCRIBE for `user`; returns a `Subscription`."""
    d = deferred_target(pf)
    user = who(pf, user)
    dev = device or SimDevice(user, "fetcher", FETCHER, True)
    contact = dev.contact or f"sip:{dev.name}@{pf.core.host}:{pf.core.port}"
    stim = pf.render(
        "pf/subscribe_deferred.sip.j2",
        management=d.management,
        user=user,
        contact=contact,
        instance=dev.instance,
    )
    ex = await pf.transact(stim)
    notify = None
    if ex.final is not None and 200 <= ex.final.status < 300:
        call_id = stim.message.call_id
        notify = await pf.observe(
            lambda m: m.is_request and m.method == "NOTIFY" and m.call_id == call_id,
            "NOTIFY of the deferred-messages subscription",
            pf.guard,
        )
        if notify is not None:
            await pf.respond(notify, 200, "OK")
    ids = None
    if notify is not None:
        found = reader(pf).read(notify)
        ids = found.ids if found.ok else None
    status = None if ex.final is None else ex.final.status
    return Subscription(Ids.of(stim), status, Ids.of(notify), ids)


async def listed(pf, user: str) -> list[str] | None:
    """The Message-URI-IDs a fresh subscription lists (None: no readable NOTIFY)."""
    return (await subscribe(pf, user)).ids


# -- the handling INVITE --------------------------------------------------------------------


@dataclass
class Handling:
    """A handling INVITE and what followed (handle): its identifiers and final status, the
    BYE's final status, the deliveries to the device (MESSAGEs, INVITEs) and hand-overs to
    the IWF as identifiers, and what came over MSRP sessions."""

    request: Ids
    status: int | None
    bye_status: int | None = None
    delivered: list[Ids] = field(default_factory=list)
    large_bodies: list[bytes] = field(default_factory=list)
    interworked: list[Ids] = field(default_factory=list)


def due(
    actions: list[tuple[str, str]] | None, deferred_count: int | None, interworking: bool
) -> tuple[int | None, int]:
    """How many deliveries (None: unknown, wait until none comes) and IWF hand-overs a
    handling INVITE naming `actions` makes due. Without the `interworking` ICS item no
    hand-over is due (D-interwork-unclaimed), so none is waited for; one that comes anyway is
    still taken while watching for extras."""
    if actions is None:
        deliveries = deferred_count
    else:
        deliveries = sum(1 for _, a in actions if a == "deliver")
    iwf = sum(1 for _, a in actions or [] if a == "interwork") if interworking else 0
    return deliveries, iwf


def _offer(pf) -> bytes:
    session = pf.msrp.session()
    return pf.sdp(
        "offer",
        session,
        setup="active",
        direction="recvonly",
        accept_types=["message/cpim"],
    )


def action_list(pf, actions: list[tuple[str, str]]) -> bytes:
    """The resource-list body naming `actions` ((Message-URI-ID, cpm_action) each)."""
    entries = [Entry.with_action(uri, a) for uri, a in actions]
    return pf.core.templates.render_body("bodies/resource_lists.xml.j2", entries=entries)


async def handle(
    pf,
    user: str,
    device: SimDevice,
    actions: list[tuple[str, str]] | None,
    deferred_count: int | None = None,
    watch_extras: bool = True,
) -> Handling:
    """Handling INVITE naming `actions` ((Message-URI-ID, cpm_action); None: all messages).

    On a 200: ACK, BYE, then answer every delivery to the device and every hand-over to the
    IWF that follows, each awaited within the guard time until the expected number came (the
    deliver and interwork actions named; with no list, `deferred_count` if known, else until
    a guard time passes with none), then watch the settle time for extras (unless
    `watch_extras` is false: a clean-up whose aftermath nothing judges).
    """
    d = deferred_target(pf)
    user = who(pf, user)
    offer = _offer(pf)
    if actions is None:
        ctype, body = "application/sdp", offer
    else:
        ctype, body = pf.core.templates.multipart(
            [
                ("application/sdp", offer),
                ("application/resource-lists+xml", action_list(pf, actions)),
            ]
        )
    stim = pf.render(
        "pf/invite_deferred_handling.sip.j2",
        body=body,
        management=d.management,
        user=user,
        contact=device.contact,
        instance=device.instance,
        content_type=ctype,
    )
    ex = await pf.transact(stim)
    out = Handling(Ids.of(stim), None if ex.final is None else ex.final.status)
    if ex.final is None:
        return out
    if not 200 <= ex.final.status < 300:
        return out  # the core's transaction layer ACKs non-2xx finals for us
    ack = pf.core.in_dialog(stim.message, ex.final, "ACK", 1)
    pf.stimuli.append(ack)
    await pf.core.send(ack, pf.pf_address)
    bye = pf.core.in_dialog(stim.message, ex.final, "BYE", 2)
    pf.stimuli.append(bye)
    bye_ex = await pf.transact(bye)
    out.bye_status = None if bye_ex.final is None else bye_ex.final.status
    # D-pull-delivery-target: the GRUU, the handling INVITE's Contact and the AOR all count.
    to_device = is_to_device(device.gruu, device.contact)
    to_user = is_to(user)
    to_iwf = is_to(d.iwf)
    expected_deliveries, expected_iwf = due(
        actions, deferred_count, "interworking" in pf.profile.ics
    )

    def wanted(m: SipMessage) -> bool:
        if not (m.is_request and m.method in ("MESSAGE", "INVITE")):
            return False
        return to_device(m) or to_user(m) or to_iwf(m)

    async def take(bound: float) -> bool:
        m = await pf.observe(wanted, "a delivery or IWF hand-over after the BYE", bound)
        if m is None:
            return False
        (out.interworked if to_iwf(m) else out.delivered).append(Ids.of(m))
        if m.method == "INVITE":  # large message mode: a session carrying the message
            session = await answer_push(pf, m, 1)
            out.large_bodies += session.bodies
        else:
            await pf.respond(m, 200, "OK")
        return True

    # The ones we asked for, each within the guard time; then anything extra (duplicates).
    while (expected_deliveries is None or len(out.delivered) < expected_deliveries) or len(
        out.interworked
    ) < expected_iwf:
        if not await take(pf.guard):
            break
    while watch_extras and await take(pf.profile.settle):
        pass
    return out


# -- push -----------------------------------------------------------------------------------


# -- keeping cases apart --------------------------------------------------------------------


def fetcher(pf, user: str) -> SimDevice:
    """A device of `user` that acts on the queue without being registered."""
    user = who(pf, user)
    return SimDevice(user, "fetcher", FETCHER, True, f"sip:fetcher@{pf.core.host}:{pf.core.port}")


async def purge(pf, user: str) -> None:
    """Delete whatever earlier cases left deferred for `user`, so counts start from zero."""
    ids = await listed(pf, user)
    if ids:
        # deletes only: nothing is due after the BYE, and no verdict reads what follows
        await handle(pf, user, fetcher(pf, user), [(i, "delete") for i in ids], watch_extras=False)


async def defer_many(pf, user: str, n: int) -> tuple[list[Deferral], list[str]]:
    """Defer `n` messages; their deferrals and the Message-URI-IDs the notifications named."""
    out, ids = [], []
    for i in range(n):
        d = await defer_one(pf, user, f"deferred message {i + 1} {token(4)}")
        out.append(d)
        ids += [x for x in d.ids if x not in ids]
    return out, ids


# -- one push session, played by the device -------------------------------------------------


@dataclass
class Push:
    """One push session played by the device (take_push, answer_push): identifiers of the
    PF's INVITE, ACK and BYE, the device, the bodies received, where the PF stopped."""

    invite: Ids | None = None
    device: SimDevice | None = None
    ack: Ids | None = None
    bodies: list[bytes] = field(default_factory=list)
    bye: Ids | None = None
    stopped: str | None = None  # where the PF stopped, when it did


def is_for(user: str):
    """A request whose To names `user` (a push INVITE, wherever the PF addressed it)."""

    def match(m: SipMessage) -> bool:
        try:
            return same_gruu(NameAddr.parse(m.header("To") or "").uri, user)
        except CodecError:
            return False

    return match


def is_push_to(pf, device: SimDevice | None = None):
    """An INVITE to a registered simulated device (to `device`, when given), whether the PF
    addressed it by GRUU or by contact."""

    def match(m: SipMessage) -> bool:
        if not (m.is_request and m.method == "INVITE"):
            return False
        to = pf.core.device_for(m.request_uri or "")
        return to is not None and (device is None or to.name == device.name)

    return match


async def take_push(pf, expected: int, device: SimDevice | None = None) -> Push:
    """Answer the next push INVITE (to `device`, when given) as its device would (200, active
    MSRP side), take the messages (and any extra copies within the settle time), answer the
    BYE."""
    out = Push()
    try:
        invite = await pf.core.wait(is_push_to(pf, device), "a push INVITE from the PF")
    except NoAnswer as exc:
        out.stopped = str(exc)
        return out
    return await answer_push(pf, invite, expected, out)


async def refuse_pushes(pf, where, what: str, status: int = 486) -> list[Ids]:
    """Refuse every INVITE matching `where` that is waiting or comes within the settle time
    (a device that will not take the session); returns their identifiers. One window for
    them all: a refused INVITE does not start it again."""
    out = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + pf.profile.settle
    while True:
        m = await pf.observe(
            lambda m: m.is_request and m.method == "INVITE" and where(m),
            what,
            max(0.0, deadline - loop.time()),
        )
        if m is None:
            return out
        out.append(Ids.of(m))
        await pf.respond(m, status, "Busy Here" if status == 486 else "Temporarily Unavailable")


async def answer_push(pf, invite: SipMessage, expected: int, out: Push | None = None) -> Push:
    """Play the device's side of a session the PF opened to deliver deferred messages."""
    out = out or Push()
    out.invite = Ids.of(invite)
    out.device = dev = pf.core.device_for(invite.request_uri or "")
    contact = dev.contact if dev is not None else f"sip:device@{pf.core.host}:{pf.core.port}"
    session = pf.msrp.session()
    session.remote_path = offer_path(invite)
    answer = pf.sdp(
        "answer",
        session,
        setup="active",
        direction="recvonly",
        accept_types=["message/cpim"],
    )
    await pf.respond(
        invite,
        200,
        "OK",
        headers=[("Contact", f"<{contact}>")],
        body=answer,
        content_type="application/sdp",
    )
    try:
        ack = await pf.wait_request(
            "ACK", "ACK of the push 200", where=lambda m: m.call_id == invite.call_id
        )
        out.ack = Ids.of(ack)
        if session.remote_path:
            await pf.msrp.bind(session)
            while len(out.bodies) < expected:
                body, _ = await pf.msrp.receive_message(session)
                out.bodies.append(body)
            with contextlib.suppress(TimeoutError, NoAnswer):
                async with asyncio.timeout(pf.profile.settle):
                    while True:  # copies beyond the expected ones
                        body, _ = await pf.msrp.receive_message(session)
                        out.bodies.append(body)
        bye = await pf.wait_request(
            "BYE", "BYE of the push session", where=lambda m: m.call_id == invite.call_id
        )
        out.bye = Ids.of(bye)
        await pf.respond(bye, 200, "OK")
    except NoAnswer as exc:
        out.stopped = str(exc)
    except CodecError as exc:  # an a=path or MSRP message of the PF's we cannot use
        out.stopped = f"the PF's MSRP path or data cannot be used ({exc})"
    return out


# -- the PF's clock -------------------------------------------------------------------------


def require_clock(pf) -> None:
    """Not-applicable unless the profile offers the clock hook (checked before any setup)."""
    why = hooks.missing(pf.handle.hooks, "clock")
    if why:
        raise NotApplicable(why)


async def advance_clock(pf, seconds: float) -> None:
    """Move the SUT's clock forward through its clock hook; a failing hook leaves the case
    inconclusive (an unmet precondition), never judged."""
    try:
        await pf.handle.advance_clock(seconds)
    except hooks.HookError as exc:
        raise Inconclusive(str(exc)) from None
