"""The PF's fault switches for deferred messages: deferring a message, notifying the user,
the deferred list it keeps, and its handling of the client's handling INVITE.
"""

from __future__ import annotations

from .switch import Fault

# The clauses these switches break, by id prefix (see the package docstring).
SECTIONS = {
    "TS-8.3.2.4.x-": "deferring a message and notifying the user (8.3.2.4.x)",
    "SD-5.2.2.2-": "the deferred messages kept (SD 5.2.2.2)",
    "SD-5.2.2.2.1-": "listing and handling the deferred messages (SD 5.2.2.2.1)",
    "TS-7.2.3.2.1-": "the PF's answer to the client's handling INVITE (7.2.3.2.1)",
}

SWITCHES = [
    # ---- deferring a message and notifying the user (8.3.2.4.x)
    Fault(
        "pf.no-202-on-defer",
        "TS-8.3.2.4.x-2",
        "a deferred pager-mode message is answered 200 instead of 202",
        also=("TS-8.3.2.1-4a.ii", "SD-5.2.2.1.1-handle-queue"),
    ),
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
            "SD-5.2.2.2.1-info-accurate",
        ),
    ),
    Fault(
        "pf.defer-no-system-message-tag",
        "TS-8.3.2.4.x-3a.ii",
        "the deferral notification has no Accept-Contact +g.oma.cpm.system-message",
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
        "pf.notification-no-core-route",
        "TS-8.3.2.4.x-3a.vii",
        "the deferral notification MESSAGE goes without the Route naming the core",
    ),
    Fault(
        "pf.defer-notify-not-iwf",
        "TS-8.3.2.4.x-3b",
        "with no device registered the notification goes to the user, not the IWF",
    ),
    # ---- the deferred messages kept (SD 5.2.2.2)
    Fault(
        "pf.deferred-deliver-expired",
        "SD-5.2.2.2-expiry",
        "deferred messages never expire: an expired one is still listed and delivered",
    ),
    # ---- listing and handling the deferred messages (SD 5.2.2.2.1)
    Fault(
        "pf.deferred-wrong-size",
        "SD-5.2.2.2.1-info-accurate",
        "the size a deferred message is listed with counts the whole SIP request, not its body",
        # the MAY keeps the option; its condition is the SHALL (D-may-binding-condition)
        also=("SD-5.2.2.2.1-info",),
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
    # ---- the PF's answer to the client's handling INVITE (7.2.3.2.1)
    Fault(
        "pf.deferred-488-no-warning",
        "TS-7.2.3.2.1-on488-pf",
        "a handling INVITE that matches nothing gets a bare 488, without Warning 125",
    ),
]
