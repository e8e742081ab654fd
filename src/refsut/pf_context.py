"""What the PF's sections share: its configuration, fault switches, message store, recording,
SIP and MSRP nodes, binding table and timeouts, and the few header values every section writes the
same way (the PF's Contact, a Warning).

:class:`~refsut.pf.ParticipatingFunction` builds one and hands it to each section (large
message mode, deferred messages, reg-event registration) in the constructor; the sections
meet only here and in the callbacks the PF passes them, never in each other's private parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import wire
from .config import PfConfig, UserConfig
from .faults import Faults
from .msrpcore import MsrpNode
from .pf_bindings import Bindings
from .recording import Recording
from .sipcore import SipNode
from .store import MessageStore


@dataclass(frozen=True)
class PfContext:
    cfg: PfConfig
    faults: Faults
    store: MessageStore
    node: SipNode
    msrp: MsrpNode
    users: dict[str, UserConfig]  # provisioned users by uri_key
    bindings: Bindings
    allow: str  # the PF's Allow header value
    leg_timeout: float
    msrp_timeout: float
    recording: Recording | None = None  # TS 8.5.1: where recorded messages are stored

    def warning(self, text: str) -> tuple[str, str]:
        return ("Warning", wire.warning(399, self.cfg.domain, text))

    def contact(self, *features: str) -> str:
        """The PF's own Contact (its server identity's user part at its address)."""
        user_part = self.cfg.server_identity.split(":", 1)[1].split("@", 1)[0]
        transport = ";transport=tcp" if self.cfg.transport == "tcp" else ""
        return f"<sip:{user_part}@{self.node.hostport}{transport}>" + "".join(
            f";{f}" for f in features
        )
