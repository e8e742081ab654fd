"""SUT control hooks: optional ways, declared in the target profile, to steer the SUT.

Owns running a hook. `reset` puts the SUT back to its provisioned state (run before every
case, so no case's state reaches the next); `clock` moves the SUT's clock forward by
`{seconds}` (the expiry cases). Each hook is one string in the profile's `[hooks]` table:

- an HTTP call, `METHOD URL [BODY]`, e.g. `POST http://127.0.0.1:7000/clock {"advance": {seconds}}`:
  done when the answer is a 2xx;
- anything else is a command line (split like a shell would, `$VAR` expanded from the
  environment, run without a shell), e.g. `$LAB/ctl clock {seconds}`: done when it exits 0.

`{seconds}` is replaced wherever it appears. Every hook is bounded (`BOUND`); a hook that fails
or overruns is a `HookError` (an unmet precondition, not the SUT's wire). A case that needs a
hook the profile does not declare is not-applicable (`missing`).
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import urllib.error
import urllib.request

from cpmconf.roles.errors import RoleError

HOOKS = ("reset", "clock")
BOUND = 30.0
_HTTP = re.compile(r"^(GET|POST|PUT|DELETE)\s+(https?://\S+)(?:\s+(.*))?$", re.S)


class HookError(RoleError):
    """A declared hook failed or did not finish: what the case needed of the SUT did not
    happen, so nothing after it can be judged."""

    cause = "precondition"


def missing(hooks: dict[str, str], name: str) -> str | None:
    """The not-applicable reason when the profile declares no `name` hook, else None."""
    if hooks.get(name):
        return None
    return f"the profile declares no {name} hook ([hooks] {name}), which this case needs"


def render(spec: str, seconds: float | None = None) -> str:
    if seconds is None:
        return spec
    text = f"{seconds:g}" if seconds != int(seconds) else str(int(seconds))
    return spec.replace("{seconds}", text)


async def run(hooks: dict[str, str], name: str, seconds: float | None = None) -> str:
    """Run hook `name`; its output (an HTTP answer body or the command's stdout), cut short."""
    spec = hooks.get(name)
    if not spec:
        raise HookError(missing(hooks, name) or name)
    text = render(spec, seconds)
    try:
        async with asyncio.timeout(BOUND):
            http = _HTTP.match(text.strip())
            if http:
                return await asyncio.to_thread(_http, name, *http.groups())
            return await _command(name, text)
    except TimeoutError:
        raise HookError(f"the {name} hook ({text!r}) did not finish within {BOUND:g} s") from None


def _http(name: str, method: str, url: str, body: str | None) -> str:
    data = body.encode() if body else (b"" if method in ("POST", "PUT") else None)
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=BOUND) as resp:
            return resp.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace").strip()
        raise HookError(
            f"the {name} hook ({method} {url}) answered HTTP {exc.code}: {detail}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise HookError(f"the {name} hook ({method} {url}) got no answer: {exc}") from None


async def _command(name: str, text: str) -> str:
    try:
        argv = [os.path.expandvars(arg) for arg in shlex.split(text)]
    except ValueError as exc:
        raise HookError(f"the {name} hook {text!r} is not a command line: {exc}") from None
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise HookError(f"the {name} hook {text!r} cannot start: {exc}") from None
    try:
        out, err = await proc.communicate()
    except asyncio.CancelledError:
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip()[-300:]
        raise HookError(f"the {name} hook {text!r} exited {proc.returncode}: {tail}")
    return out.decode("utf-8", "replace")[:4096]
