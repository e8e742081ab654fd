"""How the PF reads a resource list the codec refused, when an XML robustness switch is on.

The PF parses the resource lists of handling INVITEs with the codec (defusedxml, DTDs
forbidden), so a list declaring entities is refused like any broken list. This module is only
reached with one of these fault switches on and stands for a PF with a careless XML parser:

* ``robust.expand-xml-entities``: internal entities (``<!ENTITY a "...">``) are expanded,
  nested ones included. Expansion stops at `EXPANSION_CAP` so the machine survives; a real
  expander would go on for minutes or run out of memory, so past the cap the PF hangs
  (:class:`~refsut.robustness.Hang`);
* ``robust.resolve-external-entities``: ``SYSTEM`` entities are resolved, ``file:`` by
  reading the file and ``http:`` by fetching the URL (both bounded), and their text is put in
  place of each reference.

A list declaring an entity whose switch is off stays refused. Nothing here runs without a
switch: the clean PF never looks at a DTD.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import urllib.parse
import urllib.request
from xml.sax.saxutils import escape

from cpmconf.codec.errors import CodecError
from cpmconf.codec.resource_lists import Entry, ResourceList

from .faults import Faults
from .robustness import Hang

log = logging.getLogger("refsut.pf.deferred")

EXPAND = "robust.expand-xml-entities"
RESOLVE = "robust.resolve-external-entities"
EXPANSION_CAP = 4 * 1024 * 1024
FETCH_CAP = 64 * 1024
FETCH_TIMEOUT = 2.0

_DOCTYPE = re.compile(rb"<!DOCTYPE\s[^\[>]*\[(.*?)\]\s*>", re.DOTALL)
_INTERNAL = re.compile(rb'<!ENTITY\s+([\w.-]+)\s+"([^"]*)"\s*>')
_EXTERNAL = re.compile(rb'<!ENTITY\s+([\w.-]+)\s+SYSTEM\s+"([^"]*)"\s*>')
_REFERENCE = re.compile(rb"&([\w.-]+);")


def entries(body: bytes, faults: Faults) -> tuple[Entry, ...] | None:
    """The entries of a refused list as the switched-on PF reads it, or None (still refused).

    Raises :class:`~refsut.robustness.Hang` when internal expansion passes `EXPANSION_CAP`.
    """
    doctype = _DOCTYPE.search(body)
    if doctype is None:
        return None
    subset = doctype.group(1)
    values: dict[bytes, bytes] = {}
    for name, uri in _EXTERNAL.findall(subset):
        if not faults.on(RESOLVE):
            return None
        values[name] = escape(_resolve(uri.decode("utf-8", "replace"))).encode("utf-8")
    internal = dict(_INTERNAL.findall(subset))
    if internal and not faults.on(EXPAND):
        return None
    values.update(internal)
    if not values:
        return None
    document = body[: doctype.start()] + body[doctype.end() :]
    try:
        expanded = _Expander(values).text(document)
    except _TooLarge:
        raise Hang("entity expansion past the cap") from None
    try:
        return ResourceList.parse(expanded).entries
    except CodecError:
        return None


class _TooLarge(Exception):
    pass


class _Expander:
    """Entity references replaced by their values, recursively, within `EXPANSION_CAP`."""

    def __init__(self, values: dict[bytes, bytes]) -> None:
        self.values = values
        self.done: dict[bytes, bytes] = {}
        self.open: set[bytes] = set()

    def text(self, raw: bytes) -> bytes:
        parts: list[bytes] = []
        size = 0
        last = 0
        for m in _REFERENCE.finditer(raw):
            name = m.group(1)
            if name not in self.values:
                continue  # a predefined entity (&amp; ...) or an unknown one: left as written
            piece = self.value(name)
            parts += [raw[last : m.start()], piece]
            size += m.start() - last + len(piece)
            last = m.end()
            if size > EXPANSION_CAP:
                raise _TooLarge
        parts.append(raw[last:])
        return b"".join(parts)

    def value(self, name: bytes) -> bytes:
        if name not in self.done:
            if name in self.open:  # a loop: left unexpanded
                return b""
            self.open.add(name)
            self.done[name] = self.text(self.values[name])
            self.open.discard(name)
        return self.done[name]


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def _resolve(uri: str) -> str:
    """The text a SYSTEM identifier names (file: or http:), bounded; "" when unreachable."""
    parts = urllib.parse.urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in ("file", "http"):
        return ""
    if scheme == "http" and not _loopback(parts.hostname or ""):
        # Even broken on purpose, the reference SUT sends nothing off this machine.
        log.info("external entity %s not resolved: not a loopback address", uri)
        return ""
    log.warning("fault: resolving the external entity %s", uri)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # direct only
    try:
        with opener.open(uri, timeout=FETCH_TIMEOUT) as answer:
            return answer.read(FETCH_CAP).decode("utf-8", "replace")
    except (OSError, ValueError) as exc:
        log.info("external entity %s not resolved: %s", uri, exc)
        return ""
