"""TS 7.1 (000): a CPM Client registering, re-registering and de-registering at the SIP/IP core.

The test system is the core's registrar: it answers the client's REGISTER with 200, granting
an expiry of its choice (a short one to see the refresh within the test) and a public GRUU.
The upper tester makes the client register and de-register.
"""

from __future__ import annotations

import asyncio

import pytest

from cpmconf.roles import upper_tester
from cpmconf.roles.network import forget, unless
from cpmconf.verdict import Inconclusive
from cpmconf.verdict.checks import registration as reg
from testcases.judging import request_via_core


@pytest.mark.clause(
    "TS-7.1-1", "TS-7.1-2", "TS-7.1-3", "TS-7.1-4", "TS-7.1-5", "TS-7.1-6", "TS-7.1-8"
)
async def test_register_request(scene, expect):
    await scene.client_registers()
    view = await scene.settle()
    registers = view.requests("REGISTER", from_sut=True)
    expect.judge(
        "TS-7.1-8",
        request_via_core(scene, view, registers, "REGISTER", role="client"),
    )
    if not registers:
        raise Inconclusive("the capture holds no REGISTER from the client")
    msg = registers[0]
    expect.judge("TS-7.1-1", reg.register_form(msg))
    expect.judge("TS-7.1-2", reg.contact_cpm_icsi(msg))
    expect.judge("TS-7.1-3", reg.contact_instance(msg))
    expect.judge("TS-7.1-4", reg.supported_gruu(msg))
    expect.judge("TS-7.1-5", reg.require_gruu(msg))
    expect.judge("TS-7.1-6", reg.contact_capabilities(msg))


@pytest.mark.clause("TS-7.1-reregister")
async def test_refreshes_before_the_granted_expiry(scene, expect):
    grant = scene.profile.refresh_grant  # [timers] refresh_grant: the grant under test
    first_ids = await scene.client_registers(granted=grant)
    # Wait past the granted period by one guard time: a late refresh is seen and judged late.
    # It gets a long grant, so the client does not keep refreshing into the next test.
    refresh_ids = await scene.next_register(grant + scene.guard, "the refresh REGISTER")
    view = await scene.settle()
    first = view.find(first_ids, from_sut=True)
    refresh = None if refresh_ids is None else view.find(refresh_ids, from_sut=True)
    ours = view.responses_to(first, from_sut=False)
    granted_at = reg.seen_time(view, ours[0]) if ours else None
    if granted_at is None:
        raise Inconclusive("the registrar's 200 is not in the capture, so no deadline is known")
    refresh_at = reg.seen_time(view, refresh) if refresh is not None else None
    expect.judge(
        "TS-7.1-reregister",
        reg.refreshed_in_time(first, grant, granted_at, refresh, refresh_at),
    )


@pytest.mark.clause("TS-7.1-deregister")
async def test_deregisters_on_request(scene, expect):
    await scene.client_registers()
    task = asyncio.ensure_future(scene.ut.deregister())
    try:
        msg = await unless(scene.next_register(scene.guard, "the de-registering REGISTER"), task)
        await upper_tester.answer(task, scene.guard, "POST /deregister")
    finally:
        forget(task)
    view = await scene.settle()
    captured = view.requests("REGISTER", from_sut=True, where=lambda m: m is not None)
    last = captured[-1] if msg is not None and len(captured) > 1 else None
    expect.judge("TS-7.1-deregister", reg.deregistration(last))
