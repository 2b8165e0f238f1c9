"""The inventory as a table: the columns a spreadsheet (or NetBox) gives, one row per node.

Pure: rows in, inventory data out (`exporter.importer`), an `Inventory` in, rows out (export).
The file formats (xlsx, csv) are read and written by `exporter.sheetio`. Every cell keeps where
it came from (`Where`), so each problem names the sheet, the row and the column, with the fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from exporter.inventory import CORE, ROLES, WEEKDAYS, Contact, Inventory, OfficeHours

DEVICES_SHEET = "Perangkat"
HOURS_SHEET = "Jam kantor"
GUIDE_SHEET = "Petunjuk"


@dataclass(frozen=True, slots=True)
class Column:
    field: str
    """The key the importer reads; also the English header."""
    header: str
    """The Indonesian header, the one the template and the export write."""
    aliases: tuple[str, ...]
    """Other headers accepted (English first), compared without case, spaces, '-' or '_'."""
    guide: str
    """What to write in it, in Indonesian: the template's Petunjuk sheet and header comments."""
    example: str = ""


DEVICE_COLUMNS: tuple[Column, ...] = (
    Column(
        "skpd",
        "SKPD",
        ("skpd", "skpd id", "kode skpd"),
        "Kode singkat SKPD (huruf kecil, angka, '-', mis. dinkes) atau namanya; 'core' untuk "
        "router inti Diskominfo. Baris dengan kode yang sama adalah satu SKPD.",
        "dinkes",
    ),
    Column(
        "skpd_name",
        "Nama SKPD",
        ("skpd name",),
        "Nama lengkap SKPD; cukup di satu baris SKPD itu.",
        "Dinas Kesehatan",
    ),
    Column(
        "skpd_location",
        "Alamat kantor",
        ("skpd location", "office address", "location", "lokasi"),
        "Alamat kantor SKPD; cukup di satu baris.",
        "Jl. Kodeco Km 1, Batulicin",
    ),
    Column(
        "lat",
        "Lintang",
        ("lat", "latitude"),
        "Lintang kantor dalam derajat (mis. -3.42), untuk peta; isi bersama Bujur.",
    ),
    Column(
        "lon",
        "Bujur",
        ("lon", "longitude"),
        "Bujur kantor dalam derajat (mis. 115.99), untuk peta; isi bersama Lintang.",
    ),
    Column(
        "id",
        "ID",
        ("id", "node id", "id perangkat"),
        "Kode unik perangkat (huruf kecil, angka, '-', '_', '.'). Boleh kosong: perangkat yang "
        "sudah ada di inventaris dikenali dari alamat IP-nya, yang baru diberi kode dari namanya.",
        "gw-dinkes",
    ),
    Column(
        "name",
        "Nama perangkat",
        ("name", "nama", "device name"),
        "Nama perangkat yang dibaca petugas.",
        "Router gateway Diskominfo di DINKES",
    ),
    Column(
        "address",
        "Alamat IP",
        ("address", "ip", "ip address", "alamat"),
        "Alamat IPv4/IPv6 atau nama host yang di-ping.",
        "10.20.5.2",
    ),
    Column(
        "role",
        "Peran",
        ("role", "jenis"),
        "Peran perangkat, salah satu dari: " + ", ".join(ROLES) + ".",
        "gateway",
    ),
    Column(
        "owner",
        "Pemilik",
        ("owner",),
        "diskominfo (uplink, radio, gateway yang disediakan Diskominfo) atau skpd (jaringan "
        "internal SKPD: switch, access point, server).",
        "diskominfo",
    ),
    Column(
        "parent",
        "Induk",
        ("parent", "parents", "perangkat induk", "upstream"),
        "ID perangkat di atasnya (arah NOC): perangkat di lembar ini atau di inventaris yang "
        "ada. Kosong untuk perangkat paling atas.",
        "uplink-dinkes",
    ),
    Column(
        "contacts",
        "Kontak",
        ("contacts", "contact"),
        "Kontak SKPD, satu per baris sel (atau dipisah ';'): Nama (peran), telepon, email. "
        "Peran bawaan: admin. Cukup di satu baris SKPD itu.",
        "Budi Santoso (admin), +62 812 5005 1185, budi.dinkes@example.go.id",
    ),
    Column(
        "office_hours",
        "Jam kantor",
        ("office hours", "office_hours"),
        "Nama jam kantor dari lembar 'Jam kantor' (atau inventaris yang ada), atau nama beserta "
        "isinya (untuk CSV), mis. 'jam-kantor: senin-jumat 07:30-16:00 Asia/Makassar; libur "
        "2026-12-25'; kosong: perangkat SKPD diharapkan menyala sepanjang waktu. Cukup di satu "
        "baris.",
        "jam-kantor",
    ),
)

HOURS_COLUMNS: tuple[Column, ...] = (
    Column(
        "name", "Nama", ("name",), "Nama jam kantor, dipakai di kolom Jam kantor.", "jam-kantor"
    ),
    Column(
        "timezone",
        "Zona waktu",
        ("timezone", "time zone"),
        "Asia/Makassar (WITA), Asia/Jakarta (WIB) atau Asia/Jayapura (WIT).",
        "Asia/Makassar",
    ),
    Column(
        "days",
        "Hari",
        ("days",),
        "Hari kerja, mis. 'senin-jumat' atau 'mon, tue, wed, thu, fri'.",
        "mon, tue, wed, thu, fri",
    ),
    Column("start", "Mulai", ("start",), "Jam mulai, JJ:MM (mis. 07:30).", "07:30"),
    Column(
        "end", "Selesai", ("end",), "Jam selesai, JJ:MM (mis. 16:00; 24:00 akhir hari).", "16:00"
    ),
    Column(
        "holidays",
        "Hari libur",
        ("holidays",),
        "Tanggal libur, TTTT-BB-HH dipisah koma.",
        "2026-12-25, 2027-01-01",
    ),
)

IGNORED_HEADERS = frozenset({"keterangan", "catatan", "notes", "note", "comment", "comments"})
"""Columns people add for themselves; read past, never an error."""

SKPD_FIELDS = ("skpd_name", "skpd_location", "lat", "lon", "contacts", "office_hours")
"""The columns that describe the SKPD of the row, not its node: given once per SKPD."""
NODE_FIELDS = ("id", "name", "address", "role", "owner", "parent")

_DAY_NAMES = {
    **{d: d for d in WEEKDAYS},
    "senin": "mon",
    "selasa": "tue",
    "rabu": "wed",
    "kamis": "thu",
    "jumat": "fri",
    "jum'at": "fri",
    "sabtu": "sat",
    "minggu": "sun",
    "ahad": "sun",
}
_PHONE = re.compile(r"^\+?[\d\s().-]{6,}$")
_NAME_ROLE = re.compile(r"^(.*?)\s*\(([^()]*)\)$")
_LIST_SEPARATOR = re.compile(r"[,;\n]")


def header_key(text: str) -> str:
    """A header as compared: no case, and spaces, '-' and '_' alike."""
    return re.sub(r"[\s_-]+", " ", text.strip().casefold())


def header_index(columns: Sequence[Column]) -> dict[str, Column]:
    index = {}
    for column in columns:
        for name in (column.field, column.header, *column.aliases):
            index[header_key(name)] = column
    return index


@dataclass(frozen=True, slots=True)
class Where:
    """Where a row came from: ``nodes.xlsx: sheet Perangkat, row 14`` or a NetBox device."""

    source: str
    row: str

    def at(self, column: str | None = None) -> str:
        return (
            f"{self.source}, {self.row}, column {column}"
            if column
            else f"{self.source}, {self.row}"
        )


@dataclass(frozen=True, slots=True)
class Record:
    """One row: its non-empty cells by field, and the headers the source wrote for them."""

    where: Where
    cells: Mapping[str, str]
    headers: Mapping[str, str] = field(default_factory=dict)
    id_hint: str = ""
    """The id to give when the row has none and no node is at its address (NetBox's name)."""

    def get(self, name: str) -> str:
        return self.cells.get(name, "")

    def column(self, name: str) -> str:
        return self.headers.get(name, name)


@dataclass(frozen=True, slots=True)
class Table:
    """What a source says: its rows, which columns it has (an absent column changes nothing
    when importing over an existing inventory; an empty cell clears), and office hours."""

    source: str
    devices: tuple[Record, ...]
    fields: frozenset[str]
    hours: tuple[Record, ...] = ()


@dataclass(frozen=True, slots=True)
class RowProblem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class SheetError(Exception):
    """Rows that cannot be imported; `str()` is one line per problem, every one of them."""

    def __init__(self, problems: Sequence[RowProblem | str]) -> None:
        self.problems = [str(p) for p in problems]
        super().__init__("\n".join(self.problems))


def did_you_mean(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- cells ---------------------------------------------------------------------------------------


def parse_parents(cell: str) -> list[str]:
    """The parent column: one id, or several separated by ',' or ';' (a node with more than one
    uplink). The one place that reads the column; the importer decides how many the model takes."""
    return [part.strip() for part in _LIST_SEPARATOR.split(cell) if part.strip()]


def parse_contacts(cell: str) -> list[dict[str, str]]:
    """``Nama (peran), telepon, email`` per line or ';'. Raises ValueError with the fix."""
    contacts = []
    for entry in re.split(r"[;\n]", cell):
        if not entry.strip():
            continue
        name_parts: list[str] = []
        contact: dict[str, str] = {}
        for part in (p.strip() for p in entry.split(",")):
            if not part:
                continue
            if "@" in part:
                if "email" in contact:
                    raise ValueError(f"{entry.strip()!r} has two e-mail addresses; expected one")
                contact["email"] = part
            elif _PHONE.fullmatch(part):
                if "phone" in contact:
                    raise ValueError(f"{entry.strip()!r} has two phone numbers; expected one")
                contact["phone"] = part
            elif contact:
                raise ValueError(
                    f"{part!r} in {entry.strip()!r} is neither a phone number nor an e-mail; "
                    "expected 'Nama (peran), telepon, email'"
                )
            else:
                name_parts.append(part)
        name = ", ".join(name_parts)
        match = _NAME_ROLE.fullmatch(name)
        role = "admin"
        if match and match.group(2).strip():
            name, role = match.group(1).strip(), match.group(2).strip()
        if not name:
            raise ValueError(
                f"{entry.strip()!r} has no name; expected 'Nama (peran), telepon, email'"
            )
        contacts.append({"name": name, "role": role, **contact})
    return contacts


def format_contacts(contacts: Iterable[Contact]) -> str:
    lines = []
    for c in contacts:
        parts = [f"{c.name} ({c.role})", *(v for v in (c.phone, c.email) if v)]
        lines.append(", ".join(parts))
    return "\n".join(lines)


def parse_days(cell: str) -> list[str]:
    """``mon, tue`` or ``senin-jumat`` (ranges in week order). Raises ValueError with the fix."""
    days: list[str] = []
    for part in (p.strip().casefold() for p in _LIST_SEPARATOR.split(cell)):
        if not part:
            continue
        ends = [e.strip() for e in part.split("-")]
        if len(ends) > 2 or any(e not in _DAY_NAMES for e in ends):
            raise ValueError(
                f"unknown day {part!r}; expected mon..sun or senin..minggu, e.g. 'senin-jumat'"
            )
        first, last = (WEEKDAYS.index(_DAY_NAMES[e]) for e in (ends[0], ends[-1]))
        if last < first:
            raise ValueError(f"{part!r} runs backwards; expected e.g. 'senin-jumat'")
        days.extend(d for d in WEEKDAYS[first : last + 1] if d not in days)
    return days


_INLINE_HOURS = re.compile(r"^([^\s:]+)\s*:\s+(.+)$", re.S)
_TIME_RANGE = re.compile(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})")
_HOLIDAY_WORDS = ("libur", "holidays")


def split_hours_cell(cell: str) -> tuple[str, dict[str, str] | None]:
    """The Jam kantor column: a name (``jam-kantor``), or a name with its definition, as a CSV
    (which has no Jam kantor sheet) writes it: ``jam-kantor: senin-jumat 07:30-16:00
    Asia/Makassar; libur 2026-12-25, 2027-01-01``. (name, the definition's cells or None);
    ValueError with the fix."""
    match = _INLINE_HOURS.match(cell.strip())
    if match is None:
        return cell.strip(), None
    name, rest = match.groups()
    first, *others = (part.strip() for part in rest.split(";"))
    times = _TIME_RANGE.search(first)
    if times is None:
        raise ValueError(
            f"{cell!r} has no hours; expected e.g. 'jam-kantor: senin-jumat 07:30-16:00' "
            "(or the name alone, defined in the Jam kantor sheet)"
        )
    cells = {
        "name": name,
        "days": first[: times.start()].strip(),
        "start": times.group(1),
        "end": times.group(2),
        "timezone": first[times.end() :].strip(),
    }
    for part in others:
        word, _, dates = part.partition(" ")
        if word.casefold() not in _HOLIDAY_WORDS:
            raise ValueError(
                f"{part!r} in {cell!r}; expected 'libur' and dates, e.g. 'libur 2026-12-25'"
            )
        cells["holidays"] = dates.strip()
    return name, {k: v for k, v in cells.items() if v}


def hours_cell(hours: Record) -> str:
    """A row of the Jam kantor sheet as the one cell `split_hours_cell` reads."""
    text = f"{hours.get('name')}: {hours.get('days')} {hours.get('start')}-{hours.get('end')}"
    text += f" {hours.get('timezone')}" if hours.get("timezone") else ""
    return text + (f"; libur {hours.get('holidays')}" if hours.get("holidays") else "")


def parse_dates(cell: str) -> list[date]:
    try:
        return [date.fromisoformat(p.strip()) for p in _LIST_SEPARATOR.split(cell) if p.strip()]
    except ValueError:
        raise ValueError(
            f"bad date in {cell!r}; expected YYYY-MM-DD dates separated by commas"
        ) from None


def normalize_choice(value: str) -> str:
    """``Access point`` and ``access-point`` read as ``access_point``."""
    return re.sub(r"[\s-]+", "_", value.strip().casefold())


def slug(text: str) -> str:
    """An id from a name: ``Dinas Kesehatan`` → ``dinas-kesehatan``."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


# --- export --------------------------------------------------------------------------------------


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _hours_row(hours: OfficeHours) -> dict[str, str]:
    return {
        "name": hours.name,
        "timezone": str(hours.timezone),
        "days": ", ".join(WEEKDAYS[d] for d in sorted(hours.days)),
        "start": _clock(hours.start),
        "end": _clock(hours.end),
        "holidays": ", ".join(d.isoformat() for d in sorted(hours.holidays)),
    }


def _core_position(path: str) -> int:
    return int(path.rsplit("[", 1)[1].rstrip("]"))


def inventory_table(inventory: Inventory, source: str = "<export>") -> Table:
    """The rows `sigap-exporter inventory export` writes: the core's nodes, then each SKPD's in
    file order; the SKPD's own columns on its first row. Importing them gives `inventory` back."""
    rows: list[Record] = []
    core = sorted(inventory.nodes_of(CORE), key=lambda n: _core_position(n.path))
    groups: list[tuple[str, list[str], dict[str, str]]] = [
        (CORE, [n.id for n in core], {"skpd_name": inventory.core_name})
    ]
    hours: dict[str, OfficeHours] = {}
    for skpd in inventory.skpds.values():
        own = {
            "skpd_name": skpd.name,
            "skpd_location": skpd.location or "",
            "contacts": format_contacts(skpd.contacts),
            "office_hours": skpd.office_hours.name if skpd.office_hours else "",
        }
        if skpd.position is not None:
            own["lat"], own["lon"] = (repr(v) for v in skpd.position)
        if skpd.office_hours is not None:
            hours[skpd.office_hours.name] = skpd.office_hours
        groups.append((skpd.id, list(skpd.node_ids), own))
    for skpd_id, node_ids, own in groups:
        first = True
        for node_id in node_ids or [""]:
            cells = {"skpd": skpd_id, **(own if first else {})}
            if node_id:
                node = inventory.nodes[node_id]
                cells |= {
                    "id": node.id,
                    "name": node.name or "",
                    "address": node.address,
                    "role": node.role,
                    "owner": node.owner,
                    "parent": ", ".join(node.parents),
                }
            first = False
            rows.append(
                Record(Where(source, f"row {len(rows) + 2}"), {k: v for k, v in cells.items() if v})
            )
    hour_rows = tuple(
        Record(Where(source, f"row {i + 2}"), _hours_row(h)) for i, h in enumerate(hours.values())
    )
    return Table(source, tuple(rows), frozenset(c.field for c in DEVICE_COLUMNS), hour_rows)
