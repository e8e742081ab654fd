"""Offline judging: the passive checks over a stored capture, with no stimulus.

Owns `cpmconf judge CAPTURE.pcap --target FILE`: read the pcap into records
(`cpmconf.capture.records_from_pcap`), tell the SUT's messages from the others by its
addresses, apply every passive check to each message its selector picks, and build the same
results document a run builds (`cpmconf.plugin.results.build(passive=True)`), so every report
format follows. A clause no passive check judged is `not-judged-passively`.

A passive check is one registered with `passive=True` in `cpmconf.verdict.checks` (its
judgement needs no per-test knowledge). Which captured messages it applies to is its
selector: a pure function of the View and the target profile, registered here under the
check's name with `selector`. A passive check without a selector is listed in the run's
notes, never silently skipped.

This sits above report (it needs capture, verdict, plugin and report) and below cli.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scapy.error import Scapy_Exception

from cpmconf import catalogue as _catalogue
from cpmconf.capture import records_from_pcap
from cpmconf.plugin import results as _results
from cpmconf.roles.profile import Profile
from cpmconf.verdict import Expectations, Verdict, decide
from cpmconf.verdict import checks as checks_pkg
from cpmconf.verdict.checks import CHECKS, View
from cpmconf.verdict.checks.base import Seen
from cpmconf.verdict.checks.pager import is_imdn

MAX_TEXT = 16000  # evidence text per message, as in a run

# A selector yields, per message it picks, the arguments of the check call and the message's
# capture index (for the finding's evidence).
Selector = Callable[[View, Profile], Iterator[tuple[tuple, int]]]
SELECTORS: dict[str, Selector] = {}


def check_name(fn: Callable) -> str:
    """The registry key of a check function: its module (under checks) and name."""
    module = fn.__module__.removeprefix("cpmconf.verdict.checks.")
    return f"{module}.{fn.__name__}"


def selector(*names: str):
    """Register the decorated function as the selector of the named passive checks."""

    def deco(fn: Selector) -> Selector:
        for n in names:
            SELECTORS[n] = fn
        return fn

    return deco


# ---- selectors -------------------------------------------------------------------------


def _uri(value: str | None) -> str:
    text = (value or "").strip()
    if "<" in text and ">" in text:
        text = text[text.index("<") + 1 : text.index(">")]
    return text.split(";", 1)[0].strip().lower()


def _client_messages(view: View, profile: Profile) -> Iterator[Seen]:
    """Pager-mode MESSAGEs the SUT's client user originated (not IMDNs, not PF deliveries)."""
    if profile.client is None:
        return
    user = _uri(profile.client.user)
    seen = set()
    for s in view.items:
        m = s.message
        if not (s.from_sut and m.is_request and m.method == "MESSAGE"):
            continue
        key = (m.call_id, m.cseq)
        if key in seen or _uri(m.header("From")) != user or is_imdn(m):
            continue
        seen.add(key)
        yield s


@selector(
    "pager.accept_contact_msg_icsi",
    "pager.p_preferred_service_msg",
    "pager.body_is_cpim",
    "pager.typed_cpim",
)
def client_pager_message(view: View, profile: Profile):
    for s in _client_messages(view, profile):
        yield (s.message,), s.index


@selector("pager.user_agent_release")
def client_pager_message_with_release(view: View, profile: Profile):
    for s in _client_messages(view, profile):
        yield (s.message, profile.client.release), s.index


@selector("pager.server_release")
def client_200_to_message(view: View, profile: Profile):
    """The client SUT's 200 answers to MESSAGEs addressed to its user."""
    if profile.client is None:
        return
    user = _uri(profile.client.user)
    seen = set()
    for s in view.items:
        m = s.message
        if not s.from_sut or m.is_request or m.status != 200:
            continue
        if m.cseq[1].upper() != "MESSAGE" or _uri(m.header("To")) != user:
            continue
        if (m.call_id, m.cseq) in seen:
            continue
        seen.add((m.call_id, m.cseq))
        yield (m, profile.client.release), s.index


def _is_deregistration(m) -> bool:
    contact = (m.header("Contact") or "").strip()
    expires = (m.header("Expires") or "").strip()
    return contact == "*" or expires == "0" or ";expires=0" in contact.replace(" ", "").lower()


@selector(
    "registration.register_form",
    "registration.contact_cpm_icsi",
    "registration.contact_instance",
    "registration.supported_gruu",
    "registration.require_gruu",
    "registration.contact_capabilities",
)
def client_registration(view: View, profile: Profile):
    """The client SUT's REGISTERs for its user (not de-registrations)."""
    if profile.client is None:
        return
    user = _uri(profile.client.user)
    seen = set()
    for s in view.items:
        m = s.message
        if not (s.from_sut and m.is_request and m.method == "REGISTER"):
            continue
        if _uri(m.header("From")) != user or _is_deregistration(m) or (m.call_id, m.cseq) in seen:
            continue
        seen.add((m.call_id, m.cseq))
        yield (m,), s.index


# ---- judging ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    capture: Path
    profile: Profile
    profile_path: str
    sut: tuple[tuple[str, int], ...]  # the SUT's addresses (host, port)


def parse_address(text: str) -> tuple[str, int]:
    """HOST:PORT as a tuple; ValueError naming the text if it is not one."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def sut_addresses(profile: Profile, given: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """The SUT's addresses: those given, else the profile's fixed pf and client ports."""
    out = [parse_address(a) for a in given]
    if not out:
        for role in (profile.pf, profile.client):
            if role is not None and role.address.port:
                out.append(role.address.tuple)
    if not out:
        raise ValueError(
            f"{profile.file}: the SUT's ports are not fixed in the profile (0 = ephemeral); "
            "name the SUT's addresses with --sut HOST:PORT"
        )
    return tuple(out)


def view_of(records: list, sut: Iterable[tuple[str, int]]) -> View:
    """A View in which a message is the SUT's when its source is one of the SUT's addresses."""
    sut = set(sut)
    items, errors, msrp = [], [], []
    for r in records:
        if r.message is None:
            if r.error:
                errors.append(str(r.error))
            continue
        from_sut = (r.flow[0], r.flow[1]) in sut
        seen = Seen(index=r.index, time=r.time, from_sut=from_sut, message=r.message)
        (msrp if r.protocol == "MSRP" else items).append(seen)
    return View(items, errors, msrp)


def evidence_messages(records: list, sut: Iterable[tuple[str, int]]) -> list[dict]:
    sut = set(sut)
    return [
        {
            "index": r.index,
            "time": r.time,
            "transport": r.transport,
            "flow": list(r.flow),
            "protocol": r.protocol,
            "from_sut": (r.flow[0], r.flow[1]) in sut,
            "summary": r.message.summary() if r.message is not None else f"unparseable: {r.error}",
            "text": r.raw[:MAX_TEXT].decode("utf-8", "replace"),
        }
        for r in records
    ]


def passive_checks() -> dict[str, list]:
    """Every passive check by name, with the Check entries (one per clause) it registered."""
    # Checks register on import; a test run imports them through its cases, judge must itself.
    for mod in pkgutil.iter_modules(checks_pkg.__path__):
        importlib.import_module(f"{checks_pkg.__name__}.{mod.name}")
    out: dict[str, list] = {}
    for entries in CHECKS.values():
        for c in entries:
            if c.passive:
                out.setdefault(check_name(c.fn), []).append(c)
    return out


def judge(opts: Options, cat: _catalogue.Catalogue | None = None) -> dict:
    """The results document for the capture: one test per passive check that applied."""
    started = datetime.now(UTC)
    cat = cat or _catalogue.load()
    try:
        records = records_from_pcap(str(opts.capture))
    except (Scapy_Exception, EOFError) as exc:
        raise ValueError(f"not a readable pcap: {exc}") from exc
    view = view_of(records, opts.sut)
    messages = evidence_messages(records, opts.sut)
    tests, notes = [], []
    for name, entries in sorted(passive_checks().items()):
        select = SELECTORS.get(name)
        clauses = [c.clause for c in entries if c.clause in cat]
        if select is None:
            notes.append(f"passive check {name} ({', '.join(clauses)}) has no selector yet")
            continue
        if not clauses:
            continue
        exp = Expectations({c: (cat.get(c).level, cat.get(c).summary) for c in clauses})
        fn = entries[0].fn
        applied = []
        for args, index in select(view, opts.profile):
            judgement = fn(*args)
            applied.append(index)
            for clause in clauses:
                exp.judge(clause, judgement)
        if not applied:
            continue
        decision = decide(clauses, exp.findings)  # the same rule as a conformance run
        verdicts, reason = decision.clauses, decision.reason
        if decision.verdict == Verdict.INCONCLUSIVE:
            reason = "the selected messages gave the check nothing to judge: " + reason
        tests.append(
            {
                "id": f"passive::{name}",
                "name": name,
                "clauses": clauses,
                "verdict": decision.verdict.value,
                "reason": reason,
                "cause": decision.cause.value if decision.cause else None,
                "clause_verdicts": {k: v.value for k, v in verdicts.items()},
                "findings": [f.to_json() for f in exp.findings],
                "evidence": {
                    "stimuli": [],
                    "messages": messages,
                    "pcap": None,
                    "notes": [f"judged on capture message(s) {', '.join(map(str, applied))}"],
                },
                "duration": 0.0,
            }
        )
    run = {
        "target": opts.profile.name,
        "profile": opts.profile_path,
        "sut": ", ".join(f"{h}:{p}" for h, p in opts.sut),
        "faults": [],
        "capture": {
            "mode": "pcap",
            "reason": "; ".join(
                ["offline judging of a stored capture, passive checks only", *notes]
            ),
        },
        "capture_file": str(opts.capture),
    }
    return _results.build(cat, tests, run, started, ics=opts.profile.ics, passive=True)
