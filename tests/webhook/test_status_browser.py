"""The status page in real headless Chromium, on a phone (390x844) and on the NOC's screen
(1920x1080): every SKPD readable without sideways scrolling, the bar of days as wide as the
card, its tooltip (`<title>`) the day's downtime, and the CSP obeyed (no console errors). The
maps (the public one, the offices, the NOC's /peta) fit the screen too: no element reaches past
its edge or scrolls sideways, and their labels stay at a legible size. The screenshots are in
artifacts/status/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright

from tests.webhook.access_app import PASSWORD, running
from tests.webhook.status_world import World, world

__all__ = ["world"]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "status"
SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth, found = [];
  if (document.documentElement.scrollWidth > width)
    found.push(`the page is ${document.documentElement.scrollWidth} px wide`);
  for (const e of document.querySelectorAll("body *")) {
    const box = e.getBoundingClientRect();
    if (box.width === 0) continue;
    const kind = typeof e.className === "string" ? e.className : e.className.baseVal;
    const name = `${e.tagName.toLowerCase()}${kind ? "." + kind.split(" ")[0] : ""}`;
    if (box.right > width + 1 || box.left < -1)
      found.push(`${name} spans ${Math.round(box.left)}..${Math.round(box.right)} px`);
    const scrolls = ["auto", "scroll"].includes(getComputedStyle(e).overflowX);
    if (scrolls && e.scrollWidth > e.clientWidth + 1)
      found.push(`${name} scrolls sideways`);
  }
  return found.slice(0, 8);
}"""
"""What reaches past the screen's right or left edge, or scrolls sideways: nothing may."""
SMALLEST_LABEL = """() => Math.min(...[...document.querySelectorAll("svg.map, svg.offices")].map(
  svg => 11 * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width))"""
"""The size in CSS pixels the maps' 11-unit labels are drawn at, the smallest of them."""


async def fits(page: Page, width: int, name: str) -> None:
    """The page as shown fits `width`, its map labels at 10 px or more; its screenshot kept."""
    await page.screenshot(path=ARTIFACTS / f"{name}-{width}.png", full_page=True)
    assert await page.evaluate(SIDEWAYS) == [], f"{name} at {width} px"
    if await page.locator("svg.map, svg.offices").count():
        assert await page.evaluate(SMALLEST_LABEL) >= 10, f"{name} at {width} px: labels too small"


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
                await fits(page, width, "status")
                assert await page.locator("svg.map").count() == 4  # the core, 3 branches
                assert await page.locator("svg.offices [data-office]").count() == 11
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
                await fits(page, width, "status-dinkes")
                # the NOC's map: every node, its name, the failed branch
                await page.goto(f"{base}/login")
                await page.fill("#name", "sari")
                await page.fill("#password", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_url(re.compile(r".*/$"))
                await page.goto(f"{base}/peta")
                await fits(page, width, "peta")
                switch = page.locator('[data-node="sw-dinkes-core"] circle')
                assert await switch.get_attribute("fill") == "#ef9a9a"  # below the failure
                if width > 1000:  # the wall shows the branches side by side, no scrolling
                    tops = await page.locator("svg.map").evaluate_all(
                        "all => all.map(s => Math.round(s.getBoundingClientRect().top))"
                    )
                    assert len(set(tops)) == 1, tops
                    bottom = await page.locator("svg.map").evaluate_all(
                        "all => Math.max(...all.map(s => s.getBoundingClientRect().bottom))"
                    )
                    assert bottom <= height, f"the wall's map ends at {bottom} px"
                assert not problems, problems
            finally:
                await browser.close()
