"""Transport layer: the only layer that touches sockets (asyncio UDP/TCP/TLS on loopback)."""

from cpmconf.transport.endpoint import (
    DEFAULT_MAX_QUEUE,
    DEFAULT_TIMEOUT,
    MSRP,
    SIP,
    Address,
    Inbound,
    SipEndpoint,
    Tap,
    TransportError,
    TransportTimeout,
    WireProtocol,
)

__all__ = [
    "MSRP",
    "SIP",
    "WireProtocol",
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_TIMEOUT",
    "Address",
    "Inbound",
    "SipEndpoint",
    "Tap",
    "TransportError",
    "TransportTimeout",
]
