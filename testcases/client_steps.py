"""Steps shared by the client test cases: make the SUT client send, and deliver to it.

Kept apart from the test modules so each test reads as stimulus, exchange, expectations.
The upper tester makes the client act; the core answers and delivers as the PF would.
"""

from __future__ import annotations

import asyncio

from cpmconf.codec.errors import CodecError
from cpmconf.codec.sip import SipMessage
from cpmconf.roles.errors import NoAnswer
from cpmconf.roles.stimulus import token
from cpmconf.verdict.checks import pager

ALICE = "sip:alice@example.net"
BOB = "sip:bob@example.net"


def not_imdn(m: SipMessage) -> bool:
    return not pager.is_imdn(m)


async def client_sends(
    client, uid: int | None = None, status: int = 200, allow_invite=False, **options
):
    """Have the client send one standalone message; answer it as the network would.

    Returns (the MESSAGE as captured, the upper tester's answer, the View). With
    ``allow_invite`` a large-mode INVITE is taken instead (refused with 488) and returned, so
    the caller can judge the mode the client chose.
    """
    task = asyncio.ensure_future(client.ut.send(**options))
    try:
        if allow_invite:
            msg = await client.core.wait(
                lambda m: m.is_request and m.method in ("INVITE", "MESSAGE") and not_imdn(m),
                "MESSAGE (or an INVITE) from the client",
            )
        else:
            msg = await client.wait_request("MESSAGE", "MESSAGE from the client", where=not_imdn)
        headers = [("Message-UID", str(uid))] if uid is not None else []
        if msg.method == "INVITE":
            await client.respond(msg, 488, "Not Acceptable Here")
        else:
            await client.respond(msg, status, "OK" if status == 200 else "Error", headers=headers)
        answer = await asyncio.wait_for(task, client.guard)
    finally:
        if not task.done():
            task.cancel()
    view = await client.settle()
    captured = view.requests(msg.method, from_sut=True, where=lambda m: m.call_id == msg.call_id)
    return (captured[0] if captured else msg), answer, view


async def deliver_to_client(
    client,
    *,
    icsi=None,
    reply_to=None,
    in_reply_to=None,
    uid=None,
    disposition=None,
    text="hello carol",
    originator=ALICE,
):
    """Deliver a pager MESSAGE to the client as its PF would; returns (stimulus, final, imdn_id)."""
    user = client.profile.client.user
    body, imdn_id = client.cpim(originator, user, text, disposition=disposition)
    stim = client.render(
        "client/message_to_client.sip.j2",
        body=body,
        target=client.client_contact or user,
        originator=originator,
        recipient=user,
        icsi=icsi or pager.ICSI_MSG,
        conversation_id=token(8),
        contribution_id=token(8),
        in_reply_to=in_reply_to,
        reply_to=reply_to,
        message_uid=uid,
    )
    ex = await client.transact(stim, client.client_address)
    return stim, ex.final, imdn_id


async def received_entry(client, call_id: str) -> dict | None:
    listing = await client.ut.messages()
    for m in listing.get("received", []):
        if m.get("call_id") == call_id:
            return m
    return None


def large_text(size: int = 1301) -> str:
    """A text whose CPIM wrapper is well over the pager limit, with multi-byte characters so
    chunk boundaries can fall inside one."""
    unit = "large message é€ "
    return (unit * (size // len(unit) + 1))[:size]


async def client_sends_large(
    client, text: str, uid: int | None = 9001, allow_message=False, **options
):
    """Have the client send a large-mode message; play its PF: answer, take the MSRP transfer,
    answer the BYE. Returns a dict with invite, answer (our 200), session, body, sends, bye,
    upper-tester answer and the View."""
    from cpmconf.codec.sdp import build_sdp
    from cpmconf.verdict.checks.large import path_of

    out: dict = {}
    task = asyncio.ensure_future(client.ut.send(text=text, **options))
    try:
        first = await client.core.wait(
            lambda m: m.is_request and m.method in ("INVITE", "MESSAGE") and not_imdn(m),
            "INVITE (or a wrongly chosen MESSAGE) from the client",
        )
        if first.method == "MESSAGE":
            # Sent in pager mode although over the limit: answer it so the client finishes,
            # and let the caller judge that no INVITE came.
            await client.respond(first, 200, "OK")
            out.update(invite=None, message=first, ut=await asyncio.wait_for(task, client.guard))
            out["view"] = await client.settle()
            if not allow_message:
                from cpmconf.verdict import Inconclusive

                raise Inconclusive(
                    "the client sent a MESSAGE instead of an INVITE "
                    "(judged by TS-7.2.1.3-4-large), so this cannot be judged"
                )
            return out
        invite = first
        out["invite"] = invite
        session = client.msrp.session()
        session.remote_path = path_of(invite)
        sdp = build_sdp(
            host=client.core.host,
            path=[session.local],
            setup="passive",
            direction="recvonly",
            accept_types=["message/cpim"],
            accept_wrapped_types=["*"],
        )
        out["answer"] = await client.respond(
            invite,
            200,
            "OK",
            body=bytes(str(sdp), "utf-8"),
            content_type="application/sdp",
            headers=[
                ("Contact", f"<sip:cpm-pf@{client.core.host}:{client.core.port}>"),
                ("Session-Expires", "1800;refresher=uac"),
                ("Require", "timer"),
            ],
        )
        out["session"] = session
        # From here on a missing step is the SUT's failure, judged by the caller from the
        # capture (no ACK, no MSRP transfer, no BYE), not a reason to stop.
        try:
            out["ack"] = await client.wait_request("ACK", "ACK from the client")
        except NoAnswer:
            out["ack"] = None
        try:
            out["body"], out["sends"] = await client.msrp.receive_message(session)
        except (NoAnswer, CodecError):
            out["body"], out["sends"] = None, []
        try:
            bye = await client.wait_request("BYE", "BYE from the client")
        except NoAnswer:
            bye = None
        out["bye"] = bye
        headers = [("Message-UID", str(uid))] if uid is not None else []
        if bye is not None:
            await client.respond(bye, 200, "OK", headers=headers)
        if out["body"] is None:
            # A transfer that stalled: the upper tester's answer is not needed to judge it,
            # and waiting for it would only turn the failure into an upper-tester timeout.
            out["ut"] = None
        else:
            out["ut"] = await asyncio.wait_for(task, client.guard)
    finally:
        if not task.done():
            task.cancel()
    out["view"] = await client.settle()
    return out


async def deliver_large_to_client(
    client,
    text: str,
    *,
    uid: int | None = 4711,
    accept_types=("message/cpim",),
    chunk_size: int = 1024,
    icsi=None,
):
    """Deliver a large-mode message to the client as its PF would: INVITE with an SDP offer
    (our MSRP path, setup passive), ACK, accept the client's connection and binding SEND,
    send the CPIM wrapper in chunks, then BYE with Message-UID. Returns a dict."""
    from cpmconf.codec.sdp import build_sdp
    from cpmconf.verdict.checks import large as large_checks

    user = client.profile.client.user
    session = client.msrp.session()
    offer = build_sdp(
        host=client.core.host,
        path=[session.local],
        setup="passive",
        direction="sendonly",
        accept_types=list(accept_types),
        accept_wrapped_types=["text/plain"],
    )
    stim = client.render(
        "client/invite_to_client.sip.j2",
        body=bytes(str(offer), "utf-8"),
        target=client.client_contact or user,
        originator=ALICE,
        recipient=user,
        icsi=icsi or large_checks.ICSI_LARGEMSG,
        conversation_id=token(8),
        contribution_id=token(8),
        in_reply_to=token(8),
    )
    out = {"invite": stim, "session": session}
    ex = await client.transact(stim, client.client_address)
    out["final"] = final = ex.final
    if final is None or final.status != 200:
        out["view"] = await client.settle()
        return out
    session.remote_path = large_checks.path_of(final)
    ack = client.core.in_dialog(stim.message, final, "ACK", stim.message.cseq[0])
    client.stimuli.append(ack)
    await client.core.send(ack, client.client_address)
    try:
        out["bind"] = await client.msrp.accept_bind(session)
    except NoAnswer:
        # No connection or no binding SEND: judged from the capture by the caller.
        out["bind"] = None
        out["view"] = await client.settle()
        return out
    cpim, _ = client.cpim(ALICE, user, text)
    out["cpim"] = cpim
    await client.msrp.send_message(session, cpim, chunk_size)
    headers = [("Message-UID", str(uid))] if uid is not None else []
    bye = client.core.in_dialog(stim.message, final, "BYE", stim.message.cseq[0] + 1, headers)
    client.stimuli.append(bye)
    out["bye"] = await client.transact(bye, client.client_address)
    out["view"] = await client.settle()
    return out
