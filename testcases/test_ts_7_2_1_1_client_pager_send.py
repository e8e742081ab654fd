"""TS 7.2.1.1 and 7.2.1.3 (004): a CPM Client sending a pager-mode standalone message.

The upper tester makes the client send; the core plays the client's outbound proxy and
answers as the originating PF would. Each test judges the MESSAGE as captured on the wire.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from cpmconf.procedures.client import (
    adhoc_factory,
    client_sends,
    deliver_to_client,
    originator,
    received_entry,
    recipient,
    require_accepted,
)
from cpmconf.roles.upper_tester import member
from cpmconf.verdict import Inconclusive
from cpmconf.verdict.checks import pager
from testcases.judging import request_via_core


@pytest.mark.clause("TS-7.2.1.1-1", "TS-7.2.1.1-3")
async def test_msg_icsi_in_accept_contact_and_preferred_service(client, expect):
    msg, _, _ = await client_sends(client, to=recipient(client), text="hi")
    expect.judge("TS-7.2.1.1-1", pager.accept_contact_msg_icsi(msg))
    expect.judge("TS-7.2.1.1-3", pager.p_preferred_service_msg(msg))


@pytest.mark.clause("TS-7.2.1.1-5")
async def test_user_agent_names_the_release(client, expect):
    msg, _, _ = await client_sends(client, to=recipient(client), text="hi")
    expect.judge("TS-7.2.1.1-5", pager.user_agent_release(msg, client.profile.client.release))


@pytest.mark.clause("TS-7.2.1.1-8", "TS-7.2.1.1-8a", "TS-7.2.1.3-2a")
async def test_new_message_goes_to_the_target(client, expect):
    msg, _, _ = await client_sends(client, to=recipient(client), text="hi")
    expect.judge("TS-7.2.1.1-8", pager.request_uri_is(msg, recipient(client)))
    expect.judge("TS-7.2.1.1-8a", pager.request_uri_is(msg, recipient(client)))
    expect.judge("TS-7.2.1.3-2a", pager.cpim_to(msg, recipient(client)))


@pytest.mark.clause("TS-7.2.1.1-11-new", "TS-7.2.1.1-12")
async def test_new_messages_get_new_conversation_and_contribution_ids(client, expect):
    first, _, _ = await client_sends(client, to=recipient(client), text="one")
    second, _, _ = await client_sends(client, to=recipient(client), text="two")
    earlier_conv = [first.header("Conversation-ID") or ""]
    earlier_contrib = [first.header("Contribution-ID") or ""]
    expect.judge("TS-7.2.1.1-11-new", pager.conversation_id_new(first, []))
    expect.judge("TS-7.2.1.1-11-new", pager.conversation_id_new(second, earlier_conv))
    expect.judge("TS-7.2.1.1-12", pager.contribution_id_new(first, []))
    expect.judge("TS-7.2.1.1-12", pager.contribution_id_new(second, earlier_contrib))


@pytest.mark.clause("TS-7.2.1.1-11-existing")
async def test_message_in_a_conversation_reuses_its_id(client, expect):
    first, answer, _ = await client_sends(client, to=recipient(client), text="one")
    second, _, _ = await client_sends(
        client, to=recipient(client), text="two", conversation=member(answer, "id", "POST /send")
    )
    expect.judge(
        "TS-7.2.1.1-11-existing",
        pager.conversation_id_existing(second, first.header("Conversation-ID") or ""),
    )


@pytest.mark.clause("TS-7.2.1.1-14", "TS-7.2.1.1-15", "TS-7.2.1.3-intro", "TS-7.2.1.3-1")
async def test_body_is_a_cpim_wrapper_from_the_user(client, expect):
    msg, _, _ = await client_sends(client, to=recipient(client), text="wrapped")
    for clause in ("TS-7.2.1.1-14", "TS-7.2.1.3-intro"):
        expect.judge(clause, pager.body_is_cpim(msg))
    expect.judge("TS-7.2.1.1-15", pager.typed_cpim(msg))
    expect.judge("TS-7.2.1.3-1", pager.cpim_from(msg, client.profile.client.user))


@pytest.mark.clause("TS-7.2.1.1-16")
async def test_message_is_sent_through_the_core(client, expect):
    msg, _, view = await client_sends(client, to=recipient(client), text="routed")
    sent = view.requests("MESSAGE", from_sut=True, where=lambda m: m.call_id == msg.call_id)
    expect.judge(
        "TS-7.2.1.1-16",
        request_via_core(client, view, sent, "the client's MESSAGE", role="client"),
    )


@pytest.mark.clause("TS-7.2.1.1-17")
async def test_message_uid_from_the_200_is_kept(client, expect):
    _, answer, _ = await client_sends(client, uid=4242, to=recipient(client), text="stored")
    listing = await client.ut.messages()
    entry = next((m for m in listing.get("sent", []) if m.get("id") == answer.get("id")), {})
    expect.judge("TS-7.2.1.1-17", pager.uid_reported(entry.get("message_uid"), 4242))


@pytest.mark.clause("TS-7.2.1.1-4")
async def test_requested_reply_address_is_in_reply_to(client, expect):
    other = client.in_domain("reply-address")  # an address the test system makes up
    msg, _, _ = await client_sends(
        client, to=recipient(client), text="reply elsewhere", reply_address=other
    )
    expect.judge("TS-7.2.1.1-4", pager.reply_to_present(msg, other))


@pytest.mark.clause("TS-7.2.1.1-6")
async def test_anonymous_message_carries_privacy_id(client, expect):
    msg, _, _ = await client_sends(client, to=recipient(client), text="anon", anonymous=True)
    expect.judge("TS-7.2.1.1-6", pager.privacy_id(msg))


@pytest.mark.clause("TS-7.2.1.1-7")
async def test_expiry_is_carried_in_expires(client, expect):
    msg, _, _ = await client_sends(client, to=recipient(client), text="soon gone", expires=3600)
    expect.judge("TS-7.2.1.1-7", pager.expires_present(msg, 3600))


@pytest.mark.clause("TS-7.2.1.1-8b", "TS-7.2.1.1-8c", "TS-7.2.1.1-13")
@pytest.mark.parametrize(
    "reply_to", ["reply-desk", None], ids=["with-reply-to", "without-reply-to"]
)
async def test_reply_goes_to_reply_to_or_originator(client, expect, reply_to):
    reply_to = client.in_domain(reply_to) if reply_to else None  # a made-up address
    d = await deliver_to_client(client, reply_to=reply_to)
    require_accepted(d, "there is no received message to reply to")
    entry = await received_entry(client, d.call_id)
    if entry is None:
        raise Inconclusive("the client did not list the message it was sent, so it cannot reply")
    msg, _, _ = await client_sends(client, text="answer", reply_to_message=entry["id"])
    target = reply_to or originator(client)
    clause = "TS-7.2.1.1-8b" if reply_to else "TS-7.2.1.1-8c"
    expect.judge(clause, pager.request_uri_is(msg, target))
    other = "TS-7.2.1.1-8c" if reply_to else "TS-7.2.1.1-8b"
    expect.judge(other, pager.request_uri_is(msg, target))
    expect.judge("TS-7.2.1.1-13", pager.in_reply_to(msg, d.contribution_id))


@pytest.mark.clause("TS-7.2.1.1-9", "TS-7.2.1.1-9a", "TS-7.2.1.1-9b", "TS-7.2.1.3-2b")
async def test_adhoc_group_goes_to_the_controlling_function_with_a_list(client, expect):
    targets = [recipient(client), client.in_domain("second-member")]
    factory = adhoc_factory(client)
    msg, _, _ = await client_sends(client, group={"kind": "adhoc", "targets": targets}, text="all")
    expect.judge("TS-7.2.1.1-9", pager.request_uri_is(msg, factory))
    expect.judge("TS-7.2.1.1-9a", pager.request_uri_is(msg, factory))
    expect.judge("TS-7.2.1.1-9b", pager.resource_list_targets(msg, targets))
    expect.judge("TS-7.2.1.3-2b", pager.cpim_to(msg, factory))


@pytest.mark.clause("TS-7.2.1.1-10", "TS-7.2.1.3-2c")
async def test_predefined_group_is_addressed_directly(client, expect):
    msg, _, _ = await client_sends(
        client, group={"kind": "predefined", "uri": client.in_domain("cpmconf-group")}, text="grp"
    )
    expect.judge("TS-7.2.1.1-10", pager.request_uri_is(msg, client.in_domain("cpmconf-group")))
    expect.judge("TS-7.2.1.3-2c", pager.cpim_to(msg, client.in_domain("cpmconf-group")))


@pytest.mark.clause("TS-7.2.1.3-3")
async def test_disposition_request_in_cpim(client, expect):
    wanted = ["positive-delivery", "display"]
    msg, _, _ = await client_sends(client, to=recipient(client), text="tell me", disposition=wanted)
    expect.judge("TS-7.2.1.3-3", pager.disposition_requested(msg, wanted))


@pytest.mark.clause("TS-7.2.1.1-intro", "TS-7.2.1.3-4-pager")
async def test_a_1300_byte_wrapper_goes_in_pager_mode(client, expect):
    # Calibrate: the wrapper adds a fixed overhead to the text; size the text so that the
    # CPIM wrapper the client builds is exactly 1300 bytes (D-pager-threshold).
    # The probe's text has as many digits in its length as the final one, so the inner
    # Content-Length header has the same width.
    probe, _, _ = await client_sends(client, to=recipient(client), text="x" * 1000)
    overhead = len(probe.body) - 1000
    msg, _, _ = await client_sends(
        client, to=recipient(client), text="y" * (1300 - overhead), allow_invite=True
    )
    note_size = len(msg.body)
    for clause in ("TS-7.2.1.1-intro", "TS-7.2.1.3-4-pager"):
        j = pager.pager_for_small(msg)
        expect.judge(
            clause,
            j
            if note_size == 1300 or msg.method != "MESSAGE"
            else replace(j, note=f"calibrated wrapper came out at {note_size} bytes, not 1300"),
        )


@pytest.mark.clause("TS-7.2.1.1-9c", "TS-7.2.1.1-9d")
@pytest.mark.parametrize(
    "reply_to", ["reply-desk", None], ids=["with-reply-to", "without-reply-to"]
)
async def test_group_reply_lists_the_replied_party(client, expect, reply_to):
    reply_to = client.in_domain(reply_to) if reply_to else None  # a made-up address
    d = await deliver_to_client(client, reply_to=reply_to)
    require_accepted(d, "there is no received message to reply to")
    entry = await received_entry(client, d.call_id)
    if entry is None:
        raise Inconclusive("the client did not list the message it was sent, so it cannot reply")
    group = {"kind": "adhoc", "targets": [recipient(client)]}
    msg, _, _ = await client_sends(client, group=group, text="all", reply_to_message=entry["id"])
    replied = reply_to or originator(client)
    clause, other = (
        ("TS-7.2.1.1-9c", "TS-7.2.1.1-9d") if reply_to else ("TS-7.2.1.1-9d", "TS-7.2.1.1-9c")
    )
    expect.judge(clause, pager.resource_list_targets(msg, [replied]))
    expect.judge(other, pager.resource_list_targets(msg, [replied]))


@pytest.mark.clause("TS-7.2.1.1-2", "TS-7.2.1.1-2-registered")
async def test_asserted_originator_if_any_is_the_users(client, expect):
    msg, _, _ = await client_sends(client, to=recipient(client), text="who")
    user = client.profile.client.user
    expect.judge("TS-7.2.1.1-2", pager.optional_identity(msg, "P-Preferred-Identity", user))
    expect.judge("TS-7.2.1.1-2-registered", pager.identity_registered(msg, user))
