"""The client's fault switches in pager mode: the MESSAGE it sends (headers, CPIM wrapper,
ids, addressing of replies and groups, the size that decides pager or large mode), and its
answer to a MESSAGE it receives, with the delivery notification it sends back.
"""

from __future__ import annotations

from .switch import Fault

# The clauses these switches break, by id prefix (see the package docstring).
SECTIONS = {
    "TS-7.2.1.1-": "sending a pager-mode MESSAGE (7.2.1.1)",
    "TS-7.2.1.3-": "the CPIM wrapper, and pager or large mode by its size (7.2.1.3)",
    "TS-7.2.2.1-": "receiving a pager-mode MESSAGE (7.2.2.1)",
    "TS-7.2.2.3-": "delivery notifications (7.2.2.3)",
}

SWITCHES = [
    # ---- sending a pager-mode MESSAGE (7.2.1.1)
    Fault(
        "client.accept-contact-no-msg-icsi",
        "TS-7.2.1.1-1",
        "Accept-Contact of a sent MESSAGE names the largemsg ICSI instead of the msg ICSI",
    ),
    Fault(
        "client.foreign-preferred-identity",
        "TS-7.2.1.1-2-registered",
        "sent MESSAGE asserts an address that is not the user's in P-Preferred-Identity",
        # the MAY keeps the option; its condition is the SHALL (D-may-binding-condition)
        also=("TS-7.2.1.1-2",),
    ),
    Fault(
        "client.no-p-preferred-service",
        "TS-7.2.1.1-3",
        "sent MESSAGE has no P-Preferred-Service",
    ),
    Fault("client.no-reply-to", "TS-7.2.1.1-4", "reply_address is ignored: no Reply-To is sent"),
    Fault("client.no-user-agent", "TS-7.2.1.1-5", "sent MESSAGE has no User-Agent"),
    Fault("client.no-privacy", "TS-7.2.1.1-6", "anonymous send carries no Privacy: id"),
    Fault("client.no-expires", "TS-7.2.1.1-7", "expires is ignored: no Expires header is sent"),
    Fault(
        "client.new-message-to-own-address",
        "TS-7.2.1.1-8a",
        "a new pager message to one recipient has the sending user as Request-URI",
        also=("TS-7.2.1.1-8",),
    ),
    Fault(
        "client.reply-ignores-reply-to",
        "TS-7.2.1.1-8b",
        "a reply goes to the replied message's originator even when it had a Reply-To",
        also=("TS-7.2.1.1-8c",),  # the case judges 8c on the same Request-URI
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
        "client.adhoc-no-resource-list",
        "TS-7.2.1.1-9b",
        "a new ad-hoc group MESSAGE carries only the CPIM body, no resource list",
    ),
    Fault(
        "client.group-reply-omits-replied",
        "TS-7.2.1.1-9c",
        "a group reply does not add the replied party (Reply-To or originator) to the list",
        also=("TS-7.2.1.1-9d",),  # the originator is the replied party without Reply-To
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
        "client.new-conversation-id-always",
        "TS-7.2.1.1-11-existing",
        "every MESSAGE gets a fresh Conversation-ID, even inside an existing conversation",
    ),
    Fault(
        "client.reuse-conversation-id",
        "TS-7.2.1.1-11-new",
        "a message opening a new conversation reuses the previous message's Conversation-ID",
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
        "client.message-not-typed-cpim",
        "TS-7.2.1.1-15",
        "a MESSAGE carrying the CPIM wrapper says Content-Type: text/plain",
    ),
    Fault(
        "client.message-no-route",
        "TS-7.2.1.1-16",
        "a pager-mode MESSAGE goes without its preloaded Route (outbound proxy, Service-Route)",
    ),
    Fault(
        "client.drop-uid-from-200",
        "TS-7.2.1.1-17",
        "the Message-UID in the 200 to a sent MESSAGE is not kept (null in /messages)",
    ),
    # ---- the CPIM wrapper, and pager or large mode by its size (7.2.1.3)
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
        "client.no-disposition-request",
        "TS-7.2.1.3-3",
        "the requested dispositions are dropped: no imdn.Disposition-Notification in the CPIM",
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
    # ---- receiving a pager-mode MESSAGE (7.2.2.1)
    Fault(
        "client.message-answer-202",
        "TS-7.2.2.1-1",
        "a received pager-mode MESSAGE is answered 202 instead of 200",
        # deferred ones too; the Server and echo clauses are about the 200, so with a 202
        # they are not-applicable
        also=("TS-7.2.2.1-intro", "TS-7.2.3.2.1-receive", "TS-7.2.2.1-2", "TS-7.2.2.1-4"),
    ),
    Fault("client.no-server-header", "TS-7.2.2.1-2", "200 to a received MESSAGE has no Server"),
    Fault(
        "client.foreign-identity-in-200",
        "TS-7.2.2.1-3-registered",
        "the 200 to a received MESSAGE asserts an address that is not the user's",
        # the MAY keeps the option; its condition is the SHALL (D-may-binding-condition)
        also=("TS-7.2.2.1-3",),
    ),
    Fault(
        "client.no-conversation-id-echo",
        "TS-7.2.2.1-4",
        "200 to a received MESSAGE does not echo Conversation-ID",
    ),
    Fault(
        "client.message-200-drops-via",
        "TS-7.2.2.1-5",
        "the 200 to a received MESSAGE keeps only the top Via of the request",
    ),
    Fault(
        "client.drop-message-uid",
        "TS-7.2.2.1-7",
        "the Message-UID of a received MESSAGE is not kept (null in /messages)",
        also=("TS-7.2.2.3-5",),
    ),
    # ---- delivery notifications (7.2.2.3)
    Fault(
        "client.no-delivery-imdn",
        "TS-7.2.2.3-3",
        "no delivery IMDN is sent even when positive-delivery is requested",
        # no IMDN, so no Contribution-ID or Request-URI of it to judge
        also=("TS-7.2.1.1-12-imdn", "TS-7.2.2.3-3-to"),
    ),
    Fault(
        "client.imdn-to-recipient",
        "TS-7.2.2.3-3-to",
        "the delivery IMDN is addressed to the message's recipient (the user itself) "
        "instead of its sender",
    ),
]
