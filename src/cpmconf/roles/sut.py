"""Where the SUT is: an external one named by its profile, or the embedded reference SUT.

Owns starting the reference SUT as a subprocess on loopback ephemeral ports: it writes the
refsut configuration from the target profile (and any fault switches), waits, with a bound,
for the one "ready" line that reports the bound ports, and stops the process at the end. The
subprocess gets `--exit-on-stdin-eof`, so it never outlives a crashed harness. The SUT control
hooks (cpmconf.roles.hooks) of an external SUT are its profile's; the embedded one's are HTTP
calls to the reference SUT's control interface (refsut.control), the same kind of hook any
SUT may declare.

The store the store clauses read (TS 8.5.1): an external SUT's is the one its profile's
[store] names; for the embedded SUT a Dovecot is started here first (cpmconf.roles.dovecot)
and the reference SUT's config names it, so its PF records there with IMAP APPEND. Where
no store can be read, `SutHandle.store` is None and `store_reason` says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cpmconf.roles import hooks as _hooks
from cpmconf.roles.dovecot import Dovecot, NotInstalled, StoreUnavailable
from cpmconf.roles.errors import SetupError
from cpmconf.roles.profile import Address, Profile
from cpmconf.roles.store import StoreAccess
from cpmconf.transport.tls import TlsFiles

NO_STORE = "the profile names no message store ([store]), so no stored object can be read"

READY_TIMEOUT = 15.0


@dataclass
class SutHandle:
    pf: Address | None
    client: Address | None
    upper_tester: str | None
    process: asyncio.subprocess.Process | None = None
    log: Path | None = None
    hooks: dict[str, str] = field(default_factory=dict)  # SUT control hooks by name
    store: StoreAccess | None = None  # the Message Storage Server the store cases read
    store_reason: str = NO_STORE  # why `store` is None
    # The store should be there and is not (its Dovecot did not come up): the store cases
    # are inconclusive, where with no store at all they are not-applicable.
    store_failed: bool = False
    dovecot: Dovecot | None = None  # the embedded SUT's store, stopped with it

    async def reset(self) -> None:
        """Back to the provisioned state, when the SUT offers a reset hook."""
        if self.hooks.get("reset"):
            await _hooks.run(self.hooks, "reset")

    async def advance_clock(self, seconds: float) -> None:
        await _hooks.run(self.hooks, "clock", seconds)

    def store_info(self) -> dict:
        """The run's store, for the results' run header: where, or why none; start cost."""
        if self.store is None:
            return {"address": None, "reason": self.store_reason}
        host, port = self.store.address
        info: dict = {"address": f"{host}:{port}", "folder": self.store.folder}
        if self.dovecot is not None:
            info["dovecot"] = str(self.dovecot.folder)
            info["started_in_s"] = round(self.dovecot.started_in or 0.0, 3)
        return info

    async def stop(self, timeout: float = 5.0) -> None:
        try:
            await self._stop_process(timeout)
        finally:
            if self.dovecot is not None:
                await asyncio.to_thread(self.dovecot.stop, timeout)

    async def _stop_process(self, timeout: float) -> None:
        proc = self.process
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


def external(profile: Profile) -> SutHandle:
    handle = SutHandle(
        pf=profile.pf.address if profile.pf else None,
        client=profile.client.address if profile.client else None,
        upper_tester=profile.client.upper_tester if profile.client else None,
        hooks=dict(profile.hooks),
    )
    st = profile.store
    if st is not None and st.address is not None:
        handle.store = StoreAccess(st.address.tuple, st.folder, st.accounts)
    elif st is not None:
        handle.store_reason = "the profile's [store] names no address, so no store is read"
    return handle


def message_store_config(store: StoreAccess) -> dict:
    """The reference SUT's pf.message_store: where and as whom its PF APPENDs."""
    host, port = store.address
    return {
        "address": f"{host}:{port}",
        "folder": store.folder,
        "accounts": [
            {"uri": a.uri, "login": a.login, "password": a.password} for a in store.accounts
        ],
    }


def refsut_config(
    profile: Profile,
    core: tuple[str, int],
    store: Path,
    faults: list[str],
    *,
    tls: TlsFiles | None = None,
    message_store: StoreAccess | None = None,
) -> dict:
    proxy = f"{core[0]}:{core[1]}"
    cfg: dict = {"faults": list(faults)}
    if tls is not None:  # the run's certificate; the refsut writes no key log (we do)
        cfg["tls"] = {"cert": str(tls.cert), "key": str(tls.key), "ca": str(tls.ca)}
    if profile.pf is not None:
        recording = [
            side for side in ("originating", "terminating") if f"recording-{side}" in profile.ics
        ]
        cfg["pf"] = {
            "listen": str(profile.pf.address),
            "transport": profile.pf.transport,
            "domain": profile.pf.domain,
            "server_identity": profile.pf.server_identity,
            "release": profile.pf.release,
            "outbound_proxy": proxy,
            "store": str(store),
            "recording": recording,
            "users": [
                {
                    "uri": u.uri,
                    "preference": u.preference,
                    "deferred": u.deferred,
                    "blocked": list(u.blocked),
                    "devices": [
                        {"name": d.name, "instance": d.instance, "selected": d.selected}
                        for d in u.devices
                    ],
                }
                for u in profile.users
            ],
            "allowed_content_types": list(profile.allowed_content_types),
            "min_client_release": profile.pf.min_client_release,
            "allow_anonymity": profile.pf.anonymity_allowed,
            "registration": profile.pf.registration,
        }
        cfg["control"] = "127.0.0.1:0"
        if message_store is not None:
            cfg["pf"]["message_store"] = message_store_config(message_store)
        if profile.pf.core_uri:
            cfg["pf"]["core_uri"] = profile.pf.core_uri
        if profile.pf.deferred is not None:
            cfg["pf"]["deferred_management"] = profile.pf.deferred.management
            cfg["pf"]["iwf"] = profile.pf.deferred.iwf
            cfg["pf"]["expiry_policy"] = profile.pf.deferred.expiry_policy
    if profile.client is not None:
        extra = profile.extra.get("client", {}) if isinstance(profile.extra, dict) else {}
        cfg["client"] = {
            "listen": str(profile.client.address),
            "transport": profile.client.transport,
            "user": profile.client.user,
            "instance": extra.get("instance", "<urn:uuid:6d1c7c2e-0000-4000-8000-00000000c11e>"),
            "outbound_proxy": proxy,
            "release": profile.client.release,
            "upper_tester": "127.0.0.1:0",
            "controlling_function": extra.get("controlling_function", "sip:adhoc@example.net"),
            "deferred_management_uri": extra.get("deferred_management")
            or (profile.pf.deferred.management if profile.pf and profile.pf.deferred else None),
        }
    return cfg


class StoreStartFailed(RuntimeError):
    """The embedded SUT's store is wanted and installed but did not come up."""


async def start_store(profile: Profile, folder: Path) -> tuple[StoreAccess | None, str, Dovecot]:
    """The embedded SUT's store: the profile's address, else a Dovecot started in `folder`.
    (None, reason, None) when there is none (no [store], dovecot not installed); a Dovecot
    that will not come up raises StoreStartFailed with the reason."""
    st = profile.store
    dovecot = None
    if st is None or profile.pf is None:
        return None, NO_STORE, dovecot
    if st.address is not None:
        return StoreAccess(st.address.tuple, st.folder, st.accounts), "", dovecot
    dovecot = Dovecot(folder, list(st.accounts), profile.test_system_host)
    try:
        address = await asyncio.to_thread(dovecot.start)
    except NotInstalled as exc:
        return None, f"no message store: {exc}", None
    except (StoreUnavailable, OSError) as exc:
        raise StoreStartFailed(f"the suite could not start its message store: {exc}") from None
    return StoreAccess(address, st.folder, st.accounts), "", dovecot


NOT_SELECTED = "no selected case reads the message store, so none was started"


async def start_embedded(
    profile: Profile,
    core: tuple[str, int],
    workdir: Path,
    faults: list[str],
    tls: TlsFiles | None = None,
    want_store: bool = True,
) -> SutHandle:
    """The reference SUT; first its store, unless no selected case reads one (`want_store`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    store, reason, dovecot, failed = None, NOT_SELECTED, None, False
    if want_store:
        try:
            store, reason, dovecot = await start_store(profile, workdir.parent / "imap")
        except StoreStartFailed as exc:
            reason, failed = str(exc), True
    try:
        handle = await _start_refsut(profile, core, workdir, faults, store, tls)
    except BaseException:
        if dovecot is not None:
            await asyncio.to_thread(dovecot.stop)
        raise
    handle.store, handle.store_reason, handle.dovecot = store, reason or NO_STORE, dovecot
    handle.store_failed = failed
    return handle


async def _start_refsut(
    profile: Profile,
    core: tuple[str, int],
    workdir: Path,
    faults: list[str],
    store: StoreAccess | None,
    tls: TlsFiles | None = None,
) -> SutHandle:
    config = workdir / "refsut.json"
    config.write_text(
        json.dumps(
            refsut_config(
                profile, core, workdir / "store.sqlite", faults, tls=tls, message_store=store
            ),
            indent=2,
        )
    )
    log = workdir / "refsut.log"
    log_fh = log.open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "refsut",
        "--config",
        str(config),
        "--exit-on-stdin-eof",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=log_fh,
    )
    log_fh.close()
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), READY_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise SetupError(
            f"reference SUT did not report ready within {READY_TIMEOUT:g} s; see {log}"
        ) from None
    try:
        ready = json.loads(line)
    except ValueError:
        ready = None
    if not isinstance(ready, dict) or ready.get("ready") is not True:
        await proc.wait() if proc.returncode is not None else None
        tail = log.read_text(errors="replace")[-2000:]
        raise SetupError(
            f"reference SUT failed to start (exit {proc.returncode}): {line!r}\n{tail}"
        ) from None

    def addr(key: str) -> Address | None:
        if key not in ready:
            return None
        host, _, port = ready[key].rpartition(":")
        return Address(host, int(port))

    control = ready.get("control")
    hooks = (
        {
            "reset": f"POST {control}/reset {{}}",
            "clock": f'POST {control}/clock {{"advance": {{seconds}}}}',
        }
        if control
        else {}
    )
    return SutHandle(addr("pf"), addr("client"), ready.get("upper_tester"), proc, log, hooks)
