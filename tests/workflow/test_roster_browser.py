"""A real headless Chromium walks the duty roster (/piket) as a coordinator on a phone-sized
screen: sets a rotation, adds a swap, and sees who is on duty on the board. Screenshots go to
artifacts/workflow/."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import async_playwright

from tests.workflow.conftest import Service
from tests.workflow.test_browser import ARTIFACTS, CHROMIUM, as_person
from webhook.web.keys import CLOCK

WITA = ZoneInfo("Asia/Makassar")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed"),
]


async def test_a_coordinator_sets_the_roster_on_a_phone(service: Service) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = str(service.client.make_url("")).rstrip("/")
    now = service.app[CLOCK]().astimezone(WITA)
    began = now - timedelta(hours=1)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await as_person(browser, base, "koord")
            await page.click("header summary")  # the menu, folded on a phone
            await page.click("a[href='/piket']")
            await page.wait_for_url(re.compile(r".*/piket$"))
            assert "belum ada" in await page.inner_text('[data-testid="on-duty-now"]')

            rotation = page.locator('form[data-form="rotation"]')
            await rotation.locator("#people").fill("sari\nandi")
            await rotation.locator("#shift").select_option("daily")
            await rotation.locator("#handover").fill(began.strftime("%H:%M"))
            await rotation.locator("#starts_on").fill(began.date().isoformat())
            await rotation.locator("button[type=submit]").click()
            await page.wait_for_url(re.compile(r".*/piket$"))
            assert await page.inner_text('[data-testid="on-duty-now"]') == "sari"
            assert await page.inner_text('[data-testid="on-duty-next"]') == "andi"
            assert await page.locator('[data-testid="shifts"] tr').count() >= 14

            override = page.locator('form[data-form="override"]')
            await override.locator("#person").select_option("andi")
            await override.locator("#reason").select_option("swap")
            start, end = now - timedelta(minutes=30), now + timedelta(hours=3)
            await override.locator("#start").fill(start.strftime("%Y-%m-%dT%H:%M"))
            await override.locator("#end").fill(end.strftime("%Y-%m-%dT%H:%M"))
            await override.locator("button[type=submit]").click()
            await page.wait_for_url(re.compile(r".*/piket$"))
            assert await page.inner_text('[data-testid="on-duty-now"]') == "andi"
            assert "andi" in await page.inner_text('[data-testid="overrides"]')
            # nothing wider than the phone: no sideways scrolling
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390
            await page.screenshot(path=ARTIFACTS / "roster.png", full_page=True)

            await page.click("header.top a[href='/']")
            line = await page.inner_text('[data-testid="board-duty"]')
            assert "Piket sekarang: andi" in line and "Piket berikutnya: sari" in line
            await page.screenshot(path=ARTIFACTS / "board-duty.png", full_page=True)
        finally:
            await browser.close()
