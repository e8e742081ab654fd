"""The interoperability matrix: several runs side by side, one column per SUT.

Owns comparing results documents: one row per clause (in catalogue order, the union over the
runs), one column per run named by its target (numbered when a target appears twice), each
cell the clause's verdict in that run, linked to that run's HTML report at the clause's row.
Columns are labelled by target, fault switches and start date; `diff` keeps only the rows
whose verdict differs between runs. Available as a self-contained HTML page and as a
Markdown table.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from cpmconf.report._common import (
    STATES,
    clause_anchor,
    clean,
    coverage,
    percent,
    run_title,
    selection,
)
from cpmconf.report.html import COLOURS, badge
from cpmconf.report.markdown import md_code, md_text


def column_names(docs: list[dict]) -> list[str]:
    """Each run as target, fault switches and start date ("refsut-embedded, fault
    pf.no-415, 2026-12-03 16:12"), with "#2", "#3" ... appended when that still repeats."""
    titles = [column_label(d) for d in docs]
    seen: dict[str, int] = {}
    names = []
    for t in titles:
        seen[t] = seen.get(t, 0) + 1
        names.append(t if titles.count(t) == 1 else f"{t} #{seen[t]}")
    return names


def column_label(doc: dict) -> str:
    run = doc.get("run", {})
    faults = [str(f) for f in run.get("faults") or []]
    parts = [run_title(doc)]
    parts.append(("fault " + " ".join(faults)) if faults else "no fault")
    started = clean(run.get("started"))
    if started:
        parts.append(started[:16].replace("T", " "))
    return ", ".join(parts)


def differing(docs: list[dict]) -> set[str]:
    """Clause ids whose state is not the same in every run (absent counts as a state)."""
    out = set()
    for c, cells in _rows(docs):
        states = {None if e is None else e.get("verdict") for e in cells}
        if len(states) > 1:
            out.add(str(c.get("id", "")))
    return out


def _check(docs: list[dict], links: list[str]) -> None:
    if len(docs) != len(links):
        raise ValueError(f"{len(docs)} results document(s) but {len(links)} link(s)")


def _rows(docs: list[dict]) -> list[tuple[dict, list[dict | None]]]:
    """(first-seen clause entry, that clause in each run or None), in first-seen order."""
    order: dict[str, dict] = {}
    per_doc = []
    for d in docs:
        index = {}
        for c in d.get("clauses", []):
            cid = str(c.get("id", ""))
            order.setdefault(cid, c)
            index[cid] = c
        per_doc.append(index)
    return [(c, [index.get(cid) for index in per_doc]) for cid, c in order.items()]


def cell_link(link: str, clause_id: str) -> str:
    """The address of a clause's row in a run's compliance.html."""
    return f"{link}#{clause_anchor(clause_id)}"


def _href(link: str, clause_id: str) -> str:
    # Keep the caller's path readable but never let it break out of the attribute.
    return html.escape(quote(cell_link(clean(link), clause_id), safe="/:#._-~%?=&"), quote=True)


def _covered(doc: dict) -> str:
    """Judged of testable clauses, as in the run's own reports (`_common.coverage`)."""
    cov = coverage(doc.get("clauses", []), selection(doc))
    return f"{cov['judged']}/{cov['testable']} ({percent(cov['judged'], cov['testable'])})"


def render_matrix_html(docs: list[dict], links: list[str], diff: bool = False) -> str:
    _check(docs, links)
    keep = differing(docs) if diff else None
    names = column_names(docs)
    head = "".join(
        f'<th title="{html.escape(clean(d.get("run", {}).get("started")))}">'
        f'<a href="{html.escape(quote(clean(link), safe="/:#._-~%?=&"), quote=True)}">'
        f"{html.escape(name)}</a></th>"
        for d, name, link in zip(docs, names, links, strict=True)
    )
    totals = "".join(
        f"<td>{' '.join(f'{badge(s)} {n}' for s in STATES if (n := _count(d, s)))}"
        f"<br>judged {_covered(d)}</td>"
        for d in docs
    )
    body = []
    for c, cells in _rows(docs):
        cid = str(c.get("id", ""))
        if keep is not None and cid not in keep:
            continue
        tds = []
        for entry, link in zip(cells, links, strict=True):
            if entry is None:
                tds.append('<td class="absent">&mdash;</td>')
                continue
            state = entry.get("verdict")
            colour = COLOURS.get(str(state), "#455a64")
            tds.append(
                f'<td style="border-left:4px solid {colour}">'
                f'<a href="{_href(link, cid)}">{html.escape(clean(state))}</a></td>'
            )
        body.append(
            f"<tr><td><code>{html.escape(clean(cid))}</code></td>"
            f"<td>{html.escape(clean(c.get('level')))}</td>"
            f"<td>{html.escape(clean(c.get('summary')))}</td>{''.join(tds)}</tr>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>cpmconf interoperability matrix</title><style>"
        "body{font:13px/1.4 system-ui,sans-serif;margin:16px}"
        "table{border-collapse:collapse}th,td{border:1px solid #dde3e6;padding:2px 6px;"
        "vertical-align:top;text-align:left}th{background:#eceff1;position:sticky;top:0}"
        ".badge{display:inline-block;border-radius:3px;padding:0 5px;color:#fff;font-size:11px}"
        "td.absent{color:#b0bec5}</style></head><body>"
        f"<h1>cpmconf interoperability matrix ({len(docs)} runs)</h1>"
        + (
            f'<p id="diff">Only the {len(keep)} clause(s) whose verdict differs between runs.</p>'
            if keep is not None
            else ""
        )
        + f'<table id="matrix"><tr><th>clause</th><th>level</th><th>summary</th>{head}</tr>'
        f'<tr class="totals"><td colspan="3">totals</td>{totals}</tr>'
        f"{''.join(body)}</table></body></html>\n"
    )


def _count(doc: dict, state: str) -> int:
    return sum(1 for c in doc.get("clauses", []) if c.get("verdict") == state)


def _md_link(text: str, url: str) -> str:
    safe = quote(clean(url), safe="/:#._-~%?=&")
    return f"[{md_text(text)}]({safe})"


def render_matrix_markdown(docs: list[dict], links: list[str], diff: bool = False) -> str:
    _check(docs, links)
    names = column_names(docs)
    keep = differing(docs) if diff else None
    lines = [
        f"# cpmconf interoperability matrix ({len(docs)} runs)",
        "",
        *(
            [f"Only the {len(keep)} clause(s) whose verdict differs between runs.", ""]
            if keep is not None
            else []
        ),
        "| clause | level | "
        + " | ".join(_md_link(n, u) for n, u in zip(names, links, strict=True))
        + " |",
        "| --- | --- | " + " | ".join("---" for _ in docs) + " |",
        "| **judged** | | " + " | ".join(_covered(d) for d in docs) + " |",
        "| **fail** | | " + " | ".join(str(_count(d, "fail")) for d in docs) + " |",
    ]
    for c, cells in _rows(docs):
        cid = str(c.get("id", ""))
        if keep is not None and cid not in keep:
            continue
        row = [
            "\u2014" if e is None else _md_link(str(e.get("verdict")), cell_link(link, cid))
            for e, link in zip(cells, links, strict=True)
        ]
        lines.append(
            f"| {md_code(cid, 80)} | {md_text(c.get('level'))} | " + " | ".join(row) + " |"
        )
    return "\n".join(lines) + "\n"
