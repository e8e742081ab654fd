"""Helpers shared by every report format; each works on the results document alone.

Owns what the formats must agree on: the order and wording of verdicts and clause states,
the HTML anchor names that other reports link to (`clause_anchor`, `case_anchor`), the label
of a test's verdict by its stored `cause` (never by the words of its reason), coverage counts
per group of clauses (`cpmconf.plugin.results.coverage`, against the run's selection),
superseded-clause lineage, document titles (the
source file name is only a detail), and making untrusted text safe to embed (control characters,
lone surrogates, length).
"""

from __future__ import annotations

import hashlib
import re

from cpmconf.plugin.results import CLAUSE_STATES, selected_ids
from cpmconf.plugin.results import coverage as _coverage
from cpmconf.verdict import LEGEND, Verdict

TEST_VERDICTS = [v.value for v in Verdict]
STATES = list(CLAUSE_STATES)

EXTRA_LEGEND = {
    "not-tested": "testable, but no test case in this run judged it",
    "untestable": "the catalogue says the wire cannot show it; the reason is listed",
    "superseded": "a later entry governs the same behaviour; that entry's verdict counts",
    "not-judged-passively": "offline judging of a capture (cpmconf judge) has no passive "
    "check for it: it needs a stimulus, so it was not judged",
}
# States shown as a column only when some clause is in them.
OPTIONAL_STATES = {"not-judged-passively"}

# Verdicts a reader has to act on, most serious first.
ATTENTION = ["fail", "error", "inconclusive", "non-strict"]

# The label of a non-pass test by its cause (compliance.json `tests[].cause`); a document
# without causes (older runs) falls back to the plain verdict names.
CAUSE_LABELS = {
    "no-answer": "Out of time",
    "refused": "Refused",
    "upper-tester": "Upper tester",
    "precondition": "Inconclusive",
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_NOT_ANCHOR = re.compile(r"[^A-Za-z0-9._-]+")


def legend() -> list[tuple[str, str]]:
    """Every state a test or clause can end in, with its meaning, in display order."""
    rows = [(v.value, LEGEND[v]) for v in Verdict]
    return rows + list(EXTRA_LEGEND.items())


def clean(text: object) -> str:
    """`text` as a string with control characters and lone surrogates made visible.

    Message text comes from the SUT; what HTML and XML cannot carry is shown as `\\xNN`.
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    return _CONTROL.sub(_visible, s)


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: object, limit: int | None = None) -> str:
    """Whitespace collapsed to single spaces, cut to `limit` characters with an ellipsis."""
    s = " ".join(clean(text).split())
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 1)].rstrip() + "\u2026"
    return s


def _slug(prefix: str, value: str) -> str:
    slug = _NOT_ANCHOR.sub("-", value).strip("-")
    if slug != value:
        # The same slug from two different values must not share an anchor.
        slug += "-" + hashlib.sha1(value.encode("utf-8", "replace")).hexdigest()[:6]
    return f"{prefix}-{slug}"


def clause_anchor(clause_id: str) -> str:
    """The element id of a clause's row in compliance.html (also used by the matrix)."""
    return _slug("clause", clause_id)


def case_anchor(test_id: str) -> str:
    """The element id of a test's section in compliance.html."""
    return _slug("test", test_id)


def message_anchor(test_id: str, index: object) -> str:
    return f"{case_anchor(test_id)}-msg-{_NOT_ANCHOR.sub('-', str(index))}"


def short_test_name(test: dict) -> str:
    name = test.get("name")
    if name:
        return str(name)
    tid = str(test.get("id", ""))
    return tid.rsplit("::", 1)[-1]


def cause_label(test: dict) -> str | None:
    """The label an inconclusive test's cause gives it ("Out of time", "Refused", ...), or
    None when its verdict is not inconclusive or it records no known cause."""
    if test.get("verdict") != "inconclusive":
        return None
    return CAUSE_LABELS.get(str(test.get("cause")))


def clauses_by_id(doc: dict) -> dict[str, dict]:
    return {c["id"]: c for c in doc.get("clauses", []) if "id" in c}


def tests_by_id(doc: dict) -> dict[str, dict]:
    return {t["id"]: t for t in doc.get("tests", []) if "id" in t}


def lineage(clauses: dict[str, dict], clause_id: str) -> list[str]:
    """The clause followed by each entry that supersedes it, ending at the governing one."""
    chain = [clause_id]
    seen = {clause_id}
    current = clauses.get(clause_id, {}).get("superseded_by")
    while current and current not in seen:
        chain.append(current)
        seen.add(current)
        current = clauses.get(current, {}).get("superseded_by")
    governing = clauses.get(clause_id, {}).get("governed_by")
    if governing and chain[-1] != governing:
        chain.append(governing)  # the document knows more of the chain than it lists
    return chain


def selection(doc: dict) -> set[str] | None:
    """The clause ids a narrowed run selected, or None for a whole run."""
    return selected_ids(doc.get("run"))


def coverage(clauses: list[dict], selected: set[str] | None = None) -> dict:
    """`cpmconf.plugin.results.coverage`, with each clause state also as a top-level key."""
    counts = _coverage(clauses, selected)
    return {**counts["states"], **{k: v for k, v in counts.items() if k != "states"}}


def coverage_by(doc: dict, key: str) -> dict[str, dict]:
    """`coverage` per distinct value of a clause field (section, role, level), or per
    `document`: by source file, named by the document's title."""
    groups: dict[str, list[dict]] = {}
    field = "source" if key == "document" else key
    for c in doc.get("clauses", []):
        groups.setdefault(str(c.get(field) or "?"), []).append(c)
    chosen = selection(doc)
    names = sorted(groups, key=_natural)
    if key == "document":
        return {document_title(groups[n][0]): coverage(groups[n], chosen) for n in names}
    return {name: coverage(groups[name], chosen) for name in names}


def document_title(clause: dict) -> str:
    """The human title of a clause's source document (results without titles: the file)."""
    return clean(clause.get("document") or clause.get("source") or "?")


def document_files(doc: dict) -> dict[str, str]:
    """Document title -> its source file name (a detail the HTML report keeps)."""
    return {document_title(c): clean(c.get("source")) for c in doc.get("clauses", [])}


def selection_text(doc: dict) -> str:
    """How a narrowed run chose its tests, e.g. "--clause TS-8.3.2.1, -m 'not robustness'"."""
    sel = doc.get("run", {}).get("selection") or {}
    parts = [f"--clause {p}" for p in sel.get("clause") or []]
    if sel.get("markexpr"):
        parts.append(f"-m {sel['markexpr']!r}")
    if sel.get("keyword"):
        parts.append(f"-k {sel['keyword']!r}")
    n = len(sel.get("clauses") or [])
    how = ", ".join(parts) or "narrowed"
    return f"{how}: {sel.get('tests', '?')} test(s) claiming {n} clause(s)"


def coverage_line(cov: dict, narrowed: bool = False) -> str:
    """The one coverage sentence every format prints (plain text)."""
    of = "selected testable" if narrowed else "testable"
    return (
        f"{cov['judged']} judged (pass, fail or non-strict) and {cov['tested']} tested of "
        f"{cov['testable']} {of} clauses ({percent(cov['judged'], cov['testable'])} judged); "
        f"{cov['total']} clauses in all, {cov['untestable']} untestable, "
        f"{cov['superseded']} superseded."
    )


def _natural(value: str) -> list:
    """Sort key that orders 7.2.10 after 7.2.9."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", value)]


def percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f}%" if whole else "n/a"


def run_title(doc: dict) -> str:
    run = doc.get("run", {})
    return clean(run.get("target") or run.get("sut") or "unnamed target")


def present_states(clauses: list[dict]) -> list[str]:
    """STATES, less the optional ones no clause is in (so a column appears only when used)."""
    used = {c.get("verdict") for c in clauses}
    return [s for s in STATES if s not in OPTIONAL_STATES or s in used]


def ics_wire(doc: dict) -> dict | None:
    """The document's ICS-vs-wire section, or None when the run did not record one."""
    section = doc.get("ics_wire")
    return section if isinstance(section, dict) else None
