"""TS 8.3.2.4.1 (003) and SD 5.2.2.2.2 (002): the PF pushes deferred messages to the devices
it selects once one registers.

The push-deferral user defers every message and gets them pushed to the devices the profile
marks selected. The case defers two messages while none of the user's devices is registered
(the notifications go to the interworking function), then registers an unselected device and
then a selected one and plays the selected device's side of the push session: 200 with an
SDP answer, the MSRP connection (the client is always the active side), the messages, the BYE.
Any other push INVITE (before a registration, to the unselected device, a second one to the
selected device) is refused, and judged.

A second case refuses the first push and registers the selected device anew: the messages
still wait, so a device that becomes available again gets them pushed.
"""

from __future__ import annotations

import pytest

from cpmconf.codec.uri import same_contact, same_gruu
from cpmconf.procedures.pf_deferred import (
    PUSH_USER,
    defer_many,
    deregister_all,
    device_of,
    is_for,
    is_push_to,
    purge,
    refuse_pushes,
    register,
    require_deferred,
    take_push,
    who,
)
from cpmconf.verdict.checks import deferred
from testcases.judging import request_via_core

PUSH_CLAUSES = (
    "TS-8.3.2.4.1-select",
    "TS-8.3.2.4.1-invite",
    "TS-8.3.2.4.1-a",
    "TS-8.3.2.4.1-b",
    "TS-8.3.2.4.1-c",
    "TS-8.3.2.4.1-d",
    "TS-8.3.2.4.1-e",
    "TS-8.3.2.4.1-f",
    "TS-8.3.2.4.1-g",
    "TS-8.3.2.4.1-g.i",
    "TS-8.3.2.4.1-g.ii",
    "TS-8.3.2.4.1-h",
    "TS-8.3.2.4.1-on200-2",
    "TS-8.3.2.4.1-on200-3",
    "SD-5.2.2.2-2",
    "SD-5.2.2.2.2-wait",
    "SD-5.2.2.2.2-setup",
    "SD-5.2.2.2.2-deliver",
    "SD-5.2.2.2.2-teardown",
)


@pytest.mark.clause(*PUSH_CLAUSES)
@pytest.mark.gruu_uri("TS-8.3.2.4.1-a")
async def test_push_to_the_selected_device_on_registration(pf, expect):
    user = who(pf, PUSH_USER)
    selected_dev, unselected_dev = device_of(pf, user), device_of(pf, user, selected=False)
    await deregister_all(pf, PUSH_USER)
    await purge(pf, PUSH_USER)
    deferrals, _ = await defer_many(pf, PUSH_USER, 2)
    require_deferred(deferrals)  # nothing deferred: no push to wait for
    originals = [d.body for d in deferrals]
    early = await refuse_pushes(pf, is_for(user), "a push INVITE before registration", status=480)
    try:
        tablet = await register(pf, user, unselected_dev)  # not selected: no push for it
        await refuse_pushes(pf, is_push_to(pf, tablet), "a push INVITE to the unselected device")
        phone = await register(pf, user, selected_dev)
        push = await take_push(pf, len(originals), phone)
        taken = push.invite.call_id if push.invite is not None else None
        others = is_for(user)
        await refuse_pushes(pf, lambda m: others(m) and m.call_id != taken, "another push INVITE")
    finally:
        await deregister_all(pf, PUSH_USER)
        await purge(pf, PUSH_USER)
    view = await pf.settle()

    def name_of(uri: str):
        for d in (phone, tablet):
            if same_gruu(uri, d.gruu) or same_contact(uri, d.contact):
                return d.name
        return None

    invites = view.requests(
        "INVITE", from_sut=True, where=lambda m: name_of(m.request_uri or "") is not None
    )
    early = [view.find(i, from_sut=True) for i in early]  # as captured
    expect.judge("SD-5.2.2.2.2-wait", deferred.no_push_while_unregistered(early))

    selected = {d.name for d in pf.role_devices(PUSH_USER, selected=True)}
    to_phone = [m for m in invites if name_of(m.request_uri or "") == phone.name]
    expect.judge(
        "TS-8.3.2.4.1-select", deferred.pushed_only_to_selected(invites, name_of, selected)
    )
    expect.judge("TS-8.3.2.4.1-invite", deferred.one_invite_each(invites, name_of, selected))
    for clause in ("SD-5.2.2.2.2-setup", "SD-5.2.2.2-2"):
        expect.judge(clause, deferred.push_session_opened(to_phone, phone.name))
    expect.judge(
        "TS-8.3.2.4.1-h",
        request_via_core(pf, view, invites, "push INVITE", role="pf"),
    )
    # the push the phone took (other INVITEs to it, if any, were refused)
    invite = next((m for m in to_phone if push.invite and m.call_id == push.invite.call_id), None)
    if invite is None:
        reason = push.stopped or "no push INVITE to the selected device"
        for clause in PUSH_CLAUSES:
            if clause not in expect.levels or clause in {f.clause for f in expect.findings}:
                continue
            expect.judge(clause, deferred.unjudged("a push INVITE to judge", reason))
        return
    expect.judge("TS-8.3.2.4.1-a", deferred.push_to_gruu(invite, phone.gruu or phone.contact))
    expect.judge("TS-8.3.2.4.1-b", deferred.push_accept_contact(invite))
    expect.judge("TS-8.3.2.4.1-c", deferred.push_user_agent(invite, pf.profile.pf.release))
    expect.judge("TS-8.3.2.4.1-d", deferred.push_contact_icsi(invite))
    expect.judge("TS-8.3.2.4.1-e", deferred.push_contact_automata(invite))
    expect.judge("TS-8.3.2.4.1-f", deferred.push_session_expires(invite))
    for clause in ("TS-8.3.2.4.1-g", "TS-8.3.2.4.1-g.i", "TS-8.3.2.4.1-g.ii"):
        expect.judge(clause, deferred.push_offer_sendonly(invite))
    acks = view.requests("ACK", from_sut=True, where=lambda m: m.call_id == invite.call_id)
    expect.judge(
        "TS-8.3.2.4.1-on200-2", deferred.ack_to_contact(acks[0] if acks else None, phone.contact)
    )
    for clause in ("TS-8.3.2.4.1-on200-3", "SD-5.2.2.2.2-deliver"):
        expect.judge(clause, deferred.pushed_once_each(push.bodies, originals))
    byes = view.requests("BYE", from_sut=True, where=lambda m: m.call_id == invite.call_id)
    expect.judge("SD-5.2.2.2.2-teardown", deferred.push_bye(byes))


@pytest.mark.clause("SD-5.2.2.2-2", "SD-5.2.2.2.2-setup")
async def test_push_again_when_the_device_registers_anew(pf, expect):
    selected_dev = device_of(pf, PUSH_USER)
    await deregister_all(pf, PUSH_USER)
    await purge(pf, PUSH_USER)
    deferrals, _ = await defer_many(pf, PUSH_USER, 1)
    require_deferred(deferrals)
    push = None
    try:
        phone = await register(pf, PUSH_USER, selected_dev)
        first = await pf.observe(is_push_to(pf, phone), "the first push INVITE", pf.guard)
        if first is not None:  # the phone does not take it: the messages stay deferred
            await pf.respond(first, 480, "Temporarily Unavailable")
            await register(pf, PUSH_USER, selected_dev, expires=0)
            phone = await register(pf, PUSH_USER, selected_dev)
            push = await take_push(pf, len(deferrals), phone)
    finally:
        await deregister_all(pf, PUSH_USER)
        await purge(pf, PUSH_USER)
    view = await pf.settle()
    # the push after the second registration, as captured (none when it never came)
    call_id = push.invite.call_id if push is not None and push.invite is not None else None
    again = view.requests("INVITE", from_sut=True, where=lambda m: m.call_id == call_id)
    for clause in ("SD-5.2.2.2-2", "SD-5.2.2.2.2-setup"):
        if first is None:
            judgement = deferred.unjudged("a first push INVITE to refuse", "none came")
        else:
            judgement = deferred.push_session_opened(again, selected_dev.name)
        expect.judge(clause, judgement)
