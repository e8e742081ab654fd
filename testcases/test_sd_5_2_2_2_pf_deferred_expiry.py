"""SD 5.2.2.2 (002): a deferred message that expires is dealt with by policy, never delivered.

A pull user defers two messages, one with a 60 s expiry. The case moves the PF's clock forward by
two minutes through the profile's clock hook (a SUT that declares none is not-applicable
here), then asks for the list and for delivery of the
expired message: it must be gone from the list and never delivered, while the other stays.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from cpmconf.procedures.pf_deferred import (
    PULL_USER,
    advance_clock,
    defer_one,
    deregister_all,
    fetcher,
    handle,
    listed,
    purge,
    require_clock,
    require_deferred,
)
from cpmconf.verdict.checks import deferred

LIFETIME = 60


@pytest.mark.clause("SD-5.2.2.2-expiry")
async def test_expired_deferred_message_is_gone_and_never_delivered(pf, expect):
    require_clock(pf)
    await deregister_all(pf, PULL_USER)
    await purge(pf, PULL_USER)
    now = format_datetime(datetime.now(UTC), usegmt=True)
    short = await defer_one(pf, PULL_USER, "expires soon", expires=LIFETIME, date=now)
    keep = await defer_one(pf, PULL_USER, "stays")
    expired_ids, kept_ids = short.ids, keep.ids
    require_deferred([short, keep])
    if not expired_ids:
        await pf.settle()
        expect.judge(
            "SD-5.2.2.2-expiry",
            deferred.unjudged("the expiring message's Message-URI-ID", "no readable notification"),
        )
        return
    await advance_clock(pf, 2 * LIFETIME)
    after = await listed(pf, PULL_USER)
    done = await handle(pf, PULL_USER, fetcher(pf, PULL_USER), [(expired_ids[0], "deliver")])
    await purge(pf, PULL_USER)
    await pf.settle()
    judgement = deferred.expired_not_kept(expired_ids[0], after, len(done.delivered))
    if after is not None and kept_ids and kept_ids[0] not in after:
        judgement = deferred.unjudged(
            "the unexpired message still listed", f"it is gone too: {after}"
        )
    expect.judge("SD-5.2.2.2-expiry", judgement)
