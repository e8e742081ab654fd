"""The client's fault switches for deferred messages: the SUBSCRIBE to the deferred-messages
list and the handling INVITE naming what to do with each message.
"""

from __future__ import annotations

from .switch import Fault

# The clauses these switches break, by id prefix (see the package docstring).
SECTIONS = {
    "TS-7.2.3.1-": "subscribing to the deferred-messages list (7.2.3.1)",
    "TS-7.2.3.2.1-": "the handling INVITE (7.2.3.2.1)",
}

SWITCHES = [
    # ---- subscribing to the deferred-messages list (7.2.3.1)
    Fault(
        "client.subscribe-no-from-tag",
        "TS-7.2.3.1-1",
        "the SUBSCRIBE's From has no tag",
    ),
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
        "client.subscribe-foreign-identity",
        "TS-7.2.3.1-1d-registered",
        "the SUBSCRIBE asserts an address that is not the user's in P-Preferred-Identity",
        # the MAY keeps the option; its condition is the SHALL (D-may-binding-condition)
        also=("TS-7.2.3.1-1d",),
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
    Fault(
        "client.subscribe-no-route",
        "TS-7.2.3.1-1h",
        "the deferred-messages SUBSCRIBE goes without its preloaded Route",
    ),
    # ---- the handling INVITE (7.2.3.2.1)
    Fault(
        "client.handling-no-from-tag",
        "TS-7.2.3.2.1-1",
        "the handling INVITE's From has no tag",
    ),
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
        "client.handling-offer-no-path",
        "TS-7.2.3.2.1-6",
        "the handling INVITE's SDP offer has no a=path",
    ),
    Fault(
        "client.handling-no-accept-types",
        "TS-7.2.3.2.1-6a",
        "the handling INVITE's SDP offer has no a=accept-types",
        # no further format either, so 6b's condition (D-may-binding-condition) no longer arises
        also=("TS-7.2.3.2.1-6b-valid",),
    ),
    Fault(
        "client.handling-malformed-accept-type",
        "TS-7.2.3.2.1-6b-valid",
        "the handling offer lists a further accept-type `text/` with no subtype",
        # the MAY keeps the option; its condition is the SHALL (D-may-binding-condition)
        also=("TS-7.2.3.2.1-6b",),
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
        "client.handling-invite-no-route",
        "TS-7.2.3.2.1-8",
        "the handling INVITE goes without its preloaded Route",
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
        "client.reject-deferred-delivery",
        "TS-7.2.3.2.1-receive",
        "after a handling INVITE, a MESSAGE or INVITE with the deferred ICSI is answered 403",
    ),
]
