"""message/cpim bodies (RFC 3862), as CPM wraps standalone messages and IMDNs in them.

A CPIM object is up to three header blocks and a body, separated by empty lines:

* optional outer MIME headers (``Content-Type: message/cpim``), present when the object is
  a MIME entity of its own; absent when it is a SIP or MSRP body, where that header is the
  carrier's;
* the CPIM message headers (From, To, cc, DateTime, Subject, NS, Require and namespaced
  extensions such as ``imdn.Message-ID``);
* the encapsulated MIME headers (Content-Type, Content-Length, Content-Disposition ...),
  followed by the content.

Python's ``email`` package could split MIME headers, but it rewrites line ends and knows
nothing of CPIM namespaces, and a check must see the bytes the sender used; so the split is
done here and :class:`CpimMessage` keeps the raw bytes for an exact round trip.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import CodecError

WHAT = "message/cpim body"
IMDN_NS = "urn:ietf:params:imdn"
CPIM_DEFAULT_NS = "urn:ietf:params:cpim-headers:"

# RFC 3862 3.6: a header name is name characters, with at most a "prefix." in front.
_NAME_RE = re.compile(r"[A-Za-z0-9!#$%&'*+\-^_`|~]+(?:\.[A-Za-z0-9!#$%&'*+\-^_`|~]+)?")
_MIME_NAME_RE = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext
_NS_RE = re.compile(r"^(?:(?P<prefix>\S+)\s+)?<(?P<uri>[^<>\s]+)>$")
_ADDR_RE = re.compile(r"^(?P<name>[^<]*?)\s*<(?P<uri>[^<>]+)>$")


@dataclass(frozen=True)
class CpimAddress:
    """A CPIM From/To/cc value: ``[Formal-name] <URI>``."""

    name: str | None
    uri: str

    @classmethod
    def parse(cls, text: str) -> CpimAddress:
        m = _ADDR_RE.match(text.strip()) if isinstance(text, str) else None
        if m is None:
            raise CodecError("CPIM address", f"expected [name] <URI>: {text!r}")
        name = m.group("name").strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = re.sub(r"\\(.)", r"\1", name[1:-1])
        return cls(name=name or None, uri=m.group("uri").strip())

    def __str__(self) -> str:
        if self.name is None:
            return f"<{self.uri}>"
        name = self.name
        if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+\-^_`|~. ]+", name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} <{self.uri}>"


def _split_block(data: bytes, pos: int) -> tuple[bytes, int]:
    """The header block starting at ``pos`` and the offset just past its empty line."""
    if data.startswith(b"\r\n", pos):
        return b"", pos + 2
    end = data.find(b"\r\n\r\n", pos)
    if end < 0:
        raise CodecError(WHAT, "header block not ended by an empty line")
    return data[pos:end], end + 4


def _lines(block: bytes, what: str, fold: bool) -> list[str]:
    if not block:
        return []
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodecError(what, f"not UTF-8 ({exc.reason})") from exc
    lines = text.split("\r\n")
    if any("\r" in ln or "\n" in ln for ln in lines):
        raise CodecError(what, "bare CR or LF")
    out: list[str] = []
    for ln in lines:
        if ln[:1] in (" ", "\t"):
            if not fold or not out:
                raise CodecError(what, f"unexpected continuation line {ln[:40]!r}")
            out[-1] += " " + ln.strip(" \t")
        else:
            out.append(ln)
    return out


def _mime_headers(block: bytes, what: str) -> tuple[tuple[str, str], ...]:
    headers = []
    for ln in _lines(block, what, fold=True):
        name, colon, value = ln.partition(":")
        if not colon or not _MIME_NAME_RE.fullmatch(name.rstrip(" \t")):
            raise CodecError(what, f"bad header line {ln[:60]!r}")
        headers.append((name.rstrip(" \t"), value.strip(" \t")))
    return tuple(headers)


def _cpim_headers(block: bytes) -> tuple[tuple[str, str], ...]:
    what = "CPIM header"
    headers = []
    for ln in _lines(block, what, fold=False):
        name, colon, value = ln.partition(":")
        if not colon or not _NAME_RE.fullmatch(name):
            raise CodecError(what, f"bad header line {ln[:60]!r}")
        # RFC 3862 wants exactly ": " (or ":;param ... "); one leading space is syntax.
        headers.append((name, value[1:] if value.startswith(" ") else value))
    return tuple(headers)


def _strip_params(value: str) -> str:
    # "Subject:;lang=fr beau temps" keeps ";lang=fr beau temps"; the value is after the SP.
    if value.startswith(";"):
        _, _, rest = value.partition(" ")
        return rest
    return value


def _get(headers: Iterable[tuple[str, str]], name: str, exact: bool = False) -> list[str]:
    if exact:
        return [v for n, v in headers if n == name]
    return [v for n, v in headers if n.lower() == name.lower()]


@dataclass(frozen=True)
class CpimMessage:
    """A parsed message/cpim object; ``bytes(msg)`` is exactly what was parsed.

    Header tuples hold ``(name, value)`` in wire order. CPIM header values have the one
    syntactic space after the colon removed and keep any ``;param`` prefix.
    """

    raw: bytes
    outer_headers: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    mime_headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def parse(cls, data: bytes) -> CpimMessage:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CodecError(WHAT, f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
        first, pos = _split_block(data, 0)
        outer: tuple[tuple[str, str], ...] = ()
        # The outer block exists only if it declares message/cpim; CPIM headers never hold
        # a Content-Type, so this cannot mistake one block for the other.
        if re.search(rb"(?im)^content-type[ \t]*:[ \t]*message/cpim", first):
            outer = _mime_headers(first, "message/cpim MIME header")
            first, pos = _split_block(data, pos)
        headers = _cpim_headers(first)
        mime_block, pos = _split_block(data, pos)
        mime = _mime_headers(mime_block, "encapsulated MIME header")
        return cls(
            raw=data, outer_headers=outer, headers=headers, mime_headers=mime, body=data[pos:]
        )

    @classmethod
    def build(
        cls,
        headers: Iterable[tuple[str, str]],
        content_type: str,
        body: bytes,
        mime_headers: Iterable[tuple[str, str]] = (),
        *,
        content_length: bool = True,
        outer_headers: Iterable[tuple[str, str]] = (),
    ) -> CpimMessage:
        """Render a CPIM object; values are written as given (CRLF line ends).

        Content-Type comes first in the encapsulated headers, then ``mime_headers``, then a
        computed Content-Length unless ``content_length`` is False.
        """
        if not isinstance(body, bytes | bytearray | memoryview):
            raise CodecError(WHAT, "body must be bytes")
        body = bytes(body)
        outer = list(outer_headers)
        cpim = list(headers)
        inner = [("Content-Type", content_type), *mime_headers]
        if content_length:
            inner.append(("Content-Length", str(len(body))))
        for n, v in (*outer, *cpim, *inner):
            # A line break inside a name or value would silently change the structure.
            if any(c in n + v for c in "\r\n"):
                raise CodecError(WHAT, f"line break inside header {n!r}")
        blocks = [outer] if outer else []
        blocks += [cpim, inner]
        text = "".join("".join(f"{n}: {v}\r\n" for n, v in b) + "\r\n" for b in blocks)
        return cls.parse(text.encode("utf-8") + body)

    # ------------------------------------------------------------------ CPIM headers

    def header(self, name: str, *, exact: bool = False) -> str | None:
        """First CPIM header value (parameters removed).

        RFC 3862 header names are case-sensitive; matching ignores case unless ``exact``,
        so a check can both find a miscased header and flag it.
        """
        values = _get(self.headers, name, exact)
        return _strip_params(values[0]) if values else None

    def header_values(self, name: str, *, exact: bool = False) -> list[str]:
        return [_strip_params(v) for v in _get(self.headers, name, exact)]

    def namespaces(self) -> dict[str, str]:
        """Declared NS prefixes -> namespace URI (``""`` for a default declaration)."""
        out: dict[str, str] = {}
        for value in _get(self.headers, "NS"):
            m = _NS_RE.match(_strip_params(value).strip())
            if m is None:
                raise CodecError("CPIM NS header", f"expected [prefix] <URI>: {value!r}")
            out[m.group("prefix") or ""] = m.group("uri")
        return out

    def namespaced(self, namespace: str, name: str) -> str | None:
        """Value of extension header ``name`` in ``namespace``.

        ``namespace`` is a namespace URI (``urn:ietf:params:imdn``), resolved through the
        NS declarations to whatever prefix the sender chose, or a declared prefix
        (``imdn``). Undeclared namespaces give None.
        """
        values = self.namespaced_values(namespace, name)
        return values[0] if values else None

    def namespaced_values(self, namespace: str, name: str) -> list[str]:
        ns = self.namespaces()
        prefixes = [p for p, uri in ns.items() if uri == namespace]
        if not prefixes and namespace in ns:
            prefixes = [namespace]
        out: list[str] = []
        for prefix in prefixes:
            out.extend(self.header_values(f"{prefix}.{name}" if prefix else name))
        return out

    def from_address(self) -> CpimAddress | None:
        v = self.header("From")
        return None if v is None else CpimAddress.parse(v)

    def to_addresses(self) -> list[CpimAddress]:
        return [CpimAddress.parse(v) for v in self.header_values("To")]

    def date_time(self) -> datetime.datetime | None:
        """The DateTime header (RFC 3339 timestamp) as an aware datetime, or None."""
        v = self.header("DateTime")
        if v is None:
            return None
        try:
            dt = datetime.datetime.fromisoformat(v.strip().replace("z", "Z"))
        except ValueError as exc:
            raise CodecError("CPIM DateTime header", f"not an RFC 3339 timestamp: {v!r}") from exc
        if dt.tzinfo is None:
            raise CodecError("CPIM DateTime header", f"no time zone offset: {v!r}")
        return dt

    def imdn_message_id(self) -> str | None:
        return self.namespaced(IMDN_NS, "Message-ID")

    def disposition_notification(self) -> list[str]:
        """Requested IMDN dispositions (``positive-delivery``, ``display`` ...)."""
        v = self.namespaced(IMDN_NS, "Disposition-Notification")
        return [] if v is None else [x.strip() for x in v.split(",") if x.strip()]

    # ------------------------------------------------------------------ MIME parts

    def mime_header(self, name: str) -> str | None:
        values = _get(self.mime_headers, name)
        return values[0] if values else None

    def outer_header(self, name: str) -> str | None:
        values = _get(self.outer_headers, name)
        return values[0] if values else None

    @property
    def content_type(self) -> str | None:
        """Media type of the encapsulated content, lower case, without parameters."""
        v = self.mime_header("Content-Type")
        return None if v is None else v.split(";", 1)[0].strip().lower()

    def check_inner_length(self) -> str | None:
        """None if the encapsulated Content-Length is absent or matches, else why not."""
        v = self.mime_header("Content-Length")
        if v is None:
            return None
        if not re.fullmatch(r"[0-9]{1,10}", v.strip()):
            return f"Content-Length is not a number: {v!r}"
        if int(v) != len(self.body):
            return f"Content-Length is {int(v)} but the content has {len(self.body)} bytes"
        return None

    def __bytes__(self) -> bytes:
        return self.raw

    def __str__(self) -> str:
        return self.raw.decode("utf-8", errors="backslashreplace")
