"""What the client remembers of each sent and received message (the upper tester's
/messages entries), shared by pager and large message mode."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Record:
    """One sent or received message as /messages shows it, plus what replies need."""

    id: str
    direction: str
    call_id: str
    from_: str | None
    to: str | None
    conversation_id: str | None
    contribution_id: str | None
    in_reply_to: str | None
    reply_to: str | None
    content_type: str | None
    text: str | None
    message_uid: int | None
    mode: str = "pager"
    status: int | str | None = None  # SIP final status; "msrp-..." when the MSRP part failed
    originator: str | None = field(default=None, repr=False)  # not shown: reply target

    def public(self) -> dict[str, Any]:
        d = asdict(self)
        d["from"] = d.pop("from_")
        d.pop("originator")
        return d
