"""The upper tester (docs/upper-tester.md) for baresip 1.0, over its own control interface.

Starts baresip (`-s`: SIP trace on stdout) with the config in --confdir and drives it through
the ctrl_tcp module: JSON commands framed as netstrings on a TCP port. What baresip sent and
received is read back from its SIP trace. baresip's commands can:
- register (`uanew` with `regint`) and deregister (`uadel`);
- send a text as a text/plain MESSAGE, but only to its *current contact* (`message`), chosen
  among the contacts file with `contact_next`.
Everything else answers 501 with the reason.

    python3 baresip_ut.py --state DIR --confdir interop/baresip --http 127.0.0.1:8081
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

from ut_common import CALL_BOUND, Driver, UtError, parse_sip, serve_until_signalled, unsupported

TRACE_START = "\x1b[36;1m#"
TRACE_END = "\x1b[;m"


class Ctrl:
    """ctrl_tcp: netstring-framed JSON; responses carry our token, events come unasked."""

    def __init__(self, port: int, bound: float = 10.0):
        end = time.monotonic() + bound
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)  # bounded start-up poll of the product's port
        self.sock.settimeout(None)
        self.cond = threading.Condition()
        self.responses: dict[str, dict] = {}
        self.events: list[dict] = []
        self.n = 0
        self.send_lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:  # closed by stop()
                return
            if not data:
                return
            buf += data
            while True:
                m = re.match(rb"(\d+):", buf)
                if not m or len(buf) < m.end() + int(m.group(1)) + 1:
                    break
                n = int(m.group(1))
                doc = json.loads(buf[m.end() : m.end() + n])
                buf = buf[m.end() + n + 1 :]
                with self.cond:
                    if doc.get("response"):
                        self.responses[doc.get("token", "")] = doc
                    else:
                        self.events.append(doc)
                    self.cond.notify_all()

    def command(self, command: str, params: str = "", bound: float = 2.0) -> dict:
        with self.send_lock:
            self.n += 1
            token = f"ut{self.n}"
            data = json.dumps({"command": command, "params": params, "token": token}).encode()
            self.sock.sendall(str(len(data)).encode() + b":" + data + b",")
        end = time.monotonic() + bound
        with self.cond:
            while token not in self.responses:
                left = end - time.monotonic()
                if left <= 0:
                    raise UtError(
                        504, f"baresip did not answer the {command!r} command in {bound} s"
                    )
                self.cond.wait(left)
            return self.responses.pop(token)


class Baresip(Driver):
    product = "baresip 1.0"

    def __init__(self, args):
        super().__init__(args.user)
        self.proxy = args.proxy
        self.sip_addr = args.sip
        self.registered = False
        self.ua = False
        self.busy = threading.Lock()
        self.state = args.state
        self.ctrl_port = args.ctrl_port
        self.home = os.path.join(args.state, "baresip")
        shutil.copytree(
            args.confdir, self.home, ignore=shutil.ignore_patterns("start", "stop", "*.toml")
        )
        with open(os.path.join(self.home, "contacts")) as f:
            self.contacts = re.findall(r"<(sip:[^>]+)>", f.read())
        self.log = open(os.path.join(args.state, "baresip.log"), "w")
        self.proc: subprocess.Popen | None = None
        self._spawn(regint=0)

    def _spawn(self, regint: int) -> None:
        """Start baresip with carol's UA; regint 0: a UA that never registers, so requests
        to carol reach a UA (not baresip's 404 for no UA) before any case registers."""
        self.proc = subprocess.Popen(
            ["baresip", "-s", "-f", self.home],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        with open(os.path.join(self.state, "pids"), "a") as f:
            f.write(f"{self.proc.pid}\n")
        threading.Thread(target=self._read_trace, args=(self.proc,), daemon=True).start()
        self.ctrl = Ctrl(self.ctrl_port)
        account = f'<{self.user}>;outbound="{self.proxy}";regint={regint}'
        answer = self.ctrl.command("uanew", account)
        if not answer.get("ok"):
            raise UtError(502, f"baresip refused uanew: {answer.get('data')}")
        self.ua = True

    def _restart(self, regint: int) -> None:
        # baresip cannot send a fresh REGISTER for a UA it holds, and deleting the UA sends
        # an un-REGISTER no case expects: the process ends instead (SIGKILL, it sends
        # nothing) and a new one starts with a new UA.
        self.stop()
        self.ua = self.registered = False
        self._spawn(regint)

    def _read_trace(self, proc: subprocess.Popen) -> None:
        block: list[str] | None = None
        out = False
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            self.log.write(line)
            self.log.flush()
            if block is None:
                if line.startswith(TRACE_START):
                    block = []
                continue
            if not block and not line.strip("\r\n").strip():
                continue
            if not block and " -> " in line and not re.match(r"^[A-Z]+ \S+ SIP/2\.0", line):
                # "UDP src -> dst": what is not addressed to baresip's listener, it sent
                out = line.split(" -> ")[1].strip() != self.sip_addr
                block.append("")  # the address line is not part of the message
                continue
            if TRACE_END in line:
                block.append(line.split(TRACE_END)[0])
                msg = parse_sip("".join(block[1:]), out)
                if msg is not None:
                    self.trace.add(msg)
                block = None
                continue
            block.append(line)

    def status(self) -> dict:
        return {"ok": True, "registered": self.registered, "user": self.user}

    def _uadel(self) -> int | None:
        """Delete the UA (baresip then un-REGISTERs); the final status of that REGISTER."""
        if not self.ua:
            return None
        mark = self.trace.mark()
        self.ctrl.command("uadel", self.user)
        self.ua = self.registered = False
        reg = self.trace.wait(
            lambda m: m.out and m.is_request and m.method == "REGISTER", mark, 1.5
        )
        if reg is None:
            return None
        final = self.trace.final_for(reg, mark, 1.5)
        return final.status if final else None

    def register(self, body: dict) -> dict:
        expires = int(body.get("expires") or 3600)
        with self.busy:
            mark = self.trace.mark()
            self._restart(regint=expires)
            reg = self.trace.wait(
                lambda m: m.out and m.is_request and m.method == "REGISTER", mark, 2.0
            )
            if reg is None:
                raise UtError(502, "baresip sent no REGISTER within 2 s of uanew")
            final = self.trace.final_for(reg, mark, CALL_BOUND - 2.5)
            status = final.status if final else None
            self.registered = status == 200
            return {"ok": True, "status": status}

    def deregister(self, body: dict) -> dict:
        with self.busy:
            if not self.ua:
                raise UtError(409, "baresip holds no registration to end")
            return {"ok": True, "status": self._uadel()}

    def _select(self, to: str) -> None:
        """Make `to` baresip's current contact: step through the contacts list (bounded)."""
        if to not in self.contacts:
            raise unsupported(
                f"baresip sends a MESSAGE only to a contact of its contacts file; {to} is not one"
            )
        # contact_next and contact_prev stop at the ends of the list (no wrap): walk one way
        # to its end, then the other, looking at the contact each step makes current.
        answer: dict = {}
        for step in ("contact_prev", "contact_next"):
            for _ in range(len(self.contacts)):
                answer = self.ctrl.command(step)
                if f"<{to}>" in (answer.get("data") or ""):
                    return
        raise UtError(
            502, f"baresip's contact_next never made {to} the current contact (last: {answer})"
        )

    def send(self, body: dict) -> dict:
        self.check_send_options(
            body,
            {"to", "text", "content_type"},
            {
                "group": "baresip has no group messaging (no resource list, no controller)",
                "reply_to_message": "baresip's message command cannot answer a received message",
                "reply_address": "baresip's message command cannot set Reply-To",
                "conversation": "baresip keeps no Conversation-ID",
                "anonymous": "baresip's message command cannot ask for anonymity",
                "expires": "baresip's message command cannot set an expiry",
                "disposition": "baresip cannot request disposition notifications",
                "cancel": "baresip has no large message mode, so no INVITE to cancel",
            },
        )
        if body.get("content_type") not in (None, "text/plain"):
            raise unsupported("baresip's message command sends text/plain only")
        to, text = body.get("to"), body.get("text")
        if not to or text is None:
            raise UtError(400, "/send needs 'to' and 'text'")
        with self.busy:
            self._select(to)
            mark = self.trace.mark()
            answer = self.ctrl.command("message", text)
            if not answer.get("ok"):
                raise UtError(502, f"baresip's message command failed: {answer.get('data')}")
            req = self.trace.wait(
                lambda m: m.out and m.is_request and m.method == "MESSAGE", mark, 1.5
            )
            if req is None:
                raise UtError(502, "baresip sent no MESSAGE within 1.5 s of its message command")
            if req.start.split()[1] != to:
                raise UtError(502, f"baresip sent its MESSAGE to {req.start.split()[1]}, not {to}")
            final = self.trace.final_for(req, mark, CALL_BOUND - 2.0)
            status = final.status if final else None
            return self.record_sent(req, to, text, status)

    def stop(self) -> None:
        """End baresip at once: SIGKILL, so it sends no un-REGISTER on its way out."""
        self.ctrl.sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(3)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--state", required=True, help="the run's state directory")
    p.add_argument("--confdir", required=True, help="baresip config, accounts and contacts")
    p.add_argument("--http", default="127.0.0.1:8081", help="where the upper tester listens")
    p.add_argument("--user", default="sip:carol@example.net")
    p.add_argument("--proxy", default="sip:127.0.0.1:5070", help="the suite's core")
    p.add_argument("--sip", default="127.0.0.1:5062", help="baresip's sip_listen")
    p.add_argument("--ctrl-port", type=int, default=4444)
    args = p.parse_args()
    driver = Baresip(args)
    return serve_until_signalled(driver, args.http)


if __name__ == "__main__":
    sys.exit(main())
