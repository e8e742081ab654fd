"""Offline judging: the passive checks over a stored capture, with no stimulus.

Owns `cpmconf judge CAPTURE --target FILE`: read the capture once, in a single streaming
pass (`cpmconf.capture.stream.wire_messages`: the capture layer's TCP reassembly, no scapy
packets), tell the SUT's messages from the others by its addresses, apply every passive
check to each message its selector picks, and build the same results document a run builds
(`cpmconf.plugin.results.build(passive=True)`), so every report format follows. A clause no
passive check judged is `not-judged-passively`.

Scale: memory does not grow with the capture. Messages are not kept; only the SUT's
messages a selector picks are parsed in full (the others are read with a cheap look at the
start line and a few headers); requests awaiting the SUT's answer sit in a bounded table;
and each check keeps the first `KEEP` findings per clause and verdict with counts of the
rest. Evidence is by reference: every finding names its capture frame number (as tshark
numbers frames), and a test's evidence holds only the messages its kept findings cite;
`write_slices` (CLI `--slices`) adds, per check, a pcap of those frames.

A passive check is one registered with `passive=True` in `cpmconf.verdict.checks` (its
judgement needs no per-test knowledge). Which captured messages it applies to is its
selector, registered here under the check's name with `selector`: a function of one
captured `Item` and the judging `Context` (profile, SUT and core addresses, the requests
the SUT was sent) that yields, per judgement, the check's arguments and the frame number
of the judged message. A passive check without a selector is listed in the run's notes,
never silently skipped.

The SUT's addresses come from `--sut`, from a finished run (`--from-run DIR`: its
compliance.json, else the SUT's own messages in its evidence), from the profile's fixed
ports, or else from the capture: the senders whose Server or User-Agent names a CPM release
of the profile (`discover_sut`, which reads a bounded head of the capture and says what it
chose).

This sits above report (it needs capture, verdict, plugin and report) and below cli.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from cpmconf import catalogue as _catalogue
from cpmconf.capture.stream import WireMessage, copy_frames, wire_messages
from cpmconf.capture.view import Seen, View
from cpmconf.codec.cpm import ICSI_DEFERRED as _ICSI_DEFERRED
from cpmconf.codec.cpm import ICSI_LARGEMSG, SYSTEM_MESSAGE_TAG, icsi_suffix
from cpmconf.codec.sip import SipMessage
from cpmconf.codec.uri import AorKey, aor_key, parse_uri, same_aor
from cpmconf.plugin import results as _results
from cpmconf.roles.profile import Profile
from cpmconf.verdict import Expectations, Verdict, decide, excerpt
from cpmconf.verdict import checks as checks_pkg
from cpmconf.verdict.checks import CHECKS
from cpmconf.verdict.checks.pager import is_imdn

MAX_TEXT = 4000  # evidence text per cited message
KEEP = 20  # findings (and frame numbers) kept per check, clause and verdict
PENDING = 100_000  # requests to the SUT awaiting its answer, oldest dropped first
RECENT = 65_536  # keys remembered to skip retransmissions
DISCOVER_MESSAGES = 50_000  # head of the capture read to find the SUT by Server/User-Agent

Address = tuple[str, int]
Selector = Callable[["Item", "Context"], Iterable[tuple[tuple, int]]]
SELECTORS: dict[str, Selector] = {}

# Byte tails of the ICSIs, found in raw header text whether percent-encoded or not.
ICSI_LARGE = icsi_suffix(ICSI_LARGEMSG)
ICSI_DEFERRED = icsi_suffix(_ICSI_DEFERRED)
_COMPACT = {
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "v": "via",
    "c": "content-type",
    "l": "content-length",
    "a": "accept-contact",
    "k": "supported",
}


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


# ---- a cheap look at a SIP message -----------------------------------------------------


_LONG = {v: k for k, v in _COMPACT.items()}
_HEADER_RE: dict[str, re.Pattern] = {}


def _header_re(name: str) -> re.Pattern:
    """A header line by its long or compact name, at a line start (case-insensitive)."""
    pattern = _HEADER_RE.get(name)
    if pattern is None:
        names = [re.escape(name.encode())]
        if name in _LONG:
            names.append(re.escape(_LONG[name].encode()))
        alt = b"|".join(names)
        pattern = re.compile(rb"\n(?:" + alt + rb")[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)
        _HEADER_RE[name] = pattern
    return pattern


class Peek:
    """The start line and a few headers of raw SIP bytes, found by a search in the header
    section, not parsed (no URI, no parameters, folded lines not joined): enough to decide
    whether a message needs the full parse."""

    __slots__ = ("first", "_head", "_cache")

    def __init__(self, raw: bytes) -> None:
        end = raw.find(b"\r\n\r\n")
        head = raw if end < 0 else raw[: end + 2]
        nl = head.find(b"\r\n")
        self.first = head if nl < 0 else head[:nl]
        self._head = head
        self._cache: dict[str, list[str]] = {}

    @property
    def is_request(self) -> bool:
        return not self.first.startswith(b"SIP/2.0 ")

    @property
    def method(self) -> str:
        return self.first.split(b" ", 1)[0].decode("latin-1") if self.is_request else ""

    @property
    def status(self) -> int:
        if self.is_request:
            return 0
        code = self.first[8:11]
        return int(code) if code.isdigit() else 0

    def all(self, name: str) -> list[str]:
        values = self._cache.get(name)
        if values is None:
            found = _header_re(name).findall(self._head)
            values = [v.decode("latin-1").strip() for v in found]
            self._cache[name] = values
        return values

    def get(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    @property
    def key(self) -> tuple[str, str]:
        """(Call-ID, CSeq) as written: ties a response to its request."""
        return (self.get("call-id") or "", " ".join((self.get("cseq") or "").split()))


def _has_tag(value: str | None) -> bool:
    return bool(value) and ";tag=" in value.replace(" ", "").lower()


@dataclass(slots=True)
class Request:
    """What judging needs to remember of a request sent to the SUT, until it is answered."""

    method: str
    frame: int
    from_uri: str  # as written, for the record
    sender: AorKey  # the From's address of record (codec.uri.aor_key)
    recipient: AorKey  # the To's
    kind: str  # pager | large | handling | other
    blocked: bool = False


class Item:
    """One captured SIP message as the selectors see it; `message` parses on first use."""

    __slots__ = ("wire", "peek", "from_sut", "request", "_message", "kinds", "deferral", "role")

    def __init__(self, wire: WireMessage, from_sut: bool) -> None:
        self.wire = wire
        self.peek = Peek(wire.raw)
        self.from_sut = from_sut
        self.request: Request | None = None
        self._message: Seen | None | bool = False
        self.kinds: dict[str, str | None] = {}  # what selectors worked out, once per item
        self.deferral: Item | None = None  # for a notification: the answer it is about
        self.role: str | None = None  # pf | client, for the SUT's messages

    @property
    def frame(self) -> int:
        return self.wire.frame

    @property
    def message(self) -> Seen | None:
        """The parsed message as a View item (what a check accepts), with its frame."""
        if self._message is False:
            w = self.wire
            try:
                self._message = Seen.captured(
                    w.frame, w.time, self.from_sut, SipMessage.parse(w.raw), w.flow
                )
            except Exception:  # a codec error or bug: the message is simply not judged
                self._message = None
        return self._message  # type: ignore[return-value]


class Bounded(OrderedDict):
    """A dict that forgets its oldest entries beyond `RECENT` (per-user memory of a capture
    with millions of users stays bounded)."""

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        if len(self) > RECENT:
            self.popitem(last=False)


@dataclass
class Context:
    """What selectors share: the profile, the addresses, and bounded memory of the past."""

    profile: Profile
    sut: set[Address]
    core: Address | None = None
    pending: OrderedDict = field(default_factory=OrderedDict)
    recent: dict[str, OrderedDict] = field(default_factory=dict)
    last_final: dict[AorKey, Item] = field(default_factory=Bounded)
    unparseable: int = 0
    roles: dict[Address, str] = field(default_factory=Bounded)  # SUT address -> pf | client
    awaiting: dict[AorKey, int] = field(default_factory=Bounded)  # user -> MESSAGEs unanswered
    addressed: dict[Address, str] = field(default_factory=Bounded)  # role by what it was sent
    copied_at: dict[AorKey, int] = field(default_factory=Bounded)  # user -> its last copy's frame

    def learn_from_request(self, item: Item) -> None:
        """A request sent to a SUT address says its role: one to the client's own user goes
        to the client, any other (to a PF user, the deferred-message address) to the PF."""
        dst = (item.wire.flow[2], item.wire.flow[3])
        if dst in self.addressed or item.peek.method in ("ACK", "BYE", "CANCEL", "OPTIONS"):
            return
        client = self.profile.client
        to = item.peek.get("to")
        if client is not None and same_aor(to, client.user):
            self.addressed[dst] = "client"
        elif self.profile.pf is not None and aor_key(to) is not None:
            self.addressed[dst] = "pf"

    def role_of(self, item: Item) -> str | None:
        """pf or client: which of the SUT's roles sent the item, learned from the Server or
        User-Agent its address sends (a capture can hold an embedded PF and client both)."""
        w, p = item.wire, item.peek
        src = (w.flow[0], w.flow[1])
        product = (p.get("user-agent") if p.is_request else p.get("server")) or ""
        product = product.lower()
        if product and "cpmconf" not in product:
            for role, target in (("pf", self.profile.pf), ("client", self.profile.client)):
                if target is not None and product.startswith(target.release.lower()):
                    self.roles.setdefault(src, role)
        role = self.roles.get(src) or self.addressed.get(src)
        if role is None:
            only = [r for r, t in (("pf", self.profile.pf), ("client", self.profile.client)) if t]
            role = only[0] if len(only) == 1 else None
        return role

    def once(self, space: str, key) -> bool:
        """True the first time `key` is seen in `space` (within the last RECENT keys)."""
        seen = self.recent.setdefault(space, OrderedDict())
        if key in seen:
            return False
        seen[key] = None
        if len(seen) > RECENT:
            seen.popitem(last=False)
        return True

    def blocked_by(self, recipient: AorKey, originator: AorKey) -> bool:
        for user in self.profile.users:
            if aor_key(user.uri) == recipient:  # keys: equal iff same_aor
                return originator in {aor_key(b) for b in user.blocked}
        return False

    def ics(self, item: str) -> bool:
        return item in self.profile.ics


# ---- selectors: the client SUT -------------------------------------------------------------


def _memo(item: Item, key: str, fn: Callable[[], object]):
    """What `fn` says about the item, worked out once however many selectors ask (the
    retransmission filter in it must run once per message, not once per check)."""
    if key not in item.kinds:
        item.kinds[key] = fn()
    return item.kinds[key]


def _client_message(item: Item, ctx: Context) -> SipMessage | None:
    """A pager-mode MESSAGE the client SUT's user originated (not an IMDN), once."""

    def work() -> SipMessage | None:
        client = ctx.profile.client
        p = item.peek
        if client is None or item.role != "client" or p.method != "MESSAGE":
            return None
        if not same_aor(p.get("from"), client.user) or not ctx.once("client-msg", p.key):
            return None
        m = item.message
        return None if m is None or is_imdn(m) else m

    return _memo(item, "client-msg", work)


@selector(
    "pager.accept_contact_msg_icsi",
    "pager.p_preferred_service_msg",
    "pager.body_is_cpim",
)
def client_pager_message(item: Item, ctx: Context):
    m = _client_message(item, ctx)
    if m is not None:
        yield (m,), item.frame


@selector("pager.typed_cpim")
def client_one_to_one_message(item: Item, ctx: Context):
    """As above, but not an ad-hoc group MESSAGE: its body is multipart (list and CPIM)."""
    m = _client_message(item, ctx)
    if m is not None and not (item.peek.get("content-type") or "").lower().startswith("multip"):
        yield (m,), item.frame


@selector("pager.user_agent_release")
def client_pager_message_with_release(item: Item, ctx: Context):
    m = _client_message(item, ctx)
    if m is not None:
        yield (m, ctx.profile.client.release), item.frame


@selector("pager.server_release")
def client_200_to_message(item: Item, ctx: Context):
    """The client SUT's 200 answers to MESSAGEs addressed to its user."""
    client = ctx.profile.client
    p = item.peek
    if client is None or item.role != "client" or p.status != 200:
        return
    if not (p.get("cseq") or "").upper().endswith("MESSAGE"):
        return
    if not same_aor(p.get("to"), client.user):
        return
    if not _memo(item, "client-200", lambda: ctx.once("client-200", p.key)):
        return
    if item.message is not None:
        yield (item.message, client.release), item.frame


def _is_deregistration(p: Peek) -> bool:
    contact = (p.get("contact") or "").strip()
    expires = (p.get("expires") or "").strip()
    return contact == "*" or expires == "0" or ";expires=0" in contact.replace(" ", "").lower()


@selector(
    "registration.register_form",
    "registration.contact_cpm_icsi",
    "registration.contact_instance",
    "registration.supported_gruu",
    "registration.require_gruu",
    "registration.contact_capabilities",
)
def client_registration(item: Item, ctx: Context):
    """The client SUT's REGISTERs for its user (not de-registrations)."""
    client = ctx.profile.client
    p = item.peek
    if client is None or item.role != "client" or p.method != "REGISTER":
        return
    if not same_aor(p.get("from"), client.user) or _is_deregistration(p):
        return
    first = _memo(item, "client-reg", lambda: ctx.once("client-reg", p.key))
    if first and item.message is not None:
        yield (item.message,), item.frame


# ---- selectors: the PF SUT -----------------------------------------------------------------


def _pf_final(item: Item, ctx: Context, kind: str) -> Request | None:
    """The request of the given kind this PF final response answers, or None."""
    if ctx.profile.pf is None or item.role != "pf" or item.peek.status < 200:
        return None
    req = item.request
    return req if req is not None and req.kind == kind else None


@selector("pf_passive.blocked_refused")
def pf_answer_to_blocked(item: Item, ctx: Context):
    req = _pf_final(item, ctx, "pager")
    if req is not None and req.blocked and item.message is not None:
        yield (item.message, req.from_uri), item.frame


@selector("pf_passive.blocked_403_warning")
def pf_403_to_blocked(item: Item, ctx: Context):
    req = _pf_final(item, ctx, "pager")
    if req is not None and req.blocked and item.peek.status == 403 and item.message:
        yield (item.message,), item.frame


@selector("pf_passive.handling_488_warning")
def pf_488_to_handling(item: Item, ctx: Context):
    req = _pf_final(item, ctx, "handling")
    if req is not None and item.peek.status == 488 and item.message is not None:
        yield (item.message,), item.frame


@selector("pf_passive.uid_in_200")
def pf_200_to_pager(item: Item, ctx: Context):
    req = _pf_final(item, ctx, "pager")
    if req is None or req.blocked or item.peek.status != 200:
        return
    if ctx.ics("recording-originating") and item.message is not None:
        yield (item.message,), item.frame


@selector("pf_passive.large_200_server")
def pf_200_to_large(item: Item, ctx: Context):
    req = _pf_final(item, ctx, "large")
    if req is not None and item.peek.status == 200 and item.message is not None:
        yield (item.message, ctx.profile.pf.release), item.frame


def _pf_initial(item: Item, ctx: Context, method: str) -> bool:
    """An initial request (no To tag) of `method` the PF sent, the first copy of it."""
    p = item.peek
    if ctx.profile.pf is None or item.role != "pf" or p.method != method:
        return False
    return not _has_tag(p.get("to")) and ctx.once(f"pf-{method}", p.key)


def _kind_of_pf_message(item: Item, ctx: Context) -> str:
    """notification | copy | other, for a MESSAGE the PF sent (cached on the item)."""
    p = item.peek
    ctype = (p.get("content-type") or "").lower()
    accept = " ".join(p.all("accept-contact")).lower()
    sender = {aor_key(p.get("from")), aor_key(p.get("p-asserted-identity"))}
    pf = ctx.profile.pf
    if "deferred" in ctype or SYSTEM_MESSAGE_TAG in accept or aor_key(pf.server_identity) in sender:
        return "notification"
    ruri = p.first.split(b" ")[1].decode("latin-1") if p.first.count(b" ") >= 2 else ""
    iwf = pf.deferred.iwf if pf.deferred is not None else None
    if iwf and same_aor(ruri, iwf):
        return "other"  # interworking: leaves the CPM domain, no device behind it
    if ctype.startswith("message/cpim") and b"imdn" in item.wire.raw[:4096].lower():
        m = item.message
        if m is not None and is_imdn(m):
            return "other"  # a disposition notification passed back to the sender
    return "copy"


def _note_copy(item: Item, ctx: Context, kind: str | None) -> None:
    """A copy to a user means the MESSAGE to that user was forwarded, not deferred."""
    if kind == "copy":
        ctx.copied_at[aor_key(item.peek.get("to"))] = item.frame


def _pf_kind(item: Item, ctx: Context) -> str | None:
    """The kind of a PF-sent initial MESSAGE (None for anything else), worked out once."""
    if "message" not in item.kinds:
        kind = None
        if _pf_initial(item, ctx, "MESSAGE"):
            kind = _kind_of_pf_message(item, ctx)
            _note_copy(item, ctx, kind)
            if kind == "notification":
                # The MESSAGE this notification is about is the last one the PF answered
                # for its recipient: that answer is judged now (202 on deferral).
                item.deferral = ctx.last_final.pop(aor_key(item.peek.get("to")), None)
        item.kinds["message"] = kind
    return item.kinds["message"]


@selector("deferred.system_message_tag")
def pf_notification_tag(item: Item, ctx: Context):
    if _pf_kind(item, ctx) == "notification" and item.message is not None:
        yield (item.message,), item.frame


@selector("pf_passive.notification_user_agent")
def pf_notification_release(item: Item, ctx: Context):
    if _pf_kind(item, ctx) == "notification" and item.message is not None:
        yield (item.message, ctx.profile.pf.release), item.frame


@selector("pf_passive.notification_via_core")
def pf_notification_route(item: Item, ctx: Context):
    if _pf_kind(item, ctx) == "notification" and item.message is not None:
        yield _route_args(item, ctx), item.frame


@selector("pf_passive.deferral_202")
def pf_deferral_answer(item: Item, ctx: Context):
    if _pf_kind(item, ctx) == "notification":
        prior = item.deferral
        if prior is not None and prior.message is not None:
            yield (prior.message,), prior.frame


@selector("pf_passive.copy_to_gruu")
def pf_copy_gruu(item: Item, ctx: Context):
    if _pf_kind(item, ctx) == "copy" and item.message is not None:
        yield (item.message,), item.frame


@selector("pf_passive.uid_in_copy")
def pf_copy_uid(item: Item, ctx: Context):
    """Copies forwarded while the originator's MESSAGE to that user awaits the PF's answer
    (a live forward; a stored message delivered later is not judged here)."""
    if _pf_kind(item, ctx) != "copy" or not ctx.ics("recording-terminating"):
        return
    if ctx.awaiting.get(aor_key(item.peek.get("to")), 0) > 0 and item.message is not None:
        yield (item.message,), item.frame


@selector("pf_passive.copy_via_core")
def pf_copy_route(item: Item, ctx: Context):
    if _pf_kind(item, ctx) == "copy" and item.message is not None:
        yield _route_args(item, ctx), item.frame


def _route_args(item: Item, ctx: Context) -> tuple:
    w = item.wire
    return (item.message, (w.flow[2], w.flow[3]), ctx.core, ctx.profile.pf.core_uri)


def _pf_invite_kind(item: Item, ctx: Context) -> str | None:
    """push | large for a PF-sent initial INVITE by its Accept-Contact ICSI, once per item."""
    if "invite" not in item.kinds:
        kind = None
        if _pf_initial(item, ctx, "INVITE"):
            p = item.peek
            # A push names the deferred ICSI in Accept-Contact or, if that is wrong, Contact.
            accept = " ".join(p.all("accept-contact")).encode("latin-1").lower()
            contact = " ".join(p.all("contact")).encode("latin-1").lower()
            if ICSI_DEFERRED in accept or ICSI_DEFERRED in contact:
                kind = "push"
            elif ICSI_LARGE in accept:
                kind = "large"
        item.kinds["invite"] = kind
    return item.kinds["invite"]


@selector("pf_passive.large_invite_to_gruu")
def pf_large_invite_gruu(item: Item, ctx: Context):
    if _pf_invite_kind(item, ctx) == "large" and item.message is not None:
        yield (item.message,), item.frame


@selector("pf_passive.push_invite_to_gruu")
def pf_push_invite_gruu(item: Item, ctx: Context):
    if _pf_invite_kind(item, ctx) == "push" and item.message is not None:
        yield (item.message,), item.frame


@selector(
    "deferred.push_accept_contact",
    "deferred.push_contact_icsi",
    "deferred.push_contact_automata",
    "deferred.push_session_expires",
    "deferred.push_offer_sendonly",
)
def pf_push_invite(item: Item, ctx: Context):
    if _pf_invite_kind(item, ctx) == "push" and item.message is not None:
        yield (item.message,), item.frame


@selector("pf_passive.large_invite_via_core")
def pf_large_invite_route(item: Item, ctx: Context):
    if _pf_invite_kind(item, ctx) == "large" and item.message is not None:
        yield _route_args(item, ctx), item.frame


@selector("pf_passive.push_invite_via_core")
def pf_push_invite_route(item: Item, ctx: Context):
    if _pf_invite_kind(item, ctx) == "push" and item.message is not None:
        yield _route_args(item, ctx), item.frame


# Which of the SUT's messages each selector can pick: (role, a request?). The loop offers a
# message only to the selectors that can pick it (most selectors reject most messages).
WHERE: dict[Callable, tuple[str, bool]] = {
    client_pager_message: ("client", True),
    client_one_to_one_message: ("client", True),
    client_pager_message_with_release: ("client", True),
    client_registration: ("client", True),
    client_200_to_message: ("client", False),
    pf_answer_to_blocked: ("pf", False),
    pf_403_to_blocked: ("pf", False),
    pf_488_to_handling: ("pf", False),
    pf_200_to_pager: ("pf", False),
    pf_200_to_large: ("pf", False),
}


# ---- addresses -------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    capture: Path
    profile: Profile
    profile_path: str
    sut: tuple[Address, ...]  # the SUT's addresses (host, port)
    core: Address | None = None  # the SIP/IP core's address, when known
    sut_source: str = "given"  # where the SUT's addresses came from (said in the results)


def parse_address(text: str) -> Address:
    """HOST:PORT as a tuple; ValueError naming the text if it is not one."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def sut_addresses(profile: Profile, given: Iterable[str], required: bool = True):
    """The SUT's addresses: those given, else the profile's fixed pf and client ports."""
    out = [parse_address(a) for a in given]
    if not out:
        for role in (profile.pf, profile.client):
            if role is not None and role.address.port:
                out.append(role.address.tuple)
    if not out and required:
        raise ValueError(
            f"{profile.file}: the SUT's ports are not fixed in the profile (0 = ephemeral); "
            "name the SUT's addresses with --sut HOST:PORT, or --from-run DIR"
        )
    return tuple(out)


@dataclass(frozen=True)
class RunFacts:
    """What a finished run's folder tells the judge: the SUT's and core's addresses."""

    sut: tuple[Address, ...]
    core: Address | None
    profile: str | None
    source: str  # where the addresses were read, said to the user


def from_run(folder: Path) -> RunFacts:
    """The SUT's addresses of a finished run: `run.sut_addresses` in its compliance.json
    when recorded there, else the sources of the messages its evidence marks as the SUT's;
    the core's from `run.core_address`, else the embedded SUT's refsut/refsut.json."""
    path = folder / "compliance.json" if folder.is_dir() else folder
    base = path.parent
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read the run's results: {exc}") from exc
    run = doc.get("run", {})
    recorded = run.get("sut_addresses")
    listening = run.get("addresses") or {}  # what the plugin records: core, msrp, pf, client
    if recorded:
        sut = tuple(parse_address(a) for a in recorded)
        source = f"{path} (run.sut_addresses)"
    else:
        seen = Counter()
        for t in doc.get("tests", []):
            for m in t.get("evidence", {}).get("messages", []):
                if m.get("from_sut") and m.get("flow"):
                    seen[(m["flow"][0], int(m["flow"][1]))] += 1
        # A SUT's own listening addresses send most; TCP source ports of its connections
        # count too (they carry its messages as well).
        roles = [parse_address(listening[r]) for r in ("pf", "client") if listening.get(r)]
        sut = tuple(dict.fromkeys([*roles, *sorted(seen)]))
        source = (
            f"{path} (run.addresses, and the sources of the SUT's messages in its evidence)"
            if roles
            else f"{path} (no run.sut_addresses: the sources of the SUT's messages in its evidence)"
        )
    if not run.get("core_address") and listening.get("core"):
        run = {**run, "core_address": listening["core"]}
    core = parse_address(run["core_address"]) if run.get("core_address") else None
    if core is None:
        refsut = base / "refsut" / "refsut.json"
        try:
            cfg = json.loads(refsut.read_text(encoding="utf-8"))
            proxy = (cfg.get("pf") or cfg.get("client") or {}).get("outbound_proxy")
            core = parse_address(proxy) if proxy else None
            if core is not None:
                source += f"; core from {refsut}"
        except (OSError, ValueError):
            core = None
    if not sut:
        raise ValueError(f"{path}: the run records no message from the SUT")
    return RunFacts(sut, core, run.get("profile"), source)


def discover_sut(capture: Path, profile: Profile) -> tuple[tuple[Address, ...], str]:
    """The SUT's addresses found in the capture's head by Server/User-Agent, and why.

    A sender counts when its Server or User-Agent names the profile's PF or client release
    and is not the test system's own product (cpmconf); per role, the address sending most
    such messages is taken (over UDP, the listening one)."""
    wanted = {
        r.release.lower(): role
        for role, r in (("pf", profile.pf), ("client", profile.client))
        if r is not None
    }
    votes: dict[str, Counter] = {role: Counter() for role in wanted.values()}
    for n, w in enumerate(wire_messages(str(capture), msrp=False)):
        if n >= DISCOVER_MESSAGES:
            break
        if w.protocol != "SIP" or w.error:
            continue
        p = Peek(w.raw)
        product = p.get("server") if not p.is_request else p.get("user-agent")
        if not product or "cpmconf" in product.lower():
            continue
        for release, role in wanted.items():
            if product.lower().startswith(release):
                votes[role][(w.flow[0], w.flow[1])] += 1
    chosen, why = [], []
    for role, counter in votes.items():
        if counter:
            address, count = counter.most_common(1)[0]
            chosen.append(address)
            why.append(f"{role} {address[0]}:{address[1]} ({count} message(s) naming its release)")
    return tuple(chosen), "; ".join(why)


# ---- judging ---------------------------------------------------------------------------


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


class Tally:
    """One passive check's findings: counts of all, the first KEEP per clause and verdict."""

    def __init__(self, name: str, fn: Callable, clauses: list[str], cat) -> None:
        self.name, self.fn, self.clauses = name, fn, clauses
        self.exp = Expectations({c: (cat.get(c).level, cat.get(c).summary) for c in clauses})
        self.counts: Counter = Counter()
        self.frames: dict[tuple[str, str], list[int]] = {}
        self.kept: list[tuple[dict, int]] = []
        self.cited: dict[int, WireMessage] = {}
        self.judged = 0

    def add(self, args: tuple, frame: int, wire: WireMessage | None) -> None:
        judgement = self.fn(*args)
        self.judged += 1
        for clause in self.clauses:
            # Recorded without the message first: the excerpt is made only for kept ones.
            finding = self.exp.record(
                clause,
                judgement.ok,
                judgement.expected,
                judgement.actual,
                None,
                judgement.note,
                getattr(judgement, "arisen", True),
            )
            key = (clause, finding.verdict.value)
            self.counts[key] += 1
            if self.counts[key] > KEEP:
                self.exp.findings.pop()  # counted, not kept
                continue
            if judgement.message is not None:
                finding = replace(finding, message=excerpt(judgement.message))
                self.exp.findings[-1] = finding
            self.frames.setdefault(key, []).append(frame)
            self.kept.append(({**finding.to_json(), "frame": frame}, frame))
            if wire is not None:
                self.cited[frame] = wire


def _evidence(wire: WireMessage, sut: set[Address]) -> dict:
    try:
        summary = SipMessage.parse(wire.raw).summary() if wire.protocol == "SIP" else wire.protocol
    except Exception as exc:
        summary = f"unparseable: {exc}"
    return {
        "index": wire.frame,
        "frame": wire.frame,
        "time": wire.time,
        "transport": wire.transport,
        "flow": list(wire.flow),
        "protocol": wire.protocol,
        "from_sut": (wire.flow[0], wire.flow[1]) in sut,
        "summary": summary,
        "text": wire.raw[:MAX_TEXT].decode("utf-8", "replace"),
    }


def judge(opts: Options, cat: _catalogue.Catalogue | None = None) -> dict:
    """The results document for the capture: one test per passive check that applied."""
    started = datetime.now(UTC)
    cat = cat or _catalogue.load()
    ctx = Context(opts.profile, set(opts.sut), opts.core)
    tallies: list[tuple[Selector, Tally]] = []
    notes = []
    for name, entries in sorted(passive_checks().items()):
        select = SELECTORS.get(name)
        clauses = [c.clause for c in entries if c.clause in cat]
        if select is None:
            notes.append(f"passive check {name} ({', '.join(clauses)}) has no selector yet")
            continue
        if clauses:
            tallies.append((select, Tally(name, entries[0].fn, clauses, cat)))
    buckets: dict[tuple[str | None, bool], list] = {}
    for role in ("pf", "client", None):
        for is_request in (True, False):
            buckets[(role, is_request)] = [
                (select, tally)
                for select, tally in tallies
                if WHERE.get(select, ("pf", True)) == (role, is_request)
            ]
    counts = Counter()
    sut_tcp: OrderedDict = OrderedDict()  # TCP ends of connections the SUT opened
    try:
        for wire in wire_messages(str(opts.capture), msrp=False):  # no check reads MSRP
            counts["messages"] += 1
            if wire.protocol != "SIP":
                counts["msrp"] += 1
                continue
            if wire.error is not None:
                counts["framing errors"] += 1
                continue
            src = (wire.flow[0], wire.flow[1])
            from_sut = src in ctx.sut or src in sut_tcp
            item = Item(wire, from_sut)
            p = item.peek
            if not p.first or b"SIP/2.0" not in p.first:
                counts["not SIP"] += 1
                continue
            if not from_sut:
                if p.is_request and (wire.flow[2], wire.flow[3]) in ctx.sut:
                    ctx.learn_from_request(item)
                    _remember_request(item, ctx)
                elif wire.transport == "tcp" and p.is_request and _via_is_sut(p, ctx):
                    # A connection the SUT opened: its source port is not a listening one.
                    sut_tcp[src] = None
                    if len(sut_tcp) > RECENT:
                        sut_tcp.popitem(last=False)
                    item.from_sut = True
                else:
                    continue
                if not item.from_sut:
                    continue
            counts["sut"] += 1
            item.role = ctx.role_of(item)
            if not p.is_request:
                item.request = ctx.pending.get(p.key)
                if item.request is not None and p.status >= 200:
                    ctx.pending.pop(p.key, None)
                    if item.request.kind == "pager":
                        _count(ctx.awaiting, item.request.recipient, -1)
                    req = item.request
                    forwarded = ctx.copied_at.get(req.recipient, 0) > req.frame
                    if req.kind == "pager" and not req.blocked and not forwarded:
                        # Answered without a copy to any device: a deferral, if a
                        # notification for this user follows.
                        ctx.last_final[req.recipient] = item
            for select, tally in buckets[(item.role, p.is_request)]:
                for args, frame in select(item, ctx):
                    cited = item.wire if frame == item.frame else _earlier(item, frame)
                    tally.add(args, frame, cited)
            if item._message is None:
                ctx.unparseable += 1
    except (OSError, ValueError) as exc:
        raise ValueError(f"not a readable capture: {exc}") from exc
    if counts["messages"] == 0:
        raise ValueError("no SIP or MSRP message in the capture")
    tests = [_test(t, ctx) for _, t in tallies if t.judged]
    if not any(v in JUDGED for t in tests for v in t["clause_verdicts"].values()):
        # Said as a test of its own, so no report format can show this run as a success.
        tests.append(_nothing_judged(counts, len(tests)))
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    run = {
        "target": opts.profile.name,
        "profile": opts.profile_path,
        "sut": ", ".join(f"{h}:{p}" for h, p in opts.sut),
        "sut_addresses": [f"{h}:{p}" for h, p in opts.sut],
        "sut_source": opts.sut_source,
        "faults": [],
        "capture": {
            "mode": "pcap",
            "reason": "; ".join(
                [
                    "offline judging of a stored capture, passive checks only",
                    f"read in one pass: {summary}",
                    *([f"{ctx.unparseable} SUT message(s) unparseable"] if ctx.unparseable else []),
                    *notes,
                ]
            ),
        },
        "capture_file": str(opts.capture),
    }
    if opts.core is not None:
        run["core_address"] = f"{opts.core[0]}:{opts.core[1]}"
    return _results.build(cat, tests, run, started, ics=opts.profile.ics, passive=True)


def _earlier(item: Item, frame: int) -> WireMessage | None:
    """The earlier message a judgement cites (a notification judges the answer before it)."""
    prior = item.deferral
    return prior.wire if prior is not None and prior.frame == frame else None


def _via_is_sut(p: Peek, ctx: Context) -> bool:
    via = p.get("via") or ""
    sent_by = via.split(None, 1)[1].split(";", 1)[0] if " " in via else ""
    try:
        return parse_address(sent_by) in ctx.sut
    except ValueError:
        return False


def _count(counts: dict[AorKey, int], key: AorKey, step: int) -> None:
    n = counts.get(key, 0) + step
    if n > 0:
        counts[key] = n
    else:
        counts.pop(key, None)


def _remember_request(item: Item, ctx: Context) -> None:
    """Note a MESSAGE or INVITE sent to the SUT, for the answer the selectors judge."""
    p = item.peek
    method = p.method
    if method not in ("MESSAGE", "INVITE"):
        return
    accept = " ".join(p.all("accept-contact")).encode("latin-1").lower()
    if method == "MESSAGE":
        kind = "pager"
    elif ICSI_DEFERRED in accept:
        kind = "handling"
    elif ICSI_LARGE in accept:
        kind = "large"
    else:
        kind = "other"
    if _has_tag(p.get("to")):
        kind = "other"  # in-dialog
    sender, recipient = aor_key(p.get("from")), aor_key(p.get("to"))
    shown = parse_uri(p.get("from"))
    req = Request(method, item.frame, str(shown or p.get("from") or ""), sender, recipient, kind)
    req.blocked = kind == "pager" and ctx.blocked_by(recipient, sender)
    if kind == "pager" and p.key not in ctx.pending:
        _count(ctx.awaiting, recipient, +1)
    ctx.pending[p.key] = req
    ctx.pending.move_to_end(p.key)
    if len(ctx.pending) > PENDING:
        _, dropped = ctx.pending.popitem(last=False)
        if dropped.kind == "pager":
            _count(ctx.awaiting, dropped.recipient, -1)


JUDGED = ("pass", "fail", "non-strict")


def _nothing_judged(counts: Counter, selected: int) -> dict:
    reason = (
        f"nothing judged: of {counts['messages']} message(s) read, {counts['sut']} came from "
        f"the SUT's addresses, and no passive check passed or failed a clause on them "
        f"({selected} check(s) selected a message); check the SUT's addresses and profile"
    )
    return {
        "id": "passive::nothing-judged",
        "name": "nothing-judged",
        "clauses": [],
        "verdict": Verdict.INCONCLUSIVE.value,
        "reason": reason,
        "cause": "precondition",
        "clause_verdicts": {},
        "findings": [],
        "evidence": {"stimuli": [], "messages": [], "pcap": None, "notes": [reason]},
        "duration": 0.0,
    }


def _test(t: Tally, ctx: Context) -> dict:
    findings = [f for f, _ in t.kept]
    decision = decide(t.clauses, t.exp.findings)  # the same rule as a conformance run
    verdicts, reason = decision.clauses, decision.reason
    if decision.verdict == Verdict.INCONCLUSIVE:
        reason = "the selected messages gave the check nothing to judge: " + reason
    counts = {
        clause: {v: n for (c, v), n in sorted(t.counts.items()) if c == clause}
        for clause in t.clauses
    }
    frames = {f"{c} {v}": fr for (c, v), fr in sorted(t.frames.items())}
    return {
        "id": f"passive::{t.name}",
        "name": t.name,
        "clauses": t.clauses,
        "verdict": decision.verdict.value,
        "reason": reason,
        "cause": decision.cause.value if decision.cause else None,
        "clause_verdicts": {k: v.value for k, v in verdicts.items()},
        "findings": findings,
        "evidence": {
            "stimuli": [],
            "messages": [_evidence(w, ctx.sut) for _, w in sorted(t.cited.items())],
            "pcap": None,
            "frames": frames,
            "counts": counts,
            "notes": [
                f"judged {t.judged} message(s); findings by clause and verdict: "
                + "; ".join(f"{c}: {n}" for c, n in counts.items())
                + f". Evidence by capture frame number (first {KEEP} per clause and verdict)."
            ],
        },
        "duration": 0.0,
    }


# ---- the View form, for callers that hold records --------------------------------------


def view_of(records: list, sut: Iterable[Address]) -> View:
    """A View in which a message is the SUT's when its source is one of the SUT's addresses."""
    sut = set(sut)
    items, errors, msrp = [], [], []
    for r in records:
        if r.message is None:
            if r.error:
                errors.append(str(r.error))
            continue
        from_sut = (r.flow[0], r.flow[1]) in sut
        seen = Seen.captured(r.index, r.time, from_sut, r.message)
        (msrp if r.protocol == "MSRP" else items).append(seen)
    return View(items, errors, msrp)


def nothing_judged(doc: dict) -> bool:
    """No clause passed or failed: the judge proved nothing about the SUT."""
    return not any(v in JUDGED for t in doc["tests"] for v in t["clause_verdicts"].values())


def write_slices(doc: dict, capture: Path, out: Path) -> int:
    """Per test, a pcap of the frames its findings cite, in `out/slices/`; each test's
    evidence names its slice (`evidence.pcap`, relative to the report folder). A TCP message
    is cited by the frame that completed it. Returns the number of slices written."""
    wanted = {}
    for t in doc["tests"]:
        frames = {f["frame"] for f in t["findings"] if f.get("frame")}
        if frames:
            wanted[t["name"]] = frames
    written = copy_frames(str(capture), wanted, str(out / "slices"))
    for t in doc["tests"]:
        if t["name"] in written:
            t["evidence"]["pcap"] = f"slices/{t['name']}.pcap"
    return len(written)
