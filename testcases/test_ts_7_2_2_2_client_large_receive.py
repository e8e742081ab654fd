"""TS 7.2.2.2 (004): a CPM Client receiving a large-mode standalone message.

The core plays the client's PF: it invites the client with an SDP offer naming the test
system's MSRP path, acknowledges the 200, accepts the connection the client must open, sends
the CPIM wrapper in chunks and ends with a BYE carrying Message-UID.
"""

from __future__ import annotations

import pytest

from cpmconf.procedures.client import (
    deliver_large_and_cancel,
    deliver_large_to_client,
    large_text,
    received_entry,
)
from cpmconf.roles.upper_tester import UpperTesterError
from cpmconf.verdict import Inconclusive
from cpmconf.verdict.checks import large, pager, routing
from cpmconf.verdict.checks.base import judged


def final_of(r):
    """The client's final response to the INVITE as the capture holds it (None: none)."""
    return r.view.final_to(r.invite.call_id, r.invite.cseq)


def answered(expect, r):
    """Judge TS-7.2.2.2-2 (the INVITE is accepted), which the rest of the case needs."""
    final = final_of(r)
    expect.judge("TS-7.2.2.2-2", large.accepts_invite(final, r.view.find(r.invite)))
    if final is None or final.status != 200:
        raise Inconclusive("the client did not accept the INVITE, so the rest cannot be judged")
    return final


@pytest.mark.clause("TS-7.2.2.2-2", "TS-7.2.2.2-2a", "TS-7.2.2.2-2d", "TS-7.2.2.2-3")
async def test_200_names_the_release_and_echoes_the_conversation(client, expect):
    r = await deliver_large_to_client(client, large_text())
    final, invite = final_of(r), r.view.find(r.invite)
    expect.judge("TS-7.2.2.2-2", large.accepts_invite(final, invite))
    if final is None or final.status != 200:
        raise Inconclusive("the client did not accept the INVITE, so the rest cannot be judged")
    expect.judge("TS-7.2.2.2-2a", pager.server_release(final, client.profile.client.release))
    expect.judge("TS-7.2.2.2-2d", pager.echoes_conversation_headers(final, invite))
    expect.judge(
        "TS-7.2.2.2-3",
        routing.response_via_core(r.view, invite, "the client's 200"),
    )


@pytest.mark.clause(
    "TS-7.2.2.2-2c",
    "TS-7.2.2.2-2c.i",
    "TS-7.2.2.2-2c.ii",
    "TS-7.2.2.2-2c.iii",
    "TS-7.2.2.2-2c.iv",
    "TS-7.2.2.2-2c.v",
    "TS-7.2.2.2-2c.vi",
)
async def test_sdp_answer(client, expect):
    r = await deliver_large_to_client(client, large_text())
    final = final_of(r)
    for clause in ("TS-7.2.2.2-2c", "TS-7.2.2.2-2c.i"):
        expect.judge(clause, large.has_msrp_media(final))
    expect.judge("TS-7.2.2.2-2c.ii", large.has_path(final))
    expect.judge("TS-7.2.2.2-2c.iii", large.answer_recvonly(final))
    expect.judge("TS-7.2.2.2-2c.iv", large.accept_types_cpim(final))
    offered = large.msrp_media(r.view.find(r.invite))[1]
    expect.judge(
        "TS-7.2.2.2-2c.v",
        large.answer_wrapped_types(final, list(offered.accept_wrapped_types() or [])),
    )
    expect.judge("TS-7.2.2.2-2c.vi", large.setup_active(final))


@pytest.mark.clause("TS-7.2.2.2-1")
async def test_unacceptable_accept_types_get_488(client, expect):
    r = await deliver_large_to_client(client, large_text(), accept_types=("application/x-none",))
    final = final_of(r)  # the capture's, not the socket's
    ok = final is not None and final.status == 488
    expect.judge(
        "TS-7.2.2.2-1",
        judged(
            ok,
            "488 (D-488-reason-phrase: code only)",
            "no final response" if final is None else f"{final.status} {final.reason}",
            final,
        ),
    )


@pytest.mark.clause(
    "TS-7.2.2.2-2",
    "TS-7.2.2.2-ack-2",
    "TS-7.2.2.2-ack-3",
    "TS-7.2.2.2-ack-4",
    "TS-7.2.2.2-ack-5",
    "TS-7.2.2.2-msrp",
    "TS-7.2.2.2-chunks",
    "TS-7.2.2.2-bye",
    "TS-7.2.2.2-bye-uid",
)
@pytest.mark.parametrize("chunk_size", [100000, 1024, 7], ids=["one-chunk", "chunks", "utf8-split"])
@pytest.mark.parametrize("sip", ["udp", "tcp", pytest.param("tls", marks=pytest.mark.tls)])
async def test_connects_binds_reassembles_and_keeps_the_uid(client, expect, chunk_size, sip):
    text = large_text(1301 if chunk_size != 100000 else 4000)
    r = await deliver_large_to_client(client, text, uid=4711, chunk_size=chunk_size, transport=sip)
    answered(expect, r)
    view, session = r.view, r.session
    sends = view.msrp_from_sut("SEND")
    for clause in ("TS-7.2.2.2-ack-2", "TS-7.2.2.2-ack-3", "TS-7.2.2.2-ack-4"):
        expect.judge(clause, large.connected_to_our_path(sends, session.local))
    expect.judge("TS-7.2.2.2-ack-5", large.first_send_is_empty(sends))
    if not r.bound:
        raise Inconclusive("no MSRP session was bound, so the transfer cannot be judged")
    entry = await received_entry(client, r.invite.call_id)
    reported = entry.get("text") if entry else None
    expect.judge("TS-7.2.2.2-chunks", large.receiver_reassembled(reported, text))
    ours = [s for s in view.msrp if not s.from_sut and s.message.method == "SEND"]
    expect.judge("TS-7.2.2.2-msrp", large.answered_every_send(ours, view.msrp_from_sut(None)))
    bye = None if r.bye is None else view.final_to(r.bye.call_id, r.bye.cseq)
    expect.judge("TS-7.2.2.2-bye", pager.answered_200(bye, "BYE"))
    expect.judge(
        "TS-7.2.2.2-bye-uid", pager.uid_reported(entry.get("message_uid") if entry else None, 4711)
    )


@pytest.mark.clause("TS-7.2.2.2-2b", "TS-7.2.2.2-2b-registered")
async def test_asserted_recipient_if_any_is_the_users(client, expect):
    r = await deliver_large_to_client(client, large_text())
    final = final_of(r)
    if final is None or final.status != 200:
        raise Inconclusive("the client did not accept the INVITE, so its 200 cannot be judged")
    user = client.profile.client.user
    expect.judge("TS-7.2.2.2-2b", pager.optional_identity(final, "P-Preferred-Identity", user))
    expect.judge("TS-7.2.2.2-2b-registered", pager.identity_registered(final, user))


HOLD_MS = 4000  # the client's answer hold: the CANCEL goes out on its 180, long before this


@pytest.mark.clause("TS-7.2.2.2-cancel")
async def test_cancel_of_the_pending_invite_gets_200_and_487(client, expect):
    try:
        await client.ut.call("POST", "/answer-delay", {"ms": HOLD_MS})
    except UpperTesterError as exc:
        raise Inconclusive(
            f"the upper tester cannot hold the client's answer (POST /answer-delay): {exc}"
        ) from exc
    r = await deliver_large_and_cancel(client, HOLD_MS)
    if r.provisional is None:
        got = "no response" if r.status is None else f"{r.status} at once"
        raise Inconclusive(f"the client sent no provisional response ({got}): no CANCEL window")
    cancel_final = None if r.cancel is None else r.view.final_to(r.cancel.call_id, r.cancel.cseq)
    expect.judge("TS-7.2.2.2-cancel", large.cancel_handled(cancel_final, final_of(r)))
