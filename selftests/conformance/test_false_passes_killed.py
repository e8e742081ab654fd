"""False passes that review and the interop targets found, each now killed by its switch:

- pf.deliver-unselected: the large-mode forking clause is judged on every device INVITE the
  capture holds, not on the legs the steps waited for;
- pf.defer-no-notification: a store-and-forward PF's re-send of a deferred message (msilo) is
  not taken for the deferral notification;
- client.reregister-on-own-expiry: a client that puts its expiry in the Contact (baresip) and
  refreshes on its own value, not on the grant, fails the refresh clause.
"""

from __future__ import annotations

import pytest

from .support import assert_well_formed, run_cpmconf

RUN_TIMEOUT = 150.0


@pytest.mark.parametrize(
    "fault,clause",
    [
        ("pf.deliver-unselected", "TS-8.3.2.1.1-6"),
        ("pf.defer-no-notification", "TS-8.3.2.4.x-3a.i"),
        ("client.reregister-on-own-expiry", "TS-7.1-reregister"),
    ],
)
def test_the_switch_fails_its_clause(tmp_path, fault, clause):
    run = run_cpmconf(
        tmp_path / "r", "-q", "--sut-fault", fault, "--clause", clause, timeout=RUN_TIMEOUT
    )
    assert_well_formed(run)
    found = run.clause(clause)
    assert found is not None and found["verdict"] == "fail", run.describe(clause)
