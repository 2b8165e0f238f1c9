"""The status page in real headless Chromium, on a phone (390x844) and on the NOC's screen
(1920x1080): every SKPD readable without sideways scrolling, the bar of days as wide as the
card, its tooltip (`<title>`) the day's downtime, and the CSP obeyed (no console errors)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.webhook.access_app import PASSWORD, running
from tests.webhook.status_world import World, world

__all__ = ["world"]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "status"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed"),
]


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1920, 1080)])
async def test_the_page_fits_the_screen(
    world: World, tmp_path: Path, width: int, height: int
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with running(tmp_path, SIGAP_PROMETHEUS_URL=world.url) as service:
        base = str(service.client.make_url("/")).rstrip("/")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                context = await browser.new_context(
                    viewport={"width": width, "height": height}, is_mobile=width < 500
                )
                page = await context.new_page()
                problems: list[str] = []
                page.on(
                    "console",
                    lambda m: (
                        problems.append(m.text)
                        if m.type == "error"
                        and "404" not in m.text  # the favicon SIGAP has none of
                        else None
                    ),
                )
                page.on(
                    "response",
                    lambda r: (
                        problems.append(r.url)
                        if r.status >= 400 and "favicon" not in r.url
                        else None
                    ),
                )
                await page.goto(f"{base}/status")
                await page.screenshot(path=ARTIFACTS / f"status-{width}.png", full_page=True)
                scroll = await page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, f"the page scrolls sideways: {scroll} > {width}"
                card = page.locator('[data-testid="skpd-dinkes"]')
                box, bars = await card.bounding_box(), await card.locator("svg.bars").bounding_box()
                assert box is not None and bars is not None
                assert bars["width"] >= box["width"] * 0.8
                assert (
                    await card.locator(".condition").inner_text() == "Putus (jaringan Diskominfo)"
                )
                tip = card.locator(
                    f"rect title:text-is('{world.outage_day}: 91.67% (gangguan 2 jam 0 menit)')"
                )
                assert await tip.count() == 1
                # a colour from the stylesheet: /static/status.css is loaded under the CSP
                colour = await card.locator(".condition").evaluate(
                    "e => getComputedStyle(e).backgroundColor"
                )
                assert colour == "rgb(198, 40, 40)"
                await page.goto(f"{base}/status/dinkes")
                await page.screenshot(path=ARTIFACTS / f"status-dinkes-{width}.png", full_page=True)
                if width > 1000:  # the NOC wall: every node, its name, the failed branch
                    await page.goto(f"{base}/login")
                    await page.fill("#name", "sari")
                    await page.fill("#password", PASSWORD)
                    await page.click("button[type=submit]")
                    await page.wait_for_url(re.compile(r".*/$"))
                    await page.goto(f"{base}/peta")
                    await page.screenshot(path=ARTIFACTS / "peta-1920.png", full_page=True)
                    switch = page.locator('[data-node="sw-dinkes-core"] circle')
                    assert await switch.get_attribute("fill") == "#ef9a9a"  # below the failure
                assert not problems, problems
            finally:
                await browser.close()
