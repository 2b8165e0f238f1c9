"""Spreadsheets as people make them, written with openpyxl and csv for the import tests."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "inventory.example.yml"
TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "inventory-template.xlsx"
HEADER = ["SKPD", "Nama SKPD", "ID", "Nama perangkat", "Alamat IP", "Peran", "Pemilik", "Induk"]
CORE_ROWS = [
    ["core", "Diskominfo", "core-router", "Router inti", "198.18.0.1", "core", "diskominfo", ""],
]
DINKES_ROWS = [
    [
        "dinkes",
        "Dinas Kesehatan",
        "uplink-dinkes",
        "Link fiber",
        "198.18.5.1",
        "uplink",
        "diskominfo",
        "core-router",
    ],
    ["dinkes", "", "gw-dinkes", "Gateway", "198.18.5.2", "gateway", "diskominfo", "uplink-dinkes"],
    ["dinkes", "", "sw-dinkes-1", "Switch lantai 1", "198.18.5.11", "switch", "skpd", "gw-dinkes"],
]


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    header: Sequence[str] = HEADER,
    sheet: str = "Perangkat",
    hours: Sequence[Sequence[object]] | None = None,
) -> Path:
    book = Workbook()
    devices = book.active
    assert devices is not None
    devices.title = sheet
    devices.append(list(header))
    for row in rows:
        devices.append(list(row))
    if hours is not None:
        extra = book.create_sheet("Jam kantor")
        for row in hours:
            extra.append(list(row))
    book.save(path)
    return path


def write_csv(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    header: Sequence[str] = HEADER,
    delimiter: str = ";",
    encoding: str = "utf-8-sig",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path
