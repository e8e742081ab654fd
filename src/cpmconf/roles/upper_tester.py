"""Client side of the upper-tester interface (docs/upper-tester.md): JSON over HTTP.

Owns how the test system commands a SUT client, and the manual upper tester: an operator who
carries out each command for a client with no control API (`client.upper_tester = "manual"`,
`ManualUpperTester`). Calls run in a worker thread with a bound, so
a SUT whose upper tester hangs costs one guard time and an `UpperTesterError`, never a hang.
An error answer becomes an `UpperTesterError` naming the HTTP status, reason and error text
(its `status` attribute holds the code).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import urllib.error
import urllib.request

from cpmconf.codec.errors import CodecError
from cpmconf.codec.sip import SipMessage
from cpmconf.roles.errors import UpperTesterError

MAX_ANSWER = 4 * 1024 * 1024


def _error_text(raw: bytes) -> str:
    """The error text of an error answer: its `error` member (docs/upper-tester.md), else the
    body as it came, cut short."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        answer = json.loads(text)
    except ValueError:
        return text[:300] or "(no body)"
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        return answer["error"]
    return text[:300]


def member(answer: dict, key: str, what: str):
    """A member docs/upper-tester.md says the answer to `what` carries; its absence is the
    upper tester's failure (`UpperTesterError`), never a KeyError in a case."""
    value = answer.get(key) if isinstance(answer, dict) else None
    if value is None:
        raise UpperTesterError(f"{what}: the answer has no {key!r}: {str(answer)[:200]}")
    return value


async def answer(task: asyncio.Future, bound: float, what: str) -> dict:
    """The upper tester's answer to a call started earlier (`task`), awaited at most `bound`
    seconds more; its silence is the upper tester's failure, never the SUT's wire."""
    try:
        async with asyncio.timeout(bound):
            return await task
    except TimeoutError:
        raise UpperTesterError(f"{what}: no answer within {bound:g} s") from None


class UpperTester:
    def __init__(self, base_url: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read(MAX_ANSWER + 1)
        except urllib.error.HTTPError as exc:
            err = UpperTesterError(
                f"{method} {path}: HTTP {exc.code} {exc.reason or ''}".rstrip()
                + f": {_error_text(exc.read(4096))}"
            )
            err.status = exc.code
            raise err from exc
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise UpperTesterError(
                f"{method} {path}: no answer from {self.base_url}: {exc}"
            ) from exc
        if len(raw) > MAX_ANSWER:
            raise UpperTesterError(f"{method} {path}: answer larger than {MAX_ANSWER} bytes")
        try:
            answer = json.loads(raw or b"{}")
        except ValueError as exc:
            raise UpperTesterError(f"{method} {path}: answer is not JSON: {raw[:200]!r}") from exc
        if not isinstance(answer, dict):
            raise UpperTesterError(f"{method} {path}: answer is not a JSON object")
        return answer

    async def call(self, method: str, path: str, body: dict | None = None) -> dict:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._call, method, path, body), self.timeout + 1.0
            )
        except TimeoutError:
            raise UpperTesterError(
                f"{method} {path}: no answer within {self.timeout:g} s"
            ) from None

    async def status(self) -> dict:
        return await self.call("GET", "/status")

    async def reset(self) -> dict:
        return await self.call("POST", "/reset", {})

    async def register(self, expires: int | None = None) -> dict:
        return await self.call("POST", "/register", {} if expires is None else {"expires": expires})

    async def deregister(self) -> dict:
        return await self.call("POST", "/deregister", {})

    async def send(self, **options) -> dict:
        return await self.call("POST", "/send", options)

    async def messages(self) -> dict:
        return await self.call("GET", "/messages")

    async def deferred(self) -> dict:
        """What the client learnt of deferred messages: {"message_uri_ids": [...], ...}."""
        return await self.call("GET", "/deferred")

    async def deferred_subscribe(self) -> dict:
        return await self.call("POST", "/deferred/subscribe", {})

    async def deferred_handle(self, actions: list[tuple[str, str]] | None = None) -> dict:
        """Handle deferred messages: None for all, else (Message-URI-ID, cpm_action) pairs."""
        body = {} if actions is None else {"actions": [{"uri": u, "action": a} for u, a in actions]}
        return await self.call("POST", "/deferred/handle", body)


# -- the manual upper tester -----------------------------------------------------------------

MANUAL = "manual"  # client.upper_tester in a profile: an operator carries out each step
OPERATOR_SCRIPT_ENV = "CPMCONF_OPERATOR_SCRIPT"  # a file of the operator's answers, one a line
MAX_TYPED = 160  # longest text an operator is asked to type


class TerminalOperator:
    """A person at the terminal: instructions go to /dev/tty (stderr without one), answers
    come from it a line at a time. One reader thread feeds a queue, so a line typed while no
    instruction is pending never answers the next one."""

    def __init__(self) -> None:
        try:
            self._tty = open("/dev/tty", "r+", encoding="utf-8", buffering=1)  # noqa: SIM115
        except OSError:
            self._tty = None
        self._lines: asyncio.Queue[str] | None = None

    def instruct(self, text: str) -> None:
        out = self._tty or sys.__stderr__
        out.write(
            f"\ncpmconf operator: {text}\n"
            "  (press Enter when done, or type 'fail <why>' if it cannot be done)\n"
        )
        out.flush()

    async def answer(self) -> str:
        loop = asyncio.get_running_loop()
        if self._lines is None:
            self._lines = asyncio.Queue()
            source = self._tty

            def read() -> None:
                stream = source or sys.__stdin__
                for line in iter(stream.readline, ""):
                    loop.call_soon_threadsafe(self._lines.put_nowait, line.rstrip("\n"))

            threading.Thread(target=read, name="operator", daemon=True).start()
        while not self._lines.empty():  # typed before this instruction: not its answer
            self._lines.get_nowait()
        line = await self._lines.get()
        return line.strip() or "done"


class ScriptedOperator:
    """An operator read from a file, for self-tests: each instruction takes the next line.
    `done` (or an empty line): carried out; `fail <why>`: cannot be done; `wire`: says
    nothing at the terminal (the action shows on the wire, or the guard time runs out).
    `on_instruction`, if set, is called with each instruction (a fake device acting on it)."""

    def __init__(self, lines: list[str], on_instruction=None) -> None:
        self.lines = list(lines)
        self.instructions: list[str] = []
        self.on_instruction = on_instruction

    @classmethod
    def from_file(cls, path: str) -> ScriptedOperator:
        with open(path, encoding="utf-8") as fh:
            return cls([ln.rstrip("\n") for ln in fh if not ln.startswith("#")])

    def instruct(self, text: str) -> None:
        self.instructions.append(text)
        if self.on_instruction is not None:
            self.on_instruction(text)

    async def answer(self) -> str:
        line = (self.lines.pop(0) if self.lines else "wire").strip() or "done"
        if line == "wire":
            await asyncio.Event().wait()  # silent: only the wire or the guard ends the wait
        return line


def default_operator():
    script = os.environ.get(OPERATOR_SCRIPT_ENV)
    return ScriptedOperator.from_file(script) if script else TerminalOperator()


class ManualUpperTester:
    """The upper-tester interface carried out by an operator (client.upper_tester = "manual").

    Each command that makes the client act prints one instruction ("on carol's device, send
    'hello 7f3a' to sip:bob@example.net now") and ends at whichever comes first: the action
    on the wire (a request of the expected method reaching the core) or the operator's answer
    (done, or fail with a reason, an `UpperTesterError`), within the operator's guard time
    (`timers.operator`); while it is pending the core's waits last that long too. What an
    operator cannot report or type (received-message lists, groups, replies, deferred
    messages, long texts) answers 501 with the reason, as an adapter would."""

    def __init__(self, core, user: str, guard: float, operator=None) -> None:
        self.core = core
        self.user = user
        self.name = user.split(":", 1)[-1].split("@", 1)[0]
        self.guard = guard
        self.operator = operator if operator is not None else default_operator()
        self.timeout = guard
        self._count = 0

    def _unsupported(self, what: str) -> UpperTesterError:
        err = UpperTesterError(f"manual upper tester: HTTP 501: an operator cannot {what}")
        err.status = 501
        return err

    async def _instruct(self, text: str, methods: tuple[str, ...]) -> dict:
        """Give the instruction; the answer once the wire or the operator says it happened."""
        loop = asyncio.get_running_loop()
        seen: asyncio.Future = loop.create_future()

        def watch(entry) -> None:
            if seen.done():
                return
            try:
                msg = SipMessage.parse(entry.raw)
            except CodecError:
                return
            if msg.is_request and msg.method in methods:
                seen.set_result(msg)

        journal = self.core.journal
        journal.listeners.append(watch)
        self.core.operator_guard = self.guard
        said = asyncio.ensure_future(self.operator.answer())
        try:
            self.operator.instruct(text)
            done, _ = await asyncio.wait(
                {seen, said}, timeout=self.guard, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            journal.listeners.remove(watch)
            self.core.operator_guard = None
            if not said.done():
                said.cancel()
        self._count += 1
        answer = {"ok": True, "id": f"manual-{self._count}", "status": None, "call_id": None}
        if seen in done:
            answer["call_id"] = seen.result().call_id
            return answer
        if said in done:
            line = said.result()
            if line.lower().startswith("fail"):
                why = line[4:].strip(" :") or "no reason given"
                err = UpperTesterError(f"the operator could not do it: {why} ({text!r})")
                err.status = 502
                raise err
            return answer
        raise UpperTesterError(
            f"no answer from the operator and nothing on the wire within {self.guard:g} s "
            f"({text!r})"
        )

    async def call(self, method: str, path: str, body: dict | None = None) -> dict:
        routes = {
            ("GET", "/status"): self.status,
            ("POST", "/reset"): self.reset,
            ("POST", "/deregister"): self.deregister,
        }
        if (method, path) == ("POST", "/register"):
            return await self.register((body or {}).get("expires"))
        if (method, path) == ("POST", "/send"):
            return await self.send(**(body or {}))
        if (method, path) in routes:
            return await routes[(method, path)]()
        raise self._unsupported(f"carry out {method} {path}")

    async def status(self) -> dict:
        return {"ok": True, "registered": None, "user": self.user, "manual": True}

    async def reset(self) -> dict:
        return {"ok": True}  # the suite tells messages apart by Call-ID; nothing to forget

    async def register(self, expires: int | None = None) -> dict:
        if expires == 0:
            return await self.deregister()
        how = f" for {expires} seconds" if expires else ""
        return await self._instruct(
            f"on {self.name}'s device, register{how} now (sign in, or restart the app)",
            ("REGISTER",),
        )

    async def deregister(self) -> dict:
        return await self._instruct(
            f"on {self.name}'s device, sign out (de-register) now", ("REGISTER",)
        )

    async def send(self, **options) -> dict:
        unsupported = sorted(
            k for k, v in options.items() if k not in ("to", "text", "content_type") and v
        )
        if unsupported:
            raise self._unsupported(f"ask the client for {', '.join(unsupported)}")
        if options.get("content_type") not in (None, "text/plain"):
            raise self._unsupported(f"choose the content type {options['content_type']}")
        text, to = options.get("text") or "", options.get("to")
        if not to:
            raise self._unsupported("send without a recipient")
        if len(text) > MAX_TYPED or "\n" in text:
            raise self._unsupported(f"type a text of {len(text)} characters")
        return await self._instruct(
            f"on {self.name}'s device, send '{text}' to {to} now", ("MESSAGE", "INVITE")
        )

    async def messages(self) -> dict:
        raise self._unsupported("list the messages the client sent and received")

    async def deferred(self) -> dict:
        raise self._unsupported("report what the client learnt of deferred messages")

    async def deferred_subscribe(self) -> dict:
        raise self._unsupported("make the client subscribe to deferred messages")

    async def deferred_handle(self, actions=None) -> dict:
        raise self._unsupported("make the client handle deferred messages")


def connect(url: str, timeout: float, core=None, user: str = "", operator_guard: float = 60.0):
    """The upper tester a profile names: an HTTP one, or the operator for "manual"."""
    if url == MANUAL:
        return ManualUpperTester(core, user, operator_guard)
    return UpperTester(url, timeout=timeout)
