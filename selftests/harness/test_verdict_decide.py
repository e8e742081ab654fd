"""`cpmconf.verdict.decide`: the one rule from clause verdicts (and how a test ended) to the
test's verdict, and the not-applicable state of findings and judgements.

A test is `pass` only when a claimed clause passed and none is worse; a test whose judged
clauses are all inconclusive is `inconclusive` with the reason of the first; a violation
outlives a later precondition; a harness error covers every clause. A clause that does not
apply (its ICS item unclaimed, its condition never arose, a MAY not used) is not-applicable
and never counts as unjudged. The pf_large checks named in issue 12 no longer fail or go
non-strict on a PF that refused the INVITE.
"""

from __future__ import annotations

from cpmconf.codec.sip import SipMessage
from cpmconf.verdict import Cause, Expectations, Finding, Outcome, Verdict, decide
from cpmconf.verdict.checks import pf_large
from cpmconf.verdict.checks.base import judged, not_arisen, not_judged
from selftests.captured import captured

A, B, C = "TS-A", "TS-B", "TS-C"


def finding(clause, ok, level="SHALL", applicable=True, actual="seen", note=None):
    return Finding(clause, level, "summary", ok, "wanted", actual, None, note, applicable)


def test_all_inconclusive_is_inconclusive_with_the_first_reason():
    d = decide(
        [A, B],
        [finding(A, None, actual="no 403 to read"), finding(B, None, actual="no NOTIFY")],
    )
    assert d.verdict == Verdict.INCONCLUSIVE
    assert d.reason.startswith("TS-A: no 403 to read")
    assert d.cause == Cause.PRECONDITION
    assert d.clauses == {A: Verdict.INCONCLUSIVE, B: Verdict.INCONCLUSIVE}


def test_pass_needs_a_passing_clause_and_none_worse():
    assert decide([A], [finding(A, True)]).verdict == Verdict.PASS
    # pass and inconclusive: not a pass
    d = decide([A, B], [finding(A, True), finding(B, None, actual="no answer")])
    assert d.verdict == Verdict.INCONCLUSIVE and d.reason.startswith("TS-B")
    # pass and not-applicable: a pass
    d = decide([A, B], [finding(A, True), finding(B, None, applicable=False, note="no ICS")])
    assert d.verdict == Verdict.PASS and d.clauses[B] == Verdict.NOT_APPLICABLE


def test_nothing_applicable_is_not_applicable_with_the_reason():
    d = decide([A], [finding(A, None, applicable=False, actual="only a 405", note="no device")])
    assert d.verdict == Verdict.NOT_APPLICABLE
    assert "only a 405" in d.reason and d.cause == Cause.NOT_APPLICABLE
    d = decide([A], [], inapplicable={A: "needs ICS session-timer, not claimed"})
    assert d.verdict == Verdict.NOT_APPLICABLE and "session-timer" in d.reason


def test_violation_outlives_a_later_precondition():
    raised = Outcome(Verdict.INCONCLUSIVE, "the SUT stopped answering", Cause.NO_ANSWER)
    d = decide([A, B], [finding(A, False)], raised)
    assert d.verdict == Verdict.FAIL and d.cause == Cause.VIOLATION
    assert d.clauses == {A: Verdict.FAIL, B: Verdict.INCONCLUSIVE}
    soft = decide([A], [finding(A, False, level="SHOULD")])
    assert soft.verdict == Verdict.NON_STRICT


def test_a_raised_precondition_gives_its_reason_and_cause():
    raised = Outcome(Verdict.INCONCLUSIVE, "PF answered 405 to the INVITE", Cause.REFUSED)
    d = decide([A, B], [finding(A, True)], raised)
    assert (d.verdict, d.reason, d.cause) == (Verdict.INCONCLUSIVE, raised.reason, Cause.REFUSED)
    assert d.clauses == {A: Verdict.PASS, B: Verdict.INCONCLUSIVE}


def test_harness_error_and_whole_test_not_applicable_cover_every_clause():
    d = decide([A, B], [finding(A, False)], Outcome(Verdict.ERROR, "bug", Cause.HARNESS))
    assert d.verdict == Verdict.ERROR and set(d.clauses.values()) == {Verdict.ERROR}
    na = Outcome(Verdict.NOT_APPLICABLE, "no [client]", Cause.NOT_APPLICABLE)
    d = decide([A, B], [], na)
    assert d.verdict == Verdict.NOT_APPLICABLE and set(d.clauses.values()) == {
        Verdict.NOT_APPLICABLE
    }


def test_a_may_clause_never_fails():
    f = finding(A, False, level="MAY")
    assert f.verdict == Verdict.NOT_APPLICABLE and not f.violated
    assert decide([A], [f]).verdict == Verdict.NOT_APPLICABLE
    assert finding(A, True, level="MAY").verdict == Verdict.PASS


def test_inapplicable_clauses_are_recorded_not_applicable_and_not_unjudged():
    exp = Expectations(
        {A: ("SHALL", "a"), B: ("SHOULD", "b")}, inapplicable={B: "needs ICS session-timer"}
    )
    assert exp.unjudged() == [A]
    f = exp.judge(B, judged(False, "Session-Expires", "absent"))
    assert f.verdict == Verdict.NOT_APPLICABLE and "session-timer" in f.note
    assert not exp.has_failures()
    exp.judge(A, judged(True, "x", "x"))
    assert exp.unjudged() == []
    assert decide([A, B], exp.findings, None, exp.inapplicable).verdict == Verdict.PASS


def test_not_arisen_judgement_is_not_applicable():
    exp = Expectations({A: ("SHALL", "a")})
    f = exp.judge(A, not_arisen("a 200", "only a 405", "no device accepted"))
    assert f.verdict == Verdict.NOT_APPLICABLE and f.note == "no device accepted"
    assert exp.judge(A, not_judged("a 403", "none")).verdict == Verdict.INCONCLUSIVE


def _response(status: int, reason: str, extra: str = ""):
    return captured(
        SipMessage.parse(
            (
                f"SIP/2.0 {status} {reason}\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
                "From: <sip:alice@example.net>;tag=a\r\nTo: <sip:bob@example.net>;tag=b\r\n"
                f"Call-ID: c1\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
            ).encode()
        )
    )


def test_first_200_clause_does_not_apply_when_no_device_accepted():
    refused = _response(405, "Method Not Allowed")
    j = pf_large.one_200_upstream([refused])
    assert j.ok is None and not j.arisen and "405" in j.actual
    assert not pf_large.one_200_upstream([], device_accepted=False).arisen
    # A second 200 after the first is still a failure.
    ok200 = _response(200, "OK")
    assert pf_large.one_200_upstream([ok200, ok200]).ok is False
    assert pf_large.one_200_upstream([ok200]).ok is True
    # A device accepted but the PF sent no 200: a failure, when the case says so.
    assert pf_large.one_200_upstream([refused], device_accepted=True).ok is False


def test_session_timer_clause_does_not_apply_to_a_refused_invite():
    j = pf_large.session_timer_handled([], _response(405, "Method Not Allowed"))
    assert j.ok is None and not j.arisen
    assert pf_large.session_timer_handled([], None).arisen is False
    ok = _response(200, "OK", "Session-Expires: 1800\r\n")
    assert pf_large.session_timer_handled([], ok).ok is False  # accepted but forwarded nothing


def test_a_may_not_used_as_allowed_says_why_it_is_not_applicable():
    exp = Expectations({A: ("MAY", "a")})
    f = exp.record(A, False, "the user's own address", "P-Preferred-Identity: <sip:x@y>")
    assert f.verdict == Verdict.NOT_APPLICABLE and "a MAY cannot fail" in f.note
    d = decide([A], exp.findings)
    assert d.verdict == Verdict.NOT_APPLICABLE and "sip:x@y" in d.reason


def test_separate_dialogs_clause_does_not_apply_without_a_device_invite():
    j = pf_large.separate_dialogs([], _response(405, "Method Not Allowed"))
    assert j.ok is None and not j.arisen
