"""The transactional outbox: what a move owes is written in the move's own transaction, and the
delivery worker (`webhook.services.delivery`) turns it into messages, claims and records them.

Two durable stages. `owe()` (or `owed_row()` for a Core batch) adds a `Notice` in the move's
transaction: the move and its notice commit together or not at all. The worker plans unplanned
notices into `Notification` rows (one per recipient and channel, each with its idempotency key)
and marks them planned, in one transaction; then it claims due rows with a lease, sends them
outside any transaction and records each attempt.

Claims: on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED`, so two replicas never take one row;
on SQLite write transactions are serialised (``BEGIN IMMEDIATE``), so the select and the lease's
update are one atomic step. A claim is a lease (`claimed_until`): a replica that dies holding
rows delays them until it ends, after which any replica sends them (at least once).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core.figures import MessageDelivered, NoticeOwed
from webhook.core.messages import Message, NotifyConfig
from webhook.store.database import publish
from webhook.store.models import Notice, Notification


def owed_row(
    incident_id: int, notice: str, now: datetime, *, actor: str = "sigap", detail: str = ""
) -> dict[str, Any]:
    """The values of a `Notice` row, for a Core `insert(Notice)` in a batch transaction (append
    `NoticeOwed` to the batch's facts to wake the worker at once)."""
    return {
        "incident_id": incident_id,
        "notice": notice,
        "actor": actor,
        "detail": detail,
        "created_at": now,
        "planned_at": None,
        "error": None,
    }


def owe(
    session: AsyncSession,
    incident_id: int,
    notice: str,
    now: datetime,
    *,
    actor: str = "sigap",
    detail: str = "",
) -> None:
    """Incident `incident_id` owes the notice of the move `notice`, if this transaction commits."""
    session.add(Notice(**owed_row(incident_id, notice, now, actor=actor, detail=detail)))
    publish(session, NoticeOwed(incident_id))


async def claim_notices(session: AsyncSession, limit: int) -> list[Notice]:
    """The oldest unplanned notices, locked for this transaction (skipping others' locks)."""
    query = (
        select(Notice)
        .where(Notice.planned_at.is_(None))
        .order_by(Notice.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(query)).scalars())


def add_planned(
    session: AsyncSession, notice: Notice, messages: Sequence[Message], now: datetime
) -> None:
    """Store `messages` as due notifications of `notice`, and mark it planned."""
    for message in messages:
        session.add(
            Notification(
                incident_id=notice.incident_id,
                notice_id=notice.id,
                event=notice.notice,
                channel=message.channel,
                recipient=message.recipient,
                person=message.person,
                subject=message.subject,
                text=message.text,
                links=message.links,
                idempotency_key=f"sigap-{uuid.uuid4().hex}",
                status="pending",
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
        )
    notice.planned_at = now


@dataclass(frozen=True, slots=True)
class Claimed:
    """A notification this replica holds until `claimed_until`: what it needs to send it."""

    id: int
    incident_id: int
    event: str
    idempotency_key: str
    message: Message
    claimed_until: datetime


async def claim_due(
    session: AsyncSession, now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Take up to `limit` due pending notifications nobody holds, for `lease`."""
    query = (
        select(Notification)
        .where(
            Notification.status == "pending",
            Notification.next_attempt_at <= now,
            or_(Notification.claimed_until.is_(None), Notification.claimed_until <= now),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = []
    for row in (await session.execute(query)).scalars():
        row.claimed_until = now + lease
        message = Message(
            row.channel, row.recipient, row.person, row.subject, row.text, dict(row.links)
        )
        claimed.append(
            Claimed(row.id, row.incident_id, row.event, row.idempotency_key, message, now + lease)
        )
    return claimed


async def record_attempt(
    session: AsyncSession,
    claimed: Claimed,
    error: str | None,
    now: datetime,
    config: NotifyConfig,
    *,
    not_before: datetime | None = None,
) -> None:
    """Record one attempt to send `claimed`: sent, due again after the backoff (and not before
    `not_before`, when the channel said so), or failed after the last retry; the final outcome
    is counted once this transaction commits."""
    row = await session.get(Notification, claimed.id, with_for_update=True)
    if row is None or row.status != "pending":
        return  # another replica took it over after our lease and has settled it
    row.attempts += 1
    row.last_error, row.claimed_until = error, None
    delay = config.retry_delay(row.attempts) if error is not None else None
    if error is None:
        row.status, row.sent_at, row.next_attempt_at = "sent", now, None
    elif delay is None:
        row.status, row.next_attempt_at = "failed", None
    else:
        row.next_attempt_at = max(now + delay, not_before or now)
    if row.status != "pending":
        publish(session, MessageDelivered(row.channel, row.status))


async def next_due(session: AsyncSession) -> datetime | None:
    """When the earliest pending notification is due and free (the worker sleeps until then)."""
    free_at = case(
        (Notification.claimed_until > Notification.next_attempt_at, Notification.claimed_until),
        else_=Notification.next_attempt_at,
    )
    return await session.scalar(select(func.min(free_at)).where(Notification.status == "pending"))


async def backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many messages are pending, and since when the most overdue one has been due."""
    count, due = (
        await session.execute(
            select(func.count(), func.min(Notification.next_attempt_at)).where(
                Notification.status == "pending"
            )
        )
    ).one()
    return int(count), due
