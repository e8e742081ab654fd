"""application/resource-lists+xml bodies (RFC 4826), as URI lists in requests.

CPM uses them for the recipients of a pager or large mode message to several users
(RFC 5365 / RFC 5364, with copy-control attributes) and for the handling of deferred
messages (RFC 5366 with a ``?cpm_action=deliver|delete|interwork|store`` URI header on each
entry, TS 7.2.2.x). :class:`ResourceList` flattens nested lists into their entries and can
build a document from entries.

The XML comes from the system under test, so it is parsed with defusedxml with DTDs
forbidden: entity expansion ("billion laughs") and external entities are refused as a
:class:`~cpmconf.codec.errors.CodecError` instead of being expanded or fetched. A resource
list never needs a DTD.
"""

from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import defusedxml
import defusedxml.ElementTree as DET

from .errors import CodecError

WHAT = "resource-lists document"
RL_NS = "urn:ietf:params:xml:ns:resource-lists"
CP_NS = "urn:ietf:params:xml:ns:copycontrol"
CPM_ACTION = "cpm_action"
CPM_ACTIONS = ("deliver", "delete", "interwork", "store")

_ENTRY = f"{{{RL_NS}}}entry"
_LIST = f"{{{RL_NS}}}list"
_DISPLAY = f"{{{RL_NS}}}display-name"


def _uri_header_pairs(uri: str) -> list[tuple[str, str, str]]:
    """``(name, decoded value, raw pair text)`` for each ``?a=b&c=d`` URI header."""
    _, qmark, query = uri.partition("?")
    if not qmark:
        return []
    pairs = []
    for part in query.split("&"):
        name, eq, value = part.partition("=")
        if not eq or not name:
            raise CodecError("URI header", f"expected name=value in {uri!r}")
        pairs.append((urllib.parse.unquote(name), urllib.parse.unquote(value), part))
    return pairs


@dataclass(frozen=True)
class Entry:
    """One ``<entry>``: its URI exactly as written, display name and copy-control data."""

    uri: str
    display_name: str | None = None
    copy_control: str | None = None  # RFC 5364 cp:copyControl: to, cc or bcc
    anonymize: bool | None = None  # RFC 5364 cp:anonymize

    @classmethod
    def with_action(cls, base_uri: str, action: str, display_name: str | None = None) -> Entry:
        """An entry naming a deferred message and what to do with it (TS 7.2.2.x)."""
        sep = "&" if "?" in base_uri else "?"
        return cls(uri=f"{base_uri}{sep}{CPM_ACTION}={action}", display_name=display_name)

    @property
    def uri_headers(self) -> tuple[tuple[str, str], ...]:
        """URI headers (after ``?``) with percent-decoded names and values."""
        return tuple((n, v) for n, v, _ in _uri_header_pairs(self.uri))

    @property
    def action(self) -> str | None:
        """The ``cpm_action`` URI header value, or None."""
        return next((v for n, v in self.uri_headers if n.lower() == CPM_ACTION), None)

    @property
    def base_uri(self) -> str:
        """The URI without its ``cpm_action`` header: the Message-URI-ID it refers to."""
        base, _, _ = self.uri.partition("?")
        rest = [raw for n, _, raw in _uri_header_pairs(self.uri) if n.lower() != CPM_ACTION]
        return base + ("?" + "&".join(rest) if rest else "")


@dataclass(frozen=True)
class ResourceList:
    """A parsed resource-lists document: its bytes and its entries in document order."""

    raw: bytes
    entries: tuple[Entry, ...]

    @classmethod
    def parse(cls, data: bytes) -> ResourceList:
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CodecError(WHAT, f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
        try:
            root = DET.fromstring(data, forbid_dtd=True)
        except defusedxml.DefusedXmlException as exc:
            raise CodecError(WHAT, f"refused unsafe XML ({type(exc).__name__})") from exc
        except ET.ParseError as exc:
            raise CodecError(WHAT, f"not well-formed XML ({exc})") from exc
        except (ValueError, LookupError, TypeError) as exc:
            raise CodecError(WHAT, f"unreadable XML ({exc})") from exc
        if root.tag != f"{{{RL_NS}}}resource-lists":
            raise CodecError(WHAT, f"root element is {root.tag!r}, not resource-lists")
        entries: list[Entry] = []
        for lst in root.findall(_LIST):
            cls._walk(lst, entries)
        return cls(raw=data, entries=tuple(entries))

    @classmethod
    def _walk(cls, lst: ET.Element, out: list[Entry]) -> None:
        for child in lst:
            if child.tag == _LIST:
                cls._walk(child, out)
            elif child.tag == _ENTRY:
                uri = child.get("uri")
                if not uri:
                    raise CodecError(WHAT, "entry without a uri attribute")
                _uri_header_pairs(uri)  # reject malformed URI headers now, not on access
                name_el = child.find(_DISPLAY)
                anon = child.get(f"{{{CP_NS}}}anonymize")
                out.append(
                    Entry(
                        uri=uri,
                        display_name=None if name_el is None else (name_el.text or ""),
                        copy_control=child.get(f"{{{CP_NS}}}copyControl"),
                        anonymize=None if anon is None else anon.strip().lower() in ("true", "1"),
                    )
                )

    @classmethod
    def build(cls, entries: Iterable[Entry]) -> ResourceList:
        """Render a document with one flat ``<list>`` holding ``entries``."""
        entries = list(entries)
        use_cp = any(e.copy_control is not None or e.anonymize is not None for e in entries)
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<resource-lists xmlns="{RL_NS}"' + (f' xmlns:cp="{CP_NS}">' if use_cp else ">"),
            "<list>",
        ]
        for e in entries:
            attrs = f"uri={quoteattr(e.uri)}"
            if e.copy_control is not None:
                attrs += f" cp:copyControl={quoteattr(e.copy_control)}"
            if e.anonymize is not None:
                attrs += f' cp:anonymize="{"true" if e.anonymize else "false"}"'
            if e.display_name is None:
                lines.append(f"<entry {attrs}/>")
            else:
                name = escape(e.display_name)
                lines.append(f"<entry {attrs}><display-name>{name}</display-name></entry>")
        lines += ["</list>", "</resource-lists>", ""]
        return cls.parse("\n".join(lines).encode("utf-8"))

    def uris(self) -> list[str]:
        return [e.uri for e in self.entries]

    def __bytes__(self) -> bytes:
        return self.raw

    def __str__(self) -> str:
        return self.raw.decode("utf-8", errors="backslashreplace")
