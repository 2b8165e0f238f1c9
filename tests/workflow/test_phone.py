"""The UI as a phone user meets it (issue 25), in a real headless Chromium at 390x844, as staff,
coordinator and SKPD admin on the example regency: every page fits the screen (no sideways
scrolling, tables as cards), every control is at least 44 px tall, no internals show (raw enum
values, ISO times, fingerprints, English error pages), the incident page leads with the one next
step, and its forms keep what was typed and say each error beside its field.
Screenshots go to artifacts/phone/."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import func, select

from tests.workflow.conftest import (
    ALERTMANAGER_TOKEN,
    Mailbox,
    Service,
    alert_notification,
    start_service,
)
from tests.workflow.test_browser import CHROMIUM, PHONE, as_person, do
from webhook.store.models import Event, Incident, User
from webhook.web.keys import DATABASE
from webhook.web.ui.rendering import number

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "deploy" / "inventory.example.yml"
ARTIFACTS = ROOT / "artifacts" / "phone"
WITA = ZoneInfo("Asia/Makassar")
FULL_NAMES = {
    "sari": "Sari Wulandari",
    "andi": "Andi Pratama",
    "koord": "Rahmat Hidayat",
    "budi": "Budi Santoso",
}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed"),
]

RAW = [
    re.compile(p)
    for p in (
        r"\bfiring\b",
        r"\bresolved\b",
        r"\b(sent|failed|pending)\b",
        r"\bdiskominfo\b",  # the id; people read "Diskominfo"
        r"\b(penanggung_jawab|skpd_admin|coordinator|ping_checked|repair_ordered)\b",
        r"\b(starts_at|fingerprints?|caused_downtime_seconds|downtime_seconds)\b",
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}",  # an ISO 8601 time
        r"\d\.\d+ ms",  # a decimal point
        r"\b0/0\b",
        r"Method Not Allowed|Not Found|no incident|Internal Server Error",
        r"\bUmur\b|\bAlert\b",
        r"Node: *$",
    )
]
"""What people must not meet: the issue's raw strings."""
ENGLISH = re.compile(
    r"\b(the|is|not|cannot|needs|should|must|field|required|expected|unknown|incident|"
    r"alert|error|none|true|false)\b"
)
"""English words that give away an untranslated message in the Indonesian UI."""

CONTROLS = (
    "button, select, textarea, summary, a.button, header a, "
    "input:not([type=hidden]):not([type=checkbox])"
)


def visible_text(text: str) -> str:
    """The page's text without e-mail addresses and the language switch (which is English)."""
    return re.sub(r"\S+@\S+", "", text).replace("English", "")


async def check_page(page: Page, name: str, *, english: bool = True) -> str:
    """`page` as a phone shows it: fits 390 px, controls >= 44 px, no raw strings (and no
    English words, unless `english=False`); its screenshot saved. Returns its text."""
    await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    await page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page scrolls sideways ({width} px)"
    wide = await page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(e => {
            const box = e.getBoundingClientRect();
            const scrolls = e.scrollWidth > e.clientWidth + 1
                && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
            return box.width > 0 && (box.right > window.innerWidth + 1 || scrolls);
        }).map(e => e.tagName + '.' + e.className + ': ' + (e.innerText || '').slice(0, 40))"""
    )
    assert not wide, f"{name}: wider than the screen or scrolling sideways: {wide[:5]}"
    small = await page.evaluate(
        f"""() => [...document.querySelectorAll('{CONTROLS}')].filter(e => {{
            const box = e.getBoundingClientRect();
            return box.width > 0 && box.height < 44;
        }}).map(e => e.tagName + ' ' + (e.innerText || e.name || '').slice(0, 30) + ' '
                 + Math.round(e.getBoundingClientRect().height) + 'px')"""
    )
    assert not small, f"{name}: tap targets under 44 px: {small[:5]}"
    text = visible_text(await page.inner_text("body"))
    for pattern in RAW:
        found = pattern.search(text)
        where = text[max(0, found.start() - 60) : found.end() + 20] if found else ""
        assert found is None, f"{name}: raw {found.group(0)!r} in {where!r}"
    if english:
        found = ENGLISH.search(text)
        assert found is None, f"{name}: English {found.group(0)!r} in the Indonesian page"
    return text


@pytest.fixture
async def phone_service(tmp_path: Path, smtp: tuple[Mailbox, int]) -> AsyncIterator[Service]:
    notify = {"smtp": {"host": "127.0.0.1", "port": smtp[1]}, "retries": 2, "backoff": "10ms"}
    service = await start_service(tmp_path, notify, env={"SIGAP_INVENTORY": str(INVENTORY)})
    async with service.app[DATABASE].write() as session:
        for user in (await session.execute(select(User))).scalars():
            user.full_name = FULL_NAMES.get(user.name)
    try:
        yield service
    finally:
        await service.drain()
        await service.client.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            await launched.close()


async def open_incident(service: Service) -> int:
    """An incident of dinkes opened by an alert as the real rules word it (Indonesian)."""
    alert = alert_notification("dinkes", "gw-dinkes")
    alert["alerts"][0]["annotations"]["summary"] = (
        "Jalur SKPD dinkes terputus: gw-dinkes (198.18.5.2) tidak menjawab ping"
    )
    response = await service.client.post(
        "/api/v1/alertmanager", json=alert,
        headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
    )  # fmt: skip
    assert response.status == 200, await response.text()
    async with service.app[DATABASE].read() as session:
        return int(await session.scalar(select(func.max(Incident.id))) or 0)


def typed(moment: datetime) -> str:
    return f"{moment.astimezone(WITA):%Y-%m-%dT%H:%M}"


async def timeline(page: Page, kind: str) -> int:
    return await page.locator(f'li[data-kind="{kind}"]').count()


async def test_every_page_fits_a_phone_with_no_internals(
    phone_service: Service, browser: Browser
) -> None:
    service = phone_service
    base = str(service.client.make_url("")).rstrip("/")
    incident = await open_incident(service)
    pages = ["/", f"/incidents/{incident}", "/skpd", "/laporan", "/pemeliharaan", "/piket",
             "/report", "/akun", "/status"]  # fmt: skip
    for who in ("sari", "koord", "budi", "noc"):
        page = await as_person(browser, base, who)
        for path in [*pages, *(["/users"] if who == "koord" else [])]:
            await page.goto(path)
            await check_page(page, f"{who}{path.replace('/', '_')}", english=path != "/status")
        # the errors people meet: in the site's layout and language, with the way back
        for path, status in [
            ("/incidents/999", 404),
            (f"/incidents/{incident}/actions/cancel", 405),
            ("/nowhere", 404),
        ]:
            response = await page.goto(path)
            assert response is not None and response.status == status
            text = await check_page(page, f"{who}-error-{status}{path.replace('/', '_')}")
            assert await page.locator('a[href="/"]').count() >= 1, text
        await page.context.close()
    # another SKPD's incident: the same answer as one that does not exist, in Indonesian
    wati = await as_person(browser, base, "wati")
    response = await wati.goto(f"/incidents/{incident}")
    assert response is not None and response.status == 404
    assert "tidak ada, atau bukan untuk Anda" in await check_page(wati, "wati-foreign-incident")


async def test_the_incident_page_leads_with_the_next_step_and_keeps_what_was_typed(
    phone_service: Service, browser: Browser
) -> None:
    service = phone_service
    base = str(service.client.make_url("")).rstrip("/")
    incident = await open_incident(service)
    staff = await as_person(browser, base, "sari")
    coordinator = await as_person(browser, base, "koord")
    admin = await as_person(browser, base, "budi")

    # staff: "Tangani" leads; the rest folded away; cancel apart, behind a confirmation
    await staff.goto(f"/incidents/{incident}")
    lead = staff.locator('[data-testid="next-step"] form')
    assert await lead.get_attribute("data-action") == "acknowledge"
    assert not await staff.locator('form[data-action="confirm"]').is_visible()
    assert not await staff.locator('form[data-action="cancel"]').is_visible()
    assert "menunggu" in (await staff.inner_text('[data-testid="next-step"]')).lower()
    old = await staff.content()  # the page as it was, with its "Tangani" button
    await lead.locator("button").click()
    await staff.wait_for_url(re.compile(rf".*/incidents/{incident}$"))
    assert await timeline(staff, "acknowledge") == 1
    assert (
        await staff.locator('[data-testid="next-step"] form').get_attribute("data-action")
        == "confirm"
    )
    # the old "Tangani" pressed again: no second line on the timeline
    await staff.set_content(old)
    csrf = await staff.locator('form[data-action="acknowledge"] input[name=csrf]').input_value()
    again = await staff.request.post(
        f"{base}/incidents/{incident}/actions/acknowledge", form={"csrf": csrf}
    )
    assert again.ok
    await staff.goto(f"/incidents/{incident}")
    assert await timeline(staff, "acknowledge") == 1

    # the holder by full name; whitespace only is refused by the form's own rules
    assert FULL_NAMES["sari"] in await staff.inner_text("dl.facts")
    await staff.fill("#confirm-contact_confirmed_with", "   ")
    assert not await staff.locator("#confirm-contact_confirmed_with").evaluate(
        "e => e.checkValidity()"
    )
    await do(staff, incident, "confirm", contact_confirmed_with="Budi Santoso (admin)")
    await do(staff, incident, "report", responsibility="diskominfo")

    # the coordinator's dispatch list: empty and required, people by full name, only staff
    await coordinator.goto(f"/incidents/{incident}")
    assignee = coordinator.locator("#dispatch-assignee")
    assert await assignee.input_value() == "" and await assignee.get_attribute("required") == ""
    options = await assignee.locator("option").all_inner_texts()
    assert any(FULL_NAMES["sari"] in o and "staf jaringan" in o for o in options), options
    assert not any("Budi" in o or "admin" in o.lower() for o in options), options
    await do(coordinator, incident, "dispatch", assignee="sari")
    await coordinator.goto(f"/incidents/{incident}")
    assert await coordinator.locator("#dispatch-assignee").input_value() == ""
    waiting = await coordinator.inner_text('[data-testid="waiting-on"]')
    assert FULL_NAMES["sari"] in waiting and "Catat temuan" in waiting
    await check_page(coordinator, "coordinator-dispatched")

    # an estimate in the past: refused beside its field, in Indonesian, with the input kept
    await staff.goto(f"/incidents/{incident}")
    past = typed(datetime.now(UTC) - timedelta(hours=2))
    await staff.fill("#estimate-findings", "Kabel fiber putus di tiang depan kantor")
    await staff.locator("#estimate-estimated_recovery_at").evaluate("e => e.removeAttribute('min')")
    await staff.fill("#estimate-estimated_recovery_at", past)
    await staff.locator('form[data-action="estimate"] button').click()
    error = staff.locator("#estimate-estimated_recovery_at-error")
    assert "Estimasi pulih harus di masa depan" in await error.inner_text()
    assert (
        await staff.input_value("#estimate-findings") == "Kabel fiber putus di tiang depan kantor"
    )
    await check_page(staff, "staff-estimate-refused")
    await staff.fill(
        "#estimate-estimated_recovery_at", typed(datetime.now(UTC) + timedelta(hours=3))
    )
    await staff.locator('form[data-action="estimate"] button').click()
    await staff.wait_for_url(re.compile(rf".*/incidents/{incident}$"))
    # after the estimate: the staff member is told whom the incident now waits on
    waiting = await staff.inner_text('[data-testid="waiting-on"]')
    assert "koordinator jaringan" in waiting and "Teruskan estimasi" in waiting
    await do(coordinator, incident, "forward")
    await do(coordinator, incident, "order_repair")

    # F-04: the findings typed with the estimate are carried; an empty part and an end before
    # the start are said beside their fields in the form's words, the input kept
    await staff.goto(f"/incidents/{incident}")
    findings = await staff.input_value("#repair-findings")
    assert findings == "Kabel fiber putus di tiang depan kantor"
    csrf = await staff.locator('form[data-action="repair"] input[name=csrf]').input_value()
    form = {"csrf": csrf,
            "findings": "Kabel putus", "actions_taken": "Sambung ulang", "result": "Pulih",
            "parts_replaced": "  ", "cause": "fibre_cut",
            "repair_started_at": typed(datetime.now(UTC)),
            "repair_ended_at": typed(datetime.now(UTC) - timedelta(hours=1))}  # fmt: skip
    refused = await staff.request.post(f"{base}/incidents/{incident}/actions/repair", form=form)
    assert refused.status == 422
    await staff.set_content(await refused.text())
    said = await staff.inner_text("#repair-parts_replaced-error")
    assert said == "Perangkat diganti wajib diisi.", said
    assert await staff.input_value("#repair-actions_taken") == "Sambung ulang"
    assert "parts_replaced" not in visible_text(await staff.inner_text("main"))
    form["parts_replaced"] = "Patch cord SC-LC 3 m"
    refused = await staff.request.post(f"{base}/incidents/{incident}/actions/repair", form=form)
    await staff.set_content(await refused.text())
    said = await staff.inner_text("#repair-repair_ended_at-error")
    assert said == "Selesai perbaikan harus sesudah Mulai perbaikan.", said
    await do(staff, incident, "repair", findings="Kabel fiber putus",
             actions_taken="Sambung ulang (splicing)", parts_replaced="Patch cord SC-LC 3 m",
             result="Koneksi pulih, ping 2 ms", cause="fibre_cut")  # fmt: skip

    # closing while the alarm still fires: a red confirmation step that asks, then says so
    await admin.goto(f"/incidents/{incident}")
    close = admin.locator('form[data-action="close"]')
    assert not await close.is_visible()
    assert "danger" in (await close.locator("button").get_attribute("class") or "")
    assert await close.locator("input[name=despite_alarm]").get_attribute("required") == ""
    csrf = await close.locator("input[name=csrf]").input_value()
    unconfirmed = await admin.request.post(
        f"{base}/incidents/{incident}/actions/close", form={"csrf": csrf}
    )
    assert unconfirmed.status == 409
    assert "Alarm insiden ini masih aktif" in await unconfirmed.text()
    await do(admin, incident, "close", despite_alarm="on")
    text = await check_page(admin, "admin-closed")
    assert "Ditutup saat alarm masih aktif" in text
    assert await admin.get_attribute('[data-testid="state"]', "data-state") == "closed"
    for kind in ("f01", "f04"):  # the forms as documents fit a phone too
        await admin.goto(f"/incidents/{incident}/forms/{kind}")
        await check_page(admin, f"admin-{kind}")


async def test_a_ping_recheck_refreshes_the_page_until_its_result(
    phone_service: Service, browser: Browser
) -> None:
    service = phone_service
    base = str(service.client.make_url("")).rstrip("/")
    incident = await open_incident(service)
    staff = await as_person(browser, base, "sari")
    await staff.goto(f"/incidents/{incident}")
    await (
        staff.locator("details", has=staff.locator('form[data-action="ping_check"]'))
        .locator("summary")
        .click()
    )
    await staff.locator('form[data-action="ping_check"] button').click()
    await staff.wait_for_url(re.compile(rf".*/incidents/{incident}\?cek=\d+#cek$"))
    # no result yet (SIGAP's ping checker is off here): the page refreshes itself meanwhile
    assert await staff.locator('meta[http-equiv="refresh"]').count() == 1
    assert await staff.locator('[data-testid="ping-pending"]').is_visible()
    # its result arrives: the page shows it and stops refreshing; no reply is said so
    async with service.app[DATABASE].write() as session:
        session.add(Event(incident_id=incident, at=datetime.now(UTC) + timedelta(seconds=1),
                          actor="sigap", role="system", kind="ping_check",
                          from_state="ping_checked", to_state="ping_checked",
                          data={"results": {"gw-dinkes": {"address": "198.18.5.2", "sent": 0,
                                "received": 0, "rtt_avg_ms": None}},
                                "unreachable": ["gw-dinkes"]}))  # fmt: skip
    asked = int((datetime.now(UTC) - timedelta(seconds=5)).timestamp())
    await staff.goto(f"/incidents/{incident}?cek={asked}")
    assert await staff.locator('meta[http-equiv="refresh"]').count() == 0
    text = await check_page(staff, "staff-ping-result")
    assert "Router gateway Diskominfo di DINKES: tidak menjawab" in text


def test_numbers_read_the_indonesian_way() -> None:
    assert number(0.251, "id", 1) == "0,3" and number(1234.5, "id") == "1.234,5"
    assert number(0.251, "en", 2) == "0.25"
