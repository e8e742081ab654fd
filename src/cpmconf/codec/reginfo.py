"""application/reginfo+xml bodies (RFC 3680) with the GRUU extension (RFC 5628).

The reg event package tells a subscriber (here: a PF that subscribed at the SIP/IP core) the
registration state of a user: each registered contact with its URI, its ``+sip.instance``
(carried as an ``unknown-param``) and its public and temporary GRUUs. :class:`RegInfo` parses
and builds the document; ``bytes()`` gives exactly the text parsed or built, so the two
round-trip byte for byte.

The XML comes from the other side, so it is parsed with defusedxml, DTDs forbidden.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import defusedxml
import defusedxml.ElementTree as DET

from .errors import CodecError

WHAT = "reginfo document"
CONTENT_TYPE = "application/reginfo+xml"
NS = "urn:ietf:params:xml:ns:reginfo"
GR_NS = "urn:ietf:params:xml:ns:gruuinfo"
INSTANCE = "+sip.instance"


def _q(tag: str, ns: str = NS) -> str:
    return f"{{{ns}}}{tag}"


@dataclass(frozen=True)
class RegContact:
    """One ``<contact>`` of a registration."""

    id: str
    state: str  # active | terminated
    event: str  # registered, created, refreshed, shortened, expired, deactivated, ...
    uri: str
    expires: int | None = None
    instance: str | None = None  # the +sip.instance value, e.g. "<urn:uuid:...>"
    pub_gruu: str | None = None
    temp_gruu: str | None = None


@dataclass(frozen=True)
class Registration:
    """One ``<registration>``: an address of record and its contacts."""

    aor: str
    id: str
    state: str  # init | active | terminated
    contacts: tuple[RegContact, ...] = ()

    def active(self) -> list[RegContact]:
        return [c for c in self.contacts if c.state == "active"]


@dataclass(frozen=True)
class RegInfo:
    raw: bytes
    version: int
    state: str  # full | partial
    registrations: tuple[Registration, ...]

    @classmethod
    def parse(cls, data: bytes | str) -> RegInfo:
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
        if root.tag != _q("reginfo"):
            raise CodecError(WHAT, f"root element is {root.tag!r}, not reginfo")
        try:
            version = int(root.get("version") or "")
        except ValueError:
            raise CodecError(WHAT, f"version {root.get('version')!r} is not a number") from None
        state = root.get("state") or ""
        if state not in ("full", "partial"):
            raise CodecError(WHAT, f"state {state!r} is neither full nor partial")
        regs = []
        for reg in root.findall(_q("registration")):
            aor, rid = reg.get("aor"), reg.get("id")
            if not aor or not rid:
                raise CodecError(WHAT, "registration without aor or id")
            contacts = []
            for c in reg.findall(_q("contact")):
                uri = (c.findtext(_q("uri")) or "").strip()
                if not uri or not c.get("id"):
                    raise CodecError(WHAT, f"contact of {aor} without uri or id")
                expires = c.get("expires")
                instance = None
                for p in c.findall(_q("unknown-param")):
                    if (p.get("name") or "").lower() == INSTANCE:
                        instance = (p.text or "").strip().strip('"')
                pub, tmp = c.find(_q("pub-gruu", GR_NS)), c.find(_q("temp-gruu", GR_NS))
                try:
                    exp = None if expires is None else int(expires)
                except ValueError:
                    raise CodecError(WHAT, f"expires {expires!r} is not a number") from None
                contacts.append(
                    RegContact(
                        id=c.get("id") or "",
                        state=c.get("state") or "",
                        event=c.get("event") or "",
                        uri=uri,
                        expires=exp,
                        instance=instance,
                        pub_gruu=None if pub is None else pub.get("uri"),
                        temp_gruu=None if tmp is None else tmp.get("uri"),
                    )
                )
            regs.append(Registration(aor, rid, reg.get("state") or "", tuple(contacts)))
        return cls(raw=data, version=version, state=state, registrations=tuple(regs))

    @classmethod
    def build(cls, version: int, registrations, state: str = "full") -> RegInfo:
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<reginfo xmlns="{NS}" xmlns:gr="{GR_NS}" version="{int(version)}"'
            f" state={quoteattr(state)}>",
        ]
        for r in registrations:
            lines.append(
                f"  <registration aor={quoteattr(r.aor)} id={quoteattr(r.id)}"
                f" state={quoteattr(r.state)}>"
            )
            for c in r.contacts:
                attrs = (
                    f"id={quoteattr(c.id)} state={quoteattr(c.state)} event={quoteattr(c.event)}"
                )
                if c.expires is not None:
                    attrs += f' expires="{int(c.expires)}"'
                lines.append(f"    <contact {attrs}>")
                lines.append(f"      <uri>{escape(c.uri)}</uri>")
                if c.instance is not None:
                    value = escape(f'"{c.instance}"')
                    lines.append(f'      <unknown-param name="{INSTANCE}">{value}</unknown-param>')
                if c.pub_gruu is not None:
                    lines.append(f"      <gr:pub-gruu uri={quoteattr(c.pub_gruu)}/>")
                if c.temp_gruu is not None:
                    lines.append(
                        f'      <gr:temp-gruu uri={quoteattr(c.temp_gruu)} first-cseq="1"/>'
                    )
                lines.append("    </contact>")
            lines.append("  </registration>")
        lines += ["</reginfo>", ""]
        return cls.parse("\n".join(lines).encode("utf-8"))

    def registration(self, aor: str) -> Registration | None:
        for r in self.registrations:
            if r.aor == aor:
                return r
        return None

    def __bytes__(self) -> bytes:
        return self.raw

    def __str__(self) -> str:
        return self.raw.decode("utf-8", errors="backslashreplace")
