"""POST /api/v1/alertmanager: Alertmanager's notifications, recorded durably, exactly once.

The answer is 2xx only after the commit; a database that is locked or down gets a 503 (which
Alertmanager retries); 4xx only for what can never succeed (Alertmanager drops the whole group
on a 4xx). Every authenticated body is kept as a RawNotification, rejected ones too.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)

from webhook.core import grouping as rules
from webhook.core.figures import Fact
from webhook.intake.batch import Batch, Outcome
from webhook.intake.payload import AlertmanagerNotification
from webhook.settings import Settings
from webhook.store.bulk import BulkInsert
from webhook.store.database import Database
from webhook.store.models import RawNotification

log = logging.getLogger("sigap.webhook")
MAX_BODY_BYTES = 1024 * 1024
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)
"""What a database that is locked, down or unreachable raises: answered with 503."""


def windows_of(settings: Settings) -> rules.Windows:
    return rules.Windows(
        timedelta(seconds=settings.transient_window), timedelta(seconds=settings.reopen_window)
    )


@dataclass(slots=True)
class _Waiting:
    notification: AlertmanagerNotification
    body: bytes
    remote: str | None
    received_at: datetime
    done: asyncio.Future[Outcome]
    deadline: float
    """Loop time by which it must be committed, or answered 503 (`Database.timeout`)."""


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
        self, notification: AlertmanagerNotification, body: bytes, remote: str | None, now: datetime
    ) -> Outcome:
        """Commit the notification with the others waiting now; TimeoutError once it waited
        the database's `timeout` (whatever is queued ahead of it), so the answer is a 503
        in time for Alertmanager to retry."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Outcome] = loop.create_future()
        deadline = loop.time() + self.database.timeout
        self._queue.put_nowait(_Waiting(notification, body, remote, now, done, deadline))
        async with asyncio.timeout_at(deadline + 0.5):  # the commit itself may end the wait
            return await done

    async def keep_rejected(
        self, body: bytes, remote: str | None, status: int, error: str, now: datetime
    ) -> None:
        """Store an authenticated but unusable body for audit; a database error here is only
        logged, since the answer (4xx) does not depend on it."""
        try:
            async with self.database.write() as session:
                session.add(
                    RawNotification(
                        received_at=now,
                        remote=remote,
                        auth_ok=True,
                        status_code=status,
                        error=error,
                        group_key=None,
                        body=body,
                    )
                )
        except DATABASE_ERRORS:
            log.warning("could not store a rejected notification", exc_info=True)

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
        _RAW.execute(connection, [_raw(w) for w in batch])
        return recording.outcomes()

    async def rehearse(self) -> None:
        """Record a made-up outage, firing then resolved, and roll it back: the statements are
        compiled and the connection opened before the first storm (after a restart,
        Alertmanager resends all it holds at once), which would otherwise wait for them."""
        if not self.database.is_sqlite:
            return  # PostgreSQL's sequences ignore a rollback: it would cost an incident number
        loop = asyncio.get_running_loop()
        now = datetime.now(UTC)
        deadline = loop.time() + self.database.timeout
        outage = [_Waiting(n, b"", None, now, loop.create_future(), deadline) for n in _REHEARSAL]

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
                lambda connection, facts: self._record(connection, facts, batch),
                deadline=min(w.deadline for w in batch),
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
    AlertmanagerNotification.model_validate(
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


_RAW = BulkInsert(
    RawNotification.__table__,
    ("received_at", "remote", "auth_ok", "status_code", "error", "group_key", "body"),
)


def _raw(waiting: _Waiting) -> tuple[object, ...]:
    return (
        waiting.received_at,
        waiting.remote,
        True,
        200,
        None,
        waiting.notification.groupKey,
        waiting.body,
    )


def _fail(done: asyncio.Future[Outcome], error: BaseException) -> None:
    if not done.done():
        done.set_exception(error)
