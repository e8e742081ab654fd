"""The verdict-faithful JUnit XML, built from the results JSON.

Owns the mapping of the six verdicts onto JUnit's four outcomes: fail becomes <failure>,
error becomes <error>, inconclusive and not-applicable become <skipped> with the verdict
named in the message, and non-strict either passes (with the reason in <system-out>) or
becomes a <failure>, as the caller chooses. Every test case carries its clause ids, verdict
and per-clause verdicts as properties; the suite carries the run's target and capture mode.

pytest's own junit.xml reflects pytest outcomes; this one reflects the verdicts as judged.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from cpmconf.report._common import clean, run_title

MESSAGE_CHARS = 500


def _classname_and_name(test: dict) -> tuple[str, str]:
    """pytest's convention: dotted module path (plus classes) and the function name."""
    tid = str(test.get("id", ""))
    parts = tid.split("::")
    module = parts[0].removesuffix(".py").replace("/", ".").replace("\\", ".")
    if len(parts) == 1:
        return module, str(test.get("name") or tid)
    return ".".join([module, *parts[1:-1]]), parts[-1]


def _first_line(text: str) -> str:
    line = next((x for x in text.splitlines() if x.strip()), "")
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 1] + "\u2026"


def _details(test: dict) -> str:
    """The reason followed by every finding that did not pass."""
    out = [clean(test.get("reason") or "")]
    for f in test.get("findings") or []:
        if f.get("verdict") == "pass":
            continue
        out.append(
            f"\n[{clean(f.get('verdict'))}] {clean(f.get('clause'))} ({clean(f.get('level'))})\n"
            f"  expected: {clean(f.get('expected'))}\n  actual:   {clean(f.get('actual'))}"
        )
    return "\n".join(x for x in out if x).strip()


def _property(parent: ET.Element, name: str, value: object) -> None:
    ET.SubElement(parent, "property", name=name, value=clean(value))


def render_junit(doc: dict, non_strict: str = "pass") -> str:
    """JUnit XML text; `non_strict` is "pass" (the default) or "fail"."""
    if non_strict not in ("pass", "fail"):
        raise ValueError(f"non_strict must be 'pass' or 'fail', not {non_strict!r}")
    run = doc.get("run", {})
    tests = doc.get("tests", [])
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0

    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", name=f"cpmconf {run_title(doc)}")
    props = ET.SubElement(suite, "properties")
    capture = run.get("capture") or {}
    for name, value in (
        ("target", run.get("target")),
        ("sut", run.get("sut")),
        ("profile", run.get("profile")),
        ("faults", ", ".join(map(str, run.get("faults") or []))),
        ("capture", capture.get("mode")),
        ("capture_reason", capture.get("reason")),
        ("cpmconf_version", run.get("cpmconf_version")),
        ("schema", doc.get("schema")),
    ):
        if value not in (None, ""):
            _property(props, name, value)

    for t in tests:
        classname, name = _classname_and_name(t)
        duration = t.get("duration")
        seconds = float(duration) if isinstance(duration, int | float) else 0.0
        total_time += seconds
        case = ET.SubElement(
            suite, "testcase", classname=clean(classname), name=clean(name), time=f"{seconds:.3f}"
        )
        cprops = ET.SubElement(case, "properties")
        verdict = str(t.get("verdict"))
        _property(cprops, "verdict", verdict)
        for cid in t.get("clauses") or []:
            _property(cprops, "clause", cid)
        for cid, v in (t.get("clause_verdicts") or {}).items():
            _property(cprops, f"clause_verdict:{clean(cid)}", v)
        pcap = (t.get("evidence") or {}).get("pcap")
        if pcap:
            _property(cprops, "pcap", pcap)

        details = _details(t)
        if verdict == "fail" or (verdict == "non-strict" and non_strict == "fail"):
            counts["failures"] += 1
            el = ET.SubElement(
                case, "failure", message=f"{verdict}: {_first_line(details)}", type=verdict
            )
            el.text = details
        elif verdict == "error":
            counts["errors"] += 1
            el = ET.SubElement(case, "error", message=_first_line(details), type="error")
            el.text = details
        elif verdict in ("inconclusive", "not-applicable"):
            counts["skipped"] += 1
            el = ET.SubElement(
                case, "skipped", message=f"{verdict}: {_first_line(details)}", type=verdict
            )
            el.text = details
        elif verdict == "non-strict":
            out = ET.SubElement(case, "system-out")
            out.text = f"non-strict (a SHOULD was not followed; not a failure):\n{details}"

    suite.set("tests", str(len(tests)))
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{total_time:.3f}")
    if run.get("started"):
        suite.set("timestamp", clean(run["started"]))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
