"""TS 8.5.1 (004), large branch: where a recording PF puts the Message-UID of a large message.

The whole large-mode exchange runs through the PF (see `cpmconf.procedures.pf`); the PF can
only give a UID once it has put the chunks back together and stored the message, so each case
runs with one chunk and with many (boundaries inside multi-byte characters). Each placement is
judged only when the profile claims that side of recording, through the clauses' ICS items.
"""

from __future__ import annotations

import pytest

from cpmconf.procedures.pf import CHUNK_VARIANTS, large_to_bye
from cpmconf.verdict.checks import pf_large


@pytest.mark.clause("TS-8.5.1-send-4b.i")
@pytest.mark.parametrize("chunk_size", CHUNK_VARIANTS.values(), ids=CHUNK_VARIANTS.keys())
async def test_uid_in_bye_to_device(pf, expect, chunk_size):
    r = await large_to_bye(pf, chunk_size)
    call_id = r.device_invites[0].call_id
    byes = r.view.requests("BYE", from_sut=True, where=lambda m: m.call_id == call_id)
    expect.judge("TS-8.5.1-send-4b.i", pf_large.uid_in_bye_to_device(byes[0] if byes else None))


@pytest.mark.clause("TS-8.5.1-send-4b.ii")
@pytest.mark.parametrize("chunk_size", CHUNK_VARIANTS.values(), ids=CHUNK_VARIANTS.keys())
async def test_uid_in_200_to_senders_bye(pf, expect, chunk_size):
    r = await large_to_bye(pf, chunk_size)
    finals = r.view.finals(r.bye.call_id, r.bye.cseq, from_sut=True)
    expect.judge("TS-8.5.1-send-4b.ii", pf_large.uid_in_200_to_bye(finals[0] if finals else None))
