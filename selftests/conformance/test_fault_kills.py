"""Every fault switch of the reference SUT makes its clause fail (it "kills" the check).

For each switch in `refsut.faults.REGISTRY` whose target clause some conformance test case
claims (read statically from `testcases/test_*.py`), one `cpmconf run --sut-fault NAME
--clause CLAUSE` against the embedded reference SUT must end with that clause's verdict `fail`
(`non-strict` for a SHOULD or SHOULD NOT clause). One run without any fault, selecting the same
clauses, must pass them all: a kill only counts when the unbroken SUT passes.

Switches whose clause no case claims yet are pinned in `NOT_YET_TESTED`, so coverage progress
is visible and the set shrinks only by a deliberate edit. A switch whose clause needs an ICS
item the embedded profile does not claim cannot be killed (the clause is not-applicable there);
its test says which item is missing.

The runs are subprocesses with a hard timeout each, two at a time, started once per module.
"""

from __future__ import annotations

import concurrent.futures
import os
import time

import pytest

from cpmconf import catalogue
from cpmconf.roles.profile import load_profile
from cpmconf.verdict.core import SOFT_LEVELS
from refsut.faults import REGISTRY

from .support import RunOutcome, assert_well_formed, run_cpmconf

EMBEDDED = catalogue.REPO_ROOT / "fixtures" / "profiles" / "embedded.toml"
RUN_TIMEOUT = 120.0  # one `cpmconf run`; in practice 3-6 s
OVERALL_BUDGET = 600.0  # runs not started by then are reported as not run
# Parallel runs. Each run mostly waits (guard and settle times, process start), so one more
# run than cores keeps the machine busy; CPMCONF_FAULT_WORKERS overrides.
WORKERS = int(os.environ.get("CPMCONF_FAULT_WORKERS", 0)) or min(4, (os.cpu_count() or 1) + 1)
BASELINE = "<no fault>"

# Fault switches whose target clause no conformance test case claims yet. Remove an entry when
# a case starts claiming its clause (the test below then says so); never add one silently.
NOT_YET_TESTED = frozenset(
    {
        "pf.large-no-path-prepend",  # TS-8.3.2.1.1-first200-2b
        "pf.large-no-server",  # TS-8.3.2.1.1-first200-3
        "pf.large-no-uid-in-bye",  # TS-8.5.1-send-4b.i
        "pf.large-no-uid-in-bye-200",  # TS-8.5.1-send-4b.ii
        "pf.large-setup-active",  # TS-8.3.2.1.1-first200-2e
        "pf.no-202-on-defer",  # TS-8.3.2.4.x-2
    }
)

CATALOGUE = catalogue.load()
CLAIMS = catalogue.claimed_clause_ids(sorted((catalogue.REPO_ROOT / "testcases").glob("test_*.py")))
EMBEDDED_ICS = load_profile(EMBEDDED).ics
TESTED = sorted(name for name, f in REGISTRY.items() if f.clause in CLAIMS)
TARGETS = sorted({REGISTRY[name].clause for name in TESTED})


def expected_verdict(clause_id: str) -> str:
    return "non-strict" if CATALOGUE.get(clause_id).level in SOFT_LEVELS else "fail"


def _fault_params(session: pytest.Session) -> set[str]:
    """The fault runs the selected tests of this module need (all of them, unless -k narrows)."""
    wanted = set()
    for item in session.items:
        if item.module is None or item.module.__name__ != __name__:
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "fault" in callspec.params:
            wanted.add(callspec.params["fault"])
        elif item.originalname == "test_without_faults_every_target_clause_passes":
            wanted.add(BASELINE)
    return wanted


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> dict[str, RunOutcome | str]:
    """Every needed run, two at a time: fault name (or BASELINE) -> outcome, or why not run."""
    wanted = _fault_params(request.session)
    # The baseline selects every target clause; start it first, it is the longest.
    order = ([BASELINE] if BASELINE in wanted else []) + sorted(wanted - {BASELINE})
    deadline = time.monotonic() + OVERALL_BUDGET

    def one(name: str) -> RunOutcome | str:
        if time.monotonic() > deadline:
            return f"not run: the module's overall budget of {OVERALL_BUDGET:g} s was spent"
        out = tmp_path_factory.mktemp("baseline" if name == BASELINE else name.replace(".", "_"))
        if name == BASELINE:
            args = [a for cid in TARGETS for a in ("--clause", cid)]
        else:
            args = ["--sut-fault", name, "--clause", REGISTRY[name].clause]
        return run_cpmconf(out, *args, "-q", timeout=RUN_TIMEOUT)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(WORKERS, thread_name_prefix="fault-run") as pool:
        futures = {name: pool.submit(one, name) for name in order}
        outcomes = {name: f.result() for name, f in futures.items()}
    took = time.monotonic() - started
    print(f"\n{len(outcomes)} cpmconf run(s) with {WORKERS} workers in {took:.1f} s")
    for name, o in outcomes.items():
        if isinstance(o, RunOutcome):
            print(f"  {name}: exit {o.returncode} in {o.elapsed:.1f} s")
    return outcomes


def _finished(runs: dict, name: str) -> RunOutcome:
    outcome = runs[name]
    if isinstance(outcome, str):
        pytest.fail(f"{name}: {outcome}")
    return outcome


@pytest.mark.parametrize("fault", TESTED)
def test_fault_fails_its_clause(runs, fault):
    run = _finished(runs, fault)
    clause_id = REGISTRY[fault].clause
    doc = assert_well_formed(run)
    assert doc["run"]["faults"] == [fault], run.describe(clause_id)
    clause = run.clause(clause_id)
    assert clause is not None and clause["tests"], (
        f"no test judged {clause_id} in the run\n" + run.describe(clause_id)
    )
    want = expected_verdict(clause_id)
    lacking = [i for i in CATALOGUE.get(clause_id).conditions if i not in EMBEDDED_ICS]
    assert not lacking or clause["verdict"] != "not-applicable", (
        f"{clause_id} needs ICS {', '.join(lacking)}, which {EMBEDDED.name} does not claim: "
        f"fault {fault} cannot be killed against the embedded SUT"
    )
    assert clause["verdict"] == want, (
        f"fault {fault} ({REGISTRY[fault].description}) left {clause_id} "
        f"({CATALOGUE.get(clause_id).level}) at {clause['verdict']!r}, expected {want!r}\n"
        + run.describe(clause_id)
    )
    judged = [t for t in run.tests_of(clause_id) if t["clause_verdicts"].get(clause_id) == want]
    assert judged and all(t["findings"] and t["reason"].strip() for t in judged), run.describe(
        clause_id
    )
    if want == "fail":
        assert run.returncode == 1, "a failed SHALL clause must make `cpmconf run` exit 1"


def test_without_faults_every_target_clause_passes(runs):
    run = _finished(runs, BASELINE)
    doc = assert_well_formed(run)
    assert doc["run"]["faults"] == []
    not_passing = {
        cid: (run.clause(cid) or {}).get("verdict")
        for cid in TARGETS
        if (run.clause(cid) or {}).get("verdict") != "pass"
    }
    assert not not_passing, f"{not_passing}\n{run.describe()}"
    # Prefix selection may bring in cases for other clauses; those may only be not-applicable.
    assert all(t["verdict"] in ("pass", "not-applicable") for t in doc["tests"]), run.describe()
    assert run.returncode == 0, run.describe()


def test_unclaimed_faults_are_the_known_ones():
    unclaimed = {name for name, f in REGISTRY.items() if f.clause not in CLAIMS}
    newly_claimed = sorted(NOT_YET_TESTED - unclaimed)
    newly_unclaimed = sorted(unclaimed - NOT_YET_TESTED)
    assert not newly_claimed, (
        f"a test case now claims the clause of {newly_claimed}: remove them from NOT_YET_TESTED"
    )
    assert not newly_unclaimed, (
        f"no test case claims the clause of {newly_unclaimed} "
        f"({', '.join(REGISTRY[n].clause for n in newly_unclaimed)}): a case lost its claim, "
        "or a new switch has no case yet"
    )


def test_every_fault_names_a_catalogue_clause():
    unknown = {name: f.clause for name, f in REGISTRY.items() if f.clause not in CATALOGUE}
    assert not unknown
