"""The results document (`cpmconf.plugin.results`): build() and validate().

Builds `compliance.json` from a tiny hand-made list of test results against the real clause
catalogue and checks each clause's state: the worst verdict of the tests that judged it, else
`superseded` (a later entry governs), `untestable` (the catalogue says why) or `not-tested`;
the summary counts; and that validate() accepts the built document (also after a JSON round
trip) and reports each kind of structural breakage.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from cpmconf import catalogue
from cpmconf.plugin import results
from cpmconf.verdict import Verdict

CAT = catalogue.load()
# Pick clauses by property, so the tests follow the catalogue as it grows.
TESTABLE = [c for c in CAT if c.testable and not c.superseded_by]
SUPERSEDED = [c for c in CAT if c.superseded_by]
UNTESTABLE = [c for c in CAT if not c.testable and not c.superseded_by]
SUPERSEDED_UNTESTABLE = [c for c in SUPERSEDED if not c.testable]

A, B, C, D = (c.id for c in TESTABLE[:4])
JUDGED_SUPERSEDED = SUPERSEDED[0].id
IDLE_SUPERSEDED = SUPERSEDED[1].id
IDLE_UNTESTABLE = UNTESTABLE[0].id


def fake_result(tid: str, verdict: str, clause_verdicts: dict[str, str], reason: str = "") -> dict:
    return {
        "id": f"testcases/test_fake.py::{tid}",
        "name": tid,
        "clauses": list(clause_verdicts),
        "verdict": verdict,
        "reason": reason,
        "clause_verdicts": clause_verdicts,
        "findings": [],
        "evidence": {"stimuli": [], "messages": [], "pcap": None, "notes": []},
        "duration": 0.1,
    }


TESTS = [
    fake_result("t_pass", "pass", {A: "pass", JUDGED_SUPERSEDED: "pass"}),
    fake_result("t_fail", "fail", {A: "fail", B: "pass"}, "A broken"),
    fake_result("t_soft", "non-strict", {B: "non-strict"}, "B not followed"),
    fake_result("t_na", "not-applicable", {C: "not-applicable"}, "ICS"),
    fake_result("t_inc", "inconclusive", {C: "inconclusive"}, "no answer"),
]
RUN = {"target": "fake", "profile": "fake.toml", "sut": "embedded", "faults": []}


@pytest.fixture(scope="module")
def doc() -> dict:
    return results.build(CAT, copy.deepcopy(TESTS), dict(RUN), datetime.now(UTC))


def state(doc: dict, cid: str) -> dict:
    return next(c for c in doc["clauses"] if c["id"] == cid)


def test_judged_clauses_take_the_worst_verdict(doc):
    assert state(doc, A)["verdict"] == "fail"  # pass + fail
    assert state(doc, B)["verdict"] == "non-strict"  # pass + non-strict
    assert state(doc, C)["verdict"] == "inconclusive"  # not-applicable + inconclusive
    assert state(doc, A)["tests"] == [
        "testcases/test_fake.py::t_pass",
        "testcases/test_fake.py::t_fail",
    ]


def test_unjudged_clauses_get_their_catalogue_state(doc):
    assert state(doc, D)["verdict"] == "not-tested" and state(doc, D)["tests"] == []
    assert state(doc, IDLE_UNTESTABLE)["verdict"] == "untestable"
    assert state(doc, IDLE_UNTESTABLE)["reason"]
    assert state(doc, IDLE_SUPERSEDED)["verdict"] == "superseded"
    for c in SUPERSEDED_UNTESTABLE:  # superseded wins over untestable
        assert state(doc, c.id)["verdict"] == "superseded"


def test_a_judged_superseded_clause_shows_its_verdict_and_governor(doc):
    s = state(doc, JUDGED_SUPERSEDED)
    assert s["verdict"] == "pass"
    assert s["superseded_by"] == CAT.get(JUDGED_SUPERSEDED).superseded_by
    assert s["governed_by"] == CAT.lineage(JUDGED_SUPERSEDED)[-1] != JUDGED_SUPERSEDED
    assert state(doc, A)["governed_by"] is None


def test_every_clause_is_listed_once_and_counted(doc):
    ids = [c["id"] for c in doc["clauses"]]
    assert len(ids) == len(set(ids)) == len(CAT)
    summary = doc["summary"]
    assert summary["clauses_total"] == len(CAT)
    assert sum(summary["clauses"].values()) == len(CAT)
    assert summary["clauses_testable"] == sum(1 for c in CAT if c.testable)
    assert summary["clauses_covered"] == 4  # A, B, C and the judged superseded clause
    assert summary["tests"] == {
        "pass": 1,
        "fail": 1,
        "non-strict": 1,
        "inconclusive": 1,
        "not-applicable": 1,
        "error": 0,
    }
    assert set(summary["tests"]) == {v.value for v in Verdict}
    assert summary["clauses"]["superseded"] == len(SUPERSEDED) - 1
    assert summary["clauses"]["untestable"] == len(UNTESTABLE)


def test_run_block(doc):
    assert doc["schema"] == results.SCHEMA
    run = doc["run"]
    assert {k: run[k] for k in RUN} == RUN
    assert datetime.fromisoformat(run["finished"]) >= datetime.fromisoformat(run["started"])
    assert run["cpmconf_version"]


def test_validate_accepts_the_built_document(doc):
    assert results.validate(doc) == []
    assert results.validate(json.loads(json.dumps(doc))) == []


def test_empty_run_builds_a_valid_document():
    empty = results.build(CAT, [], {}, datetime.now(UTC))
    assert results.validate(empty) == []
    assert empty["summary"]["clauses_covered"] == 0
    assert {c["verdict"] for c in empty["clauses"]} <= {"not-tested", "untestable", "superseded"}


def _break(doc: dict, how: str) -> dict:
    d = copy.deepcopy(doc)
    if how == "schema":
        d["schema"] = "cpmconf-results/0"
    elif how == "no-summary":
        del d["summary"]
    elif how == "test-verdict":
        d["tests"][0]["verdict"] = "passed"
    elif how == "test-key":
        del d["tests"][1]["clause_verdicts"]
    elif how == "clause-verdict":
        d["clauses"][2]["verdict"] = "covered"
    return d


@pytest.mark.parametrize(
    "how, words",
    [
        ("schema", "schema is 'cpmconf-results/0'"),
        ("no-summary", "missing 'summary'"),
        ("test-verdict", "tests[0] has unknown verdict 'passed'"),
        ("test-key", "tests[1] missing 'clause_verdicts'"),
        ("clause-verdict", "clauses[2] has unknown verdict 'covered'"),
    ],
)
def test_validate_rejects_a_broken_document(doc, how, words):
    problems = results.validate(_break(doc, how))
    assert problems == [words] or any(words in p for p in problems), problems
    assert len(problems) == 1, problems


def test_validate_lists_every_problem():
    assert len(results.validate({})) == 5  # schema + four missing top-level keys


def test_passive_judging_marks_unjudged_testable_clauses():
    doc = results.build(CAT, copy.deepcopy(TESTS), dict(RUN), datetime.now(UTC), passive=True)
    assert results.validate(doc) == []
    assert doc["run"]["mode"] == "passive"
    assert state(doc, D)["verdict"] == results.PASSIVE_STATE
    assert state(doc, A)["verdict"] == "fail"  # judged clauses keep their verdict
    assert state(doc, IDLE_UNTESTABLE)["verdict"] == "untestable"
    assert doc["summary"]["clauses"][results.PASSIVE_STATE] > 0


def test_a_version_1_document_still_validates_but_may_not_use_version_2_states(doc):
    old = copy.deepcopy(doc)
    old["schema"] = "cpmconf-results/1"
    del old["run"]["mode"]
    del old["summary"]["clauses"][results.PASSIVE_STATE]
    assert results.validate(old) == []
    old["clauses"][0]["verdict"] = results.PASSIVE_STATE
    assert results.validate(old) == [f"clauses[0] has unknown verdict {results.PASSIVE_STATE!r}"]


def test_the_ics_claims_come_from_the_run_profile_when_not_given():
    run = {**RUN, "profile": str(catalogue.REPO_ROOT / "fixtures/profiles/embedded.toml")}
    doc = results.build(CAT, copy.deepcopy(TESTS), run, datetime.now(UTC))
    assert "large-message-mode" in doc["ics_wire"]["claims"]
    assert "ics_wire" not in results.build(CAT, [], dict(RUN), datetime.now(UTC))
    doc["run"]["mode"] = "offline"
    assert results.validate(doc) == ["run.mode is 'offline', expected one of conformance, passive"]
