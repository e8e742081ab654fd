"""TS 8.3.2.4.x and 8.3.2.1 step 4a.ii (001), SD 5.2.2.2 (002): the PF defers a pager-mode
message and notifies.

The test system is the originator's side of the core, the pull-deferral user's device
(registered or not as the case needs) and the interworking function. The notification
is told apart from a delivery by its body: it is not the CPIM message itself. The PF's own
list (a subscription before and after the deferral) says which Message-URI-ID the deferred
message got, so the notification can be held to naming that one.
"""

from __future__ import annotations

import pytest

from cpmconf.procedures.pf_deferred import (
    PULL_USER,
    defer_one,
    deferred_target,
    deregister_all,
    device_of,
    ids_in,
    listed,
    reader,
    register,
    require_deferred,
    who,
)
from cpmconf.verdict import HarnessError
from cpmconf.verdict.checks import deferred
from testcases.judging import request_via_core

NOTIFY_CLAUSES = (
    "TS-8.3.2.4.x-3a.i",
    "TS-8.3.2.4.x-3a.ii",
    "TS-8.3.2.4.x-3a.iii",
    "TS-8.3.2.4.x-3a.iv",
    "TS-8.3.2.4.x-3a.v",
    "TS-8.3.2.4.x-3a.vi",
    "TS-8.3.2.4.x-3a.vii",
    "SD-5.2.2.2-1",
    "SD-5.2.2.2.1-notify",
    "SD-5.2.2.2.1-info",
    "SD-5.2.2.2.1-info-accurate",
)


def _captured(view, d):
    """The originator's final and the notification, as the capture holds them (never the
    objects the steps' sockets handed them)."""
    note = None
    if d.notification is not None:
        note = view.find(d.notification, from_sut=True)
        if note is None:
            raise HarnessError("the capture lacks the deferral notification the core received")
    return view.final_to(d.request.call_id, d.request.cseq), note


@pytest.mark.clause("TS-8.3.2.4.x-2", "TS-8.3.2.1-4a.ii", "SD-5.2.2.1.1-handle-queue")
async def test_deferred_pager_message_is_answered_202(pf, expect):
    await deregister_all(pf, PULL_USER)
    d = await defer_one(pf, PULL_USER)
    view = await pf.settle()
    final, _ = _captured(view, d)
    for clause in ("TS-8.3.2.4.x-2", "TS-8.3.2.1-4a.ii", "SD-5.2.2.1.1-handle-queue"):
        expect.judge(clause, deferred.answered_202(final))


@pytest.mark.clause(*NOTIFY_CLAUSES)
async def test_notification_to_the_registered_user(pf, expect):
    await deregister_all(pf, PULL_USER)
    before = await listed(pf, PULL_USER)
    await register(pf, PULL_USER, device_of(pf, PULL_USER))
    try:
        d = await defer_one(pf, PULL_USER)
    finally:
        await deregister_all(pf, PULL_USER)
    require_deferred([d])  # nothing deferred: no notification to judge
    after = await listed(pf, PULL_USER)
    view = await pf.settle()
    _, note = _captured(view, d)
    for clause in ("TS-8.3.2.4.x-3a.i", "SD-5.2.2.2-1"):
        expect.judge(clause, deferred.notification_sent(note, who(pf, PULL_USER)))
    expect.judge(
        "TS-8.3.2.4.x-3a.vii",
        request_via_core(
            pf, view, [note] if note is not None else [], "the deferral notification", role="pf"
        ),
    )
    expect.judge("SD-5.2.2.2.1-notify", deferred.notification_sent(note, who(pf, PULL_USER)))
    if note is None:
        for clause in NOTIFY_CLAUSES[1:]:
            if clause != "SD-5.2.2.2.1-notify":
                expect.judge(clause, deferred.unjudged("a notification to judge", "none came"))
        return
    profile_pf = pf.profile.pf
    # the id the deferred message got: new in the PF's list (unknown without both lists)
    new = [] if before is None or after is None else [i for i in after if i not in before]
    expect.judge("TS-8.3.2.4.x-3a.ii", deferred.system_message_tag(note))
    expect.judge("TS-8.3.2.4.x-3a.iii", deferred.addressed_to(note, who(pf, PULL_USER)))
    expect.judge(
        "TS-8.3.2.4.x-3a.iv", deferred.from_server_identity(note, profile_pf.server_identity)
    )
    expect.judge("TS-8.3.2.4.x-3a.v", deferred.release_stated(note, profile_pf.release))
    expect.judge("TS-8.3.2.4.x-3a.vi", deferred.body_names_message(note, reader(pf), new))
    # it is about this message (the originator's, as captured)
    about = dict.fromkeys(ids_in(pf, note), view.find(d.request, from_sut=False))
    expect.judge("SD-5.2.2.2.1-info", deferred.details_right(note, reader(pf), about))
    expect.judge("SD-5.2.2.2.1-info-accurate", deferred.details_accurate(note, reader(pf), about))


@pytest.mark.clause("TS-8.3.2.4.x-3b")
async def test_no_registered_device_notifies_the_iwf(pf, expect):
    await deregister_all(pf, PULL_USER)
    d = await defer_one(pf, PULL_USER)
    require_deferred([d])
    view = await pf.settle()
    _, note = _captured(view, d)
    iwf = deferred_target(pf).iwf
    if note is None:
        expect.judge("TS-8.3.2.4.x-3b", deferred.notification_sent(None, iwf))
        return
    expect.judge("TS-8.3.2.4.x-3b", deferred.addressed_to(note, iwf))
