"""The quick way of importing over a large file (only the SKPD entries that change are
round-tripped) gives what the whole round trip gives, and leaves every other line as it was."""

from __future__ import annotations

import difflib

import pytest

from exporter.importer import import_by_round_trip, import_table, same_inventory
from exporter.inventory import load_inventory
from exporter.sheet import Record, Table, inventory_table
from tests.inventory.sheets import EXAMPLE

HOLIDAYS = "    holidays: &libur-nasional   # national holidays and cuti bersama"


def edited(edit: str) -> Table:
    table = inventory_table(load_inventory(EXAMPLE, resolve=None), "n.xlsx")
    rows = [dict(r.cells) for r in table.devices]
    by_id = {r.get("id"): r for r in rows}
    if edit == "rename":
        by_id["gw-dinkes"]["name"] = "Gateway DINKES (baru)"
    elif edit == "add":
        rows.insert(
            rows.index(by_id["srv-dinkes-simpus"]) + 1,
            {
                "skpd": "dinkes",
                "name": "Access point 9",
                "address": "198.18.5.39",
                "role": "access_point",
                "owner": "skpd",
                "parent": "sw-dinkes-1",
            },
        )
    elif edit == "remove":
        rows.remove(by_id["srv-setda-arsip"])
    elif edit == "new skpd":
        rows.append(
            {
                "skpd": "dishub",
                "skpd_name": "Dinas Perhubungan",
                "id": "gw-dishub",
                "address": "198.18.12.2",
                "role": "gateway",
                "owner": "diskominfo",
                "parent": "dist-batulicin",
            }
        )
    elif edit == "move":
        node = by_id["srv-rsud-pacs"]
        rows.remove(node)
        rows.insert(rows.index(by_id["srv-dinkes-simpus"]) + 1, {**node, "skpd": "dinkes"})
    elif edit == "contacts":
        first = next(r for r in rows if r.get("skpd") == "bpkad")
        first["contacts"] = "Ahmad Fauzi (admin), +62 812 5003 1111"
    elif edit == "core":
        by_id["core-router"]["name"] = "Router inti"
    records = tuple(
        Record(r.where, cells)
        for r, cells in zip(
            [*table.devices, *table.devices[: len(rows) - len(table.devices)]], rows, strict=False
        )
    )
    return Table(table.source, records, table.fields, table.hours)


@pytest.mark.parametrize(
    ("edit", "added", "removed"),
    [
        ("rename", 1, 1),
        ("add", 1, 0),
        ("remove", 0, 1),
        ("new skpd", 4, 0),
        ("move", 1, 1),
        ("contacts", 1, 2),
    ],
)
def test_only_the_changed_entries_are_rewritten(edit: str, added: int, removed: int) -> None:
    existing = EXAMPLE.read_text()
    table = edited(edit)
    quick = import_table(table, existing, "inventory.yml", resolve=None)
    whole = import_by_round_trip(table, existing, "inventory.yml", resolve=None)
    assert same_inventory(quick.inventory, whole.inventory)
    assert quick.changed and HOLIDAYS in quick.text  # the quick way: the rest is as written
    diff = [
        line
        for line in difflib.ndiff(existing.splitlines(), quick.text.splitlines())
        if line[:1] in "+-"
    ]
    assert (len([d for d in diff if d[0] == "+"]), len([d for d in diff if d[0] == "-"])) == (
        added,
        removed,
    ), diff
    assert all(d.startswith(("+       - {", "-       - {", "+   - id: ", "+     ")) for d in diff)
    assert quick.text.count("#") == existing.count("#")


def test_a_change_to_the_core_takes_the_whole_way() -> None:
    existing = EXAMPLE.read_text()
    table = edited("core")
    quick = import_table(table, existing, "inventory.yml", resolve=None)
    assert quick.text == import_by_round_trip(table, existing, "inventory.yml", resolve=None).text
    assert "name: Router inti}" in quick.text


def test_a_file_without_a_final_newline() -> None:
    existing = EXAMPLE.read_text().rstrip("\n")
    table = edited("new skpd")
    quick = import_table(table, existing, "inventory.yml", resolve=None)
    assert "dishub" in quick.inventory.skpds and HOLIDAYS in quick.text
    assert "Access point 2}\n  - id: dishub" in quick.text
