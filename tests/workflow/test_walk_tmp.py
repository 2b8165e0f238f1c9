"""TEMP walk (not committed)."""

from __future__ import annotations
import re
from pathlib import Path
from typing import Any
from playwright.async_api import async_playwright
from sqlalchemy import select
from tests.workflow.conftest import (
    PASSWORD,
    Mailbox,
    MovableClock,
    Service,
    open_by_alert,
    start_service,
)
from tests.workflow.test_browser import as_person, CHROMIUM
from webhook.store.models import User
from webhook.web.keys import DATABASE

INVENTORY = Path(__file__).resolve().parents[2] / "deploy" / "inventory.example.yml"
OUT = Path("/tmp/i25/walk")


async def test_walk(tmp_path: Path, smtp: Any) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    notify = {"smtp": {"host": "127.0.0.1", "port": smtp[1]}, "retries": 2, "backoff": "10ms"}
    service = await start_service(tmp_path, notify, env={"SIGAP_INVENTORY": str(INVENTORY)})
    async with service.app[DATABASE].write() as session:
        for user in (await session.execute(select(User))).scalars():
            user.full_name = user.name.title() + " Lengkap"
    base = str(service.client.make_url("")).rstrip("/")
    incident = await open_by_alert(service, "dinkes", "gw-dinkes")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM)
        for who in ("sari", "koord", "budi"):
            page = await as_person(browser, base, who)
            for path in (
                "/",
                f"/incidents/{incident}",
                "/skpd",
                "/laporan",
                "/pemeliharaan",
                "/piket",
                "/report",
                "/users",
                "/akun",
                "/incidents/999",
                f"/incidents/{incident}/actions/cancel",
                "/status",
                "/peta",
            ):
                await page.goto(path)
                name = who + path.replace("/", "_") + ".png"
                await page.screenshot(path=OUT / name, full_page=True)
                sw = await page.evaluate("document.documentElement.scrollWidth")
                print(
                    who,
                    path,
                    "scrollWidth",
                    sw,
                    "height",
                    await page.evaluate("document.documentElement.scrollHeight"),
                )
        await browser.close()
    await service.drain()
    await service.client.close()
