"""A simulated MSRP endpoint of the test system: an originator, a device, or a PF's leg.

Owns the test system's side of the MSRP sessions that large message mode sets up: one MSRP
listener per run (so the capture knows its port), session URIs on it, connecting to a SUT's
path and binding with an empty SEND (RFC 6135), sending a message in chunks and waiting for
each 200, and receiving a chunked message while answering every SEND. Every wait is bounded
by the guard time; a SUT that stalls mid-transfer yields `NoAnswer`, never a hang. Every
MSRP message it sends is rendered from `scenarios/msrp/` (`cpmconf.roles.stimulus`).

`secure` (given by the session when the profile runs SIP over TLS) makes the session URIs
``msrps:`` and every connection the peer opens TLS (RFC 4975 section 6); the SDP built on
such a path says ``TCP/TLS/MSRP`` (`cpmconf.codec.sdp.build_sdp`). A SUT's connection to us
may be either: the listener tells TLS from TCP by its first byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cpmconf.codec.msrp import MsrpMessage, MsrpUri, Reassembler, new_ident
from cpmconf.roles.dispatch import Dispatcher
from cpmconf.roles.errors import NoAnswer
from cpmconf.roles.network import Unparsed
from cpmconf.roles.stimulus import MsrpStimulus, Templates
from cpmconf.transport import MSRP, SipEndpoint, TransportError, TransportTimeout


@dataclass
class MsrpSession:
    """One MSRP session: our URI and, once known, the SUT's path."""

    local: str
    remote_path: list[str] = field(default_factory=list)
    connection: tuple[str, int] | None = None  # set when the SUT opened the connection to us

    @property
    def first_hop(self) -> tuple[str, int]:
        uri = MsrpUri.parse(self.remote_path[0])
        return uri.host, uri.port


class MsrpPeer:
    """The run's MSRP listener and the sessions on it.

    `templates` is the session's `Templates` (the same the SIP core renders from). `watch`,
    when given, is called with the SUT's port before we open a connection to it, so a
    port-filtered capture sees a connection that runs between two ports it was not told
    about; None when the capture sees every port (a tap). `secure`: see the module
    docstring (the endpoint then holds the TLS contexts: `listener`)."""

    def __init__(
        self,
        endpoint: SipEndpoint,
        guard: float,
        templates: Templates,
        watch: Callable[[int], None] | None = None,
        secure: bool = False,
    ):
        self.endpoint = endpoint
        # Each MSRP message goes to the oldest wait that matches it, as at the SIP core.
        endpoint.attach(Dispatcher(owner=endpoint))
        self.guard = guard
        self.templates = templates
        self.watch = watch
        self.secure = secure  # msrps: URIs, connections over TLS

    @property
    def stream(self) -> str:
        """The transport of the connections this peer opens."""
        return "tls" if self.secure else "tcp"

    @staticmethod
    def listener(host: str, taps, tls=None) -> SipEndpoint:
        """The endpoint a peer listens on (port chosen by the system), not yet started;
        `tls`: (server, client) SSL contexts, for a peer whose sessions are msrps:."""
        server, client = tls or (None, None)
        return SipEndpoint(host, 0, taps=taps, protocol=MSRP, ssl_server=server, ssl_client=client)

    @property
    def port(self) -> int:
        return self.endpoint.address[1]

    def session(self) -> MsrpSession:
        host, port = self.endpoint.address
        scheme = "msrps" if self.secure else "msrp"
        return MsrpSession(f"{scheme}://{host}:{port}/{new_ident(12)};tcp")

    def reset(self) -> None:
        self.endpoint.drain()

    async def _send(self, msg: MsrpStimulus, remote: tuple[str, int]) -> None:
        # A connection the SUT reset or closed is the SUT's doing: the wait ends with a reason
        # (NoAnswer), never as a harness error.
        if self.watch is not None and not any(
            c[2] == tuple(remote) for c in self.endpoint.connections
        ):
            self.watch(remote[1])  # a new connection we open
        try:
            await self.endpoint.send(bytes(msg), remote, self._transport_to(remote))
        except TransportError as exc:
            raise NoAnswer(
                f"MSRP connection to the SUT at {remote[0]}:{remote[1]} ({exc})", 0
            ) from exc

    def _transport_to(self, remote: tuple[str, int]) -> str:
        """A connection the SUT opened carries our answers whatever it is (TLS or TCP); a new
        one is ours, of our kind."""
        for transport, _, peer in self.endpoint.connections:
            if peer == tuple(remote):
                return transport
        return self.stream

    async def _wait_item(self, predicate, what: str, timeout: float | None = None):
        bound = self.guard if timeout is None else timeout
        garbled = Unparsed()

        def match(item) -> bool:
            if item.message is None:
                garbled.see(item)  # named on expiry: a garbling SUT is not a silent one
                return False
            return predicate(item.message)

        try:
            return await self.endpoint.receive(match, bound, what=what)
        except TransportTimeout:
            raise garbled.no_answer(what, bound) from None

    async def _wait(self, predicate, what: str, timeout: float | None = None) -> MsrpMessage:
        return (await self._wait_item(predicate, what, timeout)).message

    def _for(self, session: MsrpSession):
        mine = MsrpUri.parse(session.local)

        def match(m: MsrpMessage) -> bool:
            try:
                return bool(m.to_path()) and m.to_path()[0] == mine
            except ValueError:
                return False

        return match

    def _ok(self, request: MsrpMessage, session: MsrpSession) -> MsrpStimulus:
        return self.templates.msrp_response(request, 200, own_uri=session.local)

    async def bind(self, session: MsrpSession) -> None:
        """Open the connection to the SUT's first hop with an empty SEND (RFC 6135)."""
        send = self.templates.render_msrp(
            "msrp/send.msrp.j2",
            tid=new_ident(),
            to_path=session.remote_path,
            from_path=[session.local],
        )
        await self._send(send, session.first_hop)
        await self._wait(
            lambda m: (
                m.is_response and m.transaction_id == send.transaction_id and self._for(session)(m)
            ),
            "MSRP 200 to the binding SEND",
        )

    async def accept_bind(self, session: MsrpSession) -> MsrpMessage:
        """Passive side: wait for the SUT's empty binding SEND, answer it, remember the
        connection it came on (later SENDs go back on it, RFC 6135)."""
        item = await self._wait_item(
            lambda m: m.is_request and m.method == "SEND" and self._for(session)(m),
            "the SUT's binding SEND on the MSRP connection it opened",
        )
        send = item.message
        session.connection = item.remote
        if not session.remote_path:
            session.remote_path = [str(u) for u in send.from_path()]
        await self._send(self._ok(send, session), item.remote)
        return send

    async def send_message(self, session: MsrpSession, body: bytes, chunk_size: int) -> list:
        """Send `body` as message/cpim in chunks, each awaiting its 200; returns the responses."""
        responses = []
        for req in self.templates.msrp_chunks(
            body,
            chunk_size,
            to_path=session.remote_path,
            from_path=[session.local],
            message_id=new_ident(),
            content_type="message/cpim",
        ):
            await self._send(req, session.connection or session.first_hop)
            responses.append(
                await self._wait(
                    lambda m, tid=req.transaction_id: m.is_response and m.transaction_id == tid,
                    f"MSRP response to chunk {req.transaction_id}",
                )
            )
        return responses

    async def receive_message(self, session: MsrpSession) -> tuple[bytes, list[MsrpMessage]]:
        """Answer every SEND to `session` until a message is complete; returns (body, SENDs).

        Empty SENDs (connection binding) are answered and not counted as content.
        """
        match = self._for(session)
        assembler = None
        sends: list[MsrpMessage] = []
        while assembler is None or not assembler.complete:
            what = "MSRP SEND" if assembler is None else "the rest of a chunked MSRP SEND"
            item = await self._wait_item(
                lambda m: m.is_request and m.method == "SEND" and match(m), what
            )
            send = item.message
            sends.append(send)
            # The 200 goes back on the connection the SEND came in on (RFC 4975 section 7.2).
            await self._send(self._ok(send, session), item.remote)
            if not send.body:
                continue  # the empty binding SEND
            if assembler is None:
                assembler = Reassembler()
            assembler.feed(send)
        return assembler.message(), sends
