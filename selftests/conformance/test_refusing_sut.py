"""A SUT that refuses, an upper tester that refuses, a SUT that is dead: verdicts by cause.

Three small fakes on loopback, each driving a `cpmconf run` in a subprocess with a hard
timeout (see support.py):

* a refusing PF: it registers devices (200 with a pub-gruu, as Kamailio's registrar does) and
  answers every other request 405 Method Not Allowed. The large-mode cases built on the whole
  exchange through the PF end inconclusive with cause `refused`, their reason names the 405,
  and none waits a guard time for a device INVITE that cannot come; so do the pager case that
  waits for device copies, the all-legs-declined case (no leg was ever offered) and the
  deferred pull cases (no IndexError on missing ids);
* a client whose upper tester registers it (the fake sends a real REGISTER to the core) but
  refuses every other command with 501 or 502: the client sending cases end inconclusive with
  cause `upper-tester` and the HTTP status, at once;
* a SUT that never answers (or answers only garbage): the robustness cases end inconclusive
  (their first probe was not answered), never "stopped answering" failures; with garbage the
  reason says unparseable messages came.
"""

from __future__ import annotations

import concurrent.futures
import errno
import http.server
import json
import secrets
import selectors
import socket
import threading

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.codec.sip import SipMessage

from .support import RunOutcome, assert_well_formed, run_cpmconf
from .test_silent_sut import SilentPeer, silent_profile

EMBEDDED = REPO_ROOT / "fixtures" / "profiles" / "embedded.toml"
GUARD = 2.0
HARD_TIMEOUT = 240.0
# A refusal arrives within milliseconds; a case that waited one guard time for what the
# refusal made impossible takes more than this.
FAST = GUARD * 0.6
# The large-mode cases that run the whole exchange through the PF
# (cpmconf.procedures.pf.large_through_pf).
LARGE_EXCHANGE = ("invites_each_selected", "200_to_the_sender", "relays_the_message")
CAROL_INSTANCE = "<urn:uuid:00000000-0000-4000-8000-0000000ca201>"


def _response(req: SipMessage, status: int, reason: str, extra: list[str] = ()) -> bytes:
    lines = [f"SIP/2.0 {status} {reason}"]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for value in req.header_values(name):
            if name == "To" and status > 100 and "tag=" not in value:
                value += ";tag=" + secrets.token_hex(4)
            lines.append(f"{name}: {value}")
    lines += [*extra, "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def refusing_pf(req: SipMessage) -> bytes | None:
    """REGISTER: 200 with the device's pub-gruu; anything else but ACK: 405."""
    if req.method == "ACK":
        return None
    if req.method != "REGISTER":
        return _response(req, 405, "Method Not Allowed", ["Allow: REGISTER"])
    contacts = []
    aor = req.header("To").split("<", 1)[-1].split(">", 1)[0]
    for value in req.header_list("Contact"):
        instance = value.split('+sip.instance="', 1)[-1].split('"', 1)[0].strip("<>")
        contacts.append(f'Contact: {value};pub-gruu="{aor};gr={instance}"')
    return _response(req, 200, "OK", contacts)


def answering_client(req: SipMessage) -> bytes | None:
    """Every request but ACK: 200 (no SDP, no state): enough for the steps to go on."""
    return None if req.method == "ACK" else _response(req, 200, "OK")


class FakeSip:
    """UDP + TCP on one loopback port, answering each request as `answer` says."""

    def __init__(self, answer):
        self.answer = answer
        self.sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self.sel.register(self._wake_r, selectors.EVENT_READ, ("wake", None))
        self._sockets: list[socket.socket] = [self._wake_r, self._wake_w]
        self.port = self._bind()
        self._buffers: dict[socket.socket, bytes] = {}
        self._thread = threading.Thread(target=self._serve, name="fake-sip", daemon=True)

    def _bind(self) -> int:
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._sockets.append(udp)
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._sockets.append(tcp)
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            tcp.listen(64)
            for s, kind in ((udp, "udp"), (tcp, "accept")):
                s.setblocking(False)
                self.sel.register(s, selectors.EVENT_READ, (kind, None))
            return port
        raise RuntimeError("no port free for both UDP and TCP on 127.0.0.1")

    def __enter__(self) -> FakeSip:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._wake_w.send(b"x")
        self._thread.join(10.0)
        assert not self._thread.is_alive(), "the fake SUT's thread did not stop"
        self.sel.close()
        for s in self._sockets:
            s.close()

    def _reply(self, raw: bytes) -> bytes | None:
        try:
            msg = SipMessage.parse(raw)
        except ValueError:
            return None
        return self.answer(msg) if msg.is_request else None

    def _serve(self) -> None:
        while True:
            for key, _ in self.sel.select():
                kind, _ = key.data
                sock = key.fileobj
                if kind == "wake":
                    return
                if kind == "udp":
                    try:
                        raw, addr = sock.recvfrom(65536)
                    except OSError:
                        continue
                    out = self._reply(raw)
                    if out is not None:
                        sock.sendto(out, addr)
                elif kind == "accept":
                    try:
                        conn, _ = sock.accept()
                    except OSError:
                        continue
                    conn.setblocking(False)
                    self._sockets.append(conn)
                    self._buffers[conn] = b""
                    self.sel.register(conn, selectors.EVENT_READ, ("conn", None))
                else:
                    self._stream(sock)

    def _stream(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.sel.unregister(conn)
            conn.close()
            return
        buf = self._buffers[conn] + data
        while b"\r\n\r\n" in buf:
            head, rest = buf.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() in (b"content-length", b"l"):
                    length = int(value.strip() or 0)
            if len(rest) < length:
                break
            raw, buf = head + b"\r\n\r\n" + rest[:length], rest[length:]
            out = self._reply(raw)
            if out is not None:
                try:
                    conn.sendall(out)
                except OSError:
                    pass
        self._buffers[conn] = buf


def free_port() -> int:
    """A loopback port free for UDP and TCP at this moment (the core binds it next)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


class RefusingUpperTester:
    """/reset: ok. /register: the client registers (a real REGISTER to the core), ok.
    Every other command: 501 (/send) or 502 (the rest), each with an error text."""

    def __init__(self, core_port: int, user: str):
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                self._route()

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self._route()

            def _route(self) -> None:
                peer.calls.append(self.path)
                if self.path in ("/reset", "/status"):
                    self._answer(200, {"ok": True})
                elif self.path in ("/register", "/deregister"):
                    status = peer.register(0 if self.path == "/deregister" else 600)
                    self._answer(200, {"ok": True, "status": status})
                elif self.path == "/send":
                    self._answer(501, {"error": "sending is not implemented by this client"})
                else:
                    self._answer(502, {"error": f"the client did not take {self.path}"})

            def log_message(self, *args):
                pass

        self.core_port, self.user, self.calls = core_port, user, []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def register(self, expires: int) -> int | None:
        """One REGISTER to the core over UDP; the final status, or None without one in 2 s."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(2.0)
            port = sock.getsockname()[1]
            call_id = secrets.token_hex(8)
            req = (
                f"REGISTER sip:example.net SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id};rport\r\n"
                f"Max-Forwards: 70\r\nFrom: <{self.user}>;tag={call_id[:6]}\r\n"
                f"To: <{self.user}>\r\nCall-ID: {call_id}@127.0.0.1\r\nCSeq: 1 REGISTER\r\n"
                f'Contact: <sip:carol@127.0.0.1:{port}>;+sip.instance="{CAROL_INSTANCE}"'
                f";expires={expires}\r\nExpires: {expires}\r\nContent-Length: 0\r\n\r\n"
            )
            sock.sendto(req.encode(), ("127.0.0.1", self.core_port))
            try:
                while True:
                    msg = SipMessage.parse(sock.recv(65536))
                    if not msg.is_request and msg.status >= 200:
                        return msg.status
            except (OSError, ValueError):
                return None

    def __enter__(self) -> RefusingUpperTester:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def fake_profile(tmp_path, name: str, pf_port: int, client_port: int, ut_port: int, core: int):
    text = EMBEDDED.read_text(encoding="utf-8")
    replacements = {
        'name = "refsut-embedded"': f'name = "{name}"',
        "embedded = true": "embedded = false",
        "[pf]\n": f'[pf]\naddress = "127.0.0.1:{pf_port}"\n',
        "[client]\n": (
            f'[client]\naddress = "127.0.0.1:{client_port}"\n'
            f'upper_tester = "http://127.0.0.1:{ut_port}"\n'
        ),
        "core_port = 0": f"core_port = {core}",
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"embedded.toml no longer has exactly one {old!r}"
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_refusing(tmp_path) -> tuple[RunOutcome, RefusingUpperTester]:
    """One run: the PF refuses (large mode), the client's upper tester refuses (sending)."""
    core = free_port()
    with FakeSip(refusing_pf) as pf, FakeSip(answering_client) as client:
        with RefusingUpperTester(core, "sip:carol@example.net") as ut:
            profile = fake_profile(tmp_path, "refusing-sut", pf.port, client.port, ut.port, core)
            run = run_cpmconf(
                tmp_path / "report",
                "--sut",
                str(profile),
                "--guard",
                str(GUARD),
                "--clause",
                "TS-8.3.2.1.1",
                "--clause",
                "TS-7.2.1",
                "--clause",
                "TS-8.3.2.1-first2xx",
                "--clause",
                "SD-5.2.2.2.1-remove",
                "-q",
                timeout=HARD_TIMEOUT,
            )
    return run, ut


def run_dead(tmp_path, garbage: bool) -> RunOutcome:
    name = "garbage-sut" if garbage else "dead-sut"
    selection = ["--clause", "RB-sip-repeated-header"] if garbage else ["-m", "robustness"]
    with SilentPeer(garbage=garbage) as peer:
        profile = silent_profile(tmp_path, peer, name)
        return run_cpmconf(
            tmp_path / "report",
            "--sut",
            str(profile),
            "--guard",
            "0.5",
            # The preflight would end the run at once (exit 3); these cases must show on their
            # own that an unanswered probe is never a failure.
            "--no-preflight",
            *selection,
            "-q",
            timeout=HARD_TIMEOUT,
        )


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """The three runs at once: they mostly wait on loopback, so they overlap well."""
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        refusing = pool.submit(run_refusing, tmp_path_factory.mktemp("refusing"))
        dead = pool.submit(run_dead, tmp_path_factory.mktemp("dead"), False)
        garbage = pool.submit(run_dead, tmp_path_factory.mktemp("garbage"), True)
        return {"refusing": refusing.result(), "dead": dead.result(), "garbage": garbage.result()}


def _tests(run: RunOutcome, where) -> list[dict]:
    doc = run.doc or {}
    return [t for t in doc.get("tests", []) if where(t)]


def test_refused_large_mode_is_inconclusive_by_refusal_at_once(runs):
    run, _ = runs["refusing"]
    assert not run.timed_out, run.describe()
    assert run.doc is not None, run.describe()
    large = _tests(run, lambda t: any(k in t["id"] for k in LARGE_EXCHANGE))
    assert len(large) >= 5, run.describe()
    for t in large:
        assert t["verdict"] == "inconclusive", run.describe()
        assert t["cause"] == "refused", run.describe()
        assert "405 Method Not Allowed" in t["reason"], run.describe()
        assert "no device leg could be judged" in t["reason"], run.describe()
        assert t["duration"] < FAST, f"{t['id']} took {t['duration']:.2f} s\n" + run.describe()


def test_steps_resting_on_a_refused_message_stop_at_once(runs):
    """The PF refusing the originator's MESSAGE: no wait for device copies (pager), no
    deferral to act on and no IndexError on its missing Message-URI-IDs (deferred pull)."""
    run, _ = runs["refusing"]
    assert run.doc is not None, run.describe()
    rested = _tests(
        run,
        lambda t: (
            "only_the_first_final" in t["id"]
            or "every_device_declined" in t["id"]
            or "SD-5.2.2.2.1-remove" in t["clauses"]
        ),
    )
    assert len(rested) >= 7, run.describe()
    for t in rested:
        assert (t["verdict"], t["cause"]) == ("inconclusive", "refused"), run.describe()
        assert "405 Method Not Allowed to the " in t["reason"], run.describe()
        assert "IndexError" not in t["reason"], run.describe()
    quick = [t for t in rested if "SD-5.2.2.2.1-remove" not in t["clauses"]]
    assert quick and all(t["duration"] < FAST for t in quick), run.describe()


def test_upper_tester_refusal_is_inconclusive_by_upper_tester_at_once(runs):
    run, ut = runs["refusing"]
    assert run.doc is not None, run.describe()
    assert "/register" in ut.calls and "/send" in ut.calls, ut.calls
    # The cases that make the client send (another case under TS-7.2.1 delivers to the
    # client, which this fake answers with a bare 200: judged, and failed, on the wire).
    sending = _tests(
        run, lambda t: "client_pager_send" in t["id"] or "client_large_send" in t["id"]
    )
    judged = [t for t in sending if t["verdict"] != "not-applicable"]
    assert len(judged) >= 10, run.describe()
    for t in judged:
        assert t["verdict"] == "inconclusive", run.describe()
        assert t["cause"] == "upper-tester", run.describe()
        assert "HTTP 501" in t["reason"] or "HTTP 502" in t["reason"], run.describe()
        assert t["duration"] < FAST, f"{t['id']} took {t['duration']:.2f} s\n" + run.describe()
    assert any(
        "HTTP 501 Not Implemented: sending is not implemented by this client" in t["reason"]
        for t in judged
    ), run.describe()


@pytest.mark.parametrize("variant", ["dead", "garbage"])
def test_robustness_against_a_sut_that_never_answered_is_never_a_failure(runs, variant):
    run = runs[variant]
    doc = assert_well_formed(run, nothing_judged_ok=True)
    assert run.returncode == 3 and "nothing judged" in run.stdout + run.stderr, run.describe()
    tests = doc["tests"]
    assert tests, run.describe()
    assert not [t for t in tests if t["verdict"] in ("fail", "pass", "error")], run.describe()
    assert not [t for t in tests if "stopped answering" in t["reason"]], run.describe()
    probed = [t for t in tests if t["verdict"] == "inconclusive"]
    assert probed, run.describe()
    for t in probed:
        # the MSRP cases need the client registered first, through an upper tester that
        # never answers either: that is the upper tester's failure
        expected = "upper-tester" if "robustness_msrp" in t["id"] else "no-answer"
        assert t["cause"] == expected, run.describe()
    before = [t for t in probed if "OPTIONS probe sent before the stimulus" in t["reason"]]
    assert before, run.describe()
    if variant == "garbage":
        assert all("unparseable message(s)" in t["reason"] for t in before), run.describe()
