"""A SUT that stops in the middle of an MSRP transfer gets verdicts, not a hang.

Two stalls of the reference SUT, each switched on by its fault: the PF's relay goes silent after
the first chunk (neither answering the sender nor passing anything more on), and the sending
client goes silent after its first chunk. The large-mode cases that run into the stall must end
`fail` (the transfer is judged incomplete from the capture) or `inconclusive`, each with a
reason, never `error`, and each within its own bound: the per-test budget the plugin gives a
case (guard x 8 + 5 s). Unaffected cases of the same runs still pass.
"""

from __future__ import annotations

import pytest

from .support import assert_well_formed, run_cpmconf

GUARD = 1.0
PER_TEST_BOUND = GUARD * 8 + 5.0  # the plugin's budget of one case (fixtures/session.py)
RUN_TIMEOUT = 240.0

STALLS = {
    "pf.large-stall-mid-relay": (
        ["--clause", "TS-8.3.2.1.1", "--clause", "TS-8.5.1-send-4b"],
        "TS-8.3.2.1.1-msrp200-1",
    ),
    "client.large-stall-mid-send": (["--clause", "TS-7.2.1.2-on200"], "TS-7.2.1.2-on200-8"),
}


@pytest.mark.parametrize("fault", sorted(STALLS))
def test_stall_ends_in_verdicts_with_reasons(fault, tmp_path):
    selection, target = STALLS[fault]
    run = run_cpmconf(
        tmp_path / "run",
        "--sut-fault",
        fault,
        "--guard",
        str(GUARD),
        *selection,
        "-q",
        timeout=RUN_TIMEOUT,
    )
    doc = assert_well_formed(run)
    assert run.returncode == 1, run.describe()
    tests = doc["tests"]
    assert tests, run.describe()
    errors = [t["id"] for t in tests if t["verdict"] == "error"]
    assert not errors, f"error verdicts {errors}\n{run.describe()}"
    for t in tests:
        if t["verdict"] != "pass":
            assert t["reason"].strip(), f"{t['id']} ended {t['verdict']} without a reason"
        assert t["duration"] <= PER_TEST_BOUND, (
            f"{t['id']} took {t['duration']:.1f} s, over its bound of {PER_TEST_BOUND:g} s"
        )
    stalled = [t for t in tests if t["verdict"] in ("fail", "inconclusive")]
    assert stalled, "the stall affected no case\n" + run.describe()
    assert run.clause(target)["verdict"] == "fail", run.describe(target)
    assert any(t["verdict"] == "pass" for t in tests), "cases before the transfer should pass"
