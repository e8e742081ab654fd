"""The ladder diagram of a test: one lane per entity, one numbered arrow per captured message.

Owns naming who sent and who received each captured message, from the results document
alone. The test system plays every peer on one SIP port, so the wire's addresses tell only
"test system" from "SUT"; the lane of the test system's side comes from the message and the
run's entity map (`run.entities`, `run.addresses`):

- a request the test system sent: the device whose +sip.instance its Contact carries, the
  IWF or an originator by its From, else the core;
- a request the SUT sent: the device whose GRUU (or contact user) its Request-URI names,
  the IWF, an originator or user by Request-URI, else the core; it went through the core
  (the SUT's outbound proxy), so the core lane gets a dot on the way;
- a response: the lane of the request it answers (same Call-ID, CSeq and Via branch);
- MSRP: the test system's MSRP peer.

The SUT's side is its PF or client lane, told apart by port. The offending messages (those
a finding quotes) are numbered in red and highlighted.
"""

from __future__ import annotations

import html
import re

from cpmconf.codec.uri import aor_key, parse_uri
from cpmconf.report._common import clean, message_anchor, one_line

_ROW = 40
_TOP = 56
_LANE_W = 118
_LEFT = 70
_LABEL_CHARS = 54
WARN = "\u26a0 "
BOLD = ' font-weight="bold"'

ORDER = ["originator", "core", "pf", "client", "device", "iwf", "msrp", "other"]
_HEADER = re.compile(r"^([A-Za-z-]+)[ \t]*:[ \t]*(.*)$")
_SHORT = {"f": "from", "t": "to", "i": "call-id", "v": "via", "m": "contact"}


def _esc(value: object) -> str:
    return html.escape(clean(value), quote=True)


def _headers(text: str) -> tuple[str, dict[str, str]]:
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0].split("\n")
    out: dict[str, str] = {}
    for line in head[1:]:
        m = _HEADER.match(line)
        if m:
            name = m.group(1).lower()
            out.setdefault(_SHORT.get(name, name), m.group(2).strip())
    return (head[0] if head else ""), out


def _user(value: str) -> str:
    """The user part of a URI or name-addr, for a lane name ("" when there is none)."""
    u = parse_uri(value)
    return (u.user or "") if u is not None else ""


def _key(headers: dict[str, str]) -> tuple:
    branch = re.search(r"branch=([^;,\s]+)", headers.get("via", ""))
    return (headers.get("call-id"), headers.get("cseq"), branch.group(1) if branch else None)


class Lanes:
    """The entities of one run, and the lane of each message of a test."""

    def __init__(self, run: dict):
        ent = run.get("entities") or {}
        addr = run.get("addresses") or {}
        self.devices = [d for d in ent.get("devices") or [] if isinstance(d, dict)]
        # Addresses of record as codec.uri keys: equal keys iff same_aor.
        self.iwf = aor_key(str(ent.get("iwf") or ""))
        self.originators = {aor_key(str(o)) for o in ent.get("originators") or []}
        self.originators |= {aor_key(str(o)) for o in ent.get("blocked") or []}
        self.originators.discard(None)
        self.users = {aor_key(str(u)) for u in ent.get("users") or []} - {None}
        self.sut_ports = {
            role: int(str(a).rsplit(":", 1)[-1])
            for role, a in addr.items()
            if role in ("pf", "client") and str(a).rsplit(":", 1)[-1].isdigit()
        }
        self.msrp_port = str(addr.get("msrp", "")).rsplit(":", 1)[-1]

    def _device(self, text: str) -> str | None:
        for d in self.devices:
            inst = str(d.get("instance", ""))
            if inst and inst in text:
                return str(d.get("name"))
        for d in self.devices:
            if f"sip:{d.get('name')}@" in text:
                return str(d.get("name"))
        return None

    def _sut(self, m: dict) -> str:
        flow = m.get("flow") or []
        port = (
            flow[1]
            if m.get("from_sut") and len(flow) == 4
            else (flow[3] if len(flow) == 4 else None)
        )
        for role, p in self.sut_ports.items():
            if p == port:
                return "PF" if role == "pf" else "client"
        return "SUT"

    def _party(self, start: str, headers: dict[str, str], sent_by_sut: bool) -> tuple[str, str]:
        """(kind, lane name) of the test system's side of a request."""
        if sent_by_sut:
            parts = start.split(" ")
            ruri = parts[1] if len(parts) > 1 else ""
            dev = self._device(ruri)
            if dev:
                return "device", dev
            aor = aor_key(ruri)
            if self.iwf and aor == self.iwf:
                return "iwf", "IWF"
            if aor in self.originators:
                return "originator", _user(ruri)
            if aor in self.users:
                return "device", _user(ruri)
            return "core", "core"
        contact = headers.get("contact", "")
        dev = self._device(contact)
        if dev:
            return "device", dev
        sender = aor_key(headers.get("from", ""))
        if self.iwf and sender == self.iwf:
            return "iwf", "IWF"
        if sender is not None and sender in self.originators:
            return "originator", _user(headers.get("from", ""))
        if "cpmconf-originator" in headers.get("user-agent", ""):
            return "originator", _user(headers.get("from", "")) or "originator"
        return "core", "core"

    def arrows(self, messages: list[dict]) -> list[dict]:
        """Per message: `src`, `dst` (lane names), `via_core` and `kind` of the far side."""
        out = []
        seen: dict[tuple, tuple[str, str]] = {}
        for m in messages:
            sut = self._sut(m)
            text = str(m.get("text") or "")
            from_sut = bool(m.get("from_sut"))
            if m.get("protocol") == "MSRP" or text.startswith("MSRP "):
                kind, name = "msrp", "MSRP peer"
                via = False
            else:
                start, headers = _headers(text)
                key = _key(headers)
                if start.startswith("SIP/2.0"):
                    kind, name = seen.get(key, ("core", "core"))
                    via = False
                else:
                    kind, name = self._party(start, headers, from_sut)
                    seen[key] = (kind, name)
                    via = from_sut and kind not in ("core",)
            src, dst = (sut, name) if from_sut else (name, sut)
            out.append({"src": src, "dst": dst, "kind": kind, "via_core": via, "sut": sut})
        return out


def lane_order(arrows: list[dict]) -> list[str]:
    kinds: dict[str, str] = {}
    for a in arrows:
        far = a["dst"] if a["src"] == a["sut"] else a["src"]
        kinds.setdefault(a["sut"], "pf" if a["sut"] == "PF" else "client")
        kinds.setdefault(far, a["kind"])
        if a["via_core"]:
            kinds.setdefault("core", "core")
    rank = {k: i for i, k in enumerate(ORDER)}
    names = list(kinds)
    return sorted(names, key=lambda n: (rank.get(kinds[n], len(ORDER)), names.index(n)))


def offending(test: dict, messages: list[dict]) -> set[int]:
    """Positions of the messages a non-passing finding quotes."""
    quoted = [
        " ".join(str(f["message"]).split())
        for f in test.get("findings") or []
        if f.get("message") and f.get("verdict") in ("fail", "non-strict", "error")
    ]
    out = set()
    for pos, m in enumerate(messages):
        text = " ".join(str(m.get("text") or "").split())
        if text and any(q and (q == text or q in text or text in q) for q in quoted):
            out.add(pos)
    return out


def ladder_svg(doc: dict, test: dict, messages: list[dict], link: bool = True) -> str:
    """The SVG ladder: lanes across, numbered arrows down, offending messages in red."""
    test_id = str(test.get("id", ""))
    arrows = Lanes(doc.get("run") or {}).arrows(messages)
    lanes = lane_order(arrows)
    bad = offending(test, messages)
    xs = {name: _LEFT + _LANE_W // 2 + i * _LANE_W for i, name in enumerate(lanes)}
    width = _LEFT + _LANE_W * max(len(lanes), 2) + 8
    height = _TOP + _ROW * len(messages) + 16
    first = min(
        (m["time"] for m in messages if isinstance(m.get("time"), int | float)), default=None
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="ladder-svg" '
        f'data-lanes="{len(lanes)}" aria-label="message sequence of {_esc(test_id)}" '
        'font-family="sans-serif">'
    ]
    for name, x in xs.items():
        sut = name in ("PF", "client", "SUT")
        out.append(
            f'<g class="lane"><rect x="{x - _LANE_W // 2 + 4}" y="6" width="{_LANE_W - 8}" '
            f'height="26" rx="4" fill="{"#e3f2fd" if sut else "#eceff1"}" stroke="#90a4ae"/>'
            f'<text x="{x}" y="24" text-anchor="middle" font-size="12" font-weight="bold">'
            f"{_esc(one_line(name, 16))}</text>"
            f'<line x1="{x}" y1="32" x2="{x}" y2="{height - 6}" stroke="#90a4ae" '
            'stroke-dasharray="4 3"/></g>'
        )
    for row, (m, a) in enumerate(zip(messages, arrows, strict=True)):
        y = _TOP + _ROW * row + 14
        x1, x2 = xs[a["src"]], xs[a["dst"]]
        if x1 == x2:
            x2 = x1 + 30
        right = x2 > x1
        tip = x2 - 3 if right else x2 + 3
        back = tip - 10 if right else tip + 10
        is_bad = row in bad
        colour = "#c62828" if is_bad else ("#1565c0" if m.get("from_sut") else "#37474f")
        label = one_line(m.get("summary") or "(unparsed)", _LABEL_CHARS)
        offset = ""
        if first is not None and isinstance(m.get("time"), int | float):
            offset = f"+{(m['time'] - first) * 1000:.0f} ms"
        number = row + 1
        mid = (x1 + x2) // 2
        cls = "arrow offending" if is_bad else "arrow"
        parts = [
            f"<title>#{number} (capture index {_esc(m.get('index'))}) {_esc(m.get('summary'))}"
            f"{' (offending)' if is_bad else ''}</title>"
        ]
        if is_bad:
            lo, hi = min(x1, x2), max(x1, x2)
            parts.append(
                f'<rect class="highlight" x="{lo - 6}" y="{y - 20}" width="{hi - lo + 12}" '
                f'height="{_ROW - 2}" fill="#ffebee" stroke="#c62828" rx="3"/>'
            )
        parts += [
            f'<text x="6" y="{y - 4}" font-size="12" font-weight="bold" fill="{colour}">'
            f"{WARN if is_bad else ''}#{number}</text>",
            f'<text x="6" y="{y + 10}" font-size="9" fill="#90a4ae">{_esc(offset)}</text>',
            f'<line x1="{x1}" y1="{y}" x2="{back}" y2="{y}" stroke="{colour}" '
            f'stroke-width="{2.4 if is_bad else 1.6}"/>',
            f'<polygon points="{tip},{y} {back},{y - 5} {back},{y + 5}" fill="{colour}"/>',
            f'<text x="{mid}" y="{y - 6}" text-anchor="middle" font-size="11" fill="{colour}"'
            f"{BOLD if is_bad else ''}>{_esc(label)}</text>",
        ]
        if a["via_core"] and "core" in xs and min(x1, x2) < xs["core"] < max(x1, x2):
            parts.append(
                f'<circle cx="{xs["core"]}" cy="{y}" r="3.5" fill="#fff" stroke="{colour}">'
                "<title>through the core (the SUT's outbound proxy)</title></circle>"
            )
        body = "".join(parts)
        if link:
            body = f'<a href="#{message_anchor(test_id, m.get("index", row))}">{body}</a>'
        out.append(f'<g class="{cls}" data-number="{number}">{body}</g>')
    out.append("</svg>")
    return "".join(out)
