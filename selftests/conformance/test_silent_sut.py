"""A SUT that never answers, or answers only garbage, costs bounded time and no false verdict.

The test plays an external SUT on loopback: for the PF and for the client a UDP socket and a
TCP listener on the same port that read and drop everything (or, in the garbage variant, answer
every datagram with an unparseable `garbage`), and an HTTP listener for the client's upper
tester that accepts connections and never answers. A target profile pointing there (the
embedded profile's users and ICS, `embedded = false`) drives a whole `cpmconf run --guard 0.5`
in a subprocess with a hard timeout.

The preflight would stop such a run at once (selftests/conformance/test_preflight.py); here it
is skipped (`--no-preflight`) to show what every case does on its own. The run must end by
itself well within a stated bound, without a harness error, with a `compliance.json` in which
every test case is inconclusive or failed, never passed or errored, each with a reason; its exit
code is 1 (a failure) or 3 with "nothing judged", never 0. The peers run on one selector
thread and simply never answer; nothing sleeps.
"""

from __future__ import annotations

import concurrent.futures
import errno
import selectors
import socket
import threading

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.roles.profile import load_profile

from .support import RunOutcome, assert_well_formed, run_cpmconf

EMBEDDED = REPO_ROOT / "fixtures" / "profiles" / "embedded.toml"
GUARD = 0.5
# Stated bounds. The harness bounds every case by guard * 8 + 5 s (fixtures/session.py); that
# is checked per case. A silent SUT really costs a case about one guard time (its first wait
# fails), so the whole run must stay under START + cases * PER_CASE: 1.5 s a case with a
# 0.5 s guard leaves room for a loaded machine while a case that waits out two or three guard
# times (or its whole budget) breaks the bound. With today's few dozen cases that is about a
# minute; measured: about 0.6-0.8 s a case on an idle 2-core machine.
CASE_LIMIT = GUARD * 8 + 5.0
START = 15.0
PER_CASE = 2 * GUARD + 0.5
HARD_TIMEOUT = 180.0  # kill the subprocess here: a hang, not a slow run
GARBAGE = b"garbage\r\n\r\n"


class SilentPeer:
    """UDP + TCP SIP ports and an HTTP port on 127.0.0.1 that never send a useful byte."""

    def __init__(self, sip_ports: int = 2, garbage: bool = False):
        self.garbage = garbage
        self.datagrams = 0
        self.connections = {"sip": 0, "http": 0}
        self.sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self.sel.register(self._wake_r, selectors.EVENT_READ, ("wake", None))
        self._sockets: list[socket.socket] = [self._wake_r, self._wake_w]
        self.sip_ports = [self._sip_port() for _ in range(sip_ports)]
        http = self._listener(0)
        self.sel.register(http, selectors.EVENT_READ, ("accept", "http"))
        self.http_port = http.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="silent-sut", daemon=True)

    def _listener(self, port: int) -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sockets.append(s)
        s.bind(("127.0.0.1", port))
        s.listen(64)
        s.setblocking(False)
        return s

    def _sip_port(self) -> int:
        """A UDP socket and a TCP listener bound to the same free port."""
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._sockets.append(udp)
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            try:
                tcp = self._listener(port)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            udp.setblocking(False)
            self.sel.register(udp, selectors.EVENT_READ, ("udp", None))
            self.sel.register(tcp, selectors.EVENT_READ, ("accept", "sip"))
            return port
        raise RuntimeError("no port free for both UDP and TCP on 127.0.0.1")

    def __enter__(self) -> SilentPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._wake_w.send(b"x")
        self._thread.join(10.0)
        assert not self._thread.is_alive(), "the silent peer's thread did not stop"
        self.sel.close()
        for s in self._sockets:
            s.close()

    def _serve(self) -> None:
        while True:
            for key, _ in self.sel.select():
                kind, label = key.data
                sock = key.fileobj
                if kind == "wake":
                    return
                if kind == "udp":
                    self._datagram(sock)
                elif kind == "accept":
                    self._accept(sock, label)
                else:  # an accepted connection: read and drop, close on EOF
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        self.sel.unregister(sock)
                        sock.close()

    def _datagram(self, sock: socket.socket) -> None:
        try:
            _, addr = sock.recvfrom(65536)
        except OSError:
            return
        self.datagrams += 1
        if self.garbage:
            try:
                sock.sendto(GARBAGE, addr)
            except OSError:
                pass

    def _accept(self, listener: socket.socket, label: str) -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        self.connections[label] += 1
        conn.setblocking(False)
        self._sockets.append(conn)  # held open (never answered) until the peer stops
        self.sel.register(conn, selectors.EVENT_READ, ("conn", label))


def silent_profile(tmp_path, peer: SilentPeer, name: str):
    """The embedded profile, made external and pointed at the peer's ports."""
    pf_port, client_port = peer.sip_ports
    text = EMBEDDED.read_text(encoding="utf-8")
    replacements = {
        'name = "refsut-embedded"': f'name = "{name}"',
        "embedded = true": "embedded = false",
        "[pf]\n": f'[pf]\naddress = "127.0.0.1:{pf_port}"\n',
        "[client]\n": (
            f'[client]\naddress = "127.0.0.1:{client_port}"\n'
            f'upper_tester = "http://127.0.0.1:{peer.http_port}"\n'
        ),
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"embedded.toml no longer has exactly one {old!r}"
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    profile, embedded = load_profile(path), load_profile(EMBEDDED)
    assert not profile.embedded and profile.ics == embedded.ics
    assert profile.users == embedded.users
    return path


VARIANTS = {"never-answers": False, "answers-garbage": True}


def run_against(tmp_path, garbage: bool) -> tuple[RunOutcome, SilentPeer]:
    name = "garbage-sut" if garbage else "silent-sut"
    with SilentPeer(garbage=garbage) as peer:
        profile = silent_profile(tmp_path, peer, name)
        run = run_cpmconf(
            tmp_path / "report",
            "--sut",
            str(profile),
            "--guard",
            str(GUARD),
            "--no-preflight",
            "-q",
            timeout=HARD_TIMEOUT,
        )
    return run, peer


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[RunOutcome, SilentPeer]]:
    """Both variants at once: each run mostly waits out guard times, so they overlap well."""
    with concurrent.futures.ThreadPoolExecutor(len(VARIANTS)) as pool:
        futures = {
            label: pool.submit(run_against, tmp_path_factory.mktemp(label), garbage)
            for label, garbage in VARIANTS.items()
        }
        return {label: f.result() for label, f in futures.items()}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_unanswering_sut_gives_bounded_inconclusive_run(runs, variant, record_property):
    run, peer = runs[variant]
    doc = assert_well_formed(run, nothing_judged_ok=True)
    tests = doc["tests"]
    bound = START + len(tests) * PER_CASE
    slowest = max((t["duration"] for t in tests), default=0.0)
    record_property("elapsed_s", round(run.elapsed, 2))
    record_property("test_cases", len(tests))
    print(
        f"\n{variant}: {len(tests)} case(s) in {run.elapsed:.1f} s (bound {bound:g} s); "
        f"slowest case {slowest:.2f} s (limit {CASE_LIMIT:g} s); exit {run.returncode}; "
        f"{peer.datagrams} datagram(s), connections {peer.connections}"
    )
    assert tests, run.describe()
    assert slowest <= CASE_LIMIT, run.describe()
    assert run.elapsed < bound, f"{run.elapsed:.1f} s >= {bound:g} s\n" + run.describe()
    # The run really talked to this SUT: SIP to the PF, and the client's upper tester.
    assert peer.datagrams > 0 and peer.connections["http"] > 0
    assert doc["run"]["sut"].endswith(".toml") and "capture" in doc["run"]

    wrong = [t for t in tests if t["verdict"] not in ("inconclusive", "fail", "not-applicable")]
    assert not wrong, run.describe()
    # not-applicable only where the shared ICS says so, which says nothing about silence.
    for t in tests:
        if t["verdict"] == "not-applicable":
            assert "needs ICS" in t["reason"], run.describe()
    unexplained = [t["id"] for t in tests if not t["reason"].strip()]
    assert not unexplained, run.describe()
    assert doc["summary"]["tests"]["pass"] == 0 and doc["summary"]["tests"]["error"] == 0
    judged = {c["id"]: c["verdict"] for c in doc["clauses"] if c["tests"]}
    assert judged and not {v for v in judged.values()} & {"pass", "error", "non-strict"}
    failed = any(t["verdict"] == "fail" for t in tests)
    assert run.returncode == (1 if failed else 3), run.describe()
    if not failed:
        assert "cpmconf: nothing judged" in run.stderr, run.describe()
