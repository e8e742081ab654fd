"""The verdict-faithful JUnit XML, read back with xml.etree."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cpmconf.report.junit import render_junit


def _suite(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    return suite


def _cases(suite: ET.Element) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in suite.findall("testcase")}


def test_suite_counts_follow_the_verdicts(sample):
    suite = _suite(render_junit(sample))
    assert suite.get("name") == "cpmconf acme-pf"
    assert (
        suite.get("tests"),
        suite.get("failures"),
        suite.get("errors"),
        suite.get("skipped"),
    ) == (
        "8",
        "1",
        "1",
        "4",
    )
    assert suite.get("timestamp") == "2026-01-05T10:00:00+00:00"
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["target"] == "acme-pf" and props["capture"] == "socket-tap"


def test_each_verdict_maps_to_its_element(sample):
    cases = _cases(_suite(render_junit(sample)))
    assert len(cases) == 8
    passed = cases["test_copy_to_each_device"]
    assert passed.get("classname") == "testcases.test_ts_8_3_2_1_pf"
    assert [c.tag for c in passed] == ["properties"]
    failure = cases["test_blocked_originator_gets_403[warning]"].find("failure")
    assert failure.get("type") == "fail"
    assert failure.get("message").startswith("fail: [fail] TS-8.3.2.1-2 (SHALL)")
    assert "actual:   403 <script>alert(1)</script> & no Warning" in failure.text
    error = cases["test_expiry_in_expires"].find("error")
    assert "'expires' is undefined" in error.get("message")
    for name, verdict in (
        ("test_icsi_in_accept_contact", "inconclusive"),
        ("test_reply_to_when_asked", "inconclusive"),
        ("test_deferred_subscription", "not-applicable"),
    ):
        skipped = cases[name].find("skipped")
        assert skipped is not None and skipped.get("message").startswith(f"{verdict}: ")
    soft = cases["test_415_lists_accept"]
    assert soft.find("failure") is None
    assert soft.find("system-out").text.startswith("non-strict")


def test_non_strict_can_be_a_failure(sample):
    suite = _suite(render_junit(sample, non_strict="fail"))
    assert suite.get("failures") == "2"
    failure = _cases(suite)["test_415_lists_accept"].find("failure")
    assert failure.get("type") == "non-strict"
    with pytest.raises(ValueError, match="non_strict"):
        render_junit(sample, non_strict="maybe")


def test_properties_carry_clause_ids_and_verdicts(sample):
    case = _cases(_suite(render_junit(sample)))["test_blocked_originator_gets_403[warning]"]
    props = [(p.get("name"), p.get("value")) for p in case.find("properties")]
    assert ("clause", "TS-8.3.2.1-1") in props and ("clause", "TS-8.3.2.1-2") in props
    assert ("verdict", "fail") in props
    assert ("clause_verdict:TS-8.3.2.1-2", "fail") in props
    assert ("pcap", "pcaps/test_blocked_originator_gets_403[warning].pcap") in props


def test_control_characters_still_give_well_formed_xml(sample):
    sample["tests"][1]["reason"] = "bell \x07 nul \x00 surrogate \udc80 end"
    failure = _cases(_suite(render_junit(sample)))[
        "test_blocked_originator_gets_403[warning]"
    ].find("failure")
    assert "bell \\x07 nul \\x00 surrogate \\udc80 end" in failure.text
