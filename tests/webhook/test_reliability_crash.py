"""Kill -9 the webhook in the middle of a storm sent with Alertmanager's retry behaviour (retry
anything but 2xx, connection errors included); restart it; every alert is there exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from tests.webhook.reliability import HEADERS, alert, free_port, notification, start_webhook

pytestmark = pytest.mark.e2e


async def test_kill_9_in_a_storm_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    database = tmp_path / "sigap.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/alertmanager"
    # 40 outages of 5 alerts, each told as firing, repeated, then resolved; like Alertmanager,
    # one group's notifications go one after the other, different groups concurrently
    groups = []
    for outage in range(40):
        nodes = [f"skpd{outage}-n{i}" for i in range(5)]
        firing = notification([alert(f"skpd{outage}", n, start=outage) for n in nodes])
        resolved = notification(
            [alert(f"skpd{outage}", n, status="resolved", start=outage, end=900) for n in nodes]
        )
        groups.append([firing, firing, resolved])
    total = sum(len(g) for g in groups)
    answered: list[int] = []
    quarter = asyncio.Event()
    process = start_webhook(port, f"sqlite:///{database}")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            queue: asyncio.Queue[list[dict[str, object]]] = asyncio.Queue()
            for group in groups:
                queue.put_nowait(group)

            async def deliver(body: dict[str, object]) -> None:
                while True:  # Alertmanager retries anything but 2xx
                    try:
                        async with http.post(url, json=body, headers=HEADERS) as response:
                            if 200 <= response.status < 300:
                                answered.append(response.status)
                                if len(answered) >= total // 4:
                                    quarter.set()
                                return
                    except (aiohttp.ClientError, TimeoutError):
                        pass
                    await asyncio.sleep(0.05)

            async def sender() -> None:
                while not queue.empty():
                    for body in queue.get_nowait():
                        await deliver(body)

            senders = [asyncio.create_task(sender()) for _ in range(10)]
            await quarter.wait()
            os.kill(process.pid, signal.SIGKILL)  # in the middle of the storm
            process.wait()
            killed_after = len(answered)
            process = start_webhook(port, f"sqlite:///{database}")
            await asyncio.wait_for(asyncio.gather(*senders), timeout=120)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    assert killed_after < total
    with closing(sqlite3.connect(database)) as db:
        alerts, distinct, firing = db.execute(
            "SELECT count(*), count(DISTINCT fingerprint || starts_at), "
            "sum(status = 'firing') FROM alert"
        ).fetchone()
        incidents = dict(db.execute("SELECT skpd, count(*) FROM incident GROUP BY skpd"))
        raw = db.execute("SELECT count(*) FROM raw_notification").fetchone()[0]
    assert alerts == distinct == 200
    assert firing == 0
    assert incidents == {f"skpd{o}": 1 for o in range(40)}
    assert raw >= total
