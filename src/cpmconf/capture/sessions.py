"""MSRP sessions in captured traffic: where SDP says they run, and which dialog owns them.

This module owns the pure links between captured SIP and captured MSRP:
- `sdp_bodies` / `msrp_targets`: the SDP a SIP message carries (``application/sdp``,
  or a part of a ``multipart/*`` body) and the ``host:port`` pairs its ``m=message``
  sections name (every ``a=path`` URI, and the ``m=`` port at the ``c=`` address
  unless it is 0 or the discard port 9 that an active TCP endpoint writes; MSRP
  over TLS only on request, since its bytes cannot be read on the wire);
- `dialog_of`: the SIP Call-ID whose offer/answer negotiated each MSRP record, by
  matching the record's To-Path/From-Path URIs against the ``a=path`` URIs of
  captured SDP (RFC 4975 section 6.1 comparison);
- `tshark_decode_args`: ``-d`` options that make tshark decode every captured flow.

Everything here is a function of records or messages; nothing reads a socket or a file.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from cpmconf.capture.records import Record
from cpmconf.capture.tcp import MSRP, SIP
from cpmconf.codec.errors import CodecError
from cpmconf.codec.msrp import DEFAULT_PORT, MsrpMessage, MsrpUri
from cpmconf.codec.sdp import SessionDescription
from cpmconf.codec.sip import SipMessage

# Ports that name no listener: 0 (stream refused) and 9 (discard, RFC 4145 active side).
_NO_LISTENER = (0, 9)
_BOUNDARY_RE = re.compile(r';\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))', re.I)
_PART_TYPE_RE = re.compile(rb"^content-type[ \t]*:[ \t]*([^;\r\n]+)", re.I | re.M)


def normalise_host(host: str) -> str:
    """An IP literal in its compressed form (brackets and zone removed); a name in lower case."""
    h = host.strip()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    try:
        return ipaddress.ip_address(h.split("%", 1)[0]).compressed
    except ValueError:
        return h.lower()


def _multipart_parts(message: SipMessage) -> list[tuple[str, bytes]]:
    """(media type, body) of each part of a multipart body; [] if it cannot be split."""
    m = _BOUNDARY_RE.search(message.header("Content-Type") or "")
    if m is None:
        return []
    delimiter = b"\r\n--" + (m.group(1) or m.group(2)).encode("utf-8", "replace")
    chunks = (b"\r\n" + message.body).split(delimiter)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the close delimiter
        sep = chunk.find(b"\r\n\r\n")
        if sep < 0:
            continue
        head, body = chunk[:sep], chunk[sep + 4 :]
        tm = _PART_TYPE_RE.search(head)
        # RFC 2046: a part without Content-Type is text/plain.
        kind = tm.group(1).decode("latin-1").strip().lower() if tm else "text/plain"
        parts.append((kind, body))
    return parts


def sdp_bodies(message: SipMessage) -> list[SessionDescription]:
    """The session descriptions `message` carries; bodies that do not parse are skipped."""
    try:
        ctype = message.content_type
    except Exception:
        return []
    if ctype == "application/sdp":
        candidates = [message.body]
    elif ctype is not None and ctype.startswith("multipart/"):
        candidates = [b for kind, b in _multipart_parts(message) if kind == "application/sdp"]
    else:
        return []
    out = []
    for body in candidates:
        try:
            out.append(SessionDescription.parse(body))
        except CodecError:
            continue
    return out


def _path_uris(values: Iterable[str]) -> list[MsrpUri]:
    out = []
    for text in values:
        try:
            out.append(MsrpUri.parse(text))
        except CodecError:
            continue
    return out


def msrp_targets(sdp: SessionDescription, *, tls: bool = False) -> list[tuple[str, int]]:
    """The (host, port) pairs the MSRP media of `sdp` name, in order, without repeats.

    Hosts are normalised (`normalise_host`); a path URI without a port means 2855.
    MSRP over TLS (``TCP/TLS/MSRP``, ``msrps:`` URIs) is left out unless `tls`: its
    bytes cannot be read on the wire, so following it would only add error records.
    """
    out: list[tuple[str, int]] = []

    def add(host: str, port: int) -> None:
        item = (normalise_host(host), port)
        if item not in out:
            out.append(item)

    for media in sdp.msrp_media():
        if not tls and "/TLS/" in media.proto.upper():
            continue
        for uri in _path_uris(media.path()):
            port = DEFAULT_PORT if uri.port is None else uri.port
            if port not in _NO_LISTENER and (tls or not uri.secure):
                add(uri.host, port)
        if media.port not in _NO_LISTENER:
            try:
                conn = media.connection()
            except CodecError:
                conn = None
            if conn is not None:
                add(conn.address.split("/", 1)[0], media.port)
    return out


def _session_uris(message: MsrpMessage) -> list[MsrpUri]:
    """The URIs to look an MSRP message up by: the endpoints' own (last of To-Path and
    From-Path, RFC 4975 section 7.2), then any relay hops."""
    try:
        to_path, from_path = message.to_path(), message.from_path()
    except CodecError:
        return []
    return [to_path[-1], from_path[-1], *to_path[:-1], *from_path[:-1]]


def dialog_of(records: Iterable[Record]) -> dict[int, str | None]:
    """Map each MSRP record's index to the Call-ID of the SIP dialog that negotiated it.

    Every SIP message carrying SDP (the INVITE and its 200, an ACK or UPDATE with an
    answer) contributes its ``a=path`` URIs. An MSRP record matches when one of its
    To-Path/From-Path URIs equals one of them (scheme, host, port, session id and
    transport, RFC 4975 section 6.1); the most recent negotiation before the record
    wins, else the last one after it. None when nothing matches or the record did not
    parse. Records are taken in capture order; the result depends on nothing else.
    """
    seen: dict[MsrpUri, str] = {}
    out: dict[int, str | None] = {}
    late: list[Record] = []
    for r in records:
        if r.protocol == SIP and isinstance(r.message, SipMessage):
            try:
                call_id = r.message.call_id
            except Exception:
                continue
            for sdp in sdp_bodies(r.message):
                for media in sdp.msrp_media():
                    for uri in _path_uris(media.path()):
                        seen[uri] = call_id
        elif r.protocol == MSRP:
            out[r.index] = _lookup(r, seen)
            if out[r.index] is None:
                late.append(r)
    for r in late:
        out[r.index] = _lookup(r, seen)
    return out


def _lookup(record: Record, seen: dict[MsrpUri, str]) -> str | None:
    if not isinstance(record.message, MsrpMessage):
        return None
    for uri in _session_uris(record.message):
        if uri in seen:
            return seen[uri]
    return None


def tshark_decode_args(records: Iterable[Record]) -> list[str]:
    """``-d`` options for tshark naming every port that carried SIP or MSRP in `records`.

    tshark finds MSRP on any TCP port by its ``msrp_tcp`` heuristic (on by default),
    but SIP only on 5060/5061 unless told; these options make both explicit, so a
    pcap decodes the same whatever the reader's heuristics. Both ports of a flow are
    named (which side listened is not known from records); a TCP port that carried
    MSRP is never also declared SIP. A TLS record (the plaintext our endpoint saw) gives
    ``-d tls.port==N,sip``, which takes effect with the run's key log
    (``-o tls.keylog_file:...``) on a pcap that holds the connection's handshake.
    """
    decode: dict[tuple[str, int], str] = {}
    for r in records:
        proto = "msrp" if r.protocol == MSRP else "sip"
        layer = {"udp": "udp", "tls": "tls"}.get(r.transport, "tcp")
        if layer == "tls" and proto == "msrp":
            continue  # tshark 4.0 offers no MSRP dissector inside TLS (it shows as data)
        for port in (r.flow[1], r.flow[3]):
            key = (layer, port)
            if decode.get(key) != "msrp":
                decode[key] = proto
    args: list[str] = []
    for (layer, port), proto in sorted(decode.items()):
        args += ["-d", f"{layer}.port=={port},{proto}"]
    return args
