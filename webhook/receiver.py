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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import Connection, insert
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)

from exporter.inventory import format_path
from webhook import incidents as rules
from webhook.auth import alertmanager_authorized
from webhook.db import Database
from webhook.figures import Fact
from webhook.ingest import Batch, Notification, Outcome
from webhook.keys import DATABASE, METRICS, PING_CHECKER, SETTINGS
from webhook.models import RawNotification
from webhook.settings import Settings

log = logging.getLogger("sigap.webhook")
MAX_BODY_BYTES = 1024 * 1024
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)
"""What a database that is locked, down or unreachable raises: answered with 503."""


def windows_of(settings: Settings) -> rules.Windows:
    return rules.Windows(
        timedelta(seconds=settings.transient_window), timedelta(seconds=settings.reopen_window)
    )


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"status": "error", "error": message}, status=status)


async def _keep_rejected(request: web.Request, body: bytes, status: int, error: str) -> None:
    """Store an authenticated but unusable body for audit; a database error here is only
    logged, since the answer (4xx) does not depend on it."""
    try:
        async with request.app[DATABASE].write() as session:
            session.add(
                RawNotification(
                    received_at=datetime.now(UTC),
                    remote=request.remote,
                    auth_ok=True,
                    status_code=status,
                    error=error,
                    group_key=None,
                    body=body,
                )
            )
    except DATABASE_ERRORS:
        log.warning("could not store a rejected notification", exc_info=True)


@dataclass(slots=True)
class _Waiting:
    notification: Notification
    body: bytes
    remote: str | None
    received_at: datetime
    done: asyncio.Future[Outcome]


class Recorder:
    """Group commit: one writer task records the notifications that wait together in ONE
    transaction, and each request is answered only after that commit.

    Under a storm (Alertmanager sends many groups at once) this divides transactions, lock
    hand-overs and commits by the batch size. Once the queue is empty the writer lingers a
    moment (`linger` seconds, again while more arrive) before it commits: the requests of the
    senders just answered are then on their way, and joining them halves the transactions. A
    notification that fails for any reason but an unreachable database is retried alone, so it
    cannot take the others of its batch down.
    """

    def __init__(
        self,
        database: Database,
        windows: rules.Windows,
        max_batch: int = 64,
        linger: float = 0.001,
    ) -> None:
        self.database = database
        self.windows = windows
        self.max_batch = max_batch
        self.linger = linger
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()

    async def record(
        self, notification: Notification, body: bytes, remote: str | None, now: datetime
    ) -> Outcome:
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Waiting(notification, body, remote, now, done))
        return await done

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch:
                if self._queue.empty():
                    await asyncio.sleep(self.linger)
                    if self._queue.empty():
                        break
                batch.append(self._queue.get_nowait())
            batch = [w for w in batch if not w.done.done()]  # the sender gave up meanwhile
            if batch:
                await self._commit(batch)

    def _record(
        self, connection: Connection, facts: list[Fact], batch: list[_Waiting]
    ) -> list[Outcome]:
        recording = Batch(connection, facts, self.windows)
        recording.read([w.notification for w in batch], min(w.received_at for w in batch))
        for waiting in batch:
            recording.ingest(waiting.notification, waiting.received_at)
        recording.write()
        connection.execute(insert(RawNotification), [_raw(w) for w in batch])
        return recording.outcomes()

    async def rehearse(self) -> None:
        """Record a made-up outage, firing then resolved, and roll it back: the statements are
        compiled and the connection opened before the first storm (after a restart,
        Alertmanager resends all it holds at once), which would otherwise wait for them."""
        if not self.database.is_sqlite:
            return  # PostgreSQL's sequences ignore a rollback: it would cost an incident number
        loop = asyncio.get_running_loop()
        now = datetime.now(UTC)
        outage = [_Waiting(n, b"", None, now, loop.create_future()) for n in _REHEARSAL]

        def record(connection: Connection, facts: list[Fact]) -> None:
            for waiting in outage:
                self._record(connection, facts, [waiting])

        try:
            await self.database.write_batch(record, commit=False)
        except DATABASE_ERRORS:
            log.warning("could not rehearse recording; the first notifications wait longer")

    async def _commit(self, batch: list[_Waiting]) -> None:
        try:
            outcomes = await self.database.write_batch(
                lambda connection, facts: self._record(connection, facts, batch)
            )
        except (OSError, TimeoutError, OperationalError, InterfaceError) as error:
            for waiting in batch:  # the database is unreachable or locked: all get 503
                _fail(waiting.done, error)
            return
        except Exception as error:
            if isinstance(error, DBAPIError) and error.connection_invalidated:
                for waiting in batch:
                    _fail(waiting.done, error)
                return
            if len(batch) > 1:
                for waiting in batch:
                    await self._commit([waiting])
            else:
                _fail(batch[0].done, error)
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if not waiting.done.done():
                waiting.done.set_result(outcome)


_REHEARSAL = [
    Notification.model_validate(
        {
            "receiver": "sigap",
            "status": status,
            "alerts": [
                {
                    "status": status,
                    "labels": {"alertname": "SigapRehearsal", "skpd": "sigap-rehearsal"},
                    "startsAt": "2000-01-01T00:00:00Z",
                    "fingerprint": "sigap-rehearsal",
                }
            ],
        }
    )
    for status in ("firing", "resolved")
]


def _raw(waiting: _Waiting) -> dict[str, object]:
    return {
        "received_at": waiting.received_at,
        "remote": waiting.remote,
        "auth_ok": True,
        "status_code": 200,
        "error": None,
        "group_key": waiting.notification.groupKey,
        "body": waiting.body,
    }


def _fail(done: asyncio.Future[Outcome], error: BaseException) -> None:
    if not done.done():
        done.set_exception(error)


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


async def _body(request: web.Request) -> bytes | None:
    """The whole body, or None past `MAX_BODY_BYTES`. (`content.read(n)` returns only what has
    arrived so far: a big notification came cut, and its 400 made Alertmanager drop it.)"""
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


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
    body = await _body(request) if (request.content_length or 0) <= MAX_BODY_BYTES else None
    if body is None:
        return _problem(413, f"body over {MAX_BODY_BYTES} bytes")
    try:
        notification = Notification.model_validate_json(body)
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
            notification, body, request.remote, datetime.now(UTC)
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
