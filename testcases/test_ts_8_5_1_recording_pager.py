"""TS 8.5.1 (004), pager branch: where a recording PF puts the Message-UID.

One MESSAGE from the originator to the single-device recipient shows both placements when the
SUT records on both sides: in the copy sent to the recipient (terminating side) and in the 200
returned to the originator (originating side). Each placement is judged only when the profile
claims that side, through the clauses' ICS conditions.
"""

from __future__ import annotations

import pytest

from cpmconf.procedures.pf import pager_through_pf
from cpmconf.verdict.checks import pager


@pytest.mark.clause("TS-8.5.1-send-4a.i")
async def test_uid_in_message_to_recipient(pf, expect):
    r = await pager_through_pf(pf)
    copies = r.view.requests("MESSAGE", from_sut=True, where=pf.copy_of(r.contribution_id))
    expect.judge(
        "TS-8.5.1-send-4a.i", pager.uid_in_delivered_message(copies[0] if copies else None)
    )


@pytest.mark.clause("TS-8.5.1-send-4a.ii")
async def test_uid_in_200_to_originator(pf, expect):
    r = await pager_through_pf(pf)
    finals = r.view.finals(r.message.call_id, r.message.cseq, from_sut=True)
    expect.judge("TS-8.5.1-send-4a.ii", pager.uid_in_200(finals[0] if finals else None))
