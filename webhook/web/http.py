"""What every handler shares at the HTTP edge: the JSON API's one error shape (also used by
`webhook.web.middlewares` for what a handler did not expect), and request bodies read whole,
bounded in size and time, before any transaction starts (a client that trickles its body in
never holds the database's writer)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from webhook.core.refusals import HTTP_STATUS, Refused
from webhook.web.keys import SETTINGS

MAX_JSON_BYTES = 64 * 1024


def json_error(status: int, message: str, **headers: str) -> web.HTTPException:
    """The JSON API's error: `{"status": "error", "error": "<what is wrong>"}`, raised."""
    return _EXCEPTIONS[status](
        text=json.dumps({"status": "error", "error": message}),
        content_type="application/json",
        headers=headers or None,
    )


def json_refusal(refused: Refused) -> web.HTTPException:
    """A use case's refusal as the JSON API's error, its status by kind."""
    return json_error(HTTP_STATUS[refused.kind], refused.reason)


def status_exception(status: int, text: str) -> web.HTTPException:
    return _EXCEPTIONS[status](text=text)


def _by_status(cls: type[web.HTTPException]) -> dict[int, type[web.HTTPException]]:
    found = {cls.status_code: cls}
    for sub in cls.__subclasses__():
        found.update(_by_status(sub))
    return found


_EXCEPTIONS = _by_status(web.HTTPException)


class BodyRefused(Exception):
    """A body too big (413) or too slow (408); `message` says which."""

    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message
        super().__init__(message)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, within `limit` bytes and `body_timeout` seconds (BodyRefused).
    (`content.read(n)` returns only what has arrived so far: a body would come cut.)"""
    if (request.content_length or 0) > limit:
        raise BodyRefused(413, f"body over {limit} bytes")
    chunks, size = [], 0
    seconds = request.app[SETTINGS].body_timeout
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.content.iter_any():
                size += len(chunk)
                if size > limit:
                    raise BodyRefused(413, f"body over {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise BodyRefused(408, f"the body did not arrive within {seconds:g} s") from None
    return b"".join(chunks)


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """A JSON object body (an empty body is an empty object)."""
    try:
        body = await read_body(request, MAX_JSON_BYTES)
    except BodyRefused as refused:
        raise json_error(refused.status, refused.message) from None
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as error:
        raise json_error(400, f"body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise json_error(400, "body must be a JSON object")
    return data


async def read_form(request: web.Request) -> dict[str, str]:
    """A form body (the UI's POSTs), read like `read_body`."""
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_JSON_BYTES, request.content_length or 0)
    try:
        async with asyncio.timeout(request.app[SETTINGS].body_timeout):
            form = await request.post()
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="the form did not arrive in time; retry") from None
    return {k: str(v) for k, v in form.items()}
