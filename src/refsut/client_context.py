"""What the CPM Client's sections share: its configuration, fault switches, SIP and MSRP
nodes and timeouts.

:class:`~refsut.client.CpmClient` builds one and hands it to each section (large message
mode, deferred messages) in the constructor, with the callbacks a section needs from
another; the sections never reach into the client or each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import ClientConfig
from .faults import Faults
from .msrpcore import MsrpNode
from .sipcore import SipNode

# The methods the client takes: its Allow header, and its Contact's ``methods`` feature tag.
ALLOW = "INVITE, ACK, BYE, CANCEL, MESSAGE, OPTIONS, NOTIFY"


@dataclass(frozen=True)
class ClientContext:
    cfg: ClientConfig
    faults: Faults
    node: SipNode
    msrp: MsrpNode
    sip_timeout: float
    msrp_timeout: float
