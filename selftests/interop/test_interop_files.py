"""The shipped interop targets (interop/) hold together without running the products: each
profile loads, each baseline loads and names its profile's target with a wire reason on every
entry, each suite-defect line names a real test with a reason, and the upper-tester adapters'
shared server and SIP-trace record behave as docs/upper-tester.md says (on loopback, with
fake drivers).
"""

from __future__ import annotations

import json
import re
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cpmconf import catalogue
from cpmconf.report import baseline
from cpmconf.roles.profile import load_profile

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / "interop"
TARGETS = ["kamailio", "baresip", "linphonec"]

sys.path.insert(0, str(INTEROP / "adapters"))
import ut_common  # noqa: E402  (a script directory, not a package)


@pytest.mark.parametrize("name", TARGETS)
def test_every_target_ships_its_files(name):
    d = INTEROP / name
    for f in ("start", "stop", "profile.toml", "baseline.toml"):
        assert (d / f).is_file(), f"interop/{name}/{f} is missing"
    for f in ("start", "stop"):
        assert (d / f).stat().st_mode & 0o111, f"interop/{name}/{f} is not executable"


@pytest.mark.parametrize("name", TARGETS)
def test_profile_loads_on_loopback_with_a_fixed_core_port(name):
    profile = load_profile(INTEROP / name / "profile.toml")
    assert not profile.embedded
    assert profile.core_port == 5070, "the products are configured with the core at 5070"
    sut = profile.pf or profile.client
    assert sut.address.host == "127.0.0.1"


@pytest.mark.parametrize("name", TARGETS)
def test_baseline_entries_name_known_clauses_and_a_wire_reason(name):
    profile = load_profile(INTEROP / name / "profile.toml")
    b = baseline.load(INTEROP / name / "baseline.toml")
    assert set(b.targets) == {profile.name}, "one target per file: the profile's name"
    baseline.check_clauses(b, set(catalogue.load().clauses))
    for e in b.known(profile.name):
        assert not e.reason.startswith("added by --update-baseline"), (
            f"{e.key}: the reason must name the product's behaviour on the wire"
        )
        assert e.test, f"{e.key}: every known failure names its test"


@pytest.mark.parametrize("name", TARGETS)
def test_suite_defect_lines_name_an_existing_test_and_a_reason(name):
    path = INTEROP / name / "suite-defects"
    if not path.exists():
        return
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        test_id, _, reason = line.partition("  ")
        assert reason.strip(), f"{path.name}:{n}: no reason after the test id"
        file, _, func = test_id.partition("::")
        src = ROOT / file
        assert src.is_file(), f"{path.name}:{n}: no file {file}"
        bare = func.split("[")[0]
        assert re.search(rf"def {re.escape(bare)}\(", src.read_text()), (
            f"{path.name}:{n}: no test {bare} in {file}"
        )


# -- the adapters' shared parts ---------------------------------------------------------------

REGISTER = (
    "REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n"
    "From: <sip:carol@example.net>;tag=1\r\nTo: <sip:carol@example.net>\r\n"
    "Call-ID: abc\r\nCSeq: 7 REGISTER\r\nContent-Length: 0\r\n\r\n"
)
OK = (
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n"
    "From: <sip:carol@example.net>;tag=1\r\nTo: <sip:carol@example.net>;tag=2\r\n"
    "i: abc\r\nCSeq: 7 REGISTER\r\nl: 0\r\n\r\n"
)


def test_parse_sip_reads_requests_responses_and_compact_names():
    req = ut_common.parse_sip(REGISTER, out=True)
    ok = ut_common.parse_sip(OK, out=False)
    assert (req.method, req.call_id, req.status) == ("REGISTER", "abc", None)
    assert (ok.method, ok.call_id, ok.status, ok.cseq) == ("REGISTER", "abc", 200, "7 REGISTER")
    assert ut_common.parse_sip("liblinphone-message-not SIP at all", out=False) is None


def test_trace_finds_the_final_response_and_bounds_the_wait():
    trace = ut_common.SipTrace()
    req = ut_common.parse_sip(REGISTER, out=True)
    trace.add(req)
    assert trace.final_for(req, 0, 0.05) is None  # nothing yet: the bound ends the wait
    threading.Timer(0.05, trace.add, [ut_common.parse_sip(OK, out=False)]).start()
    final = trace.final_for(req, 0, 2.0)
    assert final is not None and final.status == 200


class _FakeProduct(ut_common.Driver):
    product = "a fake product"

    def status(self):
        return {"ok": True, "registered": False, "user": self.user}

    def send(self, body):
        self.check_send_options(body, {"to", "text"}, {"group": "no groups here"})
        raise ut_common.UtError(502, "the product failed")


@pytest.fixture
def fake_ut():
    server = ut_common.serve(_FakeProduct("sip:carol@example.net"), "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_server_answers_json_and_refuses_what_the_product_cannot_do(fake_ut):
    assert _call(fake_ut, "GET", "/status") == (
        200,
        {"ok": True, "registered": False, "user": "sip:carol@example.net"},
    )
    assert _call(fake_ut, "GET", "/messages") == (200, {"sent": [], "received": []})
    status, doc = _call(fake_ut, "POST", "/deferred/subscribe", {})
    assert status == 501 and "deferred-messages" in doc["error"]
    status, doc = _call(fake_ut, "POST", "/send", {"group": {"kind": "adhoc"}, "text": "x"})
    assert (status, doc) == (501, {"error": "no groups here"})
    status, doc = _call(fake_ut, "POST", "/send", {"to": "sip:bob@example.net", "text": "x"})
    assert (status, doc) == (502, {"error": "the product failed"})
    assert _call(fake_ut, "GET", "/nowhere")[0] == 404
