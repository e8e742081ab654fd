"""Transport layer: the only layer that touches sockets (asyncio UDP/TCP/TLS on loopback)."""

from cpmconf.transport.endpoint import (
    DEFAULT_MAX_QUEUE,
    DEFAULT_TIMEOUT,
    MSRP,
    SIP,
    Address,
    Inbound,
    Inbox,
    InboxLike,
    Predicate,
    SipEndpoint,
    Tap,
    TransportError,
    TransportTimeout,
    WireProtocol,
    timed_out,
)

__all__ = [
    "MSRP",
    "SIP",
    "WireProtocol",
    "timed_out",
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_TIMEOUT",
    "Address",
    "Inbound",
    "Inbox",
    "InboxLike",
    "Predicate",
    "SipEndpoint",
    "Tap",
    "TransportError",
    "TransportTimeout",
]
