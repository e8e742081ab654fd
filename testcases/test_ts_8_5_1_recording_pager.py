"""TS 8.5.1 (004), pager branch: where a recording PF puts the Message-UID.

One MESSAGE from the originator to the single-device recipient shows both placements when the
SUT records on both sides: in the copy sent to the recipient (terminating side) and in the 200
returned to the originator (originating side). Each placement is judged only when the profile
claims that side, through the clauses' ICS conditions.
"""

from __future__ import annotations

import pytest

from cpmconf.roles.stimulus import token
from cpmconf.verdict.checks import pager


async def deliver_one(pf):
    originator, recipient = pf.role("originator"), pf.role("single_device_recipient")
    body, _ = pf.cpim(originator, recipient, "recorded")
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
    view = await pf.settle()
    return stim, view, cid


@pytest.mark.clause("TS-8.5.1-send-4a.i")
async def test_uid_in_message_to_recipient(pf, expect):
    _, view, cid = await deliver_one(pf)
    copies = view.requests("MESSAGE", from_sut=True, where=pf.copy_of(cid))
    expect.judge(
        "TS-8.5.1-send-4a.i", pager.uid_in_delivered_message(copies[0] if copies else None)
    )


@pytest.mark.clause("TS-8.5.1-send-4a.ii")
async def test_uid_in_200_to_originator(pf, expect):
    stim, view, _ = await deliver_one(pf)
    finals = view.finals_to(stim.message, from_sut=True)
    expect.judge("TS-8.5.1-send-4a.ii", pager.uid_in_200(finals[0] if finals else None))
