"""The PF's fault switches in pushing deferred messages: the device selection, the push
INVITE and its SDP offer, and the session's set-up and teardown.
"""

from __future__ import annotations

from .switch import Fault

# The clauses these switches break, by id prefix (see the package docstring).
SECTIONS = {
    "TS-8.3.2.4.1-": "pushing deferred messages in a session (8.3.2.4.1)",
    "SD-5.2.2.2.2-": "the push option (SD 5.2.2.2.2)",
}

SWITCHES = [
    # ---- pushing deferred messages in a session (8.3.2.4.1)
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
        "pf.push-no-automata",
        "TS-8.3.2.4.1-e",
        "the Contact of a push INVITE has no automata feature tag",
    ),
    Fault(
        "pf.push-no-session-expires",
        "TS-8.3.2.4.1-f",
        "a push INVITE offers no Session-Expires",
    ),
    Fault(
        "pf.push-sendrecv",
        "TS-8.3.2.4.1-g",
        "the SDP offer of a push INVITE says a=sendrecv",
        also=("TS-8.3.2.4.1-g.i", "TS-8.3.2.4.1-g.ii"),
    ),
    Fault(
        "pf.push-no-core-route",
        "TS-8.3.2.4.1-h",
        "push INVITEs of deferred messages go without the Route naming the core",
    ),
    Fault(
        "pf.push-invite-twice",
        "TS-8.3.2.4.1-invite",
        "each selected device gets two push INVITEs instead of one",
    ),
    Fault(
        "pf.push-ack-to-request-uri",
        "TS-8.3.2.4.1-on200-2",
        "the ACK (and BYE) of a push session go to the INVITE's Request-URI, not the 200's Contact",
    ),
    Fault(
        "pf.deferred-deliver-twice",
        "TS-8.3.2.4.1-on200-3",
        "every deferred message is delivered twice (push and pull)",
        also=("SD-5.2.2.2.2-deliver", "SD-5.2.2.2.1-remove"),
    ),
    Fault(
        "pf.push-unselected",
        "TS-8.3.2.4.1-select",
        "push INVITEs go to every registered device, the ones the preferences exclude too",
    ),
    # ---- the push option (SD 5.2.2.2.2)
    Fault(
        "pf.push-no-retry",
        "SD-5.2.2.2.2-setup",
        "messages whose push was refused are never pushed again, not even to a device that "
        "registers anew",
        also=("SD-5.2.2.2-2",),  # the push option as a whole, over the same session set-up
    ),
    Fault(
        "pf.push-no-bye",
        "SD-5.2.2.2.2-teardown",
        "a push session is left open after the deferred messages are delivered: no BYE",
    ),
    Fault(
        "pf.push-while-unregistered",
        "SD-5.2.2.2.2-wait",
        "a message deferred for push while nothing is registered is pushed at once to the "
        "user's address",
    ),
]
