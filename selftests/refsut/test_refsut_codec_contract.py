"""The reference SUT reads with the codec but writes on its own (issue 14 item 7).

The harness judges the SUT's messages with ``cpmconf.codec``. If the refsut also wrote its
messages with the codec's builders, a builder that misread an RFC would write text that the
same codec's parser accepts, the refsut would pass, and the mistake would stay hidden on
both sides. So the refsut writes every byte it sends in ``refsut/wire.py`` from its own
literals, and may take from the codec only what *reads* a message:

* parsers and the values they return (``SipMessage``, ``MsrpMessage``, ``MsrpUri``,
  ``CpimMessage``, ``SessionDescription``/``MediaDescription``, ``ResourceList``/``Entry``,
  ``DeferredList``, ``RegInfo``, header parsers such as ``AcceptContact``);
* ``Reassembler``, which puts received MSRP chunks back together;
* ``CodecError``, what a parser raises;
* helpers for comparing what was read (``canonical_name``, ``CPM_ACTIONS``) and the MSRP
  framing limit the transport reads with (``DEFAULT_MAX_SIZE``).

``ALLOWED`` below is that list; ``.importlinter`` points here next to the refsut contract
(import-linter checks modules, not names). The walk covers module-level and function-local
imports and those under ``if TYPE_CHECKING:``. A second check catches serialising calls that
an allowed name still offers: ``X.build(...)``, ``build_*``/``encode_*`` attributes,
``.serialize``/``__bytes__``/``__str__``, and ``bytes()``/``str()``/f-string formatting of a
value the refsut holds as a codec type (by annotation or by assignment from a codec call).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import refsut

REFSUT = Path(refsut.__file__).parent

ALLOWED: dict[str, frozenset[str]] = {
    "cpmconf.codec.errors": frozenset({"CodecError"}),
    "cpmconf.codec.sip": frozenset({"SipMessage", "canonical_name"}),
    "cpmconf.codec.msrp": frozenset({"MsrpMessage", "MsrpUri", "Reassembler", "DEFAULT_MAX_SIZE"}),
    "cpmconf.codec.sdp": frozenset({"SessionDescription", "MediaDescription"}),
    "cpmconf.codec.cpim": frozenset({"CpimMessage"}),
    "cpmconf.codec.headers": frozenset(
        {
            "AcceptContact",
            "ContactFeatures",
            "Expires",
            "MessageUID",
            "NameAddr",
            "Privacy",
            "ReleaseVersion",
            "warnings_of",
        }
    ),
    "cpmconf.codec.resource_lists": frozenset({"ResourceList", "Entry", "CPM_ACTIONS"}),
    "cpmconf.codec.deferred_messages": frozenset({"DeferredList"}),
    "cpmconf.codec.reginfo": frozenset({"RegInfo"}),
}

# Attributes that write wire text wherever they appear in the refsut.
SERIALISING_ATTRS = frozenset({"serialize", "__bytes__", "__str__", "to_xml", "render"})


def _is_codec(module: str | None) -> bool:
    return module is not None and (module == "cpmconf.codec" or module.startswith("cpmconf.codec."))


def codec_imports(tree: ast.AST, rel: str) -> tuple[list[str], dict[str, str]]:
    """Problems with the codec imports of one module, and the local names bound to codec
    objects (local name -> imported name)."""
    problems: list[str] = []
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_codec(alias.name) or alias.name == "cpmconf":
                    problems.append(
                        f"{rel}:{node.lineno}: import {alias.name} (a whole module: import "
                        "allowed names with 'from ... import')"
                    )
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            module = node.module or ""
            for alias in node.names:
                if module == "cpmconf" and alias.name == "codec":
                    problems.append(f"{rel}:{node.lineno}: from cpmconf import codec")
                    continue
                if not _is_codec(module):
                    continue
                if alias.name not in ALLOWED.get(module, frozenset()):
                    problems.append(
                        f"{rel}:{node.lineno}: {module}.{alias.name} is not a parsing name "
                        "on the refsut allowlist"
                    )
                bound[alias.asname or alias.name] = alias.name
    return problems, bound


def _mentions(annotation: ast.AST | None, names: set[str]) -> bool:
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval")
        except SyntaxError:
            return False
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(annotation))


def _codec_call(node: ast.AST, names: set[str]) -> bool:
    """``Codec(...)`` or ``Codec.attr(...)`` for a codec-imported name ``Codec``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    while isinstance(func, ast.Attribute):
        func = func.value
    return isinstance(func, ast.Name) and func.id in names


def serialisers(tree: ast.AST, rel: str, codec_names: set[str]) -> list[str]:
    """Calls in one module that would have the codec write wire text."""
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr in SERIALISING_ATTRS:
                problems.append(f"{rel}:{node.lineno}: .{node.attr} writes wire text")
            elif isinstance(node.value, ast.Name) and node.value.id in codec_names:
                attr = node.attr
                if attr == "build" or attr.startswith(("build_", "encode_", "format_")):
                    problems.append(f"{rel}:{node.lineno}: {node.value.id}.{attr} is a builder")
    # bytes()/str()/f-strings of values held as codec types, function by function
    funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for func in funcs:
        typed: set[str] = set()
        args = func.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if _mentions(arg.annotation, codec_names):
                typed.add(arg.arg)
        for node in ast.walk(func):
            if isinstance(node, ast.Assign) and _codec_call(node.value, codec_names):
                typed |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if _mentions(node.annotation, codec_names):
                    typed.add(node.target.id)

        def held(expr: ast.AST, typed: set[str] = typed) -> bool:
            return (isinstance(expr, ast.Name) and expr.id in typed) or _codec_call(
                expr, codec_names
            )

        for node in ast.walk(func):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("bytes", "str")
                and node.args
                and held(node.args[0])
            ):
                problems.append(
                    f"{rel}:{node.lineno}: {node.func.id}() of a codec value writes wire text"
                )
            elif isinstance(node, ast.FormattedValue) and held(node.value):
                problems.append(f"{rel}:{node.lineno}: f-string of a codec value")
    return problems


def _modules() -> list[tuple[str, ast.AST]]:
    files = sorted(REFSUT.rglob("*.py"))
    assert files, f"no refsut sources under {REFSUT}"
    return [(str(p.relative_to(REFSUT.parent)), ast.parse(p.read_text(), str(p))) for p in files]


def test_refsut_imports_only_parsing_names_from_the_codec():
    problems = []
    for rel, tree in _modules():
        problems += codec_imports(tree, rel)[0]
    assert not problems, "refsut imports codec writers:\n" + "\n".join(problems)


def test_refsut_never_has_the_codec_write():
    problems = []
    for rel, tree in _modules():
        _, bound = codec_imports(tree, rel)
        problems += serialisers(tree, rel, set(bound))
    assert not problems, "refsut has the codec write wire text:\n" + "\n".join(problems)


# -- the checks themselves catch what they promise --------------------------------------------

BAD = """
from typing import TYPE_CHECKING
from cpmconf.codec.sip import SipMessage, build_message
import cpmconf.codec.msrp
if TYPE_CHECKING:
    from cpmconf.codec.sdp import build_sdp

def f(msg: SipMessage, raw):
    from cpmconf.codec.headers import encode_icsi
    from cpmconf.codec.cpim import CpimMessage
    parsed = CpimMessage.parse(raw)
    a = bytes(msg)
    b = str(parsed)
    c = f"{msg}"
    d = CpimMessage.build([], "text/plain", b"")
    return msg.__bytes__(), a, b, c, d
"""


def test_the_checks_name_file_line_and_name():
    tree = ast.parse(BAD)
    problems, bound = codec_imports(tree, "bad.py")
    text = "\n".join(problems)
    for expected in (
        "bad.py:3: cpmconf.codec.sip.build_message",
        "bad.py:4: import cpmconf.codec.msrp",
        "bad.py:6: cpmconf.codec.sdp.build_sdp",
        "bad.py:9: cpmconf.codec.headers.encode_icsi",
    ):
        assert expected in text, text
    assert "SipMessage" not in text and "CpimMessage" not in text
    text = "\n".join(serialisers(tree, "bad.py", set(bound)))
    for expected in (
        "bad.py:12: bytes()",
        "bad.py:13: str()",
        "bad.py:14: f-string",
        "bad.py:15: CpimMessage.build",
        "bad.py:16: .__bytes__",
    ):
        assert expected in text, text


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_allowlisted_names_exist(module):
    """A renamed codec name must be renamed here too, not silently allowed."""
    mod = __import__(module, fromlist=["_"])
    missing = [n for n in ALLOWED[module] if not hasattr(mod, n)]
    assert not missing, f"{module} has no {missing}"
