"""Reconciliation with Alertmanager, which forgets alerts when it restarts and then never sends
their resolution (prometheus/alertmanager#2570): every interval, read GET /api/v2/alerts of
every configured Alertmanager and resolve what SIGAP still has firing but none of them knows.

With an Alertmanager cluster each member is asked: an alert one member still holds is not
forgotten (the members' views differ for a few seconds, and a member that missed a
notification of Prometheus still holds the other's). If any member cannot be asked, nothing is
resolved that round: an unanswered question is not an empty answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import Connection

from exporter.clock import Clock, system_clock
from webhook.core.figures import Fact
from webhook.core.grouping import Windows
from webhook.intake.batch import Batch
from webhook.services.leadership import Leadership
from webhook.services.metrics import WebhookMetrics
from webhook.store.database import DATABASE_ERRORS, Database

log = logging.getLogger("sigap.webhook")


class AlertmanagerUnreadable(Exception):
    """An Alertmanager that did not answer with its alerts; `str()` names it and why."""


def fingerprints_of(body: Any, url: str) -> set[str]:
    """The fingerprints of GET /api/v2/alerts' answer, or `AlertmanagerUnreadable` naming what
    is wrong with it (a proxy's error page, another service on the port, a changed API)."""
    if not isinstance(body, list):
        raise AlertmanagerUnreadable(f"{url}: expected a list of alerts, got {type(body).__name__}")
    found = set()
    for i, alert in enumerate(body):
        fingerprint = alert.get("fingerprint") if isinstance(alert, dict) else None
        if not isinstance(fingerprint, str) or not fingerprint:
            raise AlertmanagerUnreadable(f"{url}: alert {i} has no fingerprint")
        found.add(fingerprint)
    return found


async def active_fingerprints(session: aiohttp.ClientSession, alertmanager_url: str) -> set[str]:
    """Fingerprints of every alert one Alertmanager holds, silenced and inhibited ones included."""
    params = {"active": "true", "silenced": "true", "inhibited": "true", "unprocessed": "true"}
    try:
        async with session.get(f"{alertmanager_url}/api/v2/alerts", params=params) as response:
            response.raise_for_status()
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        reason = str(error) or type(error).__name__
        raise AlertmanagerUnreadable(f"{alertmanager_url}: {reason}") from None
    return fingerprints_of(body, alertmanager_url)


async def held_anywhere(session: aiohttp.ClientSession, urls: Sequence[str]) -> set[str]:
    """The union of what every Alertmanager holds, asked at once; `AlertmanagerUnreadable` (all
    that failed, named) when any one cannot be read."""
    answers = await asyncio.gather(
        *(active_fingerprints(session, url) for url in urls), return_exceptions=True
    )
    held: set[str] = set()
    failed = []
    for answer in answers:
        if isinstance(answer, AlertmanagerUnreadable):
            failed.append(str(answer))
        elif isinstance(answer, BaseException):
            raise answer
        else:
            held |= answer
    if failed:
        raise AlertmanagerUnreadable("; ".join(failed))
    return held


async def reconcile_once(
    database: Database,
    fingerprints: set[str],
    seen_before: datetime,
    windows: Windows,
    now: datetime | None = None,
) -> int:
    """Resolve alerts firing here but unknown to Alertmanager; returns how many.

    Only alerts received before `seen_before` (when Alertmanager was asked) count, so an alert
    that arrived while the question was on its way is not resolved by mistake. `now`: when
    they are resolved (default: `seen_before` plus the second it allows for the question).
    """
    now = now or seen_before + timedelta(seconds=1)

    def resolve(connection: Connection, facts: list[Fact]) -> int:
        batch = Batch(connection, facts, windows)
        resolved = batch.resolve_forgotten(fingerprints, seen_before, now)
        batch.write()
        return resolved

    return await database.write_batch(resolve)


async def reconcile_forever(
    database: Database,
    alertmanager_urls: Sequence[str],
    interval: float,
    windows: Windows,
    metrics: WebhookMetrics,
    leadership: Leadership,
    clock: Clock = system_clock,
) -> None:
    """A round every `interval` on the leading replica; no answer, error or surprise ends it."""
    timeout = aiohttp.ClientTimeout(total=max(5.0, interval / 2))
    async with aiohttp.ClientSession(timeout=timeout) as http:

        async def one_round() -> None:
            try:
                await _round(database, http, alertmanager_urls, windows, metrics, clock)
            except Exception:
                metrics.reconcile_runs.labels("error").inc()
                raise  # logged by `repeat`, which goes on

        await leadership.repeat(interval, one_round, "reconcile")


async def _round(
    database: Database,
    http: aiohttp.ClientSession,
    urls: Sequence[str],
    windows: Windows,
    metrics: WebhookMetrics,
    clock: Clock,
) -> None:
    asked_at = clock() - timedelta(seconds=1)
    try:
        fingerprints = await held_anywhere(http, urls)
        resolved = await reconcile_once(database, fingerprints, asked_at, windows, clock())
    except AlertmanagerUnreadable as error:
        metrics.reconcile_runs.labels("error").inc()
        log.warning(
            "reconcile: an Alertmanager is not readable; nothing resolved this round",
            extra={"error": str(error)},
        )
        return
    except DATABASE_ERRORS as error:
        metrics.reconcile_runs.labels("error").inc()
        log.warning("reconcile: database unavailable", extra={"error": str(error)})
        return
    metrics.reconcile_runs.labels("ok").inc()
    if resolved:
        metrics.reconcile_resolved.inc(resolved)
        log.info("reconcile resolved forgotten alerts", extra={"count": resolved})
