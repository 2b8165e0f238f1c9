"""`sigap-exporter inventory import/export`: the round trip, and importing over a real file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from exporter import cli
from exporter.importer import same_inventory
from exporter.inventory import CORE, load_inventory
from tests.inventory.sheets import (
    CORE_ROWS,
    DINKES_ROWS,
    EXAMPLE,
    HEADER,
    write_csv,
    write_xlsx,
)


def run(*argv: str | Path) -> int:
    return cli.main(["inventory", *map(str, argv)])


@pytest.fixture
def current(tmp_path: Path) -> Path:
    """The running inventory: a copy of the example, comments and all."""
    path = tmp_path / "inventory.yml"
    shutil.copy(EXAMPLE, path)
    return path


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_example_exported_and_imported_back_is_the_same_inventory(
    tmp_path: Path, current: Path, suffix: str
) -> None:
    sheet = tmp_path / f"jaringan{suffix}"
    assert run("export", sheet, "--config.file", EXAMPLE) == 0
    example = load_inventory(EXAMPLE, resolve=None)
    # over the running file: the same network, and not a byte of the file changed
    before, stat = current.read_bytes(), current.stat()
    assert run("import", sheet, "--output", current) == 0
    assert current.read_bytes() == before
    assert (current.stat().st_ino, current.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    # into a new file: the spreadsheet alone gives the same inventory (a CSV carries the
    # office hours' definitions in the Jam kantor cell of the first SKPD naming them)
    fresh = tmp_path / "new.yml"
    assert run("import", sheet, "--output", fresh) == 0
    assert same_inventory(example, load_inventory(fresh, resolve=None))


def test_csv_is_written_for_indonesian_excel(tmp_path: Path) -> None:
    sheet = tmp_path / "jaringan.csv"
    assert run("export", sheet, "--config.file", EXAMPLE) == 0
    raw = sheet.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    header = raw[3:].split(b"\r\n", 1)[0].decode()
    assert header.split(";")[:3] == ["SKPD", "Nama SKPD", "Alamat kantor"]


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [(";", "utf-8-sig"), (",", "utf-8"), (";", "cp1252"), ("\t", "utf-8")],
)
def test_csv_as_excel_writes_it_in_either_setting(
    tmp_path: Path, delimiter: str, encoding: str
) -> None:
    rows = [*CORE_ROWS, *DINKES_ROWS]
    rows[1] = [*rows[1][:3], "Link fiber optik Batulicin–Kodeco", *rows[1][4:]]
    sheet = write_csv(tmp_path / "n.csv", rows, delimiter=delimiter, encoding=encoding)
    out = tmp_path / "inventory.yml"
    assert run("import", sheet, "--output", out) == 0
    inventory = load_inventory(out, resolve=None)
    assert list(inventory.skpds) == ["dinkes"]
    assert inventory.nodes["sw-dinkes-1"].parent == "gw-dinkes"
    assert inventory.nodes["uplink-dinkes"].name is not None
    assert inventory.nodes["uplink-dinkes"].name.startswith("Link fiber optik Batulicin")


def test_english_headers_are_read_too(tmp_path: Path) -> None:
    header = ["skpd", "skpd name", "id", "name", "address", "role", "owner", "parent", "Notes"]
    rows = [[*r, "catatan"] for r in [*CORE_ROWS, *DINKES_ROWS]]
    sheet = write_xlsx(tmp_path / "n.xlsx", rows, header=header, sheet="Devices")
    out = tmp_path / "inventory.yml"
    assert run("import", sheet, "--output", out) == 0
    assert load_inventory(out, resolve=None).nodes["gw-dinkes"].role == "gateway"


def test_importing_over_a_file_keeps_its_comments_ids_and_what_the_sheet_does_not_list(
    tmp_path: Path, current: Path
) -> None:
    comments = [line.strip() for line in current.read_text().splitlines() if "#" in line]
    # one SKPD's sheet, as the office sends it: no ids, an extra access point, a renamed switch
    rows = [
        [
            "dinkes",
            "Dinas Kesehatan",
            "",
            "Link fiber optik dari Batulicin",
            "198.18.5.1",
            "uplink",
            "diskominfo",
            "dist-batulicin",
        ],
        [
            "dinkes",
            "",
            "",
            "Router gateway",
            "198.18.5.2",
            "gateway",
            "diskominfo",
            "uplink-dinkes",
        ],
        ["dinkes", "", "", "Switch inti", "198.18.5.10", "switch", "skpd", "gw-dinkes"],
        [
            "dinkes",
            "",
            "",
            "Switch lantai 1 (baru)",
            "198.18.5.11",
            "switch",
            "skpd",
            "sw-dinkes-core",
        ],
        ["dinkes", "", "", "Access point 9", "198.18.5.39", "Access point", "SKPD", "sw-dinkes-1"],
    ]
    sheet = write_xlsx(tmp_path / "dinkes.xlsx", rows)
    assert run("import", sheet, "--output", current) == 0
    text = current.read_text()
    for comment in comments:
        assert comment.split("#", 1)[1].strip() in text, comment
    after = load_inventory(current, resolve=None)
    before = load_inventory(EXAMPLE, resolve=None)
    # ids kept (found by address), a new one made from the name
    assert after.skpds["dinkes"].node_ids == (
        "uplink-dinkes",
        "gw-dinkes",
        "sw-dinkes-core",
        "sw-dinkes-1",
        "dinkes-access-point-9",
    )
    assert after.nodes["dinkes-access-point-9"].role == "access_point"
    assert after.nodes["dinkes-access-point-9"].owner == "skpd"
    assert after.nodes["sw-dinkes-1"].name == "Switch lantai 1 (baru)"
    # the SKPD's contacts (no column in this sheet) and every other SKPD are as they were
    assert after.skpds["dinkes"].contacts == before.skpds["dinkes"].contacts
    for skpd_id in before.skpds.keys() - {"dinkes"}:
        assert after.skpds[skpd_id] == before.skpds[skpd_id]
    assert [n for n in after.nodes.values() if n.skpd == CORE] == [
        n for n in before.nodes.values() if n.skpd == CORE
    ]
    # the rows the sheet leaves out of dinkes are gone from it
    assert "srv-dinkes-simpus" not in after.nodes


def test_importing_keeps_what_the_sheet_has_no_column_for(tmp_path: Path, current: Path) -> None:
    text = current.read_text().replace(
        "{id: gw-dinkes, address: 198.18.5.2,",
        "{id: gw-dinkes, labels: {rack: r1}, down_after: 5, address: 198.18.5.2,",
    )
    current.write_text(text)
    rows = [[*r[:2], r[2], "Gateway baru", *r[4:]] for r in DINKES_ROWS]
    rows[0][7] = "dist-batulicin"
    assert run("import", write_xlsx(tmp_path / "d.xlsx", rows), "--output", current) == 0
    gw = load_inventory(current, resolve=None).nodes["gw-dinkes"]
    assert gw.labels["rack"] == "r1" and gw.probe.down_after == 5 and gw.name == "Gateway baru"


def test_an_empty_cell_clears_and_a_node_moves_between_skpds(tmp_path: Path, current: Path) -> None:
    rows = [list(r) for r in DINKES_ROWS]
    rows[0][7] = "dist-batulicin"
    rows[2][3] = ""  # the switch's name cleared
    rows.append(
        ["dinkes", "", "srv-rsud-pacs", "PACS", "198.18.10.52", "server", "skpd", "sw-dinkes-1"]
    )
    assert run("import", write_xlsx(tmp_path / "d.xlsx", rows), "--output", current) == 0
    after = load_inventory(current, resolve=None)
    assert after.nodes["sw-dinkes-1"].name is None
    assert after.nodes["srv-rsud-pacs"].skpd == "dinkes"
    assert "srv-rsud-pacs" not in after.skpds["rsud"].node_ids


def test_prune_makes_the_sheet_the_whole_network(tmp_path: Path, current: Path) -> None:
    sheet = write_xlsx(tmp_path / "n.xlsx", [*CORE_ROWS, *DINKES_ROWS])
    assert run("import", sheet, "--output", current, "--prune") == 0
    after = load_inventory(current, resolve=None)
    assert list(after.skpds) == ["dinkes"]
    assert set(after.nodes) == {"core-router", "uplink-dinkes", "gw-dinkes", "sw-dinkes-1"}


def test_dry_run_says_what_changes_and_writes_nothing(
    tmp_path: Path, current: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [list(r) for r in DINKES_ROWS]
    rows[0][7] = "dist-gunungtinggi"
    before = current.read_bytes()
    assert (
        run("import", write_xlsx(tmp_path / "d.xlsx", rows), "--output", current, "--dry-run") == 0
    )
    assert current.read_bytes() == before
    out = capsys.readouterr().out
    assert "~ node uplink-dinkes: re-parented 'dist-batulicin' → 'dist-gunungtinggi'" in out
    assert "- node srv-dinkes-simpus" in out
    assert "not written (--dry-run)" in out


def test_skpd_columns_contacts_location_and_hours(tmp_path: Path) -> None:
    header = [*HEADER, "Alamat kantor", "Lintang", "Bujur", "Kontak", "Jam kantor"]
    rows = [[*r, "", "", "", "", ""] for r in [*CORE_ROWS, *DINKES_ROWS]]
    rows[1][8:] = [
        "Jl. Kodeco Km 1, Batulicin",
        "-3,42",  # a decimal comma, as Indonesian Excel shows it
        115.99,
        "Budi Santoso (admin), +62 812 5005 1185, budi@example.go.id\n"
        "Kepala Subbag Umum, Sp.A (penanggung_jawab), 081340052265",
        "jam-kantor",
    ]
    hours = [
        ["Nama", "Zona waktu", "Hari", "Mulai", "Selesai", "Hari libur"],
        ["jam-kantor", "Asia/Makassar", "senin-jumat", "07:30", "16:00", "2026-12-25"],
    ]
    sheet = write_xlsx(tmp_path / "n.xlsx", rows, header=header, hours=hours)
    out = tmp_path / "inventory.yml"
    assert run("import", sheet, "--output", out) == 0
    skpd = load_inventory(out, resolve=None).skpds["dinkes"]
    assert skpd.location == "Jl. Kodeco Km 1, Batulicin"
    assert skpd.position == (-3.42, 115.99)
    assert [(c.name, c.role, c.phone, c.email) for c in skpd.contacts] == [
        ("Budi Santoso", "admin", "+62 812 5005 1185", "budi@example.go.id"),
        ("Kepala Subbag Umum, Sp.A", "penanggung_jawab", "081340052265", None),
    ]
    assert skpd.office_hours is not None
    assert skpd.office_hours.start == 7 * 60 + 30 and skpd.office_hours.days == set(range(5))
    # the times are quoted for the loader (YAML 1.1 reads 07:30 as a number)
    assert re.search(r'start: "07:30"', out.read_text())


def test_a_title_above_the_table_is_read_past(tmp_path: Path) -> None:
    rows = [["Daftar perangkat jaringan Dinas Kesehatan"], [], HEADER, *CORE_ROWS, *DINKES_ROWS]
    sheet = write_xlsx(tmp_path / "n.xlsx", rows, header=["SIGAP"])
    out = tmp_path / "inventory.yml"
    assert run("import", sheet, "--output", out) == 0
    assert len(load_inventory(out, resolve=None).nodes) == 4


def test_a_readdressed_node_without_an_id_keeps_its_id_by_name(
    tmp_path: Path, current: Path
) -> None:
    rows = [
        [
            "dinkes",
            "",
            "",
            "Router gateway Diskominfo di DINKES",
            "198.18.5.3",
            "gateway",
            "diskominfo",
            "uplink-dinkes",
        ],
        ["dinkes", "", "uplink-dinkes", "", "198.18.5.1", "uplink", "diskominfo", "dist-batulicin"],
    ]
    assert run("import", write_xlsx(tmp_path / "d.xlsx", rows), "--output", current) == 0
    after = load_inventory(current, resolve=None)
    assert after.skpds["dinkes"].node_ids == ("gw-dinkes", "uplink-dinkes")
    assert after.nodes["gw-dinkes"].address == "198.18.5.3"


def test_an_output_that_cannot_be_written_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = write_xlsx(tmp_path / "n.xlsx", [*CORE_ROWS, *DINKES_ROWS])
    assert run("import", sheet, "--output", tmp_path / "no" / "inventory.yml") == 1
    assert "no/inventory.yml: cannot write it: No such file or directory" in (
        capsys.readouterr().err
    )
    assert run("export", tmp_path / "no" / "n.xlsx", "--config.file", EXAMPLE) == 1


def test_office_hours_defined_in_a_cell_of_a_csv(tmp_path: Path) -> None:
    header = [*HEADER, "Jam kantor"]
    rows = [[*r, ""] for r in [*CORE_ROWS, *DINKES_ROWS]]
    rows[1][8] = "pagi: senin-kamis 07:30-12:00 Asia/Jakarta; libur 2026-12-25, 2027-01-01"
    rows[2][8] = "pagi"
    out = tmp_path / "inventory.yml"
    assert run("import", write_csv(tmp_path / "n.csv", rows, header=header), "--output", out) == 0
    hours = load_inventory(out, resolve=None).skpds["dinkes"].office_hours
    assert hours is not None and hours.name == "pagi"
    assert (hours.days, hours.start, hours.end) == ({0, 1, 2, 3}, 450, 720)
    assert str(hours.timezone) == "Asia/Jakarta" and len(hours.holidays) == 2
