"""The PF's fault switches in recording: the Message-UID it adds on the terminating side
(towards the devices) and on the originating side (towards the sender), and what it stores
in the Message Storage Server (pager: the UID, a header; large: the body, whose store).
"""

from __future__ import annotations

from .switch import Fault

# The clauses these switches break, by id prefix (see the package docstring).
SECTIONS = {
    "TS-8.5.1-": "Message-UID of the recorded message (8.5.1)",
}

SWITCHES = [
    Fault(
        "pf.no-uid-in-forwarded-message",
        "TS-8.5.1-send-4a.i",
        "terminating-side recording puts no Message-UID in the MESSAGE to the devices",
    ),
    Fault(
        "pf.no-uid-in-200",
        "TS-8.5.1-send-4a.ii",
        "originating-side recording puts no Message-UID in the 200 to the originator",
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
        "pf.store-uid-not-stored",
        "TS-8.5.1-message-3",
        "pager recording puts a UID on the wire that names no stored object",
        also=("TS-8.5.1-message-2",),
    ),
    Fault(
        "pf.store-header-dropped",
        "TS-8.5.1-message-2",
        "pager recording stores the MESSAGE without its Conversation-ID header",
    ),
    Fault(
        "pf.store-body-truncated",
        "TS-8.5.1-send-2",
        "large-mode recording stores the message with the end of its content cut off",
    ),
    Fault(
        "pf.store-wrong-user",
        "TS-8.5.1-send-3",
        "large-mode recording stores both sides' objects in the store of a user who is no party",
        also=("TS-8.5.1-send-2",),
    ),
]
