"""SIP messages as the suite sees them: parsed for reading, built from text for sending.

:class:`SipMessage` keeps the exact bytes received plus the header lines in wire order and
spelling. sipmessage supplies the compact-form table and validates the parts it models
(Request-URI, Via, CSeq); the header section is split here because sipmessage neither
unfolds continuation lines nor keeps the original order of repeated headers, and its
``Parameters`` re-encode percent-escapes, which would hide what the system under test sent.
For the same reason outgoing messages are assembled from text by :func:`build_message`,
never through sipmessage objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from sipmessage import CSeq, Via
from sipmessage.message import COMPACT_FORMS

from ._text import TOKEN_CHARS, check_uri, is_token, split_top_level
from .errors import CodecError
from .headers import NameAddr

_FULL_BY_COMPACT = {k: v.lower() for k, v in COMPACT_FORMS.items()}

_STATUS_RE = re.compile(
    r"^(?P<version>SIP/2\.0) (?P<code>[1-6][0-9]{2}) (?P<reason>[^\r\n]*)\Z", re.I
)
_REQUEST_RE = re.compile(
    f"^(?P<method>[{TOKEN_CHARS}]+) (?P<uri>\\S+) (?P<version>SIP/2\\.0)\\Z", re.I
)

WHAT = "SIP message"


def canonical_name(name: str) -> str:
    """Lower-case full header name; a compact form (``l``, ``i``, ``m`` ...) is expanded."""
    low = name.strip().lower()
    return _FULL_BY_COMPACT.get(low, low)


def parse_start_line(line: str) -> tuple[str | None, str | None, int | None, str | None]:
    """Validate a start line; returns ``(method, request_uri, status, reason)``."""
    m = _STATUS_RE.match(line)
    if m:
        return None, None, int(m.group("code")), m.group("reason")
    m = _REQUEST_RE.match(line)
    if m:
        check_uri(m.group("uri"), "SIP Request-URI")
        return m.group("method"), m.group("uri"), None, None
    raise CodecError("SIP start line", f"neither a request nor a status line: {line[:80]!r}")


# RFC 3261 25.1: SLASH, SEMI, EQUAL and COMMA allow whitespace on either side (SWS), and a
# sent-protocol may be written "SIP / 2.0 / UDP" (RFC 4475 3.1.1.1); sipmessage does not
# accept that, so a Via value is read with those separators closed up. Via has no quoted
# strings in practice (its parameters are tokens, hosts and IP addresses).
_VIA_SEPARATOR = re.compile(r"\s*([/;=,])\s*")


def _via_text(value: str) -> str:
    return _VIA_SEPARATOR.sub(r"\1", " ".join(value.split()))


def _digits(value: str, what: str, limit: int = 2**32 - 1) -> int:
    v = value.strip()
    if not re.fullmatch(r"[0-9]{1,10}", v) or int(v) > limit:
        raise CodecError(what, f"expected a number up to {limit}: {value[:40]!r}")
    return int(v)


@dataclass(frozen=True)
class SipMessage:
    """One SIP request or response.

    ``headers`` are ``(name as on the wire, value)`` in wire order; folded lines are joined
    with one space and the value is stripped. ``body`` is everything after the blank line,
    whatever Content-Length says (see :func:`check_content_length`).
    """

    raw: bytes
    start_line: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    # ------------------------------------------------------------------ parsing

    @classmethod
    def parse(cls, data: bytes) -> SipMessage:
        """Parse one message; raise :class:`CodecError` on anything malformed.

        Checked here: CRLF line structure, UTF-8 header section, the start line (through
        sipmessage for sip/sips/tel Request-URIs), header-name syntax, presence and form of
        Call-ID and CSeq, and the form of Via, From, To, Content-Length and Max-Forwards when
        present. Anything else is left for conformance checks to judge.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CodecError(WHAT, f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
        sep = data.find(b"\r\n\r\n")
        if sep < 0:
            raise CodecError(WHAT, "no empty line (CRLF CRLF) ending the header section")
        try:
            head = data[:sep].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CodecError(WHAT, f"header section is not UTF-8 ({exc.reason})") from exc
        lines = head.split("\r\n")
        if any("\r" in ln or "\n" in ln for ln in lines):
            raise CodecError(WHAT, "bare CR or LF in the header section")
        start_line = lines[0]
        parse_start_line(start_line)

        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t"):
                if not headers:
                    raise CodecError(WHAT, "continuation line before any header")
                name, value = headers[-1]
                headers[-1] = (name, (value + " " + line.strip(" \t")).strip(" \t"))
                continue
            name, colon, value = line.partition(":")
            name = name.rstrip(" \t")
            if not colon or not is_token(name):
                raise CodecError(WHAT, f"bad header line {line[:60]!r}")
            headers.append((name, value.strip(" \t")))

        msg = cls(raw=data, start_line=start_line, headers=tuple(headers), body=data[sep + 4 :])
        msg._validate()
        return msg

    def _validate(self) -> None:
        for name in ("Call-ID", "CSeq"):
            values = self.header_values(name)
            if not values or not values[0]:
                raise CodecError(WHAT, f"missing mandatory {name} header")
            if len(values) > 1:
                raise CodecError(WHAT, f"more than one {name} header")
        try:
            cseq = CSeq.parse(self.header_values("CSeq")[0])
        except ValueError as exc:
            raise CodecError("CSeq header", str(exc)) from exc
        if cseq.sequence > 2**32 - 1:
            raise CodecError("CSeq header", "sequence number exceeds 2^32-1")
        for value in self.header_values("Via"):
            try:
                Via.parse_many(_via_text(value))
            except ValueError as exc:
                raise CodecError("Via header", f"{exc}: {value[:80]!r}") from exc
        for name in ("From", "To"):
            for value in self.header_values(name):
                try:
                    NameAddr.parse(value)
                except CodecError as exc:
                    raise CodecError(f"{name} header", exc.detail) from exc
        lengths = {_digits(v, "Content-Length header") for v in self.header_values("l")}
        if len(lengths) > 1:
            raise CodecError("Content-Length header", f"conflicting values {sorted(lengths)}")
        for value in self.header_values("Max-Forwards"):
            _digits(value, "Max-Forwards header", 255)

    # ------------------------------------------------------------------ start line

    @cached_property
    def _start(self) -> tuple[str | None, str | None, int | None, str | None]:
        return parse_start_line(self.start_line)

    @property
    def is_request(self) -> bool:
        return self._start[0] is not None

    @property
    def method(self) -> str | None:
        return self._start[0]

    @property
    def request_uri(self) -> str | None:
        return self._start[1]

    @property
    def status(self) -> int | None:
        return self._start[2]

    @property
    def reason(self) -> str | None:
        return self._start[3]

    # ------------------------------------------------------------------ headers

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive, compact forms understood)."""
        key = canonical_name(name)
        return next((v for n, v in self.headers if canonical_name(n) == key), None)

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name``, one per header line, not split on commas."""
        key = canonical_name(name)
        return [v for n, v in self.headers if canonical_name(n) == key]

    def header_list(self, name: str) -> list[str]:
        """Every value of ``name`` with comma-separated lists split into elements.

        Commas inside quoted strings and ``<...>`` do not split. Only use this for headers
        whose grammar is a comma list (Via, Contact, Accept-Contact, Warning, Supported ...);
        the caller knows which. Empty elements are dropped.
        """
        out: list[str] = []
        for value in self.header_values(name):
            out.extend(p.strip() for p in split_top_level(value, ",", f"{name} header"))
        return [p for p in out if p]

    def has_header(self, name: str) -> bool:
        return self.header(name) is not None

    @property
    def call_id(self) -> str:
        return self.header_values("Call-ID")[0]

    @property
    def cseq(self) -> tuple[int, str]:
        c = CSeq.parse(self.header_values("CSeq")[0])
        return c.sequence, c.method

    @property
    def content_length(self) -> int | None:
        """The declared Content-Length, or None when absent."""
        v = self.header("Content-Length")
        return None if v is None else _digits(v, "Content-Length header")

    @property
    def content_length_ok(self) -> bool:
        return check_content_length(self) is None

    @property
    def content_type(self) -> str | None:
        """The media type of the body, lower case, without parameters."""
        v = self.header("Content-Type")
        return None if v is None else v.split(";", 1)[0].strip().lower()

    @property
    def from_addr(self) -> NameAddr:
        v = self.header("From")
        if v is None:
            raise CodecError(WHAT, "no From header")
        return NameAddr.parse(v)

    @property
    def to_addr(self) -> NameAddr:
        v = self.header("To")
        if v is None:
            raise CodecError(WHAT, "no To header")
        return NameAddr.parse(v)

    @property
    def top_via(self) -> Via | None:
        """The first Via entry (sipmessage object, for reading only), or None."""
        v = self.header("Via")
        if v is None:
            return None
        try:
            return Via.parse_many(_via_text(v))[0]
        except ValueError as exc:
            raise CodecError("Via header", str(exc)) from exc

    @property
    def branch(self) -> str | None:
        via = self.top_via
        return None if via is None else via.parameters.get("branch")

    # ------------------------------------------------------------------ rendering

    def summary(self) -> str:
        """One line: ``MESSAGE sip:bob@example.net`` or ``200 OK (MESSAGE)``."""
        if self.is_request:
            return f"{self.method} {self.request_uri}"
        return f"{self.status} {self.reason} ({self.cseq[1]})".replace("  ", " ")

    def __bytes__(self) -> bytes:
        return self.raw

    def __str__(self) -> str:
        return self.raw.decode("utf-8", errors="backslashreplace")


def check_content_length(msg: SipMessage, *, required: bool = False) -> str | None:
    """None if Content-Length matches the body, else why not.

    A missing header is acceptable unless ``required`` (RFC 3261 18.3 makes it mandatory
    on stream transports only).
    """
    values = msg.header_values("Content-Length")
    if not values:
        return "no Content-Length header" if required else None
    try:
        declared = {_digits(v, "Content-Length header") for v in values}
    except CodecError as exc:
        return exc.detail
    if len(declared) > 1:
        return f"conflicting Content-Length values {sorted(declared)}"
    (n,) = declared
    if n != len(msg.body):
        return f"Content-Length is {n} but the body has {len(msg.body)} bytes"
    return None


def _check_line(text: str, what: str) -> None:
    # A CR or LF is only allowed as part of a fold (CRLF followed by SP or HTAB).
    if re.search(r"\r(?!\n[ \t])|(?<!\r)\n|\r\n(?![ \t])", text):
        raise CodecError(what, f"line break in {text[:60]!r}")


def build_message(start_line: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    """Assemble a SIP message from text with CRLF line ends and a correct Content-Length.

    Any Content-Length (or ``l``) given is dropped; the computed one takes the place of the
    first dropped one, or goes last. Nothing is re-encoded: values are written as given.
    """
    what = "SIP message build"
    if not isinstance(body, bytes | bytearray | memoryview):
        raise CodecError(what, "body must be bytes")
    body = bytes(body)
    _check_line(start_line, what)
    lines = [start_line]
    placed = False
    for name, value in headers:
        if not is_token(name):
            raise CodecError(what, f"bad header name {name!r}")
        _check_line(value, what)
        if canonical_name(name) == "content-length":
            if not placed:
                lines.append(f"Content-Length: {len(body)}")
                placed = True
            continue
        lines.append(f"{name}: {value}")
    if not placed:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
