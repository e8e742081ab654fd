"""Reading the bodies a SIP message carries: multipart parts, the CPIM wrapper, the SDP and
its MSRP a=path.

Pure functions of a parsed message (anything with `header`, `content_type` and `body`), for
the steps that answer the SUT and the checks that judge it alike.
"""

from __future__ import annotations

from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.errors import CodecError
from cpmconf.codec.sdp import SessionDescription


def parts(msg) -> list[tuple[str, bytes]]:
    """(lower-case Content-Type, body) of each part of a multipart body ([] otherwise)."""
    ctype = msg.header("Content-Type") or ""  # with parameters: the boundary is one
    boundary = None
    for p in ctype.split(";")[1:]:
        k, _, v = p.strip().partition("=")
        if k.lower() == "boundary":
            boundary = v.strip('"')
    if not boundary:
        return []
    out = []
    for chunk in msg.body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        part_type = ""
        for line in head.split(b"\r\n"):
            name, _, value = line.decode("utf-8", "replace").partition(":")
            if name.strip().lower() == "content-type":
                part_type = value.strip().lower()
        out.append((part_type, body.rstrip(b"\r\n")))
    return out


def cpim_of(msg) -> CpimMessage | None:
    """The CPIM wrapper of a MESSAGE body (also inside multipart/mixed), or None.

    A single-part body is read as CPIM whatever its Content-Type says, so that a wrong type
    is judged once (TS-7.2.1.1-15), not again by every check that reads the wrapper."""
    ctype = (msg.content_type or "").lower()
    if not ctype.startswith("multipart/"):
        try:
            return CpimMessage.parse(msg.body)
        except CodecError:
            return None
    for part_type, part in parts(msg):
        if part_type.startswith("message/cpim"):
            try:
                return CpimMessage.parse(part)
            except CodecError:
                return None
    return None


def is_imdn(msg) -> bool:
    """The message carries a disposition notification (CPIM wrapping message/imdn+xml)."""
    cpim = cpim_of(msg)
    return cpim is not None and (cpim.content_type or "").lower().startswith("message/imdn+xml")


def sdp_of(msg) -> SessionDescription | None:
    """The SDP body of a message (also inside multipart/mixed), or None."""
    if msg is None:
        return None
    ctype = (msg.content_type or "").lower()
    bodies = [msg.body] if ctype.startswith("application/sdp") else []
    bodies += [b for t, b in parts(msg) if t.startswith("application/sdp")]
    for body in bodies:
        try:
            return SessionDescription.parse(body)
        except CodecError:
            return None
    return None


def msrp_path(msg) -> list[str]:
    """The a=path URIs of the first MSRP media of the message's SDP ([] when none)."""
    sdp = sdp_of(msg)
    media = sdp.msrp_media() if sdp is not None else []
    return [str(u) for u in (media[0].path() or [])] if media else []


def offer_path(invite) -> list[str]:
    """The a=path URIs of an INVITE's MSRP offer, its whole body read as SDP ([] when none
    or unreadable)."""
    try:
        sdp = SessionDescription.parse(invite.body)
        media = sdp.msrp_media()
        return [str(u) for u in media[0].path_uris()] if media else []
    except CodecError:
        return []
