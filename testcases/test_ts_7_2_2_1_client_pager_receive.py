"""TS 7.2.2.1 and 7.2.2.3 (004): a CPM Client receiving a pager-mode standalone message.

The core delivers a MESSAGE to the client as the terminating PF would; the tests judge the
client's response, the disposition notification it sends back, and (through the upper
tester) the Message-UID it kept.
"""

from __future__ import annotations

import pytest

from cpmconf.procedures.client import (
    deliver_to_client,
    delivery_notification,
    originator,
    received_entry,
    require_accepted,
)
from cpmconf.roles.stimulus import token
from cpmconf.verdict import Inconclusive
from cpmconf.verdict.checks import pager, routing


@pytest.mark.clause("TS-7.2.2.1-intro", "TS-7.2.2.1-1", "TS-7.2.2.1-2", "TS-7.2.2.1-4")
@pytest.mark.parametrize("icsi", [pager.ICSI_MSG, pager.ICSI_DEFERRED], ids=["msg", "deferred"])
@pytest.mark.parametrize("reply", [False, True], ids=["new", "in-reply"])
async def test_200_names_the_release_and_echoes_the_conversation(client, expect, icsi, reply):
    d = await deliver_to_client(client, icsi=icsi, in_reply_to=token(8) if reply else None)
    view = await client.settle()
    final = view.final_to(d.call_id, d.request.cseq)
    expect.judge("TS-7.2.2.1-intro", pager.answered_200(final))
    # -2 and -4 are about the 200: another final (or none) leaves them not-applicable, with
    # the status seen. -1 holds when the client accepts: a refusal leaves it unjudged.
    expect.judge("TS-7.2.2.1-2", pager.server_release(final, client.profile.client.release))
    expect.judge("TS-7.2.2.1-4", pager.echoes_conversation_headers(final, view.find(d.request)))
    require_accepted(final, "what a client that accepts it answers cannot be judged")
    expect.judge("TS-7.2.2.1-1", pager.answered_200(final))


@pytest.mark.clause("TS-7.2.2.1-5")
async def test_response_comes_back_through_the_core(client, expect):
    d = await deliver_to_client(client)
    view = await client.settle()
    expect.judge(
        "TS-7.2.2.1-5",
        routing.response_via_core(view, view.find(d.request), "the client's response"),
    )


@pytest.mark.clause("TS-7.2.2.1-7", "TS-7.2.2.3-5")
async def test_message_uid_from_the_message_is_kept(client, expect):
    d = await deliver_to_client(client, uid=777)
    require_accepted(d, "no received message can report the Message-UID")
    await client.settle()
    entry = await received_entry(client, d.call_id)
    reported = entry.get("message_uid") if entry else None
    expect.judge("TS-7.2.2.1-7", pager.uid_reported(reported, 777))
    expect.judge("TS-7.2.2.3-5", pager.uid_reported(reported, 777))


@pytest.mark.clause("TS-7.2.2.3-3", "TS-7.2.1.1-12-imdn")
async def test_delivery_notification_is_sent_when_asked(client, expect):
    d = await deliver_to_client(client, disposition="positive-delivery")
    imdn_id = d.imdn_id
    require_accepted(d, "no delivery notification can follow")
    imdn = await client.observe(
        lambda m: m.is_request and m.method == "MESSAGE" and pager.is_imdn(m),
        "the delivery notification",
        client.guard,
    )
    if imdn is not None:
        await client.respond(imdn, 200, "OK")
    view = await client.settle()
    sent = view.requests("MESSAGE", from_sut=True, where=pager.is_imdn)
    imdn = sent[0] if sent else None
    expect.judge("TS-7.2.2.3-3", pager.delivery_imdn(imdn, imdn_id))
    if imdn is None:
        raise Inconclusive("no notification was sent, so its Contribution-ID cannot be judged")
    expect.judge(
        "TS-7.2.1.1-12-imdn",
        pager.imdn_contribution_id(imdn, d.contribution_id),
    )


@pytest.mark.clause("TS-7.2.2.3-3-to")
async def test_delivery_notification_goes_to_the_sender(client, expect):
    d = await deliver_to_client(client, disposition="positive-delivery")
    require_accepted(d, "no delivery notification can follow")
    sent = await delivery_notification(client)
    view = await client.settle()
    imdn = view.find(sent, from_sut=True) if sent else None
    expect.judge("TS-7.2.2.3-3-to", pager.imdn_to_sender(imdn, originator(client)))


@pytest.mark.clause("TS-7.2.2.1-3", "TS-7.2.2.1-3-registered")
async def test_asserted_recipient_if_any_is_the_users(client, expect):
    d = await deliver_to_client(client)
    view = await client.settle()
    finals = view.finals(d.call_id, d.request.cseq, from_sut=True)
    if not finals:
        raise Inconclusive("the client sent no final response")
    user = client.profile.client.user
    expect.judge("TS-7.2.2.1-3", pager.optional_identity(finals[0], "P-Preferred-Identity", user))
    expect.judge("TS-7.2.2.1-3-registered", pager.identity_registered(finals[0], user))
