"""PostgreSQL, for real: two webhooks (two engines, as two processes would have) on one server
receive the same notifications concurrently; a stopped server gets 503 and the retry after the
restart commits. One incident per outage, no duplicate alerts, no 500s."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import aiohttp
import pytest

from tests.pgserver import PgServer, pgserver
from tests.webhook.reliability import (
    HEADERS,
    alert,
    counts,
    free_port,
    live_webhook,
    notification,
    settings_for,
    start_webhook,
)


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    with pgserver() as server:
        yield server


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, object]) -> int:
    async with http.post(url, json=body, headers=HEADERS) as response:
        return response.status


async def test_two_webhooks_one_postgres_same_notifications(pg: PgServer) -> None:
    url = pg.create_database("concurrent")
    settings = settings_for(url)
    # 10 SKPDs, each an outage of 3 nodes told in 3 growing notifications, then resolved
    stream = []
    for s in range(10):
        nodes = [alert(f"skpd{s}", f"skpd{s}-n{n}", start=n) for n in range(3)]
        stream += [notification(nodes[: k + 1]) for k in range(3)]
    resolved = [
        notification([alert(f"skpd{s}", f"skpd{s}-n{n}", status="resolved", start=n, end=60)
                      for n in range(3)])
        for s in range(10)
    ]  # fmt: skip
    async with (
        live_webhook(settings) as one,
        live_webhook(settings) as two,
        aiohttp.ClientSession() as http,
    ):
        # every notification to both webhooks, twice, all at once
        sends = [_post(http, hook.receiver, b) for b in stream for hook in (one, two, one, two)]
        statuses = await asyncio.gather(*sends)
        assert set(statuses) == {200}, sorted(statuses)
        found = await counts(one.app)
        assert found.incidents_by_skpd == {f"skpd{s}": 1 for s in range(10)}
        assert found.alerts == found.distinct_alerts == 30
        assert found.firing == 30

        sends = [_post(http, hook.receiver, b) for b in resolved for hook in (two, one)]
        assert set(await asyncio.gather(*sends)) == {200}
        found = await counts(two.app)
        assert found.incidents_by_skpd == {f"skpd{s}": 1 for s in range(10)}
        assert found.alerts == 30 and found.firing == 0


async def test_stopped_postgres_gets_503_and_the_retry_commits(pg: PgServer) -> None:
    url = pg.create_database("outage")
    settings = settings_for(url, SIGAP_DATABASE_TIMEOUT="2s")
    body = notification([alert("disdik", "disdik-gw")])
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        assert await _post(http, hook.receiver, body) == 200
        second = notification([alert("dinkes", "dinkes-gw")])
        pg.stop()
        try:
            assert await _post(http, hook.receiver, second) == 503
            async with http.get(f"{hook.url}/-/ready") as response:
                assert response.status == 503
            async with http.get(f"{hook.url}/-/healthy") as response:
                assert response.status == 200
        finally:
            pg.start()
        assert pg.url_for("outage") == url, "the restarted server kept its port"
        assert await _post(http, hook.receiver, second) == 200
        assert await _post(http, hook.receiver, second) == 200
        async with http.get(f"{hook.url}/-/ready") as response:
            assert response.status == 200
        found = await counts(hook.app)
        assert found.incidents_by_skpd == {"disdik": 1, "dinkes": 1}
        assert found.alerts == found.distinct_alerts == 2


async def test_two_webhook_processes_one_postgres(pg: PgServer) -> None:
    url = pg.create_database("processes")
    ports = [free_port(), free_port()]
    processes = [start_webhook(port, url) for port in ports]
    try:
        receivers = [f"http://127.0.0.1:{port}/api/v1/alertmanager" for port in ports]
        stream = [
            notification([alert(f"skpd{s}", f"skpd{s}-n{n}", start=n) for n in range(k + 1)])
            for s in range(8)
            for k in range(4)
        ]
        async with aiohttp.ClientSession() as http:
            sends = [_post(http, r, b) for b in stream for r in (*receivers, *receivers)]
            statuses = await asyncio.gather(*sends)
        assert set(statuses) == {200}, sorted(statuses)
    finally:
        for process in processes:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
    async with live_webhook(settings_for(url)) as reader:
        found = await counts(reader.app)
    assert found.incidents_by_skpd == {f"skpd{s}": 1 for s in range(8)}
    assert found.alerts == found.distinct_alerts == 32
