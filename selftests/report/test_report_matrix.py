"""The interoperability matrix of two runs, as HTML and as Markdown."""

from __future__ import annotations

import copy
import re

import pytest

from cpmconf.report.html import render_html
from cpmconf.report.matrix import column_names, render_matrix_html, render_matrix_markdown
from selftests.report.conftest import parse_html, table_rows

LINKS = ["run-1/compliance.html", "run 2/compliance.html"]


@pytest.fixture
def two(sample) -> list[dict]:
    """The sample and a second run of the same target where 8.3.2.1-2 passed and one clause
    exists only in the second run's catalogue."""
    other = copy.deepcopy(sample)
    for c in other["clauses"]:
        if c["id"] == "TS-8.3.2.1-2":
            c["verdict"] = "pass"
    extra = copy.deepcopy(other["clauses"][0])
    extra.update(id="TS-8.3.2.1-9", verdict="not-tested", tests=[])
    other["clauses"].append(extra)
    return [sample, other]


A = "acme-pf, no fault, 2026-01-05 10:00"


def test_columns_are_disambiguated(two):
    assert column_names(two) == [f"{A} #1", f"{A} #2"]
    two[1]["run"]["target"] = "globex-pf"
    assert column_names(two) == [A, "globex-pf, no fault, 2026-01-05 10:00"]
    assert column_names([two[0], two[1], two[0]])[::2] == [f"{A} #1", f"{A} #2"]


def test_columns_name_target_faults_and_date(two):
    two[1]["run"]["faults"] = ["pf.no-415", "pf.ignore-block"]
    two[1]["run"]["started"] = "2026-02-01T08:30:00+00:00"
    assert column_names(two) == [A, "acme-pf, fault pf.no-415 pf.ignore-block, 2026-02-01 08:30"]


def test_diff_keeps_only_rows_that_differ(two):
    text = render_matrix_markdown(two, LINKS, diff=True)
    rows = {r[0]: r[1:] for r in table_rows(text, "`")}
    # 8.3.2.1-2 failed in one run and passed in the other; 8.3.2.1-9 exists in one only.
    assert set(rows) == {"`TS-8.3.2.1-2`", "`TS-8.3.2.1-9`"}
    assert "Only the 2 clause(s) whose verdict differs" in text
    page = render_matrix_html(two, LINKS, diff=True)
    assert page.count("<code>") == 2 and 'id="diff"' in page


def test_markdown_matrix(two):
    text = render_matrix_markdown(two, LINKS)
    assert f"[{A} #1](run-1/compliance.html)" in text
    assert f"[{A} #2](run%202/compliance.html)" in text
    rows = {r[0]: r[1:] for r in table_rows(text, "`")}
    assert len(rows) == 12  # eleven clauses in both runs, one only in the second
    assert rows["`TS-8.3.2.1-2`"] == [
        "SHALL",
        "[fail](run-1/compliance.html#clause-TS-8.3.2.1-2)",
        "[pass](run%202/compliance.html#clause-TS-8.3.2.1-2)",
    ]
    assert rows["`TS-8.3.2.1-9`"][1] == "\u2014"
    assert rows["`SD-5.2.2.1-1`"][1].startswith("[superseded](")
    totals = {r[0]: r[2:] for r in table_rows(text, "**")}
    assert totals["**judged**"] == ["3/8 (38%)", "3/9 (33%)"]
    assert totals["**fail**"] == ["1", "0"]


def test_html_matrix_links_land_on_clause_rows(two):
    page = render_matrix_html(two, LINKS)
    tree = parse_html(page)
    assert tree.problems == [] and tree.stack == []
    assert "<th>clause</th>" in page and f">{A} #1</a></th>" in page
    hrefs = [h for h in tree.hrefs if "#" in h]
    assert "run-1/compliance.html#clause-TS-8.3.2.1-2" in hrefs
    assert "run%202/compliance.html#clause-TS-8.3.2.1-2" in hrefs
    # Every fragment the matrix links to is an element id in that run's own report.
    for doc, link in zip(two, LINKS, strict=True):
        ids = set(parse_html(render_html(doc)).ids)
        prefix = link.replace(" ", "%20") + "#"
        targets = [h[len(prefix) :] for h in hrefs if h.startswith(prefix)]
        assert len(targets) == len(doc["clauses"])
        assert set(targets) <= ids
    row = re.search(r"<tr><td><code>TS-8.3.2.1-9</code>.*?</tr>", page).group(0)
    assert 'class="absent"' in row


def test_links_must_match_docs(two):
    with pytest.raises(ValueError, match="2 results document"):
        render_matrix_html(two, LINKS[:1])
    with pytest.raises(ValueError):
        render_matrix_markdown(two, [])


def test_matrix_escapes_targets(two):
    two[0]["run"]["target"] = "<b>evil</b>"
    assert "<b>evil" not in render_matrix_html(two, LINKS)
    assert "\\<b\\>evil" in render_matrix_markdown(two, LINKS)
