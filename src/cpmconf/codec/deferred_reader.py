"""Reading the Message-URI-IDs a deferred-messages body lists: ours (the cpmconf
deferred-messages list, validated against its schema) by default, or a product's own body by
the XPath its profile gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cpmconf.codec.deferred_messages import CONTENT_TYPE as LIST_TYPE
from cpmconf.codec.deferred_messages import DeferredList, ids_by_xpath, validate
from cpmconf.codec.errors import CodecError


@dataclass(frozen=True)
class Found:
    """What a body told: the ids (in order), problems that make it unreadable, and notes."""

    ids: list[str]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ListReader:
    """Reads Message-URI-IDs from a body: ours by default, else by the profile's XPath."""

    xpath: str | None = None
    namespaces: dict[str, str] = field(default_factory=dict)

    def read(self, msg) -> Found:
        body = msg.body
        if not body:
            return Found([], ["no body"])
        if self.xpath:
            try:
                ids = ids_by_xpath(body, self.xpath, self.namespaces)
            except CodecError as exc:
                return Found([], [str(exc)])
            note = [f"ids read with the profile's XPath {self.xpath!r}"]
            return Found(ids, [] if ids else ["the XPath found no Message-URI-ID"], note)
        ctype = (msg.content_type or "").lower()
        if ctype != LIST_TYPE:
            return Found([], [f"Content-Type {ctype or 'absent'}, not {LIST_TYPE}, and no XPath"])
        try:
            doc = DeferredList.parse(body)
        except CodecError as exc:
            return Found([], [str(exc)])
        problems = validate(body)
        notes = []
        for m in doc.messages:
            if m.missing():
                notes.append(f"{m.uri_id} has no {', '.join(m.missing())} (optional)")
        return Found(doc.ids(), [f"schema: {p}" for p in problems], notes)
