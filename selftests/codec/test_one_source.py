"""One source for CPM constants and for URI comparison in the harness (issue 15 item 2).

The string literals of src/cpmconf (docstrings aside) hold no ICSI, system-message tag or OMA
warning text outside cpmconf/codec/cpm.py; and no module but cpmconf/codec/uri.py writes a
URI normaliser of its own (the shapes the seven old comparators had). The reference SUT
(src/refsut) keeps its own literals and comparator on purpose and is not scanned.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import cpmconf
from cpmconf.codec import cpm

SRC = Path(cpmconf.__file__).parent
CPM_MODULE = SRC / "codec" / "cpm.py"
URI_MODULE = SRC / "codec" / "uri.py"

_CPM_LITERAL = re.compile(
    r"3gpp-service\.ims\.icsi|urn%3Aurn-7|oma\.cpm\.(msg|largemsg|deferred|system-message)", re.I
)
# The shapes of the comparators replaced by codec/uri.py: a URI stripped of brackets and
# lower-cased, a base split at ';' and compared, a private _uri/_aor/_uri_key helper.
_URI_COMPARATOR = re.compile(
    r"""strip\(["']<>["']\)\.lower\(\)"""
    r"""|def _(uri|aor|uri_key|uri_gr|contact_uri)\("""
    r"""|_uri\([^)]*\) [!=]= _uri\("""
)


# (module, line) pairs the comparator scan lets pass: none.
ALLOWED: set[tuple[str, str]] = set()


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def _literals(path: Path) -> list[tuple[int, str]]:
    """(line, value) of every str/bytes constant that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docstrings:
            if isinstance(node.value, str | bytes):
                value = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
                out.append((node.lineno, value))
    return out


def test_no_cpm_constant_outside_codec_cpm():
    texts = set(cpm.WARNING_TEXTS.values())
    found = [
        f"{p.relative_to(SRC)}:{line}: {value!r}"
        for p in _modules()
        if p != CPM_MODULE
        for line, value in _literals(p)
        if _CPM_LITERAL.search(value) or value in texts
    ]
    assert not found, "CPM constants belong in cpmconf/codec/cpm.py:\n" + "\n".join(found)


def test_the_scan_sees_a_literal(tmp_path):
    """The scanner finds an ICSI in code and skips it in a docstring."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg in prose."""\n'
        'X = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"\n'
        'Y = b"oma.cpm.largemsg"\n'
    )
    hits = [v for _, v in _literals(probe) if _CPM_LITERAL.search(v)]
    assert len(hits) == 2


def test_no_uri_comparator_outside_codec_uri():
    found = [
        f"{p.relative_to(SRC)}:{n}: {line.strip()}"
        for p in _modules()
        if p != URI_MODULE
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if _URI_COMPARATOR.search(line) and (str(p.relative_to(SRC)), line.strip()) not in ALLOWED
    ]
    assert not found, "compare URIs with cpmconf.codec.uri:\n" + "\n".join(found)


def test_constants_are_what_the_specs_name():
    assert cpm.ICSI_MSG == "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
    assert cpm.CPM_ICSIS == (cpm.ICSI_MSG, cpm.ICSI_LARGEMSG, cpm.ICSI_DEFERRED)
    assert cpm.ICSI_LARGEMSG.endswith(".largemsg") and cpm.ICSI_DEFERRED.endswith(".deferred")
    assert cpm.icsi_suffix(cpm.ICSI_LARGEMSG) == b"oma.cpm.largemsg"
    assert cpm.WARNING_TEXTS[122] == "Function not allowed"
    assert cpm.WARNING_TEXTS[125] == "No messages"
