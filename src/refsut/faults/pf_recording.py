"""The PF's fault switches in recording: the Message-UID it adds on the terminating side
(towards the devices) and on the originating side (towards the sender).
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
]
