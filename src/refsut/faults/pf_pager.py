"""The PF's fault switches in terminating pager mode: access policy, content checks, the
copies forked to the user's devices and the answer passed back to the originator.
"""

from __future__ import annotations

from .switch import Fault

# The clauses these switches break, by id prefix (see the package docstring).
SECTIONS = {
    "TS-8.3.2.1-": "terminating pager mode (8.3.2.1)",
}

SWITCHES = [
    Fault(
        "pf.ignore-block",
        "TS-8.3.2.1-1d",
        "blocked originators are not refused",
        also=("TS-8.3.2.1-1d-warning",),
    ),
    Fault(
        "pf.403-no-warning",
        "TS-8.3.2.1-1d-warning",
        "the access-policy 403 carries no Warning header",
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
        "pf.stored-answers-202",
        "TS-8.3.2.1-4a.iii-200",
        "a message stored on the user's behalf is answered 202 instead of 200",
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
        "pf.second-copy-to-first-device",
        "TS-8.3.2.1-4b-2.i",
        "the first selected device gets a second copy of the MESSAGE",
    ),
    Fault(
        "pf.request-uri-not-gruu",
        "TS-8.3.2.1-4b-2.ii",
        "device copies are addressed to the registered contact instead of the public GRUU",
    ),
    Fault(
        "pf.copy-no-core-route",
        "TS-8.3.2.1-4b-2.iii",
        "pager-mode copies go to the devices without the Route naming the core",
    ),
    Fault(
        "pf.first-2xx-as-202",
        "TS-8.3.2.1-first2xx",
        "the first device 2xx is not passed back: the originator gets a 202 of the PF's own",
        also=("TS-8.5.1-send-4a.ii",),  # its UID rides on that 200
    ),
    Fault(
        "pf.forward-second-2xx",
        "TS-8.3.2.1-other",
        "a 2xx from a second device is also passed back to the originator",
    ),
]
