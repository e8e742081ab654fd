"""Robustness switches of the PF's deferred-message handling: the resource list of a handling
INVITE, its cpm_action values and the Message-URI-IDs it names (the suite's own RB-
entries).
"""

from __future__ import annotations

from .switch import Fault

# The clauses these switches break, by id prefix (see the package docstring).
SECTIONS = {
    "RB-xml-": "the resource list of a handling INVITE",
    "RB-cpm-": "cpm_action values and Message-URI-IDs a handling INVITE names",
}

SWITCHES = [
    # ---- the resource list of a handling INVITE
    Fault(
        "robust.expand-xml-entities",
        "RB-xml-entity-expansion",
        "the PF expands internal XML entities of a resource list; past 4 MiB of expansion it "
        "hangs: neither the INVITE nor the next request is answered",
    ),
    Fault(
        "robust.resolve-external-entities",
        "RB-xml-external-entity",
        "the PF resolves the external XML entities of a resource list (fetches file: and "
        "http: SYSTEM identifiers)",
    ),
    Fault(
        "robust.crash-on-invalid-resource-list",
        "RB-xml-invalid",
        "a handling INVITE whose resource list is not well-formed or not a resource list "
        "hangs the PF: neither it nor the next request is answered",
    ),
    # ---- cpm_action values and Message-URI-IDs a handling INVITE names
    Fault(
        "robust.crash-on-unknown-action",
        "RB-cpm-unknown-action",
        "an unknown cpm_action in a handling INVITE's list hangs the PF: neither the INVITE "
        "nor the next request is answered",
    ),
    Fault(
        "robust.crash-on-unknown-message-id",
        "RB-cpm-unknown-message-id",
        "a handling INVITE naming a Message-URI-ID the PF never issued hangs the PF: neither "
        "the INVITE nor the next request is answered",
    ),
    Fault(
        "robust.accept-unknown-message-id",
        "RB-cpm-unknown-message-id-refused",
        "a handling INVITE naming Message-URI-IDs the PF never issued is accepted with 200",
    ),
]
