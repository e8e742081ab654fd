"""Small lexical helpers shared by the codec parsers (internal).

SIP, CPIM and the CPM header values share a handful of lexical rules: tokens, quoted
strings, ``;name=value`` parameter lists, lists split on commas that are not inside quotes or
angle brackets, and ``name-addr`` / ``addr-spec`` addresses. sipmessage has regular
expressions for some of these, but it decodes and re-encodes values, and the suite must see
the text exactly as the system under test sent it; so the splitting is done here, by hand,
and sipmessage is only asked to validate URIs.
"""

from __future__ import annotations

import re

from sipmessage import URI

from .errors import CodecError

TOKEN_CHARS = "A-Za-z0-9\\-.!%*_+`'~"
TOKEN_RE = re.compile(f"[{TOKEN_CHARS}]+")
# A parameter value: a quoted string, or a token that may also hold the ':' '[' ']' of an
# IPv6 reference (RFC 3261 gen-value = token / host / quoted-string).
_PARAM_RE = re.compile(
    r"\s*;\s*"
    f"(?P<name>[{TOKEN_CHARS}]+)"
    r"(?:\s*=\s*"
    r'(?P<value>"(?:[^"\\]|\\.)*"'
    f"|[{TOKEN_CHARS}:\\[\\]]+))?"
    r"\s*"
)
_SCHEME_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*):")
_GENERIC_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"]+$")
_URI_HEADERS_RE = re.compile(r"^[^\s&=?]+=[^\s&=?]*(?:&[^\s&=?]+=[^\s&=?]*)*$")


def is_token(text: str) -> bool:
    """True if ``text`` is one RFC 3261 token."""
    return TOKEN_RE.fullmatch(text) is not None


def unquote(value: str) -> str:
    """Strip the quotes of a quoted-string and undo its backslash escapes.

    A value without surrounding quotes is returned unchanged.
    """
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def quote(value: str) -> str:
    """Render ``value`` as a quoted-string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_top_level(text: str, sep: str, what: str) -> list[str]:
    """Split ``text`` on ``sep`` where it is outside quoted strings and ``<...>``.

    Pieces are returned unstripped. An unterminated quote or angle bracket is a
    :class:`CodecError`, as the split would otherwise be a guess.
    """
    pieces: list[str] = []
    start = 0
    in_quote = False
    in_angle = False
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if in_quote:
            if ch == "\\":
                i += 1  # skip the escaped character
            elif ch == '"':
                in_quote = False
        elif in_angle:
            if ch == ">":
                in_angle = False
        elif ch == '"':
            in_quote = True
        elif ch == "<":
            in_angle = True
        elif ch == sep:
            pieces.append(text[start:i])
            start = i + 1
        i += 1
    if in_quote:
        raise CodecError(what, "unterminated quoted string")
    if in_angle:
        raise CodecError(what, "unterminated '<'")
    pieces.append(text[start:])
    return pieces


def parse_params(text: str, what: str) -> tuple[tuple[str, str | None], ...]:
    """Parse ``;name[=value]`` pairs; values keep their quotes (see :func:`unquote`).

    ``text`` must be empty (after whitespace) or start with ``;``.
    """
    params: list[tuple[str, str | None]] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _PARAM_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise CodecError(what, f"bad parameter list at {text[pos : pos + 40]!r}")
        params.append((m.group("name"), m.group("value")))
        pos = m.end()
    return tuple(params)


def check_uri(uri: str, what: str) -> None:
    """Validate a URI: sip/sips/tel through sipmessage, any other scheme loosely.

    sipmessage does not accept the ``?header=value`` part of a SIP URI, so that part is
    checked here and the rest is handed to sipmessage.
    """
    m = _SCHEME_RE.match(uri)
    if m is None:
        raise CodecError(what, f"URI {uri!r} has no scheme")
    scheme = m.group("scheme").lower()
    if scheme in ("sip", "sips", "tel"):
        base, qmark, headers = uri.partition("?")
        if qmark and (scheme == "tel" or not _URI_HEADERS_RE.match(headers)):
            raise CodecError(what, f"bad header part in URI {uri!r}")
        try:
            URI.parse(base)
        except ValueError as exc:
            raise CodecError(what, f"invalid {scheme} URI {uri!r}") from exc
    elif not _GENERIC_URI_RE.match(uri):
        raise CodecError(what, f"invalid URI {uri!r}")


def split_name_addr(text: str, what: str) -> tuple[str | None, str, str]:
    """Split ``name-addr`` or ``addr-spec`` followed by parameters.

    Returns ``(display_name_as_on_wire_or_None, uri, params_text)``. For an addr-spec the
    URI ends at the first ``;`` (RFC 3261 20: parameters after a bare URI belong to the
    header, not to the URI).
    """
    s = text.strip()
    if not s:
        raise CodecError(what, "empty address")
    lt_pos = s.find("<")
    # name-addr if it opens with a quote or '<', or if a '<' comes before any ';' or '"'
    # (a '<' inside a quoted parameter of an addr-spec does not count).
    stops = [i for i in (s.find(";"), s.find('"')) if i >= 0]
    if s[0] in '"<' or (lt_pos >= 0 and all(lt_pos < i for i in stops)):
        name: str | None = None
        rest = s
        if s[0] == '"':
            m = re.match(r'"(?:[^"\\]|\\.)*"', s)
            if m is None:
                raise CodecError(what, "unterminated quoted display name")
            name = m.group(0)
            rest = s[m.end() :].lstrip()
            if not rest.startswith("<"):
                raise CodecError(what, "display name not followed by '<'")
        elif s[0] != "<":
            lt = s.index("<")
            name = s[:lt].strip()
            if not all(is_token(word) for word in name.split()):
                raise CodecError(what, f"display name {name!r} must be tokens or quoted")
            rest = s[lt:]
        gt = rest.find(">")
        if gt < 0:
            raise CodecError(what, "missing '>'")
        uri = rest[1:gt].strip()
        params = rest[gt + 1 :]
    else:
        name = None
        semi = s.find(";")
        uri, params = (s, "") if semi < 0 else (s[:semi], s[semi:])
        uri = uri.strip()
        if any(c in uri for c in ' "<>,'):
            raise CodecError(what, f"invalid addr-spec {uri!r}")
    if not uri:
        raise CodecError(what, "empty URI")
    return name, uri, params
