"""The monthly report as an Excel workbook (`/laporan.xlsx`): what the head of office opens.

openpyxl, pure: the report's tables (`webhook.core.monthly.summary_table`, `incidents_table`)
and the letterhead in, `.xlsx` bytes out. One sheet per table, each with the letterhead (crest
and lines) at the top, the title, a bold header row that stays in view, a filter, and real
number cells: availability as a percentage, durations as `[h]:mm` with the seconds beside,
times as dates on the regency's clock.
"""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from webhook.core.i18n import word
from webhook.core.letterhead import Letterhead
from webhook.core.localtime import local
from webhook.core.monthly import Column, Table

HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
CREST_HEIGHT = 60
"""Pixels: the crest beside the letterhead's four lines."""
WIDTHS = {"text": 28, "word": 18, "count": 10, "flag": 10, "ratio": 14, "duration": 14,
          "moment": 19}  # fmt: skip
"""Column widths (characters) by kind; the widest header or value widens its column."""


def _cells(column: Column, value: object, lang: str) -> list[tuple[object, str | None]]:
    """(value, number format) of each cell a column's value fills."""
    if column.kind == "duration":
        if not isinstance(value, int | float):
            return [(None, None), (None, None)]
        return [(value / 86400, "[h]:mm"), (round(value), "0")]
    if value is None:
        return [(None, None)]
    match column.kind:
        case "ratio":
            return [(value, "0.000%")]
        case "count":
            return [(value, "0")]
        case "flag":
            return [(word("yes" if value else "no", lang), None)]
        case "word":
            return [(word(f"{column.words}{value}", lang), None)]
        case "moment" if isinstance(value, datetime):
            return [(local(value, column.zone).replace(tzinfo=None), "dd/mm/yyyy hh:mm")]
    return [(str(value), "@")]


def _headers(column: Column, lang: str) -> list[tuple[str, str]]:
    """(header, kind) of each cell of a column."""
    if column.kind == "duration":
        return [
            (f"{column.header} ({word('hours_minutes', lang)})", "duration"),
            (f"{column.header} ({word('seconds', lang)})", "count"),
        ]
    if column.kind == "ratio":
        return [(f"{column.header} (%)", "ratio")]
    return [(column.header, column.kind)]


def _letterhead(sheet: Worksheet, letterhead: Letterhead, width: int) -> int:
    """The letterhead's lines from row 1 (beside the crest, when there is one); returns the
    next free row."""
    first = 2 if letterhead.crest is not None else 1
    if letterhead.crest is not None:
        crest = Image(str(letterhead.crest))
        crest.width = round(crest.width * CREST_HEIGHT / crest.height)
        crest.height = CREST_HEIGHT
        sheet.add_image(crest, "A1")
    lines = [
        (letterhead.title_lines[0], Font(bold=True, size=13)),
        (letterhead.title_lines[1], Font(bold=True, size=13)),
        (letterhead.unit, Font(size=10)),
        (letterhead.contact_line, Font(size=9)),
    ]
    row = 1
    for text, font in lines:
        if not text:
            continue
        sheet.cell(row, first, text).font = font
        sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=width)
        sheet.cell(row, first).alignment = Alignment(horizontal="center")
        row += 1
    return row + 1


def _sheet(sheet: Worksheet, table: Table, letterhead: Letterhead, lang: str) -> None:
    headers = [h for c in table.columns for h in _headers(c, lang)]
    row = _letterhead(sheet, letterhead, len(headers))
    sheet.cell(row, 1, table.title).font = Font(bold=True, size=12)
    row += 2
    for index, (text, _) in enumerate(headers, start=1):
        cell = sheet.cell(row, index, text)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    header_row = row
    longest = [0] * len(headers)
    for values in table.rows:
        row += 1
        filled = [x for c, v in zip(table.columns, values, strict=True) for x in _cells(c, v, lang)]
        for index, (value, number_format) in enumerate(filled, start=1):
            cell = sheet.cell(row, index)
            cell.value = value  # type: ignore[assignment]
            if isinstance(value, str):
                longest[index - 1] = max(longest[index - 1], len(value))
                if cell.data_type == "f":
                    cell.data_type = "s"  # text a person typed, never run as a formula
            if number_format:
                cell.number_format = number_format
    for index, (_, kind) in enumerate(headers, start=1):
        width = max(WIDTHS[kind], longest[index - 1] + 2, 10)
        sheet.column_dimensions[get_column_letter(index)].width = min(60, width)
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    last = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A{header_row}:{last}{max(row, header_row)}"


def report_workbook(
    tables: tuple[Table, ...], sheet_names: tuple[str, ...], letterhead: Letterhead, lang: str
) -> bytes:
    """The workbook: one sheet per table, named by `sheet_names` (at most 31 characters)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for table, name in zip(tables, sheet_names, strict=True):
        _sheet(book.create_sheet(name[:31]), table, letterhead, lang)
    book.properties.creator = f"SIGAP · {letterhead.short_name}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
