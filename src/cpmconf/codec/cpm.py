"""The CPM constants the harness uses, in one place: the CPM service identifiers (ICSIs), the
feature tag of system messages, the OMA warning codes with their texts, and the pager-mode
size limit.

Every check, role and report of the harness takes these names from here (a self-test greps
src/cpmconf for a second copy). The reference SUT keeps its own literals on purpose, so a
typo shared by the harness and the SUT cannot make a wrong value pass. The feature-tag
names themselves (``g.3gpp.icsi-ref``, ``g.3gpp.iari-ref``) belong to the header parser
(:mod:`cpmconf.codec.headers`).
"""

from __future__ import annotations

# ICSIs (3GPP IMS Communication Service Identifiers) of CPM standalone messaging.
ICSI_PREFIX = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm."
ICSI_MSG = ICSI_PREFIX + "msg"  # pager mode
ICSI_LARGEMSG = ICSI_PREFIX + "largemsg"  # large message mode
ICSI_DEFERRED = ICSI_PREFIX + "deferred"  # deferred-message handling
CPM_ICSIS = (ICSI_MSG, ICSI_LARGEMSG, ICSI_DEFERRED)

# The feature tag a PF puts in Accept-Contact of a system message (a deferral notification).
SYSTEM_MESSAGE_TAG = "+g.oma.cpm.system-message"

# OMA warning codes, carried as warn-text in a SIP Warning 399, and the texts we expect.
WARNING_FUNCTION_NOT_ALLOWED = 122
WARNING_NO_MESSAGES = 125
WARNING_TEXTS = {
    WARNING_FUNCTION_NOT_ALLOWED: "Function not allowed",
    WARNING_NO_MESSAGES: "No messages",
}

# Largest CPIM wrapper (bytes) sent as a pager-mode MESSAGE; above it, large message mode.
PAGER_LIMIT = 1300


def icsi_suffix(icsi: str) -> bytes:
    """The tail of an ICSI after ``...icsi.`` (``oma.cpm.msg``): it reads the same whether
    the ICSI is percent-encoded or not, for a byte search in raw header text."""
    return icsi.rsplit(".icsi.", 1)[-1].encode()
