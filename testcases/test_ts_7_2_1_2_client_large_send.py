"""TS 7.2.1.2 (004): a CPM Client sending a large-mode standalone message.

The upper tester makes the client send more than 1300 bytes; the core answers the INVITE as
the originating PF would (its own MSRP path, setup passive), takes the chunked MSRP transfer on
the test system's MSRP listener, and answers the BYE with a Message-UID.
"""

from __future__ import annotations

import pytest

from cpmconf.verdict import Inconclusive
from cpmconf.verdict.checks import large, pager
from testcases.client_steps import BOB, client_sends_large, large_text

SIZES = {"1301-bytes": 1301, "1-MiB": 1024 * 1024}


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
    r = await client_sends_large(client, large_text(), to=BOB)
    inv = r["invite"]
    expect.judge("TS-7.2.1.2-1", large.accept_contact_icsi(inv))
    expect.judge("TS-7.2.1.2-2", large.contact_icsi(inv))
    expect.judge("TS-7.2.1.2-3", large.preferred_service(inv))
    expect.judge("TS-7.2.1.2-6", pager.user_agent_release(inv, client.profile.client.release))
    expect.judge("TS-7.2.1.2-12", large.supported_timer(inv))
    expect.judge("TS-7.2.1.2-13", large.session_expires_uac(inv))
    seen = r["view"].requests("INVITE", from_sut=True, where=lambda m: m.call_id == inv.call_id)
    expect.judge("TS-7.2.1.2-18", pager.arrived_at_core(bool(seen), "the client's INVITE", inv))


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
    earlier = await client_sends_large(client, large_text(), to=BOB, allow_message=True)
    before = earlier["invite"] or earlier["message"]
    r = await client_sends_large(client, large_text(), to=BOB, allow_message=True)
    view, inv = r["view"], r["invite"]
    invites = view.requests("INVITE", from_sut=True)
    messages = view.requests("MESSAGE", from_sut=True, where=lambda m: not pager.is_imdn(m))
    for clause in ("TS-7.2.1.2-intro", "TS-7.2.1.3-4-large"):
        expect.judge(clause, large.large_goes_as_invite(invites, messages))
    if inv is None:
        raise Inconclusive("the client sent no INVITE, so its Request-URI and ids cannot be judged")
    for clause in ("TS-7.2.1.2-9", "TS-7.2.1.2-9a"):
        expect.judge(clause, pager.request_uri_is(inv, BOB))
    earlier_conv = [before.header("Conversation-ID") or ""]
    earlier_contrib = [before.header("Contribution-ID") or ""]
    expect.judge("TS-7.2.1.2-14-new", pager.conversation_id_new(inv, earlier_conv))
    expect.judge("TS-7.2.1.2-15", pager.contribution_id_new(inv, earlier_contrib))


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
    r = await client_sends_large(client, large_text(), to=BOB)
    inv = r["invite"]
    expect.judge("TS-7.2.1.2-17", large.has_msrp_media(inv))
    expect.judge("TS-7.2.1.2-17a", large.offer_sendonly(inv))
    expect.judge("TS-7.2.1.2-17b", large.accept_types_cpim(inv))
    expect.judge("TS-7.2.1.2-17c", large.accept_wrapped_types(inv))
    expect.judge("TS-7.2.1.2-17d", large.has_path(inv))
    expect.judge("TS-7.2.1.2-17e", large.file_selector_size(inv, len(r["body"])))
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
    r = await client_sends_large(client, text, to=BOB)
    view, session = r["view"], r["session"]
    acks = view.requests("ACK", from_sut=True, where=lambda m: m.call_id == r["invite"].call_id)
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
    expect.judge("TS-7.2.1.2-on200-7", large.wrapper_addressed(body, user, BOB))


@pytest.mark.clause("TS-7.2.1.2-bye-1", "TS-7.2.1.2-bye-2", "TS-7.2.1.2-bye-3")
async def test_bye_after_the_transfer_and_uid_kept(client, expect):
    r = await client_sends_large(client, large_text(), uid=31337, to=BOB)
    bye = r["bye"]
    in_dialog = bye is not None and bye.call_id == r["invite"].call_id
    expect.judge(
        "TS-7.2.1.2-bye-1", pager.arrived_at_core(in_dialog, "BYE in the INVITE dialog", bye)
    )
    byes = r["view"].requests("BYE", from_sut=True)
    expect.judge("TS-7.2.1.2-bye-2", pager.arrived_at_core(bool(byes), "the client's BYE", bye))
    if r["ut"] is None:
        raise Inconclusive("the transfer did not complete, so the kept Message-UID is not judged")
    listing = await client.ut.messages()
    entry = next((m for m in listing.get("sent", []) if m.get("id") == r["ut"].get("id")), {})
    expect.judge("TS-7.2.1.2-bye-3", pager.uid_reported(entry.get("message_uid"), 31337))


@pytest.mark.clause("TS-7.2.1.2-8")
async def test_expiry_goes_in_message_expires(client, expect):
    r = await client_sends_large(client, large_text(), to=BOB, expires=3600)
    expect.judge("TS-7.2.1.2-8", large.message_expires(r["invite"], 3600))
