"""Two Alertmanagers, one webhook: real `prometheus-alertmanager` processes on loopback, in a
cluster (gossip) or partitioned, notifying the real webhook.

- Reconciliation asks every Alertmanager and resolves only what none of them holds; when one
  cannot be asked it resolves nothing that round; no answer ends its loop.
- Both Alertmanagers notifying one outage with different `startsAt` (the two Prometheus saw
  the fault seconds apart) make one incident, one line on the timeline each way, and the
  incident recovers when the surviving Alertmanager resolves it, even if the other died.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from tests.webhook.reliability import (
    HEADERS,
    TOKEN,
    alert,
    free_port,
    live_webhook,
    notification,
    settings_for,
)
from webhook.core.grouping import Windows
from webhook.services.leadership import Leadership
from webhook.services.metrics import WebhookMetrics
from webhook.services.reconcile import (
    AlertmanagerUnreadable,
    fingerprints_of,
    held_anywhere,
    reconcile_forever,
    reconcile_once,
)
from webhook.settings import SettingsError, load_settings
from webhook.store.models import Alert, Event, Incident
from webhook.web.keys import DATABASE

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
needs_alertmanager = pytest.mark.skipif(
    ALERTMANAGER is None, reason="Debian prometheus-alertmanager not installed"
)
WINDOWS = Windows(transient=timedelta(seconds=1), reopen=timedelta(seconds=1))

CONFIG = """
route:
  receiver: sigap
  group_by: [skpd]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: sigap
    webhook_configs:
      - url: {url}
        send_resolved: true
        http_config:
          authorization:
            credentials: {token}
"""


# --- settings and answers, no process --------------------------------------------------------


def test_alertmanager_url_takes_one_or_a_list_and_names_the_variable(tmp_path: Path) -> None:
    one = load_settings(env={"SIGAP_ALERTMANAGER_URL": "http://am:9093/"})
    assert one.alertmanager_urls == ("http://am:9093",)
    two = load_settings(env={"SIGAP_ALERTMANAGER_URL": "http://am-a:9093, http://am-b:9093"})
    assert two.alertmanager_urls == ("http://am-a:9093", "http://am-b:9093")
    assert load_settings(env={}).alertmanager_urls == ()
    with pytest.raises(SettingsError, match=r"SIGAP_ALERTMANAGER_URL: .*'am-b:9093' is not an"):
        load_settings(env={"SIGAP_ALERTMANAGER_URL": "http://am-a:9093,am-b:9093"})
    with pytest.raises(SettingsError, match=r"SIGAP_ALERTMANAGER_URL: .*twice"):
        load_settings(env={"SIGAP_ALERTMANAGER_URL": "http://am:9093,http://am:9093/"})
    file = tmp_path / "webhook.yml"
    file.write_text("alertmanager_url: [http://am-a:9093, http://am-b:9093]\n")
    assert load_settings(str(file), env={}).alertmanager_urls == two.alertmanager_urls


def test_an_answer_that_is_not_a_list_of_alerts_is_named() -> None:
    assert fingerprints_of([{"fingerprint": "a1"}, {"fingerprint": "b2"}], "u") == {"a1", "b2"}
    for body, why in [
        ({"alerts": []}, "expected a list of alerts, got dict"),
        ("maintenance", "expected a list of alerts, got str"),
        ([{"fingerprint": "a1"}, {"labels": {}}], "alert 1 has no fingerprint"),
        ([["a1"]], "alert 0 has no fingerprint"),
    ]:
        with pytest.raises(AlertmanagerUnreadable, match=f"http://am:9093: {why}"):
            fingerprints_of(body, "http://am:9093")


@contextlib.asynccontextmanager
async def _server(answers: list[Any]) -> AsyncIterator[str]:
    """An HTTP server answering GET /api/v2/alerts with `answers` in turn (then the last)."""

    async def alerts(request: web.Request) -> web.Response:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return web.json_response(answer)

    app = web.Application()
    app.router.add_get("/api/v2/alerts", alerts)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_the_loop_outlives_surprising_answers(tmp_path: Path) -> None:
    """Issue 12: an answer that is JSON but no list ended the reconcile task for good."""
    settings = settings_for(f"sqlite:///{tmp_path / 'sigap.db'}")
    async with live_webhook(settings) as hook, _server([{"oops": 1}, "x", [None], []]) as url:
        database = hook.app[DATABASE]
        metrics = WebhookMetrics(registry := CollectorRegistry())
        leadership = Leadership(database)
        leading = asyncio.create_task(leadership.run())
        loop = asyncio.create_task(
            reconcile_forever(database, [url], 0.05, WINDOWS, metrics, leadership)
        )
        try:
            await _until(
                lambda: _value(registry, "ok") >= 2 and _value(registry, "error") >= 3, within=10
            )
            assert not loop.done()
        finally:
            for task in (loop, leading):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


# --- real Alertmanagers ----------------------------------------------------------------------


class Alertmanager:
    """One `prometheus-alertmanager`; `peers`: the cluster addresses it joins (none: alone)."""

    def __init__(self, workdir: Path, name: str, webhook: str, cluster: bool = True) -> None:
        self.workdir = workdir / name
        self.workdir.mkdir()
        self.name = name
        self.url = f"http://127.0.0.1:{free_port()}"
        self.gossip = f"127.0.0.1:{free_port()}" if cluster else ""
        (self.workdir / "alertmanager.yml").write_text(CONFIG.format(url=webhook, token=TOKEN))
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self, peers: Sequence[Alertmanager] = ()) -> Alertmanager:
        """Start with empty storage (what a replaced or wiped Alertmanager knows: nothing)."""
        assert ALERTMANAGER is not None
        self.runs += 1
        argv = [
            ALERTMANAGER,
            f"--config.file={self.workdir / 'alertmanager.yml'}",
            f"--storage.path={self.workdir / f'data{self.runs}'}",
            f"--web.listen-address={self.url.removeprefix('http://')}",
            f"--cluster.listen-address={self.gossip}",
        ]
        if self.gossip:
            argv += [f"--cluster.advertise-address={self.gossip}", "--cluster.peer-timeout=2s"]
            argv += [f"--cluster.peer={peer.gossip}" for peer in peers]
        log = (self.workdir / f"run{self.runs}.log").open("wb")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/-/ready", timeout=1),
            ):
                return self
            assert self.process.poll() is None, (self.workdir / f"run{self.runs}.log").read_text()
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    async def post(self, http: aiohttp.ClientSession, *alerts: dict[str, Any]) -> None:
        async with http.post(f"{self.url}/api/v2/alerts", json=list(alerts)) as response:
            assert response.status == 200, await response.text()

    async def peers(self, http: aiohttp.ClientSession) -> int:
        async with http.get(f"{self.url}/api/v2/status") as response:
            return len((await response.json())["cluster"].get("peers") or [])


def _alert(
    skpd: str, node: str, started: datetime, ended: datetime | None = None
) -> dict[str, Any]:
    """An alert as Prometheus posts it (the `replica` label already dropped)."""
    return {
        "labels": {
            "alertname": "SigapUplinkDown",
            "skpd": skpd,
            "node": node,
            "severity": "critical",
            "responsibility": "diskominfo",
        },
        "annotations": {"summary": f"{node} tidak menjawab ping"},
        "startsAt": started.isoformat(),
        "endsAt": (ended or datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "generatorURL": "http://prometheus/graph",
    }


async def test_reconcile_asks_every_member_of_the_cluster(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'sigap.db'}")
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        database = hook.app[DATABASE]
        a = Alertmanager(tmp_path, "a", hook.receiver).start()
        b = Alertmanager(tmp_path, "b", hook.receiver)
        try:
            b.start([a])
            await _until_async(lambda: _equals(a.peers(http), 2), within=20)
            t0 = datetime.now(UTC) - timedelta(seconds=40)
            # each member heard a different outage (its Prometheus' notification to the other
            # was lost), and the webhook holds a third that no Alertmanager knows any more
            await a.post(http, _alert("dinkes", "uplink-dinkes", t0))
            await b.post(http, _alert("disdik", "gw-disdik", t0))
            forgotten = notification([alert("setda", "uplink-setda")])
            async with http.post(hook.receiver, json=forgotten, headers=HEADERS) as response:
                assert response.status == 200
            await _until_async(lambda: _firing_count(database, 3), within=20)

            urls = [a.url, b.url]
            asked_at = datetime.now(UTC)
            held = await held_anywhere(http, urls)
            assert len(held) == 2
            assert await reconcile_once(database, held, asked_at, WINDOWS) == 1
            assert await _firing(database) == {"uplink-dinkes", "gw-disdik"}

            # one member cannot be asked: nothing is resolved, and the error names it
            b.kill()
            with pytest.raises(AlertmanagerUnreadable, match=b.url.removeprefix("http://")):
                await held_anywhere(http, urls)
            # ... it comes back empty (a replaced container): its outage is forgotten by all
            b.start([a])
            asked_at = datetime.now(UTC)
            held = await held_anywhere(http, urls)
            assert await reconcile_once(database, held, asked_at, WINDOWS) == 1
            assert await _firing(database) == {"uplink-dinkes"}
        finally:
            a.kill()
            b.kill()


async def test_both_alertmanagers_notify_one_outage_one_incident(tmp_path: Path) -> None:
    """A partition: both Alertmanagers notify, each with the startsAt of the Prometheus it
    heard. One incident, one firing and one resolved line; the member that notified second
    dies, and the survivor's resolution ends both copies at the outage's real end."""
    settings = settings_for(f"sqlite:///{tmp_path / 'sigap.db'}", SIGAP_TRANSIENT_WINDOW="1s")
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        database = hook.app[DATABASE]
        a = Alertmanager(tmp_path, "a", hook.receiver, cluster=False).start()
        b = Alertmanager(tmp_path, "b", hook.receiver, cluster=False).start()
        try:
            t0 = (datetime.now(UTC) - timedelta(seconds=60)).replace(microsecond=0)
            await a.post(http, _alert("dinkes", "uplink-dinkes", t0))
            await _until_async(lambda: _firing_count(database, 1), within=20)
            await b.post(http, _alert("dinkes", "uplink-dinkes", t0 + timedelta(seconds=3)))
            await _until_async(lambda: _firing_count(database, 2), within=20)
            b.kill()
            ended = t0 + timedelta(seconds=50)
            await a.post(http, _alert("dinkes", "uplink-dinkes", t0, ended))

            async def recovered() -> bool:
                async with database.read() as session:
                    found = await session.scalar(select(Incident.recovered_at))
                return found is not None

            await _until_async(recovered, within=20)
            async with database.read() as session:
                incidents = (await session.scalars(select(Incident))).all()
                alerts = (await session.scalars(select(Alert))).all()
                events = (await session.scalars(select(Event.kind).order_by(Event.id))).all()
            assert len(incidents) == 1
            assert incidents[0].responsibility == "diskominfo"
            assert incidents[0].recovered_at == ended
            assert len({a.fingerprint for a in alerts}) == 1
            assert sorted(a.starts_at for a in alerts) == [t0, t0 + timedelta(seconds=3)]
            assert {(a.status, a.resolved_by, a.ends_at) for a in alerts} == {
                ("resolved", "alertmanager", ended)
            }
            assert events.count("alert_firing") == 1
            assert events.count("alert_resolved") == 1
            assert events.count("opened") == 1
        finally:
            a.kill()
            b.kill()


# --- helpers ---------------------------------------------------------------------------------


def _value(registry: CollectorRegistry, result: str) -> float:
    found = registry.get_sample_value("sigap_webhook_reconcile_runs_total", {"result": result})
    return found or 0.0


async def _until(check: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within} s")
        await asyncio.sleep(0.05)


async def _until_async(check: Callable[[], Awaitable[bool]], within: float) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within} s")
        await asyncio.sleep(0.2)


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def _firing(database: Any) -> set[str]:
    async with database.read() as session:
        rows = await session.scalars(select(Alert.labels).where(Alert.status == "firing"))
        return {labels["node"] for labels in rows}


async def _firing_count(database: Any, expected: int) -> bool:
    async with database.read() as session:
        rows = (await session.scalars(select(Alert.id).where(Alert.status == "firing"))).all()
    return len(rows) == expected
