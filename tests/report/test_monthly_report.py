"""The monthly report against a real Prometheus: two months of the recording rule
`sigap:skpd_connection_up:avg1m` are generated (a node of two down 3 hours last month),
backfilled with `promtool tsdb create-blocks-from openmetrics` and served by the Debian
`prometheus`; incidents are made through the real app. The page, the CSVs and the PDF must
show the same figures."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.e2e import harness
from tests.workflow.conftest import Service, start_service
from tests.workflow.sop_walk import (
    act,
    alert,
    detail,
    first_entries,
    open_report,
    send,
    walk_to_repair,
)
from tests.workflow.test_service import login
from webhook.core.monthly import Month
from webhook.services.prometheus import CONNECTION_RULE, INTERNAL_RULE

ROOT = Path(__file__).resolve().parents[2]

INVENTORY = ROOT / "deploy" / "inventory.example.yml"
RULE = CONNECTION_RULE
INTERNAL = 0.75
"""dinkes's internal network all along (an access point of four dark): apart from the connection."""


@dataclass
class Backfilled:
    url: str
    current: Month
    previous: Month
    expected: dict[tuple[Month, str], float]
    """(month, skpd) -> the mean of the generated samples in that month."""


def up_share(skpd: str, moment: datetime, previous: Month, current: Month) -> float:
    """The generated truth, per minute. dinkes (2 nodes): last month one node down 3 hours on
    the 10th; this month one node down for a while. disdik: down entirely the last hour of last
    month (a window that leaks over the month's start would show), up all this month."""
    if skpd == "dinkes":
        down = previous.start + timedelta(days=10)
        if down <= moment < down + timedelta(hours=3):
            return 0.5
        if current.start + timedelta(minutes=1) <= moment < current.start + timedelta(minutes=41):
            return 0.5
        return 1.0
    return 0.0 if current.start - timedelta(hours=1) <= moment < current.start else 1.0


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    promtool = shutil.which("promtool")
    if harness.missing_binaries(harness.PROMETHEUS) or promtool is None:
        pytest.skip("prometheus / promtool not installed (Debian package prometheus)")
    workdir = tmp_path_factory.mktemp("prometheus")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    current = Month.of(now)
    previous = current.previous()
    lines = [f"# TYPE {RULE} gauge"]
    sums: dict[tuple[Month, str], list[float]] = {}
    for skpd in ("dinkes", "disdik"):
        moment = previous.start + timedelta(seconds=30)  # mid-minute: clear of the boundaries
        while moment < now - timedelta(minutes=2):
            value = up_share(skpd, moment, previous, current)
            lines.append(f'{RULE}{{skpd="{skpd}"}} {value} {moment.timestamp():.0f}')
            sums.setdefault((Month.of(moment), skpd), []).append(value)
            moment += timedelta(minutes=1)
    lines.append(f"# TYPE {INTERNAL_RULE} gauge")
    moment = previous.start + timedelta(seconds=30)
    while moment < now - timedelta(minutes=2):
        lines.append(f'{INTERNAL_RULE}{{skpd="dinkes"}} {INTERNAL} {moment.timestamp():.0f}')
        moment += timedelta(minutes=1)
    lines.append("# EOF")
    (workdir / "month.om").write_text("\n".join(lines) + "\n")
    data = workdir / "data"
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=744h",
         str(workdir / "month.om"), str(data)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (workdir / "prometheus.yml").write_text("global: {}\n")
    port = harness.free_port()
    service = harness.start(
        "prometheus",
        [
            harness.which(harness.PROMETHEUS) or harness.PROMETHEUS,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=3650d",  # keep last month's backfilled blocks
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        workdir=workdir,
        url=f"http://127.0.0.1:{port}",
    )
    try:
        expected = {key: sum(v) / len(v) for key, v in sums.items()}
        yield Backfilled(service.url, current, previous, expected)
    finally:
        service.stop()


async def report_service(tmp_path: Path, **env: str) -> Service:
    return await start_service(tmp_path, {}, env={"SIGAP_INVENTORY": str(INVENTORY), **env})


async def text_of(service: Service, path: str, status: int = 200) -> str:
    response = await service.client.get(path)
    body = await response.text()
    assert response.status == status, body
    return body


def row_of(page: str, skpd: str) -> str:
    """The summary table's row of `skpd` (its first <tr data-skpd=...>)."""
    start = page.index(f'<tr data-skpd="{skpd}">')
    return page[start : page.index("</tr>", start)]


def cell(row: str, testid: str) -> str:
    start = row.index(f'data-testid="{testid}">') + len(f'data-testid="{testid}">')
    return row[start : row.index("</td>", start)]


def percent(ratio: float, lang: str = "id") -> str:
    text = f"{ratio * 100:.3f} %"
    return text.replace(".", ",") if lang == "id" else text


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_month_from_prometheus_and_the_incident_store(
    prometheus: Backfilled, tmp_path: Path
) -> None:
    service = await report_service(tmp_path, SIGAP_PROMETHEUS_URL=prometheus.url)
    try:
        await _the_month(service, prometheus)
    finally:
        await service.client.close()


async def _the_month(service: Service, prometheus: Backfilled) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    month = prometheus.current
    # dinkes: an outage of 30 minutes (within this month), Diskominfo's side, walked to close
    start = max(now - timedelta(minutes=50), month.start)
    end = max(now - timedelta(minutes=20), month.start + timedelta(seconds=1))
    await send(service, "dinkes", alert("dinkes", "gw-dinkes", start))
    await send(service, "dinkes", alert("dinkes", "gw-dinkes", start, end))
    listed = await service.client.get(
        "/api/v1/incidents?skpd=dinkes",
        headers={"Authorization": f"Bearer {service.tokens['koord']}"},
    )
    dinkes = (await listed.json())["incidents"][0]["id"]
    await act(service, "sari", dinkes, "acknowledge")  # she takes it (Tangani)
    await walk_to_repair(service, dinkes, "diskominfo", now + timedelta(hours=1), now)
    await act(service, "budi", dinkes, "close")
    # then a duplicate report on dinkes, cancelled: listed, not an outage
    duplicate = await open_report(service, "budi", "dinkes", "internet mati lagi?")
    await act(service, "koord", duplicate["id"], "cancel", reason="duplikat")
    # disdik: reported by its admin, the SKPD's side, repaired 45 minutes after the report
    report = await open_report(service, "wati", "disdik", "switch lantai 2 mati")
    opened_at = datetime.fromisoformat(report["opened_at"])
    await walk_to_repair(  # an estimate lies ahead
        service, report["id"], "skpd", opened_at + timedelta(minutes=30),
        opened_at + timedelta(minutes=45),
    )  # fmt: skip

    assert await login(service.client, "koord") == 303
    assert 'href="/laporan"' in await text_of(service, "/")  # in the navigation
    page = await text_of(service, f"/laporan?bulan={month}")
    assert month.name("id") in page and "Laporan bulanan gangguan jaringan SKPD" in page
    expected = prometheus.expected
    dinkes_row, disdik_row = row_of(page, "dinkes"), row_of(page, "disdik")
    assert "Dinas Kesehatan" in dinkes_row
    assert cell(dinkes_row, "availability") == percent(expected[month, "dinkes"])
    assert cell(disdik_row, "availability") == percent(expected[month, "disdik"]) == "100,000 %"
    assert cell(row_of(page, "rsud"), "availability") == "tidak ada data"
    # the SKPD's own network apart: its dark access point is not in Diskominfo's figure
    assert cell(dinkes_row, "availability-internal") == percent(INTERNAL) == "75,000 %"
    assert cell(disdik_row, "availability-internal") == "tidak ada data"
    assert "Ketersediaan koneksi Diskominfo" in page and "Ketersediaan jaringan internal" in page
    assert (cell(dinkes_row, "outages"), cell(disdik_row, "outages")) == ("1", "1")
    assert cell(dinkes_row, "downtime-diskominfo") == "30 m"
    assert cell(dinkes_row, "downtime-skpd") == "0 m"
    assert cell(disdik_row, "downtime-skpd") == "45 m"
    assert 'data-testid="availability-problem"' not in page
    assert f'href="/incidents/{duplicate["id"]}"' in page  # the cancelled one is listed

    machine = f"/laporan.csv?bulan={month}&format=csv"
    summary = {r["SKPD"]: r for r in csv_rows(await text_of(service, machine))}
    assert float(summary["dinkes"]["Ketersediaan (0-1)"]) == pytest.approx(
        expected[month, "dinkes"], abs=1e-6
    )
    assert summary["dinkes"]["Nama SKPD"] == "Dinas Kesehatan"
    assert summary["dinkes"]["Waktu henti Diskominfo (detik)"] == str(
        round((end - start).total_seconds())
    )
    assert summary["disdik"]["Waktu henti SKPD (detik)"] == "2700"
    assert summary["disdik"]["Jumlah gangguan"] == "1"
    assert summary["rsud"]["Ketersediaan (0-1)"] == ""
    assert summary["dinkes"]["Ketersediaan jaringan internal (0-1)"] == "0.750000"
    assert summary["disdik"]["Ketersediaan jaringan internal (0-1)"] == ""
    # time per stage: what the timeline says (one outage each: the mean is that outage's)
    timeline = await detail(service, dinkes)
    stages = first_entries(timeline["events"], timeline["opened_at"])
    assert set(stages) == {"confirm", "dispatch", "estimate", "repair", "close"}
    names = {"confirm": "Konfirmasi (F-01)", "dispatch": "Penugasan", "estimate": "Estimasi",
             "repair": "Perbaikan (F-04)", "close": "Selesai"}  # fmt: skip
    for stage, seconds in stages.items():
        assert summary["dinkes"][f"{names[stage]} (detik)"] == str(round(seconds))
    assert summary["disdik"]["Selesai (detik)"] == ""  # not closed yet
    # and the time to acknowledge (who took it: Tangani), which no stage is
    (taken,) = [e for e in timeline["events"] if e["kind"] == "acknowledge"]
    acknowledged = datetime.fromisoformat(taken["at"]) - datetime.fromisoformat(
        timeline["opened_at"]
    )
    assert summary["dinkes"]["Ditangani (detik)"] == str(round(acknowledged.total_seconds()))
    assert summary["disdik"]["Ditangani (detik)"] == ""  # nobody took it
    times = row_of(page[page.index("Waktu per tahap SOP") :], "dinkes")
    assert "<th>Ditangani</th>" in page and cell(times, "stage-acknowledge") != "-"

    incidents = csv_rows(await text_of(service, f"/laporan/insiden.csv?bulan={month}&format=csv"))
    assert {(r["Insiden"], r["SKPD"], r["Tahap"]) for r in incidents} == {
        (str(dinkes), "dinkes", "closed"),
        (str(duplicate["id"]), "dinkes", "cancelled"),
        (str(report["id"]), "disdik", "repaired"),
    }

    response = await service.client.get(f"/laporan.pdf?bulan={month}")
    assert response.status == 200 and response.content_type == "application/pdf"
    pdf = await response.read()
    assert pdf.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Dinas Kesehatan" in text and "DINAS KOMUNIKASI DAN INFORMATIKA" in text
    assert percent(expected[month, "dinkes"]) in text
    words = " ".join(text.split())  # a column's heading wraps in its cell
    assert "Ketersediaan jaringan internal" in words and percent(INTERNAL) in words

    # last month: complete; one node of dinkes' two down 3 hours
    previous = prometheus.previous
    minutes = (previous.end - previous.start).total_seconds() / 60
    assert expected[previous, "dinkes"] == pytest.approx(1 - 0.5 * 180 / minutes)
    page = await text_of(service, f"/laporan?bulan={previous}")
    assert cell(row_of(page, "dinkes"), "availability") == percent(1 - 0.5 * 180 / minutes)
    assert cell(row_of(page, "disdik"), "availability") == percent(1 - 60 / minutes)
    assert "Tidak ada insiden pada bulan ini" in page

    english = await text_of(service, f"/laporan?bulan={previous}&lang=en")
    assert "Availability" in english
    assert cell(row_of(english, "dinkes"), "availability") == percent(1 - 90 / minutes, "en")


async def test_an_skpd_admin_sees_only_its_own(prometheus: Backfilled, tmp_path: Path) -> None:
    service = await report_service(tmp_path, SIGAP_PROMETHEUS_URL=prometheus.url)
    try:
        await open_report(service, "budi", "dinkes", "internet mati")
        assert await login(service.client, "wati") == 303
        page = await text_of(service, "/laporan")
        assert 'data-skpd="disdik"' in page and 'data-skpd="dinkes"' not in page
        assert "Dinas Kesehatan" not in page
        refused = await text_of(service, "/laporan.csv?skpd=dinkes", status=403)
        assert "wati sees only disdik" in refused
        rows = csv_rows(await text_of(service, "/laporan.csv?format=csv"))
        assert [r["SKPD"] for r in rows] == ["disdik"]
    finally:
        await service.client.close()


@pytest.mark.parametrize("month", ["2026-13", "nov-2026", "2026-1", "1969-12"])
async def test_a_bad_month_is_a_400_naming_the_format(tmp_path: Path, month: str) -> None:
    service = await report_service(tmp_path)
    try:
        assert await login(service.client, "koord") == 303
        for path in ("/laporan", "/laporan.csv", "/laporan.pdf"):
            body = await text_of(service, f"{path}?bulan={month}", status=400)
            assert "YYYY-MM" in body
    finally:
        await service.client.close()


async def test_without_prometheus_the_report_says_availability_is_unavailable(
    tmp_path: Path,
) -> None:
    nobody = f"http://127.0.0.1:{harness.free_port()}"  # nothing listens there
    for env, why in [
        ({}, "Prometheus tidak dikonfigurasi (SIGAP_PROMETHEUS_URL)"),
        ({"SIGAP_PROMETHEUS_URL": nobody}, "Prometheus tidak dapat dihubungi"),
    ]:
        workdir = tmp_path / str(len(env))
        workdir.mkdir()
        service = await report_service(workdir, **env)
        try:
            await open_report(service, "budi", "dinkes", "internet mati")
            assert await login(service.client, "koord") == 303
            page = await text_of(service, "/laporan")
            assert "Data ketersediaan tidak tersedia" in page and why in page
            assert cell(row_of(page, "dinkes"), "outages") == "1"
            assert cell(row_of(page, "dinkes"), "availability") == "tidak ada data"
            pdf = await (await service.client.get("/laporan.pdf")).read()
            assert pdf.startswith(b"%PDF")
        finally:
            await service.client.close()


async def test_the_report_needs_a_login(tmp_path: Path) -> None:
    service = await report_service(tmp_path)
    try:
        response = await service.client.get("/laporan.csv", allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == "/login?next=/laporan.csv"
    finally:
        await service.client.close()
