"""Robustness switches of the SIP layer, shared by both roles (the suite's own RB- entries).

`robust.accept-*` answers bad input with a 200 instead of the refusal (a `-refused` entry,
judged at its RFC rule's level). `robust.crash-on-*` and `robust.stall-on-*` hang the SUT on
it instead, which any SUT must survive whatever it answers (the survival entries): neither
that request nor the next is answered, which clears the hang, so later cases of a mutants
run are unaffected. They act in :mod:`refsut.robustness`.
"""

from __future__ import annotations

from .switch import Fault

# The clauses these switches break, by id prefix (see the package docstring).
SECTIONS = {
    "RB-sip-": "SIP framing, URIs and headers",
    "RB-cpim-": "CPIM bodies",
}

SWITCHES = [
    # ---- SIP framing, URIs and headers
    Fault(
        "robust.crash-on-bad-content-length",
        "RB-sip-content-length",
        "a datagram whose Content-Length exceeds its body hangs the SUT: neither it nor the "
        "next request is answered",
    ),
    # Refusing a too-large UDP Content-Length is a SHOULD (RFC 3261 18.3): non-strict.
    Fault(
        "robust.accept-udp-excess-content-length",
        "RB-sip-content-length-udp-excess",
        "a UDP request whose Content-Length runs beyond the datagram is answered 200",
    ),
    # No RFC rule requires refusing a bad feature tag or malformed CPIM (RB- entries judged
    # on survival alone): the switches hang the SUT instead.
    Fault(
        "robust.crash-on-bad-feature-tag",
        "RB-sip-feature-tag-encoding",
        "a request whose Accept-Contact feature tag is badly percent-encoded hangs the SUT: "
        "neither it nor the next request is answered",
    ),
    Fault(
        "robust.stall-on-huge-header",
        "RB-sip-huge-header",
        "a request with a header section over 32 KiB hangs the SUT: neither it nor the next "
        "request is answered",
    ),
    # Survival of an invalid URI or a repeated header, whatever the answer (refusing them is
    # a SHOULD, the -refused entries).
    Fault(
        "robust.crash-on-invalid-uri",
        "RB-sip-invalid-uri",
        "a request whose Request-URI, From or To URI does not parse hangs the SUT: neither it "
        "nor the next request is answered",
    ),
    Fault(
        "robust.accept-invalid-uri",
        "RB-sip-invalid-uri-refused",
        "a request whose Request-URI, From or To URI does not parse is answered 200",
    ),
    Fault(
        "robust.crash-on-repeated-header",
        "RB-sip-repeated-header",
        "a request with a single-value header twice hangs the SUT: neither it nor the next "
        "request is answered",
    ),
    Fault(
        "robust.accept-repeated-header",
        "RB-sip-repeated-header-refused",
        "a request with a single-value header (Call-ID, CSeq, From, To, Max-Forwards) twice "
        "is answered 200",
    ),
    Fault(
        "robust.stall-on-unterminated",
        "RB-sip-unterminated",
        "a datagram whose header section never ends hangs the SUT: the next request is "
        "not answered",
    ),
    # ---- CPIM bodies
    Fault(
        "robust.crash-on-malformed-cpim",
        "RB-cpim-malformed",
        "a MESSAGE whose message/cpim body does not parse hangs the SUT: neither it nor the "
        "next request is answered",
        # a Content-Length smaller than the body cuts the CPIM short: the SUT then holds a
        # malformed CPIM body, on which this switch hangs (the too-small variants)
        also=("RB-sip-content-length",),
    ),
]
