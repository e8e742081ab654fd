"""Known-failure baselines (`cpmconf.report.baseline`) and the exit codes of `cpmconf run`.

The pure functions are checked over the fixed results document (one failing clause,
TS-8.3.2.1-2, in one test, and a non-strict TS-8.3.2.1-3); the command line is checked with
pytest.main replaced by a stand-in that writes that same document, so each exit code and its
message come from the real `cpmconf run` code path without running a SUT.
"""

from __future__ import annotations

import copy
import json

import pytest

from cpmconf import cli
from cpmconf.report import baseline as bl
from selftests.report.conftest import SAMPLE

TARGET = "acme-pf"
FAILING = "TS-8.3.2.1-2"
FAILING_TEST = "testcases/test_ts_8_3_2_1_pf.py::test_blocked_originator_gets_403[warning]"
PASSING = "TS-8.3.2.1-1"
SOFT = "TS-8.3.2.1-3"


def baseline(*entries: dict, target: str = TARGET) -> bl.Baseline:
    return bl.parse({"schema": bl.SCHEMA, "targets": {target: {"known": list(entries)}}}, path=None)


def without_errors(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    doc["tests"] = [t for t in doc["tests"] if t["verdict"] != "error"]
    return doc


def test_a_failure_outside_the_baseline_is_a_regression(sample):
    cmp = bl.compare(without_errors(sample), baseline())
    assert [(f.clause, f.test) for f in cmp.regressions] == [(FAILING, FAILING_TEST)]
    assert bl.exit_code(cmp) == bl.EXIT_REGRESSION


def test_a_baselined_failure_exits_0_and_keeps_its_reason(sample):
    cmp = bl.compare(
        without_errors(sample), baseline({"clause": FAILING, "reason": "vendor bug 7"})
    )
    assert cmp.regressions == [] and cmp.stale == []
    assert [e.reason for _, e in cmp.known] == ["vendor bug 7"]
    assert bl.exit_code(cmp) == bl.EXIT_OK
    assert any("vendor bug 7" in line for line in bl.summary_lines(cmp, bl.empty()))


def test_an_entry_that_now_passes_is_stale_and_named(sample):
    known = baseline(
        {"clause": FAILING, "reason": "still broken"},
        {"clause": PASSING, "test": sample["tests"][0]["id"], "reason": "was broken"},
    )
    cmp = bl.compare(without_errors(sample), known)
    assert [e.key for e in cmp.stale] == ["targets.acme-pf.known[1]"]
    assert bl.exit_code(cmp) == bl.EXIT_STALE
    text = "\n".join(bl.summary_lines(cmp, known))
    assert "stale baseline entry: targets.acme-pf.known[1] (TS-8.3.2.1-1 in" in text


def test_non_strict_is_a_failure_only_under_strict_should(sample):
    doc = without_errors(sample)
    assert SOFT not in {f.clause for f in bl.failures(doc)}
    assert SOFT in {f.clause for f in bl.failures(doc, strict_should=True)}
    # A baselined SHOULD that is now merely non-strict is fixed unless strict.
    known = baseline({"clause": FAILING, "reason": "r"}, {"clause": SOFT, "reason": "soft"})
    assert [e.clause for e in bl.compare(doc, known).stale] == [SOFT]
    assert bl.compare(doc, known, strict_should=True).stale == []


def test_inconclusive_or_absent_clauses_leave_entries_alone(sample):
    known = baseline(
        {"clause": FAILING, "reason": "r"},
        {"clause": "TS-7.2.1.1-1", "reason": "judged inconclusive this run"},
        {"clause": "TS-8.3.2.1-9", "reason": "not in this run"},
    )
    cmp = bl.compare(without_errors(sample), known)
    assert [e.clause for e in cmp.unjudged] == ["TS-7.2.1.1-1", "TS-8.3.2.1-9"]
    assert bl.exit_code(cmp) == bl.EXIT_OK


def test_precedence_is_3_then_1_then_2_then_0(sample):
    stale_entry = {"clause": PASSING, "reason": "stale"}
    # The sample holds an error verdict: harness error wins over regression and stale.
    cmp = bl.compare(sample, baseline(stale_entry))
    assert cmp.errors and cmp.regressions and cmp.stale
    assert bl.exit_code(cmp) == bl.EXIT_HARNESS
    cmp = bl.compare(without_errors(sample), baseline(stale_entry))
    assert bl.exit_code(cmp) == bl.EXIT_REGRESSION
    cmp = bl.compare(
        without_errors(sample), baseline(stale_entry, {"clause": FAILING, "reason": "r"})
    )
    assert bl.exit_code(cmp) == bl.EXIT_STALE
    assert bl.exit_code(cmp, harness_failed=True) == bl.EXIT_HARNESS
    assert bl.PRECEDENCE == (3, 1, 2, 0)


def only(doc: dict, verdict: str) -> dict:
    """The document with every test and clause verdict set to `verdict`."""
    doc = copy.deepcopy(doc)
    for t in doc["tests"]:
        t["verdict"] = verdict
        t["clause_verdicts"] = dict.fromkeys(t["clause_verdicts"], verdict)
    return doc


def test_a_run_that_judged_nothing_exits_3_with_the_inconclusive_count(sample):
    doc = only(sample, "inconclusive")
    cmp = bl.compare(doc, baseline())
    assert cmp.nothing_judged and bl.exit_code(cmp) == bl.EXIT_HARNESS
    n = len(doc["tests"])
    assert f"{n} inconclusive test(s)" in cmp.nothing_judged_line()
    # Not-applicable alone judges nothing either.
    assert bl.compare(only(sample, "not-applicable"), baseline()).nothing_judged
    # A test called "pass" whose clauses were all inconclusive judged nothing.
    doc["tests"][0]["verdict"] = "pass"
    assert bl.compare(doc, baseline()).nothing_judged
    # One passing, failing or non-strict clause is enough; no test at all is not this case.
    for verdict in ("pass", "fail", "non-strict"):
        doc = only(sample, "inconclusive")
        first = doc["tests"][0]
        first["clause_verdicts"][next(iter(first["clause_verdicts"]))] = verdict
        assert not bl.compare(doc, baseline()).nothing_judged, verdict
    assert not bl.compare({"run": {}, "tests": []}, baseline()).nothing_judged


def test_a_target_missing_from_the_baseline_has_no_known_failures(sample):
    cmp = bl.compare(
        without_errors(sample), baseline({"clause": FAILING, "reason": "r"}, target="x")
    )
    assert not cmp.in_baseline and len(cmp.regressions) == 1


def test_update_keeps_reasons_adds_new_drops_stale_and_keeps_other_targets(sample):
    doc = without_errors(sample)
    known = bl.parse(
        {
            "schema": bl.SCHEMA,
            "targets": {
                TARGET: {
                    "known": [
                        {"clause": PASSING, "reason": "fixed since"},
                        {"clause": "TS-8.3.2.1-9", "reason": "not run today"},
                    ]
                },
                "other": {"known": [{"clause": FAILING, "reason": "theirs"}]},
            },
        }
    )
    new = bl.update(known, doc)
    mine = {e.clause: e.reason for e in new.known(TARGET)}
    assert set(mine) == {FAILING, "TS-8.3.2.1-9"}
    assert mine["TS-8.3.2.1-9"] == "not run today"
    assert mine[FAILING].startswith("added by --update-baseline")
    assert [e.reason for e in new.known("other")] == ["theirs"]
    # Reasons survive the next update, and the TOML round trip is exact.
    again = bl.parse(__import__("tomllib").loads(bl.dump(new)))
    assert {t: [(e.clause, e.test, e.reason) for e in es] for t, es in again.targets.items()} == {
        t: [(e.clause, e.test, e.reason) for e in es] for t, es in new.targets.items()
    }
    assert bl.exit_code(bl.compare(doc, again)) == bl.EXIT_OK


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('schema = "cpmconf-baseline/9"\n', "schema"),
        ('schema = "cpmconf-baseline/1"\ntargets = 3\n', "targets"),
        (
            'schema = "cpmconf-baseline/1"\n[[targets.a.known]]\nreason = "r"\n',
            "targets.a.known[0].clause",
        ),
        (
            'schema = "cpmconf-baseline/1"\n[[targets.a.known]]\nclause = "TS-1"\nreason = ""\n',
            "targets.a.known[0].reason",
        ),
        (
            'schema = "cpmconf-baseline/1"\n[[targets.a.known]]\nclause = "x"\nreason = "r"\n'
            'colour = "red"\n',
            "targets.a.known[0].colour",
        ),
        (
            'schema = "cpmconf-baseline/1"\n[[targets.a.known]]\nclause = "x"\nreason = "r"\n'
            '[[targets.a.known]]\nclause = "x"\nreason = "again"\n',
            "targets.a.known[1]",
        ),
    ],
)
def test_a_bad_baseline_names_file_and_key(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(bl.BaselineError) as info:
        bl.load(path)
    assert str(info.value).startswith(f"{path}: key {key!r}")


def test_unparseable_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("schema = [\n")
    with pytest.raises(bl.BaselineError, match=r"broken\.toml: not a TOML baseline"):
        bl.load(path)


def test_the_checked_in_embedded_baseline_is_valid_and_empty():
    from cpmconf import catalogue

    path = catalogue.REPO_ROOT / "fixtures" / "baselines" / "embedded.toml"
    known = bl.load(path)
    bl.check_clauses(known, {c.id for c in catalogue.load()})
    assert known.targets == {"refsut-embedded": []}


# --- the command line, with pytest.main standing in for the conformance run -----------------


@pytest.fixture
def fake_run(monkeypatch, tmp_path):
    """Make `cpmconf run` 'run' by writing a chosen results document; returns the report dir."""
    state = {"doc": without_errors(json.loads(SAMPLE.read_text())), "code": 1}
    out = tmp_path / "run"

    def fake_main(argv, plugins=None):
        out.mkdir(parents=True, exist_ok=True)
        (out / "compliance.json").write_text(json.dumps(state["doc"]))
        return state["code"]

    monkeypatch.setattr("pytest.main", fake_main)
    monkeypatch.setattr(cli, "_write_formats", lambda *a, **k: {})
    return state, out


def run_cli(out, *args) -> int:
    return cli.main(["run", "--report-dir", str(out), *args])


def write(path, text):
    path.write_text(text)
    return str(path)


def test_cli_exit_codes_follow_the_baseline(fake_run, tmp_path, capsys):
    state, out = fake_run
    head = f'schema = "cpmconf-baseline/1"\n[[targets.{TARGET}.known]]\n'
    assert run_cli(out) == 1  # no baseline: the failure is a regression
    known = write(tmp_path / "b.toml", head + f'clause = "{FAILING}"\nreason = "bug 7"\n')
    assert run_cli(out, "--baseline", known) == 0
    stale = write(
        tmp_path / "s.toml",
        head + f'clause = "{FAILING}"\nreason = "bug 7"\n'
        f'[[targets.{TARGET}.known]]\nclause = "{PASSING}"\nreason = "old"\n',
    )
    capsys.readouterr()
    assert run_cli(out, "--baseline", stale) == 2
    assert (
        "stale baseline entry: targets.acme-pf.known[1] (TS-8.3.2.1-1)" in capsys.readouterr().out
    )
    state["doc"] = json.loads(SAMPLE.read_text())  # holds an error verdict
    assert run_cli(out, "--baseline", stale) == 3
    state["doc"], state["code"] = without_errors(state["doc"]), 4  # pytest usage error
    assert run_cli(out, "--baseline", known) == 3
    state["doc"], state["code"] = only(state["doc"], "inconclusive"), 0
    capsys.readouterr()
    assert run_cli(out) == 3  # pytest itself is content: every case skipped as inconclusive
    assert "cpmconf: nothing judged: no clause passed or failed" in capsys.readouterr().err


def test_cli_bad_baseline_is_exit_3_before_running(fake_run, tmp_path, capsys):
    state, out = fake_run
    bad = write(tmp_path / "bad.toml", 'schema = "cpmconf-baseline/1"\n[[targets.a.known]]\n')
    assert run_cli(out, "--baseline", bad) == 3
    assert f"{bad}: key 'targets.a.known[0].clause'" in capsys.readouterr().err
    assert not (out / "compliance.json").exists()  # the run never started
    unknown = write(
        tmp_path / "u.toml",
        'schema = "cpmconf-baseline/1"\n[[targets.a.known]]\nclause = "TS-nope"\nreason = "r"\n',
    )
    assert run_cli(out, "--baseline", unknown) == 3
    assert "unknown clause 'TS-nope'" in capsys.readouterr().err
    assert run_cli(out, "--baseline", str(tmp_path / "missing.toml")) == 3
    assert run_cli(out, "--update-baseline") == 3


def test_cli_update_baseline_writes_the_file_and_then_exits_0(fake_run, tmp_path):
    state, out = fake_run
    path = tmp_path / "new.toml"
    assert run_cli(out, "--baseline", str(path), "--update-baseline") == 0
    known = bl.load(path)
    assert [e.clause for e in known.known(TARGET)] == [FAILING]
    assert run_cli(out, "--baseline", str(path)) == 0


def test_run_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for code in (
        "3 harness error",
        "1 a failure not in the baseline",
        "2 a baseline entry",
        "0 only",
    ):
        assert code in text
