"""`inventory import`: a table (spreadsheet or NetBox) written over the inventory YAML.

The existing file is edited in place with ruamel.yaml's round-trip mode, so its comments, key
order, flow style and anchors stay; an SKPD the table lists is replaced by the table's rows
(its nodes not in them are removed), an SKPD it does not list is kept (`prune` removes it). A
column the table does not have changes nothing; an empty cell clears. Ids stay: a row without
an id takes that of the existing node at its address, else one made from its name.

The result is validated by the exporter's own loader (`parse_inventory`) before anything is
written, and its problems are named by the table's sheet, row and column.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from exporter.inventory import (
    CORE,
    ROLES,
    Inventory,
    InventoryError,
    Resolver,
    parse_inventory,
    resolve_host,
)
from exporter.sheet import (
    NODE_FIELDS,
    SKPD_FIELDS,
    Record,
    RowProblem,
    SheetError,
    Table,
    Where,
    did_you_mean,
    normalize_choice,
    parse_contacts,
    parse_dates,
    parse_days,
    parse_parents,
    slug,
    split_hours_cell,
)

OWNERS = ("diskominfo", "skpd")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_YAML_PATH = re.compile(r"core\.nodes\[\d+\]|skpd\[\d+\](?:\.nodes\[\d+\])?|office_hours\.[^.\s]+")
_NODE_KEYS = {"parents": "parent"}
_SKPD_KEYS = {"id": "skpd", "name": "skpd_name", "location": "skpd_location"}
_PYYAML = yaml.resolver.Resolver()


def round_trip_yaml() -> YAML:
    """ruamel.yaml as the example inventory is written: 2-space maps, lists indented under
    their key, long flow lines kept on one line."""
    rt = YAML()
    rt.width = 4096
    rt.preserve_quotes = True
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


@dataclass(frozen=True, slots=True)
class Imported:
    text: str
    """The inventory YAML as it would be written."""
    inventory: Inventory
    changed: bool
    """False when the table says nothing the existing file does not (the text is that file's)."""


@dataclass
class _Skpd:
    id: str
    records: list[Record] = field(default_factory=list)
    own: dict[str, tuple[str, Record]] = field(default_factory=dict)
    """The SKPD's own columns: value and the row that gave it."""
    implicit_name: str | None = None


@dataclass
class _Node:
    id: str
    skpd: str
    record: Record
    generated: bool


def _quoted(value: str) -> str:
    """`value`, quoted when PyYAML (the loader, YAML 1.1) would read it as anything but text:
    07:30 as a number, yes as a boolean, 2026-12-25 as a date."""
    if _PYYAML.resolve(yaml.ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str":
        return DoubleQuotedScalarString(value)
    return value


def _set(target: CommentedMap, key: str, value: Any) -> None:
    """Set, clear (None or empty) or leave alone when equal: an unchanged value keeps its
    quoting and comments."""
    if value is None or value == "" or value == []:
        target.pop(key, None)
    elif key not in target or target[key] != value:
        target[key] = _quoted(value) if isinstance(value, str) else value


def _flow_list(items: list[str]) -> CommentedSeq:
    made = CommentedSeq(items)
    made.fa.set_flow_style()
    return made


def _flow_map(items: Mapping[str, Any]) -> CommentedMap:
    made = CommentedMap()
    for key, value in items.items():
        _set(made, key, value)
    made.fa.set_flow_style()
    return made


def _sync(seq: CommentedSeq, wanted: list[Any]) -> None:
    """Make `seq` hold `wanted` (objects, by identity) in order, moving each item's comment
    with it rather than rebuilding the list."""
    keep = {id(x) for x in wanted}
    for i in reversed(range(len(seq))):
        if id(seq[i]) not in keep:
            _delete(seq, i)
    for i, item in enumerate(wanted):
        if i < len(seq) and seq[i] is item:
            continue
        j = next((k for k in range(i + 1, len(seq)) if seq[k] is item), None)
        comment = None
        if j is not None:
            comment = seq.ca.items.get(j)
            _delete(seq, j)
        seq.insert(i, item)
        if comment is not None:
            seq.ca.items[i] = comment


def _delete(seq: CommentedSeq, index: int) -> None:
    del seq[index]
    seq.ca.items.pop(index, None)
    for later in sorted(k for k in seq.ca.items if k > index):
        seq.ca.items[later - 1] = seq.ca.items.pop(later)


def _keep_anchors(data: Any) -> None:
    """ruamel drops an anchor nothing refers to yet (`holidays: &libur-nasional`): keep them."""
    anchor = getattr(data, "anchor", None)
    if anchor is not None and anchor.value:
        anchor.always_dump = True
    if isinstance(data, dict):
        for value in data.values():
            _keep_anchors(value)
    elif isinstance(data, list):
        for value in data:
            _keep_anchors(value)


def _seq(parent: CommentedMap, key: str) -> CommentedSeq:
    value = parent.get(key)
    if not isinstance(value, CommentedSeq):
        value = CommentedSeq()
        parent[key] = value
    return value


def _maps(value: Any) -> Iterator[CommentedMap]:
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, CommentedMap))


class _Builder:
    """One import: the table's rows checked and written into the existing document."""

    def __init__(self, table: Table, root: CommentedMap, prune: bool) -> None:
        self.table = table
        self.root = root
        self.prune = prune
        self.problems: list[RowProblem] = []
        core = root.get("core") if isinstance(root.get("core"), CommentedMap) else None
        self.old_skpds: dict[str, CommentedMap] = {
            str(s.get("id")): s for s in _maps(root.get("skpd"))
        }
        self.old_nodes: dict[str, tuple[CommentedMap, str]] = {}
        for n in _maps(core.get("nodes") if core else None):
            self.old_nodes[str(n.get("id"))] = (n, CORE)
        for skpd_id, s in self.old_skpds.items():
            for n in _maps(s.get("nodes")):
                self.old_nodes.setdefault(str(n.get("id")), (n, skpd_id))
        self.id_at_address = {
            str(n.get("address", "")).strip().casefold(): node_id
            for node_id, (n, _) in self.old_nodes.items()
        }
        names = [
            (skpd_id, str(n.get("name", "")).casefold(), node_id)
            for node_id, (n, skpd_id) in self.old_nodes.items()
            if n.get("name")
        ]
        once = Counter((skpd_id, name) for skpd_id, name, _ in names)
        self.id_named = {
            (skpd_id, name): node_id
            for skpd_id, name, node_id in names
            if once[(skpd_id, name)] == 1
        }
        """A node by its SKPD and name, when that name is not used twice there (a readdressed
        node found again)."""
        hours = root.get("office_hours")
        self.hour_names = set(hours) if isinstance(hours, dict) else set()
        self.origin: dict[str, tuple[Record, Mapping[str, str]]] = {}
        self.removed: dict[str, str] = {}
        self.inline_hours: list[Record] = []
        """Office hours defined in a Jam kantor cell (a CSV's way)."""
        """Nodes of the SKPDs the table lists that its rows leave out: id → SKPD."""

    def problem(self, record: Record, column: str | None, message: str) -> None:
        where = record.where.at(record.column(column) if column else None)
        self.problems.append(RowProblem(where, message))

    # --- reading the rows -------------------------------------------------------------------

    def skpd_of(self, record: Record) -> tuple[str, str | None] | None:
        """(id, the name the cell gave, if it gave a name rather than a code)."""
        cell = record.get("skpd")
        if not cell:
            self.problem(
                record, "skpd", "is empty; expected the SKPD's code (e.g. dinkes) or 'core'"
            )
            return None
        if cell.casefold() == CORE or cell in self.old_skpds:
            return (CORE if cell.casefold() == CORE else cell), None
        by_name = {str(s.get("name", "")).casefold(): i for i, s in self.old_skpds.items()}
        if cell.casefold() in by_name:
            return by_name[cell.casefold()], None
        if _ID.fullmatch(cell):
            return cell, None
        made = slug(cell)
        if not made:
            self.problem(record, "skpd", f"{cell!r} gives no code; expected e.g. dinkes")
            return None
        return made, cell

    def groups(self) -> dict[str, _Skpd]:
        groups: dict[str, _Skpd] = {}
        for record in self.table.devices:
            found = self.skpd_of(record)
            if found is None:
                continue
            skpd_id, implicit = found
            group = groups.setdefault(skpd_id, _Skpd(skpd_id))
            group.records.append(record)
            group.implicit_name = group.implicit_name or implicit
            for name in SKPD_FIELDS:
                value = record.get(name)
                if not value:
                    continue
                if name == "office_hours":
                    try:
                        value, inline = split_hours_cell(value)
                    except ValueError as exc:
                        self.problem(record, name, str(exc))
                        continue
                    if inline is not None:
                        column = record.column(name)
                        self.inline_hours.append(
                            Record(record.where, inline, dict.fromkeys(inline, column))
                        )
                if name in group.own and group.own[name][0] != value:
                    first = group.own[name][1]
                    self.problem(
                        record,
                        name,
                        f"{value!r} differs from {group.own[name][0]!r} on {first.where.row} of "
                        f"the same SKPD {skpd_id!r}; expected the SKPD's value on one row "
                        "(or the same on each)",
                    )
                else:
                    group.own.setdefault(name, (value, record))
        return groups

    def nodes(self, groups: Mapping[str, _Skpd]) -> dict[str, list[_Node]]:
        taken: dict[str, Record] = {}
        nodes: dict[str, list[_Node]] = {}
        for group in groups.values():
            nodes[group.id] = []
            for record in group.records:
                if not any(record.get(f) for f in NODE_FIELDS):
                    continue  # the SKPD's own row, no node on it
                node_id = record.get("id")
                if node_id:
                    if node_id in taken:
                        self.problem(
                            record,
                            "id",
                            f"duplicate node id {node_id!r}, already on "
                            f"{taken[node_id].where.row}; "
                            "expected every node id once (or leave the cell empty for one "
                            "made from the name)",
                        )
                        continue
                    taken[node_id] = record
                    nodes[group.id].append(_Node(node_id, group.id, record, False))
                else:
                    nodes[group.id].append(_Node("", group.id, record, True))
        # ids of rows without one, once every written id is known
        for group_nodes in nodes.values():
            for node in group_nodes:
                if not node.generated:
                    continue
                record = node.record
                old = self.id_at_address.get(record.get("address").casefold())
                if old is None or old in taken:
                    old = self.id_named.get((node.skpd, record.get("name").casefold()))
                if old is not None and old not in taken:
                    node.id = old  # the node already there: at that address, else of that name
                else:
                    base = record.id_hint or slug(record.get("name") or record.get("address"))
                    if not record.id_hint and not base.startswith(node.skpd):
                        base = f"{node.skpd}-{base}"
                    node.id, n = base, 2
                    while node.id in taken or node.id in self.old_nodes:
                        node.id, n = f"{base}-{n}", n + 1
                taken[node.id] = record
        return nodes

    def check_nodes(self, groups: Mapping[str, _Skpd], nodes: Mapping[str, list[_Node]]) -> None:
        kept = (
            set()
            if self.prune
            else {
                node_id for node_id, (_, skpd_id) in self.old_nodes.items() if skpd_id not in groups
            }
        )
        known = kept | {n.id for ns in nodes.values() for n in ns}
        for group_nodes in nodes.values():
            for node in group_nodes:
                r = node.record
                role = normalize_choice(r.get("role"))
                if role and role not in ROLES:
                    self.problem(
                        r,
                        "role",
                        f"unknown role {r.get('role')!r}; expected one of: {', '.join(ROLES)}"
                        + did_you_mean(role, ROLES),
                    )
                owner = normalize_choice(r.get("owner"))
                if owner and owner not in OWNERS:
                    self.problem(
                        r,
                        "owner",
                        f"unknown owner {r.get('owner')!r}; expected diskominfo (outside the "
                        "SKPD: uplinks, radio links, the gateway) or skpd (its own network)"
                        + did_you_mean(owner, OWNERS),
                    )
                parents = parse_parents(r.get("parent"))
                for parent in parents:
                    if parent not in known:
                        self.problem(
                            r,
                            "parent",
                            f"unknown node {parent!r}; expected the id of a node in the sheet "
                            "or the existing inventory" + did_you_mean(parent, known),
                        )
                    elif parent == node.id:
                        self.problem(
                            r, "parent", f"{parent!r} is the node itself; expected its upstream"
                        )

    # --- writing the document ---------------------------------------------------------------

    def node_map(self, node: _Node, flow: bool) -> CommentedMap:
        r, fields = node.record, self.table.fields
        old = self.old_nodes.get(node.id)
        target = old[0] if old else CommentedMap()
        role, owner = normalize_choice(r.get("role")), normalize_choice(r.get("owner"))
        parents = parse_parents(r.get("parent"))
        # A cell refused above gets a neutral stand-in, so that the loader still checks the
        # rest of the row and the others (the document is not written when anything is refused).
        refused = {p.where for p in self.problems}
        if r.where.at(r.column("role")) in refused:
            role = "host"
        if r.where.at(r.column("owner")) in refused:
            owner = "diskominfo" if node.skpd == CORE else "skpd"
        if r.where.at(r.column("parent")) in refused:
            parents = []
        values = {
            "id": node.id,
            "address": r.get("address"),
            "role": role,
            "owner": owner,
            # one parent as `parent:`, redundant paths as `parents: [a, b]` (the primary first)
            "parent": parents[0] if len(parents) == 1 else None,
            "parents": _flow_list(parents) if len(parents) > 1 else None,
            "name": r.get("name"),
        }
        for key, value in values.items():
            if key == "id" or _NODE_KEYS.get(key, key) in fields or old is None:
                _set(target, key, value)
        if old is None and flow:
            target.fa.set_flow_style()
        return target

    def skpd_map(self, group: _Skpd) -> CommentedMap:
        fields = self.table.fields
        target = self.old_skpds.get(group.id)
        new = target is None
        if target is None:
            target = CommentedMap()
            target["id"] = group.id

        def own(name: str) -> str:
            return group.own[name][0] if name in group.own else ""

        if "skpd_name" in fields or new:
            _set(target, "name", own("skpd_name") or group.implicit_name or target.get("name"))
        if new or fields & {"skpd_location", "lat", "lon"}:
            _set(target, "location", self.location(group, target.get("location")))
        if "office_hours" in fields or new:
            hours = own("office_hours")
            if hours and hours not in self.hour_names:
                record = group.own["office_hours"][1]
                self.problem(
                    record,
                    "office_hours",
                    f"unknown office hours {hours!r}; expected the name of a row of the "
                    "'Jam kantor' sheet or of the existing inventory's office_hours"
                    + did_you_mean(hours, self.hour_names),
                )
            _set(target, "office_hours", hours)
        if "contacts" in fields or new:
            self.set_contacts(group, target)
        return target

    def location(self, group: _Skpd, old: Any) -> Any:
        fields = self.table.fields
        old_map = old if isinstance(old, dict) else {"address": old} if old else {}
        address = group.own["skpd_location"][0] if "skpd_location" in group.own else None
        if "skpd_location" not in fields:
            address = old_map.get("address")
        position: dict[str, float] = {}
        for name in ("lat", "lon"):
            if name not in fields:
                if name in old_map:
                    position[name] = old_map[name]
                continue
            if name not in group.own:
                continue
            text, record = group.own[name]
            try:
                position[name] = float(text.replace(",", "."))
            except ValueError:
                self.problem(
                    record, name, f"{text!r} is not a number; expected degrees, e.g. -3.42"
                )
        if not position:
            if isinstance(old, str) and old == address:
                return old
            return address
        wanted = {**({"address": address} if address else {}), **position}
        if isinstance(old, CommentedMap) and dict(old) == wanted:
            return old
        return _flow_map(wanted)

    def set_contacts(self, group: _Skpd, target: CommentedMap) -> None:
        if "contacts" not in group.own:
            target.pop("contacts", None)
            return
        text, record = group.own["contacts"]
        try:
            contacts = parse_contacts(text)
        except ValueError as exc:
            self.problem(record, "contacts", str(exc))
            return
        old = target.get("contacts")
        if isinstance(old, list) and [dict(c) for c in old] == contacts:
            return
        target["contacts"] = CommentedSeq(_flow_map(c) for c in contacts)

    def hours(self) -> None:
        if not self.table.hours and not self.inline_hours:
            return
        defined: dict[str, Record] = {}
        section = self.root.get("office_hours")
        if not isinstance(section, CommentedMap):
            section = CommentedMap()
            self._insert_before(section, "office_hours", ("core", "skpd"))
        for record in (*self.table.hours, *self.inline_hours):
            name = record.get("name")
            if not name:
                self.problem(
                    record, "name", "is empty; expected the name the Jam kantor column uses"
                )
                continue
            if name in defined:
                first = defined[name]
                if dict(first.cells) != dict(record.cells):
                    self.problem(
                        record,
                        "name",
                        f"office hours {name!r} are defined differently at {first.where.at()}; "
                        "expected one definition (name them alone elsewhere)",
                    )
                continue
            defined[name] = record
            self.hour_names.add(name)  # a row with a mistake is named once, not by each SKPD
            wanted: dict[str, Any] = {}
            try:
                wanted["timezone"] = record.get("timezone") or "Asia/Makassar"
                wanted["days"] = parse_days(record.get("days") or "mon-fri")
            except ValueError as exc:
                self.problem(record, "days", str(exc))
                continue
            for key in ("start", "end"):
                wanted[key] = DoubleQuotedScalarString(record.get(key)) if record.get(key) else None
            try:
                wanted["holidays"] = parse_dates(record.get("holidays"))
            except ValueError as exc:
                self.problem(record, "holidays", str(exc))
                continue
            target = section.get(name)
            if not isinstance(target, CommentedMap):
                target = CommentedMap()
                section[name] = target
            for key, value in wanted.items():
                if key == "days" and isinstance(target.get(key), list) and target[key] == value:
                    continue
                if key == "days":
                    seq = CommentedSeq(value)
                    seq.fa.set_flow_style()
                    value = seq
                _set(target, key, value)
            self.hour_names.add(name)
            self.origin[f"office_hours.{name}"] = (record, {})

    def _insert_before(self, value: Any, key: str, before: tuple[str, ...]) -> None:
        keys = list(self.root)
        position = next((keys.index(k) for k in before if k in keys), len(keys))
        self.root.insert(position, key, value)

    def build(self) -> None:
        groups = self.groups()
        self.hours()
        nodes = self.nodes(groups)
        self.check_nodes(groups, nodes)
        claimed = {n.id for ns in nodes.values() for n in ns}
        self.removed = {
            node_id: skpd_id
            for node_id, (_, skpd_id) in self.old_nodes.items()
            if node_id not in claimed and skpd_id in groups
        }
        # nodes the table moves out of an SKPD it does not list
        for skpd_id, old in [(CORE, self.root.get("core")), *self.old_skpds.items()]:
            if isinstance(old, CommentedMap) and skpd_id not in groups and not self.prune:
                seq = old.get("nodes")
                if isinstance(seq, CommentedSeq):
                    _sync(seq, [n for n in seq if str(n.get("id")) not in claimed])
        # new nodes written as the file writes its nodes: the first whose style is known
        flow_default = True
        for group in groups.values():
            target = self.root.get("core") if group.id == CORE else self.old_skpds.get(group.id)
            seq = target.get("nodes") if isinstance(target, CommentedMap) else None
            styles = [n.fa.flow_style() for n in _maps(seq)]
            known = [style for style in styles if style is not None]
            if known:
                flow_default = bool(known[0])
                break
        skpd_list: list[CommentedMap] = []
        for group in groups.values():
            if group.id == CORE:
                core = self.root.get("core")
                if not isinstance(core, CommentedMap):
                    core = CommentedMap()
                    self._insert_before(core, "core", ("skpd",))
                if "skpd_name" in group.own:  # the core keeps its name unless a row gives one
                    _set(core, "name", group.own["skpd_name"][0])
                target = core
            else:
                target = self.skpd_map(group)
                skpd_list.append(target)
            wanted = [self.node_map(n, flow_default) for n in nodes[group.id]]
            if wanted or "nodes" in target:
                _sync(_seq(target, "nodes"), wanted)
        if self.prune and CORE not in groups:
            self.root.pop("core", None)
        final = [s for skpd_id, s in self.old_skpds.items() if skpd_id in groups or not self.prune]
        final += [s for s in skpd_list if all(s is not f for f in final)]
        _sync(_seq(self.root, "skpd"), final)
        self.remember(groups, nodes)

    def remember(self, groups: Mapping[str, _Skpd], nodes: Mapping[str, list[_Node]]) -> None:
        """Where each part of the document came from, to name the loader's problems by row."""
        by_id = {n.id: n.record for ns in nodes.values() for n in ns}
        core = self.root.get("core")
        for i, n in enumerate(_maps(core.get("nodes") if isinstance(core, dict) else None)):
            if str(n.get("id")) in by_id:
                self.origin[f"core.nodes[{i}]"] = (by_id[str(n.get("id"))], {})
        for si, s in enumerate(_maps(self.root.get("skpd"))):
            group = groups.get(str(s.get("id")))
            if group is None:
                continue
            rows = {name: record.where.row for name, (_, record) in group.own.items()}
            self.origin[f"skpd[{si}]"] = (group.records[0], rows)
            for ni, n in enumerate(_maps(s.get("nodes"))):
                if str(n.get("id")) in by_id:
                    self.origin[f"skpd[{si}].nodes[{ni}]"] = (by_id[str(n.get("id"))], {})

    def translate(self, error: InventoryError, file: str) -> list[str]:
        """The loader's problems, named by row and column where the table wrote the part."""
        out = []
        for p in error.problems:
            match = _YAML_PATH.match(p.path)
            message = _YAML_PATH.sub(self._row_name, p.message)
            if match is None or match.group(0) not in self.origin:
                line = self._existing_line(match.group(0)) if match else None
                where = (
                    f"{file}:{line}"
                    if line
                    else f"{file}:{p.line} (as imported)"
                    if p.line
                    else f"{file} (as imported)"
                )
                gone = re.match(r"unknown node '([^']+)'", p.message)
                if gone and gone.group(1) in self.removed:
                    message += (
                        f"; the import removes {gone.group(1)!r}, as {self.table.source} lists "
                        f"{self.removed[gone.group(1)]!r} without it: add its row, or change "
                        "this parent"
                    )
                out.append(f"{where}: {p.path}: {message}" if p.path else f"{where}: {message}")
                continue
            record, rows = self.origin[match.group(0)]
            rest = p.path[match.end() :].lstrip(".").split(".")
            key = re.sub(r"\[\d+\]$", "", rest[0]) if rest[0] else ""
            if match.group(0).startswith("office_hours."):
                column = key or None
            elif ".nodes[" in match.group(0) or match.group(0).startswith("core."):
                column = _NODE_KEYS.get(key, key) or None
            else:
                column = _SKPD_KEYS.get(key, key) or None
                if key == "location":
                    given = [f for f in ("lat", "lon", "skpd_location") if f in rows]
                    column = rest[1] if len(rest) > 1 and rest[1] in ("lat", "lon") else None
                    column = column or (given[0] if given else "skpd_location")
            row = rows.get(column, record.where.row) if column else record.where.row
            named = Where(record.where.source, row).at(record.column(column) if column else None)
            out.append(f"{named}: {message}")
        return out

    def _existing_line(self, path: str) -> int | None:
        """The line in the existing file of a part the import kept (`skpd[3].nodes[2]`)."""
        part: Any = self.root
        for key, index in re.findall(r"([a-z_]+)(?:\[(\d+)\])?", path):
            part = part.get(key) if isinstance(part, dict) else None
            if index and isinstance(part, list) and int(index) < len(part):
                part = part[int(index)]
        line = getattr(getattr(part, "lc", None), "line", None)
        return line + 1 if isinstance(line, int) else None

    def _row_name(self, match: re.Match[str]) -> str:
        found = self.origin.get(match.group(0))
        return found[0].where.row if found else match.group(0)


def import_table(
    table: Table,
    existing: str | None,
    file: str,
    *,
    prune: bool = False,
    resolve: Resolver | None = resolve_host,
) -> Imported:
    """The inventory `table` makes of `existing` (the output file's text, or None for a new
    one). Raises SheetError with every problem at once; nothing is written here."""
    if existing is not None:
        quick = _quick(table, existing, file, prune=prune, resolve=resolve)
        if quick is not None:
            return quick
    return import_by_round_trip(table, existing, file, prune=prune, resolve=resolve)


def import_by_round_trip(
    table: Table,
    existing: str | None,
    file: str,
    *,
    prune: bool = False,
    resolve: Resolver | None = resolve_host,
) -> Imported:
    """`import_table` the whole way: every part of the file round-tripped, every problem
    found and named. Also the reference its quick way is tested against."""
    rt = round_trip_yaml()
    if existing is not None:
        try:
            root = rt.load(existing)
        except YAMLError as exc:
            raise SheetError([f"{file}: cannot import over it: not valid YAML: {exc}"]) from exc
        if root is None:
            root = CommentedMap()
        if not isinstance(root, CommentedMap):
            raise SheetError(
                [f"{file}: cannot import over it: expected a mapping with core and skpd"]
            )
        _keep_anchors(root)
    else:
        root = CommentedMap()
        root.yaml_set_start_comment(
            f"SIGAP inventory, imported from {table.source} (sigap-exporter inventory import).\n"
            "owner: diskominfo = outside the SKPD (uplinks, radio links, the gateway);\n"
            "       skpd       = the SKPD's internal network (switches, access points, servers).\n"
            "parent: the node this one sits behind, seen from the NOC."
        )
    builder = _Builder(table, root, prune)
    builder.build()
    out = io.StringIO()
    rt.dump(root, out)
    text = out.getvalue()
    problems = [str(p) for p in builder.problems]
    try:
        inventory = parse_inventory(text, file, resolve=resolve)
    except InventoryError as exc:
        # the loader's view too, so every problem shows at once; a cell already named once
        # (an unknown parent, say) is not named again in the loader's words
        named = {p.where for p in builder.problems}
        problems += [p for p in builder.translate(exc, file) if p.split(": ", 1)[0] not in named]
    if problems:
        problems.sort(key=_reading_order)
        raise SheetError(problems)
    if existing is not None and text != existing:
        try:
            before = parse_inventory(existing, file, resolve=resolve)
        except InventoryError:
            before = None
        if before is not None and same_inventory(before, inventory):
            return Imported(existing, before, changed=False)
    return Imported(text, inventory, changed=text != existing)


def _commented(data: Any) -> Any:
    """Plain loaded data as ruamel's containers, for `_Builder` to work on."""
    if isinstance(data, dict):
        made = CommentedMap()
        for key, value in data.items():
            made[key] = _commented(value)
        return made
    if isinstance(data, list):
        return CommentedSeq(_commented(v) for v in data)
    return data


def _quick(
    table: Table, existing: str, file: str, *, prune: bool, resolve: Resolver | None
) -> Imported | None:
    """The import done without the round trip of the whole file, which costs seconds at 2,000
    nodes: the table is applied to the plain data PyYAML's C loader reads; if nothing changes,
    the file stays as it is; if only SKPD entries change, only those are round-tripped and
    spliced between the untouched text of the others. None: anything else (the core or the
    office hours change, a problem to report, an unusual layout): take the whole round trip."""
    try:
        data = yaml.load(existing, Loader=yaml.CSafeLoader)
        tree = yaml.compose(existing, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or not isinstance(tree, yaml.MappingNode):
        return None
    plain = _commented(data)
    builder = _Builder(table, plain, prune)
    builder.build()
    if builder.problems:
        return None
    if plain == data:
        text = existing
    elif any(plain.get(k) != data.get(k) for k in {*plain, *data} - {"skpd"}):
        return None
    else:
        spliced = _splice(table, existing, tree, data, plain, prune)
        if spliced is None:
            return None
        text = spliced
    try:
        inventory = parse_inventory(text, file, resolve=resolve)
    except InventoryError:
        return None
    return Imported(text, inventory, changed=text != existing)


def _splice(
    table: Table,
    existing: str,
    tree: yaml.MappingNode,
    data: dict[str, Any],
    plain: CommentedMap,
    prune: bool,
) -> str | None:
    """`existing` with the SKPD entries the table changes (`plain`: the data with the table
    applied) round-tripped, comments kept, and the others as they are written."""
    lines = existing.splitlines(keepends=True)
    keys = [k for k, _ in tree.value]
    found = [i for i, k in enumerate(keys) if isinstance(k, yaml.ScalarNode) and k.value == "skpd"]
    if not found or not isinstance(tree.value[found[0]][1], yaml.SequenceNode):
        return None
    seq: yaml.SequenceNode = tree.value[found[0]][1]
    starts = [item.start_mark.line for item in seq.value]
    after = tree.value[found[0] + 1][0].start_mark.line if found[0] + 1 < len(keys) else len(lines)
    ends = [*starts[1:], after]
    items = data.get("skpd")
    if (
        not isinstance(items, list)
        or len(items) != len(starts)
        or any(
            b <= a for a, b in zip([keys[found[0]].start_mark.line, *starts], starts, strict=False)
        )
        or any(
            not lines[n].startswith("  - ") or item.start_mark.column != 4
            for n, item in zip(starts, seq.value, strict=True)
        )
    ):
        return None  # a flow list, or items not indented as the dump writes them
    rt = round_trip_yaml()
    root = _commented(data)
    blocks: dict[int, int] = {}  # id() of an entry kept as written -> its index in the file
    before = {str(s.get("id")): s for s in items if isinstance(s, dict)}
    changed = {
        str(s.get("id")) for s in _maps(plain.get("skpd")) if before.get(str(s.get("id"))) != s
    }
    for index, original in enumerate(items):
        if isinstance(original, dict) and str(original.get("id")) in changed:
            try:
                loaded = rt.load("skpd:\n" + "".join(lines[starts[index] : ends[index]]))
            except YAMLError:
                return None  # e.g. an alias to an anchor outside the entry
            _keep_anchors(loaded)
            root["skpd"][index] = loaded["skpd"][0]
        else:
            blocks[id(root["skpd"][index])] = index
    builder = _Builder(table, root, prune)
    builder.build()
    if builder.problems:
        return None
    out = ["".join(lines[: starts[0]])]
    for entry in root["skpd"]:
        at = blocks.get(id(entry))
        if at is not None:
            if entry != items[at]:
                return None  # an entry thought unchanged was changed after all
            block = "".join(lines[starts[at] : ends[at]])
            out.append(block if block.endswith("\n") else block + "\n")
        else:
            holder = CommentedMap()
            holder["skpd"] = CommentedSeq([entry])
            dumped = io.StringIO()
            rt.dump(holder, dumped)
            out.append(dumped.getvalue().split("\n", 1)[1])
    out.append("".join(lines[after:]))
    return "".join(out)


def _reading_order(problem: str) -> tuple[int, str, int]:
    """Problems sheet by sheet, row by row; those of the file itself last."""
    match = re.match(r"(.*?), row (\d+)", problem)
    if match:
        return (0, match.group(1), int(match.group(2)))
    line = re.match(r"(.*?):(\d+)[: ]", problem)
    return (1, line.group(1), int(line.group(2))) if line else (2, problem, 0)


def same_inventory(a: Inventory, b: Inventory) -> bool:
    """Whether two inventories describe the same network (the file's name and layout aside)."""
    return (
        a.probe == b.probe
        and a.core_name == b.core_name
        and list(a.skpds.items()) == list(b.skpds.items())
        and a.nodes == b.nodes
        and a.topology_order() == b.topology_order()
    )


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step: a reader (the exporter's reload) sees the old
    file or the new one, never half of it. The file's permissions stay."""
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
