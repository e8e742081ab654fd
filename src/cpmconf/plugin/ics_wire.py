"""ICS against the wire: what the SUT's own messages show about the features its ICS claims.

Owns one pure function, `observe`, over the ICS items a target profile claims and the
evidence of a run's tests (the captured messages in the results JSON). It reads only
messages the SUT sent:

- the ICSIs in the `+g.3gpp.icsi-ref` of its REGISTER Contact (msg, largemsg, deferred);
- its `Allow` header (MESSAGE for pager mode, INVITE for large message mode);
- its `Accept` header (listing message/imdn+xml shows disposition notifications);
- its final answers to large-mode and deferred requests, and large-mode INVITEs it sent.

Each observation says whether the wire shows the feature; one that disagrees with the claim
is a mismatch. Only evidence that really points one way counts: a rejected INVITE can have
many causes, so a refusal never shows a feature is absent, while a missing ICSI in a
REGISTER Contact or a missing method in Allow does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cpmconf.codec.cpm import ICSI_DEFERRED, ICSI_LARGEMSG, ICSI_MSG

# ICSI -> the ICS item it advertises. "deferred" stands for any of the deferred-* items.
ICSI_ITEMS = {
    ICSI_MSG: "pager-mode",
    ICSI_LARGEMSG: "large-message-mode",
    ICSI_DEFERRED: "deferred",
}
DEFERRED_ITEMS = ("deferred-notify", "deferred-pull", "deferred-push", "deferred-expiry")
IMDN = "message/imdn+xml"

_COMPACT = {"m": "contact", "a": "accept-contact", "i": "call-id"}
_STATUS = re.compile(r"^SIP/2\.0\s+(\d{3})\b")


def _claimed(item: str, claims: frozenset[str]) -> bool:
    if item == "deferred":
        return any(i in claims for i in DEFERRED_ITEMS)
    return item in claims


def _headers(text: str) -> tuple[str, dict[str, list[str]]]:
    """The start line and the headers (lower-case names, folded lines joined) of a message."""
    head = text.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
    lines = head.replace("\r\n", "\n").split("\n")
    start, out, last = lines[0], {}, None
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and last:
            out[last][-1] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        last = _COMPACT.get(name.strip().lower(), name.strip().lower())
        out.setdefault(last, []).append(value.strip())
    return start, out


def _icsis(values: Iterable[str]) -> set[str]:
    """ICSIs named in header values (percent-encoded or not), as plain URNs."""
    found = set()
    joined = " ".join(values).replace("%3A", ":").replace("%3a", ":")
    for icsi in ICSI_ITEMS:
        # A name must not match as a prefix of a longer one (msg vs largemsg is safe; be exact).
        if re.search(re.escape(icsi) + r"(?![\w.-])", joined):
            found.add(icsi)
    return found


def _tokens(values: Iterable[str]) -> set[str]:
    return {
        t.strip().split(";")[0].strip().lower() for v in values for t in v.split(",") if t.strip()
    }


def _line(text: str, header: str) -> str:
    for raw in text.replace("\r\n", "\n").split("\n"):
        name = raw.partition(":")[0].strip().lower()
        if _COMPACT.get(name, name) == header:
            return raw[:300]
    return text.split("\r\n", 1)[0][:300]


def observe(claims: Iterable[str], tests: list[dict]) -> dict:
    """The `ics_wire` section of a results document (see docs/results-schema.md)."""
    claims = frozenset(claims)
    seen: dict[tuple, dict] = {}

    def note(item, wire, source, detail, test, msg, header):
        key = (item, wire, source, detail)
        if key in seen:
            seen[key]["count"] += 1
            return
        seen[key] = {
            "item": item,
            "claimed": _claimed(item, claims),
            "wire": wire,
            "source": source,
            "detail": detail,
            "test": test.get("id"),
            "message": msg.get("index"),
            "excerpt": _line(msg.get("text", ""), header) if header else "",
            "count": 1,
        }

    for t in tests:
        msgs = [m for m in t.get("evidence", {}).get("messages", []) if m.get("protocol") == "SIP"]
        parsed = [(m, *_headers(str(m.get("text") or ""))) for m in msgs]
        requests: dict[tuple, tuple[dict, str, set[str]]] = {}
        for m, start, h in parsed:
            if not m.get("from_sut") and not _STATUS.match(start):
                method = start.split(" ", 1)[0]
                wanted = _icsis(h.get("accept-contact", []) + h.get("p-preferred-service", []))
                key = (" ".join(h.get("call-id", [])), " ".join(h.get("cseq", [])))
                requests[key] = (m, method, wanted)
        for m, start, h in parsed:
            if not m.get("from_sut"):
                continue
            status = _STATUS.match(start)
            method = None if status else start.split(" ", 1)[0]
            if method == "REGISTER":
                shown = _icsis(h.get("contact", []))
                for icsi, item in ICSI_ITEMS.items():
                    detail = f"{'has' if icsi in shown else 'lacks'} ICSI {icsi}"
                    note(item, icsi in shown, "REGISTER Contact", detail, t, m, "contact")
            if "allow" in h:
                allowed = _tokens(h["allow"])
                for verb, item in (("message", "pager-mode"), ("invite", "large-message-mode")):
                    if verb not in allowed and _claimed(item, claims):
                        detail = f"Allow lacks {verb.upper()}"
                        note(item, False, "Allow", detail, t, m, "allow")
            if "accept" in h and h["accept"] != [""]:
                # Only listing it is evidence: IMDNs usually travel inside message/cpim, so an
                # Accept without message/imdn+xml says nothing about disposition support.
                accepted = _tokens(h["accept"])
                if IMDN in accepted:
                    note(
                        "disposition-notification",
                        True,
                        "Accept",
                        f"Accept lists {IMDN}",
                        t,
                        m,
                        "accept",
                    )
            if method == "INVITE" and ICSI_LARGEMSG in _icsis(
                h.get("accept-contact", []) + h.get("p-preferred-service", [])
            ):
                note(
                    "large-message-mode",
                    True,
                    "INVITE sent",
                    "sent a large-mode INVITE",
                    t,
                    m,
                    "accept-contact",
                )
            if status and 200 <= int(status.group(1)) < 300:
                key = (" ".join(h.get("call-id", [])), " ".join(h.get("cseq", [])))
                req = requests.get(key)
                if req is None:
                    continue
                _, req_method, wanted = req
                for icsi in wanted & {ICSI_LARGEMSG, ICSI_DEFERRED}:
                    item = ICSI_ITEMS[icsi]
                    detail = f"answered {status.group(1)} to {req_method} for {icsi}"
                    note(item, True, f"{req_method} answer", detail, t, m, "")
    observations = sorted(seen.values(), key=lambda o: (o["item"], o["source"], o["detail"]))
    return {
        "claims": sorted(claims),
        "observations": observations,
        "mismatches": [o for o in observations if o["claimed"] != o["wire"]],
    }
