"""TS 7.2.3.2.1 (004): a CPM Client handling deferred messages before any expiry notice.

The client first learns Message-URI-IDs from a NOTIFY (TS 7.2.3.1); the upper tester then
makes it send the handling INVITE: with no body for every message, or a resource list
naming some with their cpm_action. The test system, as the PF's management address, answers
200 (and takes ACK and BYE), or 488 with Warning 125 "No messages", or another failure; after
a 200 it delivers deferred messages (deferred ICSI) in pager and large mode.
"""

from __future__ import annotations

import pytest

from cpmconf.codec.resource_lists import CPM_ACTIONS
from cpmconf.procedures.client import deliver_large_to_client, deliver_to_client, large_text
from cpmconf.procedures.deferred import client_handles, client_subscribes, management_uri, new_ids
from cpmconf.verdict import Inconclusive
from cpmconf.verdict.checks import deferred_client as dc
from testcases.judging import request_via_core

NO_MESSAGES = '399 pf.{domain} "125 No messages"'  # the PF's Warning, in the domain
ACTION_CLAUSE = {
    "deliver": "TS-7.2.3.2.1-7a.i",
    "delete": "TS-7.2.3.2.1-7a.ii",
    "interwork": "TS-7.2.3.2.1-7a.iii",
    "store": "TS-7.2.3.2.1-7a.iv",
}


async def _learn(client, n: int) -> list[str]:
    r = await client_subscribes(client, new_ids(client, n))
    if sorted(r.learnt) != sorted(r.ids):
        raise Inconclusive(
            f"the client reports Message-URI-IDs {r.learnt} after a NOTIFY of {r.ids}, "
            "so its handling list cannot be set up"
        )
    return r.ids


def _invite(r, view=None):
    """The client's handling INVITE as the capture holds it (view: settled already)."""
    if r.invite is None:
        raise Inconclusive("the client sent no handling INVITE")
    return r.invite if view is None else view.find(r.invite, from_sut=True)


def _sent(view, ids):
    """A request the client sent, as captured (None: it sent none)."""
    return None if ids is None else view.find(ids, from_sut=True)


@pytest.mark.clause(
    "TS-7.2.3.2.1-1",
    "TS-7.2.3.2.1-2",
    "TS-7.2.3.2.1-3",
    "TS-7.2.3.2.1-4",
    "TS-7.2.3.2.1-5",
    "TS-7.2.3.2.1-6",
    "TS-7.2.3.2.1-6a",
    "TS-7.2.3.2.1-6b",
    "TS-7.2.3.2.1-6b-valid",
    "TS-7.2.3.2.1-6c",
    "TS-7.2.3.2.1-7",
    "TS-7.2.3.2.1-8",
    "TS-7.2.3.2.1-on200-ack",
    "TS-7.2.3.2.1-on200-bye",
)
async def test_handling_every_message(client, expect):
    await _learn(client, 2)
    r = await client_handles(client, None)
    view = await client.settle()
    invites = view.requests("INVITE", from_sut=True)
    expect.judge(
        "TS-7.2.3.2.1-8",
        request_via_core(client, view, invites, "handling INVITE", role="client"),
    )
    inv = _invite(r, view)
    expect.judge("TS-7.2.3.2.1-1", dc.initial_invite(inv))
    expect.judge("TS-7.2.3.2.1-2", dc.request_uri_management(inv, management_uri(client)))
    expect.judge("TS-7.2.3.2.1-3", dc.contact_deferred(inv))
    expect.judge("TS-7.2.3.2.1-4", dc.accept_contact_deferred(inv))
    expect.judge("TS-7.2.3.2.1-5", dc.preferred_service_deferred(inv))
    expect.judge("TS-7.2.3.2.1-6", dc.offer_valid(inv))
    expect.judge("TS-7.2.3.2.1-6a", dc.offer_accepts_cpim(inv))
    expect.judge("TS-7.2.3.2.1-6b", dc.offer_other_types(inv))
    expect.judge("TS-7.2.3.2.1-6b-valid", dc.other_types_valid(inv))
    expect.judge("TS-7.2.3.2.1-6c", dc.offer_recvonly(inv))
    expect.judge("TS-7.2.3.2.1-7", dc.list_matches_request(inv, all_messages=True))
    expect.judge("TS-7.2.3.2.1-on200-ack", dc.acknowledged(_sent(view, r.ack), inv, 200))
    sends = len(view.msrp_from_sut("SEND"))
    expect.judge(
        "TS-7.2.3.2.1-on200-bye",
        dc.bye_after_ack(_sent(view, r.ack), _sent(view, r.bye), sends, inv),
    )


@pytest.mark.clause("TS-7.2.3.2.1-7", "TS-7.2.3.2.1-7a")
@pytest.mark.parametrize(
    "action",
    [
        pytest.param("deliver", marks=pytest.mark.clause("TS-7.2.3.2.1-7a.i"), id="deliver"),
        pytest.param("delete", marks=pytest.mark.clause("TS-7.2.3.2.1-7a.ii"), id="delete"),
        pytest.param("interwork", marks=pytest.mark.clause("TS-7.2.3.2.1-7a.iii"), id="interwork"),
        pytest.param("store", marks=pytest.mark.clause("TS-7.2.3.2.1-7a.iv"), id="store"),
    ],
)
async def test_one_action(client, expect, action):
    ids = await _learn(client, 2)
    wanted = {ids[0]: action}  # the second message is left out: it stays deferred
    r = await client_handles(client, list(wanted.items()))
    inv = _invite(r, await client.settle())
    expect.judge("TS-7.2.3.2.1-7", dc.list_matches_request(inv, all_messages=False))
    expect.judge("TS-7.2.3.2.1-7a", dc.entries_name_known_messages(inv, ids))
    check = {
        "deliver": dc.action_deliver,
        "delete": dc.action_delete,
        "interwork": dc.action_interwork,
        "store": dc.action_store,
    }[action]
    expect.judge(ACTION_CLAUSE[action], check(inv, wanted))


@pytest.mark.clause(
    "TS-7.2.3.2.1-7",
    "TS-7.2.3.2.1-7a",
    "TS-7.2.3.2.1-7a.i",
    "TS-7.2.3.2.1-7a.ii",
    "TS-7.2.3.2.1-7a.iii",
    "TS-7.2.3.2.1-7a.iv",
)
async def test_mixed_list(client, expect):
    ids = await _learn(client, 5)
    wanted = dict(zip(ids, CPM_ACTIONS, strict=False))  # the fifth stays deferred
    r = await client_handles(client, list(wanted.items()))
    inv = _invite(r, await client.settle())
    expect.judge("TS-7.2.3.2.1-7", dc.list_matches_request(inv, all_messages=False))
    expect.judge("TS-7.2.3.2.1-7a", dc.entries_name_known_messages(inv, ids))
    expect.judge("TS-7.2.3.2.1-7a.i", dc.action_deliver(inv, wanted))
    expect.judge("TS-7.2.3.2.1-7a.ii", dc.action_delete(inv, wanted))
    expect.judge("TS-7.2.3.2.1-7a.iii", dc.action_interwork(inv, wanted))
    expect.judge("TS-7.2.3.2.1-7a.iv", dc.action_store(inv, wanted))


@pytest.mark.clause("TS-7.2.3.2.1-on488", "TS-7.2.3.2.1-on488-process")
async def test_488_no_messages_ends_the_attempt(client, expect):
    ids = await _learn(client, 1)
    r = await client_handles(
        client,
        [(ids[0], "deliver")],
        status=488,
        warning=NO_MESSAGES.format(domain=client.domain),
        watch_retry=client.profile.retry_watch,  # [timers].retry_watch
    )
    view = await client.settle()
    inv = _invite(r, view)
    retries = view.requests("INVITE", from_sut=True, where=lambda m: m.call_id != inv.call_id)
    expect.judge("TS-7.2.3.2.1-on488", dc.no_retry(inv, retries, client.profile.retry_watch))
    expect.judge("TS-7.2.3.2.1-on488-process", dc.acknowledged(_sent(view, r.ack), inv, 488))


@pytest.mark.clause("TS-7.2.3.2.1-error")
@pytest.mark.parametrize("status", [403, 500])
async def test_other_failure_is_acknowledged(client, expect, status):
    ids = await _learn(client, 1)
    r = await client_handles(client, [(ids[0], "deliver")], status=status)
    view = await client.settle()
    inv = _invite(r, view)
    expect.judge("TS-7.2.3.2.1-error", dc.acknowledged(_sent(view, r.ack), inv, status))


@pytest.mark.clause("TS-7.2.3.2.1-receive")
@pytest.mark.parametrize("mode", ["pager", "large"])
async def test_deferred_deliveries_are_received(client, expect, mode):
    ids = await _learn(client, 1)
    r = await client_handles(client, [(ids[0], "deliver")])
    _invite(r)
    if mode == "pager":
        d = await deliver_to_client(client, icsi=dc.ICSI_DEFERRED, text="queued hello")
        view = await client.settle()
        final = view.final_to(d.call_id, d.request.cseq)
        expect.judge("TS-7.2.3.2.1-receive", dc.delivery_accepted(final, "deferred MESSAGE"))
    else:
        out = await deliver_large_to_client(client, large_text(), icsi=dc.ICSI_DEFERRED)
        expect.judge(
            "TS-7.2.3.2.1-receive",
            dc.delivery_accepted(
                out.view.final_to(out.invite.call_id, out.invite.cseq), "deferred large INVITE"
            ),
        )
