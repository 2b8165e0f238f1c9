"""The public status page's content, pure: each SKPD's connection now from node, incident and
maintenance facts; the open incident's stage in plain words; 90 days of daily availability as a
bar of days (SVG); the badge. Only what the public may see leaves this module: no addresses, no
node of the SKPD's own equipment, no names, no form text (see `PublicSkpd`)."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from exporter.inventory import Inventory, upstream
from webhook.core.localtime import format_moment, local
from webhook.core.refusals import Refused
from webhook.core.workflow import OPEN_STATES, Responsibility, State

DAYS = 90
NOTICE_LIMIT = 280
"""A notice is one short paragraph: what a phone shows above the list."""


class Condition(StrEnum):
    NORMAL = "normal"
    DEGRADED = "degraded"  # some of the SKPD's own equipment does not answer
    DOWN_DISKOMINFO = "down_diskominfo"  # the uplink, gateway or core: Diskominfo's side
    DOWN_SKPD = "down_skpd"  # inside the SKPD's network
    MAINTENANCE = "maintenance"
    AFTER_HOURS = "after_hours"  # outside office hours: the SKPD's equipment may be off
    UNKNOWN = "unknown"  # no reading (Prometheus not configured or not answering)


WORDS: dict[str, dict[str, str]] = {
    "title": {"id": "Status jaringan SKPD", "en": "SKPD network status"},
    "intro": {
        "id": "Kondisi koneksi internet dan intranet setiap SKPD Kabupaten Tanah Bumbu, "
        "diperbarui otomatis.",
        "en": "The internet and intranet connection of every SKPD of Tanah Bumbu, updated "
        "automatically.",
    },
    "updated": {"id": "Diperbarui", "en": "Updated"},
    "normal": {"id": "Normal", "en": "Normal"},
    "degraded": {"id": "Terganggu sebagian", "en": "Partly degraded"},
    "down_diskominfo": {
        "id": "Putus (jaringan Diskominfo)",
        "en": "Down (Diskominfo's network)",
    },
    "down_skpd": {"id": "Putus (jaringan internal SKPD)", "en": "Down (inside the SKPD)"},
    "maintenance": {"id": "Pemeliharaan terencana", "en": "Planned maintenance"},
    "after_hours": {"id": "Di luar jam kantor", "en": "Outside office hours"},
    "unknown": {"id": "Belum diketahui", "en": "Unknown"},
    "availability": {"id": "Ketersediaan 90 hari", "en": "Availability, 90 days"},
    "no_data": {"id": "tidak ada data", "en": "no data"},
    "downtime": {"id": "gangguan", "en": "downtime"},
    "planned": {"id": "Pemeliharaan terencana", "en": "Planned maintenance"},
    "until": {"id": "sampai", "en": "until"},
    "incidents": {"id": "Gangguan 90 hari terakhir", "en": "Outages, last 90 days"},
    "no_incidents_90": {"id": "Tidak ada gangguan.", "en": "No outages."},
    "opened": {"id": "Mulai", "en": "Began"},
    "recovered": {"id": "Pulih", "en": "Recovered"},
    "cause": {"id": "Penyebab", "en": "Cause"},
    "responsibility": {"id": "Tanggung jawab", "en": "Responsibility"},
    "resp_diskominfo": {"id": "Diskominfo", "en": "Diskominfo"},
    "resp_skpd": {"id": "SKPD", "en": "SKPD"},
    "still_open": {"id": "belum pulih", "en": "not yet"},
    "all": {"id": "Semua SKPD", "en": "All SKPDs"},
    "not_found": {"id": "SKPD tidak ditemukan", "en": "SKPD not found"},
    "notice": {"id": "Pengumuman", "en": "Notice"},
    "notice_hint": {
        "id": "Pengumuman di halaman status publik (kosongkan untuk menghapus)",
        "en": "Notice on the public status page (empty takes it down)",
    },
    "post": {"id": "Terbitkan", "en": "Post"},
    "network": {"id": "Jaringan Diskominfo", "en": "Diskominfo's network"},
    "offices": {"id": "Peta kantor SKPD", "en": "SKPD offices"},
    "stage_opened": {"id": "Gangguan terdeteksi, sedang diperiksa", "en": "Detected, checking"},
    "stage_confirmed": {
        "id": "Gangguan dikonfirmasi dengan SKPD",
        "en": "Confirmed with the SKPD",
    },
    "stage_dispatched": {
        "id": "Sedang ditangani, petugas menuju lokasi",
        "en": "Being handled, staff on the way",
    },
    "stage_repair": {"id": "Sedang diperbaiki", "en": "Being repaired"},
    "stage_repaired": {"id": "Sudah diperbaiki", "en": "Repaired"},
    "estimate": {"id": "perkiraan pulih", "en": "expected back"},
}


def say(key: str, lang: str) -> str:
    entry = WORDS.get(key)
    return entry.get(lang, entry["id"]) if entry else key


_STAGE = {
    State.OPENED: "stage_opened",
    State.PING_CHECKED: "stage_opened",
    State.CONFIRMED: "stage_confirmed",
    State.REPORTED: "stage_confirmed",
    State.DISPATCHED: "stage_dispatched",
    State.ESTIMATED: "stage_dispatched",
    State.FORWARDED: "stage_dispatched",
    State.REPAIR_ORDERED: "stage_repair",
    State.REPAIRED: "stage_repaired",
}


def stage_text(
    state: str, estimate: datetime | None, now: datetime, zone: str, lang: str
) -> str | None:
    """`Sedang ditangani, petugas menuju lokasi, perkiraan pulih 14.00 WITA` for an open
    incident; None for a closed one. A past estimate is not shown: it would mislead."""
    if state not in OPEN_STATES:
        return None
    text = say(_STAGE.get(State(state), "stage_opened"), lang)
    if estimate is not None and estimate > now:
        same_day = local(estimate, zone).date() == local(now, zone).date()
        when = format_moment(estimate, zone, lang)
        if same_day:
            when = when.split(", ", 1)[1]
        text += f", {say('estimate', lang)} {when}"
    return text


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """The facts of an SKPD's open incident the public may see."""

    state: str
    responsibility: str | None
    estimate: datetime | None


@dataclass(frozen=True, slots=True)
class Window:
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class PastIncident:
    opened_at: datetime
    recovered_at: datetime | None
    cause: str
    """The cause category of F-04 (never its text)."""
    responsibility: str | None


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    availability: float | None
    """0..1; None: no samples that day."""

    @property
    def downtime(self) -> float | None:
        return None if self.availability is None else (1.0 - self.availability) * 86400.0


@dataclass(frozen=True, slots=True)
class PublicSkpd:
    id: str
    name: str
    condition: Condition
    incident: OpenIncident | None
    maintenance: tuple[Window, ...]
    """Current and upcoming windows (their reasons are internal)."""
    days: tuple[Day, ...]
    incidents: tuple[PastIncident, ...]


@dataclass(frozen=True, slots=True)
class PublicNode:
    """A Diskominfo-owned node as the public map draws it: no address."""

    id: str
    parent: str | None
    """The primary parent: where the map places the node."""
    role: str
    skpd: str
    up: bool | None
    parents: tuple[str, ...] = ()
    """Every parent (redundant paths): the map draws an edge to each."""


@dataclass(frozen=True, slots=True)
class Board:
    at: datetime
    skpds: tuple[PublicSkpd, ...]
    nodes: tuple[PublicNode, ...]
    """Diskominfo's nodes: what the public map draws."""
    node_up: tuple[tuple[str, bool], ...]
    """Every node's state, the SKPDs' equipment too: for the NOC's map only, never public."""
    notice: str | None = None
    """The coordinator's notice (plain text; escaped where drawn)."""

    @property
    def etag(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:24]


def condition_of(
    inventory: Inventory,
    skpd: str,
    node_up: Mapping[str, bool],
    incident: OpenIncident | None,
    in_maintenance: bool,
    now: datetime,
) -> Condition:
    """The SKPD's connection now. A down node upstream (core, distribution, the SKPD's uplink
    or gateway) is Diskominfo's side, unless it is a lost path of a redundant node (everything
    behind it still reached another way: degraded); its own equipment all dark is inside the
    SKPD, some of it dark is degraded; outside office hours its own equipment dark is expected.
    An open incident with every node answering (a report: slow, one service down) is
    degraded."""
    if in_maintenance:
        return Condition.MAINTENANCE
    own = inventory.nodes_of(skpd)
    theirs = [n for n in own if n.owner == "diskominfo"]
    upstream_ids = {a.id for n in theirs for a in inventory.ancestors(n.id)} | {
        n.id for n in theirs
    }
    if not node_up:
        if incident is None:
            return Condition.UNKNOWN
        if incident.responsibility == Responsibility.SKPD:
            return Condition.DOWN_SKPD
        return Condition.DOWN_DISKOMINFO
    # the paths seen from this SKPD: a node is bypassed when this SKPD loses nothing by it
    order = [i for i in inventory.nodes if i in upstream_ids]
    paths = upstream(
        order,
        {i: [p for p in inventory.nodes[i].parents if p in upstream_ids] for i in order},
        node_up,
    )
    dark = [i for i in order if node_up.get(i) is False]
    if any(not paths[i].bypassed for i in dark):
        return Condition.DOWN_DISKOMINFO
    states = [node_up[n.id] for n in own if n.owner == "skpd" and n.id in node_up]
    hours = inventory.skpds[skpd].office_hours
    if states and not all(states) and hours is not None and not hours.covers(now):
        return Condition.AFTER_HOURS  # switched off for the night, as expected
    if states and not any(states):
        return Condition.DOWN_SKPD
    if (states and not all(states)) or dark:
        return Condition.DEGRADED  # some equipment dark, or running on a backup path
    if incident is not None and incident.state != State.REPAIRED:
        return Condition.DEGRADED  # every node answers, yet someone reported a problem
    return Condition.NORMAL


def days_back(today: date, count: int = DAYS) -> list[date]:
    """The last `count` days, oldest first, ending with `today`."""
    return [today - timedelta(days=count - 1 - i) for i in range(count)]


_COLOUR = (
    (0.9999, "#2e7d32"),  # a whole day up
    (0.99, "#9ccc65"),
    (0.95, "#f9a825"),
    (0.0, "#c62828"),
)


def day_colour(availability: float | None) -> str:
    if availability is None:
        return "#cfd8dc"
    return next(colour for floor, colour in _COLOUR if availability >= floor)


def _duration(seconds: float, lang: str) -> str:
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if lang == "en":
        return f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"{hours} jam {minutes} menit" if hours else f"{minutes} menit"


def bars_svg(days: Sequence[Day], lang: str) -> str:
    """The days as one SVG row of bars, each with a `<title>` (the tooltip) saying its date
    and downtime; inline SVG, so no script and no style attribute is needed."""
    width, gap = 4, 1
    parts = [
        f'<svg class="bars" viewBox="0 0 {len(days) * (width + gap)} 24" '
        'preserveAspectRatio="none" role="img" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, d in enumerate(days):
        if d.availability is None:
            tip = f"{d.day.isoformat()}: {say('no_data', lang)}"
        else:
            downtime = _duration(d.downtime or 0.0, lang)
            share = f"{d.availability * 100:.2f}%"
            tip = f"{d.day.isoformat()}: {share} ({say('downtime', lang)} {downtime})"
        parts.append(
            f'<rect x="{i * (width + gap)}" y="0" width="{width}" height="24" '
            f'fill="{day_colour(d.availability)}"><title>{html.escape(tip)}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


_BADGE_COLOUR = {
    Condition.NORMAL: "#2e7d32",
    Condition.DEGRADED: "#f9a825",
    Condition.DOWN_DISKOMINFO: "#c62828",
    Condition.DOWN_SKPD: "#c62828",
    Condition.MAINTENANCE: "#1565c0",
    Condition.AFTER_HOURS: "#607d8b",
    Condition.UNKNOWN: "#9e9e9e",
}


def condition_colour(condition: Condition) -> str:
    return _BADGE_COLOUR[condition]


def badge_svg(skpd: PublicSkpd, lang: str) -> str:
    """A shields-style badge: the SKPD's id, then its condition on its colour."""
    left, right = html.escape(skpd.id), html.escape(say(skpd.condition, lang))
    lw, rw = 10 + round(6.2 * len(skpd.id)), 10 + round(6.2 * len(right))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + rw}" height="20" role="img">'
        f"<title>{left}: {right}</title>"
        f'<rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{rw}" height="20" fill="{condition_colour(skpd.condition)}"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="4" y="14">{left}</text><text x="{lw + 4}" y="14">{right}</text></g></svg>'
    )


def public_skpds(inventory: Inventory) -> list[str]:
    """The SKPDs the public page lists: all but those marked `internal`."""
    return [s.id for s in inventory.skpds.values() if not s.internal]


def public_nodes(inventory: Inventory, node_up: Mapping[str, bool]) -> tuple[PublicNode, ...]:
    """Diskominfo's nodes only (core, distribution, uplinks, gateways), in topology order;
    none of an SKPD marked internal."""
    hidden = {s.id for s in inventory.skpds.values() if s.internal}
    return tuple(
        PublicNode(n.id, n.parent, n.role, n.skpd, node_up.get(n.id), n.parents)
        for i in inventory.topology_order()
        if (n := inventory.nodes[i]).owner == "diskominfo" and n.skpd not in hidden
    )


ROW, INDENT, GLYPH = 20, 16, 6.5
"""The outline's row height and indent per level, and the width of a label's character
(11 px DejaVu Sans), in SVG units drawn 1:1 in CSS pixels: legible at a phone's size."""


def _parents(node: PublicNode) -> tuple[str, ...]:
    """Every parent of a node as drawn (`parents`, else the primary `parent` alone)."""
    return node.parents or ((node.parent,) if node.parent else ())


def _fill(node: PublicNode, dark: set[str]) -> str:
    """Red for the failure, pale red behind it (down too, as a rule: it cannot be reached, by
    any of its paths), grey without a reading, else green."""
    if _parents(node) and all(p in dark for p in _parents(node)):
        return "#ef9a9a"
    if node.up is False:
        return "#c62828"
    return "#9e9e9e" if node.up is None else "#2e7d32"


def _branches(nodes: Sequence[PublicNode]) -> list[tuple[str | None, list[str]]]:
    """The tree cut where it is widest: each root with its leaf children, then each child of a
    root that has children of its own (a distribution router) with its whole subtree, in
    topology order; each with the node it hangs from (None for a root's own)."""
    ids = {n.id for n in nodes}
    children: dict[str | None, list[str]] = {}
    for n in nodes:
        children.setdefault(n.parent if n.parent in ids else None, []).append(n.id)

    def subtree(node: str) -> list[str]:
        return [node, *(d for c in children.get(node, []) for d in subtree(c))]

    out: list[tuple[str | None, list[str]]] = []
    for root in children.get(None, []):
        below = children.get(root, [])
        out.append((None, [root, *(c for c in below if c not in children)]))
        out += [(root, subtree(c)) for c in below if c in children]
    return out


def topology_svg(nodes: Sequence[PublicNode], names: Mapping[str, str] | None = None) -> str:
    """The tree as an outline, one node a row indented below its parent, in one SVG per branch
    (`_branches`) that the page's CSS sets side by side on a wall and one under another on a
    phone: each keeps its natural size (11 px labels), so no screen scrolls sideways. A down
    node below one that is up is red, every node behind it pale red: the failed branch shows at
    a glance from its root (the nodes behind a cut do not answer either). A branch starts
    with the node it hangs from, in grey. Nodes are labelled by id (unique and short:
    `gw-dinkes`); `names` adds each one's name to its tooltip (the NOC wall)."""
    by_id = {n.id: n for n in nodes}
    dark: set[str] = set()
    for n in nodes:  # parents first; a node with redundant paths is dark when all of them are
        drawn = [p for p in _parents(n) if p in by_id]
        if n.up is False or (drawn and all(p in dark for p in drawn)):
            dark.add(n.id)
    depth: dict[str, int] = {}
    for n in nodes:
        depth[n.id] = depth[n.parent] + 1 if n.parent in depth else 0
    tips = {n.id: f"{n.id}: {name}" if (name := (names or {}).get(n.id)) else n.id for n in nodes}
    drawn = []
    for via, members in _branches(nodes):
        rows = ([via] if via is not None else []) + members
        base = depth[rows[0]]
        place = {
            node: (10 + (depth[node] - base) * INDENT, 14 + i * ROW) for i, node in enumerate(rows)
        }
        width = max(
            x
            + 12
            + GLYPH * len(node)
            + sum(22 + GLYPH * len(o) for o in _parents(by_id[node])[1:] if o in by_id)
            for node, (x, _) in place.items()
        )
        parts = [
            f'<svg class="map" viewBox="0 0 {width:.0f} {len(rows) * ROW}" '
            f'width="{width:.0f}" height="{len(rows) * ROW}" role="img" '
            'xmlns="http://www.w3.org/2000/svg">'
        ]
        for node in members:
            (x, y), parent = place[node], by_id[node].parent
            # red: this path is lost (the node, or its parent, dark)
            if parent in place:
                px, py = place[parent]
                stroke = "#c62828" if node in dark or parent in dark else "#90a4ae"
                parts.append(
                    f'<path d="M{px} {py + 6}V{y}H{x - 6}" fill="none" stroke="{stroke}" '
                    f'stroke-width="1.5" data-edge="{html.escape(parent)} {html.escape(node)}"/>'
                )
            # a redundant path besides the primary one: a dashed stub after the label naming
            # the other parent (it may sit in another branch)
            end = x + 14 + GLYPH * len(node)
            for other in _parents(by_id[node])[1:]:
                if other not in by_id:
                    continue
                stroke = "#c62828" if other in dark else "#90a4ae"
                parts.append(
                    f'<path d="M{end:.0f} {y}h14" stroke="{stroke}" stroke-width="1.5" '
                    f'stroke-dasharray="4 3" data-edge="{html.escape(other)} {html.escape(node)}"/>'
                    f'<text x="{end + 18:.0f}" y="{y + 4}" font-size="11" fill="#607d8b" '
                    f'font-family="DejaVu Sans,sans-serif">{html.escape(other)}</text>'
                )
                end += 22 + GLYPH * len(other)
        if via is not None:
            x, y = place[via]
            parts.append(
                f'<g class="via"><circle cx="{x}" cy="{y}" r="4" fill="none" '
                f'stroke="{_fill(by_id[via], dark)}" stroke-width="1.5"/>'
                f'<text x="{x + 10}" y="{y + 4}" font-size="11" fill="#607d8b" '
                f'font-family="DejaVu Sans,sans-serif">{html.escape(via)}</text></g>'
            )
        for node in members:
            x, y = place[node]
            parts.append(
                f'<g data-node="{html.escape(node)}"><circle cx="{x}" cy="{y}" r="6" '
                f'fill="{_fill(by_id[node], dark)}"><title>{html.escape(tips[node])}</title>'
                f'</circle><text x="{x + 10}" y="{y + 4}" font-size="11" '
                f'font-family="DejaVu Sans,sans-serif">{html.escape(node)}</text></g>'
            )
        parts.append("</svg>")
        drawn.append("".join(parts))
    return f'<div class="branches">{"".join(drawn)}</div>' if drawn else ""


LABEL_HEIGHT = 12


def _labels(dots: Sequence[tuple[float, float, str]]) -> list[tuple[float, float]]:
    """Where each dot's label starts (x, baseline), top to bottom: beside its dot, right or
    left, level, above or below, wherever it covers no dot and no label placed before; else
    pushed down on the right (drawn with a line to its dot). Offices close together stay
    readable."""
    boxes = [(x - 7, y - 7, x + 7, y + 7) for x, y, _ in dots]
    placed: list[tuple[float, float]] = [(0.0, 0.0)] * len(dots)

    def free(box: tuple[float, float, float, float], own: int) -> bool:
        return box[0] >= 2 and not any(
            box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
            for j, b in enumerate(boxes)
            if j != own
        )

    for i in sorted(range(len(dots)), key=lambda k: (dots[k][1], dots[k][0])):
        x, y, text = dots[i]
        width = GLYPH * len(text)
        beside = [
            (left, y - 5 + dy)
            for dy in (0, -LABEL_HEIGHT, LABEL_HEIGHT)
            for left in (x + 9, x - 9 - width)
        ]
        box = next(
            (
                b
                for left, top in beside
                if free(b := (left, top, left + width, top + LABEL_HEIGHT), i)
            ),
            None,
        )
        top = y - 5
        while box is None:
            top += 2
            candidate = (x + 9, top, x + 9 + width, top + LABEL_HEIGHT)
            box = candidate if free(candidate, i) else None
        boxes.append(box)
        placed[i] = (box[0], box[1] + 9)
    return placed


def offices_svg(
    skpds: Sequence[PublicSkpd], positions: Mapping[str, tuple[float, float]], lang: str
) -> str:
    """The SKPD offices the inventory places (`location: {lat, lon}`) as dots at their places,
    coloured by condition: plain SVG, longitude to x and latitude to y at one scale over the
    offices' own bounding box (a regency is small enough for that to be true to the eye); no
    tiles. Labels of offices close together are moved apart, each with a line to its dot."""
    placed = [(s, positions[s.id]) for s in skpds if s.id in positions]
    if not placed:
        return ""
    lats = [p[0] for _, p in placed]
    lons = [p[1] for _, p in placed]
    inner, pad = 340, 20
    scale = inner / max(max(lats) - min(lats), max(lons) - min(lons), 0.01)
    dots = [
        (pad + (lon - min(lons)) * scale, pad + (max(lats) - lat) * scale, skpd.id)
        for skpd, (lat, lon) in placed
    ]
    labels = _labels(dots)
    width = max(lx + GLYPH * len(t) for (lx, _), (_, _, t) in zip(labels, dots, strict=True))
    height = max(ly for _, ly in labels) + pad
    width, height = max(width + pad, 2 * pad + 60), max(height, max(y for _, y, _ in dots) + pad)
    parts = [
        f'<svg class="offices" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" role="img" xmlns="http://www.w3.org/2000/svg">'
        '<rect width="100%" height="100%" fill="#eef3f7"/>'
    ]
    for (skpd, _), (x, y, _), (lx, ly) in zip(placed, dots, labels, strict=True):
        tip = html.escape(f"{skpd.name}: {say(skpd.condition, lang)}")
        leader = (
            f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{lx - 2:.1f}" y2="{ly - 4:.1f}" '
            'stroke="#90a4ae" stroke-width="0.8"/>'
            if abs(ly - (y + 4)) > LABEL_HEIGHT
            else ""
        )
        parts.append(
            f'<a href="/status/{html.escape(skpd.id)}"><g data-office="{html.escape(skpd.id)}">'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{condition_colour(skpd.condition)}">'
            f"<title>{tip}</title></circle>{leader}"
            f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="11" '
            f'font-family="DejaVu Sans,sans-serif">{html.escape(skpd.id)}</text></g></a>'
        )
    parts.append("</svg>")
    return "".join(parts)


class NoticeInvalid(Refused):
    """A notice too long to be one short paragraph."""


def clean_notice(text: str) -> str:
    """The notice as kept: one paragraph of printable text, whitespace folded; empty takes the
    notice down. Longer than NOTICE_LIMIT is refused, not cut: a cut sentence misleads."""
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if len(cleaned) > NOTICE_LIMIT:
        raise NoticeInvalid(f"the notice has {len(cleaned)} characters; at most {NOTICE_LIMIT}")
    return cleaned


def in_any(windows: Iterable[Window], at: datetime) -> bool:
    return any(w.starts_at <= at < w.ends_at for w in windows)
