"""SD 5.2.2.2.1 (002) with the deferred-messages package of TS 7.2.3 (004): the PF tells a
device what is deferred (SUBSCRIBE, NOTIFY) and acts on a handling INVITE.

The test system is the originator, the device of the pull-deferral user and the interworking
function. Each case first deletes what earlier cases left queued for that user, then
defers its own messages and learns their Message-URI-IDs from the notifications; the list a
fresh subscription returns afterwards shows what the PF dropped and what it kept.
"""

from __future__ import annotations

import pytest

from cpmconf.codec.resource_lists import CPM_ACTIONS
from cpmconf.procedures.pf_deferred import (
    PULL_USER,
    defer_many,
    defer_one,
    deregister_all,
    device_of,
    fetcher,
    handle,
    listed,
    purge,
    reader,
    register,
    require_ids,
    subscribe,
)
from cpmconf.verdict.checks import deferred


@pytest.mark.clause("SD-5.2.2.2.1-notify", "SD-5.2.2.2.1-info", "SD-5.2.2.2.1-info-accurate")
async def test_subscription_lists_the_deferred_messages(pf, expect):
    await deregister_all(pf, PULL_USER)
    await purge(pf, PULL_USER)
    deferrals, ids = await defer_many(pf, PULL_USER, 2)
    sub = await subscribe(pf, PULL_USER)
    await purge(pf, PULL_USER)
    view = await pf.settle()
    notify = None if sub.notify is None else view.find(sub.notify, from_sut=True)
    if notify is None:
        what = "a NOTIFY after the 200 to the SUBSCRIBE"
        if sub.status is None or not 200 <= sub.status < 300:
            what += f" (the SUBSCRIBE got {sub.status if sub.status is not None else 'no answer'})"
        expect.judge("SD-5.2.2.2.1-notify", deferred.notification_sent(None, what))
        # a MAY about the notification's content, and its condition: with no notification
        # neither arose
        for clause in ("SD-5.2.2.2.1-info", "SD-5.2.2.2.1-info-accurate"):
            expect.record_not_applicable(clause, f"no notification: {what} missing")
        return
    expect.judge("SD-5.2.2.2.1-notify", deferred.body_names_message(notify, reader(pf), ids))
    # what the originator sent, as captured: the details the listing must repeat
    sent = {i: view.find(d.request, from_sut=False) for d in deferrals for i in d.ids}
    expect.judge("SD-5.2.2.2.1-info", deferred.details_right(notify, reader(pf), sent))
    expect.judge("SD-5.2.2.2.1-info-accurate", deferred.details_accurate(notify, reader(pf), sent))


async def _act(pf, actions_for, n: int):
    """Defer `n` messages to the pull-deferral user, register its selected device, handle
    them from it; returns the judgement. (Deferred while nothing is registered: the ids come
    from the notifications to the IWF, so this case does not rest on the registered-user
    notification of 3a.)"""
    await deregister_all(pf, PULL_USER)
    await purge(pf, PULL_USER)
    try:
        deferrals, before = await defer_many(pf, PULL_USER, n)
        require_ids(deferrals, before, n)  # the actions name the PF's own ids
        phone = await register(pf, PULL_USER, device_of(pf, PULL_USER))
        actions = actions_for(before)
        # with no list, every deferred message is due: stop once all n came
        done = await handle(pf, PULL_USER, phone, actions, deferred_count=n)
        after = await listed(pf, PULL_USER)
        await purge(pf, PULL_USER)
    finally:
        await deregister_all(pf, PULL_USER)
    await pf.settle()
    named = dict(actions) if actions is not None else dict.fromkeys(before, "deliver")
    return deferred.handled_and_dropped(
        before if len(before) == n else None,
        after,
        named,
        len(done.delivered),
        len(done.interworked),
        interworking="interworking" in pf.profile.ics,
    )


def _first_only(action: str):
    return lambda ids: [(ids[0], action)]


# The handling INVITEs of SD-5.2.2.2.1-remove, by variant: (the list naming the PF's ids, how
# many messages are deferred first). One action on the first message (the second, unlisted,
# stays), every action at once, or no list at all (every message is due for delivery).
HANDLING_LISTS = {
    **{action: (_first_only(action), 2) for action in CPM_ACTIONS},
    "mixed": (lambda ids: list(zip(ids, CPM_ACTIONS, strict=False)), 5),
    "no-list": (lambda ids: None, 2),
}


@pytest.mark.clause("SD-5.2.2.2.1-remove")
@pytest.mark.parametrize("variant", list(HANDLING_LISTS))
async def test_handling_list_is_acted_on_and_unlisted_stay(pf, expect, variant):
    actions_for, n = HANDLING_LISTS[variant]
    expect.judge("SD-5.2.2.2.1-remove", await _act(pf, actions_for, n))


@pytest.mark.clause("SD-5.2.2.2.1-remove")
async def test_large_deferred_message_is_fetched_in_large_mode(pf, expect):
    """A deferred message over 1300 bytes is delivered in a session (INVITE and MSRP), whole."""
    await deregister_all(pf, PULL_USER)
    await purge(pf, PULL_USER)
    try:
        d = await defer_one(pf, PULL_USER, "large " + "x" * 1400)
        ids = d.ids
        require_ids([d], ids)
        phone = await register(pf, PULL_USER, device_of(pf, PULL_USER))
        done = await handle(pf, PULL_USER, phone, [(ids[0], "deliver")])
        after = await listed(pf, PULL_USER)
        await purge(pf, PULL_USER)
    finally:
        await deregister_all(pf, PULL_USER)
    await pf.settle()
    expect.judge(
        "SD-5.2.2.2.1-remove",
        deferred.handled_and_dropped(
            ids,
            after,
            dict.fromkeys(ids[:1], "deliver"),
            len(done.delivered),
            len(done.interworked),
            interworking="interworking" in pf.profile.ics,
        ),
    )
    invites = [i for i in done.delivered if i.method == "INVITE"]
    expect.judge(
        "SD-5.2.2.2.1-remove",
        deferred.pushed_once_each(done.large_bodies, [d.body] if invites else []),
    )


@pytest.mark.clause("TS-7.2.3.2.1-on488-pf")
@pytest.mark.parametrize("asked", ["nothing-deferred", "already-deleted"])
async def test_nothing_to_handle_gets_488_no_messages(pf, expect, asked):
    """Handling INVITE that matches nothing still deferred: 488 with Warning 125."""
    await deregister_all(pf, PULL_USER)
    await purge(pf, PULL_USER)
    actions = None
    if asked == "already-deleted":
        deferrals, ids = await defer_many(pf, PULL_USER, 1)
        await purge(pf, PULL_USER)
        require_ids(deferrals, ids)  # else this would ask about nothing, as nothing-deferred
        actions = [(i, "deliver") for i in ids]
    done = await handle(pf, PULL_USER, fetcher(pf, PULL_USER), actions)
    view = await pf.settle()
    # the final as captured, not the object the core's transaction handed the step
    expect.judge(
        "TS-7.2.3.2.1-on488-pf",
        deferred.no_messages_488(view.final_to(done.request.call_id, done.request.cseq)),
    )
