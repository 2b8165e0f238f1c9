"""Spreadsheet files in and out: xlsx through openpyxl, csv through the csv module.

CSV as Indonesian Excel writes it is read as well as the English one: `;` or `,` (taken from
the header line), with or without a UTF-8 BOM, else Windows-1252. What is written is `;` with a
BOM, which Excel opens in columns under either regional setting.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from exporter.sheet import (
    DEVICE_COLUMNS,
    DEVICES_SHEET,
    GUIDE_SHEET,
    HOURS_COLUMNS,
    HOURS_SHEET,
    IGNORED_HEADERS,
    NODE_FIELDS,
    SKPD_FIELDS,
    Column,
    Record,
    RowProblem,
    SheetError,
    Table,
    Where,
    header_index,
    header_key,
    hours_cell,
)

SPREADSHEET_SUFFIXES = (".xlsx", ".csv")
REQUIRED = ("skpd", "address", "role", "owner")


def cell_text(value: object) -> str:
    """A cell as text, the way a person reads it (07:30, 2026-12-25, 12 not 12.0)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _records(
    rows: Iterable[Sequence[object]],
    columns: Sequence[Column],
    source: str,
    required: Sequence[str],
) -> tuple[list[Record], frozenset[str], list[RowProblem]]:
    """The rows under the header row (the first naming two columns or more: a title may stand
    above it); blank rows skipped."""
    index = header_index(columns)
    problems: list[RowProblem] = []
    fields: dict[int, Column] = {}
    headers: dict[str, str] = {}
    records: list[Record] = []
    named: dict[str, str] = {c.field: c.header for c in columns}
    """Headers as the sheet writes them; the template's for a column it lacks."""
    header_seen = False
    skipped = 0
    for number, row in enumerate(rows, start=1):
        texts = [cell_text(v) for v in row]
        if not any(texts):
            continue
        if not header_seen:
            if sum(header_key(t) in index for t in texts if t) < 2:
                skipped = skipped or number  # a title above the table
                continue
            header_seen = True
            for position, text in enumerate(texts):
                if not text or header_key(text) in IGNORED_HEADERS:
                    continue
                column = index.get(header_key(text))
                if column is None:
                    known = ", ".join(c.header for c in columns)
                    problems.append(
                        RowProblem(
                            f"{source}, row {number}",
                            f"unknown column {text!r}; expected one of: {known} "
                            "(or their English names; 'Keterangan' for notes)",
                        )
                    )
                elif column.field in headers:
                    problems.append(
                        RowProblem(
                            f"{source}, row {number}",
                            f"column {text!r} is there twice (also {headers[column.field]!r}); "
                            "expected each column once",
                        )
                    )
                else:
                    fields[position] = column
                    headers[column.field] = named[column.field] = text
            missing = [c.header for c in columns if c.field in required and c.field not in headers]
            if missing:
                problems.append(
                    RowProblem(
                        f"{source}, row {number}",
                        f"no column {', '.join(missing)}; expected a header row with at least "
                        + ", ".join(c.header for c in columns if c.field in required)
                        + " (see deploy/inventory-template.xlsx)",
                    )
                )
            continue
        cells = {fields[i].field: text for i, text in enumerate(texts) if text and i in fields}
        records.append(Record(Where(source, f"row {number}"), cells, named))
    if not header_seen and (required or skipped):
        problems.append(
            RowProblem(
                source,
                f"no header row (row {skipped} has none of the column names); expected a row "
                f"naming the columns, e.g. {', '.join(c.header for c in columns[:4])} (see "
                "deploy/inventory-template.xlsx)"
                if skipped
                else "is empty; expected a header row and one row per node",
            )
        )
    return records, frozenset(headers), problems


def read_table(path: Path) -> Table:
    """The spreadsheet at `path` (.xlsx or .csv). Raises SheetError with every problem."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".xlsx":
        return _read_xlsx(path)
    raise SheetError(
        [f"{path}: unknown kind of file; expected a spreadsheet ending in .xlsx or .csv"]
    )


def _read_csv(path: Path) -> Table:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SheetError([f"{path}: cannot read the file: {exc.strerror or exc}"]) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(";,\t", key=first.count)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, fields, problems = _records(rows, DEVICE_COLUMNS, path.name, REQUIRED)
    if problems:
        raise SheetError(problems)
    return Table(path.name, tuple(records), fields)


def _sheet_rows(sheet: Worksheet) -> Iterator[Sequence[object]]:
    yield from sheet.iter_rows(values_only=True)


def _read_xlsx(path: Path) -> Table:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, BadZipFile, InvalidFileException, KeyError) as exc:
        raise SheetError(
            [f"{path}: cannot read the spreadsheet ({exc}); expected an .xlsx workbook"]
        ) from exc
    try:
        names = book.sheetnames
        devices = next((n for n in names if header_key(n) == header_key(DEVICES_SHEET)), None)
        if devices is None:
            devices = next(
                (
                    n
                    for n in names
                    if header_key(n) not in {header_key(HOURS_SHEET), header_key(GUIDE_SHEET)}
                ),
                names[0],
            )
        source = f"{path.name}: sheet {devices}"
        records, fields, problems = _records(
            _sheet_rows(book[devices]),
            DEVICE_COLUMNS,
            source,
            REQUIRED,  # type: ignore[arg-type]
        )
        hours: list[Record] = []
        hours_sheet = next((n for n in names if header_key(n) == header_key(HOURS_SHEET)), None)
        if hours_sheet is not None:
            hours, _, more = _records(
                _sheet_rows(book[hours_sheet]),  # type: ignore[arg-type]
                HOURS_COLUMNS,
                f"{path.name}: sheet {hours_sheet}",
                (),
            )
            problems += more
    finally:
        book.close()
    if problems:
        raise SheetError(problems)
    return Table(source, tuple(records), fields, tuple(hours))


# --- writing -------------------------------------------------------------------------------------


def write_table(table: Table, path: Path) -> None:
    """`table` as a spreadsheet (.xlsx with the office hours and the guide; or .csv)."""
    if path.suffix.lower() == ".csv":
        _write_csv(table, path)
    else:
        workbook(table).save(path)


def _write_csv(table: Table, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow([c.header for c in DEVICE_COLUMNS])
        # no second sheet: each office hours' definition goes in the first cell that names it
        inline = {h.get("name"): hours_cell(h) for h in table.hours}
        for record in table.devices:
            cells = dict(record.cells)
            if cells.get("office_hours") in inline:
                cells["office_hours"] = inline.pop(cells["office_hours"])
            writer.writerow([cells.get(c.field, "") for c in DEVICE_COLUMNS])


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _add_sheet(
    book: Workbook, title: str, columns: Sequence[Column], records: Iterable[Record]
) -> None:
    sheet = book.create_sheet(title)
    sheet.append([c.header for c in columns])
    for cell, column in zip(sheet[1], columns, strict=True):
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.comment = Comment(column.guide, "SIGAP", width=320, height=120)
    for record in records:
        sheet.append([record.get(c.field) or None for c in columns])
    for position, column in enumerate(columns, start=1):
        letter = sheet.cell(1, position).column_letter
        sheet.column_dimensions[letter].width = (
            40 if column.field in {"contacts", "name", "skpd_name"} else 18
        )
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def workbook(table: Table) -> Workbook:
    """The workbook of `table`: the devices, the office hours, and a guide to every column."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    _add_sheet(book, DEVICES_SHEET, DEVICE_COLUMNS, table.devices)
    _add_sheet(book, HOURS_SHEET, HOURS_COLUMNS, table.hours)
    guide = book.create_sheet(GUIDE_SHEET)
    guide.append(["Lembar", "Kolom", "Nama kolom (English)", "Isi", "Contoh"])
    for cell in guide[1]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    for sheet, columns in ((DEVICES_SHEET, DEVICE_COLUMNS), (HOURS_SHEET, HOURS_COLUMNS)):
        for column in columns:
            guide.append([sheet, column.header, column.field, column.guide, column.example or None])
    guide.append([])
    guide.append(["", GUIDE_NOTE])
    for letter, width in zip("ABCDE", (14, 16, 20, 80, 40), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    return book


GUIDE_NOTE = (
    "Satu baris per perangkat. Kolom SKPD (Nama SKPD, Alamat kantor, Lintang, Bujur, Kontak, "
    "Jam kantor) cukup diisi di satu baris SKPD itu. Lalu: sigap-exporter inventory import "
    "FILE.xlsx --output inventory.yml, periksa dengan sigap-exporter inventory diff, dan muat "
    "ulang exporter. Kolom 'Keterangan' boleh ditambah untuk catatan sendiri."
)


def template_table() -> Table:
    """The template's example: one SKPD behind a core router, as a new regency would start."""
    skpd = {c.field: c.example for c in DEVICE_COLUMNS if c.field in SKPD_FIELDS and c.example}
    gateway = {c.field: c.example for c in DEVICE_COLUMNS if c.field in NODE_FIELDS}
    rows = [
        {
            "skpd": "core",
            "skpd_name": "Diskominfo (inti)",
            "id": "core-router",
            "name": "Router inti NOC Diskominfo",
            "address": "10.20.0.1",
            "role": "core",
            "owner": "diskominfo",
        },
        {
            "skpd": "dinkes",
            **skpd,
            "lat": "-3.42",
            "lon": "115.99",
            "id": "uplink-dinkes",
            "name": "Link fiber optik dari NOC",
            "address": "10.20.5.1",
            "role": "uplink",
            "owner": "diskominfo",
            "parent": "core-router",
        },
        {"skpd": "dinkes", **gateway},
        {
            "skpd": "dinkes",
            "id": "sw-dinkes-1",
            "name": "Switch lantai 1",
            "address": "10.20.5.11",
            "role": "switch",
            "owner": "skpd",
            "parent": "gw-dinkes",
        },
    ]
    devices = tuple(
        Record(Where(DEVICES_SHEET, f"row {i + 2}"), cells) for i, cells in enumerate(rows)
    )
    hours = (Record(Where(HOURS_SHEET, "row 2"), {c.field: c.example for c in HOURS_COLUMNS}),)
    return Table(DEVICES_SHEET, devices, frozenset(c.field for c in DEVICE_COLUMNS), hours)
