"""The preflight and the input checks of `cpmconf run`: an unusable SUT or bad input ends the
run at once, with exit 3 and a few lines that say why.

The SUTs are fakes on loopback, inside this file: a closed port (nothing listens), a UDP+TCP
port answering random bytes to everything (its HTTP side plays the upper tester), and a PF
that answers OPTIONS and REGISTER but pairs no GRUU with the device's `+sip.instance`. Each
drives a real `cpmconf run` in a subprocess (a copy of the embedded profile pointed at the
fake, the profile's own 3 s guard), timed, its output lines counted. The embedded reference
SUT shows the passing preflight (recorded in `run.preflight`, well under a second) and the
checks of `--sut-fault`, `--clause`, `-m` and `-k` before anything runs.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import subprocess
import sys
import threading
import time

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.codec.sip import SipMessage

from .support import RunOutcome, run_cpmconf

EMBEDDED = REPO_ROOT / "fixtures" / "profiles" / "embedded.toml"
DEAD_BOUND = 15.0  # a dead or garbage SUT: the whole run ends within this
INPUT_BOUND = 10.0  # bad input: the whole run ends within this
HARD_TIMEOUT = 120.0


def lines(run: RunOutcome) -> list[str]:
    return [ln for ln in (run.stdout + run.stderr).splitlines() if ln.strip()]


def profile(tmp_path, name: str, pf_port: int, transport: str = "udp", client=None):
    """The embedded profile made external: the PF at `pf_port`; the client at `client`
    ((sip port, upper-tester URL)) or, without one, no [client] table at all."""
    text = EMBEDDED.read_text(encoding="utf-8")
    text = text.replace('name = "refsut-embedded"', f'name = "{name}"')
    text = text.replace("embedded = true", "embedded = false")
    pf = f'[pf]\naddress = "127.0.0.1:{pf_port}"\n'
    text = text.replace('[pf]\ntransport = "udp"\n', pf + f'transport = "{transport}"\n')
    start = text.index("[client]\n")
    end = text.index("\n[", start + 1) + 1
    if client is None:
        text = text[:start] + text[end:]
    else:
        port, url = client
        table = text[start:end].replace(
            "[client]\n", f'[client]\naddress = "127.0.0.1:{port}"\nupper_tester = "{url}"\n'
        )
        text = text[:start] + table + text[end:]
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def closed_port() -> int:
    """A loopback port with nothing listening on UDP or TCP (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.bind(("127.0.0.1", 0))
        port = tcp.getsockname()[1]
    return port


class Peer:
    """UDP and TCP on one loopback port; `answer(data)` gives the bytes sent back, if any."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.received: list[bytes] = []
        self.sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self.sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._sockets = [self._wake_r, self._wake_w]
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("127.0.0.1", 0))
            self.port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                tcp.bind(("127.0.0.1", self.port))
            except OSError as exc:
                udp.close()
                tcp.close()
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            tcp.listen(16)
            break
        else:
            raise RuntimeError("no loopback port free for both UDP and TCP")
        self._sockets += [udp, tcp]
        self.sel.register(udp, selectors.EVENT_READ, "udp")
        self.sel.register(tcp, selectors.EVENT_READ, "accept")
        self._thread = threading.Thread(target=self._serve, name="fake-sut", daemon=True)

    def __enter__(self) -> Peer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._wake_w.send(b"x")
        self._thread.join(10.0)
        self.sel.close()
        for s in self._sockets:
            s.close()

    def _serve(self) -> None:
        while True:
            for key, _ in self.sel.select():
                sock = key.fileobj
                if key.data == "wake":
                    return
                if key.data == "udp":
                    data, addr = sock.recvfrom(65536)
                    self.received.append(data)
                    reply = self.answer(data)
                    if reply:
                        sock.sendto(reply, addr)
                elif key.data == "accept":
                    conn, _ = sock.accept()
                    self._sockets.append(conn)
                    self.sel.register(conn, selectors.EVENT_READ, "conn")
                else:
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        self.sel.unregister(sock)
                        continue
                    self.received.append(data)
                    reply = self.answer(data)
                    if reply:
                        sock.sendall(reply)


def garbage(data: bytes) -> bytes:
    return os.urandom(64)


def pf_without_gruu(data: bytes) -> bytes | None:
    """A PF that answers OPTIONS 200 and REGISTER 200 with a Contact that has no
    +sip.instance (so no pub-gruu can be paired with the device)."""
    req = SipMessage.parse(data)
    if not req.is_request or req.method == "ACK":
        return None
    head = [
        "SIP/2.0 200 OK",
        *(f"Via: {v}" for v in req.header_values("Via")),
        f"From: {req.header('From')}",
        f"To: {req.header('To')};tag=fake",
        f"Call-ID: {req.call_id}",
        f"CSeq: {req.header('CSeq')}",
    ]
    if req.method == "REGISTER":
        head.append("Contact: <sip:somebody@127.0.0.1:5999>;expires=600")
    return ("\r\n".join([*head, "Content-Length: 0", "", ""])).encode()


def cpmconf_run(tmp_path, *args: str) -> RunOutcome:
    return run_cpmconf(tmp_path / "report", *args, timeout=HARD_TIMEOUT)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_dead_sut_ends_the_run_within_15_s_naming_the_address(tmp_path, transport):
    pf, ut = closed_port(), closed_port()
    path = profile(tmp_path, "dead", pf, transport, client=(pf, f"http://127.0.0.1:{ut}"))
    run = cpmconf_run(tmp_path, "--sut", str(path))
    out = lines(run)
    print(f"\ndead/{transport}: exit {run.returncode} in {run.elapsed:.1f} s, {len(out)} line(s)")
    print("\n".join(out))
    assert run.returncode == 3, run.describe()
    assert run.elapsed < DEAD_BOUND, run.describe()
    assert 1 <= len(out) <= 3, run.describe()
    text = "\n".join(out)
    assert f"127.0.0.1:{pf}/{transport}" in text and f"127.0.0.1:{ut}" in text
    if transport == "udp":
        assert "OPTIONS datagrams from the core" in text and "nothing came back" in text
    else:
        assert "connection refused" in text
    assert "Traceback" not in run.stdout + run.stderr
    assert run.doc is None  # no case ran


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_sut_answering_garbage_ends_the_run_saying_what_came_back(tmp_path, transport):
    with Peer(garbage) as peer:
        url = f"http://127.0.0.1:{peer.port}"
        path = profile(tmp_path, "garbage", peer.port, transport, client=(peer.port, url))
        run = cpmconf_run(tmp_path, "--sut", str(path))
    out = lines(run)
    print(f"\ngarbage/{transport}: exit {run.returncode} in {run.elapsed:.1f} s")
    print("\n".join(out))
    assert run.returncode == 3, run.describe()
    assert run.elapsed < DEAD_BOUND, run.describe()
    assert 1 <= len(out) <= 3, run.describe()
    text = "\n".join(out)
    assert f"127.0.0.1:{peer.port}/{transport}" in text
    assert "came back, none parseable as SIP" in text, run.describe()
    assert "not an HTTP answer" in text or "upper tester" in text
    assert peer.received  # it really was asked


def test_a_pf_giving_no_usable_gruu_is_named_and_the_device_deregistered(tmp_path):
    with Peer(pf_without_gruu) as peer:
        path = profile(tmp_path, "no-gruu", peer.port)
        run = cpmconf_run(tmp_path, "--sut", str(path))
        registers = [SipMessage.parse(d) for d in peer.received if d.startswith(b"REGISTER")]
    out = lines(run)
    print(f"\nno-gruu: exit {run.returncode} in {run.elapsed:.1f} s\n" + "\n".join(out))
    assert run.returncode == 3 and run.elapsed < DEAD_BOUND, run.describe()
    assert len(out) <= 3, run.describe()
    assert "carries no +sip.instance matching ours" in "\n".join(out), run.describe()
    assert "no pub-gruu can be paired" in "\n".join(out)
    assert "[pf].gruu = false" in "\n".join(out)  # the way out for a registrar without GRUUs
    # Registered once, then deregistered.
    assert [r.header("Expires") for r in registers] == ["600", "0"], registers


def test_a_pf_declared_without_gruu_passes_the_preflight(tmp_path):
    """`[pf].gruu = false`: a registrar that hands out no GRUU is what the profile says, so
    the registration check passes (devices are reached at their contact)."""
    with Peer(pf_without_gruu) as peer:
        path = profile(tmp_path, "declared-no-gruu", peer.port)
        text = path.read_text(encoding="utf-8").replace("[pf]\n", "[pf]\ngruu = false\n", 1)
        path.write_text(text, encoding="utf-8")
        run = cpmconf_run(tmp_path, "--sut", str(path), "--clause", "TS-8.3.2.1-2", "-q")
    assert run.doc is not None, run.describe()
    pre = run.doc["run"]["preflight"]
    assert pre["result"] == "passed", pre
    reg = next(c for c in pre["checks"] if c["check"] == "registration")
    assert "no GRUU as the profile says" in reg["detail"], reg


def test_the_embedded_sut_passes_the_preflight_in_well_under_a_second(tmp_path):
    run = cpmconf_run(tmp_path, "--clause", "ts-7.1-3", "-q")  # lower case on purpose
    assert run.returncode == 0, run.describe()
    pre = run.doc["run"]["preflight"]
    print(f"\npreflight: {pre}")
    assert pre["result"] == "passed" and pre["elapsed"] < 1.0, pre
    assert {c["check"] for c in pre["checks"]} == {"options", "upper-tester", "registration"}
    assert all(c["ok"] for c in pre["checks"])
    skipped = cpmconf_run(tmp_path / "skip", "--clause", "TS-7.1-3", "-q", "--no-preflight")
    assert skipped.returncode == 0, skipped.describe()
    assert skipped.doc["run"]["preflight"]["result"] == "skipped"


def test_without_the_preflight_a_dead_sut_judges_nothing_and_exits_3(tmp_path):
    path = profile(tmp_path, "dead", closed_port())  # PF only
    run = cpmconf_run(
        tmp_path, "--sut", str(path), "--no-preflight", "--guard", "0.5", "--clause", "8.3.2.1-4b-2"
    )
    assert run.returncode == 3, run.describe()
    assert run.doc is not None and run.doc["tests"], run.describe()
    n = sum(1 for t in run.doc["tests"] if t["verdict"] == "inconclusive")
    assert "cpmconf: nothing judged: no clause passed or failed" in run.stderr, run.describe()
    assert f"{n} inconclusive test(s)" in run.stderr


def test_an_unknown_fault_switch_is_one_line_with_a_did_you_mean(tmp_path):
    run = cpmconf_run(tmp_path, "--sut-fault", "pf.403-no-warnng")
    out = lines(run)
    print(f"\nexit {run.returncode} in {run.elapsed:.1f} s:\n" + "\n".join(out))
    assert run.returncode == 3 and run.elapsed < INPUT_BOUND, run.describe()
    assert len(out) <= 5 and "'pf.403-no-warning'" in out[0] and "cpmconf faults" in out[0]


def test_plain_pytest_with_a_bad_fault_switch_ends_once_without_tracebacks(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO_ROOT / "testcases"),
        f"--rootdir={REPO_ROOT}",
        "-q",
        "-p",
        "no:cacheprovider",
        "--report-dir",
        str(tmp_path / "report"),
        "--sut-fault",
        "pf.403-no-warnng",
    ]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=HARD_TIMEOUT)
    elapsed = time.monotonic() - start
    text = proc.stdout + proc.stderr
    print(f"\nexit {proc.returncode} in {elapsed:.1f} s:\n{text}")
    assert proc.returncode == 3, text
    assert "Traceback" not in text, text
    assert text.count("unknown fault 'pf.403-no-warnng'") == 1, text
    assert len([ln for ln in text.splitlines() if ln.strip()]) <= 5, text
    assert not (tmp_path / "report" / "compliance.json").exists()  # no case ran


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--clause", "TS-9.9"], "--clause 'TS-9.9' matches no clause of the catalogue"),
        (["--clause", "8.3.2.1", "-m", "robustness"], "selected no test case"),
        (["-m", "no_such_marker"], "-m 'no_such_marker' selected no test case"),
        (["-k", "no_such_name"], "-k 'no_such_name' selected no test case"),
    ],
)
def test_a_selection_of_nothing_is_one_line_and_exit_3(tmp_path, args, said):
    run = cpmconf_run(tmp_path, *args)
    out = lines(run)
    assert run.returncode == 3 and run.elapsed < INPUT_BOUND, run.describe()
    assert len(out) == 1 and said in out[0], run.describe()


def test_cpmconf_faults_lists_the_switches_a_typo_is_pointed_to(capsys):
    from cpmconf import cli

    assert cli.main(["faults"]) == 0
    out, err = capsys.readouterr()
    names = [ln.split()[0] for ln in out.splitlines()]
    assert "pf.403-no-warning" in names and len(names) == len(set(names))
    assert f"# {len(names)} switch(es)" in err
