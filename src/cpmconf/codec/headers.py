"""Typed parsers for the SIP header values the CPM checks look at.

sipmessage gives typed access to the core RFC 3261 headers but leaves the caller-preference
feature tags (RFC 3840/3841), Warning, P-Preferred-Service, Privacy, User-Agent/Server
product lists and the CPM-defined headers (Conversation-ID, Contribution-ID,
InReplyTo-Contribution-ID, Message-UID) as raw strings, and where it does parse parameters
it percent-decodes and re-encodes them. A conformance check has to judge the text the system
under test actually sent (for example whether an ICSI was percent-encoded), so every type
here keeps its raw text: ``str(value)`` gives back exactly what was parsed, and the decoded
views are derived from it.

Each type is a frozen dataclass with ``parse(text)`` raising only
:class:`~cpmconf.codec.errors.CodecError`, and most have a ``build(...)`` classmethod that
renders the wire text from parts and parses it back.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from ._text import (
    TOKEN_CHARS,
    check_uri,
    is_token,
    parse_params,
    quote,
    split_name_addr,
    split_top_level,
    unquote,
)
from .errors import CodecError

ICSI_TAG = "g.3gpp.icsi-ref"
IARI_TAG = "g.3gpp.iari-ref"

# RFC 3840 section 10: feature tags of the base set, written without a leading '+'.
BASE_FEATURE_TAGS = frozenset(
    {
        "audio",
        "automata",
        "class",
        "duplex",
        "data",
        "control",
        "mobility",
        "description",
        "events",
        "priority",
        "methods",
        "schemes",
        "application",
        "video",
        "language",
        "type",
        "isfocus",
        "actor",
        "text",
        "extensions",
    }
)

MAX_UINT32 = 2**32 - 1


def _require_str(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise CodecError(what, f"expected str, got {type(text).__name__}")
    return text


def _norm_tag(name: str) -> str:
    return name[1:].lower() if name.startswith("+") else name.lower()


def encode_icsi(urn: str) -> str:
    """Percent-encode a URN for a ``g.3gpp.icsi-ref`` value (3GPP TS 24.229 7.2A.8.2)."""
    return urllib.parse.quote(urn, safe="")


# --------------------------------------------------------------------------- addresses


@dataclass(frozen=True)
class NameAddr:
    """A ``name-addr`` or ``addr-spec`` with header parameters (From, To, Reply-To ...).

    ``display_name`` is unquoted; ``params`` keep values as on the wire (quotes included);
    :meth:`param` gives the unquoted value.
    """

    raw: str
    display_name: str | None
    uri: str
    params: tuple[tuple[str, str | None], ...]

    _WHAT: ClassVar[str] = "address"

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        what = cls._WHAT
        text = _require_str(text, what)
        name, uri, params_text = split_name_addr(text, what)
        check_uri(uri, what)
        params = parse_params(params_text, what)
        return cls(
            raw=text,
            display_name=None if name is None else unquote(name),
            uri=uri,
            params=params,
        )

    @classmethod
    def build(
        cls,
        uri: str,
        display_name: str | None = None,
        params: Iterable[tuple[str, str | None]] = (),
    ) -> NameAddr:
        """Render ``"Name" <uri>;k=v`` (values given as they should appear on the wire)."""
        text = (quote(display_name) + " " if display_name else "") + f"<{uri}>"
        for k, v in params:
            text += f";{k}" if v is None else f";{k}={v}"
        return cls.parse(text)

    def param(self, name: str) -> str | None:
        """Unquoted value of the first parameter called ``name`` (case-insensitive)."""
        for k, v in self.params:
            if k.lower() == name.lower():
                return None if v is None else unquote(v)
        return None

    def has_param(self, name: str) -> bool:
        return any(k.lower() == name.lower() for k, _ in self.params)

    @property
    def tag(self) -> str | None:
        return self.param("tag")

    def __str__(self) -> str:
        return self.raw


@dataclass(frozen=True)
class ReplyTo(NameAddr):
    """The Reply-To header value (RFC 3261 20.31), used by CPM for the reply address."""

    _WHAT: ClassVar[str] = "Reply-To header"


def uri_of(value: str | None) -> str:
    """The URI of an address header value (``"name" <uri>;params`` or ``uri;params``), read
    leniently: what a peer wrote, to address a request to it; "" for nothing."""
    try:
        return NameAddr.parse(value or "").uri
    except CodecError:
        text = value or ""
        if "<" in text and ">" in text:
            return text[text.index("<") + 1 : text.index(">")]
        return text.split(";")[0].strip()


# --------------------------------------------------------------------------- feature sets


@dataclass(frozen=True)
class FeatureSet:
    """One Accept-Contact / Reject-Contact value, or the feature parameters of a Contact.

    ``target`` is ``*`` or the address text; ``params`` lists every parameter as on the
    wire. ``features`` maps each feature tag (name without the leading ``+``, lower case) to
    its unquoted but still percent-encoded value, or ``None`` for a boolean tag.
    """

    raw: str
    target: str
    uri: str | None
    display_name: str | None
    params: tuple[tuple[str, str | None], ...]

    _WHAT: ClassVar[str] = "feature set"

    @classmethod
    def parse(cls, text: str) -> FeatureSet:
        what = cls._WHAT
        text = _require_str(text, what)
        stripped = text.strip()
        if stripped.startswith("*"):
            target, uri, name, params_text = "*", None, None, stripped[1:]
        else:
            name_raw, uri, params_text = split_name_addr(text, what)
            check_uri(uri, what)
            name = None if name_raw is None else unquote(name_raw)
            target = stripped[: len(stripped) - len(params_text)].strip()
        params = parse_params(params_text, what)
        return cls(raw=text, target=target, uri=uri, display_name=name, params=params)

    @classmethod
    def parse_many(cls, text: str) -> tuple[FeatureSet, ...]:
        """Parse a comma-separated header value into its feature sets."""
        text = _require_str(text, cls._WHAT)
        pieces = split_top_level(text, ",", cls._WHAT)
        if any(not p.strip() for p in pieces):
            raise CodecError(cls._WHAT, "empty list element")
        return tuple(cls.parse(p.strip()) for p in pieces)

    @classmethod
    def build(
        cls,
        target: str = "*",
        icsi: Iterable[str] = (),
        iari: Iterable[str] = (),
        tags: Iterable[tuple[str, str | None]] = (),
        explicit: bool = False,
        require: bool = False,
    ) -> FeatureSet:
        """Render a feature set; ICSI/IARI URNs are given decoded and encoded here.

        ``tags`` are extra ``(name, value)`` parameters written as given (a value is quoted
        if it is not already).
        """
        text = target
        icsi = list(icsi)
        iari = list(iari)
        if icsi:
            text += f';+{ICSI_TAG}="' + ",".join(encode_icsi(u) for u in icsi) + '"'
        if iari:
            text += f';+{IARI_TAG}="' + ",".join(encode_icsi(u) for u in iari) + '"'
        for name, value in tags:
            if value is None:
                text += f";{name}"
            else:
                text += f";{name}=" + (value if value.startswith('"') else quote(value))
        if explicit:
            text += ";explicit"
        if require:
            text += ";require"
        return cls.parse(text)

    @property
    def is_wildcard(self) -> bool:
        return self.target == "*"

    @property
    def features(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for name, value in self.params:
            if name.startswith("+") or name.lower() in BASE_FEATURE_TAGS:
                out.setdefault(_norm_tag(name), None if value is None else unquote(value))
        return out

    @property
    def explicit(self) -> bool:
        return any(k.lower() == "explicit" for k, _ in self.params)

    @property
    def require(self) -> bool:
        return any(k.lower() == "require" for k, _ in self.params)

    def param(self, name: str) -> str | None:
        for k, v in self.params:
            if k.lower() == name.lower():
                return None if v is None else unquote(v)
        return None

    def has_tag(self, name: str) -> bool:
        """True if feature tag ``name`` (with or without ``+``) is present."""
        key = _norm_tag(name)
        return any(
            _norm_tag(k) == key and (k.startswith("+") or k.lower() in BASE_FEATURE_TAGS)
            for k, _ in self.params
        )

    def tag_values_raw(self, name: str) -> list[str]:
        """The comma-separated values of tag ``name`` as sent (still percent-encoded)."""
        key = _norm_tag(name)
        values: list[str] = []
        for k, v in self.params:
            if k.startswith("+") and _norm_tag(k) == key and v is not None:
                values.extend(x.strip() for x in unquote(v).split(",") if x.strip())
        return values

    def icsi_refs_raw(self) -> list[str]:
        return self.tag_values_raw(ICSI_TAG)

    def icsi_refs(self) -> list[str]:
        """The ICSI URNs, percent-decoded."""
        return [urllib.parse.unquote(v) for v in self.icsi_refs_raw()]

    def iari_refs(self) -> list[str]:
        return [urllib.parse.unquote(v) for v in self.tag_values_raw(IARI_TAG)]

    def has_icsi(self, urn: str) -> bool:
        """True if the decoded ICSI list holds ``urn`` (compared case-insensitively)."""
        want = urllib.parse.unquote(urn).casefold()
        return any(v.casefold() == want for v in self.icsi_refs())

    def icsi_encoded_ok(self) -> bool:
        """True if every ICSI value was percent-encoded (no bare ':' in the wire value)."""
        return all(":" not in v for v in self.icsi_refs_raw())

    def __str__(self) -> str:
        return self.raw


@dataclass(frozen=True)
class AcceptContact(FeatureSet):
    _WHAT: ClassVar[str] = "Accept-Contact header"


@dataclass(frozen=True)
class ContactFeatures(FeatureSet):
    _WHAT: ClassVar[str] = "Contact header"


# --------------------------------------------------------------------------- Warning

_WARNING_RE = re.compile(r'^(?P<code>\d{3})[ \t]+(?P<agent>\S+)[ \t]+(?P<text>"(?:[^"\\]|\\.)*")$')
_OMA_CODE_RE = re.compile(r"^\s*(?P<code>\d{3})(?!\d)")


@dataclass(frozen=True)
class WarningValue:
    """One ``warn-code warn-agent "warn-text"`` entry (RFC 3261 20.43).

    OMA enablers carry their own codes under warn-code 399, at the start of the warn-text:
    ``399 pf.example.net "125 No messages"``. :meth:`oma_code` reads that. A system that
    writes ``125 pf.example.net "No messages"`` instead has put the OMA code where a SIP
    warn-code belongs; :attr:`oma_code_in_warn_code` flags that so a check can report it
    rather than accept it.
    """

    raw: str
    code: int
    agent: str
    text: str

    @classmethod
    def parse(cls, text: str) -> WarningValue:
        what = "Warning header"
        text = _require_str(text, what)
        m = _WARNING_RE.match(text.strip())
        if m is None:
            raise CodecError(what, f'expected 3-digit code, agent and "text": {text!r}')
        return cls(
            raw=text,
            code=int(m.group("code")),
            agent=m.group("agent"),
            text=unquote(m.group("text")),
        )

    @classmethod
    def build(cls, code: int, agent: str, text: str) -> WarningValue:
        return cls.parse(f"{code:03d} {agent} {quote(text)}")

    @classmethod
    def oma(cls, oma_code: int, agent: str, text: str) -> WarningValue:
        """An OMA warning as the suite expects it: 399 and the OMA code in the text."""
        return cls.build(399, agent, f"{oma_code} {text}")

    def oma_code(self) -> int | None:
        """The OMA code from the start of the warn-text, only when warn-code is 399."""
        if self.code != 399:
            return None
        m = _OMA_CODE_RE.match(self.text)
        return int(m.group("code")) if m else None

    def oma_text(self) -> str | None:
        """The warn-text after the OMA code (e.g. ``No messages``), when there is one."""
        m = _OMA_CODE_RE.match(self.text) if self.code == 399 else None
        return self.text[m.end() :].strip() if m else None

    @property
    def oma_code_in_warn_code(self) -> bool:
        """True when the warn-code is outside the SIP range 300-399.

        SIP warn-codes are all 3xx, so such a code is most likely an OMA code written in
        the wrong position.
        """
        return not 300 <= self.code <= 399

    def misplaced_oma_code(self) -> int | None:
        return self.code if self.oma_code_in_warn_code else None

    def __str__(self) -> str:
        return self.raw


@dataclass(frozen=True)
class WarningHeader:
    """A Warning header value: one or more comma-separated :class:`WarningValue`."""

    raw: str
    values: tuple[WarningValue, ...]

    @classmethod
    def parse(cls, text: str) -> WarningHeader:
        what = "Warning header"
        text = _require_str(text, what)
        pieces = split_top_level(text, ",", what)
        if any(not p.strip() for p in pieces):
            raise CodecError(what, "empty list element")
        return cls(raw=text, values=tuple(WarningValue.parse(p.strip()) for p in pieces))

    def oma_codes(self) -> list[int]:
        """OMA codes carried the OMA way (399 + code in text), in order."""
        return [c for c in (v.oma_code() for v in self.values) if c is not None]

    def misplaced_oma_codes(self) -> list[int]:
        """Codes found in the warn-code position that are not SIP warn-codes."""
        return [c for c in (v.misplaced_oma_code() for v in self.values) if c is not None]

    def find_oma(self, oma_code: int) -> WarningValue | None:
        """The first entry carrying ``oma_code`` the OMA way (399 + code in text)."""
        return next((v for v in self.values if v.oma_code() == oma_code), None)

    def find_misplaced_oma(self, oma_code: int) -> WarningValue | None:
        """The first entry with ``oma_code`` in the warn-code position."""
        return next((v for v in self.values if v.misplaced_oma_code() == oma_code), None)

    def __str__(self) -> str:
        return self.raw


def warnings_of(header_values: Iterable[str]) -> list[WarningValue]:
    """All warning entries of several Warning header lines, in order."""
    out: list[WarningValue] = []
    for value in header_values:
        out.extend(WarningHeader.parse(value).values)
    return out


# --------------------------------------------------------------------------- service ids

_URN_RE = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$", re.IGNORECASE)


@dataclass(frozen=True)
class PPreferredService:
    """P-Preferred-Service (RFC 6050): a comma-separated list of service URNs."""

    raw: str
    services: tuple[str, ...]

    _WHAT: ClassVar[str] = "P-Preferred-Service header"

    @classmethod
    def parse(cls, text: str) -> PPreferredService:
        what = cls._WHAT
        text = _require_str(text, what)
        services = tuple(p.strip() for p in split_top_level(text, ",", what))
        for s in services:
            if not _URN_RE.match(s):
                raise CodecError(what, f"not a service URN: {s!r}")
        return cls(raw=text, services=services)

    @classmethod
    def build(cls, *services: str) -> PPreferredService:
        return cls.parse(",".join(services))

    def has(self, urn: str) -> bool:
        return any(s.casefold() == urn.casefold() for s in self.services)

    def __str__(self) -> str:
        return self.raw


@dataclass(frozen=True)
class PAssertedService(PPreferredService):
    _WHAT: ClassVar[str] = "P-Asserted-Service header"


# --------------------------------------------------------------------------- CPM ids


@dataclass(frozen=True)
class CpmId:
    """A token-valued CPM header (TS Appendix C): Conversation-ID and its relatives."""

    raw: str
    value: str

    _WHAT: ClassVar[str] = "CPM id header"

    @classmethod
    def parse(cls, text: str) -> CpmId:
        what = cls._WHAT
        text = _require_str(text, what)
        value = text.strip()
        if not is_token(value):
            raise CodecError(what, f"value must be a non-empty token: {text!r}")
        return cls(raw=text, value=value)

    def __str__(self) -> str:
        return self.raw


@dataclass(frozen=True)
class ConversationId(CpmId):
    _WHAT: ClassVar[str] = "Conversation-ID header"


@dataclass(frozen=True)
class ContributionId(CpmId):
    _WHAT: ClassVar[str] = "Contribution-ID header"


@dataclass(frozen=True)
class InReplyToContributionId(CpmId):
    _WHAT: ClassVar[str] = "InReplyTo-Contribution-ID header"


@dataclass(frozen=True)
class MessageUID:
    """Message-UID: the IMAP UID of the stored object, a non-zero 32-bit number.

    IMAP writes it as ``nz-number`` (RFC 3501), so leading zeros are refused too.
    """

    raw: str
    value: int

    @classmethod
    def parse(cls, text: str) -> MessageUID:
        what = "Message-UID header"
        text = _require_str(text, what)
        s = text.strip()
        if not re.fullmatch(r"[1-9][0-9]*", s):
            raise CodecError(what, f"expected a positive decimal integer: {text!r}")
        if len(s) > 10 or int(s) > MAX_UINT32:
            raise CodecError(what, f"{s[:20]} exceeds 2^32-1")
        return cls(raw=text, value=int(s))

    @classmethod
    def build(cls, value: int) -> MessageUID:
        return cls.parse(str(value))

    def __str__(self) -> str:
        return self.raw


# --------------------------------------------------------------------------- products

_PRODUCT_RE = re.compile(f"([{TOKEN_CHARS}]+)(?:[ \\t]*/[ \\t]*([{TOKEN_CHARS}]+))?")


@dataclass(frozen=True)
class ReleaseVersion:
    """User-Agent / Server value (RFC 3261 20.35/20.41) as product tokens and comments.

    ``products`` holds ``(name, version, comment)``; a comment attaches to the product just
    before it, a stray comment gets an empty name. The CPM release version (TS Appendix D)
    is the product whose name starts with ``CPM-``: ``CPM-client/OMA2.0`` in a User-Agent,
    ``CPM-serv/OMA2.0`` in a Server.
    """

    raw: str
    products: tuple[tuple[str, str | None, str | None], ...]

    @classmethod
    def parse(cls, text: str) -> ReleaseVersion:
        what = "User-Agent/Server header"
        text = _require_str(text, what)
        items: list[list] = []
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch in " \t":
                i += 1
            elif ch == "(":
                depth, j = 0, i
                while j < n:
                    c = text[j]
                    if c == "\\":
                        j += 1
                    elif c == "(":
                        depth += 1
                    elif c == ")":
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                if j >= n:
                    raise CodecError(what, "unterminated comment")
                comment = text[i + 1 : j]
                if items and items[-1][2] is None and items[-1][0]:
                    items[-1][2] = comment
                else:
                    items.append(["", None, comment])
                i = j + 1
            else:
                m = _PRODUCT_RE.match(text, i)
                if m is None:
                    raise CodecError(what, f"bad product at {text[i : i + 30]!r}")
                items.append([m.group(1), m.group(2), None])
                i = m.end()
        if not items:
            raise CodecError(what, "empty value")
        return cls(raw=text, products=tuple((a, b, c) for a, b, c in items))

    def _cpm(self) -> tuple[str, str | None, str | None] | None:
        return next((p for p in self.products if p[0].lower().startswith("cpm-")), None)

    def cpm_release(self) -> str | None:
        """The version of the ``CPM-...`` product, e.g. ``OMA2.0``; None if absent."""
        p = self._cpm()
        return None if p is None else p[1]

    def cpm_product(self) -> str | None:
        """The whole CPM product token as sent, e.g. ``CPM-client/OMA2.0``."""
        p = self._cpm()
        if p is None:
            return None
        return p[0] if p[1] is None else f"{p[0]}/{p[1]}"

    def __str__(self) -> str:
        return self.raw


# --------------------------------------------------------------------------- misc


@dataclass(frozen=True)
class Privacy:
    """Privacy header (RFC 3323, ``id`` from RFC 3325): ``;``-separated values."""

    raw: str
    values: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Privacy:
        what = "Privacy header"
        text = _require_str(text, what)
        values = tuple(v.strip() for v in text.split(";"))
        if not all(is_token(v) for v in values):
            raise CodecError(what, f"values must be tokens separated by ';': {text!r}")
        return cls(raw=text, values=values)

    def has(self, value: str) -> bool:
        return any(v.lower() == value.lower() for v in self.values)

    def __str__(self) -> str:
        return self.raw


@dataclass(frozen=True)
class Expires:
    """Expires header (RFC 3261 20.19): delta-seconds, 0 .. 2^32-1."""

    raw: str
    seconds: int

    _WHAT: ClassVar[str] = "Expires header"

    @classmethod
    def parse(cls, text: str) -> Expires:
        what = cls._WHAT
        text = _require_str(text, what)
        s = text.strip()
        if not re.fullmatch(r"[0-9]+", s):
            raise CodecError(what, f"expected delta-seconds: {text!r}")
        if len(s.lstrip("0")) > 10 or int(s) > MAX_UINT32:
            raise CodecError(what, f"{s[:20]} exceeds 2^32-1")
        return cls(raw=text, seconds=int(s))

    @classmethod
    def build(cls, seconds: int) -> Expires:
        return cls.parse(str(seconds))

    def __str__(self) -> str:
        return self.raw


@dataclass(frozen=True)
class MessageExpires(Expires):
    """Message-Expires (CPM TS Appendix C), delta-seconds like Expires."""

    _WHAT: ClassVar[str] = "Message-Expires header"
