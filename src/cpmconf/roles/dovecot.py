"""The Message Storage Server the suite starts for the embedded SUT: a Dovecot of its own.

Owns one Dovecot (Debian package dovecot-imapd) per run: its configuration, passwd-file and
mail in a folder of the run (``reports/<run>/imap/``), IMAP on loopback at a free port, the
accounts the profile's [store] names. Readiness is the IMAP greeting, awaited with a bound,
then one account logging in and opening its INBOX; a Dovecot that exits, stays silent or
cannot serve mail is a :class:`StoreUnavailable` with the reason and the tail of its log,
never a hang. Dovecot keeps UIDPLUS on, so an APPEND answers with the UID.

Run as root, Dovecot serves mail as its own users, who must be able to walk down to the
folder; when the run folder is private (a parent without search permission for others) the
server lives in a fresh temporary folder instead, and its config and log are copied into
the run folder when it stops.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

READY_BOUND = 10.0
STOP_BOUND = 5.0
POLL = 0.02  # how long one readiness probe waits on the process before the next connect


class StoreUnavailable(RuntimeError):
    """No usable store: the store clauses cannot be judged (reason in the message)."""


class NotInstalled(StoreUnavailable):
    """No dovecot on this machine: the store clauses are not-applicable, not inconclusive."""


@dataclass(frozen=True)
class Account:
    uri: str  # the test user's SIP URI
    login: str
    password: str


def binary() -> str | None:
    """The dovecot executable, or None when the package is not installed."""
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None
    )


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _users() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid): Dovecot's own users when run as root
    (it refuses to serve mail as uid 0), else everything as the current user."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    try:
        internal = pwd.getpwnam("dovecot")
        login = pwd.getpwnam("dovenull")
    except KeyError:
        raise StoreUnavailable(
            "running as root, but the users dovecot/dovenull the package creates are missing"
        ) from None
    return internal.pw_name, login.pw_name, internal.pw_uid, internal.pw_gid


def config_text(folder: Path, port: int, host: str = "127.0.0.1") -> str:
    internal, login, uid, gid = _users()
    return f"""# Written by cpmconf for one run; nothing else reads it.
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
instance_name = cpmconf-{port}
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
# A refused login (a profile's wrong password) must not slow the next fetch past its bound.
auth_failure_delay = 0
login_trusted_networks = {host}/32
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {folder}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


class Dovecot:
    """One Dovecot, foreground child of this process; `start` then `stop`."""

    def __init__(self, folder: Path, accounts: list[Account], host: str = "127.0.0.1") -> None:
        self.home = Path(folder).resolve()  # where its config and log end up
        self.folder = self.home  # where it runs (a temporary folder when home is private)
        self.accounts = list(accounts)
        self.host = host
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.started_in: float | None = None  # seconds from spawn to the greeting

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def log(self) -> Path:
        return self.folder / "dovecot.log"

    def _write(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0 and not _walkable(self.home):
            self.folder = Path(tempfile.mkdtemp(prefix="cpmconf-imap-")).resolve()
            self.folder.chmod(0o755)
            (self.home / "WHERE").write_text(
                f"the run folder is private to root, so Dovecot ran in {self.folder}; its "
                "config and log are copied here when it stops\n"
            )
        for sub in ("run", "state", "mail"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        _, _, uid, gid = _users()
        if os.geteuid() == 0:
            os.chown(self.folder / "mail", uid, gid)
        for a in self.accounts:
            if any(c in a.login + a.password for c in ":\r\n"):
                raise StoreUnavailable(f"store account of {a.uri}: ':' or a line break in it")
        users = self.folder / "users"
        users.write_text("".join(f"{a.login}:{{PLAIN}}{a.password}::::::\n" for a in self.accounts))
        users.chmod(0o644)
        self.port = _free_port(self.host)
        conf = self.folder / "dovecot.conf"
        conf.write_text(config_text(self.folder, self.port, self.host))
        return conf

    def start(self, bound: float = READY_BOUND) -> tuple[str, int]:
        exe = binary()
        if exe is None:
            raise NotInstalled(
                "dovecot is not installed (Debian package dovecot-imapd; ./dev installs it)"
            )
        conf = self._write()
        t0 = time.monotonic()
        self.process = subprocess.Popen(
            [exe, "-F", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "dovecot.stderr").open("wb"),
        )
        try:
            self._await_greeting(t0 + bound)
            self._probe(max(1.0, t0 + bound - time.monotonic()))
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - t0
        return self.address

    def _probe(self, timeout: float) -> None:
        """One account logs in and opens its INBOX: the server can serve mail, not only greet."""
        if not self.accounts:
            return
        a = self.accounts[0]
        try:
            imap = imaplib.IMAP4(self.host, self.port, timeout=timeout)
            try:
                imap.login(a.login, a.password)
                typ, data = imap.select("INBOX", readonly=True)
                if typ != "OK":
                    raise imaplib.IMAP4.error(f"SELECT INBOX: {data!r}")
            finally:
                with contextlib.suppress(OSError, imaplib.IMAP4.error):
                    imap.logout()
        except (OSError, imaplib.IMAP4.error) as exc:
            raise StoreUnavailable(
                f"dovecot greets but cannot serve {a.login}'s mail ({exc}); {self._tail()}"
            ) from None

    def _await_greeting(self, deadline: float) -> None:
        """Bounded: each round tries one connect, then waits on the process itself."""
        last = "no answer"
        while True:
            try:
                with socket.create_connection(self.address, timeout=1.0) as s:
                    s.settimeout(max(0.1, deadline - time.monotonic()))
                    greeting = s.recv(200)
                if greeting.startswith(b"* OK"):
                    return
                last = f"greeting {greeting[:60]!r}"
            except OSError as exc:
                last = str(exc)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StoreUnavailable(
                    f"dovecot gave no IMAP greeting on {self.host}:{self.port} within the "
                    f"bound ({last}); {self._tail()}"
                )
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.process.wait(min(POLL, remaining))
                raise StoreUnavailable(f"dovecot exited with status {code}; {self._tail()}")

    def _tail(self) -> str:
        parts = []
        for p in (self.log, self.folder / "dovecot.stderr"):
            with contextlib.suppress(OSError):
                text = p.read_text(errors="replace").strip()
                if text:
                    parts.append(" | ".join(text.splitlines()[-3:]))
        return "log: " + (" / ".join(parts) or "empty") + f" (see {self.log})"

    def stop(self, bound: float = STOP_BOUND) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()  # the master takes its children down with it
            try:
                proc.wait(bound)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(bound)
        if self.folder != self.home:  # bring what tells the story home, drop the rest
            for name in ("dovecot.conf", "dovecot.log", "dovecot.stderr", "users"):
                with contextlib.suppress(OSError):
                    shutil.copy2(self.folder / name, self.home / name)
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = self.home


def _walkable(path: Path) -> bool:
    """Whether users other than root can reach `path` (search permission on every parent)."""
    for p in [path, *path.parents]:
        with contextlib.suppress(OSError):
            if not p.stat().st_mode & stat.S_IXOTH:
                return False
    return True
