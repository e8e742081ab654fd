"""compliance.md: counts, the attention table, escaping, coverage and the size limit."""

from __future__ import annotations

import copy

from cpmconf.report.markdown import md_code, md_text, render_markdown
from selftests.report.conftest import table_rows


def test_summary_counts(sample):
    text = render_markdown(sample)
    assert text.startswith("## \u274c cpmconf: acme-pf\n")
    assert "| **tests** | 8 | 1 | 1 | 1 | 3 | 1 | 1 |" in text
    assert (
        "**Clauses:** 11 (1 pass, 1 fail, 1 non-strict, 2 inconclusive, 1 not-applicable, "
        "1 error, 1 not-tested, 1 untestable, 2 superseded)." in text
    )
    assert "Capture mode socket-tap" in text


def test_attention_table_lists_only_what_needs_a_reader(sample):
    text = render_markdown(sample)
    assert "### Tests needing attention (6)" in text
    rows = table_rows(text, "`testcases/")
    verdicts = [r[1] for r in rows]
    assert verdicts == [
        "**fail**",
        "**error**",
        "**inconclusive**",
        "**inconclusive**",
        "**inconclusive**",
        "**non-strict**",
    ]
    names = " ".join(r[0] for r in rows)
    assert "test_copy_to_each_device" not in names  # pass
    assert "test_deferred_subscription" not in names  # not applicable
    fail_row = rows[0]
    assert fail_row[2] == "`TS-8.3.2.1-1`, `TS-8.3.2.1-2`"
    assert "\\<script\\>alert(1)\\</script\\>" in fail_row[3]
    assert "<script>" not in text


def test_reasons_are_cut_to_one_line(sample):
    sample["tests"][1]["reason"] = "first line\n" + "x" * 1000
    rows = table_rows(render_markdown(sample), "`testcases/")
    reason = rows[0][3]
    assert "\n" not in reason and len(reason) <= 241 and reason.endswith("\u2026")


def test_coverage_numbers(sample):
    text = render_markdown(sample)
    assert (
        "3 judged (pass, fail or non-strict) and 6 tested of 8 testable clauses (38% judged); "
        "11 clauses in all, 1 untestable, 2 superseded." in text
    )
    docs = {r[0]: r[1:] for r in table_rows(text) if r[0].endswith(".txt")}
    # clauses, testable, tested, judged, then pass .. error and not-tested
    assert docs["001\\_pf.txt"] == ["3", "3", "3", "3", "1", "1", "1", "0", "0", "0", "0"]
    assert docs["004\\_client.txt"][:4] == ["5", "5", "3", "0"]
    assert "SHALL NOT 0/1 judged" in text


def test_attention_rows_name_the_cause(sample):
    for t in sample["tests"]:
        if t["name"] == "test_icsi_in_accept_contact":
            t["cause"] = "no-answer"
        if t["name"] == "test_user_agent_names_release":
            t["cause"] = "refused"
    verdicts = [r[1] for r in table_rows(render_markdown(sample), "`testcases/")]
    assert "**inconclusive (out of time)**" in verdicts
    assert "**inconclusive (refused)**" in verdicts


def test_a_clean_run_says_so(sample):
    sample["tests"] = [sample["tests"][0]]
    text = render_markdown(sample)
    assert text.startswith("## \u2705")
    assert "No test failed, erred, was inconclusive or missed a SHOULD." in text


def _many_failures(sample: dict, n: int) -> dict:
    doc = copy.deepcopy(sample)
    template = doc["tests"][1]
    doc["tests"] = []
    for i in range(n):
        t = copy.deepcopy(template)
        t["id"] = f"testcases/test_many.py::test_case_{i:04d}"
        t["reason"] = f"reason {i} " + "y" * 500
        doc["tests"].append(t)
    return doc


def test_stays_under_the_size_limit_with_a_note(sample):
    doc = _many_failures(sample, 800)
    text = render_markdown(doc)
    assert len(text) <= 60000
    for limit in (20000, 5000, 3500):
        text = render_markdown(doc, max_chars=limit)
        assert len(text) <= limit
        rows = table_rows(text, "`testcases/")
        assert 0 < len(rows) < 800
        assert f"_{800 - len(rows)} more row(s) left out" in text
        assert "### Coverage" in text  # coverage still follows the cut table


def test_even_a_tiny_limit_is_respected(sample):
    text = render_markdown(_many_failures(sample, 10), max_chars=300)
    assert len(text) <= 300
    assert "cut to the size limit" in text


def test_markdown_escaping_helpers():
    assert md_text("a|b <i>*x*</i> [l](u)") == "a\\|b \\<i\\>\\*x\\*\\</i\\> \\[l\\](u)"
    assert md_text("two\nlines") == "two lines"
    assert md_code("a|b") == "`a\\|b`"
    assert md_code("tick`in") == "`` tick`in ``"
