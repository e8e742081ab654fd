"""001 8.3.2.1.1: the terminating PF delivering a large-mode message, as a B2BUA.

The test system sends the sender's INVITE, plays the recipient's devices (each answers
`setup:active` and connects to the PF), then sends the message over MSRP in chunks and ends
with a BYE. The policy refusals (403) use the blocked originator, an old client release and
an anonymous sender; the release and anonymity cases need the profile to state the PF's
policy (`[pf].min_client_release`, `[pf].anonymity_allowed`) and claim the ICS item.
"""

from __future__ import annotations

import pytest

from cpmconf.procedures.client import large_text
from cpmconf.procedures.pf import (
    UTF8_SPLIT,
    device_legs,
    invite_to_pf,
    large_through_pf,
    refused,
    stopped,
)
from cpmconf.verdict import Inconclusive
from cpmconf.verdict.checks import large, pager, pf_large, routing
from cpmconf.verdict.checks.base import not_arisen
from testcases.judging import request_via_core

MIB = 1024 * 1024


def final_of(r):
    """The PF's final response to the sender's INVITE as the capture holds it (None: none)."""
    return r.view.final_to(r.invite.call_id, r.invite.cseq)


def accepted(r):
    """The exchange reached the 200 upstream; otherwise the rest cannot be judged."""
    final = final_of(r)
    if final is None or final.status != 200:
        raise stopped(r, "no 200 to the sender's INVITE, so this is not judged")
    return final


# -- policies (steps 1-3) ----------------------------------------------------------------------


@pytest.mark.clause("TS-8.3.2.1.1-1.i", "TS-8.3.2.1.1-1.ii")
async def test_blocked_originator_gets_403_with_warning(pf, expect):
    blocked = pf.role("blocked_originator")
    stim, _ = invite_to_pf(pf, 2000, recipient=pf.blocking(blocked), originator=blocked)
    final = (await refused(pf, stim)).final
    expect.judge("TS-8.3.2.1.1-1.i", pf_large.refused_403(final))
    expect.judge("TS-8.3.2.1.1-1.ii", pf_large.warning_on_403(final))


@pytest.mark.clause("TS-8.3.2.1.1-2.i", "TS-8.3.2.1.1-2.i-errorinfo")
async def test_old_client_release_gets_403_with_error_info(pf, expect):
    minimum = pf.profile.pf.min_client_release
    if minimum is None:
        raise Inconclusive(
            "the profile claims ua-version-check but names no [pf].min_client_release"
        )
    stim, _ = invite_to_pf(pf, 2000, user_agent="CPM-client/OMA0.9 cpmconf-old-client")
    final = (await refused(pf, stim)).final
    expect.judge("TS-8.3.2.1.1-2.i", pf_large.refused_403(final))
    expect.judge("TS-8.3.2.1.1-2.i-errorinfo", pf_large.error_info_on_403(final))


@pytest.mark.clause("TS-8.3.2.1.1-3.i", "TS-8.3.2.1.1-3.ii")
async def test_anonymous_sender_gets_403_with_warning(pf, expect):
    if pf.profile.pf.anonymity_allowed:
        raise Inconclusive("the profile says the PF allows anonymity ([pf].anonymity_allowed)")
    stim, _ = invite_to_pf(pf, 2000, privacy="id")
    final = (await refused(pf, stim)).final
    expect.judge("TS-8.3.2.1.1-3.i", pf_large.refused_403(final))
    expect.judge("TS-8.3.2.1.1-3.ii", pf_large.warning_on_403(final))


# -- forking to the devices (steps 4-6) --------------------------------------------------------


@pytest.mark.clause(
    "TS-8.3.2.1.1-4",
    "TS-8.3.2.1.1-5",
    "TS-8.3.2.1.1-6",
    "TS-8.3.2.1.1-6.i",
    "TS-8.3.2.1.1-6.ii",
    "TS-8.3.2.1.1-6.iii",
)
@pytest.mark.gruu_uri("TS-8.3.2.1.1-6.ii")
async def test_invites_each_selected_device_by_gruu(pf, expect):
    recipient = pf.role("multi_device_recipient")
    r = await large_through_pf(pf, large_text(), recipient=recipient)
    # Every device INVITE the SUT put on the wire for this message, answered or not: the
    # steps wait for as many legs as devices are selected, a copy beyond them is judged too.
    legs = device_legs(pf, r)
    devs = [d for d in pf.core.devices if d.user == recipient]
    known = {d.name: [d.gruu, d.contact] for d in devs}
    selected = {d.name for d in devs if d.selected}
    expect.judge("TS-8.3.2.1.1-4", pf_large.session_timer_handled(legs, final_of(r)))
    expect.judge("TS-8.3.2.1.1-5", pf_large.separate_dialogs(legs, r.view.find(r.invite)))
    expect.judge("TS-8.3.2.1.1-6", pager.delivered_to_selected(legs, known, selected))
    expect.judge("TS-8.3.2.1.1-6.i", pager.one_copy_each(legs, known, selected))
    for leg in legs:
        dev = pf.core.device_for(leg.request_uri or "")
        expect.judge("TS-8.3.2.1.1-6.ii", pager.request_uri_is_gruu(leg, dev.gruu or "a GRUU"))
    if not legs:  # nothing the SUT sent to judge (6 fails on the missing copies)
        expect.judge(
            "TS-8.3.2.1.1-6.ii",
            not_arisen("an INVITE to a device GRUU", "no device INVITE", "the PF forked none"),
        )
    expect.judge(
        "TS-8.3.2.1.1-6.iii",
        request_via_core(pf, r.view, legs, "device INVITEs", role="pf"),
    )


# -- the first 200 -----------------------------------------------------------------------------


@pytest.mark.clause(
    "TS-8.3.2.1.1-first200-1",
    "TS-8.3.2.1.1-first200-2",
    "TS-8.3.2.1.1-first200-2a",
    "TS-8.3.2.1.1-first200-2b",
    "TS-8.3.2.1.1-first200-2c",
    "TS-8.3.2.1.1-first200-2d",
    "TS-8.3.2.1.1-first200-2e",
)
@pytest.mark.parametrize("sip", ["udp", "tcp", pytest.param("tls", marks=pytest.mark.tls)])
async def test_200_to_the_sender_answers_for_the_pf(pf, expect, sip):
    r = await large_through_pf(pf, large_text(), transport=sip)
    finals = r.view.finals(r.invite.call_id, r.invite.cseq, from_sut=True)
    expect.judge("TS-8.3.2.1.1-first200-1", pf_large.one_200_upstream(finals))
    final = accepted(r)
    for clause in ("TS-8.3.2.1.1-first200-2", "TS-8.3.2.1.1-first200-2a"):
        expect.judge(clause, large.has_msrp_media(final))
    device_path = r.device_path  # the a=path of our device's answer
    expect.judge("TS-8.3.2.1.1-first200-2b", large.path_prepended(final, device_path))
    expect.judge("TS-8.3.2.1.1-first200-2c", large.accept_types_cpim(final))
    expect.judge("TS-8.3.2.1.1-first200-2d", large.answer_recvonly(final))
    expect.judge("TS-8.3.2.1.1-first200-2e", large.setup_passive(final))


@pytest.mark.clause(
    "TS-8.3.2.1.1-first200-3",
    "TS-8.3.2.1.1-first200-4",
    "TS-8.3.2.1.1-first200-5",
    "TS-8.3.2.1.1-first200-6",
)
async def test_200_to_the_sender_names_the_server(pf, expect):
    r = await large_through_pf(pf, large_text())
    final = accepted(r)
    expect.judge("TS-8.3.2.1.1-first200-3", pager.server_release(final, pf.profile.pf.release))
    expect.judge(
        "TS-8.3.2.1.1-first200-4", pf_large.allow_lists(final, ("INVITE", "ACK", "BYE", "CANCEL"))
    )
    expect.judge("TS-8.3.2.1.1-first200-5", pf_large.contact_is_the_pf(final, [r.device_contact]))
    expect.judge(
        "TS-8.3.2.1.1-first200-6",
        routing.response_via_core(r.view, r.view.find(r.invite), "the 200 to the sender"),
    )


# -- ACK, MSRP relay and BYE -------------------------------------------------------------------

SIZES = [
    pytest.param(1301, 100_000, id="1301-bytes-one-chunk"),
    pytest.param(1301, UTF8_SPLIT, id="1301-bytes-utf8-split"),
    pytest.param(MIB, 64 * 1024, id="1MiB-64KiB-chunks"),
]


@pytest.mark.clause(
    "TS-8.3.2.1.1-ack-1",
    "TS-8.3.2.1.1-ack-2",
    "TS-8.3.2.1.1-send-2",
    "TS-8.3.2.1.1-msrp200-1",
    "TS-8.3.2.1.1-bye-1",
    "TS-8.3.2.1.1-bye-2",
)
@pytest.mark.parametrize(("size", "chunk_size"), SIZES)
async def test_relays_the_message_and_ends_both_legs(pf, expect, size, chunk_size):
    r = await large_through_pf(pf, large_text(size), chunk_size=chunk_size)
    accepted(r)
    device_ack = None if r.device_ack is None else r.view.find(r.device_ack, from_sut=True)
    expect.judge(
        "TS-8.3.2.1.1-ack-2",
        pager.arrived_at_core(device_ack is not None, "the ACK on the device leg", device_ack),
    )
    if r.no_relay:
        raise stopped(r, "no MSRP session through the PF")
    view, sender, device = r.view, r.sender, r.device
    expect.judge(
        "TS-8.3.2.1.1-ack-1",
        pf_large.sender_connects(view.msrp, sender.local, pf.msrp.port, r.bound),
    )
    to_device = [
        m for m in view.msrp_from_sut("SEND") if m.to_path() and str(m.to_path()[0]) == device.local
    ]
    expect.judge(
        "TS-8.3.2.1.1-send-2", pf_large.relayed_to_device(to_device, [device.local], r.cpim)
    )
    chunks = [
        s
        for s in view.msrp
        if not s.from_sut
        and s.message.is_request
        and s.message.body
        and s.message.to_path()
        and str(s.message.to_path()[-1]) == device.local
    ]
    tids = {m.transaction_id for m in chunks}
    responses = [m for m in view.msrp_from_sut(None) if m.is_response and m.transaction_id in tids]
    expect.judge("TS-8.3.2.1.1-msrp200-1", pf_large.sender_chunks_answered(responses, len(chunks)))
    if r.stopped is not None:
        raise stopped(r, "the exchange stopped before the BYE")
    bye_final = None if r.bye is None else view.final_to(r.bye.call_id, r.bye.cseq)
    expect.judge("TS-8.3.2.1.1-bye-1", pager.answered_200(bye_final, "BYE"))
    expect.judge(
        "TS-8.3.2.1.1-bye-2",
        pf_large.device_bye_after_media(
            view.items, view.msrp, r.device_invites[0].call_id, device.local
        ),
    )
