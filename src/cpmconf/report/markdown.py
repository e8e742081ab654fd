"""The Markdown summary (`compliance.md`): a run short enough for a pull-request comment.

Owns the compact view: counts of tests and clauses by verdict, one table row per test that
needs a reader's attention (error, fail, inconclusive, non-strict) with its reason cut to a
line, and coverage by document and level. The whole text stays under a size limit: rows that
do not fit are dropped, and a closing note says how many.

Also owns the Markdown escaping the other Markdown reports share: text from the document is
put on one line and its Markdown and HTML punctuation is backslash-escaped, so SUT-supplied
bytes cannot add markup, links or table cells.
"""

from __future__ import annotations

import re

from cpmconf.report._common import (
    ATTENTION,
    OPTIONAL_STATES,
    STATES,
    TEST_VERDICTS,
    cause_label,
    coverage,
    coverage_by,
    coverage_line,
    ics_wire,
    one_line,
    present_states,
    run_title,
    selection,
    selection_text,
)

REASON_CHARS = 240
_COVERAGE_STATES = TEST_VERDICTS + ["not-tested"]
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def md_text(value: object, limit: int | None = None) -> str:
    """Untrusted text as inert Markdown on one line, usable inside a table cell."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(value, limit))


def md_code(value: object, limit: int | None = None) -> str:
    """Untrusted text as an inline code span on one line, usable inside a table cell."""
    text = one_line(value, limit).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def counts_line(counts: dict, order: list[str]) -> str:
    return ", ".join(f"{n} {k}" for k in order if (n := counts.get(k, 0))) or "none"


def _test_counts(doc: dict) -> dict:
    counts = {v: 0 for v in TEST_VERDICTS}
    for t in doc.get("tests", []):
        counts[t.get("verdict")] = counts.get(t.get("verdict"), 0) + 1
    return counts


def _header(doc: dict) -> list[str]:
    run = doc.get("run", {})
    capture = run.get("capture") or {}
    tests = doc.get("tests", [])
    cov = coverage(doc.get("clauses", []), selection(doc))
    counts = _test_counts(doc)
    bad = counts.get("fail", 0) + counts.get("error", 0)
    mark = "\u274c" if bad else ("\u26a0\ufe0f" if counts.get("inconclusive") else "\u2705")
    lines = [
        f"## {mark} cpmconf: {md_text(run_title(doc), 120)}",
        "",
        f"SUT {md_code(run.get('sut', '?'), 120)} \u00b7 capture {md_text(capture.get('mode'))} "
        f"\u00b7 started {md_text(run.get('started'))} \u00b7 cpmconf "
        f"{md_text(run.get('cpmconf_version'))}"
        + (
            f" \u00b7 faults {md_code(', '.join(map(str, run['faults'])), 200)}"
            if run.get("faults")
            else ""
        ),
        "",
        "| | total | " + " | ".join(TEST_VERDICTS) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in TEST_VERDICTS) + " |",
        f"| **tests** | {len(tests)} | "
        + " | ".join(str(counts.get(v, 0)) for v in TEST_VERDICTS)
        + " |",
        "",
        f"**Clauses:** {cov['total']} ({counts_line(cov, STATES)}).",
    ]
    if capture.get("mode") not in (None, "sniffer", "pcap"):
        lines += [
            "",
            f"> Capture mode {md_text(capture.get('mode'))}: verdicts rest on the test system's "
            f"own socket record ({md_text(capture.get('reason'), 200)}).",
        ]
    return lines


def _coverage(doc: dict) -> list[str]:
    chosen = selection(doc)
    cov = coverage(doc.get("clauses", []), chosen)
    states = _COVERAGE_STATES + [
        s for s in present_states(doc.get("clauses", [])) if s in OPTIONAL_STATES
    ]
    lines = [
        "",
        "### Coverage",
        "",
        md_text(coverage_line(cov, chosen is not None)),
    ]
    if chosen is not None:
        lines += ["", f"Narrowed run: {md_text(selection_text(doc))}."]
    lines += [
        "",
        "| document | clauses | testable | tested | judged | " + " | ".join(states) + " |",
        "| --- | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in states) + " |",
    ]
    for name, c in coverage_by(doc, "document").items():
        lines.append(
            f"| {md_text(name, 120)} | {c['total']} | {c['testable']} | {c['tested']} | "
            f"{c['judged']} | " + " | ".join(str(c[s]) for s in states) + " |"
        )
    levels = coverage_by(doc, "level")
    lines += [
        "",
        "By level: "
        + "; ".join(
            f"{md_text(name)} {c['judged']}/{c['testable']} judged" for name, c in levels.items()
        )
        + ".",
    ]
    return lines


def _attention_rows(doc: dict) -> list[str]:
    rank = {v: i for i, v in enumerate(ATTENTION)}
    chosen = [t for t in doc.get("tests", []) if t.get("verdict") in rank]
    chosen.sort(key=lambda t: rank[t["verdict"]])  # stable: run order within a verdict
    rows = []
    for t in chosen:
        label = cause_label(t)
        shown = label and label.lower() != t["verdict"]
        verdict = t["verdict"] + (f" ({label.lower()})" if shown else "")
        clauses = ", ".join(md_code(c, 60) for c in t.get("clauses") or [])
        rows.append(
            f"| {md_code(t.get('id'), 160)} | **{md_text(verdict)}** | {clauses} | "
            f"{md_text(t.get('reason') or '', REASON_CHARS)} |"
        )
    return rows


ICS_ROWS = 20  # mismatches listed in the comment; the HTML report has them all


def _ics_wire(doc: dict) -> list[str]:
    section = ics_wire(doc)
    if section is None:
        return []
    mismatches = section.get("mismatches") or []
    lines = ["", "### ICS vs wire", ""]
    if not mismatches:
        n = len(section.get("observations") or [])
        return lines + [
            f"No mismatch: {n} observation(s) of the SUT's messages agree with its ICS."
        ]
    lines += [
        f"**{len(mismatches)} mismatch(es)** between the ICS and what the SUT showed:",
        "",
        "| ICS item | ICS | wire | observation | first seen in |",
        "| --- | --- | --- | --- | --- |",
    ]
    for o in mismatches[:ICS_ROWS]:
        claim = "claimed" if o.get("claimed") else "not claimed"
        wire = "shown" if o.get("wire") else "contradicted"
        seen = f"{md_text(o.get('source'), 60)}: {md_text(o.get('detail'), 160)}"
        lines.append(
            f"| {md_code(o.get('item'), 60)} | {claim} | {wire} | {seen} "
            f"| {md_code(o.get('test') or '', 160)} |"
        )
    if len(mismatches) > ICS_ROWS:
        lines += ["", f"_{len(mismatches) - ICS_ROWS} more in compliance.html._"]
    return lines


def render_markdown(doc: dict, max_chars: int = 60000) -> str:
    """The comment text, never longer than `max_chars` characters."""
    head = _header(doc)
    tail = (
        _coverage(doc)
        + _ics_wire(doc)
        + ["", "_Full report: compliance.html; data: compliance.json._"]
    )
    rows = _attention_rows(doc)
    table = (
        [
            "",
            f"### Tests needing attention ({len(rows)})",
            "",
            "| test | verdict | clauses | reason |",
            "| --- | --- | --- | --- |",
        ]
        if rows
        else ["", "No test failed, erred, was inconclusive or missed a SHOULD."]
    )
    fixed = "\n".join(head + table + tail)
    note_room = 120  # the "rows omitted" note
    budget = max_chars - len(fixed) - 2 - note_room
    kept: list[str] = []
    for row in rows:
        if len(row) + 1 > budget:
            break
        kept.append(row)
        budget -= len(row) + 1
    if rows and not kept:
        table = table[:2]  # no row fits: keep the heading, drop the empty table
    body = head + table + kept
    if len(kept) < len(rows):
        body += [
            "",
            f"_{len(rows) - len(kept)} more row(s) left out to keep this comment under "
            f"{max_chars} characters; see compliance.html._",
        ]
    text = "\n".join(body + tail) + "\n"
    if len(text) > max_chars:  # even the fixed parts do not fit: cut hard, say so
        note = "\n\n_(cut to the size limit)_\n"
        text = text[: max(0, max_chars - len(note))] + note
        text = text[:max_chars]
    return text
