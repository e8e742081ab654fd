"""The simulated devices of the users a PF SUT serves, and how the core tells them apart.

Owns `SimDevice` (one provisioned device, its contact and the public GRUU it was given)
and reading a pub-gruu from a registrar's 200 (GRUUs compare with
`cpmconf.codec.uri.same_gruu`). The core (`network`) and the registration modes
(`regevent`) both use these; neither imports the other's internals for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import ContactFeatures
from cpmconf.codec.sip import SipMessage


@dataclass
class SimDevice:
    """A simulated CPM device of a user, registered at a PF SUT through the core."""

    user: str
    name: str
    instance: str
    selected: bool
    contact: str = ""
    gruu: str | None = None

    @property
    def instance_urn(self) -> str:
        return self.instance.strip("<>")


def pub_gruu(response: SipMessage, instance: str) -> str | None:
    """The pub-gruu the registrar returned for `instance` (RFC 5627 section 5.4), if any."""
    for value in response.header_list("Contact"):
        try:
            c = ContactFeatures.parse(value)
        except CodecError:
            continue
        if (c.param("+sip.instance") or "").strip('"') == instance:
            gruu = c.param("pub-gruu")
            if gruu:
                return gruu.strip('"')
    return None


__all__ = ["SimDevice", "pub_gruu"]
