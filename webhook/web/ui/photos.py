"""Repair photos on the F-04 page (`webhook.usecases.photos`):

    POST /incidents/{id}/photos                    multipart: csrf, photo (a JPEG or PNG)
    GET  /incidents/{id}/photos/{photo}            the photo (login; who sees the incident)
    POST /incidents/{id}/photos/{photo}/remove     csrf

A refused upload (wrong type, too big, too many, no F-04 yet) is the F-04 page again with the
reason beside the upload field, in Bahasa Indonesia, so the person stays where they were.
"""

from __future__ import annotations

import asyncio

from aiohttp import BodyPartReader, web

from webhook.core.photos import PhotoConfig, PhotoRefused, PhotoTooBig, check_size
from webhook.core.refusals import HTTP_STATUS, Refused
from webhook.usecases import photos
from webhook.usecases.context import Actor
from webhook.web.keys import RESOURCES
from webhook.web.ui.incidents import form_page, incident_id_of
from webhook.web.ui.login import checked_form, current_user
from webhook.web.ui.rendering import refusal

CHUNK = 64 * 1024


def _photo_id(request: web.Request) -> int:
    text = request.match_info["photo"]
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise web.HTTPNotFound()
    return int(text)


async def _read_upload(request: web.Request, config: PhotoConfig) -> tuple[str, bytes]:
    """The multipart body's csrf and photo, the photo read at most `max_bytes` + 1 (a bigger
    one is refused without reading the rest)."""
    check_size(max(0, (request.content_length or 0) - CHUNK), config)  # CHUNK: the form's rest
    csrf, data = "", b""
    reader = await request.multipart()
    async with asyncio.timeout(config.upload_timeout):
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "csrf":
                csrf = (await part.read(decode=True)).decode("utf-8", "replace")
            elif part.name == "photo":
                chunks, size = [], 0
                while chunk := await part.read_chunk(CHUNK):
                    size += len(chunk)
                    check_size(size, config)
                    chunks.append(chunk)
                data = b"".join(chunks)
    return csrf, data


async def attach(request: web.Request) -> web.Response:
    incident_id = incident_id_of(request)
    user, login = await current_user(request)
    res = request.app[RESOURCES]
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise web.HTTPBadRequest(text="expected multipart/form-data with the fields csrf, photo")
    try:
        try:
            csrf, data = await _read_upload(request, res.settings.photos)
        except TimeoutError:
            raise PhotoRefused("Unggahan foto terlalu lama atau terputus; kirim lagi.") from None
        if not login.csrf_ok(csrf):
            raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the page and retry")
        await photos.attach_photo(res, Actor.of(user), incident_id, data)
    except Refused as refused:
        status = 413 if isinstance(refused, PhotoTooBig) else HTTP_STATUS[refused.kind]
        return await form_page(request, user, "f04", photo_error=refused.reason, status=status)
    raise web.HTTPSeeOther(f"/incidents/{incident_id}/forms/f04#foto")


async def show(request: web.Request) -> web.Response:
    incident_id = incident_id_of(request)
    user, _ = await current_user(request)
    try:
        photo = await photos.repair_photo(
            request.app[RESOURCES], Actor.of(user), incident_id, _photo_id(request)
        )
    except Refused as refused:
        raise refusal(refused) from None
    return web.Response(
        body=photo.data,
        content_type=photo.content_type,
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


async def remove(request: web.Request) -> web.Response:
    incident_id = incident_id_of(request)
    user, login = await current_user(request)
    await checked_form(request, login)
    try:
        await photos.detach_photo(
            request.app[RESOURCES], Actor.of(user), incident_id, _photo_id(request)
        )
    except Refused as refused:
        raise refusal(refused) from None
    raise web.HTTPSeeOther(f"/incidents/{incident_id}/forms/f04#foto")


def setup_photos(app: web.Application) -> None:
    app.router.add_post("/incidents/{id}/photos", attach)
    app.router.add_get("/incidents/{id}/photos/{photo}", show)
    app.router.add_post("/incidents/{id}/photos/{photo}/remove", remove)
