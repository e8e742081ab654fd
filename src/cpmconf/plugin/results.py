"""The results JSON (`compliance.json`): one document per run, the source of every report.

Owns the schema, versioned as `cpmconf-results/1`:

- `run`: target name, profile file, SUT kind, fault switches, capture mode and reason,
  start and end times, cpmconf version;
- `tests`: per test case its id, clause ids, verdict, reason, per-clause verdicts, findings
  (expected vs actual with a message excerpt) and evidence (rendered stimuli, captured
  messages, pcap path relative to the report folder);
- `clauses`: every clause of the catalogue with its verdict and the tests that judged it.
  Beyond the six test verdicts a clause can be `not-tested` (testable, but no test claims
  it), `untestable` (the catalogue says why) or `superseded` (a later entry governs; its
  verdict is shown alongside);
- `summary`: counts of tests and clauses by verdict.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cpmconf import __version__
from cpmconf.catalogue import Catalogue
from cpmconf.verdict import Verdict, worst

SCHEMA = "cpmconf-results/1"
CLAUSE_STATES = [v.value for v in Verdict] + ["not-tested", "untestable", "superseded"]


def build(cat: Catalogue, tests: list[dict], run: dict, started: datetime) -> dict:
    per_clause: dict[str, list[tuple[str, Verdict]]] = {}
    for t in tests:
        for cid, v in t["clause_verdicts"].items():
            per_clause.setdefault(cid, []).append((t["id"], Verdict(v)))
    clauses = []
    for c in cat:
        judged = per_clause.get(c.id, [])
        if judged:
            state = worst(v for _, v in judged).value
        elif c.superseded_by:
            state = "superseded"
        elif not c.testable:
            state = "untestable"
        else:
            state = "not-tested"
        governing = cat.lineage(c.id)[-1]
        clauses.append(
            {
                "id": c.id,
                "source": c.source,
                "section": c.full_section,
                "title": c.title,
                "level": c.level,
                "role": c.role,
                "summary": c.summary,
                "testable": c.testable,
                "reason": c.reason,
                "conditions": list(c.conditions),
                "decision": list(c.decision),
                "superseded_by": c.superseded_by,
                "governed_by": governing if governing != c.id else None,
                "verdict": state,
                "tests": [tid for tid, _ in judged],
            }
        )
    by_state = {s: 0 for s in CLAUSE_STATES}
    for c in clauses:
        by_state[c["verdict"]] += 1
    test_counts = {v.value: 0 for v in Verdict}
    for t in tests:
        test_counts[t["verdict"]] += 1
    return {
        "schema": SCHEMA,
        "run": {
            **run,
            "started": started.isoformat(),
            "finished": datetime.now(UTC).isoformat(),
            "cpmconf_version": __version__,
        },
        "summary": {
            "tests": test_counts,
            "clauses": by_state,
            "clauses_total": len(clauses),
            "clauses_testable": sum(1 for c in cat if c.testable),
            "clauses_covered": sum(1 for c in clauses if c["tests"]),
        },
        "tests": tests,
        "clauses": clauses,
    }


def validate(doc: dict) -> list[str]:
    """Structural problems of a results document (empty when it is well formed)."""
    problems = []
    if doc.get("schema") != SCHEMA:
        problems.append(f"schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
    for key in ("run", "summary", "tests", "clauses"):
        if key not in doc:
            problems.append(f"missing {key!r}")
    verdicts = {v.value for v in Verdict}
    for i, t in enumerate(doc.get("tests", [])):
        for key in (
            "id",
            "clauses",
            "verdict",
            "reason",
            "clause_verdicts",
            "findings",
            "evidence",
        ):
            if key not in t:
                problems.append(f"tests[{i}] missing {key!r}")
        if t.get("verdict") not in verdicts:
            problems.append(f"tests[{i}] has unknown verdict {t.get('verdict')!r}")
    for i, c in enumerate(doc.get("clauses", [])):
        if c.get("verdict") not in CLAUSE_STATES:
            problems.append(f"clauses[{i}] has unknown verdict {c.get('verdict')!r}")
    return problems
