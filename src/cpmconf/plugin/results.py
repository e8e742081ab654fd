"""The results JSON (`compliance.json`): one document per run, the source of every report.

Owns the schema, versioned as `cpmconf-results/2` and documented in docs/results-schema.md;
`validate` also accepts `cpmconf-results/1` documents (v2 only adds to it):

- `run`: target name, profile file, SUT kind, fault switches, capture mode and reason,
  start and end times, cpmconf version; v2 adds an optional `mode` (`conformance`, or
  `passive` for `cpmconf judge`), `capture_file` and `selection` (what `--clause`, `-m`, `-k`
  chose: the options, the number of tests and the clauses they claim);
- `tests`: per test case its id, clause ids, verdict (decided by `cpmconf.verdict.decide`),
  reason, `cause` (v2, optional: why it is not a pass), per-clause verdicts, findings
  (expected vs actual with a message excerpt) and evidence (rendered stimuli, captured
  messages, pcap path relative to the report folder);
- `clauses`: every clause of the catalogue with its verdict and the tests that judged it,
  and (v2, optional) `document`: the human title of its source file.
  Beyond the six test verdicts a clause can be `not-tested` (testable, but no test claims
  it), `untestable` (the catalogue says why) or `superseded` (a later entry governs; its
  verdict is shown alongside); v2 adds `not-judged-passively` (offline judging had no
  passive check for it);
- `summary`: counts of tests and clauses by verdict, and `coverage` (`coverage`: judged,
  tested and testable clauses, superseded ones out of every denominator, against the run's
  selection when `run.selection` narrowed it);
- `ics_wire` (v2, optional): the profile's ICS claims set against what the SUT showed on the
  wire (`cpmconf.plugin.ics_wire`), with the mismatches.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from cpmconf import __version__
from cpmconf.catalogue import Catalogue
from cpmconf.plugin import ics_wire
from cpmconf.roles.profile import ProfileError, load_profile
from cpmconf.verdict import Cause, Verdict, worst

SCHEMA = "cpmconf-results/2"
PASSIVE_STATE = "not-judged-passively"
V1_CLAUSE_STATES = [v.value for v in Verdict] + ["not-tested", "untestable", "superseded"]
CLAUSE_STATES = V1_CLAUSE_STATES + [PASSIVE_STATE]
# Every schema version validate() reads, with the clause states it allows.
SCHEMAS = {"cpmconf-results/1": V1_CLAUSE_STATES, SCHEMA: CLAUSE_STATES}
RUN_MODES = ("conformance", "passive")
_OBSERVATION_KEYS = ("item", "claimed", "wire", "source", "detail", "test", "excerpt")


JUDGED_STATES = ("pass", "fail", "non-strict")
# Clause states that say a case claiming the clause ran and did not find it inapplicable.
_TESTED_STATES = (*JUDGED_STATES, "inconclusive", "error")


def selected_ids(run: dict | None) -> set[str] | None:
    """The clause ids a narrowed run selected (None: the run was not narrowed)."""
    selection = (run or {}).get("selection")
    if not isinstance(selection, dict) or not isinstance(selection.get("clauses"), list):
        return None
    return {str(c) for c in selection["clauses"]}


def coverage(clauses: Iterable[dict], selected: set[str] | None = None) -> dict:
    """Clause counts every format shows, from `clauses[]` entries of a results document.

    `superseded` (a later entry governs) and `untestable` (not superseded, not testable) are
    out of every denominator; `testable` is the rest, within the selection of a narrowed run;
    of those, `tested` were claimed by a case that ran and applied, `judged` ended pass, fail
    or non-strict. The state counts put every superseded clause under `superseded`, so they
    add up to `total` and agree with the counts above.
    """
    counts = {
        "total": 0,
        "superseded": 0,
        "untestable": 0,
        "testable": 0,
        "tested": 0,
        "judged": 0,
        "states": {s: 0 for s in CLAUSE_STATES},
    }
    for c in clauses:
        counts["total"] += 1
        state = c.get("verdict")
        if c.get("superseded_by"):
            counts["superseded"] += 1
            counts["states"]["superseded"] += 1
            continue
        if state in counts["states"]:
            counts["states"][state] += 1
        if not c.get("testable"):
            counts["untestable"] += 1
            continue
        if selected is not None and c.get("id") not in selected:
            continue
        counts["testable"] += 1
        counts["tested"] += 1 if state in _TESTED_STATES else 0
        counts["judged"] += 1 if state in JUDGED_STATES else 0
    return counts


def states_for(schema: object) -> list[str]:
    """The clause states a document of this schema version may use (the newest if unknown)."""
    return SCHEMAS.get(str(schema), CLAUSE_STATES)


def build(
    cat: Catalogue,
    tests: list[dict],
    run: dict,
    started: datetime,
    *,
    ics: Iterable[str] | None = None,
    passive: bool = False,
) -> dict:
    """The results document of a run.

    `ics` is the set of ICS items the target claims; when None it is read from the profile
    file named in `run["profile"]`, if that loads. `passive` marks offline judging: a
    testable clause no passive check judged is `not-judged-passively`, not `not-tested`.
    """
    if ics is None:
        ics = _profile_ics(run.get("profile"))
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
            state = PASSIVE_STATE if passive else "not-tested"
        governing = cat.lineage(c.id)[-1]
        clauses.append(
            {
                "id": c.id,
                "source": c.source,
                "document": cat.vocabulary.title_of(c.source),
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
    doc = {
        "schema": SCHEMA,
        "run": {
            "mode": "passive" if passive else "conformance",
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
            "coverage": coverage(clauses, selected_ids(run)),
        },
        "tests": tests,
        "clauses": clauses,
    }
    if ics is not None:
        doc["ics_wire"] = ics_wire.observe(ics, tests)
    return doc


def _profile_ics(path: object) -> frozenset[str] | None:
    if not path:
        return None
    try:
        return load_profile(str(path)).ics
    except (ProfileError, OSError, ValueError):
        return None  # the plugin already rejected a bad profile; here it only decorates


def validate(doc: dict) -> list[str]:
    """Structural problems of a results document (empty when it is well formed)."""
    problems = []
    schema = doc.get("schema")
    if schema not in SCHEMAS:
        known = " or ".join(repr(s) for s in SCHEMAS)
        problems.append(f"schema is {schema!r}, expected {known}")
    states = states_for(schema)
    for key in ("run", "summary", "tests", "clauses"):
        if key not in doc:
            problems.append(f"missing {key!r}")
    verdicts = {v.value for v in Verdict}
    causes = {c.value for c in Cause}
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
        if t.get("cause") is not None and t.get("cause") not in causes:
            problems.append(f"tests[{i}] has unknown cause {t.get('cause')!r}")
    for i, c in enumerate(doc.get("clauses", [])):
        if c.get("verdict") not in states:
            problems.append(f"clauses[{i}] has unknown verdict {c.get('verdict')!r}")
    mode = doc.get("run", {}).get("mode") if isinstance(doc.get("run"), dict) else None
    if mode is not None and mode not in RUN_MODES:
        problems.append(f"run.mode is {mode!r}, expected one of {', '.join(RUN_MODES)}")
    if "ics_wire" in doc:
        if schema == "cpmconf-results/1":
            problems.append("'ics_wire' needs schema cpmconf-results/2")
        problems += _validate_ics_wire(doc["ics_wire"])
    return problems


def _validate_ics_wire(section: object) -> list[str]:
    if not isinstance(section, dict):
        return ["ics_wire is not an object"]
    problems = []
    if not isinstance(section.get("claims"), list):
        problems.append("ics_wire.claims is not a list")
    for part in ("observations", "mismatches"):
        entries = section.get(part)
        if not isinstance(entries, list):
            problems.append(f"ics_wire.{part} is not a list")
            continue
        for i, o in enumerate(entries):
            if not isinstance(o, dict):
                problems.append(f"ics_wire.{part}[{i}] is not an object")
                continue
            for key in _OBSERVATION_KEYS:
                if key not in o:
                    problems.append(f"ics_wire.{part}[{i}] missing {key!r}")
            if not isinstance(o.get("claimed"), bool) or not isinstance(o.get("wire"), bool):
                problems.append(f"ics_wire.{part}[{i}] claimed and wire must be true or false")
            elif part == "mismatches" and o["claimed"] == o["wire"]:
                problems.append(f"ics_wire.mismatches[{i}] agrees with the claim")
    return problems
