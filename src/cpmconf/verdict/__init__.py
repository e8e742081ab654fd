"""Verdict layer: the six verdicts, typed findings and errors, and the checks."""

from cpmconf.verdict.core import (
    LEGEND,
    Cause,
    ClauseViolation,
    CpmconfOutcome,
    Decision,
    Expectations,
    Finding,
    HarnessError,
    Inconclusive,
    NotApplicable,
    Outcome,
    Verdict,
    decide,
    excerpt,
    worst,
)

__all__ = [
    "LEGEND",
    "Cause",
    "ClauseViolation",
    "Decision",
    "CpmconfOutcome",
    "Expectations",
    "Finding",
    "HarnessError",
    "Inconclusive",
    "NotApplicable",
    "Outcome",
    "Verdict",
    "decide",
    "excerpt",
    "worst",
]
