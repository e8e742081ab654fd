"""load_results, write_reports, the fixture itself, and a document built by results.build."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cpmconf import catalogue
from cpmconf.plugin import results
from cpmconf.report import (
    load_results,
    render_html,
    render_junit,
    render_markdown,
    render_matrix_html,
    render_matrix_markdown,
    render_testfest,
    write_matrix,
    write_reports,
)
from cpmconf.report._common import clause_anchor, coverage
from selftests.report.conftest import SAMPLE, parse_html


def test_the_fixture_is_a_valid_and_consistent_document(sample):
    assert results.validate(json.loads(SAMPLE.read_text())) == []
    summary = sample["summary"]
    verdicts = [t["verdict"] for t in sample["tests"]]
    assert summary["tests"] == {v: verdicts.count(v) for v in summary["tests"]}
    assert set(verdicts) == set(summary["tests"])  # every test verdict occurs
    cov = coverage(sample["clauses"])
    states = results.states_for(sample["schema"])
    assert sample["schema"] == "cpmconf-results/1"  # an old document must still load
    assert summary["clauses"] == {s: cov[s] for s in states}
    assert all(cov[s] for s in states)  # every clause state of its version occurs
    assert summary["clauses_total"] == cov["total"]
    # Superseded clauses are out of every denominator; judged counts only pass, fail and
    # non-strict (the old "covered" counted every claimed clause, even unjudged ones).
    assert (cov["testable"], cov["tested"], cov["judged"]) == (8, 6, 3)
    assert cov["superseded"] + cov["untestable"] + cov["testable"] == cov["total"]
    by_test = {t["id"]: t for t in sample["tests"]}
    for c in sample["clauses"]:
        for tid in c["tests"]:
            assert c["id"] in by_test[tid]["clause_verdicts"]


def test_load_results_names_the_file_and_the_problems(tmp_path):
    bad_json = tmp_path / "broken.json"
    bad_json.write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.json: not JSON \(line 1"):
        load_results(bad_json)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"schema": "other/9", "tests": [{"id": "x", "verdict": "meh"}]}))
    with pytest.raises(ValueError) as info:
        load_results(wrong)
    text = str(info.value)
    assert text.startswith(f"{wrong}: not a valid cpmconf-results/2 results document")
    assert (
        "schema is 'other/9', expected 'cpmconf-results/1' or 'cpmconf-results/2'" in text
        and "missing 'clauses'" in text
    )
    assert "tests[0] has unknown verdict 'meh'" in text
    listing = tmp_path / "list.json"
    listing.write_text("[]")
    with pytest.raises(ValueError, match="a results document is a JSON object"):
        load_results(listing)
    with pytest.raises(ValueError, match="missing.json: cannot read"):
        load_results(tmp_path / "missing.json")
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"schema": results.SCHEMA, "tests": ["x"]}))
    with pytest.raises(ValueError, match="odd.json"):
        load_results(odd)


def test_write_reports(sample, tmp_path):
    # A lone surrogate (undecodable SUT bytes kept by a JSON writer) must not stop the writing.
    sample["tests"][1]["evidence"]["messages"][0]["text"] += "\udcff"
    paths = write_reports(sample, tmp_path / "out")
    assert {k: p.name for k, p in paths.items()} == {
        "html": "compliance.html",
        "markdown": "compliance.md",
        "testfest": "testfest.md",
    }
    assert paths["html"].read_text().startswith("<!DOCTYPE html>")
    assert paths["markdown"].read_text().startswith("## ")
    assert paths["testfest"].read_text().startswith("# Test-fest results")


def test_write_matrix_links_each_run_relative_to_the_output(sample, tmp_path):
    for name in ("run-a", "run-b"):
        (tmp_path / "reports" / name).mkdir(parents=True)
        (tmp_path / "reports" / name / "compliance.json").write_text(json.dumps(sample))
    paths = write_matrix(
        [tmp_path / "reports" / "run-a", tmp_path / "reports" / "run-b" / "compliance.json"],
        tmp_path / "out",
    )
    assert {p.name for p in paths.values()} == {"matrix.html", "matrix.md"}
    text = paths["markdown"].read_text()
    assert "[fail](../reports/run-a/compliance.html#clause-TS-8.3.2.1-2)" in text
    assert "[fail](../reports/run-b/compliance.html#clause-TS-8.3.2.1-2)" in text
    with pytest.raises(ValueError, match="run-c"):
        write_matrix([tmp_path / "reports" / "run-c"], tmp_path / "out")


def test_a_built_document_renders_in_every_format():
    cat = catalogue.load()
    ids = [c.id for c in cat if c.testable and not c.superseded_by][:4]

    def fake(name, verdict, cids, reason=""):
        return {
            "id": f"testcases/test_fake.py::{name}",
            "name": name,
            "clauses": cids,
            "verdict": verdict,
            "reason": reason,
            "clause_verdicts": {c: verdict for c in cids},
            "findings": [],
            "evidence": {
                "stimuli": [{"template": "t.j2", "clauses": cids, "text": "MESSAGE x SIP/2.0"}],
                "messages": [
                    {
                        "index": 0,
                        "time": 1.0,
                        "transport": "udp",
                        "flow": ["127.0.0.1", 1, "127.0.0.1", 2],
                        "from_sut": True,
                        "summary": "MESSAGE sip:x",
                        "text": "MESSAGE sip:x SIP/2.0\r\n\r\n",
                    }
                ],
                "pcap": f"pcaps/{name}.pcap",
                "notes": [],
            },
            "duration": 0.1,
        }

    tests = [
        fake("test_a", "pass", ids[:2]),
        fake("test_b", "fail", ids[2:3], "[fail] expected x, got y"),
        fake("test_c", "inconclusive", ids[3:4], "no 200 from the SUT within 2 s"),
    ]
    tests[2]["cause"] = "no-answer"
    tests[1]["cause"] = "violation"
    run = {
        "target": "fake",
        "profile": "fake.toml",
        "sut": "fake.toml",
        "faults": [],
        "capture": {"mode": "sniffer", "reason": "raw capture on lo"},
    }
    doc = results.build(cat, tests, run, datetime(2026, 1, 1, tzinfo=UTC))
    assert results.validate(doc) == []
    cov = doc["summary"]["coverage"]
    assert (cov["judged"], cov["tested"]) == (3, 4)
    assert cov["testable"] == sum(1 for c in cat if c.testable and not c.superseded_by)
    page = render_html(doc)
    tree = parse_html(page)
    assert tree.problems == []
    assert {clause_anchor(c.id) for c in cat} <= set(tree.ids)
    assert "| **tests** | 3 | 1 | 1 | 0 | 1 | 0 | 0 |" in render_markdown(doc)
    assert "| Out of time |" in render_testfest(doc)
    assert 'tests="3"' in render_junit(doc)
    assert render_matrix_html([doc], ["compliance.html"])
    assert render_matrix_markdown([doc, doc], ["a.html", "b.html"])
