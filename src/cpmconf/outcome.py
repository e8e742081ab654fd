"""The outcomes a step or a test case can end with besides passing, and why.

Owns the six verdicts (`Verdict`), the causes every report labels them by (`Cause`), and the
exceptions that say who broke the rules: `Inconclusive` (a precondition could not be set up),
`NotApplicable` (the SUT's ICS says the feature is absent, or a role is unmapped),
`HarnessError` (the harness itself failed). They sit in the bottom layer so the procedures
(below the verdict layer) can raise them; `cpmconf.verdict` re-exports them under the same
names, and owns how findings and outcomes combine into a test's verdict.
"""

from __future__ import annotations

import enum


class Verdict(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NON_STRICT = "non-strict"
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "not-applicable"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Severity for combining several outcomes of one clause: higher wins."""
        return _RANK[self]


_RANK = {
    Verdict.NOT_APPLICABLE: 0,
    Verdict.PASS: 1,
    Verdict.NON_STRICT: 2,
    Verdict.INCONCLUSIVE: 3,
    Verdict.FAIL: 4,
    Verdict.ERROR: 5,
}


class Cause(enum.StrEnum):
    """Why a test or clause ended other than pass: what the labels of every format come from.

    Reports read this field, never the words of a reason.
    """

    VIOLATION = "violation"  # the SUT broke the clause (fail, non-strict)
    NO_ANSWER = "no-answer"  # a guard time expired with no answer at all
    REFUSED = "refused"  # the SUT refused a setup step (status and reason phrase in the reason)
    UPPER_TESTER = "upper-tester"  # the client's upper tester refused or failed
    PRECONDITION = "precondition"  # a precondition the SUT controls was missing
    NOT_APPLICABLE = "not-applicable"  # ICS item not claimed, role not mapped, condition not met
    HARNESS = "harness"  # the harness failed


class CpmconfOutcome(Exception):
    """Base of every outcome a test case can raise besides passing."""

    verdict: Verdict = Verdict.ERROR


class Inconclusive(CpmconfOutcome):
    """A clause could not be judged; `cause` says why (default: a missing precondition the
    SUT controls)."""

    verdict = Verdict.INCONCLUSIVE

    def __init__(self, reason: str, clause: str | None = None, cause: Cause = Cause.PRECONDITION):
        self.reason = reason
        self.clause = clause
        self.cause = Cause(cause)
        super().__init__(reason)


class NotApplicable(CpmconfOutcome):
    verdict = Verdict.NOT_APPLICABLE
    cause = Cause.NOT_APPLICABLE

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class HarnessError(CpmconfOutcome):
    """The harness failed: never evidence against the SUT."""

    verdict = Verdict.ERROR
    cause = Cause.HARNESS
