"""TS 8.3.2.1 (001): the terminating PF delivering a pager-mode MESSAGE.

The test system plays the originator's side of the core (sending the MESSAGE to the PF) and
the recipient's devices (answering the copies the PF sends through the core). Copies are
matched by the test's own Contribution-ID, so a late retransmission from an earlier test never
counts here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from cpmconf.roles.stimulus import token
from cpmconf.verdict import Inconclusive
from cpmconf.verdict.checks import pager
from cpmconf.verdict.checks.base import not_arisen
from testcases.judging import request_via_core

# The devices' finals in the case that judges which final reaches the originator.
DEVICE_FINAL = "pf/device_final.sip.j2"


def message_to_pf(scene, recipient=None, originator=None, content_type="text/plain", **headers):
    """The originator's MESSAGE (by default from the originator to the multi-device recipient)."""
    recipient = recipient or scene.role("multi_device_recipient")
    originator = originator or scene.role("originator")
    body, _ = scene.cpim(originator, recipient, "hello", content_type)
    stim = scene.render(
        "pf/message_from_originator.sip.j2",
        body=body,
        recipient=recipient,
        originator=originator,
        conversation_id=token(8),
        contribution_id=token(8),
        content_type="message/cpim",
        **headers,
    )
    return stim, stim.message.header("Contribution-ID")


async def send_and_judge_final(pf, stim, contribution_id):
    """Send the MESSAGE with devices answering; return the View and the finals to it."""
    async with pf.devices_answering(contribution_id):
        await pf.transact(stim)
        await pf.observe(pf.copy_of(contribution_id), "a late device copy")
    view = await pf.settle()
    return view, view.finals_to(stim.message, from_sut=True)


def copies_in(view, pf, contribution_id):
    return view.requests("MESSAGE", from_sut=True, where=pf.copy_of(contribution_id))


@pytest.mark.clause(
    "TS-8.3.2.1-4b-2", "TS-8.3.2.1-4b-2.i", "TS-8.3.2.1-4b-2.ii", "TS-8.3.2.1-4b-2.iii"
)
@pytest.mark.gruu_uri("TS-8.3.2.1-4b-2.ii")
async def test_copies_go_to_each_selected_device_by_gruu(pf, expect):
    recipient = pf.role("multi_device_recipient")
    stim, cid = message_to_pf(pf, recipient)
    view, _ = await send_and_judge_final(pf, stim, cid)
    copies = copies_in(view, pf, cid)
    devs = [d for d in pf.core.devices if d.user == recipient]
    known = {d.name: [d.gruu, d.contact] for d in devs}
    selected = {d.name for d in devs if d.selected}
    expect.judge("TS-8.3.2.1-4b-2", pager.delivered_to_selected(copies, known, selected))
    expect.judge("TS-8.3.2.1-4b-2.i", pager.one_copy_each(copies, known, selected))
    for copy in copies:
        dev = pf.core.device_for(copy.request_uri or "")
        expect.judge("TS-8.3.2.1-4b-2.ii", pager.request_uri_is_gruu(copy, dev.gruu or "a GRUU"))
    if not copies:  # nothing the SUT sent to judge (4b-2 fails on the missing copies)
        expect.judge(
            "TS-8.3.2.1-4b-2.ii",
            not_arisen("a MESSAGE copy to a device GRUU", "no device copy", "the PF sent none"),
        )
    expect.judge(
        "TS-8.3.2.1-4b-2.iii",
        request_via_core(pf, view, copies, "MESSAGE copies", role="pf"),
    )


@pytest.mark.clause("TS-8.3.2.1-first2xx", "TS-8.3.2.1-other")
@pytest.mark.parametrize(
    "second", [(200, "OK"), (486, "Busy Here")], ids=["second-200", "second-486"]
)
async def test_only_the_first_final_reaches_the_originator(pf, expect, second):
    stim, cid = message_to_pf(pf)
    await pf.core.send(stim, pf.pf_address)
    # The PF's final error to the MESSAGE ends the wait for the copies at once.
    copies = []
    for what in ("first MESSAGE copy", "second MESSAGE copy"):
        copies.append(
            await pf.wait_unless_refused(
                pf.copy_of(cid),
                what,
                stim.message,
                "the originator's MESSAGE",
                "no device copy could be answered",
            )
        )
    first, other = copies
    await pf.respond(first, 200, "OK", template=DEVICE_FINAL)
    call_id = stim.message.call_id

    def final_to_originator(m):
        return not m.is_request and m.call_id == call_id and (m.status or 0) >= 200

    await pf.core.wait(final_to_originator, "final response to the originator")
    await pf.respond(other, *second, template=DEVICE_FINAL)
    await pf.observe(final_to_originator, "a second final response to the originator")
    view = await pf.settle()
    finals = view.finals_to(stim.message, from_sut=True)
    expect.judge("TS-8.3.2.1-first2xx", pager.first_2xx_forwarded(finals, 200))
    expect.judge("TS-8.3.2.1-other", pager.no_further_finals(finals))


@pytest.mark.clause("TS-8.3.2.1-1d", "TS-8.3.2.1-1d-warning")
async def test_blocked_originator_gets_403_with_warning_122(pf, expect):
    blocked = pf.role("blocked_originator")
    stim, cid = message_to_pf(pf, pf.blocking(blocked), originator=blocked)
    _, finals = await send_and_judge_final(pf, stim, cid)
    final = finals[0] if finals else None
    expect.judge("TS-8.3.2.1-1d", pager.rejected_403(final))
    expect.judge("TS-8.3.2.1-1d-warning", pager.warning_122(final))


@pytest.mark.clause("TS-8.3.2.1-2")
async def test_unsupported_content_gets_415_with_accept(pf, expect):
    # D-content-policy-415: the MESSAGE's own Content-Type is outside the profile's policy
    # (not only a CPIM payload type), so a PF that judges the SIP body's type and one that
    # reads the CPIM payload both owe the 415.
    unsupported = "application/x-cpmconf-unsupported"
    if unsupported in pf.profile.allowed_content_types:
        raise Inconclusive(f"the profile's content policy allows {unsupported}")
    cid = token(8)
    stim = pf.render(
        "pf/message_from_originator.sip.j2",
        body=b"hello",
        recipient=pf.role("multi_device_recipient"),
        originator=pf.role("originator"),
        conversation_id=token(8),
        contribution_id=cid,
        content_type=unsupported,
    )
    _, finals = await send_and_judge_final(pf, stim, cid)
    expect.judge("TS-8.3.2.1-2", pager.unsupported_415(finals[0] if finals else None))


@pytest.mark.clause("TS-8.3.2.1-3")
async def test_expired_message_is_not_delivered(pf, expect):
    # D-expiry-reading: Expires 0 with a Date an hour back is expired whether the lifetime
    # is counted from the Date or from the arrival at the PF.
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    stim, cid = message_to_pf(pf, expires=0, date=past)
    view, _ = await send_and_judge_final(pf, stim, cid)
    expect.judge("TS-8.3.2.1-3", pager.expired_not_delivered(copies_in(view, pf, cid)))


@pytest.mark.clause("TS-8.3.2.1-4a.iii-200")
async def test_store_preference_answers_200_without_delivery(pf, expect):
    stim, cid = message_to_pf(pf, recipient=pf.role("store_user"))
    view, finals = await send_and_judge_final(pf, stim, cid)
    expect.judge(
        "TS-8.3.2.1-4a.iii-200",
        pager.stored_200(finals[0] if finals else None, copies_in(view, pf, cid)),
    )
