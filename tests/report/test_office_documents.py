"""What goes up to the head of office (issue 24): the CSVs as Indonesian Excel opens them, the
monthly report as a workbook, the letterhead of another office everywhere it belongs, and the
F-04 as evidence (the outage's times, the ping check by node name, repair photos).

The real app on SQLite, real ICMP to loopback for the ping check, files opened with the csv
module and openpyxl, PDFs read with pypdf."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import yaml
from aiosmtpd.controller import Controller
from openpyxl import load_workbook
from PIL import Image, PngImagePlugin
from pypdf import PdfReader

from tests.workflow.conftest import Mailbox, Service, free_port, start_service
from tests.workflow.sop_walk import act, alert, detail, open_report, send, walk_to_repair
from tests.workflow.test_service import login
from webhook.core.letterhead import DEFAULT_LETTERHEAD
from webhook.core.monthly import (
    Month,
    build_report,
    hours_minutes,
    incidents_table,
    summary_table,
    table_csv,
)
from webhook.core.photos import PhotoConfig, PhotoRefused, PhotoTooBig, check_room, clean_photo
from webhook.core.workbook import report_workbook
from webhook.settings import SettingsError, load_settings
from webhook.usecases.documents import f04_attachment
from webhook.web.keys import RESOURCES

LETTERHEAD = {
    "government": "Pemerintah Kabupaten Kotabaru",
    "office": "Dinas Komunikasi, Informatika dan Persandian",
    "unit": "Bidang Aplikasi dan Jaringan",
    "short_name": "Diskominfo Kotabaru",
    "address": "Jl. Veteran No. 5, Kotabaru",
    "phone": "(0518) 21234",
    "email": "kominfo@kotabarukab.go.id",
    "website": "kominfo.kotabarukab.go.id",
}
DEFAULT_TRACES = ("Tanah Bumbu", "TANAH BUMBU", "Batulicin", "Dharma Praja")


def inventory(tmp_path: Path) -> Path:
    """Dinkes of two nodes on loopback (the ping check answers), named as the office names them."""
    data = {
        "core": {"nodes": [{"id": "core", "address": "127.0.0.1", "role": "core",
                            "owner": "diskominfo"}]},
        "skpd": [{
            "id": "dinkes", "name": "Dinas Kesehatan", "location": "Jl. Pahlawan, Kotabaru",
            "contacts": [{"name": "Budi", "role": "admin"}],
            "nodes": [
                {"id": "gw-dinkes", "address": "127.0.0.2", "role": "gateway",
                 "owner": "diskominfo", "parent": "core", "name": "Router gateway Dinkes"},
                {"id": "sw-dinkes", "address": "127.0.0.3", "role": "switch", "owner": "skpd",
                 "parent": "gw-dinkes", "name": "Switch lantai 2"},
            ],
        }],
    }  # fmt: skip
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def png(width: int = 64, height: int = 48, colour: str = "navy") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def phone_jpeg() -> bytes:
    """A phone's photo: EXIF with the GPS position of the site, the camera, portrait turn."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6  # rotate 90°: the sensor's landscape shown as portrait
    exif[0x8825] = {1: "S", 2: (3.0, 14.0, 9.0), 3: "E", 4: (116.0, 13.0, 5.0)}
    out = io.BytesIO()
    Image.new("RGB", (160, 90), "green").save(out, "JPEG", exif=exif)
    return out.getvalue()


async def office(tmp_path: Path, notify: dict[str, Any] | None = None, **sections: Any) -> Service:
    crest = tmp_path / "lambang.png"
    crest.write_bytes(png(80, 100, "gold"))
    return await start_service(
        tmp_path,
        notify or {},
        env={
            "SIGAP_INVENTORY": str(inventory(tmp_path)),
            "SIGAP_PING_CHECK": "true",
            "SIGAP_DOCUMENT_PLACE": "Kotabaru",
        },
        letterhead={**LETTERHEAD, "crest": "lambang.png"},  # relative to the settings file
        **sections,
    )


async def repaired_incident(service: Service) -> tuple[int, datetime, datetime]:
    """An outage of gw-dinkes 2 h 05 min long, ping-checked, walked to its F-04."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    end = start + timedelta(hours=2, minutes=5)
    await send(service, "dinkes", alert("dinkes", "gw-dinkes", start))
    found = await service.client.get(
        "/api/v1/incidents?skpd=dinkes",
        headers={"Authorization": f"Bearer {service.tokens['koord']}"},
    )
    incident = (await found.json())["incidents"][0]["id"]
    for _ in range(100):  # the ping check runs in the background after the commit
        if any(e["kind"] == "ping_check" for e in (await detail(service, incident))["events"]):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("no ping check recorded")
    await send(service, "dinkes", alert("dinkes", "gw-dinkes", start, end))
    ahead = datetime.now(UTC) + timedelta(hours=1)  # an estimate lies ahead of when it is made
    await walk_to_repair(service, incident, "diskominfo", ahead, end)
    return incident, start, end


async def get(service: Service, path: str, status: int = 200) -> aiohttp.ClientResponse:
    response = await service.client.get(path)
    assert response.status == status, (path, await response.text())
    return response


def pdf_text(body: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


# --- CSV for Excel, the workbook -----------------------------------------------------------------


def a_report() -> Any:
    month = Month(2026, 11)
    lines = []

    opened = month.start + timedelta(days=3)
    lines.append(
        SimpleNamespace(
            id=42, skpd="dinkes", title="=cmd|calc", state="closed", responsibility="diskominfo",
            opened_at=opened, closed_at=opened + timedelta(days=1), events=[], planned=False,
            alerts=[SimpleNamespace(starts_at=opened,
                                    ends_at=opened + timedelta(hours=26, minutes=5))],
        )
    )  # fmt: skip
    return build_report(
        month, {"dinkes": "Dinas Kesehatan"}, lines, {}, {"dinkes": 0.9986111}, None,
        now=month.end + timedelta(days=1),
    )  # fmt: skip


def test_the_csv_for_excel_reads_as_indonesian_excel_reads_it() -> None:
    report = a_report()
    text = table_csv(summary_table(report, "id"), "id", excel=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    (dinkes,) = rows
    assert dinkes["Nama SKPD"] == "Dinas Kesehatan"
    assert dinkes["Ketersediaan (0-1)"] == "0,998611"  # decimal comma
    assert dinkes["Waktu henti Total (jam:menit)"] == "26:05"  # hours past a day, not wrapped
    assert dinkes["Waktu henti Total (detik)"] == str(26 * 3600 + 5 * 60)
    assert dinkes["Waktu henti Diskominfo (jam:menit)"] == "26:05"
    assert dinkes["Waktu henti SKPD (jam:menit)"] == "0:00"
    incidents = table_csv(incidents_table(report, "id"), "id", excel=True)
    (line,) = csv.DictReader(io.StringIO(incidents.removeprefix("\ufeff")), delimiter=";")
    assert line["Tahap"] == "Ditutup" and line["Tanggung jawab"] == "Diskominfo"  # words
    assert line["Uraian"] == "'=cmd|calc"  # shown, never run
    assert line["Terencana (pemeliharaan)"] == "tidak"
    assert line["Dibuka (Asia/Makassar)"] == "2026-11-04 00:00:00"  # a date Excel recognises
    # for programs, the same figures as before: ',', dots, seconds, ids, ISO 8601
    machine = list(csv.DictReader(io.StringIO(table_csv(summary_table(report, "id"), "id",
                                                        excel=False))))  # fmt: skip
    assert machine[0]["Ketersediaan (0-1)"] == "0.998611"
    assert machine[0]["Waktu henti Total (detik)"] == str(26 * 3600 + 5 * 60)
    assert "Waktu henti Total (jam:menit)" not in machine[0]


@pytest.mark.parametrize(
    ("seconds", "written"),
    [(0, "0:00"), (29, "0:00"), (31, "0:01"), (3599, "1:00"), (45 * 60, "0:45"),
     (100 * 3600 + 60, "100:01")],
)  # fmt: skip
def test_hours_minutes(seconds: float, written: str) -> None:
    assert hours_minutes(seconds) == written


async def test_the_downloads_open_in_excel_and_the_workbook_has_real_numbers(
    tmp_path: Path,
) -> None:
    service = await office(tmp_path)
    try:
        incident, start, _end = await repaired_incident(service)
        assert await login(service.client, "koord") == 303
        month = Month.of(start)
        page = await (await get(service, f"/laporan?bulan={month}")).text()
        assert 'href="/laporan.xlsx?bulan=' in page and "format=csv" in page
        response = await get(service, f"/laporan.csv?bulan={month}")
        assert response.content_type == "text/csv"
        raw = await response.read()
        assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
        dinkes = next(r for r in rows if r["SKPD"] == "dinkes")
        assert dinkes["Waktu henti Diskominfo (jam:menit)"] == "2:05"
        assert dinkes["Waktu henti Diskominfo (detik)"] == "7500"
        same = await (await get(service, f"/laporan.csv?bulan={month}&format=excel")).read()
        assert same == raw
        bad = await get(service, f"/laporan.csv?bulan={month}&format=xls", status=400)
        assert "excel" in await bad.text() and "csv" in await bad.text()

        response = await get(service, f"/laporan.xlsx?bulan={month}")
        assert response.content_type.endswith("spreadsheetml.sheet")
        book = load_workbook(io.BytesIO(await response.read()))
        assert book.sheetnames == ["Ringkasan", "Insiden"]
        sheet = book["Ringkasan"]
        top = [sheet.cell(r, c).value for r in range(1, 6) for c in range(1, 4)]
        assert "PEMERINTAH KABUPATEN KOTABARU" in top
        assert "DINAS KOMUNIKASI, INFORMATIKA DAN PERSANDIAN" in top
        assert len(sheet._images) == 1  # the crest
        header_row = next(r for r in range(1, 15) if sheet.cell(r, 1).value == "SKPD")
        headers = [c.value for c in sheet[header_row]]
        assert sheet.cell(header_row, 1).font.bold
        assert sheet.freeze_panes == f"A{header_row + 1}"
        row = next(r for r in range(header_row + 1, sheet.max_row + 1)
                   if sheet.cell(r, 1).value == "dinkes")  # fmt: skip
        hm = headers.index("Waktu henti Diskominfo (jam:menit)") + 1
        cell = sheet.cell(row, hm)
        assert cell.number_format == "[h]:mm"
        assert cell.value == timedelta(seconds=7500)  # a number of days: Excel sums it
        assert sheet.cell(row, hm + 1).value == 7500
        assert sheet.cell(row, headers.index("Jumlah gangguan") + 1).value == 1
        availability = sheet.cell(row, headers.index("Ketersediaan (%)") + 1)
        assert availability.value is None  # no Prometheus: no figure, not a zero
        assert sheet.column_dimensions["B"].width >= 20
        incidents = book["Insiden"]
        header = next(r for r in range(1, 15) if incidents.cell(r, 1).value == "Insiden")
        assert incidents.cell(header + 1, 1).value == incident
        opened = [c.value for c in incidents[header]].index("Dibuka (Asia/Makassar)") + 1
        assert isinstance(incidents.cell(header + 1, opened).value, datetime)
    finally:
        await service.client.close()


# --- the letterhead ------------------------------------------------------------------------------


async def test_another_office_letterhead_everywhere_and_no_trace_of_the_default(
    tmp_path: Path,
) -> None:
    service = await office(tmp_path)
    try:
        incident, _, _ = await repaired_incident(service)
        assert await login(service.client, "koord") == 303
        month = Month.of(datetime.now(UTC))
        crest = await get(service, "/letterhead/crest")
        assert crest.content_type == "image/png"
        outputs: dict[str, str] = {}
        for kind in ("f01", "f04"):
            outputs[kind] = await (await get(service, f"/incidents/{incident}/forms/{kind}")).text()
            pdf = await (await get(service, f"/incidents/{incident}/forms/{kind}.pdf")).read()
            outputs[f"{kind}.pdf"] = pdf_text(pdf)
            assert PdfReader(io.BytesIO(pdf)).pages[0].images  # the crest
        outputs["monthly"] = await (await get(service, f"/laporan?bulan={month}")).text()
        outputs["monthly.pdf"] = pdf_text(
            await (await get(service, f"/laporan.pdf?bulan={month}")).read()
        )
        ((_name, attached),) = await f04_attachment(service.app[RESOURCES], incident)
        outputs["emailed F-04"] = pdf_text(attached)
        book = load_workbook(
            io.BytesIO(await (await get(service, f"/laporan.xlsx?bulan={month}")).read())
        )
        outputs["xlsx"] = " ".join(
            str(c.value) for s in book for r in s.iter_rows(max_row=6) for c in r if c.value
        )
        for where, text in outputs.items():
            assert "KOTABARU" in text, where
            for trace in DEFAULT_TRACES:
                assert trace not in text, (where, trace)
        for where in ("f01", "f04", "monthly"):
            assert 'src="/letterhead/crest"' in outputs[where]
            assert "Telp. (0518) 21234" in outputs[where]
            assert "<title>" in outputs[where] and "Diskominfo Kotabaru</title>" in outputs[where]
        assert "kominfo@kotabarukab.go.id" in outputs["f04.pdf"]
    finally:
        await service.client.close()


def test_the_crest_is_checked_when_the_settings_are_read(tmp_path: Path) -> None:
    def settings_with(crest: str) -> None:
        path = tmp_path / "sigap.yml"
        path.write_text(yaml.safe_dump({"letterhead": {**LETTERHEAD, "crest": crest}}))
        load_settings(str(path), env={})

    with pytest.raises(SettingsError) as missing:
        settings_with("lambang.png")
    assert "sigap.yml:" in str(missing.value) and "letterhead.crest" in str(missing.value)
    assert str(tmp_path / "lambang.png") in str(missing.value)
    assert "No such file" in str(missing.value) and "PNG or JPEG" in str(missing.value)
    (tmp_path / "lambang.png").write_text("not an image")
    with pytest.raises(SettingsError, match="not an image"):
        settings_with("lambang.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "lambang.gif", "GIF")
    with pytest.raises(SettingsError, match="GIF image; expected a PNG or JPEG"):
        settings_with(str(tmp_path / "lambang.gif"))
    (tmp_path / "lambang.png").write_bytes(png())
    settings_with("lambang.png")
    path = tmp_path / "sigap.yml"
    path.write_text(yaml.safe_dump({"letterhead": {"office": "  "}}))
    with pytest.raises(SettingsError, match=r"letterhead.office"):
        load_settings(str(path), env={})
    assert load_settings(None, env={}).letterhead == DEFAULT_LETTERHEAD


# --- F-04 as evidence ----------------------------------------------------------------------------


async def upload(service: Service, incident: int, data: bytes, name: str = "foto.jpg") -> Any:
    page = await (await service.client.get(f"/incidents/{incident}/forms/f04")).text()
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("photo", data, filename=name, content_type="image/jpeg")
    return await service.client.post(
        f"/incidents/{incident}/photos", data=form, allow_redirects=False
    )


async def test_the_f04_carries_the_outage_the_ping_check_and_photos(tmp_path: Path) -> None:
    service = await office(tmp_path, photos={"max_count": 2, "max_bytes": 200_000})
    try:
        incident, _start, _end = await repaired_incident(service)
        assert await login(service.client, "sari") == 303
        page = await (await get(service, f"/incidents/{incident}/forms/f04")).text()
        assert "Gangguan mulai" in page and "Pulih" in page
        assert "Lama gangguan</th><td>2 jam 05 menit" in page
        assert "Hasil cek ping" in page and "Router gateway Dinkes: 3/3 balasan" in page
        assert "Router gateway Dinkes" in page  # the affected node by its inventory name
        assert "Belum ada foto" in page

        response = await upload(service, incident, phone_jpeg())
        assert response.status == 303, await response.text()
        page = await (await get(service, f"/incidents/{incident}/forms/f04")).text()
        (photo_id,) = [int(x.split('"')[0]) for x in page.split('data-photo="')[1:]]
        stored = await (await get(service, f"/incidents/{incident}/photos/{photo_id}")).read()
        image = Image.open(io.BytesIO(stored))
        assert image.format == "JPEG" and image.size == (90, 160)  # turned upright
        assert not image.getexif()  # no GPS, no camera: nothing of the phone's EXIF

        refused = await upload(service, incident, b"%PDF-1.4 not a photo", "foto.jpg")
        assert refused.status == 422
        text = await refused.text()
        assert "bukan foto JPEG atau PNG" in text and 'data-testid="photo-error"' in text
        assert 'data-testid="repair-photos"' in text  # the F-04 page again, not a bare one
        empty = await upload(service, incident, b"")
        assert empty.status == 422 and "Tidak ada berkas foto" in await empty.text()
        too_big = await upload(service, incident, png(2000, 2000, "white") + b"\0" * 200_000)
        assert too_big.status == 413 and "Foto terlalu besar" in await too_big.text()
        assert (await upload(service, incident, png())).status == 303
        third = await upload(service, incident, png())
        assert third.status == 422 and "Terlalu banyak foto" in await third.text()
        # one removed, another fits; the photos stay in the order they were taken
        page = await (await get(service, f"/incidents/{incident}/forms/f04")).text()
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        ids = [int(x.split('"')[0]) for x in page.split('data-photo="')[1:]]
        removed = await service.client.post(
            f"/incidents/{incident}/photos/{ids[1]}/remove",
            data={"csrf": csrf},
            allow_redirects=False,
        )
        assert removed.status == 303
        assert (await upload(service, incident, png(30, 60, "red"))).status == 303
        page = await (await get(service, f"/incidents/{incident}/forms/f04")).text()
        now_ids = [int(x.split('"')[0]) for x in page.split('data-photo="')[1:]]
        assert now_ids[0] == photo_id and ids[1] not in now_ids and len(now_ids) == 2
        await get(service, f"/incidents/{incident}/photos/{ids[1]}", status=404)

        pdf = await (await get(service, f"/incidents/{incident}/forms/f04.pdf")).read()
        text = pdf_text(pdf)
        assert "Foto perbaikan" in text and "2 jam 05 menit" in text
        assert "Router gateway Dinkes: 3/3 balasan" in text
        images = [i for p in PdfReader(io.BytesIO(pdf)).pages for i in p.images]
        assert len(images) == 3  # the crest and the two photos
        ((_, attached),) = await f04_attachment(service.app[RESOURCES], incident)
        assert "Lama gangguan" in pdf_text(attached)

        # an SKPD admin sees the photos, but attaches none
        assert await login(service.client, "budi") == 303
        await get(service, f"/incidents/{incident}/photos/{photo_id}")
        forbidden = await upload(service, incident, png())
        assert forbidden.status == 403 and "Hanya staf" in await forbidden.text()
        assert await login(service.client, "wati") == 303  # another SKPD's: not there at all
        await get(service, f"/incidents/{incident}/photos/{photo_id}", status=404)
    finally:
        await service.client.close()


async def test_the_email_that_hands_over_the_f04_says_the_outage(tmp_path: Path) -> None:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)  # real SMTP (aiosmtpd)
    controller.start()
    notify = {"smtp": {"host": "127.0.0.1", "port": port}, "retries": 2, "backoff": "10ms"}
    service = await office(tmp_path, notify)
    try:
        await repaired_incident(service)
        await service.drain()
        (email,) = [m for m in mailbox.to("budi@example.test") if list(m.iter_attachments())]
        body = email.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        assert "Gangguan mulai: " in text and "Pulih: " in text
        assert "Lama gangguan: 2 jam 05 menit" in text
        assert "Router gateway Dinkes: 3/3 balasan" in text  # the ping check, by name
        assert "Node terdampak: Router gateway Dinkes" in text
        (attached,) = list(email.iter_attachments())
        pdf = pdf_text(attached.get_content())
        assert "Lama gangguan" in pdf and "KOTABARU" in pdf and "Tanah Bumbu" not in pdf
    finally:
        await service.drain()
        await service.client.close()
        controller.stop()


async def test_no_photo_before_the_f04(tmp_path: Path) -> None:
    service = await office(tmp_path)
    try:
        report = await open_report(service, "budi", "dinkes", "internet mati")
        await act(service, "sari", report["id"], "acknowledge")
        assert await login(service.client, "sari") == 303
        page = await (await get(service, f"/incidents/{report['id']}")).text()
        form = aiohttp.FormData()
        form.add_field("csrf", page.split('name="csrf" value="')[1].split('"')[0])
        form.add_field("photo", png(), filename="a.png", content_type="image/png")
        response = await service.client.post(f"/incidents/{report['id']}/photos", data=form)
        assert response.status == 409
        assert "F-04 belum diisi" in await response.text()
    finally:
        await service.client.close()


# --- the photo check, one case at a time ---------------------------------------------------------


def mpo() -> bytes:
    """A phone's JPEG with a second picture (Pillow reads it as MPO)."""
    out = io.BytesIO()
    first, second = Image.new("RGB", (40, 30), "red"), Image.new("RGB", (40, 30), "blue")
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("GPS", "-3.2358,116.2181")
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [(phone_jpeg(), "image/jpeg"), (mpo(), "image/jpeg"), (png_with_text(), "image/png")],
)
def test_a_photo_is_taken_by_content_and_loses_its_metadata(data: bytes, kind: str) -> None:
    photo = clean_photo(data, PhotoConfig())
    assert photo.content_type == kind
    image = Image.open(io.BytesIO(photo.data))
    assert not image.getexif() and "GPS" not in image.info and "exif" not in image.info


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "Tidak ada berkas foto"),
        (gif(), "bukan foto JPEG atau PNG"),
        (b"%PDF-1.7\n...", "bukan foto JPEG atau PNG"),
        (phone_jpeg()[:200], "bukan foto JPEG atau PNG"),  # cut off in transit
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "bukan foto JPEG atau PNG"),
        (png() + b"\0" * 70_000, "Foto terlalu besar (0,1 MB); paling besar 0,1 MB"),
    ],
)
def test_what_is_no_photo_is_refused_in_indonesian(data: bytes, words: str) -> None:
    with pytest.raises(PhotoRefused) as refused:
        clean_photo(data, PhotoConfig(max_bytes=64 * 1024))
    assert words in refused.value.reason


def test_a_pixel_bomb_is_refused_before_it_is_decoded() -> None:
    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, "PNG")  # 48 megapixels in a few kilobytes
    with pytest.raises(PhotoTooBig, match="megapiksel"):
        clean_photo(out.getvalue(), PhotoConfig())


def test_the_photo_count_is_capped() -> None:
    check_room(3, PhotoConfig(max_count=4))
    with pytest.raises(PhotoRefused, match="paling banyak 4"):
        check_room(4, PhotoConfig(max_count=4))
    with pytest.raises(PhotoRefused, match="tidak diaktifkan"):
        check_room(0, PhotoConfig(max_count=0))


def test_text_that_looks_like_a_formula_stays_text_in_the_workbook() -> None:
    report = a_report()
    tables = (summary_table(report, "id"), incidents_table(report, "id"))
    book = load_workbook(
        io.BytesIO(report_workbook(tables, ("Ringkasan", "Insiden"), DEFAULT_LETTERHEAD, "id"))
    )
    cells = [c for row in book["Insiden"].iter_rows() for c in row if c.value == "=cmd|calc"]
    assert len(cells) == 1 and cells[0].data_type == "s"
    assert "PEMERINTAH KABUPATEN TANAH BUMBU" in [c.value for c in book["Insiden"]["A"]]
