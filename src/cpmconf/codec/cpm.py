"""CPM constants the harness reads and writes: ICSIs and feature tags (OMA CPM 2.x).

One place for the service identifiers, so the steps that build messages and the checks that
judge them spell them alike.
"""

ICSI_MSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
ICSI_LARGEMSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.largemsg"
ICSI_DEFERRED = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.deferred"
SYSTEM_MESSAGE_TAG = "+g.oma.cpm.system-message"
