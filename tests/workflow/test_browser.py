"""A real headless Chromium walks one incident from the alert to the F-04 PDF, at a phone's
viewport, as staff, coordinator and SKPD admin, with one step done through an emailed link.
Screenshots of the board, the incident page and F-04 go to artifacts/workflow/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.workflow.conftest import PASSWORD, Mailbox, Service, open_by_alert
from tests.workflow.test_service import AHEAD, link_in

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "workflow"
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed"),
]


async def as_person(browser: Browser, base: str, name: str) -> Page:
    context = await browser.new_context(viewport=PHONE, base_url=base, is_mobile=True)
    page = await context.new_page()
    await page.goto("/login")
    await page.fill("#name", name)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/$"))
    return page


async def do(page: Page, incident: int, action: str, **fields: str) -> None:
    """Make `action` as a person does: unfold its step if it is folded away, fill, submit."""
    await page.goto(f"/incidents/{incident}")
    form = page.locator(f'form[data-action="{action}"]')
    folded = page.locator("details", has=form)
    if await folded.count():
        await folded.locator("summary").first.click()
    for name, value in fields.items():
        control = form.locator(f'[name="{name}"]')
        if await control.evaluate("e => e.tagName") == "SELECT":
            await control.select_option(value)
        elif await control.get_attribute("type") == "checkbox":
            await control.check()
        else:
            await control.fill(value)
    await form.locator("button[type=submit]").click()
    await page.wait_for_url(re.compile(rf".*/incidents/{incident}$"))


async def state(page: Page) -> str:
    return await page.get_attribute('[data-testid="state"]', "data-state") or ""


async def test_one_incident_from_alert_to_f04_pdf_in_chromium(service: Service, smtp: Any) -> None:
    mailbox: Mailbox = smtp[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = str(service.client.make_url("")).rstrip("/")
    incident = await open_by_alert(service)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            staff = await as_person(browser, base, "sari")
            await staff.screenshot(path=ARTIFACTS / "board.png", full_page=True)
            await staff.click(f"a.card[href='/incidents/{incident}']")
            await do(staff, incident, "confirm", contact_confirmed_with="budi (admin Dinkes)")
            await do(staff, incident, "report", responsibility="diskominfo")
            assert await state(staff) == "reported"

            # SOP step 5 through the emailed link, on the coordinator's phone.
            await service.drain()
            path = link_in(mailbox, "koord@example.test", "dispatch")
            coordinator = await as_person(browser, base, "koord")
            await coordinator.goto(path)
            await coordinator.screenshot(path=ARTIFACTS / "link-confirm.png", full_page=True)
            await coordinator.select_option("#assignee", "sari")
            await coordinator.click("button[type=submit]")
            await coordinator.wait_for_selector("text=selesai")

            await do(
                staff,
                incident,
                "estimate",
                findings="Kabel fiber putus di tiang depan kantor",
                estimated_recovery_at=AHEAD,
            )
            await do(coordinator, incident, "forward")
            await do(coordinator, incident, "order_repair")
            await do(
                staff,
                incident,
                "repair",
                findings="Kabel fiber putus",
                actions_taken="Sambung ulang (splicing) dan uji ping",
                parts_replaced="Patch cord SC-LC 3 m",
                result="Koneksi pulih, ping 2 ms",
                cause="fibre_cut",
            )
            await staff.screenshot(path=ARTIFACTS / "incident-staff.png", full_page=True)

            skpd_admin = await as_person(browser, base, "budi")
            await skpd_admin.goto(f"/incidents/{incident}")
            await skpd_admin.screenshot(path=ARTIFACTS / "incident-skpd-admin.png", full_page=True)
            await do(skpd_admin, incident, "close", despite_alarm="on")  # the alert still fires
            assert await state(skpd_admin) == "closed"
            await skpd_admin.goto(f"/incidents/{incident}/forms/f04")
            await skpd_admin.screenshot(path=ARTIFACTS / "f04.png", full_page=True)
            assert "Patch cord SC-LC 3 m" in await skpd_admin.content()
            pdf = await skpd_admin.request.get(f"{base}/incidents/{incident}/forms/f04.pdf")
            body = await pdf.body()
            assert pdf.status == 200 and body.startswith(b"%PDF")
            (ARTIFACTS / "f04.pdf").write_bytes(body)
        finally:
            await browser.close()
