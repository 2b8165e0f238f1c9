"""POST /api/v1/alertmanager: Alertmanager's notifications, recorded durably, exactly once.

The answer is 2xx only after the commit; a database that is locked or down gets a 503 (which
Alertmanager retries); 4xx only for what can never succeed (Alertmanager drops the whole group
on a 4xx). Every authenticated body is kept as a RawNotification, rejected ones too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, insert, select
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.ext.asyncio import AsyncSession

from exporter.inventory import format_path
from webhook import figures
from webhook import incidents as rules
from webhook.auth import alertmanager_authorized
from webhook.db import Database, publish
from webhook.keys import DATABASE, METRICS, PING_CHECKER, SETTINGS
from webhook.models import Alert, Event, Incident, RawNotification
from webhook.settings import Settings
from webhook.workflow import FINAL_STATES, Role, State, transition

log = logging.getLogger("sigap.webhook")
MAX_BODY_BYTES = 1024 * 1024
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)
"""What a database that is locked, down or unreachable raises: answered with 503."""


def windows_of(settings: Settings) -> rules.Windows:
    return rules.Windows(
        timedelta(seconds=settings.transient_window), timedelta(seconds=settings.reopen_window)
    )


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    fingerprint: str = Field(min_length=1, max_length=64)
    generatorURL: str | None = None

    @field_validator("startsAt")
    @classmethod
    def _started(cls, value: datetime) -> datetime:
        if value.year < 1970:
            raise ValueError("startsAt must be a real time (after 1970)")
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @field_validator("endsAt")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None or value.year < 1970:  # Go's zero time: "not ended"
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @field_validator("labels")
    @classmethod
    def _skpd_fits(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value.get("skpd", "")) > 64:
            raise ValueError("the skpd label is longer than 64 characters")
        return value


class Notification(BaseModel):
    """Alertmanager's webhook payload, version 4."""

    model_config = ConfigDict(extra="allow")

    version: str = "4"
    receiver: str
    status: Literal["firing", "resolved"]
    alerts: list[AlertIn]
    groupKey: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    truncatedAlerts: int = Field(default=0, ge=0)


class Ingested:
    """What one notification changed: incidents touched, and those that need a ping check."""

    def __init__(self) -> None:
        self.incidents: dict[int, Incident] = {}
        self.opened: list[Incident] = []


_EVENTS = "sigap_events"


def _event(
    session: AsyncSession,
    incident: Incident,
    now: datetime,
    kind: str,
    to_state: State | str,
    from_state: str | None = "",
    **data: Any,
) -> None:
    """Put an event on the incident's timeline; written in bulk by `_write_events` (one
    statement for all the events of a batch, instead of one ORM insert each)."""
    fields = {
        "at": now,
        "actor": "alertmanager",
        "role": Role.SYSTEM.value,
        "kind": kind,
        "from_state": incident.state if from_state == "" else from_state,
        "to_state": str(to_state),
        "data": data,
    }
    session.info.setdefault(_EVENTS, []).append((incident, fields))


async def _write_events(session: AsyncSession) -> None:
    pending: list[tuple[Incident, dict[str, Any]]] = session.info.pop(_EVENTS, [])
    if pending:
        await session.flush()  # new incidents get their ids
        rows = [{"incident_id": incident.id, **fields} for incident, fields in pending]
        await session.execute(insert(Event), rows)


async def _incident_for(
    session: AsyncSession,
    skpd: str,
    alert: AlertIn,
    now: datetime,
    windows: rules.Windows,
    result: Ingested,
    group_key: str,
) -> Incident:
    """The SKPD's incident for a new firing alert: the open one, a reopened one, or a new one."""
    for incident in result.incidents.values():
        if incident.skpd == skpd and incident.open_key is not None:
            return incident
    open_incident = (
        await session.execute(select(Incident).where(Incident.open_key == skpd))
    ).scalar_one_or_none()
    last_closed = None
    if open_incident is None:
        last_closed = (
            await session.execute(
                select(Incident)
                .where(Incident.skpd == skpd, Incident.closed_at.is_not(None))
                .order_by(Incident.closed_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    placement = rules.place_firing(
        open_incident is not None, last_closed.closed_at if last_closed else None, now, windows
    )
    if placement is rules.Placement.ATTACH:
        assert open_incident is not None
        incident = open_incident
    elif placement is rules.Placement.REOPEN:
        assert last_closed is not None
        incident = last_closed
        reason = f"{alert.labels.get('alertname', 'alert')} fired again within the reopen window"
        row = transition(State(incident.state), "reopen", Role.SYSTEM, {"reason": reason})
        _event(
            session, incident, now, "reopen", row.target_from(State(incident.state)), reason=reason
        )
        incident.state = State.OPENED.value
        incident.open_key = skpd
        incident.closed_at = None
        incident.recovered_at = None
        incident.stage_entered_at = now
        result.opened.append(incident)
    else:
        incident = Incident(
            skpd=skpd,
            state=State.OPENED.value,
            responsibility=rules.responsibility_of(alert.labels),
            source="alert",
            open_key=skpd,
            title=(alert.annotations.get("summary") or alert.labels.get("alertname", ""))[:300],
            description=alert.annotations.get("description"),
            nodes=[],
            group_key=group_key,
            opened_at=now,
            opened_by="alertmanager",
            stage_entered_at=now,
            updated_at=now,
            truncated_alerts=0,
        )
        session.add(incident)
        _event(
            session,
            incident,
            now,
            "opened",
            State.OPENED,
            from_state=None,
            alertname=alert.labels.get("alertname"),
            starts_at=alert.startsAt.isoformat(),
        )
        responsibility = figures.responsibility_label(incident.responsibility)
        publish(session, figures.Opened(skpd, responsibility, "alert"))
        result.opened.append(incident)
    await session.flush()
    result.incidents[incident.id] = incident
    return incident


def _attach(incident: Incident, alert: AlertIn) -> None:
    node = alert.labels.get("node")
    if node and node not in incident.nodes:
        incident.nodes = [*incident.nodes, node]
    incident.responsibility = rules.merge_responsibility(
        incident.responsibility, rules.responsibility_of(alert.labels), State(incident.state)
    )
    incident.recovered_at = None


async def ingest(
    session: AsyncSession, notification: Notification, now: datetime, windows: rules.Windows
) -> Ingested:
    """Record a notification's alerts and what they mean for the incidents."""
    result = Ingested()
    keys = {(a.fingerprint, a.startsAt) for a in notification.alerts}
    existing: dict[tuple[str, datetime], Alert] = {}
    # new alerts are written in one statement at the end (not one ORM insert each)
    new: dict[tuple[str, datetime], tuple[Incident | None, dict[str, Any]]] = {}
    if keys:
        rows = await session.execute(
            select(Alert).where(Alert.fingerprint.in_({k[0] for k in keys}))
        )
        existing = {(r.fingerprint, r.starts_at): r for r in rows.scalars()}
    for alert in notification.alerts:
        key = (alert.fingerprint, alert.startsAt)
        row = existing.get(key)
        skpd = rules.skpd_of(alert.labels)
        if row is None:
            if key in new:  # the same alert twice in one notification
                continue
            fields = {
                "fingerprint": alert.fingerprint,
                "starts_at": alert.startsAt,
                "ends_at": alert.endsAt if alert.status == "resolved" else None,
                "status": alert.status,
                "resolved_by": "alertmanager" if alert.status == "resolved" else None,
                "labels": alert.labels,
                "annotations": alert.annotations,
                "generator_url": alert.generatorURL,
                "received_at": now,
                "updated_at": now,
            }
            new[key] = (None, fields)
            if alert.status == "firing":
                incident = await _incident_for(
                    session, skpd, alert, now, windows, result, notification.groupKey
                )
                new[key] = (incident, fields)
                _attach(incident, alert)
                _event(
                    session,
                    incident,
                    now,
                    "alert_firing",
                    incident.state,
                    alertname=alert.labels.get("alertname"),
                    node=alert.labels.get("node"),
                    fingerprint=alert.fingerprint,
                )
            continue
        if alert.status == "firing" and row.status == "resolved" and row.resolved_by == "reconcile":
            # Alertmanager still had it after all (it was only forgotten or slow): revive it.
            row.status, row.ends_at, row.resolved_by, row.updated_at = "firing", None, None, now
            incident = await _incident_for(
                session, skpd, alert, now, windows, result, notification.groupKey
            )
            row.incident_id = incident.id
            _attach(incident, alert)
        elif alert.status == "resolved" and row.status == "firing":
            row.status, row.resolved_by, row.updated_at = "resolved", "alertmanager", now
            row.ends_at = alert.endsAt or now
            if row.incident_id is not None:
                incident = await cached_incident(session, result.incidents, row.incident_id)
                result.incidents[incident.id] = incident
                _event(
                    session,
                    incident,
                    now,
                    "alert_resolved",
                    incident.state,
                    alertname=alert.labels.get("alertname"),
                    node=alert.labels.get("node"),
                    fingerprint=alert.fingerprint,
                )
    if new:
        await session.flush()  # new incidents get their ids
        await session.execute(
            insert(Alert),
            [
                {**fields, "incident_id": incident.id if incident is not None else None}
                for incident, fields in new.values()
            ],
        )
    if notification.truncatedAlerts:
        for incident in result.incidents.values():
            incident.truncated_alerts = max(incident.truncated_alerts, notification.truncatedAlerts)
    await settle(session, result.incidents.values(), now, windows)
    return result


async def settle(
    session: AsyncSession, touched: Iterable[Incident], now: datetime, windows: rules.Windows
) -> None:
    """After alerts changed: mark incidents whose alerts all resolved as recovered, and close
    the short, unconfirmed ones as transient."""
    await session.flush()
    for incident in touched:
        incident.updated_at = now
        if State(incident.state) in FINAL_STATES:
            continue
        firing, first_start, last_end = (
            await session.execute(
                select(
                    func.count().filter(Alert.status == "firing"),
                    func.min(Alert.starts_at),
                    func.max(Alert.ends_at),
                ).where(Alert.incident_id == incident.id)
            )
        ).one()
        if firing or incident.recovered_at is not None:
            continue
        incident.recovered_at = last_end or now
        downtime = await _downtime_ended(session, incident, now)
        _event(
            session,
            incident,
            now,
            "recovered",
            incident.state,
            recovered_at=incident.recovered_at.isoformat(),
            downtime_seconds=downtime,  # figures.DOWNTIME_KEY: the ledger
        )
        # the outage's own length (Alertmanager's times), not the time since it was received:
        # a late or replayed notification must not make a long outage look short
        outage_started = first_start or incident.opened_at
        if rules.closes_as_transient(
            State(incident.state), outage_started, incident.recovered_at, windows
        ):
            row = transition(State(incident.state), "close_transient", Role.SYSTEM, {})
            target = row.target_from(State(incident.state))
            _event(session, incident, now, "close_transient", target)
            incident.state = target.value
            incident.closed_at = now
            incident.open_key = None
            incident.stage_entered_at = now
    await _write_events(session)


async def _downtime_ended(session: AsyncSession, incident: Incident, now: datetime) -> float:
    """The downtime an outage that just ended adds (published for the counter after the
    commit): its alerts' union, less what earlier recoveries of a flapping incident added."""
    alerts = (
        await session.execute(
            select(Alert.starts_at, Alert.ends_at).where(Alert.incident_id == incident.id)
        )
    ).all()
    ledger = (
        await session.execute(
            select(Event).where(
                Event.incident_id == incident.id, Event.kind.in_(("recovered", "repair"))
            )
        )
    ).scalars()
    outage = figures.outage_seconds([(a.starts_at, a.ends_at) for a in alerts], now)
    downtime = figures.downtime_increment(outage, ledger)
    responsibility = figures.responsibility_label(incident.responsibility)
    publish(session, figures.OutageEnded(incident.skpd, responsibility, downtime))
    return downtime


async def cached_incident(
    session: AsyncSession, cache: dict[int, Incident], incident_id: int
) -> Incident:
    found = cache.get(incident_id)
    if found is None:
        found = cache[incident_id] = await session.get_one(Incident, incident_id)
    return found


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


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one committed notification changed."""

    opened: list[int]
    """Incidents opened or reopened: they get a ping check."""
    touched: list[int]


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
    hand-overs and commits by the batch size. A notification that fails for any reason but an
    unreachable database is retried alone, so it cannot take the others of its batch down.
    """

    def __init__(self, database: Database, windows: rules.Windows, max_batch: int = 64) -> None:
        self.database = database
        self.windows = windows
        self.max_batch = max_batch
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
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            batch = [w for w in batch if not w.done.done()]  # the sender gave up meanwhile
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: list[_Waiting]) -> None:
        try:
            outcomes = []
            async with self.database.write() as session:
                for waiting in batch:
                    outcomes.append(await self._ingest(session, waiting))
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

    async def _ingest(self, session: AsyncSession, waiting: _Waiting) -> Outcome:
        session.add(
            RawNotification(
                received_at=waiting.received_at,
                remote=waiting.remote,
                auth_ok=True,
                status_code=200,
                error=None,
                group_key=waiting.notification.groupKey,
                body=waiting.body,
            )
        )
        result = await ingest(session, waiting.notification, waiting.received_at, self.windows)
        return Outcome([i.id for i in result.opened], sorted(result.incidents))


def _fail(done: asyncio.Future[Outcome], error: BaseException) -> None:
    if not done.done():
        done.set_exception(error)


RECORDER = web.AppKey("recorder", Recorder)


async def recorder_ctx(app: web.Application) -> AsyncIterator[None]:
    """The writer task of the receiver, for `app.cleanup_ctx` (after the database's)."""
    recorder = Recorder(app[DATABASE], windows_of(app[SETTINGS]))
    app[RECORDER] = recorder
    task = asyncio.create_task(recorder.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


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
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return _problem(413, f"body over {MAX_BODY_BYTES} bytes")
    body = await request.content.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _problem(413, f"body over {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        await _keep_rejected(request, body, 400, f"not JSON: {error}")
        return _problem(400, f"not JSON: {error}")
    try:
        notification = Notification.model_validate(data)
    except ValidationError as error:
        message = "; ".join(
            f"{format_path(tuple(e['loc'])) or 'body'}: {e['msg']}" for e in error.errors()
        )
        await _keep_rejected(request, body, 422, message)
        return _problem(422, f"not an Alertmanager notification: {message}")
    for alert in notification.alerts:
        metrics.alerts.labels(alert.status).inc()
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
