"""testfest.md: one row per test case with the test-fest verdict names.

An inconclusive case is labelled by its stored cause (no-answer "Out of time", refused
"Refused", upper-tester "Upper tester", precondition "Inconclusive"), never by the words of
its reason; the sample document is a version 1 file without causes, which falls back to the
plain verdict names.
"""

from __future__ import annotations

import pytest

from cpmconf.report.testfest import render_testfest, verdict_name
from selftests.report.conftest import table_rows

EXPECTED = {
    "test_copy_to_each_device": "Pass",
    "test_blocked_originator_gets_403[warning]": "Fail",
    "test_415_lists_accept": "Non-strict",
    "test_icsi_in_accept_contact": "Inconclusive",
    "test_user_agent_names_release": "Inconclusive",
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
    assert "8 test case(s): 1 Pass, 1 Fail, 1 Non-strict, 3 Inconclusive, 1 N/A, 1 Error." in text
    assert "<script>" not in text and "\\<script\\>" in text


def test_labels_come_from_the_stored_cause(sample):
    causes = {
        "test_icsi_in_accept_contact": "no-answer",
        "test_user_agent_names_release": "refused",
        "test_reply_to_when_asked": "upper-tester",
    }
    for t in sample["tests"]:
        if t["name"] in causes:
            t["cause"] = causes[t["name"]]
    text = render_testfest(sample)
    rows = table_rows(text, "`testcases/")
    got = {r[0].strip("`").rsplit("::", 1)[1].replace("\\_", "_"): r[2] for r in rows}
    assert got["test_icsi_in_accept_contact"] == "Out of time"
    assert got["test_user_agent_names_release"] == "Refused"
    assert got["test_reply_to_when_asked"] == "Upper tester"
    assert "1 Out of time, 1 Refused, 1 Upper tester" in text


@pytest.mark.parametrize(
    ("verdict", "cause", "reason", "name"),
    [
        # The reason's words never decide the label: only the cause does.
        ("inconclusive", "no-answer", "no 200 (MESSAGE) from the SUT within 2.5 s", "Out of time"),
        (
            "inconclusive",
            "refused",
            "the PF answered 405 Method Not Allowed within 0.1 s",
            "Refused",
        ),
        ("inconclusive", "upper-tester", "upper tester: POST /send: 501", "Upper tester"),
        ("inconclusive", "precondition", "did not finish within 30 s", "Inconclusive"),
        (
            "inconclusive",
            None,
            "the test did not finish within its overall bound of 30 s",
            "Inconclusive",
        ),
        ("inconclusive", "refused", "", "Refused"),
        ("fail", "violation", "no 200 from the SUT within 2 s", "Fail"),
        ("error", "harness", "the capture did not finish within 2 s", "Error"),
        ("not-applicable", "not-applicable", "ICS", "N/A"),
        ("pass", None, "", "Pass"),
    ],
)
def test_verdict_names(verdict, cause, reason, name):
    assert verdict_name({"verdict": verdict, "reason": reason, "cause": cause}) == name
