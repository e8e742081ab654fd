"""Where the SUT is: an external one named by its profile, or the embedded reference SUT.

Owns starting the reference SUT as a subprocess on loopback ephemeral ports: it writes the
refsut configuration from the target profile (and any fault switches), waits, with a bound,
for the one "ready" line that reports the bound ports, and stops the process at the end. The
subprocess gets `--exit-on-stdin-eof`, so it never outlives a crashed harness. The SUT control
hooks (cpmconf.roles.hooks) of an external SUT are its profile's; the embedded one's are HTTP
calls to the reference SUT's control interface (refsut.control), the same kind of hook any
SUT may declare.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cpmconf.roles import hooks as _hooks
from cpmconf.roles.errors import SetupError
from cpmconf.roles.profile import Address, Profile
from cpmconf.transport.tls import TlsFiles

READY_TIMEOUT = 15.0


@dataclass
class SutHandle:
    pf: Address | None
    client: Address | None
    upper_tester: str | None
    process: asyncio.subprocess.Process | None = None
    log: Path | None = None
    hooks: dict[str, str] = field(default_factory=dict)  # SUT control hooks by name

    async def reset(self) -> None:
        """Back to the provisioned state, when the SUT offers a reset hook."""
        if self.hooks.get("reset"):
            await _hooks.run(self.hooks, "reset")

    async def advance_clock(self, seconds: float) -> None:
        await _hooks.run(self.hooks, "clock", seconds)

    async def stop(self, timeout: float = 5.0) -> None:
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
    return SutHandle(
        pf=profile.pf.address if profile.pf else None,
        client=profile.client.address if profile.client else None,
        upper_tester=profile.client.upper_tester if profile.client else None,
        hooks=dict(profile.hooks),
    )


def refsut_config(
    profile: Profile,
    core: tuple[str, int],
    store: Path,
    faults: list[str],
    tls: TlsFiles | None = None,
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


async def start_embedded(
    profile: Profile,
    core: tuple[str, int],
    workdir: Path,
    faults: list[str],
    tls: TlsFiles | None = None,
) -> SutHandle:
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "refsut.json"
    config.write_text(
        json.dumps(refsut_config(profile, core, workdir / "store.sqlite", faults, tls), indent=2)
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
