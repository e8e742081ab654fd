"""Fault switches: named, deliberate breakages of exactly one behaviour each.

The suite proves that a check can fail by running it against the reference SUT with the
matching switch on. Each entry names the catalogue clause the fault violates and says in one
line what changes; the PF and client code ask :meth:`Faults.on` at the single place where the
behaviour is produced, so a switch never has side effects elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    clause: str
    description: str
    # Other clauses judged on the very same broken behaviour (e.g. no 403 at all means no
    # Warning in it either): `cpmconf mutants` lets these change without calling it collateral.
    also: tuple[str, ...] = ()


# What a PF large-mode session without the PF's MSRP relay leaves unjudged or failed: the
# sender's MSRP leg, the relay, both BYE legs, and recording's Message-UID in them.
_NO_PF_RELAY = (
    "TS-8.3.2.1.1-ack-1",
    "TS-8.3.2.1.1-send-2",
    "TS-8.3.2.1.1-msrp200-1",
    "TS-8.3.2.1.1-bye-1",
    "TS-8.3.2.1.1-bye-2",
    "TS-8.5.1-send-4b.i",
    "TS-8.5.1-send-4b.ii",
)

_ENTRIES = [
    # ---- client, sending (7.2.1.1, 7.2.1.3)
    Fault(
        "client.accept-contact-no-msg-icsi",
        "TS-7.2.1.1-1",
        "Accept-Contact of a sent MESSAGE names the largemsg ICSI instead of the msg ICSI",
    ),
    Fault(
        "client.no-p-preferred-service",
        "TS-7.2.1.1-3",
        "sent MESSAGE has no P-Preferred-Service",
    ),
    Fault("client.no-reply-to", "TS-7.2.1.1-4", "reply_address is ignored: no Reply-To is sent"),
    Fault("client.no-user-agent", "TS-7.2.1.1-5", "sent MESSAGE has no User-Agent"),
    Fault(
        "client.foreign-preferred-identity",
        "TS-7.2.1.1-2",
        "sent MESSAGE asserts an address that is not the user's in P-Preferred-Identity",
    ),
    Fault(
        "client.no-disposition-request",
        "TS-7.2.1.3-3",
        "the requested dispositions are dropped: no imdn.Disposition-Notification in the CPIM",
    ),
    Fault(
        "client.large-foreign-identity",
        "TS-7.2.1.2-4",
        "a large-mode INVITE asserts an address that is not the user's in P-Preferred-Identity",
    ),
    Fault(
        "client.foreign-identity-in-200",
        "TS-7.2.2.1-3",
        "the 200 to a received MESSAGE asserts an address that is not the user's",
    ),
    Fault(
        "client.group-reply-omits-replied",
        "TS-7.2.1.1-9c",
        "a group reply does not add the replied party (Reply-To or originator) to the list",
        also=("TS-7.2.1.1-9d",),  # the originator is the replied party without Reply-To
    ),
    Fault("client.no-privacy", "TS-7.2.1.1-6", "anonymous send carries no Privacy: id"),
    Fault("client.no-expires", "TS-7.2.1.1-7", "expires is ignored: no Expires header is sent"),
    Fault(
        "client.reply-ignores-reply-to",
        "TS-7.2.1.1-8b",
        "a reply goes to the replied message's originator even when it had a Reply-To",
        also=("TS-7.2.1.1-8c",),  # the case judges 8c on the same Request-URI
    ),
    Fault(
        "client.adhoc-no-resource-list",
        "TS-7.2.1.1-9b",
        "a new ad-hoc group MESSAGE carries only the CPIM body, no resource list",
    ),
    Fault(
        "client.new-conversation-id-always",
        "TS-7.2.1.1-11-existing",
        "every MESSAGE gets a fresh Conversation-ID, even inside an existing conversation",
    ),
    Fault(
        "client.reuse-contribution-id",
        "TS-7.2.1.1-12",
        "a MESSAGE reuses the Contribution-ID of the previous sent MESSAGE",
    ),
    Fault(
        "client.imdn-new-contribution-id",
        "TS-7.2.1.1-12-imdn",
        "a delivery IMDN gets a new Contribution-ID instead of the original message's",
    ),
    Fault("client.no-in-reply-to", "TS-7.2.1.1-13", "a reply has no InReplyTo-Contribution-ID"),
    Fault(
        "client.cpim-wrong-from",
        "TS-7.2.1.3-1",
        "CPIM From names sip:someone-else@<domain> instead of the sending user",
    ),
    Fault(
        "client.cpim-wrong-to",
        "TS-7.2.1.3-2a",
        "CPIM To names the sending user instead of the single recipient",
        also=("TS-7.2.1.3-2b", "TS-7.2.1.3-2c"),  # group messages get the same wrong To
    ),
    Fault(
        "client.pager-over-1300",
        "TS-7.2.1.3-4-large",
        "the 1300-byte limit is applied to the text, not its CPIM wrapper: a message whose "
        "wrapper exceeds 1300 bytes still goes as a MESSAGE when its text does not",
        # no INVITE, so its Request-URI and ids cannot be judged in the same case
        also=(
            "TS-7.2.1.2-intro",
            "TS-7.2.1.2-9",
            "TS-7.2.1.2-9a",
            "TS-7.2.1.2-14-new",
            "TS-7.2.1.2-15",
        ),
    ),
    Fault(
        "client.large-at-1300",
        "TS-7.2.1.3-4-pager",
        "a message whose CPIM wrapper is exactly 1300 bytes is sent in large message mode",
        also=("TS-7.2.1.1-intro",),
    ),
    Fault(
        "client.new-message-to-own-address",
        "TS-7.2.1.1-8a",
        "a new pager message to one recipient has the sending user as Request-URI",
        also=("TS-7.2.1.1-8",),
    ),
    Fault(
        "client.reply-to-own-address",
        "TS-7.2.1.1-8c",
        "a reply to a message without Reply-To goes to that message's To (the user itself)",
        also=("TS-7.2.1.1-8b",),
    ),
    Fault(
        "client.adhoc-to-first-target",
        "TS-7.2.1.1-9a",
        "an ad-hoc group MESSAGE goes to its first target instead of the controlling function",
        also=("TS-7.2.1.1-9",),
    ),
    Fault(
        "client.group-reply-omits-originator",
        "TS-7.2.1.1-9d",
        "a group reply to a message without Reply-To does not list its originator",
        also=("TS-7.2.1.1-9c",),
    ),
    Fault(
        "client.predefined-group-via-factory",
        "TS-7.2.1.1-10",
        "a pre-defined group MESSAGE goes to the controlling function, not the group's address",
    ),
    Fault(
        "client.adhoc-cpim-to-first-target",
        "TS-7.2.1.3-2b",
        "CPIM To of an ad-hoc group message names its first target, not the controlling function",
    ),
    Fault(
        "client.predefined-cpim-to-factory",
        "TS-7.2.1.3-2c",
        "CPIM To of a pre-defined group message names the controlling function, not the group",
    ),
    Fault(
        "client.reuse-conversation-id",
        "TS-7.2.1.1-11-new",
        "a message opening a new conversation reuses the previous message's Conversation-ID",
    ),
    Fault(
        "client.message-not-typed-cpim",
        "TS-7.2.1.1-15",
        "a MESSAGE carrying the CPIM wrapper says Content-Type: text/plain",
    ),
    Fault(
        "client.cpim-no-header-separator",
        "TS-7.2.1.3-intro",
        "the CPIM wrapper of a MESSAGE lacks the blank line after its message headers",
        also=(
            "TS-7.2.1.1-14",
            "TS-7.2.1.3-1",
            "TS-7.2.1.3-2a",
            "TS-7.2.1.3-2b",
            "TS-7.2.1.3-2c",
            "TS-7.2.1.3-3",
        ),
    ),
    Fault(
        "client.drop-uid-from-200",
        "TS-7.2.1.1-17",
        "the Message-UID in the 200 to a sent MESSAGE is not kept (null in /messages)",
    ),
    # ---- client, sending in large message mode (7.2.1.2)
    Fault(
        "client.large-no-largemsg-icsi",
        "TS-7.2.1.2-1",
        "Accept-Contact of a large-mode INVITE names the msg ICSI instead of the largemsg ICSI",
    ),
    Fault(
        "client.large-expires-not-message-expires",
        "TS-7.2.1.2-8",
        "a large-mode INVITE carries the expiry in Expires instead of Message-Expires",
    ),
    Fault("client.large-no-timer", "TS-7.2.1.2-12", "a large-mode INVITE has no Supported: timer"),
    Fault("client.large-sendrecv", "TS-7.2.1.2-17a", "the SDP offer says a=sendrecv"),
    Fault("client.large-no-accept-types", "TS-7.2.1.2-17b", "the SDP offer has no a=accept-types"),
    Fault(
        "client.large-wrong-file-selector-size",
        "TS-7.2.1.2-17e",
        "a=file-selector size in the SDP offer is one byte short of the CPIM wrapper",
    ),
    Fault("client.large-setup-passive", "TS-7.2.1.2-17f", "the SDP offer says a=setup:passive"),
    Fault(
        "client.large-no-bind-send",
        "TS-7.2.1.2-on200-6",
        "after connecting, the first MSRP SEND already carries content (no empty bind SEND)",
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
    Fault("client.large-no-user-agent", "TS-7.2.1.2-6", "a large-mode INVITE has no User-Agent"),
    Fault(
        "client.large-to-own-address",
        "TS-7.2.1.2-9a",
        "a new large message to one recipient has the sending user as Request-URI",
        also=("TS-7.2.1.2-9",),
    ),
    Fault(
        "client.large-session-expires-no-refresher",
        "TS-7.2.1.2-13",
        "Session-Expires of a large-mode INVITE has no refresher=uac",
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
    Fault(
        "client.large-no-accept-wrapped-types",
        "TS-7.2.1.2-17c",
        "the SDP offer has no a=accept-wrapped-types",
    ),
    Fault("client.large-offer-no-path", "TS-7.2.1.2-17d", "the SDP offer has no a=path"),
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
        "client.large-no-reply-to",
        "TS-7.2.1.2-5",
        "reply_address is ignored in large mode: the INVITE has no Reply-To",
    ),
    Fault(
        "client.large-no-privacy",
        "TS-7.2.1.2-7",
        "an anonymous large-mode INVITE carries no Privacy: id",
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
    Fault(
        "client.large-new-conversation-id-always",
        "TS-7.2.1.2-14-existing",
        "a large message inside an existing conversation gets a fresh Conversation-ID",
    ),
    Fault(
        "client.large-no-in-reply-to",
        "TS-7.2.1.2-16",
        "a large-mode reply has no InReplyTo-Contribution-ID",
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
    # ---- client, receiving in large message mode (7.2.2.2)
    Fault(
        "client.recv-cancel-ignored",
        "TS-7.2.2.2-cancel",
        "a CANCEL of a pending large-mode INVITE gets its 200 but the INVITE is still accepted",
    ),
    Fault(
        "client.recv-answer-sendrecv",
        "TS-7.2.2.2-2c.iii",
        "the SDP answer to a large-mode INVITE says a=sendrecv",
    ),
    Fault(
        "client.recv-setup-passive",
        "TS-7.2.2.2-2c.vi",
        "the SDP answer to a large-mode INVITE says a=setup:passive",
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
        "client.recv-no-reassembly",
        "TS-7.2.2.2-chunks",
        "a chunked large message is recorded from its first chunk only",
    ),
    Fault(
        "client.recv-accept-any-types",
        "TS-7.2.2.2-1",
        "a large-mode INVITE whose offer accepts no CPIM is answered 200 instead of 488",
    ),
    Fault(
        "client.recv-no-server",
        "TS-7.2.2.2-2a",
        "the 200 to a large-mode INVITE has no Server header",
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
        "client.recv-no-id-echo",
        "TS-7.2.2.2-2d",
        "the 200 to a large-mode INVITE echoes none of the CPM id headers",
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
        "client.recv-send-answered-400",
        "TS-7.2.2.2-msrp",
        "each content SEND is taken but answered with MSRP 400 instead of 200",
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
        "client.recv-foreign-identity-in-200",
        "TS-7.2.2.2-2b",
        "the 200 to a large-mode INVITE asserts an address that is not the user's",
    ),
    # ---- client, receiving (7.2.2.1, 7.2.2.3)
    Fault("client.no-server-header", "TS-7.2.2.1-2", "200 to a received MESSAGE has no Server"),
    Fault(
        "client.no-conversation-id-echo",
        "TS-7.2.2.1-4",
        "200 to a received MESSAGE does not echo Conversation-ID",
    ),
    Fault(
        "client.no-delivery-imdn",
        "TS-7.2.2.3-3",
        "no delivery IMDN is sent even when positive-delivery is requested",
        also=("TS-7.2.1.1-12-imdn",),  # no IMDN, so no Contribution-ID of it to judge
    ),
    Fault(
        "client.drop-message-uid",
        "TS-7.2.2.1-7",
        "the Message-UID of a received MESSAGE is not kept (null in /messages)",
        also=("TS-7.2.2.3-5",),
    ),
    Fault(
        "client.message-answer-202",
        "TS-7.2.2.1-1",
        "a received pager-mode MESSAGE is answered 202 instead of 200",
        # deferred ones too; the Server and echo clauses are about the 200, so with a 202
        # they are not-applicable
        also=("TS-7.2.2.1-intro", "TS-7.2.3.2.1-receive", "TS-7.2.2.1-2", "TS-7.2.2.1-4"),
    ),
    # ---- client, registration (000 7.1)
    Fault(
        "client.register-user-in-request-uri",
        "TS-7.1-1",
        "the REGISTER's Request-URI carries the user part (sip:user@domain)",
    ),
    Fault("client.register-no-icsi", "TS-7.1-2", "the REGISTER's Contact has no CPM ICSI"),
    Fault("client.register-no-instance", "TS-7.1-3", "the REGISTER's Contact has no +sip.instance"),
    Fault("client.register-no-supported-gruu", "TS-7.1-4", "the REGISTER has no Supported: gruu"),
    Fault("client.register-no-require-gruu", "TS-7.1-5", "the REGISTER has no Require: gruu"),
    Fault(
        "client.register-no-capabilities",
        "TS-7.1-6",
        "the REGISTER's Contact carries no RFC 3840 feature parameters at all",
        also=("TS-7.1-2",),  # the CPM ICSI is one of those parameters
    ),
    Fault("client.no-reregister", "TS-7.1-reregister", "the registration is never refreshed"),
    Fault(
        "client.reregister-on-own-expiry",
        "TS-7.1-reregister",
        "the client asks for its expiry in the Contact (as baresip does) and refreshes on that, "
        "not on the expiry the registrar granted",
    ),
    Fault(
        "client.deregister-nonzero",
        "TS-7.1-deregister",
        "/deregister sends a REGISTER that asks for 3600 s instead of 0",
    ),
    # ---- client, deferred messages: subscription (7.2.3.1)
    Fault(
        "client.subscribe-wrong-request-uri",
        "TS-7.2.3.1-1a",
        "the SUBSCRIBE goes to sip:deferred@<domain>, not the provisioned management address",
    ),
    Fault(
        "client.subscribe-no-accept-contact-icsi",
        "TS-7.2.3.1-1b",
        "the SUBSCRIBE's Accept-Contact names the msg ICSI instead of the deferred ICSI",
    ),
    Fault(
        "client.subscribe-contact-no-icsi",
        "TS-7.2.3.1-1c",
        "the SUBSCRIBE's Contact carries no deferred ICSI",
    ),
    Fault(
        "client.subscribe-no-p-preferred-service",
        "TS-7.2.3.1-1e",
        "the SUBSCRIBE has no P-Preferred-Service",
    ),
    Fault(
        "client.subscribe-wrong-event",
        "TS-7.2.3.1-1f",
        "the SUBSCRIBE says Event: deferred",
        also=("TS-7.2.3.1-intro",),  # the intro is the same package requirement
    ),
    Fault("client.subscribe-expires-nonzero", "TS-7.2.3.1-1g", "the SUBSCRIBE says Expires: 3600"),
    # ---- client, deferred messages: the handling INVITE (7.2.3.2.1)
    Fault(
        "client.handling-wrong-request-uri",
        "TS-7.2.3.2.1-2",
        "the handling INVITE goes to sip:deferred@<domain>, not the management address",
    ),
    Fault(
        "client.handling-contact-no-icsi",
        "TS-7.2.3.2.1-3",
        "the handling INVITE's Contact carries no deferred ICSI",
    ),
    Fault(
        "client.handling-no-accept-contact-icsi",
        "TS-7.2.3.2.1-4",
        "the handling INVITE's Accept-Contact names the msg ICSI instead of the deferred ICSI",
    ),
    Fault(
        "client.handling-no-p-preferred-service",
        "TS-7.2.3.2.1-5",
        "the handling INVITE has no P-Preferred-Service",
    ),
    Fault(
        "client.handling-no-accept-types",
        "TS-7.2.3.2.1-6a",
        "the handling INVITE's SDP offer has no a=accept-types",
    ),
    Fault("client.handling-sendrecv", "TS-7.2.3.2.1-6c", "the handling offer says a=sendrecv"),
    Fault(
        "client.handling-no-list",
        "TS-7.2.3.2.1-7",
        "the handling INVITE carries no resource list even when only some messages are named",
        # without a list no entry can carry any cpm_action
        also=(
            "TS-7.2.3.2.1-7a",
            "TS-7.2.3.2.1-7a.i",
            "TS-7.2.3.2.1-7a.ii",
            "TS-7.2.3.2.1-7a.iii",
            "TS-7.2.3.2.1-7a.iv",
        ),
    ),
    Fault(
        "client.handling-action-dropped",
        "TS-7.2.3.2.1-7a",
        "the first entry of the handling list has no ?cpm_action",
        # the entry that lost its action is the one for the action under test
        also=(
            "TS-7.2.3.2.1-7a.i",
            "TS-7.2.3.2.1-7a.ii",
            "TS-7.2.3.2.1-7a.iii",
            "TS-7.2.3.2.1-7a.iv",
        ),
    ),
    Fault(
        "client.handling-deliver-misnamed",
        "TS-7.2.3.2.1-7a.i",
        "a message to deliver is listed with cpm_action=retrieve",
        also=("TS-7.2.3.2.1-7a",),  # retrieve is no cpm_action value at all
    ),
    Fault(
        "client.handling-delete-misnamed",
        "TS-7.2.3.2.1-7a.ii",
        "a message to delete is listed with cpm_action=discard",
        also=("TS-7.2.3.2.1-7a",),  # discard is no cpm_action value at all
    ),
    Fault(
        "client.handling-interwork-misnamed",
        "TS-7.2.3.2.1-7a.iii",
        "a message to interwork is listed with cpm_action=deliver",
    ),
    Fault(
        "client.handling-store-misnamed",
        "TS-7.2.3.2.1-7a.iv",
        "a message to store is listed with cpm_action=deliver",
    ),
    Fault(
        "client.handling-pursue-after-488",
        "TS-7.2.3.2.1-on488",
        "after a 488 with Warning 125 the client sends the same handling INVITE again",
    ),
    Fault(
        "client.handling-no-ack-488",
        "TS-7.2.3.2.1-on488-process",
        "a 488 to the handling INVITE is never acknowledged",
    ),
    Fault(
        "client.handling-no-ack-error",
        "TS-7.2.3.2.1-error",
        "a failure response other than 488 to the handling INVITE is never acknowledged",
    ),
    Fault(
        "client.handling-no-ack-200",
        "TS-7.2.3.2.1-on200-ack",
        "the 200 to the handling INVITE is never acknowledged",
        also=("TS-7.2.3.2.1-on200-bye",),  # the BYE is due after the ACK, so none comes
    ),
    Fault(
        "client.handling-no-bye",
        "TS-7.2.3.2.1-on200-bye",
        "the handling session is left up: no BYE follows the ACK",
    ),
    Fault(
        "client.reject-deferred-delivery",
        "TS-7.2.3.2.1-receive",
        "after a handling INVITE, a MESSAGE or INVITE with the deferred ICSI is answered 403",
    ),
    # ---- PF, terminating pager mode (8.3.2.1) and recording (8.5.1)
    Fault(
        "pf.403-no-warning",
        "TS-8.3.2.1-1d-warning",
        "the access-policy 403 carries no Warning header",
    ),
    Fault(
        "pf.ignore-block",
        "TS-8.3.2.1-1d",
        "blocked originators are not refused",
        also=("TS-8.3.2.1-1d-warning",),
    ),
    Fault(
        "pf.no-415",
        "TS-8.3.2.1-2",
        "content types outside the allowed list are delivered instead of refused with 415",
    ),
    Fault(
        "pf.deliver-expired",
        "TS-8.3.2.1-3",
        "expired messages (Date + Expires in the past) are delivered",
    ),
    Fault(
        "pf.deliver-unselected",
        "TS-8.3.2.1-4b-2",
        "registered devices whose preferences do not select them get a copy too",
        # pager, large mode and deferred push share the device selection; the large-mode
        # forking clause is judged on every device INVITE the capture holds
        also=("TS-8.3.2.4.1-select", "TS-8.3.2.1.1-6"),
    ),
    Fault(
        "pf.request-uri-not-gruu",
        "TS-8.3.2.1-4b-2.ii",
        "device copies are addressed to the registered contact instead of the public GRUU",
    ),
    Fault(
        "pf.forward-second-2xx",
        "TS-8.3.2.1-other",
        "a 2xx from a second device is also passed back to the originator",
    ),
    Fault(
        "pf.first-2xx-as-202",
        "TS-8.3.2.1-first2xx",
        "the first device 2xx is not passed back: the originator gets a 202 of the PF's own",
        also=("TS-8.5.1-send-4a.ii",),  # its UID rides on that 200
    ),
    Fault(
        "pf.second-copy-to-first-device",
        "TS-8.3.2.1-4b-2.i",
        "the first selected device gets a second copy of the MESSAGE",
    ),
    Fault(
        "pf.stored-answers-202",
        "TS-8.3.2.1-4a.iii-200",
        "a message stored on the user's behalf is answered 202 instead of 200",
    ),
    Fault(
        "pf.no-uid-in-200",
        "TS-8.5.1-send-4a.ii",
        "originating-side recording puts no Message-UID in the 200 to the originator",
    ),
    Fault(
        "pf.no-uid-in-forwarded-message",
        "TS-8.5.1-send-4a.i",
        "terminating-side recording puts no Message-UID in the MESSAGE to the devices",
    ),
    # ---- PF, terminating large message mode (8.3.2.1.1) and recording (8.5.1)
    Fault(
        "pf.large-no-path-prepend",
        "TS-8.3.2.1.1-first200-2b",
        "the SDP answer to the sender carries the device's a=path without the PF's own URI",
        # Without the PF's hop the sender cannot reach the PF: the relay is not exercised.
        also=_NO_PF_RELAY,
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
        "pf.deferred-488-no-warning",
        "TS-7.2.3.2.1-on488-pf",
        "a handling INVITE that matches nothing gets a bare 488, without Warning 125",
    ),
    Fault(
        "pf.large-ignore-block",
        "TS-8.3.2.1.1-1.i",
        "a large-mode INVITE from a blocked originator is forked on",
        also=("TS-8.3.2.1.1-1.ii",),
    ),
    Fault(
        "pf.large-block-403-no-warning",
        "TS-8.3.2.1.1-1.ii",
        "the access-policy 403 to a large-mode INVITE has no Warning",
    ),
    Fault(
        "pf.large-ignore-min-release",
        "TS-8.3.2.1.1-2.i",
        "an INVITE from a client release below the minimum is accepted",
        also=("TS-8.3.2.1.1-2.i-errorinfo",),
    ),
    Fault(
        "pf.large-403-no-error-info",
        "TS-8.3.2.1.1-2.i-errorinfo",
        "the client-release 403 has no Error-Info",
    ),
    Fault(
        "pf.large-allow-anonymous",
        "TS-8.3.2.1.1-3.i",
        "an anonymous large-mode INVITE is accepted although anonymity is barred",
        also=("TS-8.3.2.1.1-3.ii",),
    ),
    Fault(
        "pf.large-anonymous-403-no-warning", "TS-8.3.2.1.1-3.ii", "the anonymity 403 has no Warning"
    ),
    Fault(
        "pf.large-drop-session-expires",
        "TS-8.3.2.1.1-4",
        "Session-Expires is neither passed to the devices nor answered",
    ),
    Fault(
        "pf.large-reuse-from-tag",
        "TS-8.3.2.1.1-5",
        "the device INVITE reuses the sender's From tag instead of a dialog of the PF's own",
    ),
    Fault(
        "pf.large-first-device-only",
        "TS-8.3.2.1.1-6.i",
        "only the first selected device gets an INVITE",
        also=("TS-8.3.2.1.1-6",),
    ),
    Fault(
        "pf.large-invite-contact-not-gruu",
        "TS-8.3.2.1.1-6.ii",
        "the device INVITE goes to the registered contact, not the public GRUU",
    ),
    Fault(
        "pf.large-answer-text-plain",
        "TS-8.3.2.1.1-first200-2c",
        "the SDP answer to the sender says accept-types text/plain",
    ),
    Fault(
        "pf.large-answer-sendrecv",
        "TS-8.3.2.1.1-first200-2d",
        "the SDP answer to the sender says sendrecv",
    ),
    Fault("pf.large-no-allow", "TS-8.3.2.1.1-first200-4", "the 200 to the sender has no Allow"),
    Fault(
        "pf.large-device-contact",
        "TS-8.3.2.1.1-first200-5",
        "the 200 to the sender carries the device's Contact",
    ),
    Fault(
        "pf.large-no-ack-to-device",
        "TS-8.3.2.1.1-ack-2",
        "the sender's ACK is not passed on to the device",
    ),
    Fault(
        "pf.large-second-200",
        "TS-8.3.2.1.1-first200-1",
        "the sender gets a second 200 (another to-tag) after the first",
    ),
    Fault(
        "pf.large-answer-not-msrp",
        "TS-8.3.2.1.1-first200-2a",
        "the SDP answer to the sender has no MSRP media line (TCP/BFCP instead of TCP/MSRP)",
        # Without an MSRP media line nothing of the answer or the session can be judged.
        also=(
            "TS-8.3.2.1.1-first200-2",
            "TS-8.3.2.1.1-first200-2b",
            "TS-8.3.2.1.1-first200-2c",
            "TS-8.3.2.1.1-first200-2d",
            "TS-8.3.2.1.1-first200-2e",
            *_NO_PF_RELAY,
        ),
    ),
    Fault(
        "pf.large-allfail-not-deferred",
        "TS-8.3.2.1.1-allfail-1",
        "a large message every device failed is dropped, not deferred and notified",
    ),
    Fault(
        "pf.large-stall-mid-relay",
        "TS-8.3.2.1.1-msrp200-1",
        "the MSRP relay stops dead after the first chunk: no 200 for it, nothing more passed on",
        # A stalled transfer leaves the message incomplete at the device, unrecorded, and the
        # session cannot end normally.
        also=(
            "TS-8.3.2.1.1-send-2",
            "TS-8.3.2.1.1-bye-1",
            "TS-8.3.2.1.1-bye-2",
            "TS-8.5.1-send-4b.i",
            "TS-8.5.1-send-4b.ii",
        ),
    ),
    Fault(
        "pf.large-setup-active",
        "TS-8.3.2.1.1-first200-2e",
        "the SDP answer to the sender says a=setup:active instead of passive",
    ),
    Fault(
        "pf.large-no-server",
        "TS-8.3.2.1.1-first200-3",
        "the 200 to the sender's large-mode INVITE has no Server header",
    ),
    Fault(
        "pf.large-no-uid-in-bye",
        "TS-8.5.1-send-4b.i",
        "terminating-side recording puts no Message-UID in the BYE to the device",
    ),
    Fault(
        "pf.large-no-uid-in-bye-200",
        "TS-8.5.1-send-4b.ii",
        "originating-side recording puts no Message-UID in the 200 to the sender's BYE",
    ),
    Fault(
        "pf.no-202-on-defer",
        "TS-8.3.2.4.x-2",
        "a deferred pager-mode message is answered 200 instead of 202",
        also=("TS-8.3.2.1-4a.ii", "SD-5.2.2.1.1-handle-queue"),
    ),
    # ---- PF, deferred messages (8.3.2.4.x, 8.3.2.4.1, SD 5.2.2.2)
    Fault(
        "pf.defer-no-system-message-tag",
        "TS-8.3.2.4.x-3a.ii",
        "the deferral notification has no Accept-Contact +g.oma.cpm.system-message",
    ),
    Fault(
        "pf.defer-notify-not-iwf",
        "TS-8.3.2.4.x-3b",
        "with no device registered the notification goes to the user, not the IWF",
    ),
    Fault(
        "pf.deferred-action-ignored",
        "SD-5.2.2.2.1-remove",
        "cpm_action=delete in a handling INVITE is ignored: the message stays deferred",
        # the 488 "No messages" cases reach an empty queue by deleting what is there; with
        # delete ignored the PF still has messages to hand over, so it rightly answers 200
        also=("TS-7.2.3.2.1-on488-pf",),
    ),
    Fault(
        "pf.deferred-remove-unlisted",
        "SD-5.2.2.2.1-remove",
        "after a handling session, messages the list did not name are dropped as well",
    ),
    Fault(
        "pf.push-no-automata",
        "TS-8.3.2.4.1-e",
        "the Contact of a push INVITE has no automata feature tag",
    ),
    Fault(
        "pf.push-sendrecv",
        "TS-8.3.2.4.1-g",
        "the SDP offer of a push INVITE says a=sendrecv",
        also=("TS-8.3.2.4.1-g.i", "TS-8.3.2.4.1-g.ii"),
    ),
    Fault(
        "pf.deferred-deliver-twice",
        "TS-8.3.2.4.1-on200-3",
        "every deferred message is delivered twice (push and pull)",
        also=("SD-5.2.2.2.2-deliver", "SD-5.2.2.2.1-remove"),
    ),
    Fault(
        "pf.deferred-deliver-expired",
        "SD-5.2.2.2-expiry",
        "deferred messages never expire: an expired one is still listed and delivered",
    ),
]

# ---- robustness (the suite's own RB- requirements)
_ENTRIES += [
    Fault(
        "robust.crash-on-bad-content-length",
        "RB-sip-content-length",
        "a datagram whose Content-Length exceeds its body hangs the SUT: neither it nor the "
        "next request is answered",
    ),
]

# ---- through the SIP/IP core (THROUGH-THE-CORE): the Route an initial request carries
# (D-through-core) and the Vias a response keeps; one switch per clause
_ENTRIES += [
    Fault(
        "client.register-no-route",
        "TS-7.1-8",
        "the REGISTER goes to the outbound proxy without the Route naming it",
    ),
    Fault(
        "client.message-no-route",
        "TS-7.2.1.1-16",
        "a pager-mode MESSAGE goes without its preloaded Route (outbound proxy, Service-Route)",
    ),
    Fault(
        "client.invite-no-route",
        "TS-7.2.1.2-18",
        "a large-mode INVITE goes without its preloaded Route (outbound proxy, Service-Route)",
    ),
    Fault(
        "client.subscribe-no-route",
        "TS-7.2.3.1-1h",
        "the deferred-messages SUBSCRIBE goes without its preloaded Route",
    ),
    Fault(
        "client.handling-invite-no-route",
        "TS-7.2.3.2.1-8",
        "the handling INVITE goes without its preloaded Route",
    ),
    Fault(
        "client.message-200-drops-via",
        "TS-7.2.2.1-5",
        "the 200 to a received MESSAGE keeps only the top Via of the request",
    ),
    Fault(
        "client.invite-200-drops-via",
        "TS-7.2.2.2-3",
        "the 200 to a large-mode INVITE keeps only the top Via of the request",
    ),
    Fault(
        "pf.copy-no-core-route",
        "TS-8.3.2.1-4b-2.iii",
        "pager-mode copies go to the devices without the Route naming the core",
    ),
    Fault(
        "pf.invite-no-core-route",
        "TS-8.3.2.1.1-6.iii",
        "large-mode device INVITEs go without the Route naming the core",
    ),
    Fault(
        "pf.large-200-drops-via",
        "TS-8.3.2.1.1-first200-6",
        "the 200 to the sender's large-mode INVITE keeps only the top Via of the INVITE",
    ),
    Fault(
        "pf.push-no-core-route",
        "TS-8.3.2.4.1-h",
        "push INVITEs of deferred messages go without the Route naming the core",
    ),
    Fault(
        "pf.notification-no-core-route",
        "TS-8.3.2.4.x-3a.vii",
        "the deferral notification MESSAGE goes without the Route naming the core",
    ),
]

# ---- client, deferred messages and large-mode receiving (CLIENT-DEFERRED): the umbrella
# steps and MAYs of 7.2.3.1 and 7.2.3.2.1, and the 200 of 7.2.2.2 step 2
_ENTRIES += [
    Fault(
        "client.subscribe-no-from-tag",
        "TS-7.2.3.1-1",
        "the SUBSCRIBE's From has no tag",
    ),
    Fault(
        "client.subscribe-foreign-identity",
        "TS-7.2.3.1-1d",
        "the SUBSCRIBE asserts an address that is not the user's in P-Preferred-Identity",
    ),
    Fault(
        "client.handling-no-from-tag",
        "TS-7.2.3.2.1-1",
        "the handling INVITE's From has no tag",
    ),
    Fault(
        "client.handling-offer-no-path",
        "TS-7.2.3.2.1-6",
        "the handling INVITE's SDP offer has no a=path",
    ),
    Fault(
        "client.handling-malformed-accept-type",
        "TS-7.2.3.2.1-6b",
        "the handling offer lists a further accept-type `text/` with no subtype",
    ),
    Fault(
        "client.recv-200-no-contact",
        "TS-7.2.2.2-2",
        "the 200 to a large-mode INVITE has no Contact",
    ),
]

# ---- PF, deferred messages (PF-DEFERRED): the notification of 8.3.2.4.x step 3a, the push
# INVITE of 8.3.2.4.1 and the push option of SD 5.2.2.2.2; one switch per clause
_ENTRIES += [
    Fault(
        "pf.defer-notify-not-message",
        "TS-8.3.2.4.x-3a.i",
        "the deferral notification is sent as a NOTIFY instead of a MESSAGE",
        # the SD's notify-and-wait option and its informing step, governed by 3a.i, and the
        # large-mode deferral, which notifies by this same step of 8.3.2.4.x
        also=("SD-5.2.2.2-1", "SD-5.2.2.2.1-notify", "TS-8.3.2.1.1-allfail-1"),
    ),
    Fault(
        "pf.defer-no-notification",
        "TS-8.3.2.4.x-3a.i",
        "no deferral notification: the deferred message's text is re-sent as a plain MESSAGE "
        "to the user's address instead (a store-and-forward relay such as Kamailio's msilo)",
        # every clause about the notification's content, and the SD's notify option, rest on
        # there being one; a re-send of the message must not be taken for it. The cases that
        # learn a Message-URI-ID from the notification are left unjudged
        also=(
            "SD-5.2.2.2-expiry",
            "SD-5.2.2.2.1-remove",
            "TS-7.2.3.2.1-on488-pf",
            "SD-5.2.2.2-1",
            "SD-5.2.2.2.1-notify",
            "TS-8.3.2.1.1-allfail-1",
            "TS-8.3.2.4.x-3a.ii",
            "TS-8.3.2.4.x-3a.iii",
            "TS-8.3.2.4.x-3a.iv",
            "TS-8.3.2.4.x-3a.v",
            "TS-8.3.2.4.x-3a.vi",
            "TS-8.3.2.4.x-3a.vii",
            "TS-8.3.2.4.x-3b",
            "SD-5.2.2.2.1-info",
        ),
    ),
    Fault(
        "pf.defer-notify-iwf-always",
        "TS-8.3.2.4.x-3a.iii",
        "the deferral notification goes to the IWF even when a device of the user is registered",
    ),
    Fault(
        "pf.defer-notify-from-originator",
        "TS-8.3.2.4.x-3a.iv",
        "the deferral notification asserts the deferred message's sender, not the server identity",
    ),
    Fault(
        "pf.defer-notify-no-user-agent",
        "TS-8.3.2.4.x-3a.v",
        "the deferral notification has no User-Agent",
    ),
    Fault(
        "pf.defer-notify-no-uri-id",
        "TS-8.3.2.4.x-3a.vi",
        "the notification to a registered user names the message by the management address, "
        "not by its Message-URI-ID",
    ),
    Fault(
        "pf.deferred-wrong-size",
        "SD-5.2.2.2.1-info",
        "the size a deferred message is listed with counts the whole SIP request, not its body",
    ),
    Fault(
        "pf.push-while-unregistered",
        "SD-5.2.2.2.2-wait",
        "a message deferred for push while nothing is registered is pushed at once to the "
        "user's address",
    ),
    Fault(
        "pf.push-no-retry",
        "SD-5.2.2.2.2-setup",
        "messages whose push was refused are never pushed again, not even to a device that "
        "registers anew",
        also=("SD-5.2.2.2-2",),  # the push option as a whole, over the same session set-up
    ),
    Fault(
        "pf.push-unselected",
        "TS-8.3.2.4.1-select",
        "push INVITEs go to every registered device, the ones the preferences exclude too",
    ),
    Fault(
        "pf.push-invite-twice",
        "TS-8.3.2.4.1-invite",
        "each selected device gets two push INVITEs instead of one",
    ),
    Fault(
        "pf.push-to-contact",
        "TS-8.3.2.4.1-a",
        "a push INVITE is addressed to the device's registered contact, not its public GRUU",
    ),
    Fault(
        "pf.push-accept-contact-msg-icsi",
        "TS-8.3.2.4.1-b",
        "the Accept-Contact of a push INVITE names the msg ICSI instead of the deferred ICSI",
    ),
    Fault(
        "pf.push-no-user-agent",
        "TS-8.3.2.4.1-c",
        "a push INVITE has no User-Agent",
    ),
    Fault(
        "pf.push-contact-no-icsi",
        "TS-8.3.2.4.1-d",
        "the Contact of a push INVITE has no deferred ICSI",
    ),
    Fault(
        "pf.push-no-session-expires",
        "TS-8.3.2.4.1-f",
        "a push INVITE offers no Session-Expires",
    ),
    Fault(
        "pf.push-ack-to-request-uri",
        "TS-8.3.2.4.1-on200-2",
        "the ACK (and BYE) of a push session go to the INVITE's Request-URI, not the 200's Contact",
    ),
    Fault(
        "pf.push-no-bye",
        "SD-5.2.2.2.2-teardown",
        "a push session is left open after the deferred messages are delivered: no BYE",
    ),
]

# ---- ROBUSTNESS: input the SUT must refuse (a 200 instead) or survive (a hang instead). The
# hangs clear after the next request, the liveness probe, so later cases are unaffected.
_ENTRIES += [
    Fault(
        "robust.accept-invalid-uri",
        "RB-sip-invalid-uri-refused",
        "a request whose Request-URI, From or To URI does not parse is answered 200",
    ),
    Fault(
        "robust.accept-repeated-header",
        "RB-sip-repeated-header-refused",
        "a request with a single-value header (Call-ID, CSeq, From, To, Max-Forwards) twice "
        "is answered 200",
    ),
    # No RFC rule requires refusing these two (RB- entries judged on survival alone): the
    # switches hang the SUT instead, which any SUT must survive.
    Fault(
        "robust.crash-on-bad-feature-tag",
        "RB-sip-feature-tag-encoding",
        "a request whose Accept-Contact feature tag is badly percent-encoded hangs the SUT: "
        "neither it nor the next request is answered",
    ),
    Fault(
        "robust.crash-on-malformed-cpim",
        "RB-cpim-malformed",
        "a MESSAGE whose message/cpim body does not parse hangs the SUT: neither it nor the "
        "next request is answered",
        # a Content-Length smaller than the body cuts the CPIM short: the SUT then holds a
        # malformed CPIM body, on which this switch hangs (the too-small variants)
        also=("RB-sip-content-length",),
    ),
    Fault(
        "robust.stall-on-unterminated",
        "RB-sip-unterminated",
        "a datagram whose header section never ends hangs the SUT: the next request is "
        "not answered",
    ),
    Fault(
        "robust.stall-on-huge-header",
        "RB-sip-huge-header",
        "a request with a header section over 32 KiB hangs the SUT: neither it nor the next "
        "request is answered",
    ),
    Fault(
        "robust.accept-invalid-resource-list",
        "RB-xml-invalid",
        "a handling INVITE whose resource list is not well-formed or not a resource list is "
        "accepted with 200 (an empty handling session)",
    ),
    Fault(
        "robust.expand-xml-entities",
        "RB-xml-entity-expansion",
        "the PF expands internal XML entities of a resource list; past 4 MiB of expansion it "
        "hangs: neither the INVITE nor the next request is answered",
    ),
    Fault(
        "robust.resolve-external-entities",
        "RB-xml-external-entity",
        "the PF resolves the external XML entities of a resource list (fetches file: and "
        "http: SYSTEM identifiers)",
    ),
    Fault(
        "robust.accept-unknown-action",
        "RB-cpm-unknown-action",
        "an unknown cpm_action in a handling INVITE's list is taken as delete: the INVITE is "
        "accepted with 200 and the message it names is dropped from the deferred list",
    ),
    Fault(
        "robust.accept-unknown-message-id",
        "RB-cpm-unknown-message-id",
        "a handling INVITE naming Message-URI-IDs the PF never issued is accepted with 200",
    ),
]

# ---- ROBUSTNESS (follow-up): an unknown cpm_action naming a message that really waits
_ENTRIES += [
    Fault(
        "robust.unknown-action-as-deliver",
        "RB-cpm-unknown-action",
        "an unknown cpm_action in a handling INVITE's list is taken as deliver: the message it "
        "names is delivered after the BYE and dropped from the deferred list",
    ),
]

REGISTRY: dict[str, Fault] = {f.name: f for f in _ENTRIES}


class UnknownFault(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown fault {name!r}")
        self.name = name


class Faults:
    """The set of switches turned on for one run."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        names = list(names)
        for name in names:
            if name not in REGISTRY:
                raise UnknownFault(name)
        self.active = frozenset(names)

    def on(self, name: str) -> bool:
        # A typo in the code asking for a switch must not silently read as "off".
        if name not in REGISTRY:
            raise KeyError(f"no fault switch called {name!r}")
        return name in self.active

    def __repr__(self) -> str:
        return f"Faults({sorted(self.active)})"
