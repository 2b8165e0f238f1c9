"""What /metrics reads from the record at scrape time: the open incidents (every replica reports
the same, dashboards aggregate with `max`), the maintenance running now and the outbox's
backlog."""

from __future__ import annotations

from dataclasses import dataclass

from webhook.store.maintenance import active_at
from webhook.store.models import Incident, Maintenance
from webhook.store.outbox import backlog
from webhook.store.queries import open_incidents
from webhook.usecases.context import Resources


@dataclass(frozen=True, slots=True)
class OpenNow:
    incidents: list[Incident]
    maintenance: list[Maintenance]
    pending_messages: int
    overdue_seconds: float
    """How long the most overdue pending message has been due (0: none is)."""


async def open_now(res: Resources) -> OpenNow:
    now = res.clock()
    async with res.database.read() as session:
        incidents, windows = await open_incidents(session), await active_at(session, now)
        pending, due = await backlog(session)
    overdue = max(0.0, (now - due).total_seconds()) if due is not None else 0.0
    return OpenNow(incidents, windows, pending, overdue)
