"""The PF's table of registered contacts, one per provisioned user.

The registrar (:mod:`refsut.pf`) and the reg-event subscriber (:mod:`refsut.pf_registration`)
write it; pager delivery, large message mode and deferred push read it to reach a device:
which bindings are live, which the user's preferences select, and each one's public GRUU.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .config import UserConfig
from .faults import Faults
from .sipcore import uri_key


@dataclass
class Binding:
    """One registered contact of a user."""

    contact_uri: str
    contact_text: str  # "<uri>" as sent, for echoing
    params: tuple[tuple[str, str | None], ...]
    instance: str | None  # "<urn:...>" or None
    expires_at: float
    pub_gruu: str | None = None  # as the registrar (the core) assigned it, when not us

    @property
    def key(self) -> str:
        return self.instance or uri_key(self.contact_uri)


class Bindings:
    """Every provisioned user's bindings, keyed by the user's address (``uri_key``)."""

    def __init__(self, users: dict[str, UserConfig], faults: Faults) -> None:
        self.faults = faults
        self.tables: dict[str, dict[str, Binding]] = {k: {} for k in users}

    def table(self, user_key: str) -> dict[str, Binding]:
        """The user's bindings by key, to be written."""
        return self.tables.setdefault(user_key, {})

    def live(self, user_key: str) -> list[Binding]:
        """The user's bindings that have not expired (expired ones are dropped)."""
        now = asyncio.get_running_loop().time()
        table = self.tables.get(user_key, {})
        for key in [k for k, b in table.items() if b.expires_at <= now]:
            del table[key]
        return list(table.values())

    def gruu(self, user: UserConfig, binding: Binding) -> str | None:
        if binding.pub_gruu is not None:
            return binding.pub_gruu
        if binding.instance is None:
            return None
        return f"{user.uri};gr={binding.instance[1:-1]}"

    def selected(self, user: UserConfig) -> list[Binding]:
        """Registered devices the provisioned preferences select.

        A device registered with an instance the profile does not list is selected only
        when the user has no provisioned devices at all.
        """
        provisioned = {d.instance: d for d in user.devices}
        out = []
        for b in self.live(uri_key(user.uri)):
            device = provisioned.get(b.instance or "")
            selected = device.selected if device is not None else not user.devices
            if selected or self.faults.on("pf.deliver-unselected"):
                out.append(b)
        return out
