"""WhatsApp and the gateway's replies in the store: the incoming messages acted on, the answer a
press owes (through the outbox like any message), and the options of the last message a number
was sent (what `1` answers)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core.figures import NoticeOwed
from webhook.store.database import publish
from webhook.store.models import InboundMessage, Notification


async def mark_inbound(session: AsyncSession, channel: str, message_id: str, now: datetime) -> None:
    """Record that `message_id` is acted on in this transaction; a second time raises
    IntegrityError at the flush (a redelivered message)."""
    session.add(InboundMessage(channel=channel, message_id=message_id, received_at=now))
    await session.flush()


async def seen_inbound(session: AsyncSession, channel: str, message_id: str) -> bool:
    return await session.get(InboundMessage, (channel, message_id)) is not None


def owe_message(
    session: AsyncSession,
    channel: str,
    incident_id: int,
    event: str,
    person: str,
    recipient: str,
    subject: str,
    text: str,
    links: dict[str, str],
    now: datetime,
) -> None:
    """A pending message on `channel` (a press's answer, the staff a dispatch may send), sent
    by the delivery worker once this transaction commits."""
    session.add(
        Notification(
            incident_id=incident_id,
            notice_id=None,
            event=event,
            channel=channel,
            recipient=recipient,
            person=person,
            subject=subject,
            text=text,
            links=links,
            idempotency_key=f"sigap-{uuid.uuid4().hex}",
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )
    publish(session, NoticeOwed(incident_id))


async def last_links(session: AsyncSession, channel: str, recipient: str) -> dict[str, str]:
    """The links of the newest message on `channel` to `recipient` that offered options (sent
    or still on its way)."""
    query = (
        select(Notification.links)
        .where(
            Notification.channel == channel,
            Notification.recipient == recipient,
            Notification.status != "failed",
        )
        .order_by(Notification.id.desc())
        .limit(20)
    )
    for links in (await session.execute(query)).scalars():
        if any(key.startswith(("button:", "choice:")) for key in links):
            return dict(links)
    return {}
