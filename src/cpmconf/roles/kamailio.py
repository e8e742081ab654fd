"""A real SIP/IP core in the path: the Kamailio the suite starts with `[test_system] core =
"kamailio"`.

Owns one Kamailio (Debian package kamailio) per run: its configuration, rendered from
`scenarios/core/kamailio.cfg.j2` into a folder of the run (``reports/<run>/kamailio/``), and
its log there. It listens on loopback at a free port (UDP and TCP) and is the SUT's outbound
proxy: it forwards everything the SUT sends to the suite's core, record-routes initial
requests, and puts its own Service-Route on top of the registrar's (the suite's core stays
the registrar, so the registration checks judge the SUT). Readiness is an OPTIONS ping it
answers itself, awaited with a bound; a Kamailio that is missing, rejects its config, exits
or stays silent is a :class:`CoreUnavailable` whose one-line message names the file or key.

It runs on the host's loopback, not in a network namespace: the suite's own core, the
reference SUT and Dovecot already bind free loopback ports of the host, so one more cannot
collide, and the default run needs no root (`unshare --net` does).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import jinja2

from cpmconf.roles.errors import SetupError

READY_BOUND = 10.0
STOP_BOUND = 5.0
PING_EVERY = 0.1  # one OPTIONS per this long until the answer, within READY_BOUND
TEMPLATE = Path(__file__).resolve().parents[3] / "scenarios" / "core" / "kamailio.cfg.j2"
MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"


class CoreUnavailable(SetupError):
    """The real core did not come up (the reason, naming the file or key, in the message):
    the test system could not set itself up, so the session ends before any case."""


def binary() -> str | None:
    """The kamailio executable, or None when the package is not installed."""
    return shutil.which("kamailio") or (
        "/usr/sbin/kamailio" if os.access("/usr/sbin/kamailio", os.X_OK) else None
    )


def _free_port(host: str) -> int:
    """A port free for both UDP and TCP on `host` (Kamailio listens on both)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
                return port
    raise CoreUnavailable(f"no port free for both UDP and TCP on {host}")


def config_text(host: str, port: int, core: tuple[str, int], template: Path = TEMPLATE) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template.parent)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template(template.name).render(
        host=host, port=port, core_host=core[0], core_port=core[1], mpath=MODULES
    )


class Kamailio:
    """One Kamailio, foreground child of this process; `start` then `stop`."""

    def __init__(
        self,
        folder: Path,
        core: tuple[str, int],
        host: str = "127.0.0.1",
        template: Path = TEMPLATE,
    ) -> None:
        self.template = Path(template)
        self.folder = Path(folder).resolve()
        self.core = (core[0], int(core[1]))
        self.host = host
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.started_in: float | None = None

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def config(self) -> Path:
        return self.folder / "kamailio.cfg"

    @property
    def log(self) -> Path:
        return self.folder / "kamailio.log"

    def info(self) -> dict:
        """For the run header: where it listened, its files, how long it took to start."""
        return {
            "address": f"{self.host}:{self.port}",
            "config": str(self.config),
            "log": str(self.log),
            "started_in_s": round(self.started_in or 0.0, 3),
        }

    def start(self, bound: float = READY_BOUND, exe: str | None = None) -> tuple[str, int]:
        exe = exe or binary()
        if exe is None or not os.access(exe, os.X_OK):
            raise CoreUnavailable(
                'test_system.core = "kamailio": kamailio is not installed '
                "(Debian package kamailio; ./dev installs it)"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = _free_port(self.host)
        try:
            self.config.write_text(config_text(self.host, self.port, self.core, self.template))
        except (jinja2.TemplateError, OSError) as exc:
            raise CoreUnavailable(f"{self.template}: {exc}") from None
        t0 = time.monotonic()
        with self.log.open("wb") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [exe, "-DD", "-E", "-f", str(self.config), "-Y", str(self.folder)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                preexec_fn=_die_with_parent,
            )
        try:
            self._await_ping(t0 + bound)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - t0
        return self.address

    def _await_ping(self, deadline: float) -> None:
        """OPTIONS to the hop until it answers 200; its exit or the bound end the wait."""
        call_id = secrets.token_hex(8)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((self.host, 0))
            here = s.getsockname()
            n = 0
            while True:
                code = self.process.poll() if self.process else None
                if code is not None:
                    raise CoreUnavailable(
                        f"kamailio exited ({code}) at start with {self.config}; {self._log_tail()}"
                    )
                if time.monotonic() >= deadline:
                    raise CoreUnavailable(
                        f"kamailio at {self.host}:{self.port} did not answer an OPTIONS ping "
                        f"within the bound ({self.config}); {self._log_tail()}"
                    )
                n += 1
                s.sendto(_ping(self.address, here, call_id, n), self.address)
                s.settimeout(PING_EVERY)
                with contextlib.suppress(TimeoutError, ConnectionRefusedError):
                    data = s.recv(65535)
                    if data.startswith(b"SIP/2.0 200") and call_id.encode() in data:
                        return

    def _log_tail(self) -> str:
        """The last error line of the log (Kamailio names the config line), or its last line."""
        try:
            lines = [ln for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return f"no log at {self.log}"
        errors = [ln for ln in lines if "ERROR" in ln or "CRITICAL" in ln]
        last = (errors or lines or ["(empty log)"])[0 if errors else -1]
        return f"log {self.log}: {last.strip()[:200]}"

    def stop(self, timeout: float = STOP_BOUND) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the harness dies, even by SIGKILL (Linux
    prctl PR_SET_PDEATHSIG), so a killed run never leaves its Kamailio behind. The signal
    follows the thread that started it: start from one that lives as long as the run."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def _ping(to: tuple[str, int], here: tuple[str, int], call_id: str, n: int) -> bytes:
    host, port = to
    me = f"{here[0]}:{here[1]}"
    return (
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {me};branch=z9hG4bK{call_id}{n};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:ping@{me}>;tag={call_id}\r\n"
        f"To: <sip:{host}:{port}>\r\n"
        f"Call-ID: {call_id}@{here[0]}\r\n"
        f"CSeq: {n} OPTIONS\r\n"
        "X-Cpmconf-Ping: ready\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()
