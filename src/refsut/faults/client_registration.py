"""The client's fault switches in registering: the REGISTER, its refresh and the
de-registration.
"""

from __future__ import annotations

from .switch import Fault

# The clauses these switches break, by id prefix (see the package docstring).
SECTIONS = {
    "TS-7.1-": "registration (7.1)",
}

SWITCHES = [
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
    Fault(
        "client.register-no-route",
        "TS-7.1-8",
        "the REGISTER goes to the outbound proxy without the Route naming it",
    ),
    Fault(
        "client.deregister-nonzero",
        "TS-7.1-deregister",
        "/deregister sends a REGISTER that asks for 3600 s instead of 0",
    ),
    Fault("client.no-reregister", "TS-7.1-reregister", "the registration is never refreshed"),
    Fault(
        "client.reregister-on-own-expiry",
        "TS-7.1-reregister",
        "the client asks for its expiry in the Contact (as baresip does) and refreshes on that, "
        "not on the expiry the registrar granted",
    ),
]
