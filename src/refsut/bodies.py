"""Message bodies the refsut client builds: CPIM wrappers, IMDN documents, multipart lists.

The text itself comes from :mod:`refsut.wire` (never from the harness's codec builders);
this module picks what goes in it. The multipart/mixed container (RFC 2046, used by RFC
5365 to carry the recipient list next to the message) is written and split here.
"""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Iterable

from . import wire


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def cpim_wrapper(
    *,
    from_uri: str,
    to_uri: str,
    content_type: str,
    content: bytes,
    message_id: str,
    disposition: Iterable[str] = (),
    mime_headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    """A CPIM message (RFC 3862) with the IMDN namespace and Message-ID (RFC 5438)."""
    headers = [
        ("From", f"<{from_uri}>"),
        ("To", f"<{to_uri}>"),
        ("DateTime", now_rfc3339()),
        ("NS", f"imdn <{wire.IMDN_NS}>"),
        ("imdn.Message-ID", message_id),
    ]
    disposition = list(disposition)
    if disposition:
        headers.append(("imdn.Disposition-Notification", ", ".join(disposition)))
    return wire.cpim(headers, content_type, content, mime_headers)


def delivery_imdn(
    *, message_id: str, date_time: str | None, recipient: str, original_recipient: str
) -> bytes:
    """A positive delivery notification document (RFC 5438 7.2)."""
    return wire.imdn_delivered(
        message_id=message_id,
        date_time=date_time,
        recipient=recipient,
        original_recipient=original_recipient,
    )


def recipient_list(targets: Iterable[str]) -> bytes:
    return wire.resource_list(targets)


def multipart_mixed(parts: Iterable[tuple[list[tuple[str, str]], bytes]]) -> tuple[str, bytes]:
    """Join ``(headers, body)`` parts; returns (Content-Type value, body)."""
    parts = list(parts)
    boundary = "refsut-" + secrets.token_hex(8)
    while any(boundary.encode() in body for _, body in parts):
        boundary = "refsut-" + secrets.token_hex(8)
    out = b""
    for headers, body in parts:
        out += f"--{boundary}\r\n".encode()
        out += "".join(f"{n}: {v}\r\n" for n, v in headers).encode("utf-8") + b"\r\n"
        out += body + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/mixed;boundary={boundary}", out


def multipart_parts(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart body (RFC 2046) into ``(headers with lower-case names, body)``.

    Tolerant on purpose (LF-only line ends, missing close delimiter); returns [] when the
    Content-Type names no boundary.
    """
    m = re.search(r';\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))', content_type, re.IGNORECASE)
    if m is None:
        return []
    delimiter = b"--" + (m.group(1) or m.group(2)).encode("utf-8")
    parts = []
    for piece in body.split(delimiter)[1:]:
        if piece.startswith(b"--"):
            break
        piece = piece[2:] if piece.startswith(b"\r\n") else piece.removeprefix(b"\n")
        piece = piece[:-2] if piece.endswith(b"\r\n") else piece.removesuffix(b"\n")
        if piece.startswith(b"\r\n"):  # no headers at all
            head, content = b"", piece[2:]
        else:
            head, sep, content = piece.partition(b"\r\n\r\n")
            if not sep:
                head, _, content = piece.partition(b"\n\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", errors="replace").splitlines():
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


def body_part(content_type: str | None, body: bytes, media_type: str) -> bytes | None:
    """The body itself when it is of ``media_type``, else the first such part of a
    multipart body, else None."""
    if content_type is None:
        return None
    outer = content_type.split(";", 1)[0].strip().lower()
    if outer == media_type:
        return body
    if outer.startswith("multipart/"):
        for headers, content in multipart_parts(content_type, body):
            inner = headers.get("content-type", "text/plain").split(";", 1)[0].strip().lower()
            if inner == media_type:
                return content
    return None
