"""The deferred-messages list: our own versioned XML body for deferred (queued) messages.

The CPM texts name the ``deferred-messages`` event package and say what a notification about
deferred messages may tell (Message-URI-ID, originator, subject, date, size) but define no
body. This module owns the format the reference SUT writes and the suite reads by default
(namespace ``urn:cpmconf:params:xml:ns:deferred-messages``, version 1, schema in
``schemas/deferred-messages-1.xsd``, described in docs/deferred-messages-body.md):

* :class:`DeferredList` parses and builds the document; ``str()``/``bytes()`` give the exact
  text it was parsed from or built as, so parse and render round-trip byte for byte;
* :func:`validate` checks a body against the XSD;
* :func:`ids_by_xpath` reads Message-URI-IDs out of another vendor's body with an XPath
  expression named in the target profile.

Bodies come from the system under test, so XML is parsed with defusedxml, DTDs forbidden.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import defusedxml
import defusedxml.ElementTree as DET

from .errors import CodecError

WHAT = "deferred-messages document"
NS = "urn:cpmconf:params:xml:ns:deferred-messages"
VERSION = 1
CONTENT_TYPE = "application/vnd.cpmconf.deferred-messages+xml"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "deferred-messages-1.xsd"
OPTIONAL_FIELDS = ("originator", "subject", "date", "size")


def _parse_xml(data: bytes, what: str = WHAT) -> ET.Element:
    try:
        return DET.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise CodecError(what, f"refused unsafe XML ({type(exc).__name__})") from exc
    except ET.ParseError as exc:
        raise CodecError(what, f"not well-formed XML ({exc})") from exc
    except (ValueError, LookupError, TypeError) as exc:
        raise CodecError(what, f"unreadable XML ({exc})") from exc


def _as_bytes(data) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CodecError(WHAT, f"expected bytes, got {type(data).__name__}")
    return bytes(data)


@dataclass(frozen=True)
class DeferredMessage:
    """One deferred message: its Message-URI-ID and what the PF chose to tell about it."""

    uri_id: str
    originator: str | None = None
    subject: str | None = None
    date: str | None = None  # xs:dateTime text, e.g. 2026-01-02T03:04:05Z
    size: int | None = None  # bytes of the message body as received

    def missing(self) -> tuple[str, ...]:
        """The optional fields this entry does not carry."""
        return tuple(f for f in OPTIONAL_FIELDS if getattr(self, f) is None)


@dataclass(frozen=True)
class DeferredList:
    """A parsed or built document: its exact bytes, version, user and messages in order."""

    raw: bytes
    version: int
    user: str
    messages: tuple[DeferredMessage, ...]

    @classmethod
    def parse(cls, data: bytes | str) -> DeferredList:
        data = _as_bytes(data)
        root = _parse_xml(data)
        if root.tag != f"{{{NS}}}deferred-messages":
            raise CodecError(WHAT, f"root element is {root.tag!r}, not deferred-messages")
        try:
            version = int(root.get("version") or "")
        except ValueError:
            raise CodecError(WHAT, f"version {root.get('version')!r} is not a number") from None
        if version != VERSION:
            raise CodecError(WHAT, f"version {version} is not supported (only {VERSION})")
        user = root.get("user")
        if not user:
            raise CodecError(WHAT, "no user attribute")
        messages = []
        for el in root.findall(f"{{{NS}}}message"):
            uri_id = el.get("id")
            if not uri_id:
                raise CodecError(WHAT, "message without an id (Message-URI-ID)")
            size_text = el.findtext(f"{{{NS}}}size")
            try:
                size = None if size_text is None else int(size_text)
            except ValueError:
                raise CodecError(WHAT, f"size {size_text!r} is not a number") from None
            messages.append(
                DeferredMessage(
                    uri_id=uri_id,
                    originator=el.findtext(f"{{{NS}}}originator"),
                    subject=el.findtext(f"{{{NS}}}subject"),
                    date=el.findtext(f"{{{NS}}}date"),
                    size=size,
                )
            )
        ids = [m.uri_id for m in messages]
        if len(set(ids)) != len(ids):
            raise CodecError(WHAT, "a Message-URI-ID is listed twice")
        return cls(raw=data, version=version, user=user, messages=tuple(messages))

    @classmethod
    def build(cls, user: str, messages: list[DeferredMessage] | tuple = ()) -> DeferredList:
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<deferred-messages xmlns="{NS}" version="{VERSION}" user={quoteattr(user)}>',
        ]
        for m in messages:
            lines.append(f"  <message id={quoteattr(m.uri_id)}>")
            if m.originator is not None:
                lines.append(f"    <originator>{escape(m.originator)}</originator>")
            if m.subject is not None:
                lines.append(f"    <subject>{escape(m.subject)}</subject>")
            if m.date is not None:
                lines.append(f"    <date>{escape(m.date)}</date>")
            if m.size is not None:
                lines.append(f"    <size>{int(m.size)}</size>")
            lines.append("  </message>")
        lines += ["</deferred-messages>", ""]
        return cls.parse("\n".join(lines).encode("utf-8"))

    def ids(self) -> list[str]:
        return [m.uri_id for m in self.messages]

    def __bytes__(self) -> bytes:
        return self.raw

    def __str__(self) -> str:
        return self.raw.decode("utf-8", errors="backslashreplace")


@cache
def _schema():
    import xmlschema  # loaded on first use: only validation needs it

    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def validate(data: bytes | str) -> list[str]:
    """Schema problems of a body (empty when it is valid version 1)."""
    import xmlschema

    data = _as_bytes(data)
    root = _parse_xml(data)  # defused first: the schema library never sees a hostile DTD
    return [
        f"{e.path or '/'}: {e.reason or e.message}"
        for e in _schema().iter_errors(root)
        if isinstance(e, xmlschema.XMLSchemaValidationError)
    ]


def ids_by_xpath(
    data: bytes | str, xpath: str, namespaces: dict[str, str] | None = None
) -> list[str]:
    """Message-URI-IDs read with an XPath 2 expression (attribute, element or string results)."""
    import elementpath

    root = _parse_xml(_as_bytes(data), "deferred-messages body")
    try:
        result = elementpath.select(root, xpath, namespaces=namespaces or {})
    except elementpath.ElementPathError as exc:
        raise CodecError("XPath expression", f"{xpath!r}: {exc}") from exc
    if not isinstance(result, list):
        result = [result]
    out = []
    for item in result:
        text = item.text if isinstance(item, ET.Element) else str(item)
        if text is not None and text.strip():
            out.append(text.strip())
    return out
