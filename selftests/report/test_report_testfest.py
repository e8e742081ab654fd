"""testfest.md: one row per test case with the test-fest verdict names."""

from __future__ import annotations

import pytest

from cpmconf.report.testfest import render_testfest, verdict_name
from selftests.report.conftest import table_rows

EXPECTED = {
    "test_copy_to_each_device": "Pass",
    "test_blocked_originator_gets_403[warning]": "Fail",
    "test_415_lists_accept": "Non-strict",
    "test_icsi_in_accept_contact": "Out of time",
    "test_user_agent_names_release": "Out of time",
    "test_reply_to_when_asked": "Inconclusive",
    "test_deferred_subscription": "N/A",
    "test_expiry_in_expires": "Error",
}


def test_one_row_per_test_with_its_verdict_name(sample):
    text = render_testfest(sample)
    assert text.startswith("# Test-fest results: acme-pf\n")
    assert "| Test case | Clauses | Verdict | Reason |" in text
    rows = table_rows(text, "`testcases/")
    assert len(rows) == len(sample["tests"])
    got = {r[0].strip("`").rsplit("::", 1)[1].replace("\\_", "_"): r[2] for r in rows}
    assert got == EXPECTED
    by_name = {r[0].rsplit("::", 1)[1]: r for r in rows}
    assert by_name["test_blocked_originator_gets_403[warning]`"][1] == (
        "`TS-8.3.2.1-1`, `TS-8.3.2.1-2`"
    )
    assert "overall bound of 30 s" in by_name["test_icsi_in_accept_contact`"][3]


def test_tally_and_escaping(sample):
    text = render_testfest(sample)
    assert (
        "8 test case(s): 1 Pass, 1 Fail, 1 Non-strict, 1 Inconclusive, 2 Out of time, 1 N/A, "
        "1 Error." in text
    )
    assert "<script>" not in text and "\\<script\\>" in text


@pytest.mark.parametrize(
    ("verdict", "reason", "name"),
    [
        ("inconclusive", "the test did not finish within its overall bound of 30 s", "Out of time"),
        (
            "inconclusive",
            "precondition not met: no 200 (MESSAGE) from the SUT within 2.5 s",
            "Out of time",
        ),
        ("inconclusive", "upper tester: POST /send: no answer within 5 s", "Out of time"),
        ("inconclusive", "upper tester: POST /send refused: 400", "Inconclusive"),
        ("inconclusive", "the SUT never registered", "Inconclusive"),
        ("fail", "no 200 from the SUT within 2 s", "Fail"),
        ("error", "the capture did not finish within 2 s", "Error"),
        ("not-applicable", "ICS", "N/A"),
    ],
)
def test_verdict_names(verdict, reason, name):
    assert verdict_name({"verdict": verdict, "reason": reason}) == name
