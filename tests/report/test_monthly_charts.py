"""The monthly report for the head of the office: local (WITA) months, downtime by the cause on
F-04 and by responsibility, as charts on the page (inline SVG) and in the PDF (checked rendered
to PNG: the chart area is drawn, the labels read back as text), and the CSV's new columns."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.workflow.conftest import MovableClock, Service, start_service
from tests.workflow.sop_walk import F01, act, alert, open_incident_of, send
from tests.workflow.test_service import login
from webhook.web.keys import REGISTRY

ROOT = Path(__file__).resolve().parents[2]

INVENTORY = ROOT / "deploy" / "inventory.example.yml"
ARTIFACTS = ROOT / "artifacts" / "report"
LATE_NOVEMBER = datetime(2026, 11, 30, 12, tzinfo=UTC)  # 30 November, 20.00 WITA
EARLY_DECEMBER = datetime(2026, 11, 30, 18, tzinfo=UTC)  # 1 December, 02.00 WITA


async def outage(
    service: Service, clock: MovableClock, skpd: str, node: str, at: datetime, cause: str
) -> int:
    """An outage of 30 minutes from `at`, walked to F-04 with `cause` at its end, closed."""
    clock.advance(at - clock())
    await send(service, skpd, alert(skpd, node, at))
    incident = await open_incident_of(service, skpd)
    await act(service, "sari", incident, "confirm", **F01)
    await act(service, "sari", incident, "report", responsibility="diskominfo")
    await act(service, "koord", incident, "dispatch", assignee="sari")
    end = at + timedelta(minutes=30)
    await act(service, "sari", incident, "estimate", findings="-",
              estimated_recovery_at=end.isoformat())  # fmt: skip
    await act(service, "koord", incident, "forward")
    await act(service, "koord", incident, "order_repair")
    await send(service, skpd, alert(skpd, node, at, end))
    clock.advance(end - clock())
    await act(service, "sari", incident, "repair", findings="-", actions_taken="-",
              repair_started_at=at.isoformat(), repair_ended_at=end.isoformat(), result="pulih",
              cause=cause)  # fmt: skip
    await act(service, "koord", incident, "close")
    return incident


async def test_local_months_causes_and_charts(tmp_path: Path) -> None:
    clock = MovableClock()
    service = await start_service(tmp_path, {}, env={"SIGAP_INVENTORY": str(INVENTORY)},
                                  clock=clock)  # fmt: skip
    try:
        november = await outage(service, clock, "dinkes", "gw-dinkes", LATE_NOVEMBER, "pln_power")
        december = await outage(service, clock, "disdik", "gw-disdik", EARLY_DECEMBER, "fibre_cut")
        assert await login(service.client, "koord") == 303
        # the SOP dashboard's figure: the downtime F-04 attributed to each cause
        sample = service.app[REGISTRY].get_sample_value
        by_cause = "sigap_incident_downtime_by_cause_seconds_total"
        assert sample(by_cause, {"cause": "pln_power"}) == pytest.approx(1800, abs=1)
        assert sample(by_cause, {"cause": "fibre_cut"}) == pytest.approx(1800, abs=1)
        assert sample(by_cause, {"cause": "unknown"}) == 0

        page = await (await service.client.get("/laporan?bulan=2026-11")).text()
        assert f'href="/incidents/{november}"' in page
        assert f'href="/incidents/{december}"' not in page  # 02.00 WITA on 1 December
        assert "30/11/2026 20.00" in page and "WITA" in page
        december_page = await (await service.client.get("/laporan?bulan=2026-12")).text()
        assert f'href="/incidents/{december}"' in december_page
        assert f'href="/incidents/{november}"' not in december_page
        # three charts, inline SVG with presentation attributes only (the CSP has no inline style)
        for chart in ("availability", "causes", "responsibility"):
            assert f'data-chart="{chart}"' in page
        start = page.index('data-testid="charts"')
        charts = page[start : page.index("</section>", start)]
        assert "style=" not in charts and "<script" not in charts
        assert "Listrik PLN padam" in charts and "Dinas Kesehatan" in charts
        listed = page.split('data-incidents="dinkes"')[1]
        assert "Listrik PLN padam" in listed  # the incident's cause

        summary = await csv_of(service, "/laporan.csv?bulan=2026-11&format=csv")
        dinkes = next(r for r in summary if r["SKPD"] == "dinkes")
        assert dinkes["Waktu henti Listrik PLN padam (detik)"] == "1800"
        assert dinkes["Waktu henti Kabel fiber optik putus (detik)"] == "0"
        assert list(dinkes)[:4] == ["SKPD", "Nama SKPD", "Bulan", "Ketersediaan (0-1)"]
        incidents = await csv_of(service, "/laporan/insiden.csv?bulan=2026-11&format=csv")
        assert [(r["Insiden"], r["Penyebab gangguan"]) for r in incidents] == [
            (str(november), "pln_power")
        ]
        assert incidents[0]["Dibuka (Asia/Makassar)"] == "2026-11-30T20:00:00+08:00"
        pdf = await (await service.client.get("/laporan.pdf?bulan=2026-11")).read()
        check_report_pdf(pdf)
    finally:
        await service.client.close()


async def csv_of(service: Service, path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(await (await service.client.get(path)).text())))


def check_report_pdf(pdf: bytes) -> None:
    """The PDF read back as text has the charts' titles and labels; rendered (`pdftoppm`), the
    charts' page has its bars drawn. The PNG stays in artifacts/report/ to be looked at."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm missing (Debian poppler-utils)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "laporan.pdf"
    path.write_bytes(pdf)
    read = ["pdftotext", "-layout", str(path), "-"]
    text = subprocess.run(read, check=True, capture_output=True, text=True).stdout
    labels = ["Ketersediaan per SKPD", "Waktu henti menurut penyebab", "Listrik PLN padam",
              "Waktu henti menurut tanggung jawab", "Zona waktu: WITA"]  # fmt: skip
    for label in labels:
        assert label in text, label
    page = ["pdftoppm", "-r", "50", "-f", "2", "-l", "2", "-singlefile", str(path)]
    subprocess.run([*page, "-png", str(ARTIFACTS / "charts")], check=True)
    subprocess.run([*page, str(ARTIFACTS / "charts")], check=True)  # PPM: pixels to count
    assert blue_share((ARTIFACTS / "charts.ppm").read_bytes()) > 0.002  # the bars are drawn


def blue_share(ppm: bytes) -> float:
    """The share of a binary PPM's pixels in the charts' Diskominfo blue (#0b4f8a)."""
    fields: list[bytes] = []
    at = 0
    while len(fields) < 4:  # P6, width, height, maxval
        end = ppm.index(b"\n", at)
        fields += ppm[at:end].split()
        at = end + 1
    pixels = ppm[at:]
    blue = sum(
        1
        for i in range(0, len(pixels), 3)
        if abs(pixels[i] - 0x0B) < 30
        and abs(pixels[i + 1] - 0x4F) < 30
        and abs(pixels[i + 2] - 0x8A) < 30
    )
    return blue / (len(pixels) // 3)
