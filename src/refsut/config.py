"""The refsut configuration file: strict JSON validation into frozen dataclasses.

Every key is checked; an unknown key, a missing required key or a bad value raises
:class:`ConfigError` naming the offending key by its dotted path (``pf.users[1].preference``),
which ``__main__`` prints before exiting with status 3. Addresses must be loopback: the
reference SUT only ever runs next to the test system on one host.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .faults import REGISTRY
from .imapstore import MessageStoreConfig, StoreAccount

Address = tuple[str, int]

PREFERENCES = ("deliver", "defer", "store", "interwork")
DEFERRED_DELIVERY = ("pull", "push")  # how a deferring user gets the messages later
EXPIRY_POLICIES = ("delete", "store")  # what happens to a deferred message that expires
REGISTRATION_MODES = ("direct", "third-party", "reg-event")
RECORDING_SIDES = ("originating", "terminating")
TRANSPORTS = ("udp", "tcp", "tls")
DEFAULT_ALLOWED_TYPES = ("message/cpim", "text/plain", "message/imdn+xml")
# A chunk and its MSRP headers must fit the 1 MiB a transport endpoint frames by default.
MAX_CHUNK_SIZE = 1024 * 1024 - 4096
MAX_ANSWER_DELAY_MS = 10_000


class ConfigError(ValueError):
    """A configuration problem at ``key`` (dotted path)."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key
        self.detail = detail


@dataclass(frozen=True)
class DeviceConfig:
    name: str
    instance: str  # always "<urn:...>", angle brackets included
    selected: bool = True

    @property
    def instance_urn(self) -> str:
        return self.instance[1:-1]


@dataclass(frozen=True)
class UserConfig:
    uri: str
    preference: str = "deliver"
    blocked: tuple[str, ...] = ()
    devices: tuple[DeviceConfig, ...] = ()
    deferred: str = "pull"  # DEFERRED_DELIVERY


@dataclass(frozen=True)
class PfConfig:
    listen: Address
    transport: str
    domain: str
    server_identity: str
    release: str
    outbound_proxy: Address
    store: str
    recording: frozenset[str]
    users: tuple[UserConfig, ...]
    allowed_content_types: tuple[str, ...]
    min_client_release: str | None = None
    allow_anonymity: bool = True
    registration: str = "direct"  # REGISTRATION_MODES: how the PF learns registrations
    deferred_management: str = ""  # CPMDeferredMsgMgmt address (sip:CPMDeferredMsgMgmt@<domain>)
    iwf: str = ""  # interworking function address; "" = sip:iwf@<domain>
    expiry_policy: str = "delete"  # EXPIRY_POLICIES
    deferred_lifetime: int = 7 * 24 * 3600  # seconds a deferred message without Expires lives
    # The core (S-CSCF) URI the PF's initial requests name in Route; None: the outbound proxy
    core_uri: str | None = None
    # The Message Storage Server recorded messages go to (IMAP); None: the SQLite store
    message_store: MessageStoreConfig | None = None


@dataclass(frozen=True)
class ClientConfig:
    listen: Address
    transport: str
    user: str
    instance: str  # "<urn:...>"
    outbound_proxy: Address
    release: str
    upper_tester: Address
    controlling_function: str | None = None
    msrp_chunk_size: int = 2048  # bytes of CPIM per MSRP SEND chunk (large message mode)
    out_of_resources: bool = False  # answer large-mode INVITEs with 480 (TS 7.2.2.2)
    answer_delay_ms: int = 0  # wait this long before the 200 to a large-mode INVITE
    # TS 7.2.3: the provisioned CPMDeferredMsgMgmt address; None means the default below
    deferred_management_uri: str | None = None

    @property
    def domain(self) -> str:
        return uri_host(self.user)

    @property
    def deferred_uri(self) -> str:
        return self.deferred_management_uri or f"sip:CPMDeferredMsgMgmt@{self.domain}"


@dataclass(frozen=True)
class TlsConfig:
    """PEM files for TLS: our certificate chain and key, and the CA we trust for peers."""

    cert: str
    key: str
    ca: str


@dataclass(frozen=True)
class Config:
    pf: PfConfig | None
    client: ClientConfig | None
    faults: tuple[str, ...] = field(default=())
    # The control interface (refsut.control: reset, clock) on loopback; None: not offered
    control: Address | None = None
    # Needed by a role whose transport is tls; every SIP and MSRP endpoint then accepts TLS
    tls: TlsConfig | None = None


# --------------------------------------------------------------------------- helpers

_SIP_URI_RE = re.compile(r"^sips?:(?:[^@\s<>;?]+@)?[A-Za-z0-9.\-\[\]:]+(?:;[^\s<>]*)?$")
_URN_RE = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$", re.IGNORECASE)


def uri_host(uri: str) -> str:
    """Host part of a SIP URI (no port, no parameters)."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    rest = rest.split(";", 1)[0].split("?", 1)[0]
    host = rest.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.split(":", 1)[0]


def parse_address(text: str) -> Address:
    """``127.0.0.1:5060`` or ``[::1]:5060`` -> (host, port); loopback only."""
    m = re.fullmatch(r"\[(?P<v6>[^\]]+)\]:(?P<p6>\d{1,5})|(?P<v4>[^:\[\]]+):(?P<p4>\d{1,5})", text)
    if m is None:
        raise ValueError(f"expected host:port, got {text!r}")
    host = m.group("v6") or m.group("v4")
    port = int(m.group("p6") or m.group("p4"))
    if port > 65535:
        raise ValueError(f"port {port} out of range")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"host must be a loopback IP address, got {host!r}") from None
    if not ip.is_loopback:
        raise ValueError(f"host must be loopback (127.0.0.0/8 or ::1), got {host!r}")
    return host, port


def format_address(addr: Address) -> str:
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _Obj:
    """A JSON object being consumed key by key, so leftovers can be reported as unknown."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise ConfigError(path or "<top>", f"expected an object, got {type(value).__name__}")
        self.value = dict(value)
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def take(self, name: str, kind: type | tuple[type, ...], default: Any = ..., *, null=False):
        if name not in self.value:
            if default is ...:
                raise ConfigError(self.key(name), "required key is missing")
            return default
        v = self.value.pop(name)
        if v is None and null:
            return None
        # bool is an int subclass; never accept it where a number or string is meant
        if not isinstance(v, kind) or (isinstance(v, bool) and kind is not bool):
            want = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise ConfigError(self.key(name), f"expected {want}, got {json.dumps(v)[:60]}")
        return v

    def done(self) -> None:
        if self.value:
            name = sorted(self.value)[0]
            raise ConfigError(self.key(name), "unknown key")


def _address(obj: _Obj, name: str, default: Any = ...) -> Address:
    text = obj.take(name, str, default)
    try:
        return parse_address(text)
    except ValueError as exc:
        raise ConfigError(obj.key(name), str(exc)) from None


def _choice(obj: _Obj, name: str, choices: tuple[str, ...], default: Any = ...) -> str:
    v = obj.take(name, str, default)
    if v not in choices:
        raise ConfigError(obj.key(name), f"expected one of {', '.join(choices)}, got {v!r}")
    return v


def _sip_uri(value: str, key: str) -> str:
    if not _SIP_URI_RE.match(value):
        raise ConfigError(key, f"expected a sip: URI, got {value!r}")
    return value


def _instance(value: str, key: str) -> str:
    urn = value[1:-1] if value.startswith("<") and value.endswith(">") else value
    if not _URN_RE.match(urn):
        raise ConfigError(key, f"expected <urn:...> (e.g. <urn:uuid:...>), got {value!r}")
    return f"<{urn}>"


def _str_list(obj: _Obj, name: str, default: Any = ...) -> list[str]:
    items = obj.take(name, list, default)
    for i, v in enumerate(items):
        if not isinstance(v, str):
            raise ConfigError(f"{obj.key(name)}[{i}]", f"expected str, got {json.dumps(v)}")
    return list(items)


def _int_range(obj: _Obj, name: str, default: int, low: int, high: int) -> int:
    v = obj.take(name, int, default)
    if not low <= v <= high:
        raise ConfigError(obj.key(name), f"expected an integer from {low} to {high}, got {v}")
    return v


def _release(obj: _Obj, name: str, default: str) -> str:
    v = obj.take(name, str, default)
    if not v or any(c in v for c in "\r\n"):
        raise ConfigError(obj.key(name), f"expected a product token like CPM-x/OMA2.0: {v!r}")
    return v


# --------------------------------------------------------------------------- sections


def _device(value: Any, path: str) -> DeviceConfig:
    obj = _Obj(value, path)
    name = obj.take("name", str)
    instance = _instance(obj.take("instance", str), obj.key("instance"))
    selected = obj.take("selected", bool, True)
    obj.done()
    return DeviceConfig(name=name, instance=instance, selected=selected)


def _user(value: Any, path: str) -> UserConfig:
    obj = _Obj(value, path)
    uri = _sip_uri(obj.take("uri", str), obj.key("uri"))
    preference = _choice(obj, "preference", PREFERENCES, "deliver")
    blocked = tuple(
        _sip_uri(v, f"{obj.key('blocked')}[{i}]")
        for i, v in enumerate(_str_list(obj, "blocked", []))
    )
    devices = tuple(
        _device(v, f"{obj.key('devices')}[{i}]")
        for i, v in enumerate(obj.take("devices", list, []))
    )
    seen: set[str] = set()
    for i, d in enumerate(devices):
        if d.instance in seen:
            raise ConfigError(f"{obj.key('devices')}[{i}].instance", "duplicate instance")
        seen.add(d.instance)
    deferred = _choice(obj, "deferred", DEFERRED_DELIVERY, "pull")
    obj.done()
    return UserConfig(
        uri=uri, preference=preference, blocked=blocked, devices=devices, deferred=deferred
    )


def _pf(value: Any) -> PfConfig:
    obj = _Obj(value, "pf")
    listen = _address(obj, "listen", "127.0.0.1:0")
    transport = _choice(obj, "transport", TRANSPORTS, "udp")
    domain = obj.take("domain", str)
    if not re.fullmatch(r"[A-Za-z0-9.\-]+", domain):
        raise ConfigError(obj.key("domain"), f"expected a host name, got {domain!r}")
    identity = _sip_uri(
        obj.take("server_identity", str, f"sip:cpm-pf@{domain}"), obj.key("server_identity")
    )
    release = _release(obj, "release", "CPM-serv/OMA2.0")
    proxy = _address(obj, "outbound_proxy")
    store = obj.take("store", str, ":memory:")
    if store != ":memory:" and not Path(store).parent.is_dir():
        raise ConfigError(obj.key("store"), f"directory of {store!r} does not exist")
    recording = _str_list(obj, "recording", [])
    for i, side in enumerate(recording):
        if side not in RECORDING_SIDES:
            raise ConfigError(
                f"{obj.key('recording')}[{i}]",
                f"expected one of {', '.join(RECORDING_SIDES)}, got {side!r}",
            )
    users = tuple(
        _user(v, f"{obj.key('users')}[{i}]") for i, v in enumerate(obj.take("users", list, []))
    )
    seen: set[str] = set()
    for i, u in enumerate(users):
        if u.uri.lower() in seen:
            raise ConfigError(f"{obj.key('users')}[{i}].uri", "duplicate user")
        seen.add(u.uri.lower())
    allowed = _str_list(obj, "allowed_content_types", list(DEFAULT_ALLOWED_TYPES))
    for i, t in enumerate(allowed):
        if not re.fullmatch(r"[A-Za-z0-9!#$&^_.+\-]+/[A-Za-z0-9!#$&^_.+\-]+", t):
            raise ConfigError(f"{obj.key('allowed_content_types')}[{i}]", f"not a type: {t!r}")
    min_release = obj.take("min_client_release", str, None, null=True)
    if min_release is not None and not re.search(r"[0-9]", min_release):
        raise ConfigError(
            obj.key("min_client_release"),
            f"expected a release like OMA2.0 or CPM-client/OMA2.0, got {min_release!r}",
        )
    allow_anonymity = obj.take("allow_anonymity", bool, True)
    registration = _choice(obj, "registration", REGISTRATION_MODES, "direct")
    management = _sip_uri(
        obj.take("deferred_management", str, f"sip:CPMDeferredMsgMgmt@{domain}"),
        obj.key("deferred_management"),
    )
    iwf = _sip_uri(obj.take("iwf", str, f"sip:iwf@{domain}"), obj.key("iwf"))
    expiry_policy = _choice(obj, "expiry_policy", EXPIRY_POLICIES, "delete")
    lifetime = _int_range(obj, "deferred_lifetime", 7 * 24 * 3600, 1, 10 * 365 * 24 * 3600)
    core_uri = obj.take("core_uri", str, None, null=True)
    if core_uri is not None:
        _sip_uri(core_uri, obj.key("core_uri"))
    ms_value = obj.take("message_store", dict, None, null=True)
    message_store = None if ms_value is None else _message_store(ms_value)
    obj.done()
    return PfConfig(
        listen=listen,
        transport=transport,
        domain=domain,
        server_identity=identity,
        release=release,
        outbound_proxy=proxy,
        store=store,
        recording=frozenset(recording),
        users=users,
        allowed_content_types=tuple(t.lower() for t in allowed),
        min_client_release=min_release,
        allow_anonymity=allow_anonymity,
        registration=registration,
        deferred_management=management,
        iwf=iwf,
        expiry_policy=expiry_policy,
        deferred_lifetime=lifetime,
        core_uri=core_uri,
        message_store=message_store,
    )


def _message_store(value: Any) -> MessageStoreConfig:
    """pf.message_store: the IMAP server, the folder rule and one account per user."""
    obj = _Obj(value, "pf.message_store")
    address = _address(obj, "address")
    folder = obj.take("folder", str, "INBOX")
    if not folder or any(c in folder for c in "\r\n"):
        raise ConfigError(obj.key("folder"), f"not a folder name: {folder!r}")
    accounts = []
    for i, v in enumerate(obj.take("accounts", list, [])):
        acc = _Obj(v, f"{obj.key('accounts')}[{i}]")
        uri = _sip_uri(acc.take("uri", str), acc.key("uri"))
        accounts.append(StoreAccount(uri, acc.take("login", str), acc.take("password", str)))
        acc.done()
    obj.done()
    return MessageStoreConfig(address, folder, tuple(accounts))


def _client(value: Any) -> ClientConfig:
    obj = _Obj(value, "client")
    listen = _address(obj, "listen", "127.0.0.1:0")
    transport = _choice(obj, "transport", TRANSPORTS, "udp")
    user = _sip_uri(obj.take("user", str), obj.key("user"))
    instance = _instance(obj.take("instance", str), obj.key("instance"))
    proxy = _address(obj, "outbound_proxy")
    release = _release(obj, "release", "CPM-client/OMA2.0")
    upper = _address(obj, "upper_tester", "127.0.0.1:0")
    cf = obj.take("controlling_function", str, None, null=True)
    if cf is not None:
        _sip_uri(cf, obj.key("controlling_function"))
    chunk_size = _int_range(obj, "msrp_chunk_size", 2048, 1, MAX_CHUNK_SIZE)
    out_of_resources = obj.take("out_of_resources", bool, False)
    answer_delay = _int_range(obj, "answer_delay_ms", 0, 0, MAX_ANSWER_DELAY_MS)
    mgmt = obj.take("deferred_management_uri", str, None, null=True)
    if mgmt is not None:
        _sip_uri(mgmt, obj.key("deferred_management_uri"))
    obj.done()
    return ClientConfig(
        listen=listen,
        transport=transport,
        user=user,
        instance=instance,
        outbound_proxy=proxy,
        release=release,
        upper_tester=upper,
        controlling_function=cf,
        msrp_chunk_size=chunk_size,
        out_of_resources=out_of_resources,
        answer_delay_ms=answer_delay,
        deferred_management_uri=mgmt,
    )


def parse_config(data: Any) -> Config:
    """Validate a decoded JSON document; raise :class:`ConfigError` on the first problem."""
    obj = _Obj(data, "")
    pf_value = obj.take("pf", dict, None, null=True)
    client_value = obj.take("client", dict, None, null=True)
    faults = _str_list(obj, "faults", [])
    control = _address(obj, "control", None) if obj.value.get("control") is not None else None
    obj.value.pop("control", None)
    tls_value = obj.take("tls", dict, None, null=True)
    obj.done()
    for i, name in enumerate(faults):
        if name not in REGISTRY:
            raise ConfigError(f"faults[{i}]", f"unknown fault {name!r}")
    if pf_value is None and client_value is None:
        raise ConfigError("pf", "at least one of pf and client is required")
    pf = None if pf_value is None else _pf(pf_value)
    client = None if client_value is None else _client(client_value)
    tls = None if tls_value is None else _tls(tls_value)
    for role, cfg in (("pf", pf), ("client", client)):
        if cfg is not None and cfg.transport == "tls" and tls is None:
            raise ConfigError(f"{role}.transport", "tls needs the tls section (cert, key, ca)")
    return Config(pf=pf, client=client, faults=tuple(faults), control=control, tls=tls)


def _tls(value: Any) -> TlsConfig:
    from cpmconf.transport.tls import TlsConfigError, client_context, server_context

    obj = _Obj(value, "tls")
    cfg = TlsConfig(obj.take("cert", str), obj.take("key", str), obj.take("ca", str))
    obj.done()
    try:  # loaded once here, so a bad file is a config error, not a failed start
        server_context(cfg.cert, cfg.key)
        client_context(cfg.ca)
    except TlsConfigError as exc:
        raise ConfigError("tls", str(exc)) from None
    return cfg


def load_config(path: str | Path) -> Config:
    """Read and validate a config file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("--config", f"cannot read {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError("--config", f"{str(path)!r} is not UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError("--config", f"not valid JSON ({exc})") from None
    return parse_config(data)
