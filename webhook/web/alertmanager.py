"""POST /api/v1/alertmanager: Alertmanager's notifications, recorded durably, exactly once.

The answer is 2xx only after the commit; a database that is locked or down gets a 503 (which
Alertmanager retries); 4xx only for what can never succeed (Alertmanager drops the whole group
on a 4xx). Every authenticated body is kept as a RawNotification, rejected ones too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError

from exporter.inventory import format_path
from webhook.core.credentials import alertmanager_authorized
from webhook.intake.payload import AlertmanagerNotification
from webhook.intake.recorder import Recorder, windows_of
from webhook.store.database import DATABASE_ERRORS
from webhook.web.http import BodyRefused, read_body
from webhook.web.keys import CLOCK, DATABASE, METRICS, PING_CHECKER, SETTINGS

log = logging.getLogger("sigap.webhook")
MAX_BODY_BYTES = 1024 * 1024


RECORDER = web.AppKey("recorder", Recorder)


async def recorder_ctx(app: web.Application) -> AsyncIterator[None]:
    """The writer task of the receiver, for `app.cleanup_ctx` (after the database's)."""
    recorder = Recorder(app[DATABASE], windows_of(app[SETTINGS]))
    app[RECORDER] = recorder
    await recorder.rehearse()
    task = asyncio.create_task(recorder.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"status": "error", "error": message}, status=status)


async def _keep_rejected(request: web.Request, body: bytes, status: int, error: str) -> None:
    await request.app[RECORDER].keep_rejected(
        body, request.remote, status, error, request.app[CLOCK]()
    )


async def receive(request: web.Request) -> web.Response:
    started = time.perf_counter()
    metrics = request.app[METRICS]
    response = await _receive(request)
    metrics.notifications.labels(f"{response.status // 100}xx").inc()
    metrics.duration.observe(time.perf_counter() - started)
    return response


async def _receive(request: web.Request) -> web.Response:
    settings, metrics = request.app[SETTINGS], request.app[METRICS]
    if not alertmanager_authorized(
        request.headers.get("Authorization"), settings.alertmanager_token
    ):
        return web.json_response(
            {
                "status": "error",
                "error": "missing or wrong credentials: send "
                "'Authorization: Bearer <SIGAP_ALERTMANAGER_TOKEN>'",
            },
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="sigap"'},
        )
    try:
        body = await read_body(request, MAX_BODY_BYTES)
    except BodyRefused as refused:
        # a body cut short may arrive whole next time: 503, since a 4xx drops the group
        return _problem(503 if refused.status == 408 else refused.status, refused.message)
    try:
        notification = AlertmanagerNotification.model_validate_json(body)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_context=False)
        if problems[0]["type"] == "json_invalid":
            message = f"not JSON: {problems[0]['msg'].removeprefix('Invalid JSON: ')}"
            await _keep_rejected(request, body, 400, message)
            return _problem(400, message)
        message = "; ".join(
            f"{format_path(tuple(e['loc'])) or 'body'}: {e['msg']}" for e in problems
        )
        await _keep_rejected(request, body, 422, message)
        return _problem(422, f"not an Alertmanager notification: {message}")
    firing = sum(alert.status == "firing" for alert in notification.alerts)
    for status, count in (("firing", firing), ("resolved", len(notification.alerts) - firing)):
        if count:
            metrics.alerts.labels(status).inc(count)
    try:
        outcome = await request.app[RECORDER].record(
            notification, body, request.remote, request.app[CLOCK]()
        )
    except DataError as error:
        # a value the database cannot store (e.g. too long for its column): never succeeds
        message = str(error.orig).splitlines()[0]
        await _keep_rejected(request, body, 422, message)
        return _problem(422, f"a value cannot be stored: {message}")
    except IntegrityError:
        # Another webhook process recorded the same alert a moment ago: Alertmanager retries,
        # and the retry finds it recorded (idempotent), so nothing is lost.
        log.info("concurrent delivery of the same alerts; asking Alertmanager to retry")
        return _problem(503, "the same alerts are being recorded concurrently; retry")
    except DATABASE_ERRORS as error:
        metrics.database_up.set(0)
        log.error(
            "notification not committed; answering 503 so Alertmanager retries",
            extra={"error": str(error).splitlines()[0], "group_key": notification.groupKey},
        )
        return web.json_response(
            {"status": "error", "error": "database unavailable; retry later"},
            status=503,
            headers={"Retry-After": "5"},
        )
    opened, touched = outcome.opened, outcome.touched
    metrics.database_up.set(1)
    checker = request.app[PING_CHECKER]
    for incident_id in opened:
        checker.schedule(incident_id)
    return web.json_response({"status": "ok", "incidents": touched, "opened": opened})
