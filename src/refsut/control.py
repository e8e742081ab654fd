"""The reference SUT's control interface: the SUT control hooks a target profile declares.

JSON over HTTP on loopback (the upper tester's server, :class:`refsut.upper_tester.JsonHttpServer`):

- ``POST /reset`` ``{}``: back to the provisioned state: every stored, recorded and deferred
  message forgotten and the PF's clock offset back to zero. Registrations are the devices'
  own state and stay.
- ``POST /clock`` ``{"advance": seconds}``: move the PF's clock forward (deferred-message
  expiry) instead of waiting; answers ``{"offset": seconds}``.

The suite reaches it only through the hooks (cpmconf.roles.hooks), exactly as it reaches any
other SUT's, so nothing of the embedded SUT is special to the cases.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .pf import ParticipatingFunction
from .upper_tester import JsonHttpServer

MAX_ADVANCE = 10 * 365 * 24 * 3600.0


class Control(JsonHttpServer):
    def __init__(self, pf: ParticipatingFunction | None, listen: tuple[str, int]) -> None:
        super().__init__(listen)
        self.pf = pf

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if path not in ("/reset", "/clock"):
            return 404, {"error": f"no such endpoint {path}"}
        if method != "POST":
            return 405, {"error": f"{path} takes POST"}
        if self.pf is None:
            return 501, {"error": "this reference SUT runs no PF: nothing to reset or clock"}
        try:
            args = json.loads(body) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return 400, {"error": f"body is not JSON: {exc}"}
        if not isinstance(args, dict):
            return 400, {"error": "body must be a JSON object"}
        clock = self.pf.deferred.clock
        if path == "/reset":
            if args:
                return 400, {"error": "body must be {}"}
            self.pf.store.clear()
            clock.reset()
            return 200, {"ok": True}
        seconds = args.get("advance")
        if (
            set(args) != {"advance"}
            or not isinstance(seconds, int | float)
            or isinstance(seconds, bool)
            or not math.isfinite(seconds)
            or not 0 <= seconds <= MAX_ADVANCE
        ):
            return 400, {"error": f'body must be {{"advance": 0..{MAX_ADVANCE:g} seconds}}'}
        return 200, {"ok": True, "offset": clock.advance(float(seconds))}
