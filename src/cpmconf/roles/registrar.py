"""The registrar of the SIP/IP core, for a client SUT (TS 7.1).

Owns what the test system answers to a client's REGISTER: the expiry it grants (short grants
make a re-registration observable within one test), the public GRUU it assigns from the
Contact's +sip.instance (RFC 5627 section 5.4) and the Service-Route of the core (RFC 3608,
D-through-core). It only builds the answer's headers; sending it is the core's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import ContactFeatures, Expires
from cpmconf.codec.sip import SipMessage


@dataclass(frozen=True)
class Binding:
    """What one REGISTER asked for: its Contact, instance, contact URI and expiry."""

    contact: str
    instance: str  # the URN without angle brackets, or ""
    contact_uri: str
    expires: int | None  # None when neither Contact expires nor Expires says


def binding_of(register: SipMessage) -> Binding:
    """Read the binding a REGISTER asks for, tolerating a broken Contact (the checks judge it)."""
    contact = register.header("Contact") or ""
    instance = ""
    expires = None
    try:
        features = ContactFeatures.parse(contact)
        instance = (features.param("+sip.instance") or "").strip('"<>')
        if features.param("expires") is not None:
            expires = Expires.parse(features.param("expires") or "").seconds
    except CodecError:
        pass
    if expires is None and register.header("Expires") is not None:
        try:
            expires = Expires.parse(register.header("Expires") or "").seconds
        except CodecError:
            pass
    uri = contact.split(";")[0].strip()
    if "<" in contact:
        uri = contact[contact.index("<") + 1 : contact.index(">")] if ">" in contact else uri
    return Binding(contact, instance, uri.strip("<>"), expires)


def asks_for_gruu(register: SipMessage) -> bool:
    """The client supports GRUU (RFC 5627 section 4.1): gruu in Supported (or in Require,
    which presumes it), and the Contact names its instance (+sip.instance)."""
    tags = {
        t.strip().lower() for name in ("Supported", "Require") for t in register.header_list(name)
    }
    return "gruu" in tags and bool(binding_of(register).instance)


def answer_headers(
    register: SipMessage, user: str, granted: int, service_route: str | None = None
) -> list[tuple[str, str]]:
    """Headers of the registrar's 200: the Contact echoed with the granted expiry, a
    pub-gruu built from the instance (with `gr`) when the client asked for a GRUU, Expires,
    and the core's Service-Route when it has one (RFC 3608: the route the client preloads,
    after its outbound proxy, from now on)."""
    b = binding_of(register)
    if b.expires == 0:
        return [("Expires", "0")]  # de-registration: no binding remains
    # One expires per Contact (RFC 3261 10.3): the granted one replaces any the client sent.
    # Without angle brackets every parameter is the header's (RFC 3261 20.10).
    uri, gt, params = b.contact.partition(">")
    drop = r"(?i);\s*expires\s*=[^;]*"
    contact = uri + gt + re.sub(drop, "", params) if gt else re.sub(drop, "", b.contact)
    contact += f";expires={granted}"
    # A pub-gruu only to a client that asked for one (RFC 5627 section 5.4 and 6).
    if asks_for_gruu(register):
        contact += f';pub-gruu="{user};gr={b.instance}"'
    headers = [("Contact", contact), ("Expires", str(granted))]
    if service_route:
        headers.append(("Service-Route", service_route))
    return headers
