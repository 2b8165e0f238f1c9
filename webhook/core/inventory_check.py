"""SKPD and node ids that come from people (UI forms, the JSON API, one-click link forms, query
parameters) are checked here, against the inventory when one is configured, else against the
inventory's id syntax: an id goes on to e-mail headers, file names and the record, so a line break
or a made-up SKPD must stop at the door. Every entry point calls these; `UnknownId` is a 4xx.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from exporter.inventory import CORE, Inventory
from webhook.core.refusals import Refused

ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
"""The inventory's id syntax (`exporter.inventory`), bounded to the columns' 64 characters."""


class UnknownId(Refused):
    """An id that is not the inventory's; `field` names the input, `reason` says what is wrong."""

    def __init__(self, field: str, message: str, node: str = "") -> None:
        key = "unknown_skpd" if field == "skpd" else "unknown_node"
        super().__init__(message, field, key=key, params={"node": node})


def check_skpd(inventory: Inventory | None, skpd: str, *, core: bool = False) -> str:
    """`skpd` when it is an SKPD of the inventory (or `core` with core=True); else UnknownId."""
    known = inventory is None or skpd in inventory.skpds or (core and skpd == CORE)
    if not ID.fullmatch(skpd) or not known:
        raise UnknownId("skpd", f"unknown SKPD {skpd[:64]!r}")
    return skpd


def check_nodes(inventory: Inventory | None, skpd: str, nodes: Iterable[str]) -> list[str]:
    """`nodes` when each is a node of `skpd` in the inventory; else UnknownId."""
    checked = list(nodes)
    for node in checked:
        found = inventory.nodes.get(node) if inventory is not None else None
        foreign = inventory is not None and (found is None or found.skpd != skpd)
        if not ID.fullmatch(node) or foreign:
            raise UnknownId("nodes", f"{node[:64]!r} is not a node of SKPD {skpd!r}", node[:64])
    return checked
