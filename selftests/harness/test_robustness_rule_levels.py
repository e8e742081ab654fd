"""Robustness on RFC ground (issue 14 item 6): accepting bad input is judged at the level of
the RFC rule the RB- entry rests on, survival always at the entry's own level.

A fake exchange is judged through `Run.judge`'s recording path: a 202 to the stimulus and an
answered probe. The verdicts must follow clauses/robustness.yaml: fail under a MUST,
non-strict under a SHOULD, pass where only survival is judged and where the entry rests on
no rule at all (`suite`: the refusal is only reported in the survival finding's note,
D-rb-suite-grading).
"""

from __future__ import annotations

import pytest

from cpmconf import catalogue
from cpmconf.codec.sip import SipMessage
from cpmconf.procedures import robustness as robustness_steps
from cpmconf.verdict.checks import robustness as checks
from cpmconf.verdict.core import Expectations, Verdict

ACCEPTED = SipMessage.parse(
    b"SIP/2.0 202 Accepted\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
    b"From: <sip:alice@example.net>;tag=1\r\nTo: <sip:bob@example.net>;tag=2\r\n"
    b"Call-ID: rb-1@here\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
)


def judged(clause: str, refusal: str | None = None) -> Verdict:
    """What the case gives a SUT that accepted the stimulus with 202 and survived."""
    cat = catalogue.load()
    refusal = refusal or clause
    claimed = {c: (cat.get(c).level, cat.get(c).summary) for c in {clause, refusal}}
    expect = Expectations(levels=claimed)
    level = robustness_steps.refusal_level(refusal)
    if level is not None:
        expect.judge(refusal, checks.refused_or_dropped([ACCEPTED], "a bad MESSAGE"), level)
    probe_final = ACCEPTED  # any final to the probe: it survived
    expect.judge(clause, checks.still_answering(probe_final, "a bad MESSAGE", 5, "a 200"))
    verdicts = expect.clause_verdicts()
    return verdicts.get(refusal, Verdict.PASS) if refusal != clause else verdicts[clause]


@pytest.mark.parametrize(
    "clause,refusal,verdict",
    [
        # RFC 3261 18.3: a too-small Content-Length ends the request early; any answer conforms
        ("RB-sip-content-length", None, Verdict.PASS),
        # RFC 3261 18.3: a UDP request longer than its datagram SHOULD get a 400
        ("RB-sip-content-length", "RB-sip-content-length-udp-excess", Verdict.NON_STRICT),
        ("RB-sip-feature-tag-encoding", None, Verdict.PASS),
        ("RB-cpim-malformed", None, Verdict.PASS),
        ("RB-sip-invalid-uri", "RB-sip-invalid-uri-refused", Verdict.NON_STRICT),
        ("RB-sip-repeated-header", "RB-sip-repeated-header-refused", Verdict.NON_STRICT),
        ("RB-sip-invalid-uri", None, Verdict.PASS),
        # no RFC rule; CPM's 488 for ids it never issued reads as a SHOULD (D-pf-488-no-messages)
        ("RB-cpm-unknown-message-id", None, Verdict.PASS),
        ("RB-cpm-unknown-message-id", "RB-cpm-unknown-message-id-refused", Verdict.NON_STRICT),
        # suite: no rule asks the refusal, so it is reported, never judged (D-rb-suite-grading)
        ("RB-xml-invalid", None, Verdict.PASS),
        ("RB-cpm-unknown-action", None, Verdict.PASS),
        ("RB-msrp-byte-range", None, Verdict.PASS),
        ("RB-msrp-end-line", None, Verdict.PASS),
        # XML 1.0 has even a non-validating processor expand internal entities, and leaves
        # external ones to it: no rule requires refusing either, only survival is judged
        ("RB-xml-entity-expansion", None, Verdict.PASS),
        ("RB-xml-external-entity", None, Verdict.PASS),
    ],
)
def test_acceptance_judged_at_the_rules_level(clause, refusal, verdict):
    assert judged(clause, refusal) == verdict


def test_survival_stays_strict_under_a_should_rule():
    cat = catalogue.load()
    clause = "RB-sip-invalid-uri"
    expect = Expectations(levels={clause: (cat.get(clause).level, cat.get(clause).summary)})
    expect.judge(clause, checks.still_answering(None, "a bad MESSAGE", 5, "a 200"))
    assert expect.clause_verdicts()[clause] == Verdict.FAIL


def test_every_rb_entry_is_graded_on_its_rule():
    """Item 6 for every RB- entry: refusal fails only under a MUST, is non-strict only under a
    SHOULD, and is otherwise not judged (`suite` entries only report it)."""
    for c in catalogue.load():
        if c.doc != "RB":
            continue
        want = {"MUST": "SHALL", "SHOULD": "SHOULD"}.get(c.rule_level)
        assert c.refusal_level == want, c.id
        assert c.refusal_informational is (c.rule_level == "suite"), c.id


def test_a_suite_refusal_is_reported_on_the_survival_finding():
    """D-rb-suite-grading through the test cases' own judging (testcases/judging.py): the
    SUT's 202 to a broken resource list is noted on the survival finding, which passes."""
    from types import SimpleNamespace

    from testcases.judging import Run

    clause = "RB-xml-invalid"
    cat = catalogue.load()
    expect = Expectations(levels={clause: (cat.get(clause).level, cat.get(clause).summary)})
    run = Run(SimpleNamespace(guard=5), expect, clause)
    assert run.refusal_level is None and run.informational and not run.may_accept
    run.judge_refusal(checks.refused_or_dropped([ACCEPTED], "a broken list"))
    run.survival = expect.judge(
        clause, checks.still_answering(ACCEPTED, "a broken list", 5, "a 200")
    )
    run._annotate()
    (finding,) = expect.findings
    assert finding.verdict == Verdict.PASS
    assert "informational, not judged (D-rb-suite-grading" in finding.note
    assert "not met" in finding.note  # the 202 is reported for what it is
