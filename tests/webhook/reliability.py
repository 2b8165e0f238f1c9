"""Helpers of the webhook's reliability tests: a live webhook on an OS-chosen port, payloads, and
counts read straight from the database (what is committed, not what the API says)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from exporter.clock import Clock, Sleep, system_clock
from webhook.settings import Settings, load_settings
from webhook.store.models import Alert, Incident
from webhook.web.app import create_app
from webhook.web.keys import DATABASE

TESTS = Path(__file__).resolve().parents[1]

TOKEN = "am-secret-token"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_for(database_url: str, **env: str) -> Settings:
    return load_settings(
        env={
            "SIGAP_DATABASE_URL": database_url,
            "SIGAP_ALERTMANAGER_TOKEN": TOKEN,
            "SIGAP_SECRET_KEY": "test-secret",
            "SIGAP_PING_CHECK": "false",
            **env,
        }
    )


def start_webhook(port: int, database_url: str) -> subprocess.Popen[bytes]:
    """`sigap-webhook` as its own process on `port` (ends: by its PID, in the test)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS.parent),
        "SIGAP_DATABASE_URL": database_url,
        "SIGAP_ALERTMANAGER_TOKEN": TOKEN,
        "SIGAP_SECRET_KEY": "test",
        "SIGAP_PING_CHECK": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "webhook.cli", "--web.listen-address", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1):
                return process
        except OSError:
            assert process.poll() is None, "the webhook exited"
            time.sleep(0.05)
    raise AssertionError("the webhook did not become ready")


@dataclass
class LiveWebhook:
    app: web.Application
    url: str

    @property
    def receiver(self) -> str:
        return f"{self.url}/api/v1/alertmanager"


@asynccontextmanager
async def live_webhook(
    settings: Settings, clock: Clock = system_clock, sleep: Sleep = asyncio.sleep
) -> AsyncIterator[LiveWebhook]:
    """The real app on a real socket (what Alertmanager and a second process would talk to),
    on `clock`, its leader's loops waiting with `sleep`."""
    app = create_app(settings, CollectorRegistry(), clock, sleep)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield LiveWebhook(app, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


def alert(
    skpd: str,
    node: str,
    *,
    status: str = "firing",
    start: int = 0,
    end: int | None = None,
    alertname: str = "SigapUplinkDown",
) -> dict[str, Any]:
    """One alert as Alertmanager posts it; `start`/`end` in seconds after T0."""
    starts = T0 + timedelta(seconds=start)
    ends = T0 + timedelta(seconds=end) if end is not None else None
    return {
        "status": status,
        "labels": {
            "alertname": alertname,
            "skpd": skpd,
            "node": node,
            "severity": "critical",
            "responsibility": "diskominfo",
        },
        "annotations": {"summary": f"{node} down"},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": (ends.isoformat().replace("+00:00", "Z") if ends else "0001-01-01T00:00:00Z"),
        "generatorURL": "http://prometheus/graph",
        "fingerprint": hashlib.sha256(f"{alertname}/{skpd}/{node}".encode()).hexdigest()[:16],
    }


def notification(alerts: Iterable[dict[str, Any]], *, truncated: int = 0) -> dict[str, Any]:
    items = list(alerts)
    skpd = items[0]["labels"]["skpd"]
    firing = any(a["status"] == "firing" for a in items)
    return {
        "version": "4",
        "receiver": "sigap",
        "status": "firing" if firing else "resolved",
        "groupKey": f'{{}}:{{skpd="{skpd}"}}',
        "truncatedAlerts": truncated,
        "groupLabels": {"skpd": skpd},
        "commonLabels": {"skpd": skpd},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": items,
    }


HEADERS = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Counts:
    incidents_by_skpd: dict[str, int]
    alerts: int
    distinct_alerts: int
    firing: int


async def counts(app: web.Application) -> Counts:
    async with app[DATABASE].read() as session:
        rows = await session.execute(select(Incident.skpd, func.count()).group_by(Incident.skpd))
        by_skpd = {skpd: n for skpd, n in rows}
        total = await session.scalar(select(func.count()).select_from(Alert))
        distinct = await session.scalar(
            select(func.count()).select_from(
                select(Alert.fingerprint, Alert.starts_at).distinct().subquery()
            )
        )
        firing = await session.scalar(
            select(func.count()).select_from(Alert).where(Alert.status == "firing")
        )
    return Counts(by_skpd, total or 0, distinct or 0, firing or 0)
