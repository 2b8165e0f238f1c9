"""The inventory: one YAML file that describes the network, shared by the exporter and the webhook.

`load_inventory()` validates the file into a frozen `Inventory` or raises `InventoryError`, whose
message names the file, the line, the path (``skpd[3].nodes[2].parent``), the bad value and what
was expected. The model is pure: no sockets except the optional hostname resolution at load.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

CORE = "core"
"""The pseudo-SKPD of Diskominfo's own core routers and internet upstreams."""

Role = Literal[
    "internet",
    "core",
    "router",
    "distribution",
    "uplink",
    "radio",
    "gateway",
    "firewall",
    "switch",
    "access_point",
    "server",
    "host",
]
ROLES: tuple[Role, ...] = get_args(Role)
Owner = Literal["diskominfo", "skpd"]
RESERVED_LABELS = frozenset(
    {"skpd", "node", "role", "owner", "address", "parent", "name", "handover", "instance", "job"}
)
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_DURATION_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object) -> float:
    """Seconds from a Prometheus-style duration (``500ms``, ``2s``, ``1m30s``) or a number."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; expected e.g. 500ms, 2s, 1m")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"{value!r} is not a duration; expected e.g. 500ms, 2s, 1m")
        seconds = sum(float(n) * _DURATION_UNIT[u] for n, u in parts)
    else:
        raise ValueError(f"{value!r} is not a duration; expected e.g. 500ms, 2s, 1m")
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""In `datetime.weekday()` order."""
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$|^24:00$")


def parse_clock_time(value: object) -> int:
    """Minutes after midnight of an ``HH:MM`` time of day (``24:00`` is the end of the day)."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 07:30 as the base-60 number 450
        raise ValueError(
            f"bad time {value!r}: YAML read an unquoted time as a number; "
            f'write it in quotes, e.g. "{value // 60:02d}:{value % 60:02d}"'
        )
    if not isinstance(value, str) or not _CLOCK_TIME.match(value.strip()):
        raise ValueError(f'bad time {value!r}; expected HH:MM in quotes, e.g. "07:30"')
    hours, minutes = value.strip().split(":")
    return int(hours) * 60 + int(minutes)


def parse_time_zone(value: object) -> ZoneInfo:
    if isinstance(value, str) and value.strip():
        try:
            return ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ValueError(
        f"unknown time zone {value!r}; expected an IANA name such as Asia/Makassar (WITA), "
        "Asia/Jakarta (WIB) or Asia/Jayapura (WIT)"
    )


ClockTime = Annotated[int, BeforeValidator(parse_clock_time)]
TimeZone = Annotated[ZoneInfo, BeforeValidator(parse_time_zone)]


# --- the file's shape (pydantic: types, enums, unknown keys) -------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ProbeSpec(_Strict):
    interval: Duration | None = None
    timeout: Duration | None = None
    down_after: Annotated[int, Field(ge=1, le=1000)] | None = None
    window: Duration | None = None


class _ContactSpec(_Strict):
    name: str
    role: str = "admin"
    phone: str | None = None
    email: str | None = None


class _NodeSpec(_Strict):
    id: str
    address: str
    role: Role
    owner: Owner
    parent: str | None = None
    parents: Annotated[list[str], Field(min_length=1)] | None = None
    """Redundant paths: every node this one can be reached through, the primary first."""
    name: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    probe: _ProbeSpec | None = None
    # Shorthands: a node may override the probe settings directly, as in the example.
    interval: Duration | None = None
    timeout: Duration | None = None
    down_after: Annotated[int, Field(ge=1, le=1000)] | None = None


class _CoreSpec(_Strict):
    name: str = "Diskominfo (core)"
    nodes: list[_NodeSpec] = Field(default_factory=list)


def _working_days() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class _OfficeHoursSpec(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    timezone: TimeZone = Field(default_factory=lambda: ZoneInfo("Asia/Makassar"))
    days: Annotated[list[Weekday], Field(min_length=1)] = Field(default_factory=_working_days)
    start: ClockTime
    end: ClockTime
    holidays: list[date] = Field(default_factory=list)


def _address_only(value: object) -> object:
    """`location: Jl. ...` (the address alone, as before) reads as `{address: Jl. ...}`."""
    return {"address": value} if isinstance(value, str) else value


class _LocationSpec(_Strict):
    address: str | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> _LocationSpec:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("expected both lat and lon (degrees, e.g. lat: -3.42, lon: 115.99)")
        return self


class _SkpdSpec(_Strict):
    id: str
    name: str
    location: Annotated[_LocationSpec | None, BeforeValidator(_address_only)] = None
    """The office's address, or `{address, lat, lon}`: where the map draws it."""
    office_hours: str | None = None
    """The name of one of the inventory's `office_hours`; none: always expected."""
    internal: bool = False
    """The SKPD asked to stay off the public status page (its card, feed, badge, its links on
    the public map); the NOC sees it as any other."""
    contacts: list[_ContactSpec] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    nodes: list[_NodeSpec] = Field(default_factory=list)


class _InventorySpec(_Strict):
    probe: _ProbeSpec = Field(default_factory=_ProbeSpec)
    office_hours: dict[str, _OfficeHoursSpec] = Field(default_factory=dict)
    core: _CoreSpec = Field(default_factory=_CoreSpec)
    skpd: list[_SkpdSpec]


# --- the validated model --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    interval: float = 1.0
    timeout: float = 1.0
    down_after: int = 3
    window: float = 60.0
    """Seconds of history behind the loss ratio and the jitter."""

    @property
    def window_probes(self) -> int:
        return max(1, round(self.window / self.interval))


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    role: str
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """When an SKPD's own equipment is expected on: `start` to `end` (minutes after local
    midnight, end excluded) on `days`, except on `holidays`, in `timezone`."""

    name: str
    timezone: ZoneInfo
    days: frozenset[int]
    """`datetime.weekday()` numbers: 0 is Monday."""
    start: int
    end: int
    holidays: frozenset[date]

    def covers(self, now: datetime) -> bool:
        """Whether `now` (timezone-aware) falls within these hours."""
        local = now.astimezone(self.timezone)
        minute = local.hour * 60 + local.minute
        return (
            local.weekday() in self.days
            and local.date() not in self.holidays
            and self.start <= minute < self.end
        )


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    address: str
    """As written in the inventory: an IPv4/IPv6 address or a hostname."""
    ip: str
    """The address probed: `address` itself, or what the hostname resolved to."""
    family: int
    """4 or 6."""
    role: str
    owner: str
    skpd: str
    """The SKPD's id, or `CORE` for Diskominfo's core."""
    parents: tuple[str, ...]
    """The nodes this one is reached through (`parent:` or `parents:`), the primary first;
    empty for a root. The node is reachable while any of them is."""
    name: str | None
    labels: Mapping[str, str]
    probe: ProbeSettings
    path: str
    """Where the node is written in the file, e.g. ``skpd[3].nodes[2]``."""
    office_hours: OfficeHours | None = None
    """Its SKPD's hours when the SKPD owns it (`owner: skpd`) and declares them; else None:
    always expected (Diskominfo's uplinks and gateways, the core, SKPDs without hours)."""

    @property
    def parent(self) -> str | None:
        """The primary parent (the first of `parents`): the tree the lists and the map draw."""
        return self.parents[0] if self.parents else None


def expected_up(node: Node, now: datetime) -> bool:
    """Whether the node is expected to answer at `now`: always, unless it is an SKPD's own
    equipment and `now` is outside that SKPD's office hours."""
    return node.office_hours is None or node.office_hours.covers(now)


@dataclass(frozen=True, slots=True)
class Skpd:
    id: str
    name: str
    location: str | None
    """The office's address."""
    contacts: tuple[Contact, ...]
    labels: Mapping[str, str]
    node_ids: tuple[str, ...]
    office_hours: OfficeHours | None = None
    position: tuple[float, float] | None = None
    """(lat, lon) of the office in degrees, when the inventory gives them."""
    internal: bool = False
    """Never on the public status page (`internal: true` in the inventory)."""


@dataclass(frozen=True)
class Inventory:
    path: str
    probe: ProbeSettings
    core_name: str
    skpds: Mapping[str, Skpd]
    nodes: Mapping[str, Node]
    """Every node, parents before children (by depth; file order within a depth)."""
    children: Mapping[str, tuple[str, ...]] = field(repr=False)

    def ancestors(self, node_id: str) -> Iterator[Node]:
        """Every node on any path from this one up to a root, each once, nearest first."""
        seen: set[str] = set()
        queue = list(self.nodes[node_id].parents)
        while queue:
            parent = queue.pop(0)
            if parent not in seen:
                seen.add(parent)
                node = self.nodes[parent]
                yield node
                queue.extend(node.parents)

    def descendants(self, node_id: str) -> Iterator[Node]:
        """Every node behind this one (through any of its parents), each once, depth-first."""
        seen: set[str] = set()
        stack = list(reversed(self.children.get(node_id, ())))
        while stack:
            child = stack.pop()
            if child not in seen:
                seen.add(child)
                yield self.nodes[child]
                stack.extend(reversed(self.children.get(child, ())))

    def topology_order(self) -> list[str]:
        """Every node id depth-first along primary parents: each node right before its
        subtree, siblings in file order, so a list sorted by this position draws the tree (a
        gateway, then its switches and their access points, then the next gateway). A node
        with redundant paths sits under its first parent."""
        order: list[str] = []
        stack = [n.id for n in self.nodes.values() if not n.parents][::-1]
        while stack:
            node_id = stack.pop()
            order.append(node_id)
            stack.extend(
                child
                for child in reversed(self.children.get(node_id, ()))
                if self.nodes[child].parent == node_id
            )
        return order

    def handover(self, node_id: str) -> bool:
        """Whether the node is where Diskominfo hands the connection over to its SKPD (the
        SKPD's gateway): a Diskominfo node of an SKPD, reached through Diskominfo's nodes
        only, with none of Diskominfo's nodes behind it. Its reachability is the connection
        Diskominfo delivers (README, "Availability")."""
        node = self.nodes[node_id]
        if node.skpd == CORE or node.owner != "diskominfo":
            return False
        if any(self.nodes[p].owner != "diskominfo" for p in node.parents):
            return False
        return not any(
            self.nodes[c].owner == "diskominfo" and self.nodes[c].skpd == node.skpd
            for c in self.children.get(node_id, ())
        )

    def nodes_of(self, skpd_id: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.skpd == skpd_id]

    def skpd_name(self, skpd_id: str) -> str:
        if skpd_id == CORE:
            return self.core_name
        skpd = self.skpds.get(skpd_id)
        return skpd.name if skpd else skpd_id


# --- paths to the core (the topology applied to the nodes' states) ------------------------------


class Upstream(NamedTuple):
    """What the topology makes of one node's state (`upstream()`); a tuple, as a scrape of
    20,000 nodes makes one per node."""

    up: bool
    """At least one parent reaches the core (true for a root): `sigap_node_upstream_up`."""
    paths: int
    """Parents the node has: 2 or more is a redundant node."""
    paths_up: int
    """Parents that reach the core now: fewer than `paths` is redundancy lost."""
    bypassed: bool
    """The node cannot be reached, yet nothing behind it is cut off: every node directly
    behind it still has another parent that reaches the core, or is bypassed itself. Never
    true for a node with nothing behind it."""


def upstream(
    order: Sequence[str], parents: Mapping[str, Sequence[str]], up: Mapping[str, bool | None]
) -> dict[str, Upstream]:
    """For each node (parents first in `order`): its paths to the core.

    A node is reachable when it is not down and a parent is reachable (a root: when it is not
    down). A node whose state is not known yet counts as up, so that a starting exporter does not
    claim an upstream outage it has not seen; so does a parent this exporter does not probe.
    Only unreachable nodes are looked at twice (bottom-up, for `bypassed`).
    """
    reachable: dict[str, bool] = {}
    found: dict[str, Upstream] = {}
    unreachable: list[str] = []
    for node in order:
        mine = parents[node]
        live = 0
        for p in mine:
            if reachable.get(p, True):
                live += 1
        through = live > 0 or not mine
        reachable[node] = ok = through and up.get(node) is not False
        found[node] = Upstream(through, len(mine), live, False)
        if not ok:
            unreachable.append(node)
    if not unreachable:
        return found
    children: dict[str, list[str]] = {}
    for node in order:
        for p in parents[node]:
            if not reachable.get(p, True):
                children.setdefault(p, []).append(node)
    for node in reversed(unreachable):
        below = children.get(node)
        if below and all(found[c].up or found[c].bypassed for c in below):
            found[node] = found[node]._replace(bypassed=True)
    return found


# --- errors ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str
    line: int | None = None


class ConfigError(Exception):
    """A config file that cannot be used; `str()` is one readable line per problem, each
    naming the file, the line, the path in the file and what was expected."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(self._format())

    def _format(self) -> str:
        lines = []
        for p in self.problems:
            where = f"{self.file}:{p.line}" if p.line else self.file
            lines.append(f"{where}: {p.path}: {p.message}" if p.path else f"{where}: {p.message}")
        return "\n".join(lines)


class InventoryError(ConfigError):
    """An inventory that cannot be used."""


def format_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_index(text: str) -> dict[tuple[Any, ...], int]:
    """Map every path in the YAML document to its 1-based line number."""
    index: dict[tuple[Any, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return index

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        index[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    index[(*path, key.value)] = key.start_mark.line + 1
                    walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return index


class YamlLines:
    """The line index, built only when there is a problem to report (it costs a second parse)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._index: dict[tuple[Any, ...], int] | None = None

    def line_for(self, loc: tuple[Any, ...]) -> int | None:
        if self._index is None:
            self._index = _line_index(self._text)
        return _line_for(self._index, loc)


def _line_for(index: Mapping[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    while loc:
        if loc in index:
            return index[loc]
        loc = loc[:-1]
    return index.get(())


def _pydantic_problem(err: Mapping[str, Any]) -> tuple[tuple[Any, ...], str]:
    # pydantic adds validator names ("function-before[...]") to locations; they are not paths
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
    kind = err["type"]
    if kind == "extra_forbidden":
        return loc, f"unknown key {loc[-1]!r}; expected one of: {_allowed_keys(loc[:-1])}"
    if kind == "missing":
        return loc, "is required but missing"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        return loc, msg[len("Value error, ") :]
    return loc, f"bad value {err.get('input')!r}: {msg[0].lower()}{msg[1:]}"


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _allowed_keys(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] = _InventorySpec
    for part in loc:
        if isinstance(part, str):
            info = model.model_fields.get(part)
            inner = _inner_model(info.annotation) if info else None
            if inner is None:
                break
            model = inner
    return ", ".join(model.model_fields)


# --- loading --------------------------------------------------------------------------------------


Resolver = Callable[[str], tuple[str, int]]


def resolve_host(host: str) -> tuple[str, int]:
    """(ip, family) of a hostname, the first address the system resolver returns."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_ICMP)
    family, *_rest, sockaddr = infos[0]
    return str(sockaddr[0]), 6 if family == socket.AF_INET6 else 4


def load_inventory(path: str | Path, *, resolve: Resolver | None = resolve_host) -> Inventory:
    """Read and validate an inventory file; `resolve=None` leaves hostnames unresolved."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(
            file, [Problem("", f"cannot read the file: {exc.strerror or exc}")]
        ) from exc
    return parse_inventory(text, file, resolve=resolve)


def parse_inventory(
    text: str, file: str = "<inventory>", *, resolve: Resolver | None = resolve_host
) -> Inventory:
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InventoryError(file, [Problem("", f"not valid YAML: {exc.problem}", line)]) from exc
    except yaml.YAMLError as exc:
        raise InventoryError(file, [Problem("", f"not valid YAML: {exc}")]) from exc
    lines = YamlLines(text)
    if not isinstance(data, dict):
        raise InventoryError(
            file, [Problem("", "expected a mapping with the keys probe, core and skpd", 1)]
        )
    try:
        spec = _InventorySpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc, message = _pydantic_problem(err)
            problems.append(Problem(format_path(loc), message, lines.line_for(loc)))
        raise InventoryError(file, problems) from None
    return _build(spec, file, lines, resolve)


def _effective_probe(
    base: ProbeSettings, spec: _NodeSpec | None, probe: _ProbeSpec | None
) -> ProbeSettings:
    values = {
        "interval": base.interval,
        "timeout": base.timeout,
        "down_after": base.down_after,
        "window": base.window,
    }
    for source in (probe, spec):
        if source is None:
            continue
        for key in values:
            value = getattr(source, key, None)
            if value is not None:
                values[key] = value
    return ProbeSettings(**values)  # type: ignore[arg-type]


def _build(
    spec: _InventorySpec,
    file: str,
    lines: YamlLines,
    resolve: Resolver | None,
) -> Inventory:
    problems: list[Problem] = []

    def problem(loc: tuple[Any, ...], message: str) -> None:
        problems.append(Problem(format_path(loc), message, lines.line_for(loc)))

    defaults = _effective_probe(ProbeSettings(), None, spec.probe)
    if defaults.timeout > defaults.interval:
        problem(
            ("probe", "timeout"),
            f"{defaults.timeout:g}s is longer than the interval "
            f"{defaults.interval:g}s; expected a timeout no longer than the interval",
        )

    hours = {
        name: OfficeHours(
            name=name,
            timezone=h.timezone,
            days=frozenset(WEEKDAYS.index(d) for d in h.days),
            start=h.start,
            end=h.end,
            holidays=frozenset(h.holidays),
        )
        for name, h in spec.office_hours.items()
    }
    for name, h in hours.items():
        if h.start >= h.end:
            problem(
                ("office_hours", name, "end"),
                f"{h.end // 60:02d}:{h.end % 60:02d} is not after the start "
                f"{h.start // 60:02d}:{h.start % 60:02d}; expected an end later the same day "
                '(hours across midnight are not supported; "24:00" ends the day)',
            )
        elif h.start >= 24 * 60:
            problem(("office_hours", name, "start"), 'expected a start before "24:00"')
    skpd_hours: dict[str, OfficeHours] = {}
    for si, s in enumerate(spec.skpd):
        if s.office_hours is None:
            continue
        if s.office_hours in hours:
            skpd_hours[s.id] = hours[s.office_hours]
        else:
            known = ", ".join(hours) or "none are declared (add a top-level office_hours)"
            problem(
                ("skpd", si, "office_hours"),
                f"unknown office hours {s.office_hours!r}; expected the name of one of the "
                f"inventory's office_hours: {known}",
            )

    # (loc, node spec, skpd id) for every node, in file order
    entries: list[tuple[tuple[Any, ...], _NodeSpec, str]] = [
        (("core", "nodes", i), n, CORE) for i, n in enumerate(spec.core.nodes)
    ]
    skpd_ids: dict[str, tuple[Any, ...]] = {}
    for si, s in enumerate(spec.skpd):
        loc = ("skpd", si, "id")
        if not _ID.fullmatch(s.id):
            problem(loc, f"bad id {s.id!r}; expected lower-case letters, digits, '-', '_' or '.'")
        elif s.id == CORE:
            problem(loc, f"{CORE!r} is reserved for the core section; choose another id")
        elif s.id in skpd_ids:
            problem(
                loc,
                f"duplicate SKPD id {s.id!r}, first used at {format_path(skpd_ids[s.id])}; "
                "expected every SKPD id once",
            )
        else:
            skpd_ids[s.id] = loc
        for key in s.labels:
            _check_label(problem, ("skpd", si, "labels", key), key)
        entries.extend((("skpd", si, "nodes", ni), n, s.id) for ni, n in enumerate(s.nodes))

    ids: dict[str, tuple[Any, ...]] = {}
    ips: dict[str, tuple[Any, ...]] = {}
    built: dict[str, Node] = {}
    for loc, n, skpd_id in entries:
        if not _ID.fullmatch(n.id):
            problem(
                (*loc, "id"),
                f"bad id {n.id!r}; expected lower-case letters, digits, '-', '_' or '.'",
            )
            continue
        if n.id in ids:
            problem(
                (*loc, "id"),
                f"duplicate node id {n.id!r}, first used at {format_path(ids[n.id])}; "
                "expected every node id once in the whole inventory",
            )
            continue
        ids[n.id] = loc
        if skpd_id == CORE and n.owner != "diskominfo":
            problem(
                (*loc, "owner"),
                f"bad value {n.owner!r}: core nodes belong to Diskominfo; expected 'diskominfo'",
            )
        for key in n.labels:
            _check_label(problem, (*loc, "labels", key), key)
        probe = _effective_probe(defaults, n, n.probe)
        if probe.timeout > probe.interval:
            problem(
                (*loc, "timeout"),
                f"{probe.timeout:g}s is longer than the interval "
                f"{probe.interval:g}s; expected a timeout no longer than the interval",
            )
        address = n.address.strip()
        ip, family = _address(problem, (*loc, "address"), address, resolve)
        if ip is not None:
            if ip in ips:
                problem(
                    (*loc, "address"),
                    f"duplicate address {address!r} ({ip}), already used by "
                    f"{format_path(ips[ip])}; expected every node to have its own address",
                )
            ips[ip] = loc
        skpd_labels = spec.skpd[loc[1]].labels if skpd_id != CORE else {}
        built[n.id] = Node(
            id=n.id,
            address=address,
            ip=ip or address,
            family=family,
            role=n.role,
            owner=n.owner,
            skpd=skpd_id,
            parents=_parents_of(problem, loc, n),
            name=n.name,
            labels={**skpd_labels, **n.labels},
            probe=probe,
            path=format_path(loc),
            office_hours=skpd_hours.get(skpd_id) if n.owner == "skpd" else None,
        )

    for loc, n, _ in entries:
        if ids.get(n.id) != loc:
            continue
        key, listed = ("parent", [n.parent]) if n.parents is None else ("parents", n.parents)
        for i, parent in enumerate(listed):
            where = (*loc, key) if key == "parent" else (*loc, key, i)
            if parent is None:
                continue
            if parent not in built:
                problem(
                    where,
                    f"unknown node {parent!r}; expected the id of a node "
                    "defined in this inventory (core or any SKPD)",
                )
            elif parent == n.id:
                problem(where, f"{parent!r} is the node itself; expected its upstream node")

    _check_cycles(problem, built, ids)
    if problems:
        raise InventoryError(file, problems)

    order = _topological(built)
    children: dict[str, list[str]] = {}
    for node in order:
        for parent in node.parents:
            children.setdefault(parent, []).append(node.id)
    skpds = {
        s.id: Skpd(
            id=s.id,
            name=s.name,
            location=s.location.address if s.location else None,
            position=(s.location.lat, s.location.lon)
            if s.location and s.location.lat is not None and s.location.lon is not None
            else None,
            contacts=tuple(Contact(c.name, c.role, c.phone, c.email) for c in s.contacts),
            labels=dict(s.labels),
            node_ids=tuple(n.id for n in s.nodes),
            office_hours=skpd_hours.get(s.id),
            internal=s.internal,
        )
        for s in spec.skpd
    }
    return Inventory(
        path=file,
        probe=defaults,
        core_name=spec.core.name,
        skpds=skpds,
        nodes={n.id: n for n in order},
        children={k: tuple(v) for k, v in children.items()},
    )


def _check_label(
    problem: Callable[[tuple[Any, ...], str], None], loc: tuple[Any, ...], key: str
) -> None:
    if not _LABEL_NAME.match(key) or key.startswith("__"):
        problem(
            loc,
            f"bad label name {key!r}; expected a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)",
        )
    elif key in RESERVED_LABELS:
        problem(loc, f"label {key!r} is set by SIGAP itself; choose another name")


def _address(
    problem: Callable[[tuple[Any, ...], str], None],
    loc: tuple[Any, ...],
    address: str,
    resolve: Resolver | None,
) -> tuple[str | None, int]:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        pass
    else:
        if ip.is_unspecified or ip.is_multicast:
            problem(loc, f"bad address {address!r}; expected the unicast address of a node")
            return None, ip.version
        return str(ip), ip.version
    if re.fullmatch(r"[\d.]+", address) or not re.fullmatch(
        r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?",
        address,
    ):
        problem(loc, f"bad address {address!r}; expected an IPv4 or IPv6 address or a hostname")
        return None, 4
    if resolve is None:
        return None, 4
    try:
        return resolve(address)
    except (OSError, UnicodeError) as exc:
        problem(
            loc,
            f"hostname {address!r} does not resolve ({exc}); expected a name this machine "
            "can resolve, or write the IP address",
        )
        return None, 4


def _parents_of(
    problem: Callable[[tuple[Any, ...], str], None], loc: tuple[Any, ...], n: _NodeSpec
) -> tuple[str, ...]:
    """`parent: a` or `parents: [a, b]`, never both, each parent once."""
    if n.parents is None:
        return () if n.parent is None else (n.parent,)
    if n.parent is not None:
        problem(
            (*loc, "parents"),
            "both parent and parents are given; expected one of them: "
            f"parents: [{', '.join([n.parent, *[p for p in n.parents if p != n.parent]])}]",
        )
    for i, parent in enumerate(n.parents):
        if parent in n.parents[:i]:
            problem(
                (*loc, "parents", i),
                f"{parent!r} is listed twice; expected each parent once",
            )
    return tuple(dict.fromkeys(n.parents))


def _check_cycles(
    problem: Callable[[tuple[Any, ...], str], None],
    nodes: Mapping[str, Node],
    ids: Mapping[str, tuple[Any, ...]],
) -> None:
    """Every path up through any parent must end at a root: one problem per cycle found."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = every path from it ends at a root
    for start in nodes:
        if start in state:
            continue
        # iterative depth-first walk up the parents: (node, its parents not yet walked)
        path: list[str] = []
        stack: list[tuple[str, list[str]]] = [(start, list(nodes[start].parents))]
        state[start] = 1
        path.append(start)
        while stack:
            node_id, pending = stack[-1]
            if not pending:
                stack.pop()
                path.pop()
                state[node_id] = 2
                continue
            parent = pending.pop(0)
            if parent not in nodes or parent == node_id:
                continue  # reported as unknown or as the node itself
            if state.get(parent) == 1:
                cycle = [*path[path.index(parent) :], parent]
                key = "parent" if len(nodes[cycle[0]].parents) == 1 else "parents"
                problem(
                    (*ids[cycle[0]], key),
                    "makes a cycle "
                    + " → ".join(cycle)
                    + "; expected every chain of parents to end at a node without a parent",
                )
            elif parent not in state:
                state[parent] = 1
                path.append(parent)
                stack.append((parent, list(nodes[parent].parents)))


def _topological(nodes: Mapping[str, Node]) -> list[Node]:
    """Parents before children (by the longest path from a root); file order within a depth."""
    depth: dict[str, int] = {}
    for node_id in nodes:
        stack = [node_id]
        while stack:
            current = stack[-1]
            if current in depth:
                stack.pop()
                continue
            pending = [p for p in nodes[current].parents if p not in depth]
            if pending:
                stack.extend(pending)
                continue
            depth[current] = max((depth[p] + 1 for p in nodes[current].parents), default=0)
            stack.pop()
    return sorted(nodes.values(), key=lambda n: depth[n.id])
