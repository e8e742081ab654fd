"""The PF cases pass whichever way the embedded PF learns registrations.

`[pf] registration` in a target profile says how a PF SUT learns of its users' devices:
direct REGISTER (the embedded profile), a third-party REGISTER from the core, or reg-event
NOTIFYs after the PF subscribed at the core (RFC 3680 with RFC 5628 GRUUs). The test system
plays the core side of each (`cpmconf.roles.regevent`). For the two non-default modes this
runs the delivery and deferred cases against the embedded reference SUT with a copy of the
embedded profile that names the mode, and requires every judged clause to pass.
"""

from __future__ import annotations

import re

import pytest

from cpmconf import catalogue

from .support import assert_well_formed, run_cpmconf

EMBEDDED = catalogue.REPO_ROOT / "fixtures" / "profiles" / "embedded.toml"
RUN_TIMEOUT = 300.0
CLAUSES = ("TS-8.3.2.1-4b-2", "TS-8.3.2.4")  # GRUU-addressed copies, deferral and push


@pytest.mark.parametrize("mode", ["third-party", "reg-event"])
def test_pf_cases_pass_in_each_registration_mode(tmp_path, mode):
    text = EMBEDDED.read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^\[pf\]\n", f'[pf]\nregistration = "{mode}"\n', text, count=1)
    assert n == 1, "the embedded profile has no [pf] table"
    profile = tmp_path / f"embedded-{mode}.toml"
    profile.write_text(text, encoding="utf-8")
    args = ["--sut", str(profile), *(a for c in CLAUSES for a in ("--clause", c)), "-q"]
    run = run_cpmconf(tmp_path / "report", *args, timeout=RUN_TIMEOUT)
    doc = assert_well_formed(run)
    judged = [t for t in doc["tests"] if t["verdict"] != "not-applicable"]
    assert judged, run.describe()
    assert all(t["verdict"] == "pass" for t in judged), run.describe()
    assert run.returncode == 0, run.describe()
