"""Every fault switch of the reference SUT kills its clause, and nothing else: `cpmconf mutants`.

One `cpmconf mutants` subprocess (hard timeout) runs the conformance suite against the embedded
reference SUT without faults and once per switch of `refsut.faults.REGISTRY`, and writes its
kill matrix as JSON. By default it runs with `--scope target` (each switch with the cases that
claim its clause: about 5 s a switch, so the matrix fits CI); `CPMCONF_MUTANTS_SCOPE=full`
runs the whole suite per switch and looks for collateral everywhere (about 30-60 s a switch
on a 2-core machine; the complete proof, for a release, not for every push). Per switch this
module then requires:

- killed: its target clause ends `fail` (`non-strict` for a SHOULD or SHOULD NOT clause), with
  findings and a reason in the judging tests; a MAY clause cannot fail (issue 12), so its
  switch must turn it from pass to `not-applicable` with a finding saying what was seen (the
  exemption is printed), and no clause outside the target and the
  switch's declared `also` clauses changes verdict (no collateral);
- or untested, only for the switches pinned in `NOT_YET_TESTED` (no test case claims their
  clause yet), so coverage progress is visible and the set shrinks only by a deliberate edit.

The baseline must pass every judged clause. `-k` narrows the runs to the selected switches.
Every clause a case claims is a switch's target or declared `also` clause.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from cpmconf import catalogue
from cpmconf.plugin import results
from refsut.faults import REGISTRY

CATALOGUE = catalogue.load()
CLAIMS = catalogue.claimed_clause_ids(sorted((catalogue.REPO_ROOT / "testcases").glob("test_*.py")))
RUN_TIMEOUT = 300.0  # one whole-suite run inside `cpmconf mutants`
MATRIX_TIMEOUT = 3600.0  # the whole matrix: a hang, not a slow machine, ends here
JOBS = int(os.environ.get("CPMCONF_FAULT_WORKERS", 0))  # 0: mutants' default, the CPU cores
SCOPE = os.environ.get("CPMCONF_MUTANTS_SCOPE", "target")

# Fault switches whose target clause no conformance test case claims yet. Remove an entry when
# a case starts claiming its clause (the test below then says so); never add one silently.
NOT_YET_TESTED: frozenset[str] = frozenset()
ALL = sorted(REGISTRY)

# Every clause a conformance case claims must be killed: as the target of a switch, or as a
# declared `also` clause of one (an umbrella step judged on the same behaviour as its
# sub-steps). There is no exemption list: a claimed clause no switch can fail has a check that
# cannot fail, and that is a defect of the check (see D-through-core for how the "through the
# SIP/IP core" clauses were given an observable).


def _selected(session: pytest.Session) -> list[str]:
    """The switches the selected tests of this module need (all of them, unless -k narrows)."""
    wanted = set()
    for item in session.items:
        if item.module is None or item.module.__name__ != __name__:
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "fault" in callspec.params:
            wanted.add(callspec.params["fault"])
        elif item.originalname == "test_whole_matrix_exits_zero":
            wanted.update(ALL)
    return sorted(wanted)


@pytest.fixture(scope="module")
def matrix(request, tmp_path_factory) -> dict:
    """`cpmconf mutants` over the selected switches: its JSON, exit code and output."""
    wanted = _selected(request.session)
    out = tmp_path_factory.mktemp("mutants")
    args = ["--report-dir", str(out / "runs"), "--json", str(out / "matrix.json")]
    args += ["--timeout", str(RUN_TIMEOUT), "--scope", SCOPE]
    args += ["--jobs", str(JOBS)] if JOBS else []
    if set(wanted) != set(ALL):
        args += [a for name in wanted for a in ("--fault", name)]
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "cpmconf.cli", "mutants", *args],
        cwd=catalogue.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=MATRIX_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    took = time.monotonic() - start
    print(f"\ncpmconf mutants: {len(wanted)} switch(es) in {took:.1f} s, exit {proc.returncode}")
    print(proc.stdout[-6000:])
    path = out / "matrix.json"
    assert path.is_file(), f"no matrix (exit {proc.returncode})\n{proc.stdout}\n{proc.stderr}"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["_exit"], doc["_stdout"], doc["_stderr"] = proc.returncode, proc.stdout, proc.stderr
    doc["_rows"] = {row["fault"]: row for row in doc["switches"]}
    return doc


def _explain(row: dict) -> str:
    run = row["run"]
    lines = [
        f"{row['fault']} -> {row['target']}: {row['status']} ({row['note']})",
        f"changed: {row['changed']}",
        f"run exit {run['returncode']} in {run['elapsed']} s; reports in {run['report_dir']}",
    ]
    path = os.path.join(run["report_dir"], "compliance.json")
    if run["report_dir"] and os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        for t in doc["tests"]:
            if row["target"] in t["clauses"]:
                lines.append(f"  [{t['verdict']}] {t['id']}\n      {t['reason'].strip()[:600]}")
    return "\n".join(lines + ["--- stderr (tail) ---", run["stderr_tail"]])


def test_baseline_passes_every_judged_clause(matrix):
    assert matrix["baseline"]["problems"] == [], matrix["_stderr"][-3000:]
    assert matrix["baseline"]["returncode"] == 0


@pytest.mark.parametrize("fault", ALL)
def test_fault_kills_its_clause_and_nothing_else(matrix, fault):
    row = matrix["_rows"][fault]
    if fault in NOT_YET_TESTED:
        assert row["status"] == "untested", (
            f"{fault} is pinned as untested but is {row['status']}: update NOT_YET_TESTED\n"
            + _explain(row)
        )
        return
    assert row["status"] == "killed", _explain(row)
    assert row["stale_also"] == [], f"declared also but unchanged: {row['stale_also']}"
    run = row["run"]
    with open(os.path.join(run["report_dir"], "compliance.json"), encoding="utf-8") as fh:
        doc = json.load(fh)
    assert results.validate(doc) == [] and doc["run"]["faults"] == [fault]
    want = row["target_verdict"]
    judged = [t for t in doc["tests"] if t["clause_verdicts"].get(row["target"]) == want]
    if CATALOGUE.get(row["target"]).level == "MAY":
        print(f"{fault}: {row['target']} is a MAY clause, which cannot fail: {row['note']}")
        seen = [
            f
            for t in judged
            for f in t["findings"]
            if f["clause"] == row["target"] and f["verdict"] == "not-applicable"
        ]
        assert want == "not-applicable" and seen and all(f["actual"] for f in seen)
        return
    assert judged and all(t["findings"] and t["reason"].strip() for t in judged), _explain(row)
    if want == "fail":
        assert run["returncode"] == 1, "a failed SHALL clause must make `cpmconf run` exit 1"


def test_whole_matrix_exits_zero(matrix):
    assert matrix["_exit"] == 0, matrix["_stdout"][-6000:] + matrix["_stderr"][-2000:]
    s = matrix["summary"]
    assert s["survivor"] == s["collateral"] == s["error"] == 0
    assert s["switches"] == len(REGISTRY)


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


def test_every_claimed_clause_is_killed():
    killed = {f.clause for f in REGISTRY.values()} | {c for f in REGISTRY.values() for c in f.also}
    missing = sorted(set(CLAIMS) - killed)
    assert not missing, f"claimed clauses no fault switch targets or declares as also: {missing}"
