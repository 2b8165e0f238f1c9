"""deploy/inventory-template.xlsx: what a regency fills in; it must never drift from the reader."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from openpyxl.workbook import Workbook

from exporter import cli
from exporter.inventory import load_inventory
from exporter.sheet import DEVICE_COLUMNS, GUIDE_SHEET, HOURS_COLUMNS
from tests.inventory.sheets import TEMPLATE


def cells(book: Workbook) -> dict[str, list[list[object]]]:
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in book.worksheets
    }


def test_the_shipped_template_is_what_the_code_writes_today(tmp_path: Path) -> None:
    fresh = tmp_path / "t.xlsx"
    assert cli.main(["inventory", "template", str(fresh)]) == 0
    assert cells(load_workbook(TEMPLATE)) == cells(load_workbook(fresh)), (
        "deploy/inventory-template.xlsx is stale: "
        "sigap-exporter inventory template deploy/inventory-template.xlsx"
    )


def test_the_template_imports_as_it_is(tmp_path: Path) -> None:
    out = tmp_path / "inventory.yml"
    assert cli.main(["inventory", "import", str(TEMPLATE), "--output", str(out)]) == 0
    inventory = load_inventory(out, resolve=None)
    assert list(inventory.skpds) == ["dinkes"]
    skpd = inventory.skpds["dinkes"]
    assert skpd.office_hours is not None and skpd.contacts and skpd.position
    assert inventory.nodes["sw-dinkes-1"].parent == "gw-dinkes"


def test_every_column_is_explained_in_indonesian() -> None:
    book = load_workbook(TEMPLATE)
    devices = book["Perangkat"]
    assert [c.value for c in devices[1]] == [c.header for c in DEVICE_COLUMNS]
    for cell, column in zip(devices[1], DEVICE_COLUMNS, strict=True):
        assert cell.comment is not None and cell.comment.text == column.guide
    assert [c.value for c in book["Jam kantor"][1]] == [c.header for c in HOURS_COLUMNS]
    guide = [row for row in book[GUIDE_SHEET].iter_rows(values_only=True) if row[1]]
    explained = {(row[0], row[1]) for row in guide}
    for sheet, columns in (("Perangkat", DEVICE_COLUMNS), ("Jam kantor", HOURS_COLUMNS)):
        for column in columns:
            assert (sheet, column.header) in explained, column.header
