"""SDP (RFC 4566) as the large-message mode offers and answers MSRP sessions with it.

This module owns session descriptions: :class:`SessionDescription` parses one keeping its
text (``str(sdp)`` is exactly the input), exposes the session-level and per-media lines and
attributes in wire order, and gives typed access to the attributes MSRP sessions use:
``path``, ``accept-types``, ``accept-wrapped-types`` and ``max-size`` (RFC 4975), ``setup``
(RFC 4145, as RFC 6135 uses it), ``msrp-cema`` (RFC 6714), ``file-selector``,
``file-transfer-id``, ``file-disposition`` and ``file-range`` (RFC 5547), and the direction
attributes with media level overriding session level. :func:`build_sdp` renders the offer or
answer for one ``m=message`` stream.

Libraries evaluated (PyPI, for this module): ``sdp-transform`` 1.1.0, a port of the
JavaScript package of that name, parses into a WebRTC-shaped dict, files every attribute it
has no grammar for (``path``, ``accept-types``, ``file-selector`` ...) under ``invalid``,
silently drops lines it cannot read and rewrites the text in its own line order, so neither
an exact round trip nor a parse error is possible. ``aiortc.sdp`` is tied to WebRTC (audio,
video and data channels only, unknown attributes dropped, ``assert`` as validation) and pulls
in aiortc's media and crypto dependencies. ``pysdp`` is an unrelated package (a spatial data
platform client). None keeps the raw text or rejects malformed input, which a conformance
check needs, so the small line grammar of RFC 4566 section 5 is parsed here by hand.

Checked on parse: line structure (``<letter>=<value>``, LF or CRLF ends, no empty line
except trailing ones, no NUL), ``v=0`` first, exactly one ``o=`` and ``s=`` at session level,
only media-level letters after the first ``m=``, and the syntax of ``o=``, ``c=``, ``t=``,
``m=`` and ``a=`` lines. Line order beyond that, and the values of attributes, are left to
the typed accessors (which raise :class:`~cpmconf.codec.errors.CodecError` on bad values) and
to conformance checks.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import CodecError
from .msrp import DEFAULT_PORT, MsrpUri

WHAT = "SDP"
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
SETUP_ROLES = ("active", "passive", "actpass", "holdconn")

# RFC 4566 section 9: token-char = %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A
# / %x5E-7E.
_TOKEN = r"[!#-'*+\-.0-9A-Z^-~]+"
_SESSION_TYPES = frozenset("vosiuepcbtrzka")
_MEDIA_TYPES = frozenset("icbka")
_ORIGIN_RE = re.compile(f"^(\\S+) ([0-9]+) ([0-9]+) ({_TOKEN}) ({_TOKEN}) (\\S+)\\Z")
_CONNECTION_RE = re.compile(f"^({_TOKEN}) ({_TOKEN}) (\\S+)\\Z")
_TIME_RE = re.compile(r"^[0-9]+ [0-9]+\Z")
_MEDIA_RE = re.compile(
    f"^(?P<media>{_TOKEN}) (?P<port>[0-9]{{1,5}})(?:/(?P<count>[0-9]{{1,5}}))? "
    f"(?P<proto>{_TOKEN}(?:/{_TOKEN})*) (?P<fmt>{_TOKEN}(?: {_TOKEN})*)\\Z"
)
_ATTR_RE = re.compile(f"^(?P<name>{_TOKEN})(?::(?P<value>.*))?\\Z")
_SELECTOR_RE = re.compile(r"\s*(?P<key>[A-Za-z][A-Za-z0-9\-]*):(?P<value>(?:\"[^\"]*\"|[^\s\"])+)")

Attribute = tuple[str, str | None]


@dataclass(frozen=True)
class Origin:
    """The ``o=`` line: ``<username> <sess-id> <sess-version> <nettype> <addrtype> <addr>``.

    ``session_id`` stays a string (an identifier); ``session_version`` is an int, since an
    answerer's or offerer's later SDP must increase it (RFC 3264 section 8).
    """

    username: str
    session_id: str
    session_version: int
    nettype: str
    addrtype: str
    address: str

    @classmethod
    def parse(cls, text: str) -> Origin:
        m = _ORIGIN_RE.match(text) if isinstance(text, str) else None
        if m is None:
            raise CodecError("SDP origin (o=)", f"expected six fields: {text!r}")
        return cls(m[1], m[2], int(m[3]), m[4], m[5], m[6])

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass(frozen=True)
class Connection:
    """A ``c=`` line: ``<nettype> <addrtype> <connection-address>``."""

    nettype: str
    addrtype: str
    address: str

    @classmethod
    def parse(cls, text: str) -> Connection:
        m = _CONNECTION_RE.match(text) if isinstance(text, str) else None
        if m is None:
            raise CodecError("SDP connection (c=)", f"expected three fields: {text!r}")
        return cls(m[1], m[2], m[3])

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


def _parse_attribute(value: str) -> Attribute:
    m = _ATTR_RE.match(value)
    if m is None:
        raise CodecError("SDP attribute (a=)", f"bad attribute {value[:60]!r}")
    return m.group("name"), m.group("value")


def _first(attributes: Iterable[Attribute], name: str) -> str | None:
    for n, v in attributes:
        if n == name:
            return "" if v is None else v
    return None


def _direction(attributes: Iterable[Attribute], level: str) -> str | None:
    found = [n for n, _ in attributes if n in DIRECTIONS]
    if len(set(found)) > 1:
        raise CodecError("SDP direction", f"conflicting {level}-level attributes {found}")
    return found[0] if found else None


def _unquote_name(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        raise CodecError("SDP file-selector", f"name must be a quoted string: {value!r}")
    try:
        return urllib.parse.unquote(value[1:-1], errors="strict")
    except UnicodeDecodeError as exc:
        raise CodecError("SDP file-selector", f"name is not UTF-8 once decoded: {value!r}") from exc


def parse_file_selector(value: str) -> dict[str, Any]:
    """Parse an RFC 5547 file-selector value (``name:"a.txt" type:text/plain size:12``).

    Returns a dict with the selectors present: ``name`` (unquoted, percent-decoded),
    ``type`` (as written, parameters included), ``size`` (int), ``hash`` (``(algorithm,
    value)``); any other ``key:value`` selector is kept as a string under its key.
    """
    what = "SDP file-selector"
    out: dict[str, Any] = {}
    pos = 0
    while value[pos:].strip():
        m = _SELECTOR_RE.match(value, pos)
        if m is None:
            raise CodecError(what, f"bad selector at {value[pos : pos + 40]!r}")
        key, raw = m.group("key").lower(), m.group("value")
        if key in out:
            raise CodecError(what, f"selector {key!r} given twice")
        if key == "name":
            out[key] = _unquote_name(raw)
        elif key == "size":
            if not re.fullmatch(r"[0-9]{1,19}", raw):
                raise CodecError(what, f"size is not a number: {raw!r}")
            out[key] = int(raw)
        elif key == "hash":
            alg, colon, digest = raw.partition(":")
            if not colon or not alg or not digest:
                raise CodecError(what, f"hash must be algorithm:value: {raw!r}")
            out[key] = (alg, digest)
        elif key == "type":
            if not re.fullmatch(r"[^\s/;]+/[^\s/;]+(?:;.*)?", raw):
                raise CodecError(what, f"type must be type/subtype: {raw!r}")
            out[key] = raw
        else:
            out[key] = raw
        pos = m.end()
    return out


def format_file_selector(
    *,
    name: str | None = None,
    type: str | None = None,
    size: int | None = None,
    hash: tuple[str, str] | None = None,
) -> str:
    """Render a file-selector value; the name is percent-encoded where it must be."""
    parts = []
    if name is not None:
        parts.append('name:"' + urllib.parse.quote(name, safe=" !#$&'()*+,-./:;=?@[]^_`{|}~") + '"')
    if type is not None:
        parts.append(f"type:{type}")
    if size is not None:
        parts.append(f"size:{int(size)}")
    if hash is not None:
        parts.append(f"hash:{hash[0]}:{hash[1]}")
    return " ".join(parts)


@dataclass(frozen=True)
class MediaDescription:
    """One media section: the ``m=`` line and the lines up to the next ``m=``.

    ``lines`` holds ``(type letter, value)`` from the ``m=`` line on; ``attributes`` holds
    ``(name, value)`` of its ``a=`` lines in order, value None for a property attribute
    (``a=sendonly``). The session-level attributes and connection are carried along (not
    compared, not shown) so the accessors can fall back to them.
    """

    raw: str
    index: int
    media: str
    port: int
    port_count: int | None
    proto: str
    fmt: tuple[str, ...]
    lines: tuple[tuple[str, str], ...]
    attributes: tuple[Attribute, ...]
    session_attributes: tuple[Attribute, ...] = field(default=(), repr=False, compare=False)
    session_connection: Connection | None = field(default=None, repr=False, compare=False)

    @property
    def is_msrp(self) -> bool:
        """An ``m=message`` line over MSRP (``TCP/MSRP``, ``TCP/TLS/MSRP``)."""
        return self.media == "message" and self.proto.upper().endswith("/MSRP")

    # ------------------------------------------------------------------ raw attributes

    def attr(self, name: str, *, inherit: bool = False) -> str | None:
        """The value of the first ``a=name`` here, ``""`` for a property attribute, None if
        absent; with ``inherit`` a session-level one is used when the media has none."""
        v = _first(self.attributes, name)
        if v is None and inherit:
            v = _first(self.session_attributes, name)
        return v

    def attrs(self, name: str) -> list[str | None]:
        """Every value of ``a=name`` at media level, in order."""
        return [v for n, v in self.attributes if n == name]

    def has_attr(self, name: str) -> bool:
        return any(n == name for n, _ in self.attributes)

    def connection(self) -> Connection | None:
        """The media-level ``c=`` line, else the session-level one."""
        for t, v in self.lines:
            if t == "c":
                return Connection.parse(v)
        return self.session_connection

    # ------------------------------------------------------------------ MSRP attributes

    def _words(self, name: str) -> list[str]:
        v = self.attr(name)
        return [] if v is None else v.split()

    def path(self) -> list[str]:
        """The URIs of ``a=path`` (RFC 4975 section 8.2), in order; [] when absent."""
        return self._words("path")

    def path_uris(self) -> list[MsrpUri]:
        """:meth:`path` parsed as MSRP URIs."""
        return [MsrpUri.parse(u) for u in self.path()]

    def accept_types(self) -> list[str]:
        return self._words("accept-types")

    def accept_wrapped_types(self) -> list[str]:
        return self._words("accept-wrapped-types")

    def max_size(self) -> int | None:
        v = self.attr("max-size")
        if v is None:
            return None
        if not re.fullmatch(r"[0-9]{1,19}", v.strip()):
            raise CodecError("SDP max-size", f"not a number: {v!r}")
        return int(v)

    def setup(self) -> str | None:
        """``a=setup`` (RFC 4145), media level over session level; None when absent."""
        v = self.attr("setup", inherit=True)
        if v is None:
            return None
        if v.strip() not in SETUP_ROLES:
            raise CodecError("SDP setup", f"expected one of {SETUP_ROLES}: {v!r}")
        return v.strip()

    def cema(self) -> bool:
        """True if ``a=msrp-cema`` (RFC 6714) is present."""
        return self.has_attr("msrp-cema")

    def direction(self) -> str:
        """sendrecv/sendonly/recvonly/inactive: media level, else session level, else
        ``sendrecv`` (RFC 4566 section 6). Two different ones at one level are an error."""
        return (
            _direction(self.attributes, "media")
            or _direction(self.session_attributes, "session")
            or "sendrecv"
        )

    def file_selector(self) -> dict[str, Any] | None:
        """``a=file-selector`` (RFC 5547) parsed by :func:`parse_file_selector`, or None."""
        v = self.attr("file-selector")
        return None if v is None else parse_file_selector(v)

    def file_transfer_id(self) -> str | None:
        return self.attr("file-transfer-id")

    def file_disposition(self) -> str | None:
        return self.attr("file-disposition")

    def file_range(self) -> tuple[int, int | None] | None:
        """``a=file-range:start-stop`` (RFC 5547), stop None for ``*``; None when absent."""
        v = self.attr("file-range")
        if v is None:
            return None
        m = re.fullmatch(r"([0-9]{1,19})-([0-9]{1,19}|\*)", v.strip())
        if m is None:
            raise CodecError("SDP file-range", f"expected start-stop: {v!r}")
        return int(m[1]), None if m[2] == "*" else int(m[2])

    def __str__(self) -> str:
        return self.raw


@dataclass(frozen=True)
class SessionDescription:
    """A parsed session description; ``str(sdp)`` is exactly the text parsed.

    ``lines`` holds every ``(type letter, value)`` in order; ``attributes`` the session-level
    ``a=`` lines as ``(name, value)``; ``media`` the media sections in order.
    """

    raw: str
    lines: tuple[tuple[str, str], ...]
    origin: Origin
    session_name: str
    connection: Connection | None
    attributes: tuple[Attribute, ...]
    media: tuple[MediaDescription, ...]

    @classmethod
    def parse(cls, data: str | bytes) -> SessionDescription:
        if isinstance(data, bytes | bytearray | memoryview):
            try:
                data = bytes(data).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CodecError(WHAT, f"not UTF-8 ({exc.reason})") from exc
        if not isinstance(data, str):
            raise CodecError(WHAT, f"expected str or bytes, got {type(data).__name__}")
        if "\x00" in data:
            raise CodecError(WHAT, "NUL character")

        # (start offset, end offset with line end, text) of every line.
        spans: list[tuple[int, int, str]] = []
        pos = 0
        while pos < len(data):
            nl = data.find("\n", pos)
            end = len(data) if nl < 0 else nl + 1
            text = data[pos : nl if nl >= 0 else len(data)]
            if text.endswith("\r"):
                text = text[:-1]
            if "\r" in text:
                raise CodecError(WHAT, f"bare CR in line {len(spans) + 1}")
            spans.append((pos, end, text))
            pos = end
        while spans and spans[-1][2] == "":
            spans.pop()
        if not spans:
            raise CodecError(WHAT, "empty session description")

        lines: list[tuple[str, str]] = []
        for i, (_, _, text) in enumerate(spans, 1):
            if len(text) < 2 or text[1] != "=" or not "a" <= text[0] <= "z":
                raise CodecError(WHAT, f"line {i} is not <letter>=<value>: {text[:60]!r}")
            lines.append((text[0], text[2:]))
        if lines[0] != ("v", "0"):
            raise CodecError(WHAT, f"first line must be v=0, not {spans[0][2][:40]!r}")

        first_m = next((i for i, (t, _) in enumerate(lines) if t == "m"), len(lines))
        session = lines[:first_m]
        for t, _ in session:
            if t not in _SESSION_TYPES:
                raise CodecError(WHAT, f"unknown session-level line type {t}=")
        origins = [v for t, v in session if t == "o"]
        names = [v for t, v in session if t == "s"]
        if len(origins) != 1 or len(names) != 1:
            raise CodecError(WHAT, "need exactly one o= and one s= line at session level")
        if sum(t == "v" for t, _ in session) > 1 or sum(t == "c" for t, _ in session) > 1:
            raise CodecError(WHAT, "more than one v= or c= line at session level")
        for t, v in session:
            if t == "t" and not _TIME_RE.match(v):
                raise CodecError("SDP timing (t=)", f"expected <start> <stop>: {v!r}")
        conns = [Connection.parse(v) for t, v in session if t == "c"]
        session_attrs = tuple(_parse_attribute(v) for t, v in session if t == "a")
        session_conn = conns[0] if conns else None

        media: list[MediaDescription] = []
        starts = [i for i, (t, _) in enumerate(lines) if t == "m"] + [len(lines)]
        for k, (a, b) in enumerate(zip(starts, starts[1:], strict=False)):
            section = lines[a:b]
            m = _MEDIA_RE.match(section[0][1])
            if m is None:
                raise CodecError("SDP media (m=)", f"bad media line {section[0][1][:60]!r}")
            port = int(m.group("port"))
            if port > 65535:
                raise CodecError("SDP media (m=)", f"port {port} out of range")
            for t, _ in section[1:]:
                if t not in _MEDIA_TYPES:
                    raise CodecError(WHAT, f"line type {t}= not allowed in a media section")
            if sum(1 for t, _ in section if t == "c") > 1:
                raise CodecError(WHAT, "more than one c= line in a media section")
            for t, v in section:
                if t == "c":
                    Connection.parse(v)
            count = m.group("count")
            media.append(
                MediaDescription(
                    raw=data[spans[a][0] : spans[b - 1][1]],
                    index=k,
                    media=m.group("media"),
                    port=port,
                    port_count=None if count is None else int(count),
                    proto=m.group("proto"),
                    fmt=tuple(m.group("fmt").split(" ")),
                    lines=tuple(section),
                    attributes=tuple(_parse_attribute(v) for t, v in section if t == "a"),
                    session_attributes=session_attrs,
                    session_connection=session_conn,
                )
            )
        return cls(
            raw=data,
            lines=tuple(lines),
            origin=Origin.parse(origins[0]),
            session_name=names[0],
            connection=session_conn,
            attributes=session_attrs,
            media=tuple(media),
        )

    @classmethod
    def build(cls, **kwargs: Any) -> SessionDescription:
        """Same as :func:`build_sdp`."""
        return build_sdp(**kwargs)

    # ------------------------------------------------------------------ access

    @property
    def crlf(self) -> bool:
        """True if every line, the last included, ends in CRLF (RFC 4566 section 5)."""
        return self.raw.endswith("\r\n") and self.raw.count("\n") == self.raw.count("\r\n")

    def msrp_media(self) -> list[MediaDescription]:
        """The ``m=message ... TCP/MSRP`` (or ``TCP/TLS/MSRP``) sections."""
        return [m for m in self.media if m.is_msrp]

    def _media(self, media: MediaDescription | int) -> MediaDescription:
        if isinstance(media, MediaDescription):
            return media
        if isinstance(media, int) and 0 <= media < len(self.media):
            return self.media[media]
        raise CodecError(WHAT, f"no media section {media!r}")

    def attr(self, name: str, media: MediaDescription | int | None = None) -> str | None:
        """First value of ``a=name``: session level, or media level only for ``media`` (a
        section or its index). ``""`` for a property attribute, None when absent."""
        if media is None:
            return _first(self.attributes, name)
        return self._media(media).attr(name)

    def attrs(self, name: str, media: MediaDescription | int | None = None) -> list[str | None]:
        if media is None:
            return [v for n, v in self.attributes if n == name]
        return self._media(media).attrs(name)

    def direction(self, media: MediaDescription | int | None = None) -> str:
        """The direction of ``media`` (see :meth:`MediaDescription.direction`), or the
        session-level one (default ``sendrecv``) when ``media`` is None."""
        if media is None:
            return _direction(self.attributes, "session") or "sendrecv"
        return self._media(media).direction()

    def __str__(self) -> str:
        return self.raw

    def __bytes__(self) -> bytes:
        return self.raw.encode("utf-8")


def _words(value: str | Iterable[str | MsrpUri]) -> str:
    if isinstance(value, str | MsrpUri):
        return str(value)
    return " ".join(str(v) for v in value)


def build_sdp(
    *,
    host: str,
    path: str | MsrpUri | Iterable[str | MsrpUri],
    port: int | None = None,
    accept_types: str | Iterable[str] = ("message/cpim",),
    accept_wrapped_types: str | Iterable[str] = (),
    setup: str | None = "active",
    direction: str | None = None,
    tls: bool | None = None,
    max_size: int | None = None,
    cema: bool = False,
    file_selector: str | Mapping[str, Any] | None = None,
    file_transfer_id: str | None = None,
    file_disposition: str | None = None,
    username: str = "-",
    session_id: int | str = 0,
    session_version: int = 0,
    session_name: str = "-",
    attributes: Iterable[tuple[str, str | None]] = (),
    session_attributes: Iterable[tuple[str, str | None]] = (),
) -> SessionDescription:
    """Render an SDP offer or answer for one MSRP stream, CRLF line ends, and parse it back.

    ``v=0``, ``o=<username> <session_id> <session_version> IN IP4|IP6 <host>``, ``s=``,
    ``c=IN IP4|IP6 <host>``, ``t=0 0``, ``session_attributes``, then ``m=message <port>
    TCP/MSRP *`` (``TCP/TLS/MSRP`` with ``tls``; by default when the endpoint's own URI, the
    last of ``path``, is ``msrps:``, RFC 4975 section 8.1) and its attributes in the order:
    accept-types, accept-wrapped-types, max-size, path, setup, msrp-cema, direction,
    file-selector, file-transfer-id, file-disposition, ``attributes``. ``port`` defaults
    to the port of the last ``path`` URI (the endpoint's own), else 2855. Empty lists are
    left out. Attribute values of None render as property attributes.
    """
    what = "SDP build"
    path_text = _words(path)
    uris = [MsrpUri.parse(u) for u in path_text.split()]
    if not uris:
        raise CodecError(what, "path needs at least one URI")
    if port is None:
        port = uris[-1].port or DEFAULT_PORT
    if tls is None:
        tls = uris[-1].secure
    if setup is not None and setup not in SETUP_ROLES:
        raise CodecError(what, f"setup must be one of {SETUP_ROLES}: {setup!r}")
    if direction is not None and direction not in DIRECTIONS:
        raise CodecError(what, f"direction must be one of {DIRECTIONS}: {direction!r}")
    addrtype = "IP6" if ":" in host else "IP4"
    media_attrs: list[tuple[str, str | None]] = []
    if _words(accept_types):
        media_attrs.append(("accept-types", _words(accept_types)))
    if _words(accept_wrapped_types):
        media_attrs.append(("accept-wrapped-types", _words(accept_wrapped_types)))
    if max_size is not None:
        media_attrs.append(("max-size", str(int(max_size))))
    media_attrs.append(("path", path_text))
    if setup is not None:
        media_attrs.append(("setup", setup))
    if cema:
        media_attrs.append(("msrp-cema", None))
    if direction is not None:
        media_attrs.append((direction, None))
    if file_selector is not None:
        if not isinstance(file_selector, str):
            file_selector = format_file_selector(**dict(file_selector))
        media_attrs.append(("file-selector", file_selector))
    if file_transfer_id is not None:
        media_attrs.append(("file-transfer-id", file_transfer_id))
    if file_disposition is not None:
        media_attrs.append(("file-disposition", file_disposition))
    media_attrs.extend(attributes)

    lines = [
        "v=0",
        f"o={username} {session_id} {session_version} IN {addrtype} {host}",
        f"s={session_name}",
        f"c=IN {addrtype} {host}",
        "t=0 0",
    ]
    lines += [f"a={n}" if v is None else f"a={n}:{v}" for n, v in session_attributes]
    lines.append(f"m=message {port} {'TCP/TLS/MSRP' if tls else 'TCP/MSRP'} *")
    lines += [f"a={n}" if v is None else f"a={n}:{v}" for n, v in media_attrs]
    for line in lines:
        if any(c in line for c in "\r\n\x00"):
            raise CodecError(what, f"line break or NUL in {line[:60]!r}")
    return SessionDescription.parse("".join(f"{ln}\r\n" for ln in lines))
