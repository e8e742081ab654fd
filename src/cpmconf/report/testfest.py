"""The test-fest sheet (`testfest.md`): one Markdown table row per test case.

Owns the verdict names a test-fest results sheet uses: Pass, Fail, Non-strict, Inconclusive,
Out of time, Refused, Upper tester, N/A and Error. An inconclusive case is named by its stored
`cause` (`_common.CAUSE_LABELS`): a guard that expired with no answer is "Out of time", a
setup step the SUT refused is "Refused", an upper tester that refused or failed is "Upper
tester", a missing precondition is "Inconclusive". The words of the reason never decide it;
a results document without causes shows the plain verdict names.
"""

from __future__ import annotations

from cpmconf.report._common import CAUSE_LABELS, cause_label, run_title
from cpmconf.report.markdown import md_code, md_text

NAMES = {
    "pass": "Pass",
    "fail": "Fail",
    "non-strict": "Non-strict",
    "inconclusive": "Inconclusive",
    "not-applicable": "N/A",
    "error": "Error",
}
OUT_OF_TIME = CAUSE_LABELS["no-answer"]
ORDER = [
    "Pass",
    "Fail",
    "Non-strict",
    "Inconclusive",
    OUT_OF_TIME,
    CAUSE_LABELS["refused"],
    CAUSE_LABELS["upper-tester"],
    "N/A",
    "Error",
]
REASON_CHARS = 400


def verdict_name(test: dict) -> str:
    """The sheet's name for a test's verdict."""
    label = cause_label(test)
    if label is not None:
        return label
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
