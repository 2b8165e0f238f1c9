"""F-01 and F-04 as an office signs them, checked as a person would: the SOP walked in the real
UI on the regency's clock (WITA), then the page read, the PDF rendered to PNG (`pdftoppm`) and
read back as text (`pdftotext`), and the emailed attachment compared with the PDF link.

The PNGs go to artifacts/forms/ to be looked at."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.workflow.conftest import Mailbox, MovableClock, Service, open_by_alert, start_service
from tests.workflow.test_service import csrf_of, login
from webhook.core.documents import checked_nip, document_number, format_nip
from webhook.core.localtime import attach_zone, format_moment, zone_abbreviation
from webhook.core.monthly import Month
from webhook.store.models import Form, User
from webhook.web.keys import DATABASE, REGISTRY

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "deploy" / "inventory.example.yml"
ARTIFACTS = ROOT / "artifacts" / "forms"
NOW = datetime(2026, 11, 30, 9, 2, 2, tzinfo=UTC)  # 30 November 2026, 17.02 WITA
POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext")


# --- the pure parts ------------------------------------------------------------------------------


def test_times_read_as_people_write_them() -> None:
    assert format_moment(NOW) == "30 November 2026, 17.02 WITA"
    assert format_moment(NOW, lang="en") == "30 November 2026, 17:02 WITA"
    assert format_moment(NOW, "Asia/Jakarta") == "30 November 2026, 16.02 WIB"
    assert format_moment(NOW, "Asia/Jayapura") == "30 November 2026, 18.02 WIT"
    assert format_moment(NOW, "Asia/Kolkata").endswith("14.32 UTC+05:30")
    assert zone_abbreviation("America/Sao_Paulo", NOW) == "UTC-03:00"
    assert format_moment(NOW, short=True) == "30/11/2026 17.02"


def test_a_time_typed_in_the_ui_is_wita_and_one_with_an_offset_stays() -> None:
    typed = attach_zone(
        {"repair_ended_at": "2026-11-30T17:02", "reported_at": "2026-11-30T09:02:00+00:00"},
        ["repair_ended_at", "reported_at"],
    )
    assert datetime.fromisoformat(typed["repair_ended_at"]) == NOW.replace(second=0)
    assert typed["reported_at"] == "2026-11-30T09:02:00+00:00"


def test_months_are_the_regencys_months() -> None:
    # 2026-11-30 20:00 WITA = 12:00 UTC: November; 2026-12-01 02:00 WITA = 11-30 18:00 UTC: December
    assert Month.of(datetime(2026, 11, 30, 12, tzinfo=UTC)) == Month(2026, 11)
    assert Month.of(datetime(2026, 11, 30, 18, tzinfo=UTC)) == Month(2026, 12)
    november = Month(2026, 11)
    assert november.start == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert november.end == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert Month.of(datetime(2026, 11, 30, 18, tzinfo=UTC), "UTC") == Month(2026, 11, "UTC")


def test_document_numbers_and_nip() -> None:
    assert document_number("f04", 2026, 11, 42) == "F-04/042/XI/2026"
    assert document_number("f01", 2027, 1, 1) == "F-01/001/I/2027"
    assert checked_nip("19870512 201001 2 003") == "198705122010012003"
    assert format_nip("198705122010012003") == "19870512 201001 2 003"
    with pytest.raises(ValueError, match="18 digits"):
        checked_nip("1234")


# --- the documents through the real app ----------------------------------------------------------


async def forms_service(tmp_path: Path, smtp: tuple[Mailbox, int], **env: str) -> Service:
    clock = MovableClock()
    clock.advance(NOW - clock())
    notify = {"smtp": {"host": "127.0.0.1", "port": smtp[1]}, "retries": 2, "backoff": "10ms"}
    service = await start_service(
        tmp_path, notify, env={"SIGAP_INVENTORY": str(INVENTORY), **env}, clock=clock
    )
    async with service.app[DATABASE].write() as session:
        for user in (await session.execute(select(User))).scalars():
            if user.name == "sari":
                user.full_name, user.nip = "Sari Wulandari, S.Kom.", "198705122010012003"
            if user.name == "budi":
                user.full_name = "Budi Santoso"
    return service


async def walk(
    service: Service, incident: int, cause: str = "fibre_cut", admin: str = "budi"
) -> None:
    """SOP steps 3-9 and the close in the UI, every time typed as a person in Batulicin does."""
    client = service.client

    async def step(who: str, action: str, **data: str) -> None:
        client.session.cookie_jar.clear()
        assert await login(client, who) == 303
        csrf = await csrf_of(client, f"/incidents/{incident}")
        response = await client.post(
            f"/incidents/{incident}/actions/{action}",
            data={"csrf": csrf, **data},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()

    await step("sari", "confirm", reporter="sari", contact_confirmed_with="Budi (admin Dinkes)",
               complaint="Internet mati di seluruh kantor", affected_service="internet",
               reported_at="2026-11-30T16:05")  # fmt: skip
    await step("sari", "report", responsibility="diskominfo")
    await step("koord", "dispatch", assignee="sari")
    await step("sari", "estimate", findings="Kabel putus", estimated_recovery_at="2026-11-30T18:00")
    await step("koord", "forward")
    await step("koord", "order_repair")
    await step("sari", "repair", findings="Kabel fiber putus di tiang depan kantor",
               actions_taken="Sambung ulang (splicing)", parts_replaced="Patch cord SC-LC 3 m",
               repair_started_at="2026-11-30T16:30", repair_ended_at="2026-11-30T17:02",
               result="Koneksi pulih", cause=cause)  # fmt: skip
    await step(admin, "close", despite_alarm="on")  # the alert still fires


def mailed_f04(mailbox: Mailbox) -> Any:
    """The F-04 attached to the SKPD admin's (budi's) first F-04 message."""
    mails = [m for m in mailbox.to("budi@example.test") if "F-04" in m["Subject"]]
    (attachment,) = [p for p in mails[0].walk() if p.get_filename()]
    return attachment


def pdf_text(pdf: bytes, where: Path) -> str:
    """The PDF rendered to PNG pages (kept for a person to look at) and read back as text."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "form.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(where / "form.pdf"), str(where / "page")],
                   check=True, timeout=60)  # fmt: skip
    assert list(where.glob("page*.png"))
    found = subprocess.run(["pdftotext", "-layout", str(where / "form.pdf"), "-"],
                           check=True, capture_output=True, text=True, timeout=60)  # fmt: skip
    return " ".join(found.stdout.split())


@pytest.mark.skipif(not POPPLER, reason="pdftoppm / pdftotext missing (Debian poppler-utils)")
async def test_f01_and_f04_name_the_skpd_nodes_times_number_and_signers(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    service = await forms_service(tmp_path, smtp)
    try:
        incident = await open_by_alert(service, "dinkes", "gw-dinkes")
        await walk(service, incident)
        await service.drain()
        client = service.client
        expected = {
            "f01": [
                "F-01 · FORM ADUAN SKPD", "F-01/001/XI/2026", "Dinas Kesehatan",
                "Jl. Kodeco Km 1, Batulicin", "gw-dinkes", "198.18.5.2",
                "Router gateway Diskominfo di DINKES", "30 November 2026, 16.05 WITA",
                "Sari Wulandari, S.Kom.", "NIP. 19870512 201001 2 003", "Budi Santoso",
                "Batulicin, 30 November 2026",
            ],
            "f04": [
                "F-04 · FORM TINDAKAN", "F-04/001/XI/2026", "Dinas Kesehatan",
                "Jl. Kodeco Km 1, Batulicin", "gw-dinkes", "198.18.5.2",
                "30 November 2026, 16.30 WITA", "30 November 2026, 17.02 WITA",
                "Kabel fiber optik putus", "Patch cord SC-LC 3 m", "Sari Wulandari, S.Kom.",
                "NIP. 19870512 201001 2 003", "Budi Santoso", "Batulicin, 30 November 2026",
            ],
        }  # fmt: skip
        texts = {}
        for kind, strings in expected.items():
            page = await (await client.get(f"/incidents/{incident}/forms/{kind}")).text()
            response = await client.get(f"/incidents/{incident}/forms/{kind}.pdf")
            assert response.status == 200
            texts[kind] = pdf_text(await response.read(), ARTIFACTS / kind)
            for text in strings:
                assert text in page, (kind, "page", text)
                assert text in texts[kind], (kind, "pdf", text)
            for wrong in ("( - )", "+00:00", ">dinkes<", "UTC"):
                assert wrong not in page and wrong not in texts[kind], (kind, wrong)
        # The emailed F-04 is the same document as the PDF link (sent on repair, before the SKPD
        # admin received it: the admin is named from the inventory's contacts).
        attachment = mailed_f04(smtp[0])
        assert attachment.get_filename() == f"F-04-{incident}.pdf"
        mailed = pdf_text(attachment.get_payload(decode=True), ARTIFACTS / "mail")
        for text in expected["f04"]:
            assert text in mailed, ("mail", text)
    finally:
        await service.client.close()


@pytest.mark.skipif(not POPPLER, reason="pdftoppm / pdftotext missing (Debian poppler-utils)")
async def test_the_place_above_the_signatures_is_the_configured_one(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    service = await forms_service(tmp_path, smtp, SIGAP_DOCUMENT_PLACE="Pagatan")
    try:
        incident = await open_by_alert(service, "dinkes", "gw-dinkes")
        await walk(service, incident)
        await service.drain()
        attachment = mailed_f04(smtp[0])
        response = await service.client.get(f"/incidents/{incident}/forms/f04.pdf")
        assert response.status == 200
        texts = {
            "page": await (await service.client.get(f"/incidents/{incident}/forms/f04")).text(),
            "pdf": pdf_text(await response.read(), tmp_path / "pdf"),
            "mail": pdf_text(attachment.get_payload(decode=True), tmp_path / "mail"),
        }
        for where, text in texts.items():
            assert "Pagatan, 30 November 2026" in text, where
            assert "Batulicin, 30 November" not in text, where
    finally:
        await service.client.close()


async def test_ui_times_are_wita_and_the_number_counts_per_form_and_month(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    service = await forms_service(tmp_path, smtp)
    try:
        first = await open_by_alert(service, "dinkes", "gw-dinkes")
        await walk(service, first)
        second = await open_by_alert(service, "disdik", "gw-disdik")
        await walk(service, second, cause="pln_power", admin="wati")
        async with service.app[DATABASE].read() as session:
            forms = list((await session.execute(select(Form).order_by(Form.id))).scalars())
        numbers = {(f.incident_id, f.kind): (f.number_year, f.number_month, f.number_seq)
                   for f in forms}  # fmt: skip
        assert numbers[first, "f04"] == (2026, 11, 1) and numbers[second, "f04"] == (2026, 11, 2)
        assert numbers[second, "f01"] == (2026, 11, 2)
        f04 = next(f for f in forms if f.incident_id == first and f.kind == "f04")
        # typed 16:30 in Batulicin: 08:30 UTC
        assert datetime.fromisoformat(f04.data["repair_started_at"]) == datetime(
            2026, 11, 30, 8, 30, tzinfo=UTC
        )
        assert f04.data["cause"] == "fibre_cut"
        service.client.session.cookie_jar.clear()
        assert await login(service.client, "koord") == 303
        page = await (await service.client.get(f"/incidents/{first}")).text()
        assert "30 November 2026, 17.02 WITA" in page  # the timeline on the regency's clock
        with pytest.raises(IntegrityError):  # a number is never given twice
            async with service.app[DATABASE].write() as session:
                again = await session.get(Form, f04.id)
                assert again is not None
                again.number_seq = numbers[second, "f04"][2]
                await session.flush()
        # the downtime-by-cause counter names the causes
        sample = service.app[REGISTRY].get_sample_value
        for cause in ("fibre_cut", "pln_power", "unknown"):
            assert sample("sigap_incident_downtime_by_cause_seconds_total", {"cause": cause}) == 0
    finally:
        await service.client.close()


def test_the_cli_records_the_full_name_and_nip(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SIGAP_SECRET_KEY": "test",
           "SIGAP_DATABASE_URL": f"sqlite:///{tmp_path / 'sigap.db'}"}  # fmt: skip

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "webhook.cli", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    assert cli("db", "upgrade").returncode == 0
    added = cli("user", "add", "sari", "--role", "staff", "--full-name", "Sari Wulandari",
                "--nip", "19870512 201001 2 003")  # fmt: skip
    assert added.returncode == 0, added.stderr
    wrong = cli("user", "add", "andi", "--role", "staff", "--nip", "12345")
    assert wrong.returncode != 0 and "--nip" in wrong.stderr and "18 digits" in wrong.stderr
    with sqlite3.connect(tmp_path / "sigap.db") as db:
        rows = db.execute("SELECT name, full_name, nip FROM user_account").fetchall()
    assert rows == [("sari", "Sari Wulandari", "198705122010012003")]


@pytest.mark.skipif(not POPPLER, reason="pdftoppm / pdftotext missing (Debian poppler-utils)")
async def test_the_forms_speak_the_readers_language(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    """The page and the PDF in the UI's language (`?lang=`, then its cookie); the emailed F-04 in
    the messages' (`notify: language`, Bahasa Indonesia here). The letterhead stays the
    regency's own."""
    service = await forms_service(tmp_path, smtp)
    try:
        incident = await open_by_alert(service, "dinkes", "gw-dinkes")
        await walk(service, incident)
        await service.drain()
        client = service.client
        page = await (await client.get(f"/incidents/{incident}/forms/f04?lang=en")).text()
        pdf = await client.get(f"/incidents/{incident}/forms/f04.pdf")  # the cookie says en
        assert pdf.status == 200
        english = {"page": page, "pdf": pdf_text(await pdf.read(), tmp_path / "en")}
        attachment = mailed_f04(smtp[0])
        mailed = pdf_text(attachment.get_payload(decode=True), tmp_path / "mail")
        for where, text in english.items():
            assert "Fibre cut" in text and "Repair started" in text, where
            assert "Kabel fiber optik putus" not in text, where
            assert "PEMERINTAH KABUPATEN TANAH BUMBU" in text, where
        assert "Kabel fiber optik putus" in mailed and "Fibre cut" not in mailed
    finally:
        await service.client.close()
