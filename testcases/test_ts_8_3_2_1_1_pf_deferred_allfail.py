"""TS 8.3.2.1.1 (001), "allfail": a large-mode message that every selected device turned down
is deferred, and the user is told the way 8.3.2.4.x tells of any deferral.

The test system sends the single-device recipient a large-mode INVITE through the PF and has
the device decline the leg the PF forks to it (486); the sender then gets the error, and the
deferral notification (a MESSAGE that is not the message itself) must follow, to the
recipient's address, since the device is registered.
"""

from __future__ import annotations

import pytest

from cpmconf.procedures.pf_deferred import declined_everywhere
from cpmconf.verdict.checks import deferred


@pytest.mark.clause("TS-8.3.2.1.1-allfail-1")
async def test_large_message_every_device_declined_is_deferred_and_notified(pf, expect):
    recipient = pf.role("single_device_recipient")
    r = await declined_everywhere(pf, recipient)
    # Judged as the capture holds them, found by the identifiers the step returned.
    final = r.view.final_to(r.invite.call_id, r.invite.cseq)
    if final is None or 200 <= final.status < 300:
        got = "no final" if final is None else f"{final.status}"
        expect.judge(
            "TS-8.3.2.1.1-allfail-1",
            deferred.unjudged("every device leg declined, an error to the sender", got),
        )
        return
    note = None if r.notification is None else r.view.find(r.notification, from_sut=True)
    expect.judge("TS-8.3.2.1.1-allfail-1", deferred.notification_sent(note, recipient))
