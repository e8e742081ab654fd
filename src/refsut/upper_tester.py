"""The upper-tester control interface of the refsut client (docs/upper-tester.md).

JSON over HTTP/1.1 on loopback. The server is written by hand on asyncio streams because the
stdlib's http.server is thread-based and would need a bridge into the client's event loop;
the protocol subset needed is small: a request line, headers, a Content-Length body,
keep-alive, all with bounded sizes and read timeouts so a stuck or hostile peer cannot hold
the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from .client import ClientError, CpmClient
from .client_deferred import DeferredError
from .config import MAX_ANSWER_DELAY_MS

log = logging.getLogger("refsut.upper_tester")

MAX_LINE = 8192
MAX_HEADERS = 64
MAX_BODY = 4 * 1024 * 1024  # room for a large-mode text of a few MiB
READ_TIMEOUT = 10.0
CALL_BOUND = 5.0  # every call answers within 5 s (docs/upper-tester.md)

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    504: "Gateway Timeout",
}


class _HttpError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class JsonHttpServer:
    """The JSON-over-HTTP plumbing shared by the upper tester and the control interface
    (refsut.control); a subclass supplies ``_route``."""

    def __init__(self, listen: tuple[str, int]) -> None:
        self.listen = listen
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task] = set()
        self.address: tuple[str, int] = listen

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.listen[0], self.listen[1])
        sock = self._server.sockets[0].getsockname()
        self.address = (sock[0], sock[1])

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._conns):
            task.cancel()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    # -- HTTP --------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        try:
            while True:
                try:
                    request = await asyncio.wait_for(self._read_request(reader), READ_TIMEOUT)
                except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
                    return
                except _HttpError as exc:
                    await self._write(writer, exc.status, {"error": exc.text}, close=True)
                    return
                if request is None:
                    return  # clean EOF between requests
                method, path, version, headers, body = request
                status, payload = await self._route(method, path, body)
                connection = headers.get("connection", "").lower()
                # HTTP/1.0 closes unless asked to keep alive; HTTP/1.1 keeps alive by default
                close = connection == "close" or (
                    version == "HTTP/1.0" and connection != "keep-alive"
                )
                await self._write(writer, status, payload, close=close)
                if close:
                    return
        except asyncio.CancelledError:
            pass
        finally:
            if task is not None:
                self._conns.discard(task)
            writer.close()

    async def _read_request(self, reader: asyncio.StreamReader):
        line = await self._line(reader)
        while line == b"\r\n":  # tolerate stray CRLF between requests (RFC 9112 2.2)
            line = await self._line(reader)
        if not line:
            return None
        parts = line.decode("latin-1").rstrip("\r\n").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _HttpError(400, "bad request line")
        method, target, version = parts
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            line = await self._line(reader)
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise _HttpError(400, "connection closed inside the header section")
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or not name or name != name.strip():
                raise _HttpError(400, "bad header line")
            headers[name.lower()] = value.strip()
        else:
            raise _HttpError(431, "too many header lines")
        if "transfer-encoding" in headers:
            raise _HttpError(501, "Transfer-Encoding not supported; send Content-Length")
        length_text = headers.get("content-length", "0")
        if not length_text.isdigit():
            raise _HttpError(400, "bad Content-Length")
        length = int(length_text)
        if length > MAX_BODY:
            raise _HttpError(413, f"body over {MAX_BODY} bytes")
        body = await reader.readexactly(length) if length else b""
        return method, target.split("?", 1)[0], version, headers, body

    @staticmethod
    async def _line(reader: asyncio.StreamReader) -> bytes:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise _HttpError(431, "line too long") from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise _HttpError(400, "connection closed mid-line") from None
            return b""
        if len(line) > MAX_LINE:
            raise _HttpError(431, "line too long")
        return line

    async def _write(self, writer: asyncio.StreamWriter, status: int, payload: Any, close: bool):
        body = json.dumps(payload).encode("utf-8")
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + body)
        with contextlib.suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(writer.drain(), READ_TIMEOUT)

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        raise NotImplementedError


class UpperTester(JsonHttpServer):
    def __init__(self, client: CpmClient, listen: tuple[str, int]) -> None:
        super().__init__(listen)
        self.client = client

    # -- routes ------------------------------------------------------------------------------

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        routes = {
            "/status": ("GET", self._status),
            "/reset": ("POST", self._reset),
            "/register": ("POST", self._register),
            "/deregister": ("POST", self._deregister),
            "/send": ("POST", self._send),
            "/answer-delay": ("POST", self._answer_delay),
            "/messages": ("GET", self._messages),
            "/deferred": ("GET", self._deferred),
            "/deferred/subscribe": ("POST", self._deferred_subscribe),
            "/deferred/handle": ("POST", self._deferred_handle),
        }
        if path not in routes:
            return 404, {"error": f"no such endpoint {path}"}
        want, handler = routes[path]
        if method != want:
            return 405, {"error": f"{path} takes {want}"}
        args: Any = {}
        if body.strip():
            try:
                args = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                return 400, {"error": f"body is not JSON: {exc}"}
        try:
            return 200, await asyncio.wait_for(handler(args), CALL_BOUND)
        except (ClientError, DeferredError) as exc:
            return exc.status, {"error": exc.text}
        except TimeoutError:
            return 504, {"error": f"{path} did not finish within {CALL_BOUND:g} s"}
        except Exception as exc:  # the control interface must answer, whatever broke
            log.exception("upper tester %s failed", path)
            return 500, {"error": f"{type(exc).__name__}: {exc}"}

    async def _status(self, args: Any) -> Any:
        return self.client.status()

    async def _reset(self, args: Any) -> Any:
        self.client.reset()
        self.client.large.answer_delay_ms = None
        return {"ok": True}

    async def _register(self, args: Any) -> Any:
        if not isinstance(args, dict) or set(args) - {"expires"}:
            raise ClientError(400, 'body must be {} or {"expires": seconds}')
        expires = args.get("expires", 3600)
        if not isinstance(expires, int) or isinstance(expires, bool) or not 0 <= expires < 2**32:
            raise ClientError(400, "expires: expected seconds (integer >= 0)")
        return {"ok": True, "status": await self.client.register(expires)}

    async def _deregister(self, args: Any) -> Any:
        return {"ok": True, "status": await self.client.deregister()}

    async def _answer_delay(self, args: Any) -> Any:
        # How long the client holds a received large-mode INVITE (after a 180) before it
        # answers: the window for a CANCEL (TS 7.2.2.2). Lasts until /reset.
        ms = args.get("ms") if isinstance(args, dict) and set(args) == {"ms"} else None
        if not isinstance(ms, int) or isinstance(ms, bool) or not 0 <= ms <= MAX_ANSWER_DELAY_MS:
            raise ClientError(400, f'body must be {{"ms": 0..{MAX_ANSWER_DELAY_MS}}}')
        self.client.large.answer_delay_ms = ms
        return {"ok": True}

    async def _send(self, args: Any) -> Any:
        return await self.client.send(args)

    async def _messages(self, args: Any) -> Any:
        return self.client.messages()

    async def _deferred(self, args: Any) -> Any:
        return self.client.deferred.view()

    async def _deferred_subscribe(self, args: Any) -> Any:
        if args != {}:
            raise ClientError(400, "body must be {}")
        return await self.client.deferred.subscribe()

    async def _deferred_handle(self, args: Any) -> Any:
        return await self.client.deferred.handle(args)
