"""Steps shared by the PF test cases: a sender's MESSAGE or INVITE through the PF to devices.

The test system plays both sides of the PF: the sender (INVITE with an SDP offer, ACK, MSRP
binding and chunks, BYE) and the recipient's devices (their 200 with an SDP answer, the MSRP
connection they open, the BYE they receive). Each device answers `setup:active`, as a CPM
client does (D-msrp-setup), so the devices connect to the PF and the sender connects too.

A SUT that stops answering part-way is not an error here: the step records where it stopped
(`stopped`, and the error in `stop`) and returns what was exchanged, so the
cases judge the clauses that the traffic so far decides and the rest end inconclusive with
that reason and its cause. A final error to the sender's INVITE ends every wait for a device
leg at once (`SetupRefused`), never a guard time later.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from cpmconf.capture.view import View
from cpmconf.codec.bodies import msrp_path
from cpmconf.codec.errors import CodecError
from cpmconf.codec.sip import SipMessage
from cpmconf.outcome import Cause, Inconclusive
from cpmconf.procedures.client import large_text
from cpmconf.procedures.results import Ids
from cpmconf.roles.errors import NoAnswer, SetupRefused
from cpmconf.roles.network import forget, refusal, unless
from cpmconf.roles.stimulus import token

ORIGINATOR_UA = "CPM-client/OMA2.0 cpmconf-originator"


@dataclass
class LargeRelay:
    """A large-mode exchange through the PF (large_through_pf).

    Identifiers of the sender's INVITE (and its Contribution-ID), of the device INVITEs the
    steps answered or closed, the ACK passed on to the device, our BYE and the BYE passed on
    to the device; the final statuses our sockets got; our MSRP sessions (sender, device) and
    the a=path of our device answer; the CPIM wrapper sent and the body received; where the
    exchange stopped (`stopped`, and the error that said so in `stop`); the View."""

    invite: Ids
    contribution_id: str
    sender: object
    cpim: bytes
    status: int | None = None
    device_invites: list[Ids] = field(default_factory=list)
    device: object | None = None
    device_contact: str | None = None
    device_path: list[str] = field(default_factory=list)
    device_ack: Ids | None = None
    bye: Ids | None = None
    bye_status: int | None = None
    device_bye: Ids | None = None
    chunk_tids: list[str] = field(default_factory=list)
    received: bytes | None = None
    bound: bool = False
    no_relay: bool = False
    stopped: str | None = None
    stop: Exception | None = None
    view: View | None = None


@dataclass(frozen=True)
class Refused:
    """An INVITE sent for the PF to refuse (refused): its identifiers and the View."""

    request: Ids
    view: View

    @property
    def final(self):
        """The PF's first final response as the capture holds it (None: none)."""
        return self.view.final_to(self.request.call_id, self.request.cseq)


def invite_to_pf(pf, text_size: int, *, recipient=None, originator=None, transport=None, **headers):
    """Render the sender's INVITE (by default from the originator to the single-device
    recipient; over `transport`, by default the profile's); returns (stimulus, the sender's
    MSRP session)."""
    recipient = recipient or pf.role("single_device_recipient")
    originator = originator or pf.role("originator")
    session = pf.msrp.session()
    offer = pf.sdp(
        "offer",
        session,
        setup="active",
        direction="sendonly",
        accept_types=["message/cpim"],
        accept_wrapped_types=["text/plain"],
        file_selector={"type": "message/cpim", "size": text_size},
    )
    headers.setdefault("user_agent", ORIGINATOR_UA)
    stim = pf.render(
        "pf/invite_from_originator.sip.j2",
        body=offer,
        transport=transport,
        recipient=recipient,
        originator=originator,
        conversation_id=token(8),
        contribution_id=token(8),
        **headers,
    )
    return stim, session


def device_invite_of(pf, contribution_id: str):
    """Predicate: an INVITE the PF sent a simulated device for this test's message."""

    def match(m: SipMessage) -> bool:
        return (
            m.is_request
            and m.method == "INVITE"
            and pf.core.device_for(m.request_uri or "") is not None
            and (m.header("Contribution-ID") or "").strip() == contribution_id
        )

    return match


def device_legs(pf, r: LargeRelay) -> list:
    """The device INVITEs the SUT sent for the exchange `r` (large_through_pf), read from its
    captured View: every one, in capture order, not only those the steps waited for."""
    return r.view.requests("INVITE", from_sut=True, where=device_invite_of(pf, r.contribution_id))


@contextlib.asynccontextmanager
async def declining_legs(pf, contribution_id: str):
    """While the block runs, every device INVITE the PF forks for this message gets 486;
    yields the list of the legs declined so far."""
    declined: list[SipMessage] = []

    async def decline() -> None:
        while True:
            try:
                leg = await pf.core.wait(
                    device_invite_of(pf, contribution_id), "a device INVITE", 3600
                )
            except NoAnswer:
                continue
            declined.append(leg)
            await pf.respond(leg, 486, "Busy Here")

    task = asyncio.ensure_future(decline())
    try:
        yield declined
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def refused(pf, stim) -> Refused:
    """Send an INVITE the PF should refuse; devices turn down any leg it forks anyway."""
    async with declining_legs(pf, stim.message.header("Contribution-ID")):
        await pf.transact(stim)
    return Refused(Ids.of(stim), await pf.settle())


async def _first_error(*aws):
    """Run the awaitables together; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for t in done:
            if t.exception() is not None:
                raise t.exception()
        return [t.result() for t in tasks]
    finally:
        for t in tasks:
            if not t.done():
                t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _close_other_legs(pf, legs: list[SipMessage]) -> None:
    """The PF should CANCEL the legs it did not choose: answer each CANCEL (200, then 487 to
    the INVITE); a leg it leaves pending is turned down with 480 after the settle time."""
    for leg in legs:
        try:
            cancel = await pf.wait_request(
                "CANCEL", "CANCEL of an unchosen leg", where=lambda m, c=leg.call_id: m.call_id == c
            )
        except NoAnswer:
            await pf.respond(leg, 480, "Temporarily Unavailable")
            continue
        await pf.respond(cancel, 200, "OK")
        await pf.respond(leg, 487, "Request Terminated")


UTF8_SPLIT = 0  # chunk_size meaning: a size whose boundaries fall inside a UTF-8 character


def utf8_splitting_chunk(body: bytes, near: int = 97) -> int:
    """The first chunk size from `near` up that cuts `body` inside a multi-byte character."""
    for size in range(near, len(body)):
        if any(body[k] & 0xC0 == 0x80 for k in range(size, len(body), size)):
            return size
    raise ValueError("the body has no multi-byte character to split")


async def large_through_pf(
    pf, text: str, *, chunk_size: int = 2048, recipient=None, transport=None
) -> LargeRelay:
    """The whole large-mode exchange through the PF. Returns a `LargeRelay`: identifiers of
    what was exchanged, our MSRP sessions, where it stopped and why, and the View. The
    sender's SIP requests go over `transport` (by default the profile's).

    A final error to the sender's INVITE before any device leg came raises `SetupRefused`
    at once: no device leg can be judged, and none is waited for. The recipient is by
    default the single-device recipient."""
    recipient = recipient or pf.role("single_device_recipient")
    cpim, _ = pf.cpim(pf.role("originator"), recipient, text)
    if chunk_size == UTF8_SPLIT:
        chunk_size = utf8_splitting_chunk(cpim)
    stim, sender = invite_to_pf(pf, len(cpim), recipient=recipient, transport=transport)
    cid = stim.message.header("Contribution-ID")
    selected = [d for d in pf.core.devices if d.user == recipient and d.selected]
    out = LargeRelay(Ids.of(stim), cid, sender, cpim)
    legs: list[SipMessage] = []  # the device INVITEs as our socket got them (step-internal)
    final = None
    upstream = asyncio.ensure_future(pf.transact(stim, transport=transport))
    # The PF's final error to the INVITE ends any wait for a device leg at once.
    refused_upstream = refusal("the sender's INVITE", "no device leg could be judged")
    try:
        try:
            first = await unless(
                pf.wait_request("INVITE", "an INVITE to a device", where=device_invite_of(pf, cid)),
                upstream,
                refused_upstream,
            )
        except SetupRefused:
            await pf.settle()
            raise
        legs.append(first)
        device = pf.msrp.session()
        device.remote_path = msrp_path(first)
        answer = pf.sdp(
            "answer",
            device,
            setup="active",
            direction="recvonly",
            accept_types=["message/cpim"],
            accept_wrapped_types=["*"],
        )
        dev = pf.core.device_for(first.request_uri or "")
        device_contact = f"<sip:{dev.name}@{pf.core.host}:{pf.core.port}>"
        out.device, out.device_contact, out.device_path = device, device_contact, [device.local]
        await pf.respond(
            first,
            200,
            "OK",
            body=answer,
            content_type="application/sdp",
            headers=[("Contact", device_contact)],
        )
        for _ in selected[1:]:
            try:
                leg = await unless(
                    pf.wait_request(
                        "INVITE", "an INVITE to another device", where=device_invite_of(pf, cid)
                    ),
                    upstream,
                    refused_upstream,
                )
            except (NoAnswer, SetupRefused):
                break  # judged from the legs that came (6.i); a refusal is read below
            legs.append(leg)
        closing = asyncio.ensure_future(_close_other_legs(pf, legs[1:]))
        try:
            ex = await upstream
        except BaseException:
            forget(closing)
            raise
        await closing
        final = ex.final
        out.status = None if final is None else final.status
        if final is None or final.status != 200:
            out.stopped = f"the PF answered the INVITE with {final.status if final else 'nothing'}"
            if final is not None and final.status >= 300:
                out.stop = SetupRefused(
                    "the sender's INVITE", final.status, final.reason or "", "no session was set up"
                )
                out.stopped = str(out.stop)
            out.device_invites = [Ids.of(m) for m in legs]
            out.view = await pf.settle()
            return out
        # A 2xx is always acknowledged, even one whose answer we cannot use (RFC 3261 13.2.2.4).
        ack = pf.core.in_dialog(
            stim.message, final, "ACK", stim.message.cseq[0], transport=transport
        )
        pf.stimuli.append(ack)
        await pf.core.send(ack, pf.pf_address, transport)
        try:  # a missing ACK is judged (ack-2); the device side can still take the media
            device_ack = await pf.wait_request(
                "ACK", "the ACK passed on to the device", where=lambda m: m.call_id == first.call_id
            )
        except NoAnswer:
            device_ack = None
        out.device_ack = Ids.of(device_ack)
        sender.remote_path = msrp_path(final)
        if not sender.remote_path or sender.first_hop[1] == pf.msrp.port:
            # No PF hop first (judged by first200-2b): the sender would talk to our own
            # device session, which exercises nothing of the PF.
            out.stopped = "the answer's a=path does not lead to the PF first, so no relay"
            out.no_relay = True
            with contextlib.suppress(NoAnswer):
                await _bye(pf, out, stim, final, first, transport)
            out.device_invites = [Ids.of(m) for m in legs]
            out.view = await pf.settle()
            return out
        await pf.msrp.bind(device)
        await pf.msrp.bind(sender)
        out.bound = True
        responses, (body, _) = await _first_error(
            pf.msrp.send_message(sender, cpim, chunk_size), pf.msrp.receive_message(device)
        )
        out.chunk_tids = [r.transaction_id for r in responses]
        out.received = body
    except NoAnswer as exc:
        out.stopped, out.stop = str(exc), exc
    except CodecError as exc:  # an a=path or MSRP message of the SUT's we cannot use
        out.stopped = f"the PF's MSRP path or data cannot be used ({exc})"
    finally:
        forget(upstream)
    if final is not None and final.status == 200:
        with contextlib.suppress(NoAnswer):
            await _bye(pf, out, stim, final, legs[0], transport)
    out.device_invites = [Ids.of(m) for m in legs]
    out.view = await pf.settle()
    return out


def stopped(r: LargeRelay, context: str) -> Inconclusive:
    """The inconclusive verdict for an exchange that ended early: `context`, then why, with
    the cause of the error that stopped it (no answer, a refusal; else a precondition)."""
    cause = Cause(r.stop.cause) if r.stop is not None else Cause.PRECONDITION
    return Inconclusive(f"{context}: {r.stopped}" if r.stopped else context, cause=cause)


async def _bye(pf, out: LargeRelay, stim, final, first, transport=None) -> None:
    bye = pf.core.in_dialog(
        stim.message, final, "BYE", stim.message.cseq[0] + 1, transport=transport
    )
    pf.stimuli.append(bye)
    out.bye = Ids.of(bye)
    bye_final = (await pf.transact(bye, transport=transport)).final
    out.bye_status = None if bye_final is None else bye_final.status
    if bye_final is not None and bye_final.status >= 300:
        return  # the PF refused the BYE: no BYE to the device is waited for (bye-2 judges)
    bye_in = await pf.wait_request(
        "BYE", "the BYE to the device", where=lambda m: m.call_id == first.call_id
    )
    out.device_bye = Ids.of(bye_in)
    await pf.respond(bye_in, 200, "OK")


@dataclass(frozen=True)
class PagerRelay:
    """A pager-mode MESSAGE from the originator through the PF to the single-device recipient
    (pager_through_pf): the MESSAGE's identifiers, its Contribution-ID and the View."""

    message: Ids
    contribution_id: str
    view: View


async def pager_through_pf(pf, text: str = "recorded") -> PagerRelay:
    """Send the originator's MESSAGE (a CPIM wrapper of `text`) to the PF, answer the copies
    the recipient's devices get, and settle the capture."""
    originator, recipient = pf.role("originator"), pf.role("single_device_recipient")
    body, _ = pf.cpim(originator, recipient, text)
    stim = pf.render(
        "pf/message_from_originator.sip.j2",
        body=body,
        recipient=recipient,
        originator=originator,
        conversation_id=token(8),
        contribution_id=token(8),
        content_type="message/cpim",
    )
    cid = stim.message.header("Contribution-ID")
    async with pf.devices_answering(cid):
        await pf.transact(stim)
    return PagerRelay(Ids.of(stim), cid, await pf.settle())


# The chunkings of a recorded large-mode message, by variant id: one chunk, and chunk
# boundaries inside a UTF-8 character.
CHUNK_VARIANTS = {"one-chunk": 100_000, "utf8-split-chunks": UTF8_SPLIT}


async def large_to_bye(pf, chunk_size: int, text_size: int = 1500) -> LargeRelay:
    """A large-mode message through the PF that must reach the sender's BYE (the exchange a
    recording clause reads); otherwise the case is inconclusive with where it stopped."""
    r = await large_through_pf(pf, large_text(text_size), chunk_size=chunk_size)
    if r.bye_status is None:
        raise stopped(r, "the exchange did not reach the sender's BYE")
    return r
