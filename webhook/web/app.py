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
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from exporter.inventory import CORE, InventoryError, load_inventory
from webhook.core.clock import Clock, system_clock
from webhook.intake.recorder import windows_of
from webhook.services.leadership import Leadership
from webhook.services.metrics import DatabaseFigures, WebhookMetrics
from webhook.services.pingcheck import PingChecker, PingSettings
from webhook.services.reconcile import reconcile_forever
from webhook.services.retention import Pruner, measure_forever
from webhook.settings import Settings
from webhook.store.database import DATABASE_ERRORS, Database, checkpoints
from webhook.store.maintenance import active_at
from webhook.store.queries import open_incidents
from webhook.web.alertmanager import receive, recorder_ctx
from webhook.web.api import setup_api
from webhook.web.keys import (
    CLOCK,
    DATABASE,
    INVENTORY,
    LEADERSHIP,
    METRICS,
    PING_CHECKER,
    REGISTRY,
    SETTINGS,
)
from webhook.web.maintenance import setup_maintenance
from webhook.web.middlewares import setup_middlewares
from webhook.web.ui import setup_ui

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
    own = request.app[METRICS]
    try:
        async with request.app[DATABASE].read() as session:
            incidents = await open_incidents(session)
            windows = await active_at(session, request.app[CLOCK]())
    except DATABASE_ERRORS:
        own.database_up.set(0)
        own.open_incidents.forget()
    else:
        own.database_up.set(1)
        targets = request.app[SETTINGS].escalation
        own.open_incidents.refresh(incidents, targets, request.app[CLOCK]())
        own.maintenance_active.clear()
        for skpd in {w.skpd for w in windows}:
            own.maintenance_active.labels(skpd).set(1)
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(
    settings: Settings, registry: CollectorRegistry | None = None, clock: Clock = system_clock
) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    setup_middlewares(app, settings.trusted_proxies)
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
    app[LEADERSHIP] = Leadership(database, on_change=leading.set)
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

    pruner = Pruner(database, settings.retention, app[REGISTRY])
    figures = DatabaseFigures()
    app[REGISTRY].register(figures)

    async def retention(app: web.Application) -> AsyncIterator[None]:
        rounds = app[LEADERSHIP].repeat(
            settings.retention.interval, lambda: pruner.round(app[CLOCK]()), "retention"
        )
        tasks = [
            asyncio.create_task(rounds),
            asyncio.create_task(measure_forever(database, figures)),
        ]
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(lifecycle)
    app.cleanup_ctx.append(retention)
    app.cleanup_ctx.append(recorder_ctx)
    app.router.add_post("/api/v1/alertmanager", receive)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    app.router.add_get("/metrics", metrics)
    setup_api(app)
    setup_ui(app)
    setup_maintenance(app)
    return app
