"""The client's fault switches in large message mode: the INVITE and SDP offer it sends, the
MSRP transfer and BYE that follow, and its answer to a large-mode INVITE it receives with
the MSRP session it then takes.
"""

from __future__ import annotations

from .switch import Fault

# The clauses these switches break, by id prefix (see the package docstring).
SECTIONS = {
    "TS-7.2.1.2-": "sending in large message mode (7.2.1.2)",
    "TS-7.2.2.2-": "receiving in large message mode (7.2.2.2)",
}

SWITCHES = [
    # ---- sending in large message mode (7.2.1.2)
    Fault(
        "client.large-no-largemsg-icsi",
        "TS-7.2.1.2-1",
        "Accept-Contact of a large-mode INVITE names the msg ICSI instead of the largemsg ICSI",
    ),
    Fault(
        "client.large-contact-no-icsi",
        "TS-7.2.1.2-2",
        "the Contact of a large-mode INVITE has no g.3gpp.icsi-ref feature parameter",
    ),
    Fault(
        "client.large-preferred-service-msg",
        "TS-7.2.1.2-3",
        "P-Preferred-Service of a large-mode INVITE names the msg ICSI instead of largemsg",
    ),
    Fault(
        "client.large-foreign-identity",
        "TS-7.2.1.2-4-registered",
        "a large-mode INVITE asserts an address that is not the user's in P-Preferred-Identity",
        # the MAY keeps the option; its condition is the SHALL (D-may-binding-condition)
        also=("TS-7.2.1.2-4",),
    ),
    Fault(
        "client.large-no-reply-to",
        "TS-7.2.1.2-5",
        "reply_address is ignored in large mode: the INVITE has no Reply-To",
    ),
    Fault("client.large-no-user-agent", "TS-7.2.1.2-6", "a large-mode INVITE has no User-Agent"),
    Fault(
        "client.large-no-privacy",
        "TS-7.2.1.2-7",
        "an anonymous large-mode INVITE carries no Privacy: id",
    ),
    Fault(
        "client.large-expires-not-message-expires",
        "TS-7.2.1.2-8",
        "a large-mode INVITE carries the expiry in Expires instead of Message-Expires",
    ),
    Fault(
        "client.large-to-own-address",
        "TS-7.2.1.2-9a",
        "a new large message to one recipient has the sending user as Request-URI",
        also=("TS-7.2.1.2-9",),
    ),
    Fault(
        "client.large-reply-ignores-reply-to",
        "TS-7.2.1.2-9b",
        "a large-mode reply goes to the originator even when the replied message had Reply-To",
        # A group reply lists that same wrongly chosen party instead of the Reply-To.
        also=("TS-7.2.1.2-10c",),
    ),
    Fault(
        "client.large-reply-to-own-address",
        "TS-7.2.1.2-9c",
        "a large-mode reply to a message without Reply-To goes to the user's own address",
    ),
    Fault(
        "client.large-adhoc-to-first-target",
        "TS-7.2.1.2-10a",
        "an ad-hoc group INVITE goes to its first target, not the controlling function",
        also=("TS-7.2.1.2-10",),
    ),
    Fault(
        "client.large-adhoc-no-resource-list",
        "TS-7.2.1.2-10b",
        "an ad-hoc group INVITE carries only the SDP offer, no resource list",
        also=("TS-7.2.1.2-10", "TS-7.2.1.2-10c", "TS-7.2.1.2-10d"),
    ),
    Fault(
        "client.large-group-reply-omits-reply-to",
        "TS-7.2.1.2-10c",
        "a large-mode group reply does not list the Reply-To of the replied message",
    ),
    Fault(
        "client.large-group-reply-omits-originator",
        "TS-7.2.1.2-10d",
        "a large-mode group reply to a message without Reply-To does not list its originator",
    ),
    Fault(
        "client.large-predefined-group-via-factory",
        "TS-7.2.1.2-11",
        "a pre-defined group INVITE goes to the controlling function, not the group address",
    ),
    Fault("client.large-no-timer", "TS-7.2.1.2-12", "a large-mode INVITE has no Supported: timer"),
    Fault(
        "client.large-session-expires-no-refresher",
        "TS-7.2.1.2-13",
        "Session-Expires of a large-mode INVITE has no refresher=uac",
    ),
    Fault(
        "client.large-new-conversation-id-always",
        "TS-7.2.1.2-14-existing",
        "a large message inside an existing conversation gets a fresh Conversation-ID",
    ),
    Fault(
        "client.large-reuse-conversation-id",
        "TS-7.2.1.2-14-new",
        "a large message opening a new conversation reuses the previous Conversation-ID",
    ),
    Fault(
        "client.large-reuse-contribution-id",
        "TS-7.2.1.2-15",
        "a large-mode INVITE reuses the Contribution-ID of the previous sent message",
    ),
    Fault(
        "client.large-no-in-reply-to",
        "TS-7.2.1.2-16",
        "a large-mode reply has no InReplyTo-Contribution-ID",
    ),
    Fault(
        "client.large-offer-not-msrp",
        "TS-7.2.1.2-17",
        "the media line of the SDP offer says TCP/RTP instead of TCP/MSRP",
        also=(
            "TS-7.2.1.2-17a",
            "TS-7.2.1.2-17b",
            "TS-7.2.1.2-17c",
            "TS-7.2.1.2-17d",
            "TS-7.2.1.2-17e",
            "TS-7.2.1.2-17f",
        ),
    ),
    Fault("client.large-sendrecv", "TS-7.2.1.2-17a", "the SDP offer says a=sendrecv"),
    Fault("client.large-no-accept-types", "TS-7.2.1.2-17b", "the SDP offer has no a=accept-types"),
    Fault(
        "client.large-no-accept-wrapped-types",
        "TS-7.2.1.2-17c",
        "the SDP offer has no a=accept-wrapped-types",
    ),
    Fault("client.large-offer-no-path", "TS-7.2.1.2-17d", "the SDP offer has no a=path"),
    Fault(
        "client.large-wrong-file-selector-size",
        "TS-7.2.1.2-17e",
        "a=file-selector size in the SDP offer is one byte short of the CPIM wrapper",
    ),
    Fault("client.large-setup-passive", "TS-7.2.1.2-17f", "the SDP offer says a=setup:passive"),
    Fault(
        "client.invite-no-route",
        "TS-7.2.1.2-18",
        "a large-mode INVITE goes without its preloaded Route (outbound proxy, Service-Route)",
    ),
    Fault(
        "client.large-bye-outside-dialog",
        "TS-7.2.1.2-bye-1",
        "the BYE after the transfer carries a fresh Call-ID, outside the INVITE dialog",
    ),
    Fault(
        "client.large-no-bye",
        "TS-7.2.1.2-bye-2",
        "no BYE is sent after the transfer",
        also=("TS-7.2.1.2-bye-1", "TS-7.2.1.2-bye-3"),
    ),
    Fault(
        "client.large-drop-uid-from-bye-200",
        "TS-7.2.1.2-bye-3",
        "the Message-UID in the 200 to the client's BYE is not kept (null in /messages)",
    ),
    Fault(
        "client.large-no-cancel",
        "TS-7.2.1.2-cancel",
        "asked to cancel, the client never sends CANCEL and waits for the final response",
    ),
    Fault(
        "client.large-refresh-no-session-expires",
        "TS-7.2.1.2-on200-1",
        "the 200 to a session refresh (re-INVITE) of a sent session has no Session-Expires",
    ),
    Fault(
        "client.large-no-ack",
        "TS-7.2.1.2-on200-2",
        "the 200 to a large-mode INVITE is not acknowledged (no ACK)",
        # The core, playing the PF, takes the MSRP transfer only after the ACK: none follows.
        also=(
            "TS-7.2.1.2-14-existing",
            "TS-7.2.1.2-17e",
            "TS-7.2.1.2-bye-3",
            "TS-7.2.1.2-on200-1",
            "TS-7.2.1.2-on200-7",
            "TS-7.2.1.2-on200-8",
            "TS-7.2.1.2-on200-8a",
            "TS-7.2.1.2-on200-8b",
            "TS-7.2.1.2-on200-8c",
        ),
    ),
    Fault(
        "client.large-no-connect",
        "TS-7.2.1.2-on200-4",
        "after the 200 the client waits for the peer to connect and opens no MSRP connection",
        also=(
            "TS-7.2.1.2-on200-3",
            "TS-7.2.1.2-on200-5",
            "TS-7.2.1.2-on200-9",
            "TS-7.2.1.2-on200-6",
            "TS-7.2.1.2-on200-7",
            "TS-7.2.1.2-on200-8",
            "TS-7.2.1.2-on200-8a",
            "TS-7.2.1.2-on200-8b",
            "TS-7.2.1.2-on200-8c",
            "TS-7.2.1.2-17e",  # no SEND, so the wrapper size to compare with is unknown
            "TS-7.2.1.2-14-existing",  # no message sent, so nothing to continue
            "TS-7.2.1.2-bye-3",
        ),
    ),
    Fault(
        "client.large-no-bind-send",
        "TS-7.2.1.2-on200-6",
        "after connecting, the first MSRP SEND already carries content (no empty bind SEND)",
    ),
    Fault(
        "client.large-cpim-wrong-from",
        "TS-7.2.1.2-on200-7",
        "the CPIM wrapper sent over MSRP names sip:someone-else@<domain> as From",
    ),
    Fault(
        "client.large-last-chunk-continues",
        "TS-7.2.1.2-on200-8",
        "the last MSRP chunk ends in '+' instead of '$', so the message never completes",
        also=(
            "TS-7.2.1.2-on200-7",
            "TS-7.2.1.2-on200-8c",
            "TS-7.2.1.2-14-existing",  # the message never completes: nothing to continue
            "TS-7.2.1.2-bye-3",
        ),
    ),
    Fault(
        "client.large-stall-mid-send",
        "TS-7.2.1.2-on200-8",
        "the client goes silent after the first MSRP chunk: no more chunks, no BYE for a while",
        # The message never completes, so its CPIM wrapper is never whole. (The BYE case sends a
        # one-chunk message, which this switch leaves alone: no BYE clause is declared.)
        also=("TS-7.2.1.2-on200-8c", "TS-7.2.1.2-on200-7"),
    ),
    Fault(
        "client.large-wrong-to-path",
        "TS-7.2.1.2-on200-8a",
        "content SENDs name the client's own MSRP URI in To-Path instead of the answer's path",
        # The peer does not take SENDs addressed elsewhere: the transfer never completes.
        also=(
            "TS-7.2.1.2-14-existing",
            "TS-7.2.1.2-bye-1",
            "TS-7.2.1.2-bye-3",
            "TS-7.2.1.2-on200-3",
            "TS-7.2.1.2-on200-4",
            "TS-7.2.1.2-on200-5",
            "TS-7.2.1.2-on200-7",
            "TS-7.2.1.2-on200-8",
            "TS-7.2.1.2-on200-8c",
            "TS-7.2.1.2-on200-9",
        ),
    ),
    Fault(
        "client.large-send-typed-text",
        "TS-7.2.1.2-on200-8b",
        "content SENDs say Content-Type: text/plain",
    ),
    Fault(
        "client.large-send-bare-text",
        "TS-7.2.1.2-on200-8c",
        "the MSRP SENDs carry the bare text instead of the CPIM wrapper",
        also=("TS-7.2.1.2-on200-7",),
    ),
    # ---- receiving in large message mode (7.2.2.2)
    Fault(
        "client.recv-accept-any-types",
        "TS-7.2.2.2-1",
        "a large-mode INVITE whose offer accepts no CPIM is answered 200 instead of 488",
    ),
    Fault(
        "client.recv-200-no-contact",
        "TS-7.2.2.2-2",
        "the 200 to a large-mode INVITE has no Contact",
    ),
    Fault(
        "client.recv-no-server",
        "TS-7.2.2.2-2a",
        "the 200 to a large-mode INVITE has no Server header",
    ),
    Fault(
        "client.recv-foreign-identity-in-200",
        "TS-7.2.2.2-2b-registered",
        "the 200 to a large-mode INVITE asserts an address that is not the user's",
        # the MAY keeps the option; its condition is the SHALL (D-may-binding-condition)
        also=("TS-7.2.2.2-2b",),
    ),
    Fault(
        "client.recv-answer-not-msrp",
        "TS-7.2.2.2-2c.i",
        "the media line of the SDP answer says TCP/RTP instead of TCP/MSRP",
        also=(
            "TS-7.2.2.2-2c",
            "TS-7.2.2.2-2c.ii",
            "TS-7.2.2.2-2c.iii",
            "TS-7.2.2.2-2c.iv",
            "TS-7.2.2.2-2c.v",
            "TS-7.2.2.2-2c.vi",
        ),
    ),
    Fault("client.recv-answer-no-path", "TS-7.2.2.2-2c.ii", "the SDP answer has no a=path"),
    Fault(
        "client.recv-answer-sendrecv",
        "TS-7.2.2.2-2c.iii",
        "the SDP answer to a large-mode INVITE says a=sendrecv",
    ),
    Fault(
        "client.recv-accept-types-text",
        "TS-7.2.2.2-2c.iv",
        "the SDP answer says a=accept-types:text/plain",
    ),
    Fault(
        "client.recv-unoffered-wrapped-types",
        "TS-7.2.2.2-2c.v",
        "the SDP answer's a=accept-wrapped-types names a type the offer did not list",
    ),
    Fault(
        "client.recv-setup-passive",
        "TS-7.2.2.2-2c.vi",
        "the SDP answer to a large-mode INVITE says a=setup:passive",
    ),
    Fault(
        "client.recv-no-id-echo",
        "TS-7.2.2.2-2d",
        "the 200 to a large-mode INVITE echoes none of the CPM id headers",
    ),
    Fault(
        "client.invite-200-drops-via",
        "TS-7.2.2.2-3",
        "the 200 to a large-mode INVITE keeps only the top Via of the request",
    ),
    Fault(
        "client.recv-no-connect",
        "TS-7.2.2.2-ack-3",
        "after the ACK the client waits for the peer to connect and opens no MSRP connection",
        also=(
            "TS-7.2.2.2-ack-2",
            "TS-7.2.2.2-ack-4",
            "TS-7.2.2.2-ack-5",
            # no session, so nothing is transferred or ended (here and in the MSRP robustness
            # cases, which need a bound session)
            "TS-7.2.2.2-bye",
            "TS-7.2.2.2-bye-uid",
            "TS-7.2.2.2-chunks",
            "TS-7.2.2.2-msrp",
            "RB-msrp-byte-range",
            "RB-msrp-end-line",
        ),
    ),
    Fault(
        "client.recv-no-bind-send",
        "TS-7.2.2.2-ack-5",
        "after connecting for a received large message, no empty bind SEND is sent",
        # the peer cannot tie the silent connection to the session: no SEND, no transfer
        # (here and in the MSRP robustness cases, which need a bound session)
        also=(
            "RB-msrp-byte-range",
            "RB-msrp-end-line",
            "TS-7.2.2.2-ack-2",
            "TS-7.2.2.2-ack-3",
            "TS-7.2.2.2-ack-4",
            "TS-7.2.2.2-bye",
            "TS-7.2.2.2-bye-uid",
            "TS-7.2.2.2-chunks",
            "TS-7.2.2.2-msrp",
        ),
    ),
    Fault(
        "client.recv-bye-not-200",
        "TS-7.2.2.2-bye",
        "the BYE ending a received large-mode session is answered 500",
    ),
    Fault(
        "client.recv-drop-bye-uid",
        "TS-7.2.2.2-bye-uid",
        "the Message-UID of the BYE ending a received session is not kept (null in /messages)",
    ),
    Fault(
        "client.recv-cancel-ignored",
        "TS-7.2.2.2-cancel",
        "a CANCEL of a pending large-mode INVITE gets its 200 but the INVITE is still accepted",
    ),
    Fault(
        "client.recv-no-reassembly",
        "TS-7.2.2.2-chunks",
        "a chunked large message is recorded from its first chunk only",
    ),
    Fault(
        "client.recv-send-answered-400",
        "TS-7.2.2.2-msrp",
        "each content SEND is taken but answered with MSRP 400 instead of 200",
    ),
]
