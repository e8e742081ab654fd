"""What the interop upper-tester adapters share: the JSON-over-HTTP server of
docs/upper-tester.md, and a record of the SIP messages a product traced.

An adapter subclasses `Driver` with the product's own control interface; every endpoint the
product cannot serve answers 501 with a reason. The products show what they sent and received
only in their SIP trace, so each adapter feeds the raw messages it reads there into a
`SipTrace` and answers from it (Call-IDs, final statuses, received texts). Standard library
only; every wait is bounded.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CALL_BOUND = 4.5  # every answer within the 5 s the upper-tester interface allows


class UtError(Exception):
    """An endpoint's refusal: an HTTP status and the reason, as {"error": reason}."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def unsupported(reason: str) -> UtError:
    return UtError(501, reason)


@dataclass
class SipMsg:
    """One SIP message as the product traced it; `out` when the product sent it."""

    out: bool
    start: str
    headers: list[tuple[str, str]]
    body: str
    at: float = field(default_factory=time.monotonic)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    @property
    def is_request(self) -> bool:
        return not self.start.startswith("SIP/2.0")

    @property
    def method(self) -> str:
        if self.is_request:
            return self.start.split(" ", 1)[0]
        return (self.header("CSeq") or " ").split()[-1]

    @property
    def status(self) -> int | None:
        return None if self.is_request else int(self.start.split()[1])

    @property
    def call_id(self) -> str:
        return (self.header("Call-ID") or self.header("i") or "").strip()

    @property
    def cseq(self) -> str:
        return (self.header("CSeq") or "").strip()


_COMPACT = {
    "i": "Call-ID",
    "f": "From",
    "t": "To",
    "c": "Content-Type",
    "l": "Content-Length",
    "m": "Contact",
    "v": "Via",
}


def parse_sip(raw: str, out: bool) -> SipMsg | None:
    """A traced message; None when the text is not one (the trace is a log, not the wire)."""
    head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    if not lines or not re.match(r"^(SIP/2\.0 \d{3}|[A-Z]+ \S+ SIP/2\.0)", lines[0]):
        return None
    headers = []
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k = k.strip()
            headers.append((_COMPACT.get(k.lower(), k), v.strip()))
    return SipMsg(out, lines[0].strip(), headers, body)


def uri_of(name_addr: str | None) -> str | None:
    """The URI inside a From/To value."""
    if not name_addr:
        return None
    m = re.search(r"<([^>]*)>", name_addr)
    return (m.group(1) if m else name_addr.split(";")[0]).strip()


class SipTrace:
    """The messages a product traced, in order, with bounded waits for the next ones."""

    def __init__(self) -> None:
        self.msgs: list[SipMsg] = []
        self.cond = threading.Condition()

    def add(self, msg: SipMsg) -> None:
        with self.cond:
            self.msgs.append(msg)
            self.cond.notify_all()

    def mark(self) -> int:
        with self.cond:
            return len(self.msgs)

    def wait(self, pred, since: int, bound: float) -> SipMsg | None:
        """The first message from index `since` on that satisfies `pred`, within `bound` s."""
        end = time.monotonic() + bound
        with self.cond:
            i = since
            while True:
                while i < len(self.msgs):
                    if pred(self.msgs[i]):
                        return self.msgs[i]
                    i += 1
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def final_for(self, req: SipMsg, since: int, bound: float) -> SipMsg | None:
        """The final response to `req` (same Call-ID and CSeq, opposite direction)."""
        return self.wait(
            lambda m: (
                not m.is_request
                and m.out != req.out
                and m.call_id == req.call_id
                and m.cseq == req.cseq
                and (m.status or 0) >= 200
            ),
            since,
            bound,
        )

    def answer_of(self, req: SipMsg, since: int) -> SipMsg | None:
        """The product's final answer to a received request, if traced already."""
        return self.wait(
            lambda m: (
                not m.is_request
                and m.out
                and m.call_id == req.call_id
                and m.cseq == req.cseq
                and (m.status or 0) >= 200
            ),
            since,
            0,
        )


class Driver:
    """The endpoints; the defaults refuse with 501. Subclasses drive one product."""

    product = "the product"

    def __init__(self, user: str):
        self.user = user
        self.trace = SipTrace()
        self.reset_mark = 0
        self.sent: list[dict] = []
        self.lock = threading.Lock()

    # --- what every product answers the same way
    def reset(self, body: dict) -> dict:
        with self.lock:
            self.sent = []
            self.reset_mark = self.trace.mark()
        return {"ok": True}

    def messages(self) -> dict:
        with self.lock:
            sent = list(self.sent)
        return {"sent": sent, "received": self.received()}

    def received(self) -> list[dict]:
        """Every MESSAGE the product received since /reset, with the status it answered."""
        out = []
        with self.trace.cond:
            msgs = self.trace.msgs[self.reset_mark :]
        seen = set()
        for i, m in enumerate(msgs):
            if m.out or not m.is_request or m.method != "MESSAGE":
                continue
            key = (m.call_id, m.cseq)
            if key in seen:  # a retransmission
                continue
            seen.add(key)
            answer = next(
                (
                    a
                    for a in msgs[i + 1 :]
                    if a.out
                    and not a.is_request
                    and a.call_id == m.call_id
                    and a.cseq == m.cseq
                    and (a.status or 0) >= 200
                ),
                None,
            )
            out.append(self.received_entry(len(out) + 1, m, answer))
        return out

    def received_entry(self, n: int, m: SipMsg, answer: SipMsg | None) -> dict:
        # The product keeps none of the CPM headers, so only what it shows is reported.
        return {
            "id": f"r{n}",
            "direction": "received",
            "call_id": m.call_id,
            "from": uri_of(m.header("From")),
            "to": uri_of(m.header("To")),
            "conversation_id": None,
            "contribution_id": None,
            "in_reply_to": None,
            "reply_to": None,
            "content_type": (m.header("Content-Type") or "").split(";")[0].strip() or None,
            "text": m.body,
            "message_uid": None,
            "mode": "pager",
            "status": answer.status if answer else None,
        }

    def record_sent(self, req: SipMsg, to: str, text: str, status: int | None) -> dict:
        """Keep a pager MESSAGE the product sent (the product keeps none of the CPM headers)
        and answer /send with it."""
        with self.lock:
            entry = {
                "id": f"s{len(self.sent) + 1}",
                "direction": "sent",
                "call_id": req.call_id,
                "from": self.user,
                "to": to,
                "conversation_id": None,
                "contribution_id": None,
                "in_reply_to": None,
                "reply_to": None,
                "content_type": "text/plain",
                "text": text,
                "message_uid": None,
                "mode": "pager",
                "status": status,
            }
            self.sent.append(entry)
        return {"ok": True, "id": entry["id"], "call_id": req.call_id, "status": status}

    # --- product-specific
    def status(self) -> dict:
        raise unsupported(f"{self.product}: no status")

    def register(self, body: dict) -> dict:
        raise unsupported(f"{self.product} cannot register on request")

    def deregister(self, body: dict) -> dict:
        raise unsupported(f"{self.product} cannot deregister on request")

    def send(self, body: dict) -> dict:
        raise unsupported(f"{self.product} cannot send on request")

    def deferred_subscribe(self, body: dict) -> dict:
        raise unsupported(
            f"{self.product} has no deferred-messages subscription (Event: deferred-messages)"
        )

    def deferred(self) -> dict:
        raise unsupported(f"{self.product} has no deferred-messages subscription, so no list")

    def deferred_handle(self, body: dict) -> dict:
        raise unsupported(f"{self.product} cannot send a deferred-message handling INVITE")

    def answer_delay(self, body: dict) -> dict:
        raise unsupported(f"{self.product} has no large message mode, so no INVITE to hold")

    def check_send_options(self, body: dict, allowed: set[str], why: dict[str, str]) -> None:
        """Refuse (501) a /send option the product's command cannot express."""
        for key, value in body.items():
            if key in allowed or value in (None, False, [], ""):
                continue
            raise unsupported(why.get(key, f"{self.product}'s send command cannot set {key!r}"))


ROUTES = {
    ("GET", "/status"): lambda d, b: d.status(),
    ("POST", "/reset"): lambda d, b: d.reset(b),
    ("POST", "/register"): lambda d, b: d.register(b),
    ("POST", "/deregister"): lambda d, b: d.deregister(b),
    ("POST", "/send"): lambda d, b: d.send(b),
    ("GET", "/messages"): lambda d, b: d.messages(),
    ("POST", "/deferred/subscribe"): lambda d, b: d.deferred_subscribe(b),
    ("GET", "/deferred"): lambda d, b: d.deferred(),
    ("POST", "/deferred/handle"): lambda d, b: d.deferred_handle(b),
    ("POST", "/answer-delay"): lambda d, b: d.answer_delay(b),
}


def serve(driver: Driver, host: str, port: int) -> ThreadingHTTPServer:
    """Serve `driver` on host:port in a thread; returns the server (shutdown() to stop)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, doc: dict) -> None:
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            route = ROUTES.get((method, self.path.rstrip("/") or "/"))
            if route is None:
                self._answer(404, {"error": f"no endpoint {method} {self.path}"})
                return
            try:
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}") if n else {}
                if not isinstance(body, dict):
                    raise UtError(400, "the body is not a JSON object")
                self._answer(200, route(driver, body))
            except UtError as exc:
                self._answer(exc.status, {"error": exc.reason})
            except json.JSONDecodeError as exc:
                self._answer(400, {"error": f"the body is not JSON: {exc}"})
            except Exception as exc:  # the adapter's own fault, said as such
                self._answer(500, {"error": f"adapter error: {type(exc).__name__}: {exc}"})

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._route("POST")

        def log_message(self, fmt: str, *args) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_until_signalled(driver: Driver, http: str) -> int:
    """Serve `driver` on HOST:PORT until SIGTERM or SIGINT, then stop the server and the
    product; the adapters' whole main loop."""
    host, port = http.rsplit(":", 1)
    server = serve(driver, host, int(port))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    done.wait()
    server.shutdown()
    driver.stop()
    return 0
