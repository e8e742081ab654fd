"""Assembly of one refsut process: the roles named in the config, started and stopped together.

:class:`RefSut` is what ``__main__`` runs and what in-process self-tests drive: it opens the
store, binds every socket (PF, client, upper tester, control interface) and reports the bound
addresses.
"""

from __future__ import annotations

import logging
from typing import Any

from .client import CpmClient
from .config import Config, format_address
from .control import Control
from .faults import Faults
from .msrpcore import arm_tls
from .pf import ParticipatingFunction
from .store import MessageStore
from .upper_tester import UpperTester

log = logging.getLogger("refsut")


class RefSut:
    def __init__(
        self,
        config: Config,
        *,
        leg_timeout: float = 4.0,
        sip_timeout: float = 4.0,
        msrp_timeout: float = 2.0,
    ) -> None:
        self.config = config
        self.faults = Faults(config.faults)
        self.store: MessageStore | None = None
        self.pf: ParticipatingFunction | None = None
        self.client: CpmClient | None = None
        self.upper_tester: UpperTester | None = None
        self.control: Control | None = None
        self._leg_timeout = leg_timeout
        self._sip_timeout = sip_timeout
        self._msrp_timeout = msrp_timeout

    async def start(self) -> RefSut:
        try:
            if self.config.pf is not None:
                self.store = MessageStore(self.config.pf.store)
                self.pf = ParticipatingFunction(
                    self.config.pf,
                    self.faults,
                    self.store,
                    leg_timeout=self._leg_timeout,
                    msrp_timeout=self._msrp_timeout,
                )
                arm_tls(self.config.tls, self.pf)
                await self.pf.start()
            if self.config.client is not None:
                self.client = CpmClient(
                    self.config.client,
                    self.faults,
                    sip_timeout=self._sip_timeout,
                    msrp_timeout=self._msrp_timeout,
                )
                arm_tls(self.config.tls, self.client)
                await self.client.start()
                self.upper_tester = UpperTester(self.client, self.config.client.upper_tester)
                await self.upper_tester.start()
            if self.config.control is not None:
                self.control = Control(self.pf, self.config.control)
                await self.control.start()
        except BaseException:
            await self.close()
            raise
        if self.faults.active:
            log.warning("fault switches on: %s", ", ".join(sorted(self.faults.active)))
        return self

    def ready_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"ready": True}
        if self.pf is not None:
            info["pf"] = format_address(self.pf.address)
        if self.client is not None:
            info["client"] = format_address(self.client.address)
        if self.upper_tester is not None:
            info["upper_tester"] = self.upper_tester.url
        if self.control is not None:
            info["control"] = self.control.url
        return info

    async def close(self) -> None:
        if self.control is not None:
            await self.control.close()
        if self.upper_tester is not None:
            await self.upper_tester.close()
        if self.client is not None:
            await self.client.close()
        if self.pf is not None:
            await self.pf.close()
        if self.store is not None:
            self.store.close()

    async def __aenter__(self) -> RefSut:
        return await self.start()

    async def __aexit__(self, *exc_info) -> None:
        await self.close()
