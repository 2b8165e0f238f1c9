"""What a new inventory changes against the running one, said before a reload.

Pure: two `Inventory` in, a list of `Change` out, in the order a reader checks them (SKPDs, then
nodes in the new file's topology order, then what is removed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from exporter.inventory import CORE, WEEKDAYS, Inventory, Node, OfficeHours, Skpd

Kind = Literal["added", "removed", "reparented", "readdressed", "renamed", "moved", "changed"]
SUMMARY_ORDER: tuple[Kind, ...] = (
    "added",
    "removed",
    "reparented",
    "readdressed",
    "renamed",
    "moved",
    "changed",
)
_VERB = {"reparented": "re-parented", "readdressed": "readdressed", "renamed": "renamed"}


@dataclass(frozen=True, slots=True)
class Change:
    kind: Kind
    subject: Literal["node", "skpd"]
    id: str
    field: str | None = None
    """What changed, for `changed` (role, owner, contacts, ...)."""
    old: str | None = None
    new: str | None = None


def _node_summary(node: Node) -> str:
    behind = f", behind {node.parent}" if node.parent else ""
    return f"in {node.skpd}: {node.address}, {node.role}, owner {node.owner}{behind}"


def _skpd_fields(skpd: Skpd) -> dict[str, str | None]:
    return {
        "location": skpd.location,
        "position": f"{skpd.position[0]}, {skpd.position[1]}" if skpd.position else None,
        "office_hours": _hours(skpd.office_hours) if skpd.office_hours else None,
        "contacts": "; ".join(
            ", ".join(v for v in (c.name, c.role, c.phone, c.email) if v) for c in skpd.contacts
        )
        or None,
        "labels": _labels(skpd.labels),
    }


def _hours(hours: OfficeHours) -> str:
    """The hours and what they mean, so that editing a definition shows on each SKPD using it."""
    days = ",".join(WEEKDAYS[d] for d in sorted(hours.days))
    text = (
        f"{hours.name}: {days} {hours.start // 60:02d}:{hours.start % 60:02d}-"
        f"{hours.end // 60:02d}:{hours.end % 60:02d} {hours.timezone}"
    )
    return text + (f", {len(hours.holidays)} holidays" if hours.holidays else "")


def _labels(labels: Any) -> str | None:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or None


def diff_inventories(old: Inventory, new: Inventory) -> list[Change]:
    changes: list[Change] = []
    if old.core_name != new.core_name:
        changes.append(Change("renamed", "skpd", CORE, None, old.core_name, new.core_name))
    for skpd_id, skpd in new.skpds.items():
        before = old.skpds.get(skpd_id)
        if before is None:
            changes.append(
                Change(
                    "added", "skpd", skpd_id, None, None, f"{skpd.name}, {len(skpd.node_ids)} nodes"
                )
            )
            continue
        if before.name != skpd.name:
            changes.append(Change("renamed", "skpd", skpd_id, None, before.name, skpd.name))
        was, now = _skpd_fields(before), _skpd_fields(skpd)
        for name, value in now.items():
            if was[name] != value:
                changes.append(Change("changed", "skpd", skpd_id, name, was[name], value))
    for node_id in new.topology_order():
        node = new.nodes[node_id]
        before_node = old.nodes.get(node_id)
        if before_node is None:
            changes.append(Change("added", "node", node_id, None, None, _node_summary(node)))
            continue
        if before_node.skpd != node.skpd:
            changes.append(Change("moved", "node", node_id, "skpd", before_node.skpd, node.skpd))
        if before_node.parent != node.parent:
            changes.append(
                Change("reparented", "node", node_id, "parent", before_node.parent, node.parent)
            )
        if before_node.address != node.address:
            changes.append(
                Change("readdressed", "node", node_id, "address", before_node.address, node.address)
            )
        if before_node.name != node.name:
            changes.append(Change("renamed", "node", node_id, "name", before_node.name, node.name))
        for name in ("role", "owner"):
            if getattr(before_node, name) != getattr(node, name):
                changes.append(
                    Change(
                        "changed",
                        "node",
                        node_id,
                        name,
                        getattr(before_node, name),
                        getattr(node, name),
                    )
                )
        if _labels(before_node.labels) != _labels(node.labels):
            changes.append(
                Change(
                    "changed",
                    "node",
                    node_id,
                    "labels",
                    _labels(before_node.labels),
                    _labels(node.labels),
                )
            )
        if before_node.probe != node.probe:
            changes.append(
                Change("changed", "node", node_id, "probe", _probe(before_node), _probe(node))
            )
    for skpd_id, skpd in old.skpds.items():
        if skpd_id not in new.skpds:
            changes.append(
                Change("removed", "skpd", skpd_id, None, f"{skpd.name}, {len(skpd.node_ids)} nodes")
            )
    for node_id in old.topology_order():
        if node_id not in new.nodes:
            changes.append(
                Change("removed", "node", node_id, None, _node_summary(old.nodes[node_id]))
            )
    return changes


def _probe(node: Node) -> str:
    p = node.probe
    return f"interval {p.interval:g}s, timeout {p.timeout:g}s, down_after {p.down_after}"


def _show(value: str | None) -> str:
    return repr(value) if value is not None else "(none)"


def format_change(change: Change) -> str:
    what = f"{change.subject} {change.id}"
    if change.kind == "added":
        return f"+ {what} {change.new}" if change.subject == "node" else f"+ {what}: {change.new}"
    if change.kind == "removed":
        return f"- {what} {change.old}" if change.subject == "node" else f"- {what}: {change.old}"
    if change.kind == "moved":
        return f"~ {what}: moved from SKPD {change.old} to {change.new}"
    if change.kind in _VERB:
        return f"~ {what}: {_VERB[change.kind]} {_show(change.old)} → {_show(change.new)}"
    return f"~ {what}: {change.field} {_show(change.old)} → {_show(change.new)}"


def summary(changes: Sequence[Change]) -> str:
    counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in SUMMARY_ORDER}
    return ", ".join(f"{n} {_VERB.get(kind, kind)}" for kind, n in counts.items() if n) or (
        "no changes"
    )


def format_text(changes: Sequence[Change]) -> str:
    return "\n".join([*(format_change(c) for c in changes), summary(changes)])


def as_json(changes: Sequence[Change]) -> dict[str, Any]:
    return {
        "changes": [asdict(c) for c in changes],
        "summary": {kind: sum(1 for c in changes if c.kind == kind) for kind in SUMMARY_ORDER},
    }
