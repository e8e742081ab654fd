"""What a step returns: identifiers, never message objects.

`Ids` names one SIP request on the wire (Call-ID, CSeq, top Via branch); a test case finds
the captured copy of the request, and the SUT's answers to it, in the settled View by them
(`view.find(ids)`, `view.final_to(ids.call_id, ids.cseq)`). The step modules define their
own result dataclasses from these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ids:
    """The identifiers of one SIP request (either side's)."""

    call_id: str
    cseq: tuple[int, str]
    branch: str | None = None

    @classmethod
    def of(cls, msg) -> Ids | None:
        """The identifiers of a request (a parsed message, a stimulus); None for None."""
        if msg is None:
            return None
        msg = getattr(msg, "message", msg)
        return cls(msg.call_id, msg.cseq, msg.branch)

    @property
    def method(self) -> str:
        return self.cseq[1]


def status_of(response) -> int | None:
    """The status of a response a socket handed a step (None: no response)."""
    return None if response is None else response.status
