"""The SOP workflow's web side: `setup_ui(app)` adds the UI, the action API, the one-click links,
the delivery worker, the escalation and paging loops, the duty roster and the monthly report to
the webhook's application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

from aiohttp import web

ESCALATION_INTERVAL = 60.0


def setup_ui(app: web.Application) -> None:
    # Imported here, not above: webhook.web.links imports webhook.web.ui.views (no cycle).
    from webhook.core.pdf import document_pdf
    from webhook.services.delivery import Delivery
    from webhook.services.escalation import escalate_once
    from webhook.services.paging import page_once
    from webhook.store.models import Incident
    from webhook.web.keys import CLOCK, DATABASE, DELIVERY, INVENTORY, LEADERSHIP, SETTINGS
    from webhook.web.links import setup_links
    from webhook.web.roster import setup_roster
    from webhook.web.ui.documents import form_document
    from webhook.web.ui.monthly import setup_monthly_report
    from webhook.web.ui.views import setup_views

    settings = app[SETTINGS]
    config = settings.notify
    external_url = settings.external_url or "http://localhost:9428"

    async def f04_attachment(incident_id: int) -> tuple[tuple[str, bytes], ...]:
        """F-04 as on its page and its PDF link (`webhook.web.ui.documents`), in the
        messages' language."""
        async with app[DATABASE].read() as session:
            incident = await session.get(Incident, incident_id)
        if incident is None:
            return ()
        document = await form_document(app, incident, "f04", config.language)
        if document is None:
            return ()
        return ((document.filename, await asyncio.to_thread(document_pdf, document)),)

    delivery = Delivery(
        app[DATABASE],
        config,
        secret=settings.secret_key,
        external_url=external_url,
        attachments=f04_attachment,
        clock=app[CLOCK],
        zone=settings.timezone,
        skpd_name=inventory.skpd_name if (inventory := app.get(INVENTORY)) else str,
    )
    app[DELIVERY] = delivery
    app[DATABASE].subscribe(delivery.committed)

    async def workflow_ctx(app: web.Application) -> AsyncIterator[None]:
        delivery.start()
        targets = settings.escalation

        async def escalation_round() -> None:
            await escalate_once(app[DATABASE], targets, app[CLOCK]())

        # once across replicas: on the one that leads
        escalation = asyncio.create_task(
            app[LEADERSHIP].repeat(ESCALATION_INTERVAL, escalation_round, "escalation")
        )
        zone = ZoneInfo(settings.timezone)

        async def paging_round() -> None:
            await page_once(app[DATABASE], settings.paging, zone, app[CLOCK]())

        paging = asyncio.create_task(
            app[LEADERSHIP].repeat(settings.paging.interval, paging_round, "paging")
        )
        yield
        for task in (paging, escalation):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await delivery.close()

    app.cleanup_ctx.append(workflow_ctx)
    setup_links(app)
    setup_views(app)
    setup_monthly_report(app)
    setup_roster(app)
