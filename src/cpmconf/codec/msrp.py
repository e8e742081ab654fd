"""MSRP (RFC 4975) as the large-message mode uses it: URIs, messages, stream framing, chunks.

This module owns everything MSRP below the session: :class:`MsrpUri` (parsing and the
section 6.1 comparison used to match a connection to a session), :class:`MsrpMessage`
(one SEND, REPORT or response, parsed for reading and built from parts for sending),
:class:`MsrpStreamFramer` (cutting messages out of a TCP/TLS byte stream, sans-IO like
:class:`cpmconf.codec.framing.SipStreamFramer`), and :func:`chunk` / :class:`Reassembler`
(splitting a message body into SEND chunks with Byte-Range and continuation flags, and
putting received chunks back together, RFC 4975 sections 5.1, 5.3 and 7.1.1).

There is no well-kept Python MSRP library to build on: nothing under the obvious names is
on PyPI (``msrp``, ``msrplib``, ``python-msrplib``, ``pymsrp``), and AG Projects' msrplib,
kept up for the Blink client and shipped as a Debian package, is a client stack on Twisted,
eventlib and python-gnutls, not a sans-IO codec, and does not keep the exact bytes received,
which a conformance check must judge. So the grammar of RFC 4975 section 9 is implemented
here, by hand, on bytes.

An MSRP message ends with an end-line ``-------<transaction-id><flag>`` CRLF rather than
at a declared length, and the body may hold any bytes except that end-line; so the framer
reads the transaction id from the start line and looks for exactly that end-line. Bodies
are bytes throughout (a chunk boundary may fall inside a UTF-8 character).

Every parser raises :class:`~cpmconf.codec.errors.CodecError` on bad input and nothing
else; the framer raises :class:`~cpmconf.codec.errors.FramingError` carrying the messages
completed before the fault.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
import secrets
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from .errors import CodecError
from .framing import Frame, StreamFramer

WHAT = "MSRP message"
DEFAULT_PORT = 2855
# A chunk is at most what a sender chooses; 1 MiB of body plus room for the headers.
DEFAULT_MAX_SIZE = 1024 * 1024 + 16 * 1024
DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024
MAX_START_LINE = 4096
FLAGS = "$+#"

# RFC 4975 section 9: ident = alphanum 3*31ident-char.
_IDENT = r"[A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}"
_IDENT_RE = re.compile(_IDENT)
_START_RE = re.compile(
    f"^MSRP (?P<tid>{_IDENT}) "
    r"(?:(?P<method>[A-Z]+)|(?P<code>[0-9]{3})(?: (?P<comment>[^\r\n]*))?)\Z"
)
_START_RE_B = re.compile(f"^MSRP ({_IDENT}) (?:[A-Z]+|[0-9]{{3}}(?: [^\\r\\n]*)?)\\Z".encode())
# What an incomplete start line may look like so far (the framer's early garbage check).
_PARTIAL_START_RE = re.compile(
    rb"^(?:M(?:S(?:R(?:P(?: [A-Za-z0-9.\-+%=]{0,32}(?: [^\r\n]*)?)?)?)?)?)?\r?\Z"
)
_END_LINE_RE = re.compile(rb"-------([A-Za-z0-9.\-+%=]+)([$+#])")
_HEADER_RE = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9!#$%&'*+\-.^_`|~]*):[ \t]*(?P<value>.*)\Z")
_BYTE_RANGE_RE = re.compile(r"^([0-9]{1,18})-([0-9]{1,18}|\*)/([0-9]{1,18}|\*)\Z")
_STATUS_HEADER_RE = re.compile(r"^([0-9]{3}) ([0-9]{3})(?: (.*))?\Z")
_METHOD_RE = re.compile(r"[A-Z]+")

# RFC 4975 section 9: MSRP-URI = msrp-scheme "://" authority ["/" session-id] ";" transport
# *( ";" URI-parameter ); session-id = 1*( unreserved / "+" / "=" / "/" ).
_URI_RE = re.compile(
    r"^(?P<scheme>[Mm][Ss][Rr][Pp][Ss]?)://"
    r"(?:(?P<userinfo>[A-Za-z0-9\-._~%!$&'()*+,=:]*)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,=]+)"
    r"(?::(?P<port>[0-9]{1,5}))?"
    r"(?:/(?P<session>[A-Za-z0-9\-._~+=/]+))?"
    r";(?P<transport>[A-Za-z0-9]+)"
    r"(?P<params>(?:;[A-Za-z0-9\-.!%*_+`'~]+(?:=[A-Za-z0-9\-.!%*_+`'~]+)?)*)\Z"
)

REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    408: "Request Timeout",
    413: "Stop sending message",
    415: "Unsupported media type",
    423: "Interval Out-of-Bounds",
    481: "Session does not exist",
    501: "Unknown method",
    506: "Session already bound",
}

_ALPHANUM = string.ascii_letters + string.digits


def new_ident(length: int = 16) -> str:
    """A random RFC 4975 ident (transaction id, Message-ID, session id), alphanumeric."""
    if not 4 <= length <= 32:
        raise CodecError("MSRP ident", f"length must be 4..32, got {length}")
    return "".join(secrets.choice(_ALPHANUM) for _ in range(length))


def is_ident(text: str) -> bool:
    """True if ``text`` is an RFC 4975 ident (4 to 32 characters)."""
    return isinstance(text, str) and _IDENT_RE.fullmatch(text) is not None


# ---------------------------------------------------------------------------- URIs


@dataclass(frozen=True, eq=False)
class MsrpUri:
    """An MSRP or MSRPS URI; ``str(uri)`` is exactly the text parsed.

    ``host`` is written as in the URI but without the brackets of an IPv6 reference;
    ``port`` and ``session_id`` are None when absent (a connection then uses
    :data:`DEFAULT_PORT`, but comparison does not fill it in). Equality and hashing follow RFC 4975
    section 6.1: scheme, host and transport compare case-insensitively (IP literals as
    addresses), the port must match exactly (an explicit port never equals an absent one),
    the session id compares case-sensitively; userinfo and other URI parameters are ignored.
    """

    raw: str
    scheme: str
    userinfo: str | None
    host: str
    port: int | None
    session_id: str | None
    transport: str
    params: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> MsrpUri:
        if not isinstance(text, str):
            raise CodecError("MSRP URI", f"expected str, got {type(text).__name__}")
        m = _URI_RE.match(text)
        if m is None:
            raise CodecError("MSRP URI", f"not an msrp/msrps URI: {text[:80]!r}")
        host = m.group("host")
        if host.startswith("["):
            host = host[1:-1]
            try:
                ipaddress.IPv6Address(host)
            except ValueError as exc:
                raise CodecError("MSRP URI", f"bad IPv6 reference in {text[:80]!r}") from exc
        port = m.group("port")
        if port is not None and int(port) > 65535:
            raise CodecError("MSRP URI", f"port {port} out of range in {text[:80]!r}")
        params = m.group("params")
        return cls(
            raw=text,
            scheme=m.group("scheme"),
            userinfo=m.group("userinfo"),
            host=host,
            port=None if port is None else int(port),
            session_id=m.group("session"),
            transport=m.group("transport"),
            params=tuple(params[1:].split(";")) if params else (),
        )

    @classmethod
    def build(
        cls,
        host: str,
        port: int | None,
        session_id: str | None,
        transport: str = "tcp",
        *,
        secure: bool = False,
    ) -> MsrpUri:
        """Render ``msrp[s]://host[:port][/session-id];transport`` and parse it back."""
        h = f"[{host}]" if ":" in host and not host.startswith("[") else host
        text = f"msrp{'s' if secure else ''}://{h}"
        if port is not None:
            text += f":{port}"
        if session_id is not None:
            text += f"/{session_id}"
        return cls.parse(f"{text};{transport}")

    @property
    def secure(self) -> bool:
        return self.scheme.lower() == "msrps"

    @property
    def key(self) -> tuple[str, str, int | None, str | None, str]:
        """The parts RFC 4975 section 6.1 compares, normalised."""
        try:
            host = ipaddress.ip_address(self.host).compressed
        except ValueError:
            host = self.host.lower()
        return (self.scheme.lower(), host, self.port, self.session_id, self.transport.lower())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MsrpUri):
            return NotImplemented
        return self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.raw


def _parse_path(value: str, what: str) -> list[MsrpUri]:
    parts = value.split()
    if not parts:
        raise CodecError(what, "empty path")
    out = []
    for p in parts:
        try:
            out.append(MsrpUri.parse(p))
        except CodecError as exc:
            raise CodecError(what, exc.detail) from exc
    return out


# ---------------------------------------------------------------------------- header values


class ByteRange(NamedTuple):
    """A Byte-Range value: 1-based inclusive ``start``-``end``/``total``; None for ``*``."""

    start: int
    end: int | None
    total: int | None

    @classmethod
    def parse(cls, text: str) -> ByteRange:
        m = _BYTE_RANGE_RE.match(text.strip()) if isinstance(text, str) else None
        if m is None:
            raise CodecError("Byte-Range header", f"expected start-end/total: {text!r}")
        start = int(m.group(1))
        end = None if m.group(2) == "*" else int(m.group(2))
        total = None if m.group(3) == "*" else int(m.group(3))
        if start < 1:
            raise CodecError("Byte-Range header", f"range-start must be at least 1: {text!r}")
        if end is not None and end < start - 1:
            raise CodecError("Byte-Range header", f"range-end before range-start: {text!r}")
        if total is not None and (start - 1 > total or (end is not None and end > total)):
            raise CodecError("Byte-Range header", f"range beyond the total: {text!r}")
        return cls(start, end, total)

    def __str__(self) -> str:
        end = "*" if self.end is None else self.end
        total = "*" if self.total is None else self.total
        return f"{self.start}-{end}/{total}"


class ReportStatus(NamedTuple):
    """A Status header value (``000 200 OK``): namespace, code and optional comment."""

    namespace: str
    code: int
    comment: str | None

    @classmethod
    def parse(cls, text: str) -> ReportStatus:
        m = _STATUS_HEADER_RE.match(text.strip()) if isinstance(text, str) else None
        if m is None:
            raise CodecError("Status header", f"expected namespace code [comment]: {text!r}")
        return cls(m.group(1), int(m.group(2)), m.group(3))

    def __str__(self) -> str:
        base = f"{self.namespace} {self.code:03d}"
        return base if self.comment is None else f"{base} {self.comment}"


# ---------------------------------------------------------------------------- messages


def _end_line_re(tid: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"\r\n-------" + re.escape(tid) + rb"[$+#]\r\n")


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodecError(what, f"not UTF-8 ({exc.reason})") from exc


@dataclass(frozen=True)
class MsrpMessage:
    """One MSRP request (``method`` set) or response (``status`` set).

    ``headers`` are ``(name as on the wire, value)`` in wire order, values stripped of the
    whitespace around them. ``body`` is the content between the blank line and the CRLF
    before the end-line (empty when there is no content). ``continuation`` is the end-line
    flag: ``$`` complete, ``+`` more chunks follow, ``#`` aborted. ``bytes(msg)`` is exactly
    what was parsed.
    """

    raw: bytes
    transaction_id: str
    method: str | None
    status: int | None
    comment: str | None
    headers: tuple[tuple[str, str], ...]
    body: bytes
    continuation: str

    @classmethod
    def parse(cls, data: bytes) -> MsrpMessage:
        """Parse one whole message, end-line included; raise :class:`CodecError` if bad.

        Checked here: the start line, UTF-8 header lines of the form ``name: value``,
        exactly one To-Path and From-Path holding MSRP URIs, the form of Byte-Range when
        present, a body section only with a Content-Type (and never in a response), and an
        end-line whose transaction id matches the start line's and which the body does not
        contain. Header order and the other header values are left to conformance checks.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CodecError(WHAT, f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
        if not data.endswith(b"\r\n"):
            raise CodecError(WHAT, "does not end with CRLF")
        first = data.find(b"\r\n")
        start_line = _decode(data[:first], "MSRP start line")
        m = _START_RE.match(start_line)
        if m is None:
            raise CodecError("MSRP start line", f"not an MSRP start line: {start_line[:80]!r}")
        tid = m.group("tid")
        last = data.rfind(b"\r\n", 0, len(data) - 2)
        if last < first:
            raise CodecError(WHAT, "no end-line")
        em = _END_LINE_RE.fullmatch(data[last + 2 : -2])
        if em is None:
            raise CodecError(WHAT, f"last line is not an end-line: {data[last + 2 : -2][:60]!r}")
        if em.group(1).decode("ascii") != tid:
            raise CodecError(
                WHAT,
                f"end-line transaction id {em.group(1).decode('ascii')!r} does not match "
                f"the start line's {tid!r}",
            )
        flag = em.group(2).decode("ascii")

        # Between the start line and the end-line: header lines, each ending in CRLF, then
        # optionally a blank line, the body and the CRLF that precedes the end-line.
        region = data[first + 2 : last + 2]
        has_body = False
        body = b""
        if region.startswith(b"\r\n"):
            head, rest, has_body = b"", region[2:], True
        else:
            sep = region.find(b"\r\n\r\n")
            if sep < 0:
                head, rest = region[:-2], b""
            else:
                head, rest, has_body = region[:sep], region[sep + 4 :], True
        if has_body:
            if not rest.endswith(b"\r\n"):
                raise CodecError(WHAT, "body not followed by CRLF before the end-line")
            body = rest[:-2]
            if _end_line_re(tid.encode("ascii")).search(b"\r\n" + body + b"\r\n"):
                raise CodecError(WHAT, "the body contains the message's own end-line")

        headers: list[tuple[str, str]] = []
        if head:
            for line in _decode(head, "MSRP header section").split("\r\n"):
                if "\r" in line or "\n" in line:
                    raise CodecError(WHAT, "bare CR or LF in the header section")
                hm = _HEADER_RE.match(line)
                if hm is None:
                    raise CodecError(WHAT, f"bad header line {line[:60]!r}")
                headers.append((hm.group("name"), hm.group("value").strip(" \t")))

        code = m.group("code")
        msg = cls(
            raw=data,
            transaction_id=tid,
            method=m.group("method"),
            status=None if code is None else int(code),
            comment=m.group("comment"),
            headers=tuple(headers),
            body=body,
            continuation=flag,
        )
        msg._validate(has_body)
        return msg

    def _validate(self, has_body: bool) -> None:
        for name in ("To-Path", "From-Path"):
            values = self.header_values(name)
            if not values:
                raise CodecError(WHAT, f"missing mandatory {name} header")
            if len(values) > 1:
                raise CodecError(WHAT, f"more than one {name} header")
            _parse_path(values[0], f"{name} header")
        ranges = self.header_values("Byte-Range")
        if len(ranges) > 1:
            raise CodecError(WHAT, "more than one Byte-Range header")
        if ranges:
            ByteRange.parse(ranges[0])
        has_type = self.header("Content-Type") is not None
        if has_body and self.method is None:
            raise CodecError(WHAT, "a response carries no body")
        if has_body and not has_type:
            raise CodecError(WHAT, "a body without a Content-Type header")
        if has_type and not has_body:
            raise CodecError(WHAT, "Content-Type header but no blank line and body")

    # ------------------------------------------------------------------ start and end

    @property
    def is_request(self) -> bool:
        return self.method is not None

    @property
    def is_response(self) -> bool:
        return self.status is not None

    @property
    def start_line(self) -> str:
        return self.raw[: self.raw.find(b"\r\n")].decode("utf-8")

    @property
    def end_line(self) -> str:
        return f"-------{self.transaction_id}{self.continuation}"

    @property
    def paths_first(self) -> bool:
        """True if To-Path and From-Path are the first two headers, in that order."""
        names = [n.lower() for n, _ in self.headers[:2]]
        return names == ["to-path", "from-path"]

    # ------------------------------------------------------------------ headers

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        key = name.lower()
        return next((v for n, v in self.headers if n.lower() == key), None)

    def header_values(self, name: str) -> list[str]:
        key = name.lower()
        return [v for n, v in self.headers if n.lower() == key]

    def to_path(self) -> list[MsrpUri]:
        return _parse_path(self.header_values("To-Path")[0], "To-Path header")

    def from_path(self) -> list[MsrpUri]:
        return _parse_path(self.header_values("From-Path")[0], "From-Path header")

    @property
    def message_id(self) -> str | None:
        """The Message-ID as sent (see :func:`is_ident` for its syntax), or None."""
        return self.header("Message-ID")

    def byte_range(self) -> ByteRange | None:
        """``(start, end, total)`` with None for ``*``; None when the header is absent.

        RFC 4975 section 7.1.1: without the header a receiver assumes ``1-*/*``.
        """
        v = self.header("Byte-Range")
        return None if v is None else ByteRange.parse(v)

    @property
    def success_report(self) -> bool | None:
        """Success-Report yes/no as a bool; None when absent (meaning "no")."""
        v = self.header("Success-Report")
        if v is None:
            return None
        if v.lower() not in ("yes", "no"):
            raise CodecError("Success-Report header", f"expected yes or no: {v!r}")
        return v.lower() == "yes"

    @property
    def failure_report(self) -> str | None:
        """Failure-Report ``yes``/``no``/``partial`` (lower case); None when absent."""
        v = self.header("Failure-Report")
        if v is None:
            return None
        if v.lower() not in ("yes", "no", "partial"):
            raise CodecError("Failure-Report header", f"expected yes, no or partial: {v!r}")
        return v.lower()

    @property
    def content_type(self) -> str | None:
        """The media type of the body, lower case, without parameters."""
        v = self.header("Content-Type")
        return None if v is None else v.split(";", 1)[0].strip().lower()

    def report_status(self) -> ReportStatus | None:
        """The Status header of a REPORT (``000 200 OK``), or None."""
        v = self.header("Status")
        return None if v is None else ReportStatus.parse(v)

    # ------------------------------------------------------------------ rendering

    def summary(self) -> str:
        """One line: ``SEND 1a2b3c4d $`` or ``200 OK 1a2b3c4d``."""
        if self.method is not None:
            return f"{self.method} {self.transaction_id} {self.continuation}"
        comment = f" {self.comment}" if self.comment else ""
        return f"{self.status}{comment} {self.transaction_id}"

    def __bytes__(self) -> bytes:
        return self.raw

    def __str__(self) -> str:
        return self.raw.decode("utf-8", errors="backslashreplace")


def _path_text(value: str | MsrpUri | Iterable[str | MsrpUri], what: str) -> str:
    if isinstance(value, str | MsrpUri):
        text = str(value)
    else:
        text = " ".join(str(v) for v in value)
    _parse_path(text, what)
    return text


def _check_value(name: str, value: str, what: str) -> None:
    if not isinstance(value, str) or any(c in value for c in "\r\n"):
        raise CodecError(what, f"line break or non-text in header {name!r}")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9!#$%&'*+\-.^_`|~]*", name):
        raise CodecError(what, f"bad header name {name!r}")


def _assemble(
    start: str, headers: list[tuple[str, str]], body: bytes | None, tid: str, flag: str
) -> MsrpMessage:
    what = "MSRP message build"
    for n, v in headers:
        _check_value(n, v, what)
    text = start + "\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
    raw = text.encode("utf-8")
    if body is not None:
        raw += b"\r\n" + body + b"\r\n"
    raw += f"-------{tid}{flag}\r\n".encode("ascii")
    return MsrpMessage.parse(raw)


def build_request(
    tid: str,
    method: str,
    to_path: str | MsrpUri | Iterable[str | MsrpUri],
    from_path: str | MsrpUri | Iterable[str | MsrpUri],
    message_id: str | None = None,
    byte_range: ByteRange | tuple[int, int | None, int | None] | str | None = None,
    content_type: str | None = None,
    body: bytes = b"",
    flag: str = "$",
    extra: Iterable[tuple[str, str]] = (),
) -> MsrpMessage:
    """Render a request: To-Path, From-Path, Message-ID, Byte-Range, ``extra``, Content-Type.

    A body needs a ``content_type``; with a ``content_type`` and an empty body the message
    has an empty content section. Without either it is a body-less request such as the
    empty SEND that binds a connection (RFC 4975 section 7.1, RFC 6135). ``byte_range``
    must be well formed but is written as given, not checked against the body, so a test
    can send an inconsistent chunk. Raises :class:`CodecError` on bad parts, including a
    body that contains the end-line.
    """
    what = "MSRP request build"
    if not is_ident(tid):
        raise CodecError(what, f"transaction id {tid!r} is not an ident")
    if not isinstance(method, str) or not _METHOD_RE.fullmatch(method):
        raise CodecError(what, f"method {method!r} is not upper-case letters")
    if not isinstance(flag, str) or len(flag) != 1 or flag not in FLAGS:
        raise CodecError(what, f"continuation flag must be one of {FLAGS!r}: {flag!r}")
    if not isinstance(body, bytes | bytearray | memoryview):
        raise CodecError(what, "body must be bytes")
    body = bytes(body)
    if body and content_type is None:
        raise CodecError(what, "a body needs a content_type")
    headers = [
        ("To-Path", _path_text(to_path, what)),
        ("From-Path", _path_text(from_path, what)),
    ]
    if message_id is not None:
        headers.append(("Message-ID", message_id))
    if byte_range is not None:
        if isinstance(byte_range, str):
            br = ByteRange.parse(byte_range)
        elif isinstance(byte_range, tuple) and len(byte_range) == 3:
            br = ByteRange.parse(str(ByteRange(*byte_range)))
        else:
            raise CodecError(what, f"byte_range must be (start, end, total): {byte_range!r}")
        headers.append(("Byte-Range", str(br)))
    headers.extend(extra)
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    return _assemble(
        f"MSRP {tid} {method}", headers, None if content_type is None else body, tid, flag
    )


def build_response(
    request: MsrpMessage,
    code: int,
    comment: str | None = None,
    *,
    own_uri: str | MsrpUri | None = None,
) -> MsrpMessage:
    """The response to ``request`` (RFC 4975 section 7.2).

    To-Path is the first URI of the request's From-Path; From-Path is ``own_uri``, by
    default the first URI of the request's To-Path (this hop). ``comment`` defaults to the
    RFC 4975 reason phrase for known codes. REPORT requests get no response (section 7.1.2).
    """
    what = "MSRP response build"
    if not isinstance(request, MsrpMessage) or request.method is None:
        raise CodecError(what, "can only answer a request")
    if request.method == "REPORT":
        raise CodecError(what, "REPORT requests are never answered")
    if not isinstance(code, int) or not 100 <= code <= 999:
        raise CodecError(what, f"status code must be three digits: {code!r}")
    if comment is None:
        comment = REASONS.get(code)
    if comment is not None and any(c in comment for c in "\r\n"):
        raise CodecError(what, "line break in the comment")
    own = request.to_path()[0] if own_uri is None else own_uri
    headers = [
        ("To-Path", str(request.from_path()[0])),
        ("From-Path", _path_text(own, what)),
    ]
    start = f"MSRP {request.transaction_id} {code:03d}"
    if comment is not None:
        start += f" {comment}"
    return _assemble(start, headers, None, request.transaction_id, "$")


def build_report(
    request: MsrpMessage,
    tid: str,
    code: int = 200,
    comment: str | None = None,
    *,
    own_uri: str | MsrpUri | None = None,
    byte_range: ByteRange | tuple[int, int | None, int | None] | None = None,
) -> MsrpMessage:
    """A REPORT for a received SEND (RFC 4975 section 7.1.2).

    To-Path is the SEND's whole From-Path, From-Path is ``own_uri`` (default: the last URI
    of the SEND's To-Path), Message-ID is copied, Byte-Range defaults to the bytes the SEND
    carried, and Status is ``000 <code> <comment>``.
    """
    what = "MSRP REPORT build"
    if not isinstance(request, MsrpMessage) or request.method != "SEND":
        raise CodecError(what, "can only report on a SEND")
    if request.message_id is None:
        raise CodecError(what, "the SEND has no Message-ID")
    if comment is None:
        comment = REASONS.get(code)
    if byte_range is None:
        br = request.byte_range() or ByteRange(1, None, None)
        end = br.start + len(request.body) - 1
        total = br.total if br.total is not None else (end if request.continuation == "$" else None)
        byte_range = ByteRange(br.start, end, total)
    own = request.to_path()[-1] if own_uri is None else own_uri
    return build_request(
        tid,
        "REPORT",
        request.header_values("From-Path")[0],
        own,
        message_id=request.message_id,
        byte_range=byte_range,
        extra=[("Status", str(ReportStatus("000", code, comment)))],
    )


# ---------------------------------------------------------------------------- framing


@dataclass(frozen=True)
class MsrpFrame(Frame):
    """One MSRP message cut from the stream, stamped with the time it became complete."""


class MsrpStreamFramer(StreamFramer):
    """Incremental framer for MSRP over a byte stream (RFC 4975 section 5.1).

    ``feed(data, now)`` returns the messages completed by ``data``, each as an
    :class:`MsrpFrame` stamped with ``now``. Only the start line is validated (full
    validation is :meth:`MsrpMessage.parse`'s job); the message then runs to the first
    ``CRLF -------<transaction-id><flag> CRLF``. Raises :class:`FramingError` (a
    :class:`CodecError`) on bytes that cannot start an MSRP message and on a message larger
    than ``max_size``; after that ``broken`` is True and every later call raises.
    """

    what = "MSRP stream"
    frame = MsrpFrame

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE) -> None:
        super().__init__(max_size)
        self._end_re: re.Pattern[bytes] | None = None
        self._end_len = 0
        self._scan = 0

    def _next(self) -> bytes | None:
        buf = self._buf
        if not buf:
            return None
        if self._end_re is None:
            limit = min(MAX_START_LINE, self.max_size)
            line_end = buf.find(b"\r\n", 0, limit + 2)
            if line_end < 0:
                if not _PARTIAL_START_RE.match(bytes(buf[:limit])):
                    raise self._fail(f"garbage where a start line should be: {bytes(buf[:40])!r}")
                if len(buf) > limit:
                    raise self._fail("start line too long")
                return None
            m = _START_RE_B.match(bytes(buf[:line_end]))
            if m is None:
                raise self._fail(f"not an MSRP start line: {bytes(buf[: min(line_end, 80)])!r}")
            tid = m.group(1)
            self._end_re = _end_line_re(tid)
            self._end_len = len(tid) + 12  # CRLF, seven dashes, tid, flag, CRLF
            self._scan = line_end
        m = self._end_re.search(buf, self._scan)
        if m is None:
            if len(buf) > self.max_size:
                raise self._fail(f"message exceeds {self.max_size} bytes without an end-line")
            self._scan = max(self._scan, len(buf) - self._end_len + 1)
            return None
        end = m.end()
        if end > self.max_size:
            raise self._fail(f"message of {end} bytes exceeds {self.max_size}")
        raw = bytes(buf[:end])
        del buf[:end]
        self._end_re = None
        self._scan = 0
        return raw


# ---------------------------------------------------------------------------- chunking


def chunk(
    body: bytes,
    chunk_size: int | Iterable[int],
    *,
    to_path: str | MsrpUri | Iterable[str | MsrpUri],
    from_path: str | MsrpUri | Iterable[str | MsrpUri],
    message_id: str,
    content_type: str = "message/cpim",
    transaction_ids: Iterable[str] | None = None,
    total_known: bool = True,
    extra: Iterable[tuple[str, str]] = (),
) -> Iterator[MsrpMessage]:
    """Yield the SEND requests that carry ``body`` in chunks (RFC 4975 section 5.1).

    ``chunk_size`` is one size for every chunk or an iterable of sizes taken in turn (when
    it runs out, the rest goes in one last chunk). Each SEND has ``Byte-Range:
    start-end/total`` (1-based, inclusive; total ``*`` unless ``total_known``) and ends in
    ``+``, the last in ``$``. An empty body gives one body-less SEND with ``1-0/0``.
    Transaction ids come from ``transaction_ids`` or are random.
    """
    what = "MSRP chunking"
    if not isinstance(body, bytes | bytearray | memoryview):
        raise CodecError(what, "body must be bytes")
    body = bytes(body)
    if isinstance(chunk_size, int):
        if chunk_size < 1:
            raise CodecError(what, f"chunk size must be positive: {chunk_size}")
        sizes: Iterator[int] | None = None
    else:
        sizes = iter(chunk_size)
    tids = None if transaction_ids is None else iter(transaction_ids)
    extra = tuple(extra)
    total = len(body) if total_known else None
    pos = 0
    while True:
        if sizes is None:
            size = chunk_size
        else:
            size = next(sizes, len(body) - pos) or 0
            if size < 1 and pos < len(body):
                raise CodecError(what, f"chunk size must be positive: {size}")
        piece = body[pos : pos + size]
        last = pos + len(piece) >= len(body)
        br = ByteRange(pos + 1, pos + len(piece), total)
        msg = None
        for attempt in range(8):
            tid = new_ident() if tids is None else next(tids, None)
            if tid is None:
                raise CodecError(what, "ran out of transaction ids")
            try:
                msg = build_request(
                    tid,
                    "SEND",
                    to_path,
                    from_path,
                    message_id=message_id,
                    byte_range=br,
                    content_type=content_type if piece else None,
                    body=piece,
                    flag="$" if last else "+",
                    extra=extra,
                )
                break
            except CodecError as exc:
                # A random transaction id whose end-line occurs in the piece: pick another.
                if tids is not None or "end-line" not in exc.detail or attempt == 7:
                    raise
        yield msg
        pos += len(piece)
        if last:
            return


class Reassembler:
    """Puts the SEND chunks of one message back together (RFC 4975 sections 5.1, 7.1.1).

    Feed it the SENDs of one Message-ID in any order; duplicates are tolerated (an
    overlap must carry the same bytes). The bytes a chunk actually holds count, so an
    interrupted chunk (flag ``+``, Byte-Range end ``*`` or beyond what arrived) records what
    it carried and its continuation supplies the rest. A ``#`` chunk aborts the message.
    ``complete`` is True once bytes 1..total have all arrived and the chunk ending the
    message carried ``$``. Inconsistent chunks (another Message-ID, a changed total, a
    Byte-Range end that disagrees with a complete chunk, conflicting overlaps, more than
    ``max_size`` bytes) raise :class:`CodecError`.
    """

    def __init__(self, message_id: str | None = None, max_size: int = DEFAULT_MAX_MESSAGE):
        self.message_id = message_id
        self.max_size = max_size
        self.total: int | None = None
        self.aborted = False
        self.chunks = 0
        self.duplicates = 0
        self.interrupted = 0
        self._final_end: int | None = None
        self._data = bytearray()
        self._ranges: list[tuple[int, int]] = []  # merged, sorted, 1-based inclusive

    def feed(self, msg: MsrpMessage) -> None:
        """Take one SEND chunk; a chunk that raises leaves the state unchanged."""
        what = "MSRP reassembly"
        if not isinstance(msg, MsrpMessage) or msg.method != "SEND":
            raise CodecError(what, "only SEND requests carry chunks")
        mid = msg.message_id
        if mid is None:
            raise CodecError(what, "a SEND without Message-ID")
        if self.message_id is not None and mid != self.message_id:
            raise CodecError(what, f"Message-ID {mid!r} is not {self.message_id!r}")
        br = msg.byte_range() or ByteRange(1, None, None)
        n = len(msg.body)
        start, end = br.start, br.start + n - 1
        interrupted = False
        if br.end is not None and br.end != end:
            if msg.continuation not in "+#" or end > br.end:
                raise CodecError(
                    what, f"Byte-Range {br} but the {msg.continuation!r} chunk holds {n} bytes"
                )
            interrupted = True  # RFC 4975 7.1.1: the bytes that arrived are what counts
        if max(end, br.total or 0) > self.max_size:
            raise CodecError(what, f"message larger than {self.max_size} bytes")
        total = self.total
        if br.total is not None:
            if total is not None and br.total != total:
                raise CodecError(what, f"total changed from {total} to {br.total}")
            total = br.total
        final_end = self._final_end
        if msg.continuation == "$":
            if final_end is not None and final_end != end:
                raise CodecError(what, f"two final chunks end at {final_end} and {end}")
            final_end = end
            if total is None:
                total = end  # the '$' chunk ends the message: its end is the total
        if total is not None and final_end is not None and final_end != total:
            raise CodecError(what, f"final chunk ends at {final_end} of a {total}-byte message")
        if total is not None and end > total:
            raise CodecError(what, f"chunk {start}-{end} runs past the message end {total}")
        if total is not None and self._ranges and self._ranges[-1][1] > total:
            raise CodecError(what, f"bytes up to {self._ranges[-1][1]} already past {total}")
        if n:
            self._check_overlap(start, end, msg.body)
        # Consistent: commit.
        self.message_id = mid
        self.total, self._final_end = total, final_end
        self.chunks += 1
        self.interrupted += interrupted
        if msg.continuation == "#":
            self.aborted = True
        if n:
            self._store(start, end, msg.body)

    def _check_overlap(self, start: int, end: int, data: bytes) -> None:
        for a, b in self._ranges:
            lo, hi = max(a, start), min(b, end)
            if lo <= hi and self._data[lo - 1 : hi] != data[lo - start : hi - start + 1]:
                raise CodecError(
                    "MSRP reassembly", f"chunk {start}-{end} conflicts with bytes {lo}-{hi}"
                )

    def _store(self, start: int, end: int, data: bytes) -> None:
        covered = sum(max(0, min(b, end) - max(a, start) + 1) for a, b in self._ranges)
        if covered == end - start + 1:
            self.duplicates += 1
            return
        if len(self._data) < end:
            self._data.extend(bytes(end - len(self._data)))
        self._data[start - 1 : end] = data
        i = bisect.bisect_left(self._ranges, (start, end))
        self._ranges.insert(i, (start, end))
        merged: list[tuple[int, int]] = []
        for a, b in self._ranges:
            if merged and a <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self._ranges = merged

    def received(self) -> list[tuple[int, int]]:
        """The byte ranges received so far, merged, 1-based inclusive."""
        return list(self._ranges)

    def gaps(self) -> list[tuple[int, int | None]]:
        """Missing byte ranges; an end of None means "up to the still unknown end"."""
        limit = self.total if self.total is not None else self._final_end
        out: list[tuple[int, int | None]] = []
        nxt = 1
        for a, b in self._ranges:
            if a > nxt:
                out.append((nxt, a - 1))
            nxt = b + 1
        if limit is None:
            out.append((nxt, None))
        elif nxt <= limit:
            out.append((nxt, limit))
        return out

    @property
    def complete(self) -> bool:
        if self.aborted or self.total is None or self._final_end != self.total:
            return False
        return self.total == 0 or self._ranges == [(1, self.total)]

    def message(self) -> bytes:
        """The whole body; raises :class:`CodecError` while incomplete or once aborted."""
        if self.aborted:
            raise CodecError("MSRP reassembly", "the message was aborted ('#')")
        if not self.complete:
            why = "no final ('$') chunk" if self._final_end is None else f"gaps {self.gaps()}"
            raise CodecError("MSRP reassembly", f"message incomplete: {why}")
        return bytes(self._data[: self.total])
