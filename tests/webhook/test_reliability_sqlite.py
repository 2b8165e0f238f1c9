"""SQLite under trouble: a file locked by another process gets 503 (never a 200 that loses the
alert), and Alertmanager's retry after the lock is gone records everything exactly once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiohttp

from tests.webhook.reliability import (
    HEADERS,
    alert,
    counts,
    live_webhook,
    notification,
    settings_for,
)


async def test_locked_database_answers_503_then_the_retry_commits(tmp_path: Path) -> None:
    db = tmp_path / "sigap.db"
    settings = settings_for(f"sqlite:///{db}", SIGAP_DATABASE_TIMEOUT="300ms")
    body = notification([alert("dinkes", "dinkes-gw"), alert("dinkes", "dinkes-sw1")])
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        # another process takes the write lock and keeps it
        locker = sqlite3.connect(db, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        try:
            async with http.post(hook.receiver, json=body, headers=HEADERS) as response:
                assert response.status == 503, await response.text()
            async with http.get(f"{hook.url}/-/healthy") as response:
                assert response.status == 200
            assert (await counts(hook.app)).alerts == 0
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        # Alertmanager retries, twice over (a timeout on its side): exactly once in the record
        for _ in range(2):
            async with http.post(hook.receiver, json=body, headers=HEADERS) as response:
                assert response.status == 200, await response.text()
        found = await counts(hook.app)
        assert found.incidents_by_skpd == {"dinkes": 1}
        assert found.alerts == found.distinct_alerts == 2


async def test_concurrent_duplicate_deliveries_on_sqlite(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'sigap.db'}")
    bodies = [
        notification([alert(f"skpd{i % 5}", f"node{i}") for _ in range(1)]) for i in range(20)
    ]
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:

        async def send(body: dict[str, object]) -> int:
            async with http.post(hook.receiver, json=body, headers=HEADERS) as response:
                return response.status

        statuses = await asyncio.gather(*(send(b) for b in bodies * 3))
        assert set(statuses) == {200}
        found = await counts(hook.app)
        assert found.incidents_by_skpd == {f"skpd{i}": 1 for i in range(5)}
        assert found.alerts == found.distinct_alerts == 20
