"""The kill-matrix machinery of `cpmconf mutants` tells killed switches from the rest.

Pure-function tests on made-up verdict maps: a switch that fails its clause is killed; one whose
clause still passes is a survivor; one whose clause no test judged is untested; one that also
moves an unrelated clause is collateral unless it declares that clause in `also`; a run that
crashed, timed out or holds an error verdict is a harness error. The exit code follows the
worst finding. The whole-suite runs themselves are in test_fault_kills.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cpmconf import mutants
from cpmconf.catalogue import REPO_ROOT
from cpmconf.mutants import Row, RunResult, Switch, classify, exit_code

BASE = {
    "TS-A": "pass",
    "TS-B": "pass",
    "TS-C": "pass",
    "TS-S": "pass",  # a SHOULD clause
    "TS-N": "not-tested",
    "TS-U": "untestable",
}


def run_with(**changes: str) -> RunResult:
    verdicts = dict(BASE)
    verdicts.update({k.replace("_", "-"): v for k, v in changes.items()})
    return RunResult("x", "/nowhere", 1, 1.0, verdicts)


def test_fail_of_the_target_alone_is_a_kill():
    row = classify(Switch("f", "TS-A", soft=False), BASE, run_with(TS_A="fail"))
    assert (row.status, row.changed, row.collateral) == ("killed", {"TS-A": ["pass", "fail"]}, [])


def test_target_still_passing_is_a_survivor():
    row = classify(Switch("f", "TS-A", soft=False), BASE, run_with())
    assert row.status == "survivor" and "stayed pass" in row.note
    assert exit_code([row]) == mutants.EXIT_SURVIVOR


def test_inconclusive_target_is_not_a_kill():
    row = classify(Switch("f", "TS-A", soft=False), BASE, run_with(TS_A="inconclusive"))
    assert row.status == "survivor"


def test_non_strict_kills_a_should_clause_but_not_a_shall():
    soft = classify(Switch("f", "TS-S", soft=True), BASE, run_with(TS_S="non-strict"))
    hard = classify(Switch("f", "TS-A", soft=False), BASE, run_with(TS_A="non-strict"))
    assert (soft.status, hard.status) == ("killed", "survivor")


def test_a_may_clause_is_killed_by_becoming_not_applicable_never_by_failing():
    sw = Switch("f", "TS-A", soft=False, optional=True)
    row = classify(sw, BASE, run_with(TS_A="not-applicable"))
    assert row.status == "killed" and "a MAY cannot fail" in row.note
    assert classify(sw, BASE, run_with()).status == "survivor"


def test_an_unrelated_clause_changing_is_collateral():
    # A deliberately mislabelled switch: it breaks TS-B, and TS-A only on the side.
    row = classify(Switch("f", "TS-A", soft=False), BASE, run_with(TS_A="fail", TS_B="fail"))
    assert row.status == "collateral" and row.collateral == ["TS-B"]
    assert "TS-B" in row.note
    assert exit_code([row]) == mutants.EXIT_COLLATERAL


def test_a_declared_downstream_clause_is_not_collateral():
    sw = Switch("f", "TS-A", soft=False, also=("TS-B",))
    row = classify(sw, BASE, run_with(TS_A="fail", TS_B="non-strict"))
    assert row.status == "killed" and row.collateral == [] and row.stale_also == []


def test_a_declared_clause_that_did_not_change_is_reported_stale():
    sw = Switch("f", "TS-A", soft=False, also=("TS-B",))
    row = classify(sw, BASE, run_with(TS_A="fail"))
    assert row.status == "killed" and row.stale_also == ["TS-B"]


def test_survivor_with_collateral_stays_a_survivor():
    row = classify(Switch("f", "TS-A", soft=False), BASE, run_with(TS_C="fail"))
    assert row.status == "survivor" and row.collateral == ["TS-C"]
    assert exit_code([row]) == mutants.EXIT_SURVIVOR


def test_unjudged_target_is_untested_not_survivor():
    row = classify(Switch("f", "TS-N", soft=False), BASE, run_with())
    assert row.status == "untested" and "no test case judged TS-N" in row.note
    assert exit_code([row]) == mutants.EXIT_OK


def test_untested_switch_that_moves_other_clauses_is_collateral():
    row = classify(Switch("f", "TS-N", soft=False), BASE, run_with(TS_A="fail"))
    assert row.status == "collateral"


def test_moves_between_unjudged_states_are_not_changes():
    assert mutants.changed_clauses({"X": "not-tested"}, {"X": "untestable"}) == {}
    assert mutants.changed_clauses({"X": "not-tested"}, {"X": "fail"}) == {
        "X": ["not-tested", "fail"]
    }


@pytest.mark.parametrize(
    "run",
    [
        RunResult("x", "/nowhere", None, 300.0, None, ["killed after the hard timeout of 300 s"]),
        RunResult("x", "/nowhere", 3, 1.0, dict(BASE), ["`cpmconf run` exited 3"]),
        RunResult("x", "/nowhere", 1, 1.0, None, ["no compliance.json"]),
    ],
)
def test_unusable_run_is_a_harness_error(run):
    row = classify(Switch("f", "TS-A", soft=False), BASE, run)
    assert row.status == "error" and row.note
    assert exit_code([row]) == mutants.EXIT_HARNESS


def test_worst_finding_sets_the_exit_code():
    killed = classify(Switch("k", "TS-A", soft=False), BASE, run_with(TS_A="fail"))
    coll = classify(Switch("c", "TS-A", soft=False), BASE, run_with(TS_A="fail", TS_C="fail"))
    surv = classify(Switch("s", "TS-A", soft=False), BASE, run_with())
    assert exit_code([killed]) == 0
    assert exit_code([killed, coll]) == 2
    assert exit_code([killed, coll, surv]) == 1
    assert exit_code([killed], baseline_ok=False) == 3


def test_baseline_must_pass_every_judged_clause():
    ok = RunResult("baseline", "/nowhere", 0, 1.0, dict(BASE))
    bad = RunResult("baseline", "/nowhere", 1, 1.0, {**BASE, "TS-C": "fail"})
    assert mutants.baseline_problems(ok) == []
    assert "TS-C=fail" in mutants.baseline_problems(bad)[0]


def test_matrix_names_every_switch_and_the_counts():
    rows = [
        classify(Switch("k", "TS-A", soft=False), BASE, run_with(TS_A="fail")),
        classify(Switch("s", "TS-B", soft=False), BASE, run_with()),
    ]
    text = mutants.render(rows, RunResult("baseline", "/nowhere", 0, 1.0, dict(BASE)))
    assert "TS-A pass->fail" in text and "survivor" in text
    assert "1 killed, 1 survivor(s)" in text and "4 clause(s) judged in the baseline" in text


def test_every_declared_also_clause_is_in_the_catalogue():
    from cpmconf import catalogue
    from refsut.faults import REGISTRY

    cat = catalogue.load()
    unknown = {n: c for n, f in REGISTRY.items() for c in f.also if c not in cat or c == f.clause}
    assert not unknown


def test_unknown_switch_is_bad_usage():
    proc = subprocess.run(
        [sys.executable, "-m", "cpmconf.cli", "mutants", "--fault", "no.such-switch"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3 and "no.such-switch" in proc.stderr


def test_target_scope_compares_only_what_the_scoped_run_judged():
    # The scoped run selected only the cases of TS-A: TS-B and TS-C were simply not run there.
    run = RunResult("f", "/nowhere", 1, 1.0, {"TS-A": "fail", "TS-B": "not-tested"})
    base = mutants.scoped(BASE, run, "TS-A")
    assert base == {"TS-A": "pass"}
    assert classify(Switch("f", "TS-A", soft=False), base, run).status == "killed"


# ---- shards and merge ------------------------------------------------------------------


def test_shards_cover_every_switch_exactly_once():
    from refsut.faults import REGISTRY

    names = list(REGISTRY)
    for count in (1, 2, 3, 5, 7, len(names), len(names) + 2):
        slices = [mutants.shard(names, i, count) for i in range(1, count + 1)]
        flat = [n for s in slices for n in s]
        assert sorted(flat) == sorted(names) and len(flat) == len(set(flat)), count
        sizes = {len(s) for s in slices}
        assert max(sizes) - min(sizes) <= 1, count  # balanced to one switch
    # Deterministic: the order the names come in does not matter.
    assert mutants.shard(reversed(names), 2, 3) == mutants.shard(names, 2, 3)


@pytest.mark.parametrize("text", ["0/3", "4/3", "1-3", "a/b", "3", "/3", "1/0"])
def test_a_bad_shard_is_refused(text):
    with pytest.raises(ValueError, match="--shard"):
        mutants.parse_shard(text)


def slice_doc(index: int, count: int, selection: list[str], rows: dict[str, Row]) -> dict:
    mine = mutants.shard(selection, index, count)
    base = RunResult("baseline", "/nowhere", 0, 1.0, dict(BASE))
    runs = {n: RunResult(n, "/nowhere", 1, 1.0, {}) for n in mine}
    doc = mutants.document([rows[n] for n in mine], base, runs, 1, 2.0)
    doc.update(scope="target", selection=selection, shard=[index, count], _file=f"s{index}")
    return json.loads(json.dumps(doc))  # as read back from disk


def made_up_rows() -> dict[str, Row]:
    targets = {"a": "TS-A", "b": "TS-B", "c": "TS-C", "d": "TS-S", "e": "TS-N"}
    out = {}
    for name, target in targets.items():
        run = run_with(**{target.replace("-", "_"): "fail"})
        out[name] = classify(Switch(name, target, soft=name == "d"), BASE, run)
    return out


def test_merged_slices_give_the_unsharded_matrix_and_exit_code():
    rows = made_up_rows()
    selection = sorted(rows)
    whole = mutants.document(
        [rows[n] for n in selection],
        RunResult("baseline", "/nowhere", 0, 1.0, dict(BASE)),
        {n: RunResult(n, "/nowhere", 1, 1.0, {}) for n in selection},
        1,
        2.0,
    )
    merged, problems = mutants.merge([slice_doc(i, 3, selection, rows) for i in (3, 1, 2)])
    assert problems == []
    assert mutants.matrix_rows(merged) == mutants.matrix_rows(json.loads(json.dumps(whole)))
    assert merged["summary"] == whole["summary"]
    assert exit_code(mutants._row(e) for e in merged["switches"]) == exit_code(rows.values())


def test_merge_refuses_a_missing_repeated_or_foreign_slice():
    rows = made_up_rows()
    selection = sorted(rows)
    s1, s2, s3 = (slice_doc(i, 3, selection, rows) for i in (1, 2, 3))
    assert "2/3 missing" in " ".join(mutants.merge([s1, s3])[1])
    assert "given twice" in " ".join(mutants.merge([s1, s2, s3, s2])[1])
    foreign = slice_doc(2, 3, selection[:-1], rows)
    assert "another selection" in " ".join(mutants.merge([s1, foreign, s3])[1])
    other_count = slice_doc(2, 4, selection, rows)
    assert "a slice of 4" in " ".join(mutants.merge([s1, other_count, s3])[1])


def test_merge_on_the_command_line(tmp_path):
    rows = made_up_rows()
    selection = sorted(rows)
    dirs = []
    for i in (1, 2):
        d = tmp_path / f"slice{i}"
        d.mkdir()
        doc = slice_doc(i, 2, selection, rows)
        doc.pop("_file")
        (d / "mutants.json").write_text(json.dumps(doc))
        dirs.append(str(d))
    out = tmp_path / "merged.json"
    argv = [sys.executable, "-m", "cpmconf.cli", "mutants", "--merge", *dirs, "--json", str(out)]
    proc = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == exit_code(rows.values()), proc.stderr
    assert "merged 2 slice(s), 5 switch(es)" in proc.stdout
    assert len(json.loads(out.read_text())["switches"]) == 5
    proc = subprocess.run(
        argv[:-4] + [dirs[0]], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 3 and "2/2 missing" in proc.stderr
