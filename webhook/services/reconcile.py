"""Reconciliation with Alertmanager, which forgets alerts when it restarts and then never sends
their resolution (prometheus/alertmanager#2570): every interval, read GET /api/v2/alerts and
resolve what SIGAP still has firing but Alertmanager no longer knows."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import Connection

from webhook.core.figures import Fact
from webhook.core.grouping import Windows
from webhook.intake.batch import Batch
from webhook.services.metrics import WebhookMetrics
from webhook.store.database import DATABASE_ERRORS, Database

log = logging.getLogger("sigap.webhook")


async def active_fingerprints(session: aiohttp.ClientSession, alertmanager_url: str) -> set[str]:
    """Fingerprints of every alert Alertmanager holds, silenced and inhibited ones included."""
    params = {"active": "true", "silenced": "true", "inhibited": "true", "unprocessed": "true"}
    async with session.get(f"{alertmanager_url}/api/v2/alerts", params=params) as response:
        response.raise_for_status()
        alerts = await response.json()
    return {a["fingerprint"] for a in alerts}


async def reconcile_once(
    database: Database, fingerprints: set[str], seen_before: datetime, windows: Windows
) -> int:
    """Resolve alerts firing here but unknown to Alertmanager; returns how many.

    Only alerts received before `seen_before` (when Alertmanager was asked) count, so an alert
    that arrived while the question was on its way is not resolved by mistake.
    """
    now = datetime.now(UTC)

    def resolve(connection: Connection, facts: list[Fact]) -> int:
        batch = Batch(connection, facts, windows)
        resolved = batch.resolve_forgotten(fingerprints, seen_before, now)
        batch.write()
        return resolved

    return await database.write_batch(resolve)


async def reconcile_forever(
    database: Database,
    alertmanager_url: str,
    interval: float,
    windows: Windows,
    metrics: WebhookMetrics,
) -> None:
    timeout = aiohttp.ClientTimeout(total=max(5.0, interval / 2))
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while True:
            await asyncio.sleep(interval)
            asked_at = datetime.now(UTC) - timedelta(seconds=1)
            try:
                fingerprints = await active_fingerprints(http, alertmanager_url)
                resolved = await reconcile_once(database, fingerprints, asked_at, windows)
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as error:
                metrics.reconcile_runs.labels("error").inc()
                log.warning(
                    "reconcile: Alertmanager not readable",
                    extra={"url": alertmanager_url, "error": str(error)},
                )
                continue
            except DATABASE_ERRORS as error:
                metrics.reconcile_runs.labels("error").inc()
                log.warning("reconcile: database unavailable", extra={"error": str(error)})
                continue
            metrics.reconcile_runs.labels("ok").inc()
            if resolved:
                metrics.reconcile_resolved.inc(resolved)
                log.info("reconcile resolved forgotten alerts", extra={"count": resolved})
