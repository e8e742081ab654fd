"""TS 8.5.1 (004): what a recording PF stores, read back from its Message Storage Server.

The message goes through the PF as in the placement cases (test_ts_8_5_1_recording_*); then,
for each side the profile says the SUT records on (D-recording-side), the object whose UID
is the Message-UID the SUT put on the wire for that side is fetched over IMAP from that side's
user's store (originating: the originator's; terminating: the recipient's) and judged against
the request captured on its way into the PF (D-store-object). A side whose Message-UID is
missing is judged by the placement cases, not here. Without a readable store (none named in
the profile, or the embedded SUT's Dovecot not installed) the cases are not-applicable; with
a Dovecot that did not come up they are inconclusive, with its reason.
"""

from __future__ import annotations

import asyncio

import pytest

from cpmconf.plugin.pytest_plugin import evidence_for
from cpmconf.procedures.pf import CHUNK_VARIANTS, large_to_bye, pager_through_pf
from cpmconf.roles.store import fetch
from cpmconf.verdict import Inconclusive, NotApplicable
from cpmconf.verdict.checks import pager
from cpmconf.verdict.checks import store as checks
from cpmconf.verdict.checks.base import not_arisen

SIDES = ("originating", "terminating")


def _store(pf):
    store = getattr(pf.handle, "store", None)
    if store is None:
        reason = getattr(pf.handle, "store_reason", "no message store is known")
        if getattr(pf.handle, "store_failed", False):
            raise Inconclusive(reason)  # there should be a store, and it did not come up
        raise NotApplicable(reason)
    return store


def _sent(view, method: str, call_id: str):
    """The request as the capture saw it go to the PF (None: not captured)."""
    return view.request(call_id, method, from_sut=False)


async def _judge_side(pf, expect, request, store, side, carrier, owner, judges) -> None:
    """Fetch the object the carrier's Message-UID names in `owner`'s store; judge it."""
    uid, problem = pager.message_uid(carrier)
    if uid is None:
        for clause, _ in judges:
            expect.judge(
                clause,
                not_arisen(
                    "a Message-UID naming the stored object",
                    f"{side} side: {problem}",
                    f"the {side} side put no Message-UID on the wire (judged by the placement "
                    "cases), so no object could be fetched for it",
                ),
            )
        return
    fetched = await asyncio.to_thread(fetch, store, owner, uid, pf.guard)
    evidence_for(request.node).setdefault("store_objects", []).append(
        {"side": side, **fetched.to_json()}
    )
    for clause, judge in judges:
        expect.judge(clause, judge(fetched))


def _claimed_sides(pf) -> list[str]:
    sides = [s for s in SIDES if pf.profile.claims(f"recording-{s}")]
    if not sides:
        raise NotApplicable("the profile claims recording on neither side")
    return sides


@pytest.mark.clause("TS-8.5.1-message-2", "TS-8.5.1-message-3")
async def test_pager_message_stored(pf, expect, request):
    store = _store(pf)
    sides = _claimed_sides(pf)
    r = await pager_through_pf(pf)
    view, cid = r.view, r.contribution_id
    sent = _sent(view, "MESSAGE", r.message.call_id)
    judges = [
        ("TS-8.5.1-message-2", lambda f: checks.object_holds_message(sent, f)),
        ("TS-8.5.1-message-3", lambda f: checks.uid_names_stored_object(sent, f)),
    ]
    if "terminating" in sides:
        copies = view.requests("MESSAGE", from_sut=True, where=pf.copy_of(cid))
        recipient = pf.role("single_device_recipient")
        carrier = copies[0] if copies else None
        await _judge_side(pf, expect, request, store, "terminating", carrier, recipient, judges)
    if "originating" in sides:
        finals = view.finals(r.message.call_id, r.message.cseq, from_sut=True)
        carrier = finals[0] if finals else None
        originator = pf.role("originator")
        await _judge_side(pf, expect, request, store, "originating", carrier, originator, judges)


@pytest.mark.clause("TS-8.5.1-send-2", "TS-8.5.1-send-3")
@pytest.mark.parametrize("chunk_size", CHUNK_VARIANTS.values(), ids=CHUNK_VARIANTS.keys())
async def test_large_message_stored(pf, expect, request, chunk_size):
    store = _store(pf)
    sides = _claimed_sides(pf)
    r = await large_to_bye(pf, chunk_size)
    view = r.view
    invite = view.find(r.invite, from_sut=False)
    content = r.cpim
    judges = [
        ("TS-8.5.1-send-2", lambda f: checks.object_holds_large_message(invite, content, f)),
        ("TS-8.5.1-send-3", lambda f: checks.uid_names_stored_object(invite, f)),
    ]
    if "terminating" in sides:
        call_id = r.device_invites[0].call_id
        byes = view.requests("BYE", from_sut=True, where=lambda m: m.call_id == call_id)
        recipient = pf.role("single_device_recipient")
        carrier = byes[0] if byes else None
        await _judge_side(pf, expect, request, store, "terminating", carrier, recipient, judges)
    if "originating" in sides:
        finals = view.finals(r.bye.call_id, r.bye.cseq, from_sut=True)
        carrier = finals[0] if finals else None
        originator = pf.role("originator")
        await _judge_side(pf, expect, request, store, "originating", carrier, originator, judges)
