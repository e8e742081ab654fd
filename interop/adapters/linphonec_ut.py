"""The upper tester (docs/upper-tester.md) for linphonec 5.1, over its own control interface.

linphonec reads commands on stdin (`chat <uri> <text>`, `unregister`) and, at `-d 6`, logs
every SIP message it sends or receives on stdout; this adapter starts it, writes the commands
and reads what went over the wire back from that log. linphonec has no command that makes it
REGISTER afresh, so `/register` starts a new linphonec whose configuration registers at start
(the old one is killed, so it sends nothing on its way out). Everything else of the interface
that linphonec cannot do answers 501 with the reason.

    python3 linphonec_ut.py --state DIR --rc interop/linphonec/linphonerc --http 127.0.0.1:8082
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading

from ut_common import CALL_BOUND, Driver, SipMsg, UtError, parse_sip, serve_until_signalled

LOG_LINE = re.compile(r"^(linphonec> )*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3} ")
SENT = re.compile(r"message sent to \[(\w+)://")
RECEIVED = re.compile(r"received \[\d+\] new bytes from \[(\w+)://")
PROMPT = "linphonec> "
# The last line linphonec writes before its first prompt (which has no line end).
READY = "video is disabled in linphonec"


class Linphonec(Driver):
    product = "linphonec 5.1"

    def __init__(self, args):
        super().__init__(args.user)
        self.state = args.state
        self.rc_template = open(args.rc).read()
        self.home = os.path.join(args.state, "linphonec")
        os.makedirs(os.path.join(self.home, ".local", "share", "linphone"), exist_ok=True)
        self.log = open(os.path.join(args.state, "linphonec.log"), "w")
        self.registered = False
        self.busy = threading.Lock()
        self.ready = threading.Event()
        self.proc: subprocess.Popen | None = None
        self._spawn(register=False, expires=3600)

    def _spawn(self, register: bool, expires: int) -> None:
        """Start linphonec (killing the one before); return once it prompts (bounded)."""
        if self.proc is not None:
            self._kill()
        rc = os.path.join(self.home, "linphonerc")
        with open(rc, "w") as f:
            f.write(
                self.rc_template.replace("@REGISTER@", "1" if register else "0").replace(
                    "@EXPIRES@", str(expires)
                )
            )
        self.ready.clear()
        self.proc = subprocess.Popen(
            ["linphonec", "-d", "6", "-c", rc],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.home,
            env=dict(os.environ, HOME=self.home),
        )
        with open(os.path.join(self.state, "pids"), "a") as f:
            f.write(f"{self.proc.pid}\n")
        threading.Thread(target=self._read_log, args=(self.proc,), daemon=True).start()
        if not self.ready.wait(10):
            raise UtError(502, "linphonec did not prompt for commands within 10 s")

    def _kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(3)
        self.registered = False

    def _read_log(self, proc: subprocess.Popen) -> None:
        block: list[str] | None = None
        out = False
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            self.log.write(line)
            self.log.flush()
            if READY in line or PROMPT in line:
                self.ready.set()
            if block is not None and (LOG_LINE.match(line) or line.startswith(PROMPT)):
                msg = parse_sip("".join(block), out)
                if msg is not None:
                    self.trace.add(msg)
                block = None
            if block is not None:
                block.append(line)
                continue
            m_sent, m_recv = SENT.search(line), RECEIVED.search(line)
            if m_sent or m_recv:
                block, out = [], bool(m_sent)

    def command(self, line: str) -> None:
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except OSError as exc:
            raise UtError(502, f"linphonec is not reading commands: {exc}") from exc

    def status(self) -> dict:
        return {"ok": True, "registered": self.registered, "user": self.user}

    def _register_exchange(self, mark: int, expiring: bool) -> int | None:
        def is_register(m: SipMsg) -> bool:
            if not (m.out and m.is_request and m.method == "REGISTER"):
                return False
            zero = "expires=0" in (m.header("Contact") or "") or m.header("Expires") == "0"
            return zero == expiring

        reg = self.trace.wait(is_register, mark, 2.0)
        if reg is None:
            what = "un-REGISTER" if expiring else "REGISTER"
            raise UtError(502, f"linphonec sent no {what} within 2 s")
        final = self.trace.final_for(reg, mark, CALL_BOUND - 2.5)
        return final.status if final else None

    def register(self, body: dict) -> dict:
        expires = int(body.get("expires") or 3600)
        with self.busy:
            mark = self.trace.mark()
            self._spawn(register=True, expires=expires)
            status = self._register_exchange(mark, expiring=False)
            self.registered = status == 200
            return {"ok": True, "status": status}

    def deregister(self, body: dict) -> dict:
        with self.busy:
            mark = self.trace.mark()
            self.command("unregister")
            status = self._register_exchange(mark, expiring=True)
            self.registered = False
            return {"ok": True, "status": status}

    def send(self, body: dict) -> dict:
        self.check_send_options(
            body,
            {"to", "text", "content_type"},
            {
                "group": "linphonec's chat command has no group messaging (no resource list)",
                "reply_to_message": "linphonec's chat command cannot answer a received message",
                "reply_address": "linphonec's chat command cannot set Reply-To",
                "conversation": "linphonec's chat command keeps no CPM Conversation-ID",
                "anonymous": "linphonec's chat command cannot ask for anonymity",
                "expires": "linphonec's chat command cannot set an expiry",
                "disposition": "linphonec's chat command cannot choose disposition notifications",
                "cancel": "linphonec has no large message mode, so no INVITE to cancel",
            },
        )
        if body.get("content_type") not in (None, "text/plain"):
            raise UtError(501, "linphonec's chat command sends text only")
        to, text = body.get("to"), body.get("text")
        if not to or text is None:
            raise UtError(400, "/send needs 'to' and 'text'")
        if "\n" in text or "\r" in text:
            raise UtError(501, "linphonec reads one command per line, so a text with a line break")
        with self.busy:
            mark = self.trace.mark()
            self.command(f"chat {to} {text}")
            req = self.trace.wait(
                lambda m: (
                    m.out
                    and m.is_request
                    and m.method == "MESSAGE"
                    and "imdn" not in (m.header("Content-Type") or "")
                ),
                mark,
                2.0,
            )
            if req is None:
                raise UtError(502, "linphonec sent no MESSAGE within 2 s of its chat command")
            final = self.trace.final_for(req, mark, CALL_BOUND - 2.5)
            status = final.status if final else None
            return self.record_sent(req, to, text, status)

    def received_entry(self, n: int, m: SipMsg, answer: SipMsg | None) -> dict:
        entry = super().received_entry(n, m, answer)
        if entry["content_type"] == "message/cpim":
            # linphonec unwraps CPIM and shows the inner text: after the CPIM message headers
            # and the inner MIME headers.
            parts = m.body.replace("\r\n", "\n").split("\n\n", 2)
            if len(parts) == 3:
                entry["text"] = parts[2]
        return entry

    def stop(self) -> None:
        if self.proc is not None:
            self._kill()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--state", required=True, help="the run's state directory")
    p.add_argument("--rc", required=True, help="the linphonerc template")
    p.add_argument("--http", default="127.0.0.1:8082", help="where the upper tester listens")
    p.add_argument("--user", default="sip:carol@example.net")
    args = p.parse_args()
    driver = Linphonec(args)
    return serve_until_signalled(driver, args.http)


if __name__ == "__main__":
    sys.exit(main())
