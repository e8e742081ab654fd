"""The pytest plugin on its own: clause markers, verdict mapping and compliance.json.

Each test builds a throw-away project with pytester: a `testcases/` folder of synchronous test
cases and a conftest that loads `cpmconf.plugin.pytest_plugin` and nothing else (no SUT, no
network; the plugin still loads the real catalogue and the embedded target profile at
collection). It checks that a case without a clause marker, or naming an unknown clause, fails
collection naming the test or the id; that a case judging nothing for a claimed clause ends as
a harness error; how findings, Inconclusive, NotApplicable and stray exceptions map to verdicts
and pytest outcomes; that a test stopping early after a failure stays failed while the clauses
it never judged are only inconclusive; `--clause` selection; and that items outside
`testcases/` pass untouched.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from cpmconf import catalogue
from cpmconf.plugin import results

pytest_plugins = ["pytester"]

SHALL = "TS-8.3.2.1-1d"  # SHALL
SHOULD = "TS-8.3.2.1-1d-warning"  # SHOULD
OTHER = "TS-8.3.2.1-2"  # SHALL

HEADER = """
import pytest
from cpmconf.plugin.pytest_plugin import expectations_for
from cpmconf.verdict import Inconclusive, NotApplicable
"""


@pytest.fixture(scope="module")
def loaded_catalogue() -> catalogue.Catalogue:
    return catalogue.load()


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch, loaded_catalogue):
    # The runs are in-process: hand the plugin the catalogue loaded once for this module
    # instead of parsing the YAML again for every run (the loader has its own self-tests).
    monkeypatch.setattr(catalogue, "load", lambda directory=None: loaded_catalogue)
    pytester.makeini("[pytest]\n")
    pytester.makeconftest('pytest_plugins = ["cpmconf.plugin.pytest_plugin"]\n')
    pytester.mkdir("testcases")
    return pytester


def write_case(pytester: pytest.Pytester, body: str, name: str = "test_cases.py") -> None:
    path = pytester.path / "testcases" / name
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict | None]:
    report = pytester.path / "report"
    # no:hypothesispytest: in-process runs would re-import (and assert-rewrite) all of
    # hypothesis each time, five times the cost of the run itself.
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", f"--report-dir={report}", *args
    )
    path = report / "compliance.json"
    doc = json.loads(path.read_text()) if path.is_file() else None
    if doc is not None:
        assert results.validate(doc) == []
    return result, doc


def verdicts(doc: dict) -> dict[str, dict]:
    return {t["name"]: t for t in doc["tests"]}


def clause_state(doc: dict, cid: str) -> str:
    return next(c["verdict"] for c in doc["clauses"] if c["id"] == cid)


def test_case_without_clause_marker_fails_collection(project):
    write_case(
        project,
        f"""
        def test_unmarked():
            pass

        @pytest.mark.clause("{SHALL}")
        def test_marked(request):
            expectations_for(request.node).record("{SHALL}", True, "x", "x")
        """,
    )
    result, doc = run(project)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*testcases/test_cases.py::test_unmarked: no @pytest.mark.clause*"]
    )
    assert "test_marked" not in result.stderr.str()
    assert doc is None


def test_unknown_clause_id_fails_collection(project):
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHALL}", "TS-99.99-nope")
        def test_typo(request):
            pass
        """,
    )
    result, doc = run(project)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_cases.py::test_typo: unknown clause id(s) TS-99.99-nope*"])
    assert doc is None


def test_case_judging_nothing_is_a_harness_error(project):
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHALL}")
        def test_judges_nothing(request):
            expectations_for(request.node)

        @pytest.mark.clause("{SHALL}", "{OTHER}")
        def test_judges_one_of_two(request):
            expectations_for(request.node).record("{SHALL}", True, "403", "403")
        """,
    )
    result, doc = run(project)
    result.assert_outcomes(failed=2)
    t = verdicts(doc)
    assert t["test_judges_nothing"]["verdict"] == "error"
    assert f"judged nothing for claimed clause(s) {SHALL}" in t["test_judges_nothing"]["reason"]
    assert t["test_judges_one_of_two"]["verdict"] == "error"
    assert OTHER in t["test_judges_one_of_two"]["reason"]
    assert SHALL not in t["test_judges_one_of_two"]["reason"].split("clause(s)")[1]
    assert clause_state(doc, SHALL) == "error" and clause_state(doc, OTHER) == "error"
    assert doc["summary"]["tests"]["error"] == 2


def test_findings_map_to_pass_fail_and_non_strict(project):
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHALL}")
        def test_passes(request):
            expectations_for(request.node).record("{SHALL}", True, "403", "403")

        @pytest.mark.clause("{SHALL}")
        def test_fails(request):
            expectations_for(request.node).record("{SHALL}", False, "403", "200 OK", "SIP/2.0 200")

        @pytest.mark.clause("{SHOULD}")
        def test_should_not_followed(request):
            expectations_for(request.node).record("{SHOULD}", False, "Warning", "none")
        """,
    )
    result, doc = run(project)
    result.assert_outcomes(passed=2, failed=1)
    t = verdicts(doc)
    assert t["test_passes"]["verdict"] == "pass" and t["test_passes"]["reason"] == ""
    failed = t["test_fails"]
    assert failed["verdict"] == "fail"
    assert SHALL in failed["reason"] and "200 OK" in failed["reason"]
    assert failed["findings"][0]["message"] == "SIP/2.0 200"
    assert t["test_should_not_followed"]["verdict"] == "non-strict"
    assert t["test_should_not_followed"]["reason"]
    assert clause_state(doc, SHALL) == "fail"  # the worst of pass and fail
    assert clause_state(doc, SHOULD) == "non-strict"
    assert set(next(c for c in doc["clauses"] if c["id"] == SHALL)["tests"]) == {
        failed["id"],
        t["test_passes"]["id"],
    }


def test_strict_should_makes_non_strict_a_failure(project):
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHOULD}")
        def test_should_not_followed(request):
            expectations_for(request.node).record("{SHOULD}", False, "Warning", "none")
        """,
    )
    result, doc = run(project, "--strict-should")
    result.assert_outcomes(failed=1)
    assert verdicts(doc)["test_should_not_followed"]["verdict"] == "non-strict"


def test_inconclusive_not_applicable_and_crashes(project):
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHALL}")
        def test_inconclusive(request):
            raise Inconclusive("the SUT never answered the REGISTER")

        @pytest.mark.clause("{SHALL}")
        def test_not_applicable(request):
            raise NotApplicable("no access policy")

        @pytest.mark.clause("{SHALL}")
        def test_skip_not_applicable(request):
            pytest.skip("not-applicable: ICS says no")

        @pytest.mark.clause("{SHALL}")
        def test_crashes(request):
            raise ValueError("bug in the harness")

        @pytest.mark.clause("{SHALL}")
        def test_judges_an_unclaimed_clause(request):
            expectations_for(request.node).record("{OTHER}", True, "x", "x")
        """,
    )
    result, doc = run(project, "-rs")
    result.assert_outcomes(skipped=3, failed=2)
    t = verdicts(doc)
    assert t["test_inconclusive"]["verdict"] == "inconclusive"
    assert t["test_inconclusive"]["reason"] == "the SUT never answered the REGISTER"
    result.stdout.fnmatch_lines(["*inconclusive: the SUT never answered the REGISTER*"])
    assert t["test_not_applicable"]["verdict"] == "not-applicable"
    assert t["test_not_applicable"]["reason"] == "no access policy"
    assert t["test_skip_not_applicable"]["verdict"] == "not-applicable"
    assert t["test_skip_not_applicable"]["reason"] == "ICS says no"
    assert t["test_crashes"]["verdict"] == "error"
    assert t["test_crashes"]["reason"] == "harness error: ValueError: bug in the harness"
    unclaimed = t["test_judges_an_unclaimed_clause"]
    assert unclaimed["verdict"] == "error" and OTHER in unclaimed["reason"]
    assert clause_state(doc, SHALL) == "error"


def test_failure_stays_failure_after_a_later_inconclusive(project):
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHALL}", "{OTHER}")
        def test_fails_then_inconclusive(request):
            expectations_for(request.node).record("{SHALL}", False, "403", "200")
            raise Inconclusive("cannot judge the second clause")
        """,
    )
    result, doc = run(project)
    result.assert_outcomes(failed=1)
    t = verdicts(doc)["test_fails_then_inconclusive"]
    assert t["verdict"] == "fail"
    assert t["clause_verdicts"][SHALL] == "fail"


def test_unjudged_clause_of_a_failed_test_is_not_failed(project):
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHALL}", "{OTHER}")
        def test_fails_then_inconclusive(request):
            expectations_for(request.node).record("{SHALL}", False, "403", "200")
            raise Inconclusive("cannot judge the second clause")
        """,
    )
    _, doc = run(project)
    t = verdicts(doc)["test_fails_then_inconclusive"]
    # OTHER has no finding: nothing shows the SUT broke it.
    assert t["clause_verdicts"][OTHER] == "inconclusive"
    assert clause_state(doc, OTHER) == "inconclusive"


def test_clause_option_selects_by_prefix(project):
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHALL}")
        def test_first(request):
            expectations_for(request.node).record("{SHALL}", True, "x", "x")

        @pytest.mark.clause("{OTHER}")
        def test_second(request):
            expectations_for(request.node).record("{OTHER}", True, "x", "x")
        """,
    )
    result, doc = run(project, "--clause", OTHER)
    result.assert_outcomes(passed=1, deselected=1)
    assert [t["name"] for t in doc["tests"]] == ["test_second"]
    assert clause_state(doc, SHALL) == "not-tested"


def test_items_outside_testcases_pass_untouched(project):
    project.makepyfile(test_selfcheck="def test_plain():\n    assert True\n")
    result, doc = run(project)
    result.assert_outcomes(passed=1)
    assert doc is None  # no conformance case ran, so no results document


def test_a_test_whose_clauses_were_all_inconclusive_is_not_a_pass(project):
    # Issue 12: such a test ended `pass` in junit.xml, the console and testfest.md.
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHALL}", "{OTHER}")
        def test_nothing_judged(request):
            exp = expectations_for(request.node)
            exp.record("{SHALL}", None, "a 403 to read", "no 403 (the SUT answered 405)")
            exp.record("{OTHER}", None, "a NOTIFY", "none")

        @pytest.mark.clause("{SHALL}", "{OTHER}")
        def test_half_judged(request):
            exp = expectations_for(request.node)
            exp.record("{SHALL}", True, "403", "403")
            exp.record("{OTHER}", None, "a NOTIFY", "none")
        """,
    )
    junit = project.path / "junit.xml"
    allure_dir = project.path / "allure"
    result, doc = run(project, "-rs", f"--junitxml={junit}", f"--alluredir={allure_dir}")
    result.assert_outcomes(skipped=2)
    statuses = [json.loads(p.read_text())["status"] for p in allure_dir.glob("*-result.json")]
    assert statuses == ["skipped", "skipped"]
    t = verdicts(doc)
    for name in ("test_nothing_judged", "test_half_judged"):
        assert t[name]["verdict"] == "inconclusive" and t[name]["cause"] == "precondition"
    assert t["test_nothing_judged"]["reason"].startswith(f"{SHALL}: no 403 (the SUT answered 405)")
    assert t["test_half_judged"]["clause_verdicts"] == {SHALL: "pass", OTHER: "inconclusive"}
    result.stdout.fnmatch_lines([f"*inconclusive: {SHALL}: no 403*"])
    xml = junit.read_text()
    assert xml.count("<skipped") == 2 and "inconclusive" in xml
    assert doc["summary"]["tests"]["pass"] == 0 and doc["summary"]["tests"]["inconclusive"] == 2
    from cpmconf.report.markdown import render_markdown
    from cpmconf.report.testfest import render_testfest

    assert "### Tests needing attention (2)" in render_markdown(doc)
    assert "| Pass |" not in render_testfest(doc)


def test_console_shows_the_finding_not_the_harness_source(project):
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHALL}")
        def test_fails(request):
            expectations_for(request.node).record(
                "{SHALL}", False, "403 to the MESSAGE", "200 OK", "SIP/2.0 200 OK"
            )

        @pytest.mark.clause("{SHALL}")
        def test_crashes(request):
            raise ValueError("bug in the harness")
        """,
    )
    result, doc = run(project)
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    block = out[out.index("test_fails") :]
    block = block[: block.index("test_crashes")]
    for part in (f"[fail] {SHALL} (SHALL):", "expected: 403 to the MESSAGE", "actual:   200 OK"):
        assert part in block
    assert "| SIP/2.0 200 OK" in block
    # No harness source under a finding: no traceback lines, no plugin frames.
    assert "pytest_plugin.py" not in block and "raise_if_failed" not in block
    assert "def test_fails" not in block
    crash = out[out.index("_ test_crashes _") :]
    assert "harness error: ValueError: bug in the harness" in crash
    assert "test_cases.py:" in crash and 'raise ValueError("bug in the harness")' in crash


def test_a_narrowed_run_records_its_selection(project):
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHALL}")
        def test_first(request):
            expectations_for(request.node).record("{SHALL}", True, "x", "x")

        @pytest.mark.clause("{OTHER}")
        def test_second(request):
            expectations_for(request.node).record("{OTHER}", True, "x", "x")
        """,
    )
    _, doc = run(project, "-k", "second")
    sel = doc["run"]["selection"]
    assert sel["keyword"] == "second" and sel["tests"] == 1 and sel["clauses"] == [OTHER]
    cov = doc["summary"]["coverage"]
    assert (cov["testable"], cov["tested"], cov["judged"]) == (1, 1, 1)
    _, whole = run(project)
    assert "selection" not in whole["run"]
    assert whole["summary"]["coverage"]["testable"] > 100


def test_clauses_that_do_not_apply_are_not_applicable_inside_a_running_case(project):
    project.makeconftest(
        f"""
pytest_plugins = ["cpmconf.plugin.pytest_plugin"]
import pytest
from cpmconf.plugin.pytest_plugin import expectations_for

@pytest.fixture(autouse=True)
def _ics(request):
    if request.node.get_closest_marker("clause"):
        expectations_for(request.node).inapplicable["{OTHER}"] = "needs ICS x, not claimed"
"""
    )
    write_case(
        project,
        f"""
        @pytest.mark.clause("{SHALL}", "{OTHER}")
        def test_judges_the_applicable_one(request):
            expectations_for(request.node).record("{SHALL}", True, "403", "403")

        @pytest.mark.clause("{SHALL}", "{OTHER}")
        def test_judges_both(request):
            exp = expectations_for(request.node)
            exp.record("{SHALL}", True, "403", "403")
            exp.record("{OTHER}", False, "x", "y")
        """,
    )
    result, doc = run(project)
    result.assert_outcomes(passed=2)
    t = verdicts(doc)
    for name in ("test_judges_the_applicable_one", "test_judges_both"):
        assert t[name]["verdict"] == "pass"
        assert t[name]["clause_verdicts"] == {SHALL: "pass", OTHER: "not-applicable"}
    assert t["test_judges_both"]["findings"][1]["note"] == "needs ICS x, not claimed"
