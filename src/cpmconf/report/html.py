"""The HTML report (`compliance.html`): one self-contained page built from the results JSON.

Owns the page a person reads after a run: a run header (command, selection, suite version and
commit, SUT addresses, profile hash, capture), a failures-first section (fail, error,
non-strict, inconclusive, linked to each test and its offending message), the verdict legend,
coverage by document, section, role and level, every clause with its verdict and the tests
that judged it, superseded clauses with their lineage, untestable clauses with their reasons,
and per test (the list filterable by verdict) its verdict, reason, findings, a ladder with a
lane per entity (`cpmconf.report.ladder`) with the offending message numbered and
highlighted, each message's full text with its capture index, the rendered stimuli and a link
to the pcap.

The page needs nothing but the file itself: styles are inline, diagrams are SVG, expanding
uses <details>, and a few lines of script only open a <details> that a link points into.
Every string taken from the document is escaped; message text comes from the SUT and must
never become markup.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from cpmconf.report._common import (
    STATES,
    TEST_VERDICTS,
    case_anchor,
    cause_label,
    clause_anchor,
    clauses_by_id,
    clean,
    coverage,
    coverage_by,
    document_files,
    ics_wire,
    legend,
    lineage,
    message_anchor,
    one_line,
    percent,
    present_states,
    run_title,
    selection,
    selection_text,
    short_test_name,
    tests_by_id,
)
from cpmconf.report.ladder import Lanes, ladder_svg, offending

__all__ = ["render_html", "clause_anchor", "case_anchor", "message_anchor", "ladder_svg"]

COLOURS = {
    "pass": "#2e7d32",
    "fail": "#c62828",
    "non-strict": "#e67e00",
    "inconclusive": "#7b1fa2",
    "not-applicable": "#607d8b",
    "error": "#3e2723",
    "not-tested": "#9e9e9e",
    "untestable": "#b0bec5",
    "superseded": "#8d6e63",
    "not-judged-passively": "#cfd8dc",
}


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b}
main{max-width:1400px;margin:0 auto;padding:0 24px 48px}
header{background:#263238;color:#fff;padding:16px 24px}
header h1{margin:0 0 6px;font-size:22px}
header table td{padding:1px 12px 1px 0;vertical-align:top}
header a{color:#b3e5fc}
h2{border-bottom:2px solid #cfd8dc;padding-bottom:4px;margin-top:36px}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #dde3e6;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eceff1}
td.n{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:8px;overflow-x:auto;white-space:pre-wrap;
word-break:break-word;margin:4px 0;font-size:12px}
code{font-size:12px}
.badge{display:inline-block;border-radius:3px;padding:0 6px;color:#fff;font-size:12px;
font-weight:600;white-space:nowrap}
.warn{background:#fff3e0;border-left:4px solid #e67e00;padding:6px 10px}
.muted{color:#607d8b}
.filters label{margin-right:14px}
.test{border:1px solid #cfd8dc;border-radius:4px;padding:4px 14px 12px;margin:18px 0}
.test h3{margin:8px 0}
body.solo header,body.solo main>*:not(#tests),body.solo #tests>h2,
body.solo .test-filter>*:not(.solo-target){display:none}
details.msg.offending>summary{background:#ffebee;border-left:4px solid #c62828}
.offending-mark{color:#c62828}
table.attention tr.v-fail td:first-child{border-left:4px solid #c62828}
.evidence{display:grid;grid-template-columns:1fr;gap:18px}
.ladder svg{max-width:100%;height:auto;border:1px solid #eceff1;background:#fff}
details>summary{cursor:pointer}
details.msg>summary,details.stim>summary{font-family:ui-monospace,monospace;font-size:12px}
.bar{display:flex;height:14px;max-width:700px;border-radius:3px;overflow:hidden;margin:6px 0}
@media (max-width:900px){.evidence{grid-template-columns:1fr}}
"""

# Opens a <details> (and those around it) when a link targets an element inside it;
# `compliance.html?test=<test anchor>` shows that one test alone (a link to share).
_SCRIPT = """
function cpmOpen(){var id=decodeURIComponent(location.hash.slice(1));
var e=id&&document.getElementById(id);while(e){if(e.tagName==='DETAILS')e.open=true;
e=e.parentElement;}}
addEventListener('hashchange',cpmOpen);addEventListener('DOMContentLoaded',cpmOpen);
function cpmSolo(){var id=new URLSearchParams(location.search).get('test');
var e=id&&document.getElementById(id);if(!e)return;e.classList.add('solo-target');
document.body.classList.add('solo');}
addEventListener('DOMContentLoaded',cpmSolo);
"""


def _esc(value: object) -> str:
    return html.escape(clean(value), quote=True)


def _state_class(state: object) -> str:
    return f"v-{state}" if state in COLOURS else "v-unknown"


def badge(state: object) -> str:
    colour = COLOURS.get(str(state), "#455a64")
    return (
        f'<span class="badge {_state_class(state)}" style="background:{colour}">'
        f"{_esc(state)}</span>"
    )


def _clause_link(cid: str) -> str:
    return f'<a href="#{clause_anchor(cid)}"><code>{_esc(cid)}</code></a>'


def _test_link(test: dict) -> str:
    return (
        f'<a href="#{case_anchor(str(test.get("id", "")))}" title="{_esc(test.get("id"))}">'
        f"{_esc(short_test_name(test))}</a>"
    )


def _safe_href(path: object) -> str | None:
    """A relative link for a stored path, or None when it is not a plain relative path."""
    if not isinstance(path, str) or not path:
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or path.startswith(("/", "\\")):
        return None
    return quote(path.replace("\\", "/"), safe="/._-~")


def _timestamp(epoch: object) -> str:
    try:
        return datetime.fromtimestamp(float(epoch), UTC).strftime("%H:%M:%S.%f")[:-3]
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def _flow(flow: object) -> str:
    if isinstance(flow, list | tuple) and len(flow) == 4:
        return f"{flow[0]}:{flow[1]} \u2192 {flow[2]}:{flow[3]}"
    return ""


# -- page sections -----------------------------------------------------------------------------


def _header(doc: dict) -> str:
    run = doc.get("run", {})
    capture = run.get("capture") or {}
    mode = capture.get("mode", "unknown")
    suite = run.get("suite") or {}
    version = f"{run.get('cpmconf_version', '?')}"
    if suite.get("commit"):
        version += f", commit {suite['commit']}"
    addresses = run.get("addresses") or {}
    rows = [
        ("target", run.get("target")),
        ("command", run.get("command")),
        ("selection", selection_text(doc) if selection(doc) is not None else "the whole suite"),
        ("SUT", run.get("sut")),
        (
            "addresses",
            ", ".join(f"{k} {v}" for k, v in addresses.items()) if addresses else None,
        ),
        ("profile", run.get("profile")),
        ("profile sha256", run.get("profile_sha256")),
        ("fault switches", ", ".join(map(str, run.get("faults") or [])) or "none"),
        ("mode", run.get("mode")),
        ("capture file", run.get("capture_file")),
        ("capture", f"{mode}: {capture.get('reason', '')}".rstrip(": ")),
        ("started", run.get("started")),
        ("finished", run.get("finished")),
        ("cpmconf", f"{version} (results schema {doc.get('schema')})"),
    ]
    out = [f'<header><h1>cpmconf compliance report: {_esc(run_title(doc))}</h1><table id="run">']
    out += [
        f'<tr class="run-{_esc(k.replace(" ", "-"))}"><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>'
        for k, v in rows
        if v is not None
    ]
    out.append("</table>")
    out.append(
        '<p><a href="#attention">needs attention</a> \u00b7 <a href="#summary">summary</a> \u00b7 '
        + ('<a href="#ics-wire">ICS vs wire</a> \u00b7 ' if ics_wire(doc) is not None else "")
        + '<a href="#clauses">clauses</a> \u00b7 '
        '<a href="#superseded">superseded</a> \u00b7 <a href="#untestable">untestable</a> '
        '\u00b7 <a href="#tests">tests</a></p></header>'
    )
    return "\n".join(out)


def _attention(doc: dict) -> str:
    """Failures first: every test to act on (fail, error, non-strict, inconclusive), with its
    clauses, the first line of its reason and a link to its offending message."""
    order = ["fail", "error", "non-strict", "inconclusive"]
    tests = [t for v in order for t in doc.get("tests", []) if t.get("verdict") == v]
    if not tests:
        return (
            '<section id="attention"><h2>Needs attention</h2>'
            '<p id="attention-none">Nothing: no test failed, erred, missed a SHOULD or was '
            "inconclusive.</p></section>"
        )
    rows = []
    for t in tests:
        tid = str(t.get("id", ""))
        messages = [
            m for m in (t.get("evidence") or {}).get("messages") or [] if isinstance(m, dict)
        ]
        bad = sorted(offending(t, messages))
        link = ""
        if bad:
            anchor = message_anchor(tid, messages[bad[0]].get("index", bad[0]))
            link = f'<a class="offending-link" href="#{anchor}">message #{bad[0] + 1}</a>'

        cv = t.get("clause_verdicts") or {}
        worst = [c for c in t.get("clauses") or [] if cv.get(c) == t.get("verdict")]
        reason = one_line(str(t.get("reason") or "").split("\n", 1)[0], 200)
        rows.append(
            f'<tr class="{_state_class(t.get("verdict"))}">'
            f"<td>{badge(t.get('verdict'))}{_cause(t)}</td>"
            f"<td>{_test_link(t)}</td>"
            f"<td>{', '.join(_clause_link(c) for c in worst or t.get('clauses') or [])}</td>"
            f"<td>{_esc(reason)}</td><td>{link}</td></tr>"
        )
    counts = ", ".join(
        f"{n} {v}" for v in order if (n := sum(1 for t in tests if t.get("verdict") == v))
    )
    return (
        f'<section id="attention"><h2>Needs attention ({_esc(counts)})</h2>'
        '<table class="attention"><tr><th>verdict</th><th>test</th><th>clause</th>'
        f"<th>reason</th><th>evidence</th></tr>{''.join(rows)}</table></section>"
    )


def _capture_warning(doc: dict) -> str:
    capture = doc.get("run", {}).get("capture") or {}
    mode = capture.get("mode", "unknown")
    if mode in ("sniffer", "pcap"):  # pcap: a stored capture, judged offline
        return ""
    return (
        f'<p class="warn" id="capture-warning">Capture mode is <b>{_esc(mode)}</b>, not the raw '
        "sniffer: verdicts rest on the test system's own record of what it sent and received. "
        f"{_esc(capture.get('reason', ''))}</p>"
    )


def _legend() -> str:
    rows = "".join(f"<tr><td>{badge(s)}</td><td>{_esc(m)}</td></tr>" for s, m in legend())
    return f'<section id="legend"><h2>Verdicts</h2><table>{rows}</table></section>'


def _bar(counts: dict) -> str:
    total = sum(counts.get(s, 0) for s in STATES)
    if not total:
        return ""
    cells = "".join(
        f'<span title="{_esc(s)}: {counts[s]}" style="flex:{counts[s]};'
        f'background:{COLOURS[s]}"></span>'
        for s in STATES
        if counts.get(s)
    )
    return f'<div class="bar">{cells}</div>'


def _coverage_table(
    title: str,
    groups: dict[str, dict],
    open_: bool,
    states: list[str] = STATES,
    files: dict[str, str] | None = None,
) -> str:
    head = "".join(f"<th>{badge(s)}</th>" for s in states)
    rows = []
    for name, c in groups.items():
        cells = "".join(f'<td class="n">{c[s] or ""}</td>' for s in states)
        file = (files or {}).get(name)
        detail = (
            f' <span class="muted doc-file">({_esc(file)})</span>' if file and file != name else ""
        )
        rows.append(
            f"<tr><td>{_esc(name)}{detail}</td><td class=n>{c['total']}</td>"
            f"<td class=n>{c['testable']}</td><td class=n>{c['tested']}</td>"
            f"<td class=n>{c['judged']}</td>"
            f"<td class=n>{percent(c['judged'], c['testable'])}</td>{cells}</tr>"
        )
    return (
        f"<details{' open' if open_ else ''}><summary><b>{_esc(title)}</b></summary>"
        f"<table><tr><th>{_esc(title.split()[-1])}</th><th>clauses</th><th>testable</th>"
        f"<th>tested</th><th>judged</th><th>judged / testable</th>{head}</tr>"
        f"{''.join(rows)}</table></details>"
    )


def _summary(doc: dict) -> str:
    tests = doc.get("tests", [])
    clauses = doc.get("clauses", [])
    tcounts = {v: 0 for v in TEST_VERDICTS}
    for t in tests:
        tcounts[t.get("verdict")] = tcounts.get(t.get("verdict"), 0) + 1
    chosen = selection(doc)
    cov = coverage(clauses, chosen)
    shown = present_states(clauses)
    test_badges = " ".join(f"{badge(v)} {n}" for v, n in tcounts.items() if n)
    clause_badges = " ".join(f"{badge(s)} {cov[s]}" for s in STATES if cov[s])
    of = "selected testable" if chosen is not None else "testable"
    out = [
        '<section id="summary"><h2>Summary</h2>',
        f'<p><b>Test cases:</b> <span id="tests-total">{len(tests)}</span> &mdash; '
        f"{test_badges or 'none'}</p>",
        f'<p><b>Clauses:</b> <span id="clauses-total">{cov["total"]}</span> &mdash; '
        f"{clause_badges or 'none'}</p>",
        _bar(cov),
        f'<p id="coverage"><b>Coverage:</b> <span id="clauses-judged">{cov["judged"]}</span> '
        f'judged (pass, fail or non-strict) and <span id="clauses-tested">{cov["tested"]}'
        f'</span> tested of <span id="clauses-testable">{cov["testable"]}</span> {of} '
        f"clauses ({percent(cov['judged'], cov['testable'])} judged); "
        f'<span id="clauses-untestable">{cov["untestable"]}</span> untestable, '
        f'<span id="clauses-superseded">{cov["superseded"]}</span> superseded.</p>',
    ]
    if chosen is not None:
        out.append(
            f'<p class="warn" id="selection">Narrowed run: {_esc(selection_text(doc))}.'
            " Coverage counts only the clauses the selected tests claim.</p>"
        )
    out += [
        _coverage_table(
            "By document", coverage_by(doc, "document"), True, shown, document_files(doc)
        ),
        _coverage_table("By section", coverage_by(doc, "section"), False, shown),
        _coverage_table("By role", coverage_by(doc, "role"), False, shown),
        _coverage_table("By level", coverage_by(doc, "level"), True, shown),
        "</section>",
    ]
    return "\n".join(out)


def _ics_wire(doc: dict) -> str:
    section = ics_wire(doc)
    if section is None:
        return ""
    mismatches = section.get("mismatches") or []
    observed = section.get("observations") or []
    out = [
        '<section id="ics-wire"><h2>ICS vs wire</h2>',
        f"<p>The profile claims {len(section.get('claims') or [])} ICS item(s); "
        f"{len(observed)} distinct observation(s) of the SUT's own messages were set against "
        "them (REGISTER Contact ICSIs, Allow, Accept, answers to large-mode and deferred "
        "requests).</p>",
    ]
    if not mismatches:
        out.append('<p id="ics-wire-none">No mismatch between the ICS and the wire.</p>')
    else:
        rows = "".join(_ics_row(o) for o in mismatches)
        out.append(
            f'<p class="warn"><b>{len(mismatches)} mismatch(es)</b> between the ICS and what '
            "the SUT showed on the wire.</p><table><tr><th>ICS item</th><th>ICS</th>"
            "<th>wire</th><th>observation</th><th>first seen in</th><th>excerpt</th></tr>"
            f"{rows}</table>"
        )
    out.append("</section>")
    return "\n".join(out)


def _ics_row(o: dict) -> str:
    times = o.get("count") if isinstance(o.get("count"), int) else 1
    seen = f" (seen {times} times)" if times > 1 else ""
    return (
        f'<tr class="ics-mismatch"><td>{_esc(o.get("item"))}</td>'
        f"<td>{'claimed' if o.get('claimed') else 'not claimed'}</td>"
        f"<td>{'shown' if o.get('wire') else 'contradicted'}</td>"
        f"<td>{_esc(o.get('source'))}: {_esc(o.get('detail'))}{_esc(seen)}</td>"
        f"<td>{_test_link_id(o.get('test'))}</td>"
        f"<td><code>{_esc(one_line(o.get('excerpt'), 200))}</code></td></tr>"
    )


def _test_link_id(test_id: object) -> str:
    if not test_id:
        return ""
    return f'<a href="#{case_anchor(str(test_id))}">{_esc(short_test_name({"id": test_id}))}</a>'


def _clause_table(doc: dict) -> str:
    clauses = doc.get("clauses", [])
    by_id = clauses_by_id(doc)
    tests = tests_by_id(doc)
    present = [s for s in STATES if any(c.get("verdict") == s for c in clauses)]
    filters = "".join(
        f'<input type="checkbox" id="hide-{s}" class="hide">'
        f'<label for="hide-{s}">hide {_esc(s)}</label>'
        for s in present
    )
    rows = []
    for c in clauses:
        cid = str(c.get("id", ""))
        summary = _esc(c.get("summary"))
        if c.get("superseded_by"):
            gov = c.get("governed_by") or c.get("superseded_by")
            gov_state = by_id.get(gov, {}).get("verdict")
            summary += (
                f'<br><span class="muted">superseded by {_clause_link(c["superseded_by"])}'
                + (f"; governed by {_clause_link(gov)}" if gov != c["superseded_by"] else "")
                + (f" {badge(gov_state)}" if gov_state else "")
                + "</span>"
            )
        if c.get("verdict") == "untestable" and c.get("reason"):
            summary += f'<br><span class="muted">untestable: {_esc(c["reason"])}</span>'
        links = ", ".join(
            _test_link(tests.get(tid, {"id": tid, "name": str(tid).rsplit("::", 1)[-1]}))
            for tid in c.get("tests") or []
        )
        rows.append(
            f'<tr id="{clause_anchor(cid)}" class="{_state_class(c.get("verdict"))}">'
            f'<td><a href="#{clause_anchor(cid)}"><code>{_esc(cid)}</code></a></td>'
            f"<td>{_esc(c.get('section'))}</td><td>{_esc(c.get('level'))}</td>"
            f"<td>{_esc(c.get('role'))}</td><td>{summary}</td>"
            f"<td>{badge(c.get('verdict'))}</td><td>{links}</td></tr>"
        )
    return (
        f'<section id="clauses"><h2>Clauses ({len(clauses)})</h2>'
        f'<div class="filters">{filters}'
        '<table class="clauses"><tr><th>clause</th><th>section</th><th>level</th><th>role</th>'
        f"<th>summary</th><th>verdict</th><th>tests</th></tr>{''.join(rows)}</table></div>"
        "</section>"
    )


def _superseded(doc: dict) -> str:
    by_id = clauses_by_id(doc)
    rows = []
    for c in doc.get("clauses", []):
        if not c.get("superseded_by"):
            continue
        chain = lineage(by_id, str(c.get("id", "")))
        gov = chain[-1]
        rows.append(
            f"<tr><td>{_clause_link(chain[0])}</td><td>{_esc(c.get('level'))}</td>"
            f"<td>{_esc(c.get('summary'))}</td>"
            f"<td>{' &rarr; '.join(_clause_link(x) for x in chain)}</td>"
            f"<td>{badge(c.get('verdict'))}</td>"
            f"<td>{badge(by_id[gov]['verdict']) if gov in by_id else ''}</td></tr>"
        )
    body = (
        "<table><tr><th>clause</th><th>level</th><th>summary</th><th>lineage</th>"
        f"<th>own state</th><th>governing verdict</th></tr>{''.join(rows)}</table>"
        if rows
        else "<p>None.</p>"
    )
    return (
        f'<section id="superseded"><h2>Superseded clauses ({len(rows)})</h2>'
        "<p>An earlier draft's entry and the later entries that govern the same behaviour; the "
        f"last entry of each lineage is the one judged.</p>{body}</section>"
    )


def _untestable(doc: dict) -> str:
    rows = [
        f"<tr><td>{_clause_link(str(c.get('id', '')))}</td><td>{_esc(c.get('section'))}</td>"
        f"<td>{_esc(c.get('level'))}</td><td>{_esc(c.get('role'))}</td>"
        f"<td>{_esc(c.get('summary'))}</td><td>{_esc(c.get('reason'))}</td></tr>"
        for c in doc.get("clauses", [])
        if not c.get("testable", True) and not c.get("superseded_by")
    ]
    body = (
        "<table><tr><th>clause</th><th>section</th><th>level</th><th>role</th><th>summary</th>"
        f"<th>why it cannot be judged on the wire</th></tr>{''.join(rows)}</table>"
        if rows
        else "<p>None.</p>"
    )
    return f'<section id="untestable"><h2>Untestable clauses ({len(rows)})</h2>{body}</section>'


# -- per test ---------------------------------------------------------------------------------


def _messages(doc: dict, test: dict, messages: list[dict], pcap: str | None) -> str:
    test_id = str(test.get("id", ""))
    arrows = Lanes(doc.get("run") or {}).arrows(messages)
    bad = offending(test, messages)
    out = []
    for row, (m, a) in enumerate(zip(messages, arrows, strict=True)):
        index = m.get("index", row)
        text = clean(m.get("text") or "").replace("\r\n", "\n")
        mark = '<b class="offending-mark">\u26a0 offending</b> ' if row in bad else ""
        where = (
            f' <a class="pcap-frame" href="{pcap}" title="capture index {_esc(index)} in the '
            f'pcap">pcap</a>'
            if pcap
            else ""
        )
        out.append(
            f'<details class="msg{" offending" if row in bad else ""}" '
            f'id="{message_anchor(test_id, index)}"{" open" if row in bad else ""}><summary>'
            f"{mark}#{row + 1} {_esc(_timestamp(m.get('time')))} "
            f"{_esc(a['src'])} \u2192 {_esc(a['dst'])} "
            f"[{_esc(m.get('transport', ''))}] {_esc(one_line(m.get('summary'), 120))} "
            f'<span class="muted">{_esc(_flow(m.get("flow")))}, capture index {_esc(index)}'
            f"</span>{where}"
            f"</summary><pre>{html.escape(text)}</pre></details>"
        )
    return "".join(out)


def _stimuli(stimuli: list[dict]) -> str:
    if not stimuli:
        return '<p class="muted">No stimuli rendered.</p>'
    out = []
    for s in stimuli:
        clauses = ", ".join(_clause_link(c) for c in s.get("clauses") or [])
        text = clean(s.get("text") or "").replace("\r\n", "\n")
        out.append(
            f'<details class="stim"><summary>{_esc(s.get("template", "?"))}</summary>'
            f'<p class="muted">embodies {clauses or "no clauses"}</p>'
            f"<pre>{html.escape(text)}</pre></details>"
        )
    return "".join(out)


def _findings(findings: list[dict]) -> str:
    if not findings:
        return ""
    rows = []
    for f in findings:
        message = (
            f"<details><summary>message excerpt</summary><pre>"
            f"{html.escape(clean(f['message']))}</pre></details>"
            if f.get("message")
            else ""
        )
        note = f'<br><span class="muted">note: {_esc(f["note"])}</span>' if f.get("note") else ""
        rows.append(
            f"<tr><td>{_clause_link(str(f.get('clause', '')))}</td><td>{_esc(f.get('level'))}</td>"
            f"<td>{badge(f.get('verdict'))}</td><td>{_esc(f.get('expected'))}</td>"
            f"<td>{_esc(f.get('actual'))}{note}{message}</td></tr>"
        )
    return (
        "<h4>Findings</h4><table class=findings><tr><th>clause</th><th>level</th><th>verdict</th>"
        f"<th>expected</th><th>actual</th></tr>{''.join(rows)}</table>"
    )


def _cause(test: dict) -> str:
    """The cause label of an inconclusive test ("Out of time", "Refused", ...), if any."""
    label = cause_label(test)
    if not label or label.lower() == str(test.get("verdict")):
        return ""
    return f' <span class="muted cause">{_esc(label)}</span>'


def _test(doc: dict, test: dict) -> str:
    tid = str(test.get("id", ""))
    evidence = test.get("evidence") or {}
    messages = [m for m in evidence.get("messages") or [] if isinstance(m, dict)]
    cverdicts = test.get("clause_verdicts") or {}
    clauses = ", ".join(
        _clause_link(c) + (f" {badge(cverdicts[c])}" if c in cverdicts else "")
        for c in test.get("clauses") or []
    )
    duration = test.get("duration")
    out = [
        f'<article class="test {_state_class(test.get("verdict"))}" id="{case_anchor(tid)}">',
        f"<h3>{badge(test.get('verdict'))}{_cause(test)} {_esc(short_test_name(test))}</h3>",
        f'<p class="muted"><code>{_esc(tid)}</code>'
        + (f" &middot; {_esc(duration)} s" if duration is not None else "")
        + "</p>",
        f"<p>clauses: {clauses or 'none'}</p>",
    ]
    if test.get("reason"):
        out.append(f"<h4>Reason</h4><pre class=reason>{html.escape(clean(test['reason']))}</pre>")
    out.append(_findings(test.get("findings") or []))
    href = _safe_href(evidence.get("pcap"))
    if href:
        pcap = f'<a class="pcap" href="{href}">{_esc(evidence["pcap"])}</a>'
    elif evidence.get("pcap"):
        pcap = f"<code>{_esc(evidence['pcap'])}</code>"
    else:
        pcap = '<span class="muted">none</span>'
    ladder = (
        f'<div class="ladder">{ladder_svg(doc, test, messages)}</div>'
        f"{_messages(doc, test, messages, href)}"
        if messages
        else '<p class="muted">No messages captured.</p>'
    )
    out.append(
        f'<h4>Evidence</h4><p>capture file: {pcap}</p><div class="evidence">'
        f"<div><h5>Captured messages ({len(messages)})</h5>{ladder}</div>"
        f"<div><h5>Stimuli</h5>{_stimuli(evidence.get('stimuli') or [])}</div></div>"
    )
    notes = evidence.get("notes") or []
    if notes:
        out.append("<h5>Notes</h5><ul>" + "".join(f"<li>{_esc(n)}</li>" for n in notes) + "</ul>")
    out.append("</article>")
    return "\n".join(out)


def _tests(doc: dict) -> str:
    tests = doc.get("tests", [])
    index = "".join(
        f'<tr class="{_state_class(t.get("verdict"))}"><td>{_test_link(t)}</td>'
        f"<td>{badge(t.get('verdict'))}{_cause(t)}</td>"
        f"<td>{', '.join(_clause_link(c) for c in t.get('clauses') or [])}</td>"
        f"<td>{_esc(one_line(t.get('reason'), 160))}</td></tr>"
        for t in tests
    )
    present = [v for v in TEST_VERDICTS if any(t.get("verdict") == v for t in tests)]
    filters = "".join(
        f'<input type="checkbox" id="test-hide-{v}" class="hide">'
        f'<label for="test-hide-{v}">hide {_esc(v)} '
        f"({sum(1 for t in tests if t.get('verdict') == v)})</label>"
        for v in present
    )
    return (
        f'<section id="tests"><h2>Test cases ({len(tests)})</h2>'
        f'<div class="filters test-filter">{filters}'
        '<table class="tests"><tr><th>test</th><th>verdict</th><th>clauses</th><th>reason</th></tr>'
        f"{index}</table>{''.join(_test(doc, t) for t in tests)}</div></section>"
    )


def render_html(doc: dict) -> str:
    """The whole report page for one results document."""
    hide_rules = "".join(f"#hide-{s}:checked~table tr.v-{s}{{display:none}}" for s in STATES)
    hide_rules += "".join(
        f"#test-hide-{v}:checked~table tr.v-{v},#test-hide-{v}:checked~article.v-{v}"
        "{display:none}"
        for v in TEST_VERDICTS
    )
    title = f"cpmconf: {run_title(doc)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{_CSS}{hide_rules}</style>",
        f"<script>{_SCRIPT}</script></head><body>",
        _header(doc),
        "<main>",
        _capture_warning(doc),
        _attention(doc),
        _legend(),
        _summary(doc),
        _ics_wire(doc),
        _clause_table(doc),
        _superseded(doc),
        _untestable(doc),
        _tests(doc),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"
