"""The real Alertmanager (Debian `prometheus-alertmanager`) posting to the real webhook: it
groups by SKPD, repeats, truncates with `max_alerts`, resolves; and when it restarts and forgets
its alerts, the reconcile loop resolves them in SIGAP."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from tests.webhook.reliability import TOKEN, free_port, live_webhook, settings_for
from webhook.core.workflow import State
from webhook.store.models import Alert, Incident, RawNotification
from webhook.web.keys import DATABASE

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(ALERTMANAGER is None, reason="Debian prometheus-alertmanager not installed"),
]

CONFIG = """
route:
  receiver: sigap
  group_by: [skpd]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: sigap
    webhook_configs:
      - url: {url}
        send_resolved: true
        max_alerts: 2
        http_config:
          authorization:
            credentials: {token}
"""


class Alertmanager:
    """One Alertmanager process; `restart(forget=True)` starts it again with empty storage."""

    def __init__(self, workdir: Path, webhook_url: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "alertmanager.yml"
        self.config.write_text(CONFIG.format(url=webhook_url, token=TOKEN))
        self.process: subprocess.Popen[bytes] | None = None
        self.generation = 0

    def start(self) -> None:
        self.generation += 1
        storage = self.workdir / f"data{self.generation}"
        storage.mkdir()
        assert ALERTMANAGER is not None
        self.process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={self.config}",
                f"--storage.path={storage}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / f"am{self.generation}.log", "wb"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Alertmanager did not start: {self.workdir}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        self.process = None


def _alert(skpd: str, node: str, ends_in: float) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "labels": {
            "alertname": "SigapUplinkDown",
            "skpd": skpd,
            "node": node,
            "severity": "critical",
            "responsibility": "diskominfo",
        },
        "annotations": {"summary": f"{node} tidak dapat dijangkau"},
        "startsAt": (now - timedelta(seconds=30)).isoformat(),
        "endsAt": (now + timedelta(seconds=ends_in)).isoformat(),
        "generatorURL": "http://prometheus.test/graph",
    }


async def _until(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within}s")
        await asyncio.sleep(0.2)


async def test_real_alertmanager_groups_truncates_resolves_and_forgets(tmp_path: Path) -> None:
    port_holder = Alertmanager(tmp_path, "placeholder")  # fixes Alertmanager's port first
    settings = settings_for(
        f"sqlite:///{tmp_path / 'sigap.db'}",
        SIGAP_ALERTMANAGER_URL=port_holder.url,
        SIGAP_RECONCILE_INTERVAL="1s",
    )
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        am = port_holder
        am.config.write_text(CONFIG.format(url=hook.receiver, token=TOKEN))
        am.start()
        try:
            database = hook.app[DATABASE]

            async def incident(skpd: str) -> Incident | None:
                async with database.read() as session:
                    return await session.scalar(select(Incident).where(Incident.skpd == skpd))

            async def n_alerts(skpd: str) -> int:
                async with database.read() as session:
                    return int(
                        await session.scalar(
                            select(func.count())
                            .select_from(Alert)
                            .where(Alert.labels["skpd"].as_string() == skpd)
                        )
                        or 0
                    )

            async def n_raw() -> int:
                async with database.read() as session:
                    return int(
                        await session.scalar(select(func.count()).select_from(RawNotification)) or 0
                    )

            # three nodes of one SKPD down: one group, truncated to 2 alerts; one of another SKPD
            dinkes = [_alert("dinkes", f"dinkes-{n}", 3600) for n in ("gw", "sw1", "sw2")]
            disdik = [_alert("disdik", "disdik-gw", 3600)]
            async with http.post(f"{am.url}/api/v2/alerts", json=dinkes + disdik) as response:
                assert response.status == 200, await response.text()

            async def opened() -> bool:
                one, two = await incident("dinkes"), await incident("disdik")
                return one is not None and two is not None and one.truncated_alerts == 1

            await _until(opened)
            assert await n_alerts("dinkes") == 2
            raw_after_first = await n_raw()
            await _until(lambda: _more(n_raw, raw_after_first + 2))  # repeats arrive...
            assert await n_alerts("dinkes") == 2  # ...and change nothing
            async with database.read() as session:
                assert await session.scalar(select(func.count()).select_from(Incident)) == 2

            # Alertmanager resolves disdik's alert itself (send_resolved)
            resolved = [_alert("disdik", "disdik-gw", -1)]
            async with http.post(f"{am.url}/api/v2/alerts", json=resolved) as response:
                assert response.status == 200

            async def disdik_recovered() -> bool:
                found = await incident("disdik")
                return found is not None and found.recovered_at is not None

            await _until(disdik_recovered)
            found = await incident("disdik")
            assert found is not None and found.state == State.TRANSIENT.value

            # Alertmanager restarts with empty storage: dinkes' alerts are never resolved by it
            am.stop()
            am.start()

            async def dinkes_recovered() -> bool:
                found = await incident("dinkes")
                return found is not None and found.recovered_at is not None

            await _until(dinkes_recovered)
            async with database.read() as session:
                rows = (await session.scalars(select(Alert).where(Alert.status == "firing"))).all()
                assert rows == []
                by = set(
                    (
                        await session.scalars(
                            select(Alert.resolved_by).where(
                                Alert.labels["skpd"].as_string() == "dinkes"
                            )
                        )
                    ).all()
                )
                assert by == {"reconcile"}
        finally:
            am.stop()


async def _more(count: Callable[[], Awaitable[int]], at_least: int) -> bool:
    return await count() >= at_least
