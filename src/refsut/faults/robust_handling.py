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
        "robust.accept-invalid-resource-list",
        "RB-xml-invalid",
        "a handling INVITE whose resource list is not well-formed or not a resource list is "
        "accepted with 200 (an empty handling session)",
    ),
    # ---- cpm_action values and Message-URI-IDs a handling INVITE names
    Fault(
        "robust.accept-unknown-action",
        "RB-cpm-unknown-action",
        "an unknown cpm_action in a handling INVITE's list is taken as delete: the INVITE is "
        "accepted with 200 and the message it names is dropped from the deferred list",
    ),
    Fault(
        "robust.unknown-action-as-deliver",
        "RB-cpm-unknown-action",
        "an unknown cpm_action in a handling INVITE's list is taken as deliver: the message it "
        "names is delivered after the BYE and dropped from the deferred list",
    ),
    Fault(
        "robust.accept-unknown-message-id",
        "RB-cpm-unknown-message-id",
        "a handling INVITE naming Message-URI-IDs the PF never issued is accepted with 200",
    ),
]
