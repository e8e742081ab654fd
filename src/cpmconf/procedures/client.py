"""Steps shared by the client test cases: make the SUT client send, and deliver to it.

Kept apart from the test modules so each test reads as stimulus, exchange, expectations.
The upper tester makes the client act; the core answers and delivers as the PF would. Each
upper-tester call runs alongside the wait for what it makes the client send, so its refusal
ends the step at once with its HTTP status (`UpperTesterError`), not a guard time later.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from cpmconf.capture.view import View
from cpmconf.codec.bodies import is_imdn, msrp_path
from cpmconf.codec.cpm import ICSI_LARGEMSG, ICSI_MSG
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import uri_of
from cpmconf.codec.sip import SipMessage
from cpmconf.outcome import HarnessError, Inconclusive, NotApplicable
from cpmconf.procedures.results import Ids
from cpmconf.roles import upper_tester
from cpmconf.roles.errors import NoAnswer, SetupRefused
from cpmconf.roles.network import forget, unless
from cpmconf.roles.stimulus import token


def originator(scene) -> str:
    """Who sends to the client: the originator role."""
    return scene.role("originator")


def recipient(scene) -> str:
    """Whom the client sends to: the multi-device recipient role (the test system plays its
    side, so for a client SUT nothing about it is provisioned)."""
    return scene.role("multi_device_recipient")


def adhoc_factory(client) -> str:
    """The ad-hoc group factory provisioned to the client. The profile loader refuses a
    client claiming adhoc-group without one; any other profile never gets this far."""
    factory = client.profile.controlling_function
    if factory is None:
        raise NotApplicable("the profile names no [extra.client].controlling_function")
    return factory


@dataclass(frozen=True)
class PagerSent:
    """A standalone MESSAGE (or an INVITE) the client sent: its identifiers, the upper
    tester's answer and the settled View. Unpacks as (the request as captured, the answer,
    the View)."""

    request: Ids
    ut: dict | None
    view: View

    def __iter__(self):
        return iter((self.view.find(self.request, from_sut=True), self.ut, self.view))


@dataclass(frozen=True)
class Dialog:
    """The client's INVITE and our 200, for an in-dialog step (`after_ack`) to build on."""

    invite: SipMessage
    answer: SipMessage


@dataclass
class LargeSent:
    """A large-mode message the client sent (client_sends_large): identifiers of its INVITE
    (or of a MESSAGE sent instead), ACK, BYE and a refresh re-INVITE we sent; our MSRP
    session; the body our MSRP session reassembled (None: the transfer did not complete); the
    upper tester's answer; the View."""

    invite: Ids | None = None
    message: Ids | None = None
    ack: Ids | None = None
    bye: Ids | None = None
    refresh: Ids | None = None
    session: object | None = None
    body: bytes | None = None
    ut: dict | None = None
    view: View | None = None


@dataclass(frozen=True)
class LargeCancelled:
    """A large-mode INVITE the client was asked to cancel (client_cancels_large)."""

    invite: Ids
    cancel: Ids | None
    ack: Ids | None
    ut: dict | None
    view: View


@dataclass(frozen=True)
class Delivered:
    """A pager MESSAGE delivered to the client (deliver_to_client): its identifiers, the
    final status and reason our socket got (None: no final), the imdn.Message-ID and
    Contribution-ID it carried."""

    request: Ids
    status: int | None
    reason: str
    imdn_id: str
    contribution_id: str

    @property
    def call_id(self) -> str:
        return self.request.call_id


@dataclass
class LargeDelivered:
    """A large-mode message delivered to the client (deliver_large_to_client): the INVITE's
    identifiers, our MSRP session, the final status our socket got (None: none), whether the
    client bound the session, the CPIM wrapper sent, the BYE's identifiers, the View."""

    invite: Ids
    session: object
    status: int | None = None
    bound: bool = False
    cpim: bytes | None = None
    bye: Ids | None = None
    view: View | None = None


@dataclass(frozen=True)
class LargeCancelling:
    """A large-mode INVITE we cancelled on its provisional (deliver_large_and_cancel)."""

    invite: Ids
    cancel: Ids | None
    provisional: int | None
    status: int | None
    view: View


def not_imdn(m: SipMessage) -> bool:
    return not is_imdn(m)


async def client_sends(
    client, uid: int | None = None, status: int = 200, allow_invite=False, **options
) -> PagerSent:
    """Have the client send one standalone message; answer it as the network would.

    Returns a `PagerSent`: the request's identifiers, the upper tester's answer, the View
    (unpacks as (the request as captured, the answer, the View)). With
    ``allow_invite`` a large-mode INVITE is taken instead (refused with 488) and returned, so
    the caller can judge the mode the client chose.
    """
    task = asyncio.ensure_future(client.ut.send(**options))
    try:
        if allow_invite:
            wire = client.core.wait(
                lambda m: m.is_request and m.method in ("INVITE", "MESSAGE") and not_imdn(m),
                "MESSAGE (or an INVITE) from the client",
            )
        else:
            wire = client.wait_request("MESSAGE", "MESSAGE from the client", where=not_imdn)
        # The upper tester refusing /send ends the wait for the MESSAGE at once.
        msg = await unless(wire, task)
        headers = [("Message-UID", str(uid))] if uid is not None else []
        if msg.method == "INVITE":
            await client.respond(msg, 488, "Not Acceptable Here")
        else:
            await client.respond(msg, status, "OK" if status == 200 else "Error", headers=headers)
        answer = await upper_tester.answer(task, client.guard, "POST /send")
    finally:
        forget(task)
    view = await client.settle()
    ids = Ids.of(msg)
    if view.find(ids, from_sut=True) is None:  # judged only as captured, never as received
        raise HarnessError(f"the capture lacks the {msg.method} the client sent ({msg.call_id})")
    return PagerSent(ids, answer, view)


async def deliver_to_client(
    client,
    *,
    icsi=None,
    reply_to=None,
    in_reply_to=None,
    uid=None,
    disposition=None,
    text="hello",
    originator=None,
) -> Delivered:
    """Deliver a pager MESSAGE to the client as its PF would; returns a `Delivered`."""
    user = client.profile.client.user
    originator = originator or client.role("originator")
    body, imdn_id = client.cpim(originator, user, text, disposition=disposition)
    stim = client.render(
        "client/message_to_client.sip.j2",
        body=body,
        target=client.client_contact or user,
        originator=originator,
        recipient=user,
        icsi=icsi or ICSI_MSG,
        conversation_id=token(8),
        contribution_id=token(8),
        in_reply_to=in_reply_to,
        reply_to=reply_to,
        message_uid=uid,
    )
    ex = await client.transact(stim, client.client_address)
    final = ex.final
    return Delivered(
        Ids.of(stim),
        None if final is None else final.status,
        "" if final is None else final.reason or "",
        imdn_id,
        stim.message.header("Contribution-ID") or "",
    )


def require_accepted(delivered, consequence: str) -> None:
    """The client's final error to a MESSAGE we delivered (a `Delivered`, or a response from
    the capture) is its refusal of this setup step: what the case would judge next (a
    notification, an entry to reply to) cannot follow."""
    status = None if delivered is None else delivered.status
    if status is not None and status >= 300:
        raise SetupRefused(
            "the MESSAGE delivered to it", status, delivered.reason or "", consequence
        )


async def delivery_notification(client) -> Ids | None:
    """Wait (bounded) for the disposition notification the client sends and answer it 200 as
    the sender's network would: its identifiers, or None when none came in the guard time."""
    imdn = await client.observe(
        lambda m: m.is_request and m.method == "MESSAGE" and is_imdn(m),
        "the delivery notification",
        client.guard,
    )
    if imdn is None:
        return None
    await client.respond(imdn, 200, "OK")
    return Ids.of(imdn)


async def received_entry(client, call_id: str) -> dict | None:
    listing = await client.ut.messages()
    for m in listing.get("received") or []:
        if isinstance(m, dict) and m.get("call_id") == call_id:
            upper_tester.member(m, "id", "GET /messages: the received message")
            return m
    return None


def large_text(size: int = 1301) -> str:
    """A text whose CPIM wrapper is well over the pager limit, with multi-byte characters so
    chunk boundaries can fall inside one."""
    unit = "large message é€ "
    return (unit * (size // len(unit) + 1))[:size]


async def client_sends_large(
    client,
    text: str,
    uid: int | None = 9001,
    allow_message=False,
    session_expires: str = "1800;refresher=uac",
    after_ack=None,
    **options,
) -> LargeSent:
    """Have the client send a large-mode message; play its PF: answer, take the MSRP transfer,
    answer the BYE. Returns a `LargeSent`. ``session_expires`` goes in our 200;
    ``after_ack``, an async callable taking (client, the `Dialog`, the `LargeSent` so far),
    runs once the ACK arrived."""
    out = LargeSent()
    task = asyncio.ensure_future(client.ut.send(text=text, **options))
    try:
        first = await unless(
            client.core.wait(
                lambda m: m.is_request and m.method in ("INVITE", "MESSAGE") and not_imdn(m),
                "INVITE (or a wrongly chosen MESSAGE) from the client",
            ),
            task,
        )
        if first.method == "MESSAGE":
            # Sent in pager mode although over the limit: answer it so the client finishes,
            # and let the caller judge that no INVITE came.
            await client.respond(first, 200, "OK")
            out.ut = await upper_tester.answer(task, client.guard, "POST /send")
            out.message = Ids.of(first)
            out.view = await client.settle()
            if not allow_message:
                raise Inconclusive(
                    "the client sent a MESSAGE instead of an INVITE "
                    "(judged by TS-7.2.1.3-4-large), so this cannot be judged"
                )
            return out
        invite = first
        out.invite = Ids.of(invite)
        session = client.msrp.session()
        session.remote_path = msrp_path(invite)
        sdp = client.sdp(
            "answer",
            session,
            setup="passive",
            direction="recvonly",
            accept_types=["message/cpim"],
            accept_wrapped_types=["*"],
        )
        answer = await client.respond(
            invite,
            200,
            "OK",
            body=sdp,
            content_type="application/sdp",
            headers=[
                ("Contact", f"<sip:cpm-pf@{client.core.host}:{client.core.port}>"),
                ("Session-Expires", session_expires),
                ("Require", "timer"),
            ],
        )
        out.session = session
        # From here on a missing step is the SUT's failure, judged by the caller from the
        # capture (no ACK, no MSRP transfer, no BYE), not a reason to stop.
        try:
            ack = await client.wait_request("ACK", "ACK from the client")
        except NoAnswer:
            ack = None
        out.ack = Ids.of(ack)
        if ack is not None and after_ack is not None:
            await after_ack(client, Dialog(invite, answer.message), out)
        try:
            out.body, _ = await client.msrp.receive_message(session)
        except (NoAnswer, CodecError):
            out.body = None
        try:
            bye = await client.wait_request("BYE", "BYE from the client")
        except NoAnswer:
            bye = None
        out.bye = Ids.of(bye)
        headers = [("Message-UID", str(uid))] if uid is not None else []
        if bye is not None:
            await client.respond(bye, 200, "OK", headers=headers)
        if out.body is None:
            # A transfer that stalled: the upper tester's answer is not needed to judge it,
            # and waiting for it would only turn the failure into an upper-tester timeout.
            out.ut = None
        else:
            out.ut = await upper_tester.answer(task, client.guard, "POST /send")
    finally:
        forget(task)
    out.view = await client.settle()
    return out


async def deliver_large_to_client(
    client,
    text: str,
    *,
    uid: int | None = 4711,
    accept_types=("message/cpim",),
    chunk_size: int = 1024,
    icsi=None,
    transport=None,
) -> LargeDelivered:
    """Deliver a large-mode message to the client as its PF would: INVITE with an SDP offer
    (our MSRP path, setup passive), ACK, accept the client's connection and binding SEND,
    send the CPIM wrapper in chunks, then BYE with Message-UID; the SIP requests over
    `transport` (by default the profile's). Returns a `LargeDelivered`."""
    user = client.profile.client.user
    session = client.msrp.session()
    stim = large_invite(client, session, accept_types, icsi, transport)
    out = LargeDelivered(Ids.of(stim), session)
    ex = await client.transact(stim, client.client_address, transport)
    final = ex.final
    out.status = None if final is None else final.status
    if final is None or final.status != 200:
        out.view = await client.settle()
        return out
    session.remote_path = msrp_path(final)
    ack = client.core.in_dialog(
        stim.message, final, "ACK", stim.message.cseq[0], transport=transport
    )
    client.stimuli.append(ack)
    await client.core.send(ack, client.client_address, transport)
    try:
        await client.msrp.accept_bind(session)
        out.bound = True
    except NoAnswer:
        # No connection or no binding SEND: judged from the capture by the caller.
        out.view = await client.settle()
        return out
    cpim, _ = client.cpim(client.role("originator"), user, text)
    out.cpim = cpim
    await client.msrp.send_message(session, cpim, chunk_size)
    headers = [("Message-UID", str(uid))] if uid is not None else []
    bye = client.core.in_dialog(
        stim.message, final, "BYE", stim.message.cseq[0] + 1, headers, transport=transport
    )
    client.stimuli.append(bye)
    out.bye = Ids.of(bye)
    await client.transact(bye, client.client_address, transport)
    out.view = await client.settle()
    return out


def large_invite(client, session, accept_types=("message/cpim",), icsi=None, transport=None):
    """The INVITE the client's PF sends for a large message: SDP offer with our MSRP path
    (setup passive, sendonly), to go over `transport` (by default the profile's)."""
    user = client.profile.client.user
    offer = client.sdp(
        "offer",
        session,
        setup="passive",
        direction="sendonly",
        accept_types=list(accept_types),
        accept_wrapped_types=["text/plain"],
    )
    return client.render(
        "client/invite_to_client.sip.j2",
        body=offer,
        transport=transport,
        target=client.client_contact or user,
        originator=client.role("originator"),
        recipient=user,
        icsi=icsi or ICSI_LARGEMSG,
        conversation_id=token(8),
        contribution_id=token(8),
        in_reply_to=token(8),
    )


def refresher(session_expires: str):
    """An ``after_ack`` step for :func:`client_sends_large`: as the refresher the 200 named
    (``refresher=uas``), refresh the session once with a re-INVITE offering the same SDP
    again (RFC 4028), ACK its 2xx; keeps the re-INVITE's identifiers as `refresh`.
    """

    async def refresh(client, dialog: Dialog, out: LargeSent) -> None:
        invite, answer = dialog.invite, dialog.answer
        stim = client.render(
            "client/refresh_reinvite.sip.j2",
            body=answer.body,
            target=uri_of(invite.header("Contact") or invite.header("From")),
            from_=answer.header("To"),
            to=invite.header("From"),
            call_id=invite.call_id,
            cseq=1,
            session_expires=session_expires,
        )
        out.refresh = Ids.of(stim)
        try:
            final = (await client.transact(stim, client.client_address)).final
        except NoAnswer:
            final = None
        if final is not None and 200 <= final.status < 300:
            ack = client.core.in_dialog(stim.message, final, "ACK", 1)
            client.stimuli.append(ack)
            await client.core.send(ack, client.client_address)

    return refresh


async def client_cancels_large(client, text: str, **options) -> LargeCancelled:
    """Have the client send a large message it is asked to cancel; play its PF: answer the
    INVITE with 180 only, then take the CANCEL (200, 487 to the INVITE) and the ACK. Without a
    CANCEL in the bound the INVITE is ended with 480 so the client finishes. Returns a
    `LargeCancelled`: identifiers of the INVITE, the CANCEL and the ACK (None when none came),
    the upper tester's answer and the View."""
    out: dict = {}  # what the socket handed us; the result keeps identifiers only
    task = asyncio.ensure_future(client.ut.send(text=text, cancel=True, **options))
    try:
        invite = await unless(client.wait_request("INVITE", "INVITE from the client"), task)
        out["invite"] = invite

        def same(m: SipMessage) -> bool:
            return m.call_id == invite.call_id

        to_tag = token(4)
        await client.respond(invite, 180, "Ringing", to_tag=to_tag)
        try:
            cancel = await client.wait_request("CANCEL", "CANCEL from the client", where=same)
        except NoAnswer:
            cancel = None
        out["cancel"] = cancel
        if cancel is not None:
            await client.respond(cancel, 200, "OK")
            await client.respond(invite, 487, "Request Terminated", to_tag=to_tag)
        else:
            await client.respond(invite, 480, "Temporarily Unavailable", to_tag=to_tag)
        try:
            out["ack"] = await client.wait_request("ACK", "ACK of the final response", where=same)
        except NoAnswer:
            out["ack"] = None
        out["ut"] = None
        if cancel is not None:
            # Without a CANCEL the bound has used up the upper tester's time: the missing
            # CANCEL is judged from the capture, not turned into an upper-tester timeout.
            out["ut"] = await upper_tester.answer(task, client.guard, "POST /send")
    finally:
        forget(task)
    return LargeCancelled(
        Ids.of(out["invite"]),
        Ids.of(out["cancel"]),
        Ids.of(out["ack"]),
        out["ut"],
        await client.settle(),
    )


async def deliver_large_and_cancel(client, hold_ms: int) -> LargeCancelling:
    """Deliver a large-mode INVITE to a client told (POST /answer-delay) to hold its answer
    for ``hold_ms``; CANCEL it on the first provisional response above 100, collect the final
    responses to the CANCEL and the INVITE and acknowledge (a 2xx after all is ACKed and the
    session ended with BYE). Returns a `LargeCancelling`: identifiers of the INVITE and the
    CANCEL, the provisional status that opened the window (None when the client answered at
    once: no window for a CANCEL) and the final status our socket got, and the View."""
    session = client.msrp.session()
    stim = large_invite(client, session)
    inv = stim.message
    out: dict = {"invite": stim, "provisional": None, "cancel": None, "cancel_final": None}

    def to_invite(m: SipMessage) -> bool:
        return not m.is_request and m.call_id == inv.call_id and m.cseq == inv.cseq

    await client.core.send(stim, client.client_address)
    final = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + client.guard
    with contextlib.suppress(NoAnswer):
        while final is None and out["provisional"] is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            resp = await client.core.wait(to_invite, "response to the INVITE", remaining)
            if resp.status >= 200:
                final = resp
            elif resp.status > 100:
                out["provisional"] = resp
    if out["provisional"] is not None:
        cancel = client.core.cancel_of(inv)
        client.stimuli.append(cancel)
        out["cancel"] = cancel
        try:
            out["cancel_final"] = (await client.transact(cancel, client.client_address)).final
        except NoAnswer:
            pass
        try:
            # A client that ignores the CANCEL answers when its hold ends.
            bound = client.guard + hold_ms / 1000
            final = await client.core.wait(to_invite, "final response to the INVITE", bound)
        except NoAnswer:
            final = None
    out["final"] = final
    if final is not None and final.status >= 300:
        ack = client.render(
            "common/ack_non2xx.sip.j2",
            target=inv.request_uri,
            via=inv.header("Via"),
            from_=inv.header("From"),
            to=final.header("To"),
            call_id=inv.call_id,
            cseq=inv.cseq[0],
        )
        await client.core.send(ack, client.client_address)
    elif final is not None:
        # Accepted after all: acknowledge and end the session so nothing is left open.
        for method, cseq in (("ACK", inv.cseq[0]), ("BYE", inv.cseq[0] + 1)):
            req = client.core.in_dialog(inv, final, method, cseq)
            client.stimuli.append(req)
            if method == "ACK":
                await client.core.send(req, client.client_address)
            else:
                with contextlib.suppress(NoAnswer):
                    await client.transact(req, client.client_address)
    return LargeCancelling(
        Ids.of(stim),
        Ids.of(out["cancel"]),
        None if out["provisional"] is None else out["provisional"].status,
        None if final is None else final.status,
        await client.settle(),
    )
