"""Office hours: an SKPD's own equipment is expected on only within the hours it declares;
Diskominfo's nodes and every node of an SKPD without hours are expected always. Bad hours are
refused with the file, the line, the path and the fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from exporter.inventory import Inventory, InventoryError, expected_up, parse_inventory

WITA = timezone(timedelta(hours=8))
INVENTORY = """
office_hours:
  jam-kantor:
    timezone: Asia/Makassar
    days: [mon, tue, wed, thu, fri]
    start: "07:30"
    end: "16:00"
    holidays: [2026-12-25]
skpd:
  - id: setda
    name: Sekretariat Daerah
    office_hours: jam-kantor
    nodes:
      - {id: uplink-setda, address: 198.18.1.1, role: uplink, owner: diskominfo}
      - {id: gw-setda, address: 198.18.1.2, role: gateway, owner: diskominfo, parent: uplink-setda}
      - {id: sw-setda-core, address: 198.18.1.10, role: switch, owner: skpd, parent: gw-setda}
  - id: rsud
    name: RSUD
    nodes:
      - {id: sw-rsud-core, address: 198.18.10.10, role: switch, owner: skpd}
"""


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return parse_inventory(INVENTORY, resolve=None)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 12, 1, 10, 0, tzinfo=WITA), True),  # a Tuesday morning
        (datetime(2026, 12, 1, 7, 30, tzinfo=WITA), True),  # the start is included
        (datetime(2026, 12, 1, 7, 29, 59, tzinfo=WITA), False),
        (datetime(2026, 12, 1, 15, 59, 59, tzinfo=WITA), True),
        (datetime(2026, 12, 1, 16, 0, tzinfo=WITA), False),  # the end is excluded
        (datetime(2026, 12, 1, 22, 0, tzinfo=WITA), False),
        (datetime(2026, 12, 5, 10, 0, tzinfo=WITA), False),  # Saturday
        (datetime(2026, 12, 25, 10, 0, tzinfo=WITA), False),  # a Friday, but a holiday
        # 01:00 UTC is 09:00 WITA: the clock's own zone does not matter
        (datetime(2026, 12, 1, 1, 0, tzinfo=UTC), True),
        (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), False),  # 17:00 WITA
    ],
)
def test_an_skpd_node_is_expected_only_within_its_hours(
    inventory: Inventory, now: datetime, expected: bool
) -> None:
    assert expected_up(inventory.nodes["sw-setda-core"], now) is expected


def test_diskominfo_nodes_and_skpds_without_hours_are_always_expected(
    inventory: Inventory,
) -> None:
    saturday_night = datetime(2026, 12, 5, 23, 0, tzinfo=WITA)
    for node in ("uplink-setda", "gw-setda", "sw-rsud-core"):
        assert expected_up(inventory.nodes[node], saturday_night), node
    assert inventory.skpds["setda"].office_hours is not None
    assert inventory.skpds["rsud"].office_hours is None


def test_without_office_hours_every_node_is_always_expected() -> None:
    without = "skpd:" + INVENTORY.split("\nskpd:", 1)[1].replace("office_hours: jam-kantor", "")
    plain = parse_inventory(without, resolve=None)
    night = datetime(2026, 12, 5, 23, 0, tzinfo=WITA)
    assert all(expected_up(n, night) for n in plain.nodes.values())


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            'end: "16:00"',
            "end: 16:00",
            "office_hours.jam-kantor.end",
            "bad time 960: YAML read an unquoted time as a number; "
            'write it in quotes, e.g. "16:00"',
        ),
        (
            'end: "16:00"',
            'end: "07:00"',
            "office_hours.jam-kantor.end",
            "07:00 is not after the start 07:30",
        ),
        ('start: "07:30"', 'start: "7.30"', "office_hours.jam-kantor.start", "expected HH:MM"),
        ("[mon, tue,", "[senin, tue,", "office_hours.jam-kantor.days[0]", "'senin'"),
        ("Asia/Makassar", "WITA", "office_hours.jam-kantor.timezone", "unknown time zone 'WITA'"),
        ("[2026-12-25]", "[25-12-2026]", "office_hours.jam-kantor.holidays[0]", "'25-12-2026'"),
        (
            "office_hours: jam-kantor",
            "office_hours: jam-kerja",
            "skpd[0].office_hours",
            "unknown office hours 'jam-kerja'; expected the name of one of the inventory's "
            "office_hours: jam-kantor",
        ),
        (
            "    holidays:",
            "    libur: [2026-12-24]\n    holidays:",
            "office_hours.jam-kantor.libur",
            "unknown key 'libur'; expected one of: timezone, days, start, end, holidays",
        ),
    ],
)
def test_bad_hours_name_the_file_line_path_and_fix(
    tmp_path: Path, old: str, new: str, path: str, message: str
) -> None:
    text = INVENTORY.replace(old, new, 1)
    assert text != INVENTORY
    line = next(i for i, t in enumerate(text.splitlines(), 1) if new.split("\n")[-1] in t)
    if "libur" in new:
        line -= 1
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, "inventory.yml", resolve=None)
    problems = str(caught.value).splitlines()
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"inventory.yml:{line}: {path}: "), problems[0]
    assert message in problems[0]
