"""TS 7.2.1.2 (004): a CPM Client sending a large-mode standalone message.

The upper tester makes the client send more than 1300 bytes; the core answers the INVITE as
the originating PF would (its own MSRP path, setup passive), takes the chunked MSRP transfer on
the test system's MSRP listener, and answers the BYE with a Message-UID.
"""

from __future__ import annotations

import pytest

from cpmconf.codec.errors import CodecError
from cpmconf.procedures.client import (
    adhoc_factory,
    client_cancels_large,
    client_sends_large,
    deliver_to_client,
    large_text,
    originator,
    received_entry,
    recipient,
    refresher,
    require_accepted,
)
from cpmconf.roles.upper_tester import member
from cpmconf.verdict import Inconclusive
from cpmconf.verdict.checks import large, pager
from testcases.judging import request_via_core

SIZES = {"1301-bytes": 1301, "1-MiB": 1024 * 1024}
DESK = "reply-desk"  # the local part of the Reply-To of a message the client replies to


@pytest.mark.clause(
    "TS-7.2.1.2-1",
    "TS-7.2.1.2-2",
    "TS-7.2.1.2-3",
    "TS-7.2.1.2-6",
    "TS-7.2.1.2-12",
    "TS-7.2.1.2-13",
    "TS-7.2.1.2-18",
)
async def test_invite_headers(client, expect):
    r = await client_sends_large(client, large_text(), to=recipient(client))
    inv = invite_of(r)
    expect.judge("TS-7.2.1.2-1", large.accept_contact_icsi(inv))
    expect.judge("TS-7.2.1.2-2", large.contact_icsi(inv))
    expect.judge("TS-7.2.1.2-3", large.preferred_service(inv))
    expect.judge("TS-7.2.1.2-6", pager.user_agent_release(inv, client.profile.client.release))
    expect.judge("TS-7.2.1.2-12", large.supported_timer(inv))
    expect.judge("TS-7.2.1.2-13", large.session_expires_uac(inv))
    view = r.view
    sent = view.requests("INVITE", from_sut=True, where=lambda m: m.call_id == inv.call_id)
    expect.judge(
        "TS-7.2.1.2-18",
        request_via_core(client, view, sent, "the client's INVITE", role="client"),
    )


@pytest.mark.clause(
    "TS-7.2.1.2-intro",
    "TS-7.2.1.3-4-large",
    "TS-7.2.1.2-9",
    "TS-7.2.1.2-9a",
    "TS-7.2.1.2-14-new",
    "TS-7.2.1.2-15",
)
async def test_over_1300_bytes_goes_as_an_invite_to_the_target(client, expect):
    # An earlier large message, so that a reused Conversation-ID or Contribution-ID shows.
    earlier = await client_sends_large(
        client, large_text(), to=recipient(client), allow_message=True
    )
    before = earlier.view.find(earlier.invite or earlier.message, from_sut=True)
    # 1250 bytes of text: only its CPIM wrapper is over the limit (D-pager-threshold).
    r = await client_sends_large(client, "x" * 1250, to=recipient(client), allow_message=True)
    view, inv = r.view, invite_of(r)
    invites = view.requests("INVITE", from_sut=True)
    messages = view.requests("MESSAGE", from_sut=True, where=lambda m: not pager.is_imdn(m))
    for clause in ("TS-7.2.1.2-intro", "TS-7.2.1.3-4-large"):
        expect.judge(clause, large.large_goes_as_invite(invites, messages))
    if inv is None:
        raise Inconclusive("the client sent no INVITE, so its Request-URI and ids cannot be judged")
    for clause in ("TS-7.2.1.2-9", "TS-7.2.1.2-9a"):
        expect.judge(clause, pager.request_uri_is(inv, recipient(client)))
    earlier_conv = [before.header("Conversation-ID") or ""]
    earlier_contrib = [before.header("Contribution-ID") or ""]
    expect.judge("TS-7.2.1.2-14-new", pager.conversation_id_new(inv, earlier_conv))
    expect.judge("TS-7.2.1.2-15", pager.contribution_id_new(inv, earlier_contrib))


def invite_of(r):
    """The client's INVITE as the capture holds it (None: it sent none)."""
    return None if r.invite is None else r.view.find(r.invite, from_sut=True)


def _message_size(r) -> int | None:
    """The size of the CPIM wrapper the client sent: the reassembled body, else (transfer cut
    short) the Byte-Range total of its content SENDs as captured."""
    if r.body is not None:
        return len(r.body)
    for send in r.view.msrp_from_sut("SEND"):
        try:
            total = send.byte_range().total if send.body and send.byte_range() else None
        except CodecError:
            continue
        if total is not None:
            return total
    return None


@pytest.mark.clause(
    "TS-7.2.1.2-17",
    "TS-7.2.1.2-17a",
    "TS-7.2.1.2-17b",
    "TS-7.2.1.2-17c",
    "TS-7.2.1.2-17d",
    "TS-7.2.1.2-17e",
    "TS-7.2.1.2-17f",
)
async def test_sdp_offer(client, expect):
    r = await client_sends_large(client, large_text(), to=recipient(client))
    inv = invite_of(r)
    expect.judge("TS-7.2.1.2-17", large.has_msrp_media(inv))
    expect.judge("TS-7.2.1.2-17a", large.offer_sendonly(inv))
    expect.judge("TS-7.2.1.2-17b", large.accept_types_cpim(inv))
    expect.judge("TS-7.2.1.2-17c", large.accept_wrapped_types(inv))
    expect.judge("TS-7.2.1.2-17d", large.has_path(inv))
    size = _message_size(r)
    if size is None:
        expect.record(
            "TS-7.2.1.2-17e",
            None,
            "a=file-selector size equal to the CPIM wrapper sent over MSRP",
            "no MSRP SEND carried content, so the wrapper's size is unknown",
        )
    else:
        expect.judge("TS-7.2.1.2-17e", large.file_selector_size(inv, size))
    expect.judge("TS-7.2.1.2-17f", large.setup_active(inv))


@pytest.mark.clause(
    "TS-7.2.1.2-on200-2",
    "TS-7.2.1.2-on200-3",
    "TS-7.2.1.2-on200-4",
    "TS-7.2.1.2-on200-5",
    "TS-7.2.1.2-on200-6",
    "TS-7.2.1.2-on200-7",
    "TS-7.2.1.2-on200-8",
    "TS-7.2.1.2-on200-8a",
    "TS-7.2.1.2-on200-8b",
    "TS-7.2.1.2-on200-8c",
    "TS-7.2.1.2-on200-9",
)
@pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))
async def test_msrp_transfer_after_the_200(client, expect, size):
    text = large_text(size)
    r = await client_sends_large(client, text, to=recipient(client))
    view, session = r.view, r.session
    acks = view.requests("ACK", from_sut=True, where=lambda m: m.call_id == r.invite.call_id)
    expect.judge("TS-7.2.1.2-on200-2", pager.arrived_at_core(bool(acks), "ACK for the 200"))
    sends = view.msrp_from_sut("SEND")
    for clause in (
        "TS-7.2.1.2-on200-3",
        "TS-7.2.1.2-on200-4",
        "TS-7.2.1.2-on200-5",
        "TS-7.2.1.2-on200-9",
    ):
        expect.judge(clause, large.connected_to_our_path(sends, session.local))
    expect.judge("TS-7.2.1.2-on200-6", large.first_send_is_empty(sends))
    expect.judge("TS-7.2.1.2-on200-8b", large.sends_are_cpim(sends))
    expect.judge("TS-7.2.1.2-on200-8a", large.to_path_is_answer_path(sends, [session.local]))
    body, _ = large.reassemble(sends)
    expect.judge("TS-7.2.1.2-on200-8", large.chunks_reassemble(sends))
    expect.judge("TS-7.2.1.2-on200-8c", large.carries_wrapper_of(body, text))
    user = client.profile.client.user
    expect.judge("TS-7.2.1.2-on200-7", large.wrapper_addressed(body, user, recipient(client)))


@pytest.mark.clause("TS-7.2.1.2-bye-1", "TS-7.2.1.2-bye-2", "TS-7.2.1.2-bye-3")
async def test_bye_after_the_transfer_and_uid_kept(client, expect):
    r = await client_sends_large(client, large_text(), uid=31337, to=recipient(client))
    bye = None if r.bye is None else r.view.find(r.bye, from_sut=True)
    in_dialog = bye is not None and bye.call_id == r.invite.call_id
    expect.judge(
        "TS-7.2.1.2-bye-1", pager.arrived_at_core(in_dialog, "BYE in the INVITE dialog", bye)
    )
    byes = r.view.requests("BYE", from_sut=True)
    expect.judge("TS-7.2.1.2-bye-2", pager.arrived_at_core(bool(byes), "the client's BYE", bye))
    if r.ut is None:
        raise Inconclusive("the transfer did not complete, so the kept Message-UID is not judged")
    listing = await client.ut.messages()
    entry = next((m for m in listing.get("sent", []) if m.get("id") == r.ut.get("id")), {})
    expect.judge("TS-7.2.1.2-bye-3", pager.uid_reported(entry.get("message_uid"), 31337))


@pytest.mark.clause("TS-7.2.1.2-8")
async def test_expiry_goes_in_message_expires(client, expect):
    r = await client_sends_large(client, large_text(), to=recipient(client), expires=3600)
    expect.judge("TS-7.2.1.2-8", large.message_expires(invite_of(r), 3600))


@pytest.mark.clause("TS-7.2.1.2-4", "TS-7.2.1.2-4-registered")
async def test_asserted_originator_if_any_is_the_users(client, expect):
    r = await client_sends_large(client, large_text(), to=recipient(client))
    user = client.profile.client.user
    expect.judge(
        "TS-7.2.1.2-4", pager.optional_identity(invite_of(r), "P-Preferred-Identity", user)
    )
    expect.judge("TS-7.2.1.2-4-registered", pager.identity_registered(invite_of(r), user))


@pytest.mark.clause("TS-7.2.1.2-5")
async def test_requested_reply_address_is_in_reply_to(client, expect):
    other = client.in_domain("reply-address")  # an address the test system makes up
    r = await client_sends_large(client, large_text(), to=recipient(client), reply_address=other)
    expect.judge("TS-7.2.1.2-5", pager.reply_to_present(invite_of(r), other))


@pytest.mark.clause("TS-7.2.1.2-7")
async def test_anonymous_invite_carries_privacy_id(client, expect):
    r = await client_sends_large(client, large_text(), to=recipient(client), anonymous=True)
    expect.judge("TS-7.2.1.2-7", pager.privacy_id(invite_of(r)))


async def replied_entry(client, reply_to: str | None) -> tuple:
    """A pager message delivered to the client, and the client's entry for it to reply to."""
    d = await deliver_to_client(client, reply_to=reply_to)
    require_accepted(d, "there is no received message to reply to")
    entry = await received_entry(client, d.call_id)
    if entry is None:
        raise Inconclusive("the client did not list the message it was sent, so it cannot reply")
    return d, entry


@pytest.mark.clause("TS-7.2.1.2-16")
@pytest.mark.parametrize(
    "reply_to",
    [
        pytest.param(DESK, marks=pytest.mark.clause("TS-7.2.1.2-9b"), id="with-reply-to"),
        pytest.param(None, marks=pytest.mark.clause("TS-7.2.1.2-9c"), id="without-reply-to"),
    ],
)
async def test_reply_goes_to_reply_to_or_originator(client, expect, reply_to):
    reply_to = client.in_domain(reply_to) if reply_to else None  # a made-up address
    original, entry = await replied_entry(client, reply_to)
    r = await client_sends_large(client, large_text(), reply_to_message=entry["id"])
    clause = "TS-7.2.1.2-9b" if reply_to else "TS-7.2.1.2-9c"
    inv = invite_of(r)
    expect.judge(clause, pager.request_uri_is(inv, reply_to or originator(client)))
    expect.judge("TS-7.2.1.2-16", pager.in_reply_to(inv, original.contribution_id))


@pytest.mark.clause("TS-7.2.1.2-14-existing")
async def test_message_in_a_conversation_reuses_its_id(client, expect):
    first = await client_sends_large(client, large_text(), to=recipient(client))
    if first.ut is None:
        raise Inconclusive("the first large message did not complete, so it has no id to continue")
    second = await client_sends_large(
        client,
        large_text(),
        to=recipient(client),
        conversation=member(first.ut, "id", "POST /send"),
    )
    expect.judge(
        "TS-7.2.1.2-14-existing",
        pager.conversation_id_existing(
            invite_of(second), invite_of(first).header("Conversation-ID") or ""
        ),
    )


@pytest.mark.clause("TS-7.2.1.2-10", "TS-7.2.1.2-10a", "TS-7.2.1.2-10b")
async def test_adhoc_group_goes_to_the_controlling_function_with_a_list(client, expect):
    targets = [recipient(client), client.in_domain("second-member")]
    factory = adhoc_factory(client)
    group = {"kind": "adhoc", "targets": targets}
    inv = invite_of(await client_sends_large(client, large_text(), group=group))
    to_factory = pager.request_uri_is(inv, factory)
    listed = pager.resource_list_targets(inv, targets)
    expect.judge("TS-7.2.1.2-10a", to_factory)
    expect.judge("TS-7.2.1.2-10b", listed)
    for part in (to_factory, listed):
        expect.judge("TS-7.2.1.2-10", part)


@pytest.mark.parametrize(
    "reply_to",
    [
        pytest.param(DESK, marks=pytest.mark.clause("TS-7.2.1.2-10c"), id="with-reply-to"),
        pytest.param(None, marks=pytest.mark.clause("TS-7.2.1.2-10d"), id="without-reply-to"),
    ],
)
async def test_group_reply_lists_the_replied_party(client, expect, reply_to):
    reply_to = client.in_domain(reply_to) if reply_to else None  # a made-up address
    _, entry = await replied_entry(client, reply_to)
    group = {"kind": "adhoc", "targets": [recipient(client)]}
    r = await client_sends_large(client, large_text(), group=group, reply_to_message=entry["id"])
    clause = "TS-7.2.1.2-10c" if reply_to else "TS-7.2.1.2-10d"
    expect.judge(
        clause, pager.resource_list_targets(invite_of(r), [reply_to or originator(client)])
    )


@pytest.mark.clause("TS-7.2.1.2-11")
async def test_predefined_group_is_addressed_directly(client, expect):
    r = await client_sends_large(
        client, large_text(), group={"kind": "predefined", "uri": client.in_domain("cpmconf-group")}
    )
    expect.judge(
        "TS-7.2.1.2-11", pager.request_uri_is(invite_of(r), client.in_domain("cpmconf-group"))
    )


@pytest.mark.clause("TS-7.2.1.2-cancel")
async def test_cancel_before_a_final_response(client, expect):
    r = await client_cancels_large(client, large_text(), to=recipient(client))
    inv = r.invite
    cancels = r.view.requests("CANCEL", from_sut=True, where=lambda m: m.call_id == inv.call_id)
    expect.judge(
        "TS-7.2.1.2-cancel",
        large.cancels_pending_invite(
            cancels[0] if cancels else None, r.view.find(inv, from_sut=True)
        ),
    )


# The 200 names the test system as refresher with a shorter interval than the client offered;
# the refresh follows at once. The refresh timing itself (half the interval, or a BYE when no
# refresh comes) needs minutes and is not observed in this bounded exchange.
SESSION_TIMER = "900;refresher=uas"


@pytest.mark.clause("TS-7.2.1.2-on200-1")
async def test_session_timer_from_the_200_is_run(client, expect):
    r = await client_sends_large(
        client,
        large_text(),
        to=recipient(client),
        session_expires=SESSION_TIMER,
        after_ack=refresher(SESSION_TIMER),
    )
    if r.refresh is None:
        raise Inconclusive("the client did not ACK the 200, so no session could be refreshed")
    expect.judge(
        "TS-7.2.1.2-on200-1",
        large.refresh_keeps_timer(
            r.view.final_to(r.refresh.call_id, r.refresh.cseq), SESSION_TIMER
        ),
    )
