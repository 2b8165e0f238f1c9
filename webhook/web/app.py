"""The webhook service: `create_app(settings)` builds the aiohttp application.

The shape the other areas rely on:

- `create_app(settings: Settings, registry: CollectorRegistry | None = None) -> web.Application`
  (settings from `webhook.settings.load_settings()`; tests pass a fresh registry).
- Typed keys in `webhook.web.keys`: `SETTINGS`, `DATABASE` (`.read()` / `.write()` sessions; every
  change goes through `.write()`), `METRICS` (`WebhookMetrics`), `REGISTRY` (the registry
  /metrics serves: register your collectors on it), `PING_CHECKER` (`.schedule(incident_id,
  actor, role)` re-runs SOP step 2) and `INVENTORY` (present only when one is configured).
- Models on `webhook.store.models.Base` (tables: incident, alert, event, raw_notification,
  user_account, api_token); an area adds its tables on the same Base and its own Alembic
  revision on top of "0001".
- `webhook.web.auth.api_user(request, session)` turns a bearer token into a `User` (401 otherwise);
  `visible_skpds(user)` is the SKPD scope of an skpd_admin.
- Each area registers its routes with ONE `setup_*(app)` line in `create_app`, below.
- What a write transaction changed that the SOP figures count is
  `webhook.store.database.publish()`ed on its session (`webhook.core.figures` facts);
  `WebhookMetrics.record` gets it after the commit.

Every request goes through `webhook.web.middlewares` (trusted proxies, errors without internals,
security headers). Resources live in `cleanup_ctx`: the database (schema upgraded on start;
SQLite checkpointed beside the writer), the ping checker, the reconciliation loop and the
receiver's writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST, gzip_accepted

from exporter.clock import Clock, Sleep, system_clock
from exporter.inventory import CORE, InventoryError, load_inventory
from webhook.intake.recorder import windows_of
from webhook.services.delivery import Delivery
from webhook.services.escalation import escalate_once
from webhook.services.leadership import Leadership
from webhook.services.metrics import DatabaseFigures, WebhookMetrics
from webhook.services.paging import page_once
from webhook.services.pingcheck import PingChecker, PingSettings
from webhook.services.reconcile import reconcile_forever
from webhook.services.retention import Pruner, measure, measure_forever
from webhook.services.silences import SYNC_INTERVAL, Silences
from webhook.services.telegram import Telegram
from webhook.services.whatsapp import WhatsApp
from webhook.settings import Settings
from webhook.store.database import DATABASE_ERRORS, Database, checkpoints
from webhook.usecases.context import Resources
from webhook.usecases.documents import f04_attachment, f04_evidence
from webhook.usecases.figures import open_now
from webhook.web.alertmanager import receive, recorder_ctx
from webhook.web.api import setup_api
from webhook.web.keys import (
    CLOCK,
    DATABASE,
    DELIVERY,
    INVENTORY,
    LEADERSHIP,
    METRICS,
    PING_CHECKER,
    REGISTRY,
    RESOURCES,
    SETTINGS,
    TELEGRAM,
    WHATSAPP,
)
from webhook.web.links import setup_links
from webhook.web.maintenance import setup_maintenance
from webhook.web.middlewares import setup_middlewares
from webhook.web.status import setup_status
from webhook.web.telegram import setup_telegram
from webhook.web.ui.errors import error_pages
from webhook.web.ui.incidents import setup_incidents
from webhook.web.ui.login import setup_login
from webhook.web.ui.monthly import setup_monthly_report
from webhook.web.ui.photos import setup_photos
from webhook.web.ui.rendering import setup_rendering
from webhook.web.ui.roster import setup_roster
from webhook.web.ui.users import setup_users
from webhook.web.whatsapp import setup_whatsapp

ESCALATION_INTERVAL = 60.0
log = logging.getLogger("sigap.webhook")


async def healthy(request: web.Request) -> web.Response:
    return web.Response(text="Healthy.\n")


async def ready(request: web.Request) -> web.Response:
    try:
        await request.app[DATABASE].ping()
    except DATABASE_ERRORS as error:
        # The error (host names, users, paths) goes to the log, not to whoever asks.
        log.warning("not ready: database unreachable", extra={"error": str(error)})
        request.app[METRICS].database_up.set(0)
        return web.Response(status=503, text="Not ready: database unreachable.\n")
    request.app[METRICS].database_up.set(1)
    return web.Response(text="Ready.\n")


async def metrics(request: web.Request) -> web.Response:
    """The registry, with the open-incident gauges read from the database just before (the
    collectors are sync, the database async)."""
    own, res = request.app[METRICS], request.app[RESOURCES]
    try:
        found = await open_now(res)
    except DATABASE_ERRORS:
        own.database_up.set(0)
        own.open_incidents.forget()
    else:
        own.database_up.set(1)
        own.open_incidents.refresh(found.incidents, res.settings.escalation, res.clock())
        own.maintenance_active.clear()
        for skpd in {w.skpd for w in found.maintenance}:
            own.maintenance_active.labels(skpd).set(1)
        own.pending_messages.set(found.pending_messages)
        own.overdue_messages.set(found.overdue_seconds)
    return exposition(request, generate_latest(request.app[REGISTRY]))


def exposition(request: web.Request, body: bytes) -> web.Response:
    """The text format, gzipped for a scraper that accepts it (as prometheus_client does)."""
    response = web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
    if gzip_accepted(request.headers.get("Accept-Encoding", "")):
        response.enable_compression(web.ContentCoding.gzip)
    return response


def _repeating(
    leadership: Leadership, interval: float, round_: Callable[[], Awaitable[None]], name: str
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs `round_` every `interval` seconds on the leading replica
    only (once across replicas)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(leadership.repeat(interval, round_, name))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx


def create_app(
    settings: Settings,
    registry: CollectorRegistry | None = None,
    clock: Clock = system_clock,
    sleep: Sleep = asyncio.sleep,
) -> web.Application:
    """The service. `clock` is the time of every handler and service; `sleep`, how the
    leader's loops wait between lease checks and rounds (tests pass their own)."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    setup_middlewares(app, settings.trusted_proxies, error_pages)
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[REGISTRY] = registry if registry is not None else CollectorRegistry()
    app[METRICS] = WebhookMetrics(app[REGISTRY])
    database = Database(settings.database_url, settings.database_timeout)
    database.subscribe(app[METRICS].record)
    app[DATABASE] = database
    leading = Gauge(
        "sigap_webhook_leader",
        "1 while this replica runs the background loops (escalation, reconciliation, sweeps).",
        registry=app[REGISTRY],
    )
    app[LEADERSHIP] = Leadership(database, on_change=leading.set, sleep=sleep)
    inventory = None
    if settings.inventory:
        try:
            inventory = load_inventory(settings.inventory)
        except InventoryError as error:
            raise SystemExit(f"SIGAP_INVENTORY: {error}") from None
        app[INVENTORY] = inventory
        app[METRICS].know_skpds([*inventory.skpds, CORE])
    app[PING_CHECKER] = PingChecker(
        database,
        PingSettings(
            settings.ping_count,
            0.2,
            settings.ping_timeout,
            settings.ping_privileged,
            settings.ping_concurrency,
        ),
        inventory,
        enabled=settings.ping_check,
        on_result=lambda result: app[METRICS].ping_checks.labels(result).inc(),
        clock=clock,
    )

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await database.upgrade()
        checker, leadership = app[PING_CHECKER], app[LEADERSHIP]
        await checker.start()
        tasks = [asyncio.create_task(leadership.run())]
        if checker.enabled:  # once across replicas: the leader finds what no replica checked

            async def sweep() -> None:
                if found := await checker.sweep(app[CLOCK]()):
                    log.info(
                        "ping check: sweep queued unchecked incidents", extra={"n": len(found)}
                    )

            interval = checker.settings.sweep_interval
            tasks.append(asyncio.create_task(leadership.repeat(interval, sweep, "ping sweep")))
        if database.is_sqlite:
            tasks.append(asyncio.create_task(checkpoints(database)))
        if settings.alertmanager_urls:
            reconciler = reconcile_forever(
                database,
                settings.alertmanager_urls,
                settings.reconcile_interval,
                windows_of(settings),
                app[METRICS],
                app[LEADERSHIP],
                app[CLOCK],
            )
            tasks.append(asyncio.create_task(reconciler))
        if settings.alertmanager_token is None:
            log.warning(
                "SIGAP_ALERTMANAGER_TOKEN not set: anyone who reaches /api/v1/alertmanager "
                "can open incidents"
            )
        if settings.secret_key_generated:
            log.warning(
                "SIGAP_SECRET_KEY not set: a random key is used, so signed links and "
                "sessions do not survive a restart"
            )
        yield
        for task in reversed(tasks):  # the lease last: the loops end before it is given up
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await app[PING_CHECKER].stop()
        await database.close()

    app.cleanup_ctx.append(lifecycle)
    app.cleanup_ctx.append(recorder_ctx)
    silences = Silences(database, settings.alertmanager_urls, app[METRICS].silence_requests)
    res = Resources(database, settings, inventory, silences, clock, app[PING_CHECKER])
    app[RESOURCES] = res
    telegram = None
    if settings.telegram_bot_token:
        telegram = Telegram(settings.telegram_bot_token, settings.telegram_api_url)
        app[TELEGRAM] = telegram
    cloud = None
    if settings.whatsapp is not None:
        cloud = WhatsApp(settings.whatsapp)
        app[WHATSAPP] = cloud
    delivery = Delivery(
        database,
        settings.notify,
        secret=settings.secret_key,
        external_url=settings.external_url,  # None: messages without links
        attachments=lambda incident_id: f04_attachment(res, incident_id),
        evidence=lambda incident_id: f04_evidence(res, incident_id),
        clock=clock,
        zone=settings.timezone,
        skpd_name=inventory.skpd_name if inventory is not None else str,
        telegram=telegram,
        whatsapp=cloud,
        contacts={s.id: s.contacts for s in inventory.skpds.values()} if inventory else None,
        gateway_replies=settings.gateway_secret is not None,
    )
    app[DELIVERY] = delivery
    database.subscribe(delivery.committed)

    async def delivery_ctx(app: web.Application) -> AsyncIterator[None]:
        delivery.start()
        yield
        await delivery.close()

    async def escalation_round() -> None:
        await escalate_once(database, settings.escalation, clock())

    async def paging_round() -> None:
        await page_once(database, settings.paging, res.zone, clock())

    async def silences_round() -> None:
        await silences.sync_unsynced(clock())

    pruner = Pruner(database, settings.retention, app[REGISTRY])
    figures = DatabaseFigures()
    app[REGISTRY].register(figures)

    async def measuring_ctx(app: web.Application) -> AsyncIterator[None]:
        """The database's size and rows, on every replica (each serves /metrics)."""
        await measure(database, figures)  # the first scrape has them
        task = asyncio.create_task(measure_forever(database, figures))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def retention_round() -> None:
        await pruner.round(clock())

    leadership = app[LEADERSHIP]
    setup_telegram(app)  # the bot starts before delivery sends with it
    setup_whatsapp(app)
    app.cleanup_ctx.append(delivery_ctx)
    app.cleanup_ctx.append(measuring_ctx)
    app.cleanup_ctx.append(
        _repeating(leadership, settings.retention.interval, retention_round, "retention")
    )
    app.cleanup_ctx.append(
        _repeating(leadership, ESCALATION_INTERVAL, escalation_round, "escalation")
    )
    app.cleanup_ctx.append(_repeating(leadership, settings.paging.interval, paging_round, "paging"))
    if silences.urls:
        app.cleanup_ctx.append(
            _repeating(leadership, SYNC_INTERVAL, silences_round, "maintenance silences")
        )
    app.router.add_post("/api/v1/alertmanager", receive)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    app.router.add_get("/metrics", metrics)
    setup_api(app)
    setup_links(app)
    setup_login(app)
    setup_incidents(app)
    setup_photos(app)
    setup_rendering(app)
    setup_users(app)
    setup_monthly_report(app)
    setup_roster(app)
    setup_maintenance(app)
    setup_status(app)
    app.router.add_static("/static", Path(__file__).with_name("ui") / "static")
    return app
