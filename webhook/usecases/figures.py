"""What /metrics reads from the record at scrape time: the open incidents (every replica reports
the same, dashboards aggregate with `max`) and the maintenance running now."""

from __future__ import annotations

from webhook.store.maintenance import active_at
from webhook.store.models import Incident, Maintenance
from webhook.store.queries import open_incidents
from webhook.usecases.context import Resources


async def open_now(res: Resources) -> tuple[list[Incident], list[Maintenance]]:
    async with res.database.read() as session:
        return await open_incidents(session), await active_at(session, res.clock())
