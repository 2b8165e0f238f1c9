"""`sigap-exporter inventory diff OLD NEW`: what a change does, before a reload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exporter import cli
from tests.inventory.sheets import DINKES_ROWS, EXAMPLE, write_xlsx


def diff(old: Path, new: Path, *extra: str) -> int:
    return cli.main(["inventory", "diff", str(old), str(new), *extra])


def changed(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = EXAMPLE.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "new.yml"
    path.write_text(text)
    return path


def test_the_same_network_is_no_difference(capsys: pytest.CaptureFixture[str]) -> None:
    assert diff(EXAMPLE, EXAMPLE) == 0
    assert capsys.readouterr().out.strip() == "no changes"


def test_a_comment_or_layout_change_is_no_difference(tmp_path: Path) -> None:
    new = changed(tmp_path, ("# SIGAP example inventory", "# another header"))
    assert diff(EXAMPLE, new) == 0


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        (
            [
                (
                    "parent: sw-setda-1, name: Access point 1",
                    "parent: sw-setda-2, name: Access point 1",
                )
            ],
            ["~ node ap-setda-1: re-parented 'sw-setda-1' → 'sw-setda-2'", "1 re-parented"],
        ),
        (
            [("address: 198.18.5.2,", "address: 198.18.5.3,")],
            ["~ node gw-dinkes: readdressed '198.18.5.2' → '198.18.5.3'", "1 readdressed"],
        ),
        (
            [("name: Router gateway Diskominfo di DINKES", "name: Gateway DINKES")],
            ["~ node gw-dinkes: renamed 'Router gateway Diskominfo di DINKES' → 'Gateway DINKES'"],
        ),
        (
            [("name: Dinas Kesehatan\n", "name: Dinas Kesehatan dan KB\n")],
            ["~ skpd dinkes: renamed 'Dinas Kesehatan' → 'Dinas Kesehatan dan KB'"],
        ),
        (
            [
                (
                    "      - {id: srv-dinkes-simpus,",
                    "      - {id: ap-dinkes-9, address: 198.18.5.39, role: access_point, "
                    "owner: skpd, parent: sw-dinkes-1}\n      - {id: srv-dinkes-simpus,",
                )
            ],
            [
                "+ node ap-dinkes-9 in dinkes: 198.18.5.39, access_point, owner skpd, "
                "behind sw-dinkes-1",
                "1 added",
            ],
        ),
        (
            [
                (
                    "      - {id: srv-setda-arsip, address: 198.18.1.51, role: server, "
                    "owner: skpd, parent: sw-setda-core}\n",
                    "",
                )
            ],
            ["- node srv-setda-arsip in setda: 198.18.1.51, server, owner skpd", "1 removed"],
        ),
        (
            [
                (
                    "role: server, owner: skpd, parent: sw-setda-core}",
                    "role: host, owner: diskominfo, parent: sw-setda-core}",
                )
            ],
            [
                "~ node srv-setda-arsip: role 'server' → 'host'",
                "~ node srv-setda-arsip: owner 'skpd' → 'diskominfo'",
            ],
        ),
        (
            [
                (
                    "    office_hours: jam-kantor\n    contacts:\n      - {name: Rahmat",
                    "    contacts:\n      - {name: Rahmat",
                )
            ],
            [
                "~ skpd setda: office_hours 'jam-kantor: mon,tue,wed,thu,fri 07:30-16:00 "
                "Asia/Makassar, 3 holidays' → (none)"
            ],
        ),
        (
            [('start: "07:30"', 'start: "08:00"')],
            [
                "~ skpd setda: office_hours 'jam-kantor: mon,tue,wed,thu,fri 07:30-16:00",
                "→ 'jam-kantor: mon,tue,wed,thu,fri 08:00-16:00",
                "~ skpd disdukcapil: office_hours",
            ],
        ),
    ],
)
def test_each_kind_of_change_is_said(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edits: list[tuple[str, str]],
    expected: list[str],
) -> None:
    assert diff(EXAMPLE, changed(tmp_path, *edits)) == 1
    out = capsys.readouterr().out.splitlines()
    for line in expected:
        assert any(line in o for o in out), (line, out)


def test_an_skpd_added_and_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = EXAMPLE.read_text()
    start = text.index("  - id: kec-kusanhilir")
    new = tmp_path / "new.yml"
    new.write_text(text[:start])
    assert diff(EXAMPLE, new) == 1
    out = capsys.readouterr().out
    assert "- skpd kec-kusanhilir: Kecamatan Kusan Hilir, 5 nodes" in out
    assert "- node gw-kec-kusanhilir in kec-kusanhilir" in out
    assert out.strip().endswith("6 removed")
    assert diff(new, EXAMPLE) == 1
    assert "+ skpd kec-kusanhilir: Kecamatan Kusan Hilir, 5 nodes" in capsys.readouterr().out


def test_json_for_scripts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = changed(tmp_path, ("address: 198.18.5.2,", "address: 198.18.5.3,"))
    assert diff(EXAMPLE, new, "--format", "json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["changes"] == [
        {
            "kind": "readdressed",
            "subject": "node",
            "id": "gw-dinkes",
            "field": "address",
            "old": "198.18.5.2",
            "new": "198.18.5.3",
        }
    ]
    assert data["summary"]["readdressed"] == 1 and data["summary"]["added"] == 0


def test_a_spreadsheet_as_new_is_imported_over_old_in_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [list(r) for r in DINKES_ROWS]
    rows[0][7] = "dist-batulicin"
    rows[1][4] = "198.18.5.3"
    sheet = write_xlsx(tmp_path / "dinkes.xlsx", rows)
    before = EXAMPLE.read_bytes()
    assert diff(EXAMPLE, sheet) == 1
    out = capsys.readouterr().out
    assert "~ node gw-dinkes: readdressed '198.18.5.2' → '198.18.5.3'" in out
    assert "~ node sw-dinkes-1: re-parented 'sw-dinkes-core' → 'gw-dinkes'" in out
    assert "- node sw-dinkes-core in dinkes" in out and "- node gw-setda" not in out
    assert EXAMPLE.read_bytes() == before


def test_trouble_is_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = changed(tmp_path, ("parent: gw-dinkes,", "parent: gw-dinkess,"))
    assert diff(EXAMPLE, bad) == 2
    assert "gw-dinkess" in capsys.readouterr().err
    assert diff(EXAMPLE, tmp_path / "missing.yml") == 2
