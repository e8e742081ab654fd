"""TS 7.2.3.1 (004): a CPM Client subscribing to deferred-message information.

The upper tester makes the client subscribe; the test system, as the PF's deferred-message
management address behind the core, answers 200 and sends a NOTIFY listing two deferred
messages in the suite's own body format (docs/deferred-messages-body.md).
"""

from __future__ import annotations

import pytest

from cpmconf.procedures.deferred import client_subscribes, management_uri, new_ids
from cpmconf.verdict import Inconclusive
from cpmconf.verdict.checks import deferred_client as dc
from cpmconf.verdict.checks import pager
from testcases.judging import request_via_core


@pytest.mark.clause(
    "TS-7.2.3.1-intro",
    "TS-7.2.3.1-1",
    "TS-7.2.3.1-1a",
    "TS-7.2.3.1-1b",
    "TS-7.2.3.1-1c",
    "TS-7.2.3.1-1d",
    "TS-7.2.3.1-1d-registered",
    "TS-7.2.3.1-1e",
    "TS-7.2.3.1-1f",
    "TS-7.2.3.1-1g",
    "TS-7.2.3.1-1h",
)
async def test_subscribe_request(client, expect):
    await client_subscribes(client, new_ids(client, 2))
    view = await client.settle()
    subs = view.requests("SUBSCRIBE", from_sut=True)
    expect.judge(
        "TS-7.2.3.1-1h",
        request_via_core(client, view, subs, "SUBSCRIBE", role="client"),
    )
    if not subs:
        raise Inconclusive("the capture holds no SUBSCRIBE from the client")
    sub = subs[0]
    expect.judge("TS-7.2.3.1-intro", dc.event_package(sub))
    expect.judge("TS-7.2.3.1-1", dc.subscribe_form(sub))
    expect.judge("TS-7.2.3.1-1a", dc.request_uri_management(sub, management_uri(client)))
    expect.judge("TS-7.2.3.1-1b", dc.accept_contact_deferred(sub))
    expect.judge("TS-7.2.3.1-1c", dc.contact_deferred(sub))
    user = client.profile.client.user
    expect.judge("TS-7.2.3.1-1d", dc.optional_identity(sub, user))
    expect.judge("TS-7.2.3.1-1d-registered", pager.identity_registered(sub, user))
    expect.judge("TS-7.2.3.1-1e", dc.preferred_service_deferred(sub))
    expect.judge("TS-7.2.3.1-1f", dc.event_package(sub))
    expect.judge("TS-7.2.3.1-1g", dc.expires_zero(sub))
