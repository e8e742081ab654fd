"""Target profiles: one TOML file per SUT, validated at start.

Owns the profile model: which roles the SUT plays (a PF, a client, or both for a product that
ships both), where it listens, where the test system listens for it, the provisioned users,
devices, preferences and policies the tests rely on, the expected release versions, the ICS
(optional features the SUT claims) and the guard timers. A wrong or incomplete file is
rejected with `ProfileError` naming the file, the key and the reason.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ICS_ITEMS = (
    "pager-mode",
    "large-message-mode",
    "reply-to",
    "anonymity",
    "message-expiry",
    "adhoc-group",
    "predefined-group",
    "disposition-notification",
    "external-body",
    "local-storage",
    "out-of-resources",
    "session-timer",
    "recording-originating",
    "recording-terminating",
    "access-policy",
    "content-policy",
    "ua-version-check",
    "anonymity-policy",
    "multi-device",
    "deferred-notify",
    "deferred-pull",
    "deferred-push",
    "deferred-expiry",
    "store-preference",
    "interworking",
)
PREFERENCES = ("deliver", "defer", "store", "interwork")
DEFERRED_DELIVERY = ("pull", "push")
REGISTRATION_MODES = ("direct", "third-party", "reg-event")


@dataclass(frozen=True)
class DeferredTarget:
    """[pf.deferred]: where the PF's deferred-message functions are and how to read its list."""

    management: str  # the CPMDeferredMsgMgmt address (SUBSCRIBE and handling INVITE target)
    iwf: str  # the interworking function the test system plays
    uri_id_xpath: str | None = None  # XPath to the Message-URI-IDs of a foreign NOTIFY body
    namespaces: tuple[tuple[str, str], ...] = ()  # prefixes the XPath uses
    expiry_policy: str = "delete"  # what the PF does with an expired deferred message


TRANSPORTS = ("udp", "tcp", "tls")

ICSI_MSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
ICSI_LARGEMSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.largemsg"
ICSI_DEFERRED = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.deferred"


class ProfileError(Exception):
    def __init__(self, file: str, key: str, reason: str):
        self.file, self.key, self.reason = file, key, reason
        super().__init__(f"{file}: key {key!r}: {reason}")


@dataclass(frozen=True)
class Address:
    host: str
    port: int  # 0: assigned when an embedded SUT or the test system binds

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def tuple(self) -> tuple[str, int]:
        return (self.host, self.port)


@dataclass(frozen=True)
class Device:
    name: str
    instance: str  # +sip.instance value, e.g. "<urn:uuid:...>"
    selected: bool = True  # whether the user's preferences select it for delivery


@dataclass(frozen=True)
class User:
    uri: str
    devices: tuple[Device, ...]
    preference: str = "deliver"
    blocked: tuple[str, ...] = ()
    registered: bool = True
    deferred: str = "pull"  # DEFERRED_DELIVERY: how a deferring user gets messages later


@dataclass(frozen=True)
class PfTarget:
    address: Address
    transport: str
    domain: str
    server_identity: str
    release: str
    store: str | None  # SQLite path of the embedded PF's message store
    # The PF's stated policies, which the policy cases need to pick a refused request.
    min_client_release: str | None = None  # lowest client release it accepts (None: any)
    anonymity_allowed: bool = True
    registration: str = "direct"  # REGISTRATION_MODES: how the PF learns registrations
    deferred: DeferredTarget | None = None
    # The core (S-CSCF) URI the PF names in the Route of the requests it originates
    # (D-through-core); None: the core's own address, sip:<host>:<core_port>;lr.
    core_uri: str | None = None


@dataclass(frozen=True)
class ClientTarget:
    address: Address
    transport: str
    user: str
    upper_tester: str
    release: str


@dataclass(frozen=True)
class Profile:
    name: str
    file: str
    embedded: bool
    pf: PfTarget | None
    client: ClientTarget | None
    test_system_host: str
    core_port: int
    users: tuple[User, ...]
    originators: tuple[str, ...]
    allowed_content_types: tuple[str, ...]
    ics: frozenset[str]
    guard: float
    settle: float
    faults: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    # The core's routing (D-through-core): the registrar's 200 carries a Service-Route, and
    # the Route of the SUT's requests is judged (off: only where they were sent).
    service_route: bool = True
    judge_route: bool = True

    def claims(self, *items: str) -> bool:
        return all(i in self.ics for i in items)

    def user(self, uri: str) -> User:
        for u in self.users:
            if u.uri == uri:
                return u
        raise KeyError(uri)


class _Reader:
    """Typed access into the TOML tree that names the file and dotted key on every error."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, key: str, reason: str) -> ProfileError:
        return ProfileError(self.file, key, reason)

    def get(self, table: dict, key: str, path: str, kind, default: Any = ..., choices=None):
        full = f"{path}.{key}" if path else key
        if key not in table:
            if default is ...:
                raise self.fail(full, "missing")
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(full, f"expected {getattr(kind, '__name__', kind)}, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(full, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def address(self, table: dict, key: str, path: str, default: Any = ...) -> Address:
        text = self.get(table, key, path, str, default)
        full = f"{path}.{key}"
        host, sep, port = text.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise self.fail(full, f"expected host:port, got {text!r}")
        host = host.strip("[]")
        return Address(host, int(port))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sip_uri(r: _Reader, table: dict, key: str, path: str) -> str | None:
    """An optional sip: URI, written without angle brackets."""
    value = r.get(table, key, path, str, None)
    if value is not None and not re.fullmatch(r"sips?:[^\s<>]+", value):
        raise r.fail(f"{path}.{key}", f"expected a sip: URI without <>, got {value!r}")
    return value


def _deferred(r: _Reader, pf: dict, domain: str) -> DeferredTarget:
    t = r.get(pf, "deferred", "pf", dict, {})
    path = "pf.deferred"
    ns = r.get(t, "namespaces", path, dict, {})
    for prefix, uri in ns.items():
        if not isinstance(uri, str):
            raise r.fail(f"{path}.namespaces.{prefix}", f"expected a namespace URI, got {uri!r}")
    return DeferredTarget(
        management=r.get(t, "management", path, str, f"sip:CPMDeferredMsgMgmt@{domain}"),
        iwf=r.get(t, "iwf", path, str, f"sip:iwf@{domain}"),
        uri_id_xpath=r.get(t, "uri_id_xpath", path, str, None),
        namespaces=tuple(sorted(ns.items())),
        expiry_policy=r.get(t, "expiry_policy", path, str, "delete", ("delete", "store")),
    )


def load_profile(path: str | Path, allow_remote: bool | None = None) -> Profile:
    """Read and validate a target profile.

    Addresses must be loopback unless the profile sets `lab = true`: a user who points the
    suite at a lab SUT says so explicitly in the file.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(str(path), "-", f"cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(str(path), "-", f"not valid TOML: {exc}") from exc
    return profile_from_dict(data, str(path), allow_remote)


def profile_from_dict(
    data: dict, file: str = "<profile>", allow_remote: bool | None = None
) -> Profile:
    r = _Reader(file)
    known_top = {
        "name",
        "embedded",
        "lab",
        "pf",
        "client",
        "test_system",
        "users",
        "originators",
        "content_policy",
        "ics",
        "timers",
        "faults",
        "extra",
    }
    for key in data:
        if key not in known_top:
            raise r.fail(key, f"unknown key (known: {', '.join(sorted(known_top))})")
    name = r.get(data, "name", "", str)
    embedded = r.get(data, "embedded", "", bool, False)
    lab = r.get(data, "lab", "", bool, False)
    remote_ok = lab if allow_remote is None else allow_remote

    pf = client = None
    if "pf" in data:
        t = r.get(data, "pf", "", dict)
        pf = PfTarget(
            address=r.address(t, "address", "pf", "127.0.0.1:0" if embedded else ...),
            transport=r.get(t, "transport", "pf", str, "udp", TRANSPORTS),
            domain=r.get(t, "domain", "pf", str),
            server_identity=r.get(t, "server_identity", "pf", str),
            release=r.get(t, "release", "pf", str, "CPM-serv/OMA2.0"),
            store=r.get(t, "store", "pf", str, None),
            min_client_release=r.get(t, "min_client_release", "pf", str, None),
            anonymity_allowed=r.get(t, "anonymity_allowed", "pf", bool, True),
            registration=r.get(t, "registration", "pf", str, "direct", REGISTRATION_MODES),
            deferred=_deferred(r, t, r.get(t, "domain", "pf", str)),
            core_uri=_sip_uri(r, t, "core_uri", "pf"),
        )
    if "client" in data:
        t = r.get(data, "client", "", dict)
        client = ClientTarget(
            address=r.address(t, "address", "client", "127.0.0.1:0" if embedded else ...),
            transport=r.get(t, "transport", "client", str, "udp", TRANSPORTS),
            user=r.get(t, "user", "client", str),
            upper_tester=r.get(t, "upper_tester", "client", str, "" if embedded else ...),
            release=r.get(t, "release", "client", str, "CPM-client/OMA2.0"),
        )
    if pf is None and client is None:
        raise r.fail("pf", "a profile needs a [pf] table, a [client] table, or both")

    ts = r.get(data, "test_system", "", dict, {})
    ts_host = r.get(ts, "host", "test_system", str, "127.0.0.1")
    core_port = r.get(ts, "core_port", "test_system", int, 0)
    service_route = r.get(ts, "service_route", "test_system", bool, True)
    judge_route = r.get(ts, "judge_route", "test_system", bool, True)

    users = []
    for i, u in enumerate(r.get(data, "users", "", list, [])):
        path = f"users[{i}]"
        if not isinstance(u, dict):
            raise r.fail(path, "expected a table")
        devices = []
        for j, d in enumerate(r.get(u, "devices", path, list, [])):
            dpath = f"{path}.devices[{j}]"
            if not isinstance(d, dict):
                raise r.fail(dpath, "expected a table")
            devices.append(
                Device(
                    name=r.get(d, "name", dpath, str),
                    instance=r.get(d, "instance", dpath, str),
                    selected=r.get(d, "selected", dpath, bool, True),
                )
            )
        users.append(
            User(
                uri=r.get(u, "uri", path, str),
                devices=tuple(devices),
                preference=r.get(u, "preference", path, str, "deliver", PREFERENCES),
                blocked=tuple(r.get(u, "blocked", path, list, [])),
                registered=r.get(u, "registered", path, bool, True),
                deferred=r.get(u, "deferred", path, str, "pull", DEFERRED_DELIVERY),
            )
        )
    if pf is not None and not users:
        raise r.fail("users", "a PF profile needs at least one user with devices")
    seen = set()
    for i, u in enumerate(users):
        if u.uri in seen:
            raise r.fail(f"users[{i}].uri", f"duplicate user {u.uri!r}")
        seen.add(u.uri)

    originators = tuple(r.get(data, "originators", "", list, ["sip:alice@example.net"]))
    cp = r.get(data, "content_policy", "", dict, {})
    allowed = tuple(
        r.get(
            cp,
            "allowed_types",
            "content_policy",
            list,
            ["message/cpim", "text/plain", "message/imdn+xml"],
        )
    )
    ics_table = r.get(data, "ics", "", dict, {})
    ics = set()
    for key, value in ics_table.items():
        if key not in ICS_ITEMS:
            raise r.fail(f"ics.{key}", f"unknown ICS item (known: {', '.join(ICS_ITEMS)})")
        if not isinstance(value, bool):
            raise r.fail(f"ics.{key}", f"expected true or false, got {value!r}")
        if value:
            ics.add(key)
    timers = r.get(data, "timers", "", dict, {})
    guard = r.get(timers, "guard", "timers", float, 3.0)
    settle = r.get(timers, "settle", "timers", float, 0.3)
    if not 0 < guard <= 300:
        raise r.fail("timers.guard", "must be between 0 and 300 seconds")
    if not 0 <= settle <= guard:
        raise r.fail("timers.settle", "must be between 0 and timers.guard")
    faults = tuple(r.get(data, "faults", "", list, []))

    for label, target in (("pf.address", pf), ("client.address", client)):
        if target is not None and not remote_ok and not _loopback(target.address.host):
            raise r.fail(
                label, f"{target.address.host} is not loopback; set lab = true to target a lab SUT"
            )
    if not remote_ok and not _loopback(ts_host):
        raise r.fail("test_system.host", f"{ts_host} is not loopback; set lab = true")

    return Profile(
        name=name,
        file=file,
        embedded=embedded,
        pf=pf,
        client=client,
        test_system_host=ts_host,
        core_port=core_port,
        users=tuple(users),
        originators=originators,
        allowed_content_types=allowed,
        ics=frozenset(ics),
        guard=guard,
        settle=settle,
        faults=faults,
        extra=dict(data.get("extra", {})),
        service_route=service_route,
        judge_route=judge_route,
    )
