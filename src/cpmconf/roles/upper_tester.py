"""Client side of the upper-tester interface (docs/upper-tester.md): JSON over HTTP.

Owns how the test system commands a SUT client. Calls run in a worker thread with a bound, so
a SUT whose upper tester hangs costs one guard time and an `UpperTesterError`, never a hang.
An error answer becomes an `UpperTesterError` naming the HTTP status, reason and error text
(its `status` attribute holds the code).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

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
