"""Verdicts, findings and the typed errors that say who broke the rules.

Owns the six verdicts, `decide` (the one rule that turns a test's findings and the way it
ended into the test's verdict and each claimed clause's verdict; every report uses what it
stored), and the exceptions a test case raises:
- `ClauseViolation`: the SUT broke one or more clauses (fail for SHALL/SHALL NOT, non-strict
  for SHOULD/SHOULD NOT);
- `Inconclusive`: a precondition could not be set up (the SUT never answered a setup step);
- `NotApplicable`: the SUT's ICS says the feature is absent;
- `HarnessError`: the harness itself failed (bad template, bad profile, internal bug).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cpmconf.outcome import (  # noqa: F401  (re-exported: cpmconf.verdict names them)
    Cause,
    CpmconfOutcome,
    HarnessError,
    Inconclusive,
    NotApplicable,
    Verdict,
)

STRICT_LEVELS = ("SHALL", "SHALL NOT")
SOFT_LEVELS = ("SHOULD", "SHOULD NOT")
OPTIONAL_LEVELS = ("MAY",)  # never fails: passes, is not used, or is not applicable


LEGEND = {
    Verdict.PASS: "the SUT did what the clause requires",
    Verdict.FAIL: "the SUT violated a SHALL or SHALL NOT",
    Verdict.NON_STRICT: "the SUT did not follow a SHOULD or SHOULD NOT (not a failure)",
    Verdict.INCONCLUSIVE: "a precondition could not be set up, so the clause was not judged",
    Verdict.NOT_APPLICABLE: "the clause does not apply: its ICS item is not claimed, its "
    "condition never arose, or a MAY was not used (a MAY never fails)",
    Verdict.ERROR: "the harness failed; says nothing about the SUT",
}


def worst(verdicts) -> Verdict:
    verdicts = list(verdicts)
    return max(verdicts, key=lambda v: v.rank) if verdicts else Verdict.PASS


def excerpt(raw: bytes | str | None, lines: int = 12, width: int = 160) -> str | None:
    """The first lines of a message, for a failure text a person can read."""
    if raw is None:
        return None
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    out = [
        textwrap.shorten(line, width, placeholder=" ...") if len(line) > width else line
        for line in text.replace("\r\n", "\n").split("\n")[:lines]
    ]
    return "\n".join(out)


@dataclass(frozen=True)
class Finding:
    """One judged expectation of one clause."""

    clause: str
    level: str
    summary: str
    ok: bool | None  # None: the clause's precondition was not met, so it was not judged
    expected: str
    actual: str
    message: str | None = None  # excerpt of the offending (or judged) message
    note: str | None = None
    # False: the clause did not apply here (its condition never arose, or it needs an ICS
    # item the SUT does not claim); `note` says why.
    applicable: bool = True
    frame: int | None = None  # capture index of the message judged, when a check cited one

    @property
    def verdict(self) -> Verdict:
        if not self.applicable:
            return Verdict.NOT_APPLICABLE
        if self.ok is None:
            return Verdict.INCONCLUSIVE
        if self.ok:
            return Verdict.PASS
        if self.level in OPTIONAL_LEVELS:
            return Verdict.NOT_APPLICABLE  # a MAY not used (or not used as judged): no failure
        return Verdict.NON_STRICT if self.level in SOFT_LEVELS else Verdict.FAIL

    @property
    def violated(self) -> bool:
        """The SUT broke the clause: fail (SHALL) or non-strict (SHOULD)."""
        return self.verdict in (Verdict.FAIL, Verdict.NON_STRICT)

    def describe(self) -> str:
        lines = [
            f"[{self.verdict.value}] {self.clause} ({self.level}): {self.summary}",
            f"  expected: {self.expected}",
            f"  actual:   {self.actual}",
        ]
        if self.note:
            lines.append(f"  note:     {self.note}")
        if self.message:
            where = f" (capture frame {self.frame})" if self.frame is not None else ""
            lines.append(f"  message{where}:")
            lines += ["    | " + line for line in self.message.split("\n")]
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "clause": self.clause,
            "level": self.level,
            "verdict": self.verdict.value,
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message,
            "note": self.note,
        } | ({"frame": self.frame} if self.frame is not None else {})


class ClauseViolation(AssertionError, CpmconfOutcome):
    """The SUT violated one or more clauses; carries every failed finding."""

    def __init__(self, findings: list[Finding]):
        self.findings = [f for f in findings if f.violated]
        if not self.findings:
            raise ValueError("a ClauseViolation needs at least one failed finding")
        super().__init__("\n".join(f.describe() for f in self.findings))

    @property
    def verdict(self) -> Verdict:  # type: ignore[override]
        return worst(f.verdict for f in self.findings)


@dataclass
class Expectations:
    """Collects findings for the clauses a test claims, then raises once with all failures.

    Soft collection lets one stimulus judge several focused expectations and report each
    clause's verdict, instead of stopping at the first failed one.
    """

    levels: dict[str, tuple[str, str]]  # clause id -> (level, summary)
    findings: list[Finding] = field(default_factory=list)
    # Claimed clauses that do not apply to this SUT (an ICS item it does not claim), with the
    # reason: judging one records not-applicable, and they never count as unjudged.
    inapplicable: dict[str, str] = field(default_factory=dict)
    case: str = ""  # the test's id, for a harness error that names it

    def record(
        self,
        clause: str,
        ok: bool | None,
        expected: str,
        actual: str,
        message: bytes | str | None = None,
        note: str | None = None,
        applicable: bool = True,
        level: str | None = None,
        frame: int | None = None,
    ) -> Finding:
        """`level` judges this finding at another level than the clause's (a robustness
        entry whose refusal rests on an RFC SHOULD while its survival is a SHALL)."""
        if clause not in self.levels:
            raise HarnessError(f"expectation on clause {clause!r}, which this test does not claim")
        clause_level, summary = self.levels[clause]
        level = level or clause_level
        why = self.inapplicable.get(clause)
        if why is not None:
            applicable, note = False, why
        elif level in OPTIONAL_LEVELS and ok is not None and not ok:
            may = "a MAY cannot fail: the option was not used as the clause allows"
            note = f"{note}; {may}" if note else may
        finding = Finding(
            clause,
            level,
            summary,
            None if ok is None else bool(ok),
            expected,
            actual,
            excerpt(message) if message is not None else None,
            note,
            applicable,
            frame,
        )
        self.findings.append(finding)
        return finding

    def record_not_applicable(self, clause: str, reason: str, expected: str = "") -> Finding:
        """The clause's condition never arose here: not-applicable with `reason`."""
        return self.record(
            clause,
            None,
            expected or "the clause's condition",
            reason,
            note=reason,
            applicable=False,
        )

    def judge(self, clause: str, judgement, level: str | None = None) -> Finding:
        """Record a check's Judgement (see cpmconf.verdict.checks) for `clause` (at `level`
        instead of the clause's, when given).

        A judgement stamped by a registered check (cpmconf.verdict.checks.register) may judge
        only a clause that check declares: anything else is the harness's mistake (the case
        used the wrong check or clause, or the register list is short), refused here so a
        check's register list is exactly what it is used to judge."""
        check = getattr(judgement, "check", None)
        if check is not None and clause not in judgement.declares:
            raise HarnessError(
                f"{self.case or 'a test'} judges clause {clause!r} with check {check}, which "
                f"declares only {', '.join(sorted(judgement.declares)) or 'no clause'}"
            )
        return self.record(
            clause,
            judgement.ok,
            judgement.expected,
            judgement.actual,
            judgement.message,
            judgement.note,
            getattr(judgement, "arisen", True),
            level,
            getattr(judgement, "frame", None),
        )

    def has_failures(self) -> bool:
        return any(f.violated for f in self.findings)

    def unjudged(self) -> list[str]:
        """Claimed, applicable clauses with no finding: a test that judged nothing cannot
        fail."""
        judged = {f.clause for f in self.findings}
        return [c for c in self.levels if c not in judged and c not in self.inapplicable]

    def add(self, findings) -> None:
        for f in findings:
            if f.clause not in self.levels:
                raise HarnessError(
                    f"finding for clause {f.clause!r}, which this test does not claim"
                )
            self.findings.append(f)

    def clause_verdicts(self) -> dict[str, Verdict]:
        out: dict[str, list[Verdict]] = {}
        for f in self.findings:
            out.setdefault(f.clause, []).append(f.verdict)
        return {c: worst(v) for c, v in out.items()}

    def raise_if_failed(self) -> None:
        failed = [f for f in self.findings if f.violated]
        if failed:
            raise ClauseViolation(failed)


@dataclass(frozen=True)
class Outcome:
    """How a test ended (raised), or what it was decided to be (decide)."""

    verdict: Verdict
    reason: str = ""
    cause: Cause | None = None


@dataclass(frozen=True)
class Decision:
    """A test's verdict, reason and cause, and the verdict of each clause it claims."""

    verdict: Verdict
    reason: str
    cause: Cause | None
    clauses: dict[str, Verdict]


def _finding_reason(f: Finding) -> str:
    text = f"{f.clause}: {f.actual}" if f.actual else f.clause
    return f"{text} ({f.note})" if f.note and f.note not in text else text


def decide(
    claimed: Sequence[str],
    findings: Sequence[Finding],
    raised: Outcome | None = None,
    inapplicable: Mapping[str, str] | None = None,
) -> Decision:
    """The one rule for a test's verdict, from its clause verdicts and how it ended.

    `raised` is what the test's exception said (None: it returned). Per clause: a harness
    error or a whole-test not-applicable covers every claimed clause; otherwise the worst of
    its findings, not-applicable for an inapplicable clause never judged, and inconclusive
    for one the test never reached. The test is then, first match wins: error (the harness
    failed); fail or non-strict (a clause was violated, even if the test stopped later);
    not-applicable (the whole test); inconclusive (some clause could not be judged, with the
    reason and cause of what stopped it, else of the first such finding); pass (at least one
    clause passed and none is worse); not-applicable (nothing applied).
    """
    inapplicable = dict(inapplicable or {})
    if raised is not None and raised.verdict == Verdict.PASS:
        raised = None
    whole = (
        raised.verdict
        if raised and raised.verdict in (Verdict.ERROR, Verdict.NOT_APPLICABLE)
        else None
    )
    per: dict[str, list[Verdict]] = {}
    for f in findings:
        per.setdefault(f.clause, []).append(f.verdict)
    clauses: dict[str, Verdict] = {}
    for cid in claimed:
        if whole is not None:
            clauses[cid] = whole
        elif cid in per:
            clauses[cid] = worst(per[cid])
        elif cid in inapplicable:
            clauses[cid] = Verdict.NOT_APPLICABLE
        else:
            clauses[cid] = Verdict.INCONCLUSIVE
    for cid, vs in per.items():  # a finding on an unclaimed clause is the harness's fault
        clauses.setdefault(cid, whole or worst(vs))

    if raised is not None and raised.verdict == Verdict.ERROR:
        return Decision(Verdict.ERROR, raised.reason, raised.cause or Cause.HARNESS, clauses)
    violated = [f for f in findings if f.violated]
    if violated:
        verdict = worst(f.verdict for f in violated)
        reason = "\n".join(f.describe() for f in violated)
        return Decision(verdict, reason, Cause.VIOLATION, clauses)
    if raised is not None and raised.verdict in (Verdict.FAIL, Verdict.NON_STRICT):
        return Decision(raised.verdict, raised.reason, raised.cause or Cause.VIOLATION, clauses)
    if whole == Verdict.NOT_APPLICABLE:
        return Decision(whole, raised.reason, raised.cause or Cause.NOT_APPLICABLE, clauses)
    states = list(clauses.values())
    if Verdict.INCONCLUSIVE in states:
        if raised is not None:
            return Decision(
                Verdict.INCONCLUSIVE, raised.reason, raised.cause or Cause.PRECONDITION, clauses
            )
        first = next((f for f in findings if f.verdict == Verdict.INCONCLUSIVE), None)
        reason = (
            _finding_reason(first)
            if first
            else "not judged: "
            + ", ".join(c for c, v in clauses.items() if v == Verdict.INCONCLUSIVE)
        )
        return Decision(Verdict.INCONCLUSIVE, reason, Cause.PRECONDITION, clauses)
    if Verdict.PASS in states:
        return Decision(Verdict.PASS, "", None, clauses)
    first = next((f for f in findings if f.verdict == Verdict.NOT_APPLICABLE), None)
    if first is not None:
        reason = _finding_reason(first)
    else:
        cid = next((c for c in claimed if c in inapplicable), None)
        reason = f"{cid}: {inapplicable[cid]}" if cid else "no claimed clause applied"
    return Decision(Verdict.NOT_APPLICABLE, reason, Cause.NOT_APPLICABLE, clauses)
