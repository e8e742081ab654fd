"""A hostile SUT costs bounded time and never a harness error: the chaos modes.

For every mode of `chaos.MODES` one `cpmconf run --chaos MODE --guard 0.5` of the pager-mode
and large-message-mode groups (clauses under TS-7.2, TS-8.3.2.1 and TS-8.5.1) runs against the
embedded reference SUT behind the chaos proxy, as a subprocess with a hard timeout, two at a
time. Each run must:

- end by itself within the stated bound (the one test_silent_sut.py states: a start allowance
  plus 1.5 s a case), with no case over the harness's own per-case bound;
- exit 0 or 1 (or 3 only when it says nothing was judged: a mode that leaves every case
  inconclusive proves nothing either way), with a valid `compliance.json` that records the
  mode and shows the proxy relayed traffic from the SUT;
- hold no `error` verdict, and a reason for every case that did not pass;
- print no traceback and no pytest internal error.

The mangling itself is tested without sockets in test_chaos_mangle.py.
"""

from __future__ import annotations

import concurrent.futures

import pytest

from chaos import MODES

from .support import RunOutcome, assert_well_formed, run_cpmconf

GUARD = 0.5
GROUPS = ["--clause", "TS-7.2", "--clause", "TS-8.3.2.1", "--clause", "TS-8.5.1"]
CASE_LIMIT = GUARD * 8 + 5.0  # fixtures/session.py bounds every case by this
START = 15.0
PER_CASE = 2 * GUARD + 0.5
HARD_TIMEOUT = 600.0  # a hang, not a slow run
WORKERS = 2


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> dict[str, RunOutcome]:
    """One run per mode the selected tests need (all, unless -k narrows), two at a time."""
    wanted = [
        item.callspec.params["mode"]
        for item in request.session.items
        if item.module is not None and item.module.__name__ == __name__
    ]

    def one(mode: str) -> RunOutcome:
        out = tmp_path_factory.mktemp(f"chaos-{mode}")
        args = ["--chaos", mode, "--guard", str(GUARD), *GROUPS, "-q"]
        return run_cpmconf(out / "report", *args, timeout=HARD_TIMEOUT)

    with concurrent.futures.ThreadPoolExecutor(WORKERS, thread_name_prefix="chaos") as pool:
        futures = {mode: pool.submit(one, mode) for mode in wanted}
        return {mode: f.result() for mode, f in futures.items()}


@pytest.mark.parametrize("mode", MODES)
def test_chaos_mode_ends_bounded_with_reasons_and_no_errors(runs, mode, record_property):
    run = runs[mode]
    doc = assert_well_formed(run, nothing_judged_ok=True)
    tests = doc["tests"]
    bound = START + len(tests) * PER_CASE
    slowest = max((t["duration"] for t in tests), default=0.0)
    counts = {v: n for v, n in doc["summary"]["tests"].items() if n}
    stats = (doc["run"].get("chaos") or {}).get("stats", {})
    record_property("elapsed_s", round(run.elapsed, 2))
    print(
        f"\n{mode}: {len(tests)} case(s) in {run.elapsed:.1f} s (bound {bound:g} s), "
        f"slowest {slowest:.2f} s; {counts}; exit {run.returncode}; proxy {stats}"
    )
    assert tests, run.describe()
    assert doc["run"]["chaos"]["mode"] == mode
    assert stats.get("from_sut", 0) > 0, "the proxy relayed nothing from the SUT"
    acted = {"reset": "reset", "malformed": "msrp_injected"}.get(mode)
    assert acted is None or stats.get(acted, 0) > 0, f"{mode}: the proxy never did it: {stats}"
    judged_nothing = run.returncode == 3 and "cpmconf: nothing judged" in run.stderr
    assert run.returncode in (0, 1) or judged_nothing, run.describe()
    assert slowest <= CASE_LIMIT, run.describe()
    assert run.elapsed < bound, f"{run.elapsed:.1f} s >= {bound:g} s\n" + run.describe()
    errors = [t for t in tests if t["verdict"] == "error"]
    assert not errors, run.describe()
    unexplained = [t["id"] for t in tests if t["verdict"] != "pass" and not t["reason"].strip()]
    assert not unexplained, run.describe()
    for marker in ("INTERNALERROR", "Traceback (most recent call last)"):
        assert marker not in run.stdout + run.stderr, run.describe()
