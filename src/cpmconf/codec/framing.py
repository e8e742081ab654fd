"""Cutting SIP messages out of transport data, without doing any I/O.

Over TCP/TLS a SIP message ends where its Content-Length says (RFC 3261 18.3); bytes may
arrive in any split, several messages may share one read, and CRLF keep-alives (RFC 5626
3.5.1) may sit between messages. :class:`SipStreamFramer` is fed bytes and returns whole
messages; the transport layer owns the socket. Over UDP one datagram is one message and
:func:`datagram_frame` only stamps it.

The framer checks only what it needs to find message boundaries (a plausible start line, a
UTF-8 header section, one numeric Content-Length); full validation is
:meth:`cpmconf.codec.sip.SipMessage.parse`'s job. Once it has raised, the stream position is
lost, so it stays broken and every later call raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import TOKEN_CHARS
from .errors import CodecError, FramingError
from .sip import canonical_name

DEFAULT_MAX_SIZE = 1024 * 1024
MAX_START_LINE = 8192
WHAT = "SIP stream"

_START_LINE_RE = re.compile(
    f"^(?:SIP/2\\.0 [0-9]{{3}} [^\\r\\n]*|[{TOKEN_CHARS}]+ \\S+ SIP/2\\.0)\\Z".encode(), re.I
)
# What an incomplete start line may look like so far: a token, then anything but CR/LF,
# possibly ending in the CR of a CRLF not yet received.
_PARTIAL_START_RE = re.compile(f"^[{TOKEN_CHARS}/]*(?: [^\\r\\n]*)?\\r?\\Z".encode())


@dataclass(frozen=True)
class Frame:
    """One message cut from the transport, stamped with the time it became complete."""

    time: float
    raw: bytes


def datagram_frame(data: bytes, now: float) -> Frame:
    """Frame a UDP datagram: the whole datagram is one message (RFC 3261 18.3)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CodecError("SIP datagram", f"expected bytes, got {type(data).__name__}")
    return Frame(time=now, raw=bytes(data))


def is_keepalive(data: bytes) -> bool:
    """True for a datagram or chunk that is only CRLF keep-alive (RFC 5626 3.5.1)."""
    return bool(data) and not bytes(data).replace(b"\r\n", b"")


class StreamFramer:
    """What every stream framer shares: the bounded buffer, the broken state, and a `feed`
    that returns completed frames and hands the ones cut before a fault to the FramingError.

    A subclass names its protocol (`what`), its frame type (`frame`) and implements `_next`,
    which cuts one complete message off the buffer or returns None.
    """

    what = "stream"
    frame: type[Frame] = Frame

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE) -> None:
        if max_size <= 0:
            raise ValueError("max_size must be positive")
        self.max_size = max_size
        self.broken = False
        self._buf = bytearray()

    def pending(self) -> int:
        """Bytes buffered that do not yet form a complete message."""
        return len(self._buf)

    def _fail(self, detail: str) -> CodecError:
        self.broken = True
        return CodecError(self.what, detail)

    def feed(self, data: bytes, now: float) -> list[Frame]:
        if self.broken:
            raise CodecError(self.what, "framer is broken by an earlier error")
        if not isinstance(data, bytes | bytearray | memoryview):
            raise self._fail(f"expected bytes, got {type(data).__name__}")
        self._buf += data
        frames: list[Frame] = []
        while True:
            try:
                raw = self._next()
            except CodecError as exc:
                raise FramingError(exc.what, exc.detail, frames) from exc
            if raw is None:
                return frames
            frames.append(self.frame(time=now, raw=raw))

    def _next(self) -> bytes | None:
        raise NotImplementedError


class SipStreamFramer(StreamFramer):
    """Incremental framer for SIP over a byte stream.

    ``feed(data, now)`` returns the messages completed by ``data``, each as a
    :class:`Frame` stamped with ``now``. Raises :class:`CodecError` on bytes that cannot
    start a SIP message, on a header section without a usable Content-Length, and on a
    message larger than ``max_size``; after that ``broken`` is True.
    """

    what = WHAT

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE) -> None:
        super().__init__(max_size)
        # Known total length of the message at the head of the buffer, once its header
        # section has been read; saves rescanning while a large body trickles in.
        self._need: int | None = None

    def _next(self) -> bytes | None:
        buf = self._buf
        if self._need is None:
            # Keep-alives (and the CRLFs RFC 3261 7.5 says to ignore) before a start line.
            skip = 0
            while buf[skip : skip + 2] == b"\r\n":
                skip += 2
            if skip:
                del buf[:skip]
            if not buf or buf == b"\r":
                return None
            line_end = buf.find(b"\r\n")
            if line_end < 0:
                if not _PARTIAL_START_RE.match(bytes(buf[:MAX_START_LINE])):
                    raise self._fail(f"garbage where a start line should be: {bytes(buf[:40])!r}")
                if len(buf) > MAX_START_LINE:
                    raise self._fail("start line too long")
                return None
            if not _START_LINE_RE.match(bytes(buf[:line_end])):
                raise self._fail(f"not a SIP start line: {bytes(buf[: min(line_end, 80)])!r}")
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > self.max_size:
                    raise self._fail(f"header section exceeds {self.max_size} bytes")
                return None
            head_len = end + 4
            self._need = head_len + self._content_length(bytes(buf[:end]))
            if self._need > self.max_size:
                raise self._fail(f"message of {self._need} bytes exceeds {self.max_size}")
        if len(buf) < self._need:
            return None
        raw = bytes(buf[: self._need])
        del buf[: self._need]
        self._need = None
        return raw

    def _content_length(self, head: bytes) -> int:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._fail("header section is not UTF-8") from exc
        values = set()
        for line in text.split("\r\n")[1:]:
            name, colon, value = line.partition(":")
            if colon and not line[:1].isspace() and canonical_name(name) == "content-length":
                v = value.strip()
                if not re.fullmatch(r"[0-9]{1,10}", v):
                    raise self._fail(f"Content-Length is not a number: {v[:20]!r}")
                values.add(int(v))
        if not values:
            raise self._fail("no Content-Length header on a stream transport")
        if len(values) > 1:
            raise self._fail(f"conflicting Content-Length values {sorted(values)}")
        return values.pop()
