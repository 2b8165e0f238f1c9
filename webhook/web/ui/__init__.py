"""The SOP workflow's web side: `setup_ui(app)` adds the UI, the action API, the one-click links,
the notifier, the escalation loop and the monthly report to the webhook's application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

ESCALATION_INTERVAL = 60.0


def setup_ui(app: web.Application) -> None:
    # Imported here, not above: webhook.web.actions imports webhook.web.ui.session (no cycle).
    from webhook.core.pdf import form_pdf
    from webhook.services.delivery import NOTIFIER, Notifier, notify_config
    from webhook.services.escalation import escalate_once, targets_of
    from webhook.store.models import Incident
    from webhook.web.actions import load_form, setup_actions
    from webhook.web.keys import DATABASE, LEADERSHIP, SETTINGS
    from webhook.web.ui.monthly import setup_monthly_report
    from webhook.web.ui.views import TARGETS, setup_views

    settings = app[SETTINGS]
    sections = settings.sections
    config = notify_config(sections.get("notify"))
    app[TARGETS] = targets_of(sections.get("escalation"))
    external_url = settings.external_url or "http://localhost:9428"

    async def f04_attachment(incident: Incident, person: str) -> tuple[tuple[str, bytes], ...]:
        async with app[DATABASE].read() as session:
            data = await load_form(session, incident.id, "f04")
        if data is None:
            return ()
        pdf = form_pdf("f04", incident.id, {"skpd": incident.skpd, **data})
        return ((f"F-04-{incident.id}.pdf", pdf),)

    async def workflow_ctx(app: web.Application) -> AsyncIterator[None]:
        notifier = Notifier(
            app[DATABASE],
            config,
            secret=settings.secret_key,
            external_url=external_url,
            attachments=f04_attachment,
        )
        app[NOTIFIER] = notifier

        targets = app[TARGETS]

        async def escalation_round() -> None:
            for incident_id in await escalate_once(app[DATABASE], targets, datetime.now(UTC)):
                await notifier.notify(incident_id, "escalate")

        # once across replicas: on the one that leads
        escalation = asyncio.create_task(
            app[LEADERSHIP].repeat(ESCALATION_INTERVAL, escalation_round, "escalation")
        )
        yield
        escalation.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await escalation
        await notifier.close()

    app.cleanup_ctx.append(workflow_ctx)
    setup_actions(app)
    setup_views(app)
    setup_monthly_report(app)
