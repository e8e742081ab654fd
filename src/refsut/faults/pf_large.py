"""The PF's fault switches in terminating large message mode: the checks on the sender's
INVITE, the INVITEs forked to the devices, the SDP answer and 200 to the sender, and the
MSRP relay between the two.
"""

from __future__ import annotations

from .switch import Fault

# The clauses these switches break, by id prefix (see the package docstring).
SECTIONS = {
    "TS-8.3.2.1.1-": "terminating large message mode (8.3.2.1.1)",
}

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

SWITCHES = [
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
        "pf.invite-no-core-route",
        "TS-8.3.2.1.1-6.iii",
        "large-mode device INVITEs go without the Route naming the core",
    ),
    Fault(
        "pf.large-no-ack-to-device",
        "TS-8.3.2.1.1-ack-2",
        "the sender's ACK is not passed on to the device",
    ),
    Fault(
        "pf.large-allfail-not-deferred",
        "TS-8.3.2.1.1-allfail-1",
        "a large message every device failed is dropped, not deferred and notified",
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
        "pf.large-no-path-prepend",
        "TS-8.3.2.1.1-first200-2b",
        "the SDP answer to the sender carries the device's a=path without the PF's own URI",
        # Without the PF's hop the sender cannot reach the PF: the relay is not exercised.
        also=_NO_PF_RELAY,
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
    Fault("pf.large-no-allow", "TS-8.3.2.1.1-first200-4", "the 200 to the sender has no Allow"),
    Fault(
        "pf.large-device-contact",
        "TS-8.3.2.1.1-first200-5",
        "the 200 to the sender carries the device's Contact",
    ),
    Fault(
        "pf.large-200-drops-via",
        "TS-8.3.2.1.1-first200-6",
        "the 200 to the sender's large-mode INVITE keeps only the top Via of the INVITE",
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
]
