"""The leader's pruning round: every kind past its retention, in small write transactions.

Each batch takes the writer for one bounded DELETE, and only once this process's writer has
been idle for `QUIET` seconds: while notifications keep arriving (a storm) the round waits, so
the storm never queues behind it. Under writes that never pause it still takes one batch per
`interval`, so the backlog cannot grow without end.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter

from webhook.core.retention import KINDS, RetentionConfig, cutoffs
from webhook.services.metrics import DatabaseFigures
from webhook.store.database import DATABASE_ERRORS, Database
from webhook.store.retention import database_figures, filesystem_free_ratio, prune_batch

log = logging.getLogger("sigap.retention")
QUIET = 0.25
"""Seconds the writer must have been idle before a batch."""


class Pruner:
    """Prunes with `round(now)`; counts `sigap_retention_pruned_rows_total{table}`."""

    def __init__(
        self, database: Database, config: RetentionConfig, registry: CollectorRegistry
    ) -> None:
        self.database = database
        self.config = config
        self.pruned = Counter(
            "sigap_retention_pruned_rows_total",
            "Rows deleted by the retention (settings `retention:`), by table.",
            labelnames=["table"],
            registry=registry,
        )
        for kind in KINDS:
            self.pruned.labels(kind)

    async def _until_quiet(self) -> None:
        """Wait until the writer has been idle for `QUIET` seconds, at most `interval`."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.config.interval
        while True:
            idle, left = self.database.writer_idle(), give_up - loop.time()
            if idle >= QUIET or left <= 0:
                return
            await asyncio.sleep(min(QUIET - idle, left))

    async def round(self, now: datetime) -> dict[str, int]:
        """Prune every kind down to its cutoff; the rows deleted per table."""
        done: dict[str, int] = {}
        for kind, cutoff in cutoffs(self.config, now).items():
            total = 0
            while True:
                await self._until_quiet()
                async with self.database.write() as session:
                    n = await prune_batch(session, kind, cutoff, self.config.batch)
                total += n
                self.pruned.labels(kind).inc(n)
                if n < self.config.batch:
                    break
            done[kind] = total
        if any(done.values()):
            log.info("retention: pruned", extra={"rows": done})
        return done


async def measure(database: Database, figures: DatabaseFigures) -> None:
    """Refresh the database's figures once (a failure keeps the last ones, and is logged)."""
    try:
        async with database.read() as session:
            size, rows = await database_figures(session, database.is_sqlite)
        figures.refresh(size, rows, filesystem_free_ratio(database))
    except DATABASE_ERRORS as error:
        log.warning("database figures unavailable", extra={"error": str(error)})


async def measure_forever(
    database: Database, figures: DatabaseFigures, interval: float = 60.0
) -> None:
    """Refresh the database's figures every `interval` on every replica (each serves /metrics)."""
    while True:
        await asyncio.sleep(interval)
        await measure(database, figures)
