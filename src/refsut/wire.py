"""The reference SUT's own wire writers: every byte of SIP, SDP, MSRP, CPIM and XML it sends.

The harness judges the SUT with cpmconf's codec. If the refsut wrote its messages with the
same codec builders, a builder that misread an RFC would produce text that the harness's
parser (written by the same hands) happily accepts, and the mistake would hide on both
sides. So the refsut writes its wire text here, from plain literals taken from the RFCs
(3261, 4566/4975, 3862, 4826/5366, 5438) and the CPM texts, and uses the codec only to
*read* what it receives (the ``selftests/refsut`` allowlist test keeps it that way).

Writers return bytes (or ``str`` for single header values and URIs). They check only what
would break the framing of the message they write (a line break inside a value); the rest
is the caller's business, so a fault switch can still alter what goes out.
"""

from __future__ import annotations

import re
import secrets
import string
import urllib.parse
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

CRLF = "\r\n"

# RFC 5438 section 6 (CPIM header namespace) and section 7.2 (the XML document namespace).
IMDN_NS = "urn:ietf:params:imdn"
IMDN_XML_NS = "urn:ietf:params:xml:ns:imdn"
# RFC 4826 section 3.4: resource-lists namespace.
RESOURCE_LISTS_NS = "urn:ietf:params:xml:ns:resource-lists"
# The deferred-messages list: the body docs/deferred-messages-body.md defines (version 1).
DEFERRED_NS = "urn:cpmconf:params:xml:ns:deferred-messages"
DEFERRED_TYPE = "application/vnd.cpmconf.deferred-messages+xml"


class WireError(ValueError):
    """A writer was handed text that would break the framing it writes (the refsut's own
    bug, never the peer's)."""


def _one_line(text: str, what: str) -> str:
    # A SIP header may be folded (CRLF then SP/HTAB); any other CR or LF splits the message.
    if re.search(r"\r(?!\n[ \t])|(?<!\r)\n|\r\n(?![ \t])", text):
        raise WireError(f"{what}: line break in {text[:60]!r}")
    return text


# --------------------------------------------------------------------------- identifiers

_IDENT_CHARS = string.ascii_letters + string.digits


def new_ident(length: int = 16) -> str:
    """A random MSRP ident (RFC 4975 section 9: 4 to 32 alphanumerics and a few symbols;
    alphanumerics only here) for transaction ids, Message-IDs and session ids."""
    return "".join(secrets.choice(_IDENT_CHARS) for _ in range(length))


def icsi_ref(urn: str) -> str:
    """A URN as a ``+g.3gpp.icsi-ref`` / ``+g.3gpp.iari-ref`` value: the feature tag value
    is a quoted string, so every reserved character of the URN (the ``:`` above all) is
    percent-encoded (3GPP TS 24.229 7.2A.8)."""
    return urllib.parse.quote(urn, safe="")


def warning(code: int, agent: str, text: str) -> str:
    """A Warning value (RFC 3261 20.43): ``warn-code SP warn-agent SP quoted warn-text``."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'{code:03d} {agent} "{quoted}"'


# --------------------------------------------------------------------------- SIP


def sip_message(start_line: str, headers: Iterable[tuple[str, str]], body: bytes = b"") -> bytes:
    """A SIP message (RFC 3261 7): start line, ``Name: value`` lines, an empty line, body.

    Content-Length is always the body's size (18.3: mandatory over streams, and we send it
    over UDP too); a Content-Length among ``headers`` only marks where it goes, else last.
    """
    body = bytes(body)
    lines = [_one_line(start_line, "start line")]
    placed = False
    for name, value in headers:
        if name.strip().lower() in ("content-length", "l"):
            if not placed:
                lines.append(f"Content-Length: {len(body)}")
                placed = True
            continue
        if not name or any(c in name for c in " \t\r\n:"):
            raise WireError(f"bad header name {name!r}")
        lines.append(f"{name}: {_one_line(value, name)}")
    if not placed:
        lines.append(f"Content-Length: {len(body)}")
    return (CRLF.join(lines) + CRLF + CRLF).encode("utf-8") + body


# --------------------------------------------------------------------------- MSRP


def _text(value) -> str:
    """A URI given as text or as a parsed URI (whose ``raw`` is its text)."""
    return value if isinstance(value, str) else value.raw


def msrp_path(value) -> str:
    """A To-Path / From-Path value: one URI, or several separated by single spaces."""
    if isinstance(value, str) or hasattr(value, "raw"):
        return _text(value)
    return " ".join(_text(v) for v in value)


def msrp_uri(
    host: str, port: int, session_id: str, transport: str = "tcp", secure: bool = False
) -> str:
    """``msrp://host:port/session-id;transport`` (RFC 4975 section 6), IPv6 in brackets;
    ``msrps://`` when `secure` (over TLS)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"msrp{'s' if secure else ''}://{host}:{port}/{session_id};{transport}"


def byte_range(start: int, end: int | None, total: int | None) -> str:
    """``Byte-Range: start-end/total`` (RFC 4975 section 9), ``*`` for an unknown part."""
    return f"{start}-{'*' if end is None else end}/{'*' if total is None else total}"


def msrp_request(
    tid: str | None,
    method: str,
    to_path,
    from_path,
    *,
    message_id: str | None = None,
    range_: tuple[int, int | None, int | None] | str | None = None,
    content_type: str | None = None,
    body: bytes = b"",
    flag: str = "$",
    extra: Iterable[tuple[str, str]] = (),
) -> bytes:
    """An MSRP request (RFC 4975 section 7.1): To-Path and From-Path first (as section 6.1
    asks), then Message-ID, Byte-Range, ``extra``, and Content-Type last before the body.

    The content stuff (empty line, body, CRLF) is written only with a ``content_type``; a
    request without one is body-less, like the empty SEND that binds a connection.
    ``tid`` None picks a fresh transaction id whose end-line does not occur in the body;
    ``range_`` as text is written as given (a relayed chunk keeps its Byte-Range).
    """
    body = bytes(body)
    while tid is None or f"-------{tid}".encode() in body:
        tid = new_ident()
    headers = [("To-Path", msrp_path(to_path)), ("From-Path", msrp_path(from_path))]
    if message_id is not None:
        headers.append(("Message-ID", message_id))
    if isinstance(range_, str):
        headers.append(("Byte-Range", range_))
    elif range_ is not None:
        headers.append(("Byte-Range", byte_range(*range_)))
    headers += list(extra)
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    head = f"MSRP {tid} {method}{CRLF}" + "".join(f"{n}: {_single(v, n)}{CRLF}" for n, v in headers)
    raw = head.encode("utf-8")
    if content_type is not None:
        raw += CRLF.encode() + body + CRLF.encode()
    return raw + f"-------{tid}{flag}{CRLF}".encode("ascii")


def _single(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:  # MSRP headers never fold
        raise WireError(f"{what}: line break in {value[:60]!r}")
    return value


# Comments for the status codes the refsut answers with (RFC 4975 section 10).
MSRP_COMMENTS = {
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


def msrp_response(tid: str, code: int, to_uri, from_uri) -> bytes:
    """A transaction response (RFC 4975 section 7.2): To-Path is the request's first
    From-Path URI (the previous hop), From-Path is our own URI; no body."""
    comment = MSRP_COMMENTS.get(code)
    start = f"MSRP {tid} {code:03d}" + (f" {comment}" if comment else "")
    return (
        f"{start}{CRLF}To-Path: {_text(to_uri)}{CRLF}From-Path: {_text(from_uri)}{CRLF}"
        f"-------{tid}${CRLF}"
    ).encode()


def msrp_chunks(
    body: bytes,
    size: int,
    *,
    to_path,
    from_path,
    message_id: str,
    content_type: str = "message/cpim",
) -> list[bytes]:
    """The SEND requests carrying ``body`` in pieces of ``size`` bytes (RFC 4975 5.1):
    each with ``Byte-Range: start-end/total``, ``+`` on all but the last, which ends in
    ``$``. An empty body is one body-less SEND with ``1-0/0`` (the bind of RFC 6135)."""
    body = bytes(body)
    out = []
    pos = 0
    while True:
        piece = body[pos : pos + size]
        last = pos + len(piece) >= len(body)
        out.append(
            msrp_request(
                None,
                "SEND",
                to_path,
                from_path,
                message_id=message_id,
                range_=(pos + 1, pos + len(piece), len(body)),
                content_type=content_type if piece else None,
                body=piece,
                flag="$" if last else "+",
            )
        )
        pos += len(piece)
        if last:
            return out


def msrp_tid(raw: bytes) -> str:
    """The transaction id of a request this module wrote (``MSRP <tid> <method>``)."""
    return raw.split(b"\r\n", 1)[0].split(b" ")[1].decode("ascii")


# --------------------------------------------------------------------------- SDP


def sdp_msrp(
    *,
    host: str,
    path,
    port: int | None = None,
    accept_types: str | Sequence[str] = ("message/cpim",),
    accept_wrapped_types: str | Sequence[str] = (),
    setup: str | None = "active",
    direction: str | None = None,
    file_selector: str | None = None,
    session_id: int | str = 0,
) -> bytes:
    """An SDP offer or answer with one MSRP stream (RFC 4566, RFC 4975 section 8).

    Session part ``v o s c t``; then ``m=message <port> TCP/MSRP *`` (``TCP/TLS/MSRP`` for an
    ``msrps:`` path) with accept-types,
    accept-wrapped-types, path, setup (RFC 6135), the direction and file-selector (RFC
    5547), in that order. The m-line port is the port of the last path URI (our own), as
    RFC 4975 8.1 asks, unless ``port`` is given. Empty type lists leave the line out.
    """
    path_text = msrp_path(path)
    if port is None:
        m = re.search(r"://(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/;]*)(?::([0-9]+))?", path_text.split()[-1])
        port = int(m.group(1)) if m and m.group(1) else 2855
    addrtype = "IP6" if ":" in host else "IP4"
    # RFC 4975 8.1: TCP/TLS/MSRP when our own URI (the last of the path) is msrps:
    proto = "TCP/TLS/MSRP" if path_text.split()[-1].lower().startswith("msrps:") else "TCP/MSRP"

    def words(value: str | Sequence[str]) -> str:
        return value if isinstance(value, str) else " ".join(value)

    lines = [
        "v=0",
        f"o=- {session_id} 0 IN {addrtype} {host}",
        "s=-",
        f"c=IN {addrtype} {host}",
        "t=0 0",
        f"m=message {port} {proto} *",
    ]
    if words(accept_types):
        lines.append(f"a=accept-types:{words(accept_types)}")
    if words(accept_wrapped_types):
        lines.append(f"a=accept-wrapped-types:{words(accept_wrapped_types)}")
    lines.append(f"a=path:{path_text}")
    if setup is not None:
        lines.append(f"a=setup:{setup}")
    if direction is not None:
        lines.append(f"a={direction}")
    if file_selector is not None:
        lines.append(f"a=file-selector:{file_selector}")
    for line in lines:
        _single(line, "SDP")
    return "".join(line + CRLF for line in lines).encode("utf-8")


# --------------------------------------------------------------------------- CPIM


def cpim(
    headers: Iterable[tuple[str, str]],
    content_type: str,
    content: bytes,
    mime_headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    """A message/cpim object (RFC 3862 section 3): the message headers, an empty line, the
    encapsulated MIME headers (Content-Type first, Content-Length last), an empty line, the
    content."""
    content = bytes(content)
    inner = [("Content-Type", content_type), *mime_headers, ("Content-Length", str(len(content)))]
    text = "".join(f"{n}: {_single(v, n)}{CRLF}" for n, v in headers) + CRLF
    text += "".join(f"{n}: {_single(v, n)}{CRLF}" for n, v in inner) + CRLF
    return text.encode("utf-8") + content


# --------------------------------------------------------------------------- XML bodies


def imdn_delivered(
    *, message_id: str, date_time: str | None, recipient: str, original_recipient: str
) -> bytes:
    """A positive delivery notification (RFC 5438 section 7.2)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<imdn xmlns="{IMDN_XML_NS}">',
        f"<message-id>{escape(message_id)}</message-id>",
    ]
    if date_time:
        lines.append(f"<datetime>{escape(date_time)}</datetime>")
    lines += [
        f"<recipient-uri>{escape(recipient)}</recipient-uri>",
        f"<original-recipient-uri>{escape(original_recipient)}</original-recipient-uri>",
        "<delivery-notification><status><delivered/></status></delivery-notification>",
        "</imdn>",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def with_action(uri: str, action: str) -> str:
    """A URI naming a deferred message and what to do with it: a ``cpm_action`` URI
    header (RFC 3261 19.1.1 headers, ``?`` first then ``&``)."""
    return f"{uri}{'&' if '?' in uri else '?'}cpm_action={action}"


def resource_list(uris: Iterable[str]) -> bytes:
    """A resource-lists document (RFC 4826 3.4) with one flat list, one entry a URI, as
    RFC 5365/5366 carry the recipients."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<resource-lists xmlns="{RESOURCE_LISTS_NS}">',
        "<list>",
        *(f"<entry uri={quoteattr(u)}/>" for u in uris),
        "</list>",
        "</resource-lists>",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def deferred_list(
    user: str,
    messages: Iterable[tuple[str, str | None, str | None, str | None, int | None]],
) -> bytes:
    """The deferred-messages list, version 1 (docs/deferred-messages-body.md): one
    ``<message id=Message-URI-ID>`` per ``(uri_id, originator, subject, date, size)``,
    the optional children present only when known."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<deferred-messages xmlns="{DEFERRED_NS}" version="1" user={quoteattr(user)}>',
    ]
    for uri_id, originator, subject, date, size in messages:
        lines.append(f"  <message id={quoteattr(uri_id)}>")
        if originator is not None:
            lines.append(f"    <originator>{escape(originator)}</originator>")
        if subject is not None:
            lines.append(f"    <subject>{escape(subject)}</subject>")
        if date is not None:
            lines.append(f"    <date>{escape(date)}</date>")
        if size is not None:
            lines.append(f"    <size>{int(size)}</size>")
        lines.append("  </message>")
    lines += ["</deferred-messages>", ""]
    return "\n".join(lines).encode("utf-8")
