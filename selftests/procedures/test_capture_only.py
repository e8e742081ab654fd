"""Capture-only judgement (issue 14, item 1): a check judges only items of the capture View,
the items carry their capture index into the evidence, and the procedures layer returns
identifiers in typed results, never message objects or dicts, and judges nothing."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from cpmconf.capture.view import Seen, View
from cpmconf.codec.sip import SipMessage
from cpmconf.procedures.results import Ids
from cpmconf.roles.stimulus import Stimulus
from cpmconf.verdict import Expectations, HarnessError
from cpmconf.verdict.checks import pager, routing

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "src" / "cpmconf" / "procedures"

REQUEST = (
    b"MESSAGE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKp1\r\n"
    b"From: <sip:alice@example.net>;tag=a\r\nTo: <sip:bob@example.net>\r\nCall-ID: p-1\r\n"
    b"CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
)
OK = (
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKp1\r\n"
    b"From: <sip:alice@example.net>;tag=a\r\nTo: <sip:bob@example.net>;tag=b\r\nCall-ID: p-1\r\n"
    b"CSeq: 1 MESSAGE\r\nServer: CPM-serv/OMA2.0 x\r\nContent-Length: 0\r\n\r\n"
)
TS_PORT, SUT_PORT = 5070, 5060


def _record(index: int, raw: bytes, from_sut: bool):
    src, dst = (SUT_PORT, TS_PORT) if from_sut else (TS_PORT, SUT_PORT)
    return SimpleNamespace(
        index=index,
        time=float(index),
        message=SipMessage.parse(raw),
        flow=("127.0.0.1", src, "127.0.0.1", dst),
        transport="udp",
        protocol="SIP",
        error=None,
    )


def _view() -> View:
    return View.from_records([_record(3, REQUEST, False), _record(7, OK, True)], [TS_PORT])


def test_a_check_refuses_the_message_a_step_or_a_socket_handed_over():
    own = SipMessage.parse(OK)  # what a socket handed a step: not from the capture
    with pytest.raises(HarnessError) as info:
        pager.server_release(own, "CPM-serv/OMA2.0")
    assert "pager.server_release" in str(info.value) and "argument 1" in str(info.value)
    stim = Stimulus("pf/x.sip.j2", (), REQUEST, SipMessage.parse(REQUEST))
    with pytest.raises(HarnessError, match="stimulus"):
        pager.echoes_conversation_headers(_view().final_to("p-1", (1, "MESSAGE")), stim)
    exchange = SimpleNamespace(request=stim, responses=[own], final=own)
    with pytest.raises(HarnessError, match="argument 1"):
        pager.answered_200(exchange)
    with pytest.raises(HarnessError, match="'requests'|argument 2"):
        routing.request_via_core(_view(), [own], ("127.0.0.1", 1), (), "MESSAGE")
    with pytest.raises(HarnessError, match="argument 3"):  # inside a dict's values too
        from cpmconf.verdict.checks import deferred

        deferred.details_right(_view().items[1], deferred.ListReader(), {"id": own})


def test_a_view_item_is_made_by_the_capture_only():
    msg = SipMessage.parse(OK)
    with pytest.raises(TypeError):
        Seen(1, 0.0, True, msg)
    seen = Seen.captured(4, 0.0, True, msg)
    assert seen.index == 4 and seen.status == 200 and bytes(seen) == OK  # reads as the message


def test_a_view_item_carries_its_capture_index_into_the_evidence():
    view = _view()
    final = view.final_to("p-1", (1, "MESSAGE"))
    assert final is not None and final.index == 7 and final.from_sut
    judgement = pager.server_release(final, "CPM-serv/OMA2.0")
    assert judgement.frame == 7
    # a clause server_release declares (Expectations.judge refuses any other)
    exp = Expectations({"TS-7.2.2.1-2": ("SHALL", "a clause")})
    finding = exp.judge("TS-7.2.2.1-2", judgement)
    assert finding.frame == 7 and finding.to_json()["frame"] == 7
    failed = exp.judge("TS-7.2.2.1-2", pager.server_release(final, "CPM-client/OMA2.0"))
    assert failed.verdict.value == "fail" and "capture frame 7" in failed.describe()


def test_the_view_finds_a_request_and_its_final_by_the_identifiers_a_step_returns():
    view = _view()
    ids = Ids.of(SipMessage.parse(REQUEST))
    ours = view.find(ids, from_sut=False)
    assert ours is not None and ours.index == 3
    assert view.find(ids, from_sut=True) is None  # the SUT sent no such request
    assert view.final_to(ids.call_id, ids.cseq).index == 7


def _modules():
    return sorted(p for p in PROCEDURES.glob("*.py") if p.name != "__init__.py")


# Upper-tester answers are the upper tester's own JSON, passed through as it came.
UPPER_TESTER_JSON = {("client.py", "received_entry"), ("deferred.py", "_finish")}
# No step imports a private name of another layer (URIs compare with cpmconf.codec.uri).
PRIVATE_ALLOWED: set[tuple[str, str]] = set()


def test_steps_return_no_dicts_and_import_nothing_private_nor_the_verdict_layer():
    problems = []
    for path in _modules():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("cpmconf.verdict"):
                    problems.append(f"{path.name}: imports {node.module}")
                for alias in node.names:
                    private = alias.name.startswith("_") and alias.name != "__future__"
                    if private and (node.module, alias.name) not in PRIVATE_ALLOWED:
                        problems.append(f"{path.name}: imports {node.module}.{alias.name}")
            if isinstance(node, ast.Import):
                problems += [
                    f"{path.name}: imports {a.name}"
                    for a in node.names
                    if a.name.startswith("cpmconf.verdict")
                ]
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if (path.name, node.name) in UPPER_TESTER_JSON:
                continue
            returns = ast.unparse(node.returns) if node.returns else ""
            if returns.split("[")[0].split("|")[0].strip() == "dict":
                problems.append(f"{path.name}: {node.name} is annotated to return a dict")
            for sub in ast.walk(node):
                if isinstance(sub, ast.Return) and isinstance(sub.value, ast.Dict | ast.DictComp):
                    problems.append(f"{path.name}:{sub.lineno}: {node.name} returns a dict")
    assert not problems, "\n".join(problems)


def test_step_results_are_dataclasses():
    results = []
    for path in _modules():
        module = importlib.import_module(f"cpmconf.procedures.{path.stem}")
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
                for name in ast.walk(node.returns):
                    if isinstance(name, ast.Name):
                        cls = getattr(module, name.id, None)
                        if isinstance(cls, type) and cls.__module__.startswith(
                            "cpmconf.procedures"
                        ):
                            results.append(cls)
    names = {c.__name__ for c in results}
    assert {"LargeRelay", "Deferral", "LargeSent", "Delivered", "Handled", "Ids"} <= names
    assert all(dataclasses.is_dataclass(c) for c in results if c.__name__ != "Scene"), [
        c.__name__ for c in results if not dataclasses.is_dataclass(c)
    ]


def test_import_contracts_keep_the_procedures_layer():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("lint-imports is not installed next to this interpreter")
    config = (ROOT / ".importlinter").read_text()
    layers = config.split("layers =", 1)[1].split("[", 1)[0].split()
    assert layers.index("cpmconf.verdict") + 1 == layers.index("cpmconf.procedures")
    assert layers.index("cpmconf.procedures") + 1 == layers.index("cpmconf.roles")
    done = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
