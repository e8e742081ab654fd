"""What both roles read from the SIP of an MSRP session the same way: the MSRP media line of
an offer or answer, and the session timer a 2xx echoes (RFC 4028). The client
(:mod:`refsut.client_large`) and the PF (:mod:`refsut.pf_large`, :mod:`refsut.pf_deferred`)
share them here, so neither role imports the other.
"""

from __future__ import annotations

import logging

from cpmconf.codec.errors import CodecError
from cpmconf.codec.sdp import MediaDescription, SessionDescription
from cpmconf.codec.sip import SipMessage

from . import bodies

log = logging.getLogger("refsut.sessions")


def msrp_media(msg: SipMessage) -> MediaDescription | None:
    """The first ``m=message`` MSRP stream of the SDP in ``msg`` (alone or in a multipart
    body); None when there is none or it does not parse."""
    sdp = bodies.body_part(msg.header("Content-Type"), msg.body, "application/sdp")
    if sdp is None:
        return None
    try:
        media = SessionDescription.parse(sdp).msrp_media()
        if media:
            media[0].path_uris()  # the path must be usable
            return media[0]
    except CodecError as exc:
        log.info("unusable SDP in %s: %s", msg.summary(), exc)
    return None


def session_expires_answer(req: SipMessage) -> list[tuple[str, str]]:
    """Session-Expires (and Require: timer) for a 2xx, when the INVITE asked for a timer
    (RFC 4028 section 9): the value echoed, the refresher kept or set to uac."""
    value = req.header("Session-Expires")
    if value is None:
        return []
    if "refresher=" not in value.replace(" ", "").lower():
        value = f"{value};refresher=uac"
    headers = [("Session-Expires", value)]
    supported = [t.strip().lower() for t in req.header_list("Supported")]
    if "timer" in supported:
        headers.append(("Require", "timer"))
    return headers
