"""TS 8.3.2.1.1 (001), "allfail": a large-mode message that every selected device turned down
is deferred, and the user is told the way 8.3.2.4.x tells of any deferral.

The test system sends the single-device recipient a large-mode INVITE through the PF and has
the device decline the leg the PF forks to it (486); the sender then gets the error, and the
deferral notification (a MESSAGE that is not the message itself) must follow, to the
recipient's address, since the device is registered.
"""

from __future__ import annotations

import pytest

from cpmconf.procedures.pf import declining_legs, invite_to_pf
from cpmconf.procedures.pf_deferred import deferred_target, is_notification, notification_of
from cpmconf.procedures.results import Ids
from cpmconf.roles.errors import SetupRefused
from cpmconf.verdict.checks import deferred


@pytest.mark.clause("TS-8.3.2.1.1-allfail-1")
async def test_large_message_every_device_declined_is_deferred_and_notified(pf, expect):
    recipient = pf.role("single_device_recipient")
    stim, _ = invite_to_pf(pf, 2000, recipient=recipient)
    async with declining_legs(pf, stim.message.header("Contribution-ID")) as declined:
        mark = pf.core.journal.mark()
        ex = await pf.transact(stim)
        final = ex.final
        if not declined and final is not None and final.status >= 300:
            # Refused before any device leg: the condition (every leg failed) never arose,
            # and no deferral notification is waited for.
            raise SetupRefused(
                "the sender's INVITE", final.status, final.reason or "", "no device leg was offered"
            )
        note = await pf.observe(
            notification_of(pf, mark, is_notification(recipient, deferred_target(pf).iwf)),
            "the deferral notification",
            pf.guard,
        )
        if note is not None:
            await pf.respond(note, 200, "OK")
    view = await pf.settle()
    # Judged as the capture holds them, found by the identifiers of what the sockets got.
    final = view.final_to(stim.message.call_id, stim.message.cseq)
    if final is None or 200 <= final.status < 300:
        got = "no final" if final is None else f"{final.status}"
        expect.judge(
            "TS-8.3.2.1.1-allfail-1",
            deferred.unjudged("every device leg declined, an error to the sender", got),
        )
        return
    captured = None if note is None else view.find(Ids.of(note), from_sut=True)
    expect.judge("TS-8.3.2.1.1-allfail-1", deferred.notification_sent(captured, recipient))
