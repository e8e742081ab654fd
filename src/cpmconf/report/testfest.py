"""The test-fest sheet (`testfest.md`): one Markdown table row per test case.

Owns the verdict names a test-fest results sheet uses: Pass, Fail, Inconclusive, N/A, Out of
time, Non-strict and Error. "Out of time" is an inconclusive case whose reason says a guard
time or the test's overall bound ran out (the SUT did not answer in time), told apart from
other inconclusive cases so that slow SUTs are visible at a glance.
"""

from __future__ import annotations

from cpmconf.report._common import is_out_of_time, run_title
from cpmconf.report.markdown import md_code, md_text

NAMES = {
    "pass": "Pass",
    "fail": "Fail",
    "non-strict": "Non-strict",
    "inconclusive": "Inconclusive",
    "not-applicable": "N/A",
    "error": "Error",
}
OUT_OF_TIME = "Out of time"
ORDER = ["Pass", "Fail", "Non-strict", "Inconclusive", OUT_OF_TIME, "N/A", "Error"]
REASON_CHARS = 400


def verdict_name(test: dict) -> str:
    """The sheet's name for a test's verdict."""
    if is_out_of_time(test):
        return OUT_OF_TIME
    return NAMES.get(str(test.get("verdict")), str(test.get("verdict")))


def render_testfest(doc: dict) -> str:
    run = doc.get("run", {})
    tests = doc.get("tests", [])
    verdicts = [verdict_name(t) for t in tests]
    tally = ", ".join(f"{n} {name}" for name in ORDER if (n := verdicts.count(name)))
    lines = [
        f"# Test-fest results: {md_text(run_title(doc), 120)}",
        "",
        f"SUT {md_code(run.get('sut', '?'), 120)}; run started {md_text(run.get('started'))}; "
        f"cpmconf {md_text(run.get('cpmconf_version'))}; {len(tests)} test case(s): "
        f"{tally or 'none'}.",
        "",
        "| Test case | Clauses | Verdict | Reason |",
        "| --- | --- | --- | --- |",
    ]
    for t, verdict in zip(tests, verdicts, strict=True):
        clauses = ", ".join(md_code(c, 60) for c in t.get("clauses") or [])
        lines.append(
            f"| {md_code(t.get('id'), 200)} | {clauses} | {verdict} | "
            f"{md_text(t.get('reason') or '', REASON_CHARS)} |"
        )
    return "\n".join(lines) + "\n"
