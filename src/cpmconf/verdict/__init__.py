"""Verdict layer: the six verdicts, typed findings and errors, and the checks."""

from cpmconf.verdict.core import (
    LEGEND,
    Cause,
    ClauseViolation,
    CpmconfOutcome,
    Expectations,
    Finding,
    HarnessError,
    Inconclusive,
    NotApplicable,
    Verdict,
    excerpt,
    worst,
)

__all__ = [
    "LEGEND",
    "Cause",
    "ClauseViolation",
    "CpmconfOutcome",
    "Expectations",
    "Finding",
    "HarnessError",
    "Inconclusive",
    "NotApplicable",
    "Verdict",
    "excerpt",
    "worst",
]
