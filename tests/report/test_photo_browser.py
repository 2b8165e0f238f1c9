"""A staff member attaches a repair photo to the F-04 from a phone: real headless Chromium at
390 px, the real app. The photo shows on the page and in the PDF; a wrong file is refused on
the same page, in Bahasa Indonesia, beside the upload field."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import async_playwright
from pypdf import PdfReader

from tests.report.test_office_documents import office, phone_jpeg, repaired_incident
from tests.workflow.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "report"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed"),
]


async def test_staff_attach_a_photo_from_a_phone(tmp_path: Path) -> None:
    service = await office(tmp_path)
    try:
        incident, _, _ = await repaired_incident(service)
        photo = tmp_path / "IMG_20261130_101500.jpg"
        photo.write_bytes(phone_jpeg())
        wrong = tmp_path / "laporan.jpg"
        wrong.write_bytes(b"%PDF-1.4 a document, not a photo")
        base = str(service.client.make_url("")).rstrip("/")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                context = await browser.new_context(viewport=PHONE, base_url=base, is_mobile=True)
                page = await context.new_page()
                await page.goto("/login")
                await page.fill("#name", "sari")
                await page.fill("#password", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_url(re.compile(r".*/$"))
                await page.goto(f"/incidents/{incident}/forms/f04")
                upload = page.locator("form.photo-upload")
                assert await upload.is_visible()
                box = await upload.bounding_box()
                assert box is not None and box["x"] + box["width"] <= PHONE["width"]  # no sideways

                await page.set_input_files("#photo", str(wrong))
                await upload.locator("button[type=submit]").click()
                error = page.locator('[data-testid="photo-error"]')
                await error.wait_for()
                assert "bukan foto JPEG atau PNG" in await error.inner_text()
                assert await page.get_attribute("#photo", "aria-invalid") == "true"

                await page.set_input_files("#photo", str(photo))
                await page.locator("form.photo-upload button[type=submit]").click()
                await page.wait_for_url(re.compile(rf".*/incidents/{incident}/forms/f04#foto$"))
                shown = page.locator('[data-testid="repair-photos"] img')
                assert await shown.count() == 1
                await shown.first.wait_for()
                width = await shown.first.evaluate("img => img.naturalWidth")
                assert width == 90  # loaded (upright: the phone's portrait)
                img_box = await shown.first.bounding_box()
                assert img_box is not None and img_box["width"] <= PHONE["width"]
                await page.screenshot(path=ARTIFACTS / "f04-photo.png", full_page=True)

                response = await page.request.get(f"/incidents/{incident}/forms/f04.pdf")
                pdf = PdfReader(io.BytesIO(await response.body()))
                drawn = [i for p in pdf.pages for i in p.images]
                assert len(drawn) == 2  # the crest and the photo
                assert any(Image.open(io.BytesIO(i.data)).size == (90, 160) for i in drawn)
            finally:
                await browser.close()
    finally:
        await service.client.close()
