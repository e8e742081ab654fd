"""Steps shared by the client test cases: make the SUT client send, and deliver to it.

Kept apart from the test modules so each test reads as stimulus, exchange, expectations.
The upper tester makes the client act; the core answers and delivers as the PF would.
"""

from __future__ import annotations

import asyncio

from cpmconf.codec.sip import SipMessage
from cpmconf.roles.stimulus import token
from cpmconf.verdict.checks import pager

ALICE = "sip:alice@example.net"
BOB = "sip:bob@example.net"


def not_imdn(m: SipMessage) -> bool:
    return not pager.is_imdn(m)


async def client_sends(client, uid: int | None = None, status: int = 200, **options):
    """Have the client send one standalone message; answer it as the network would.

    Returns (the MESSAGE as captured, the upper tester's answer, the View).
    """
    task = asyncio.ensure_future(client.ut.send(**options))
    try:
        msg = await client.wait_request("MESSAGE", "MESSAGE from the client", where=not_imdn)
        headers = [("Message-UID", str(uid))] if uid is not None else []
        await client.respond(msg, status, "OK" if status == 200 else "Error", headers=headers)
        answer = await asyncio.wait_for(task, client.guard)
    finally:
        if not task.done():
            task.cancel()
    view = await client.settle()
    captured = view.requests("MESSAGE", from_sut=True, where=lambda m: m.call_id == msg.call_id)
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
