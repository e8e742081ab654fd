"""No SDP or MSRP text written by hand outside the codec and the reference SUT.

Every stimulus the test system sends comes from a template under `scenarios/` (rendered by
`cpmconf.roles.stimulus`) or from the codec; the reference SUT writes its own wire text on
purpose. This self-test reads the Python of the harness (`src/` but the codec, `src/refsut`
and `src/chaos`, so the steps in `src/cpmconf/procedures` too; `testcases/`, `fixtures/`)
and fails on

* a string that starts an SDP session description (a ``v=0`` line) or an MSRP start line
  (``MSRP <transaction> SEND|REPORT|<status>``), f-strings included; docstrings and
  comments are prose and not read;
* a call of a codec builder that makes a stimulus body or MSRP message (`build_sdp`,
  `build_request`, `chunk`, ...) instead of the template that renders the same bytes.

No place is excepted (issue 15 item 1): a valid SDP offer or answer, resource list,
multipart body or MSRP message comes from its template, and input broken on purpose from a
template under `scenarios/robustness/`.
"""

from __future__ import annotations

import ast
import re

from cpmconf.catalogue import REPO_ROOT

ROOTS = ("src", "testcases", "fixtures")
# The codec writes the wire; the reference SUT and the chaos proxy (which breaks messages on
# purpose) write their own.
EXEMPT = ("src/cpmconf/codec/", "src/refsut/", "src/chaos/")
SDP_START = re.compile(r"(?:\A|\n)v=0(?:\r|\n|\Z)")
MSRP_START = re.compile(
    r"(?:\A|\n)MSRP (?:\{[^}]*\}|[A-Za-z0-9.+%=-]+) (?:SEND|REPORT|[0-9]{3}|\{[^}]*\})"
)


# Codec builders of stimuli and the templates that replace them (cpmconf.roles.stimulus).
BUILDERS = {
    "build_sdp": "sdp/offer.sdp.j2 or sdp/answer.sdp.j2 (Templates.render_body)",
    "build_request": "msrp/send.msrp.j2 (Templates.render_msrp)",
    "build_response": "msrp/response.msrp.j2 (Templates.msrp_response)",
    "build_report": "msrp/report.msrp.j2 (Templates.msrp_report)",
    "chunk": "msrp/send.msrp.j2 (Templates.msrp_chunks)",
}
BUILD_METHODS = {  # Class.build(...)
    "RegInfo": "bodies/reginfo.xml.j2",
    "ResourceList": "bodies/resource_lists.xml.j2",
    "CpimMessage": "bodies/cpim.j2",
    "SessionDescription": "sdp/offer.sdp.j2",
}


def builder_calls(source: str) -> list[tuple[int, str]]:
    """(line, builder) of each call of a codec stimulus builder in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in BUILDERS:
            found.append((node.lineno, f.id))
        elif isinstance(f, ast.Attribute) and f.attr in BUILDERS:
            found.append((node.lineno, f.attr))
        elif (
            isinstance(f, ast.Attribute)
            and f.attr == "build"
            and isinstance(f.value, ast.Name)
            and f.value.id in BUILD_METHODS
        ):
            found.append((node.lineno, f"{f.value.id}.build"))
    return sorted(found)


def _text(node: ast.AST) -> str | None:
    """The text a string node writes, an f-string's fields as `{expr}`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        v = node.value
        return v.decode("latin-1") if isinstance(v, bytes) else v
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
            for v in node.values
        )
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        kinds = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        if isinstance(node, kinds) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def offenders(source: str) -> list[tuple[int, str]]:
    """(line, excerpt) of each string in `source` that writes an SDP or MSRP start."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    # The pieces of an f-string are read as part of it, not alone.
    skip |= {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        text = _text(node)
        if text and (SDP_START.search(text) or MSRP_START.search(text)):
            found.append((node.lineno, text[:60]))
    return sorted(found)


def scanned() -> list[str]:
    """The files the scans read, relative to the repository."""
    out = []
    for root in ROOTS:
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            rel = path.relative_to(REPO_ROOT).as_posix()
            if not rel.startswith(EXEMPT) and ".egg-info" not in rel:
                out.append(rel)
    return out


def scan(find=None) -> dict[str, list[tuple[int, str]]]:
    find = find or offenders
    out = {}
    for rel in scanned():
        found = find((REPO_ROOT / rel).read_text(encoding="utf-8"))
        if found:
            out[rel] = found
    return out


def test_no_handwritten_sdp_or_msrp_outside_the_codec_and_refsut():
    found = scan()
    assert not found, (
        "SDP or MSRP written by hand; render it from a template under scenarios/ "
        f"(cpmconf.roles.stimulus) instead: {found}"
    )


def test_no_codec_builder_makes_a_stimulus_outside_the_codec_and_refsut():
    found = scan(builder_calls)
    assert not found, (
        f"a codec builder makes a stimulus; render its template instead ({BUILDERS}, "
        f"{BUILD_METHODS}): {found}"
    )


def test_the_scans_read_the_steps_the_cases_and_the_fixtures():
    files = scanned()
    for where in ("src/cpmconf/procedures/", "src/cpmconf/roles/", "testcases/", "fixtures/"):
        assert any(f.startswith(where) for f in files), where
    assert "src/cpmconf/procedures/pf_deferred.py" in files
    assert not any(f.startswith(EXEMPT) for f in files)


def test_the_builder_scan_sees_each_form():
    src = (
        "a = build_sdp(host=h)\n"
        "b = msrp.chunk(body, 10)\n"
        "c = RegInfo.build(0, [])\n"
        "d = chunk_size(3)\n"
        "e = Other.build()\n"
    )
    assert builder_calls(src) == [(1, "build_sdp"), (2, "chunk"), (3, "RegInfo.build")]


def test_the_scan_sees_each_form():
    src = (
        'A = "v=0\\r\\no=- 0 0 IN IP4 h\\r\\n"\n'
        'B = f"MSRP {tid} SEND\\r\\n"\n'
        'C = b"MSRP abcd1234 200 OK\\r\\n"\n'
        'D = "\\r\\n".join(["v=0", "o=-"])\n'
        'E = f"refused with MSRP {status} {comment}"\n'
        'def f():\n    """Sends MSRP {tid} SEND lines.\n\nv=0\n"""\n'
    )
    assert [line for line, _ in offenders(src)] == [1, 2, 3, 4]
