"""Bad rows: each named by sheet, row and column with the fix, all at once, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exporter import cli
from tests.inventory.sheets import CORE_ROWS, DINKES_ROWS, EXAMPLE, HEADER, write_csv, write_xlsx

GOOD = [*CORE_ROWS, *DINKES_ROWS]


def refused(sheet: Path, output: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Import `sheet` over `output`, expecting a refusal; the problem lines it printed."""
    before = output.read_bytes() if output.exists() else None
    assert cli.main(["inventory", "import", str(sheet), "--output", str(output)]) == 1
    assert (output.read_bytes() if output.exists() else None) == before
    assert not [p for p in output.parent.iterdir() if p.name.startswith(f".{output.name}.")]
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"{output}: not written (nothing imported)"
    return err[:-1]


def with_cell(row: int, column: str, value: object) -> list[list[object]]:
    """GOOD with one cell changed; `row` as Excel counts (the header is row 1)."""
    rows = [list(r) for r in GOOD]
    rows[row - 2][HEADER.index(column)] = value
    return rows


@pytest.mark.parametrize(
    ("row", "column", "value", "expected"),
    [
        (
            5,
            "Induk",
            "gw-dinks",
            "n.xlsx: sheet Perangkat, row 5, column Induk: unknown node 'gw-dinks'; expected the "
            "id of a node in the sheet or the existing inventory (did you mean 'gw-dinkes'?)",
        ),
        (
            5,
            "Induk",
            "gw-dinkes, gw-dinkes",
            "n.xlsx: sheet Perangkat, row 5, column Induk: 'gw-dinkes' is listed twice; "
            "expected each parent once",
        ),
        (5, "Induk", "sw-dinkes-1", "row 5, column Induk: 'sw-dinkes-1' is the node itself"),
        (
            5,
            "Peran",
            "swich",
            "row 5, column Peran: unknown role 'swich'; expected one of: internet, core, ",
        ),
        (5, "Peran", "swich", "(did you mean 'switch'?)"),
        (
            5,
            "Pemilik",
            "dinas",
            "row 5, column Pemilik: unknown owner 'dinas'; expected diskominfo",
        ),
        (
            5,
            "Alamat IP",
            "198.18.5.300",
            "row 5, column Alamat IP: bad address '198.18.5.300'; expected an IPv4 or IPv6 address",
        ),
        (
            5,
            "Alamat IP",
            "198.18.5.2",
            "row 5, column Alamat IP: duplicate address '198.18.5.2' (198.18.5.2), already used by "
            "row 4",
        ),
        (5, "Alamat IP", "", "row 5, column Alamat IP: is required but missing"),
        (5, "ID", "gw-dinkes", "row 5, column ID: duplicate node id 'gw-dinkes', already on row 4"),
        (
            5,
            "ID",
            "Switch Satu",
            "row 5, column ID: bad id 'Switch Satu'; expected lower-case letters",
        ),
        (
            4,
            "SKPD",
            "",
            "row 4, column SKPD: is empty; expected the SKPD's code (e.g. dinkes) or 'core'",
        ),
        (
            4,
            "Nama SKPD",
            "Dinas Kesehatan dan KB",
            "row 4, column Nama SKPD: 'Dinas Kesehatan dan KB' differs from 'Dinas Kesehatan' on "
            "row 3 of the same SKPD 'dinkes'",
        ),
        (
            2,
            "Pemilik",
            "skpd",
            "row 2, column Pemilik: bad value 'skpd': core nodes belong to Diskominfo",
        ),
        (
            3,
            "Induk",
            "sw-dinkes-1",
            "makes a cycle uplink-dinkes → sw-dinkes-1 → gw-dinkes → uplink-dinkes",
        ),
    ],
)
def test_each_kind_of_bad_row_is_named_with_its_fix(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    row: int,
    column: str,
    value: object,
    expected: str,
) -> None:
    sheet = write_xlsx(tmp_path / "n.xlsx", with_cell(row, column, value))
    problems = refused(sheet, tmp_path / "inventory.yml", capsys)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("n.xlsx: sheet Perangkat, row ") for p in problems), problems


def test_every_problem_at_once_and_the_running_file_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = tmp_path / "inventory.yml"
    shutil.copy(EXAMPLE, current)
    rows = [list(r) for r in DINKES_ROWS]
    rows[0][HEADER.index("Induk")] = "dist-batulicn"
    rows[1][HEADER.index("Peran")] = "gerbang"
    rows[2][HEADER.index("Alamat IP")] = "nope..x"
    problems = refused(write_csv(tmp_path / "n.csv", rows), current, capsys)
    assert [p.split(":")[0] for p in problems] == [
        "n.csv, row 2, column Induk",
        "n.csv, row 3, column Peran",
        "n.csv, row 4, column Alamat IP",
    ]


def test_a_kept_node_whose_parent_the_import_removes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = tmp_path / "inventory.yml"
    shutil.copy(EXAMPLE, current)
    # a core of one router: the distribution routers the other SKPDs hang from are gone
    problems = refused(write_xlsx(tmp_path / "n.xlsx", GOOD), current, capsys)
    setda = next(p for p in problems if "'dist-gunungtinggi'" in p)
    line = next(
        i for i, text in enumerate(current.read_text().splitlines(), 1) if "uplink-setda," in text
    )
    assert setda.startswith(f"{current}:{line}: skpd[0].nodes[0].parent:")
    assert (
        "the import removes 'dist-gunungtinggi', as n.xlsx: sheet Perangkat lists 'core'" in setda
    )


def test_skpd_cells_that_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = [*HEADER, "Kontak", "Lintang", "Bujur", "Jam kantor"]
    rows = [[*r, "", "", "", ""] for r in GOOD]
    rows[1][8:] = ["Budi, 0812 5005 1185, budi@x.go.id, lantai 2", "selatan", "", "jam-kerja"]
    problems = refused(
        write_xlsx(tmp_path / "n.xlsx", rows, header=header), tmp_path / "i.yml", capsys
    )
    text = "\n".join(problems)
    assert "row 3, column Kontak: 'lantai 2' in" in text and "neither a phone number" in text
    assert "row 3, column Lintang: 'selatan' is not a number; expected degrees" in text
    assert "row 3, column Jam kantor: unknown office hours 'jam-kerja'" in text


def test_lat_without_lon_is_named_on_the_skpd_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = [*HEADER, "Lintang"]
    rows = [[*r, ""] for r in GOOD]
    rows[2][8] = "-3.4"
    problems = refused(
        write_xlsx(tmp_path / "n.xlsx", rows, header=header), tmp_path / "i.yml", capsys
    )
    assert problems == [
        "n.xlsx: sheet Perangkat, row 4, column Lintang: expected both lat and lon "
        "(degrees, e.g. lat: -3.42, lon: 115.99)"
    ]


def test_bad_office_hours_rows_are_named_in_their_sheet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hours = [
        ["Nama", "Hari", "Mulai", "Selesai"],
        ["pagi", "senin-jumat", "07:30", "25:00"],
        ["siang", "senin-minggu-kamis", "13:00", "16:00"],
    ]
    sheet = write_xlsx(tmp_path / "n.xlsx", GOOD, hours=hours)
    text = "\n".join(refused(sheet, tmp_path / "i.yml", capsys))
    assert "n.xlsx: sheet Jam kantor, row 3, column Hari: unknown day 'senin-minggu-kamis'" in text
    # the loader's own check, named by the row it came from
    assert "n.xlsx: sheet Jam kantor, row 2, column Selesai: bad time '25:00'" in text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ([*HEADER, "Warna"], "row 1: unknown column 'Warna'; expected one of: SKPD, Nama SKPD"),
        ([h for h in HEADER if h != "Pemilik"], "row 1: no column Pemilik; expected a header"),
        (["Nomor", "Perangkat", "Alamat"], "no header row (row 1 has none of the column names)"),
        ([*HEADER, "role"], "row 1: column 'role' is there twice (also 'Peran')"),
    ],
)
def test_a_bad_header_row_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: list[str], expected: str
) -> None:
    rows = [[*r, ""] for r in GOOD] if len(header) > len(HEADER) else [r[:-1] for r in GOOD]
    rows = rows if len(header) > 3 else [r[:3] for r in GOOD]
    sheet = write_xlsx(tmp_path / "n.xlsx", rows, header=header)
    problems = refused(sheet, tmp_path / "i.yml", capsys)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("n.xlsx", b"not a zip", "cannot read the spreadsheet"),
        ("n.ods", b"", "expected a spreadsheet ending in .xlsx or .csv"),
        ("n.csv", b"", "is empty; expected a header row"),
    ],
)
def test_a_file_that_is_no_spreadsheet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, expected: str
) -> None:
    sheet = tmp_path / name
    sheet.write_bytes(content)
    output = tmp_path / "i.yml"
    code = 0
    try:
        code = cli.main(["inventory", "import", str(sheet), "--output", str(output)])
    except SystemExit as exit_:  # argparse's own refusal of the file name
        code = int(exit_.code or 0)
    assert code in (1, 2) and not output.exists()
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["pagi: senin-jumat", ""], "row 3, column Jam kantor: 'pagi: senin-jumat' has no hours"),
        (["pagi: senin-jumat 07:30-12:00; cuti 2026-12-25", ""], "expected 'libur' and dates"),
        (
            ["pagi: senin-jumat 07:30-12:00", "pagi: senin-kamis 07:30-12:00"],
            "row 4, column Jam kantor: office hours 'pagi' are defined differently at n.csv, row 3",
        ),
        (["pagi: senin-jumat 07:30-25:00", ""], "row 3, column Jam kantor: bad time '25:00'"),
    ],
)
def test_office_hours_in_a_cell_that_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cells: list[str], expected: str
) -> None:
    header = [*HEADER, "Jam kantor"]
    rows = [[*r, ""] for r in GOOD]
    rows[1][8], rows[2][8] = cells
    problems = refused(
        write_csv(tmp_path / "n.csv", rows, header=header), tmp_path / "i.yml", capsys
    )
    assert any(expected in p for p in problems), problems
