"""Maintenance windows against the real Debian `prometheus-alertmanager` on loopback and the real
webhook: a plan made through the API becomes a silence Alertmanager applies to the SKPD's alerts,
a change replaces it, a cancel expires it; a plan made while Alertmanager is down says so and is
put in place by the leader's retry once Alertmanager is back, each failed request counted on
/metrics. An alert that reaches the webhook inside a window opens a planned incident; /metrics
shows the running window; the CLI plans too.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families

from tests.webhook.reliability import HEADERS, TESTS, live_webhook, notification, settings_for
from tests.webhook.test_ha_reconcile import Alertmanager, needs_alertmanager
from webhook.core.credentials import hash_token
from webhook.services.silences import Silences
from webhook.store.models import ApiToken, User
from webhook.web.keys import DATABASE, RESOURCES

pytestmark = needs_alertmanager


async def _token(app: Any, name: str, role: str) -> dict[str, str]:
    now = datetime.now(UTC)
    async with app[DATABASE].write() as session:
        user = User(name=name, role=role, skpds=[], active=True, created_at=now)
        session.add(user)
        await session.flush()
        session.add(ApiToken(user_id=user.id, token_hash=hash_token(name), created_at=now))
    return {"Authorization": f"Bearer {name}"}


async def requests(http: aiohttp.ClientSession, url: str) -> dict[tuple[str, str], float]:
    """`sigap_maintenance_silence_requests_total` as /metrics shows it, read by the Prometheus
    text parser."""
    async with http.get(f"{url}/metrics") as response:
        families = text_string_to_metric_families(await response.text())
    return {
        (sample.labels["operation"], sample.labels["result"]): sample.value
        for family in families
        for sample in family.samples
        if sample.name == "sigap_maintenance_silence_requests_total"
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()


async def _silence(http: aiohttp.ClientSession, am: Alertmanager, sid: str) -> dict[str, Any]:
    async with http.get(f"{am.url}/api/v2/silence/{sid}") as response:
        assert response.status == 200
        return dict(await response.json())


async def test_a_plan_is_a_silence_that_follows_its_changes_and_its_cancelling(
    tmp_path: Path,
) -> None:
    am = Alertmanager(tmp_path, "am", "http://127.0.0.1:9/none", cluster=False).start()
    settings = settings_for(f"sqlite:///{tmp_path / 'sigap.db'}", SIGAP_ALERTMANAGER_URL=am.url)
    try:
        async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
            boss = await _token(hook.app, "koordinator", "coordinator")
            staff = await _token(hook.app, "sari", "staff")
            now = datetime.now(UTC)
            plan = {
                "skpd": "dinkes",
                "starts_at": _iso(now),
                "ends_at": _iso(now + timedelta(hours=2)),
                "reason": "ganti switch lantai 2",
            }
            api = f"{hook.url}/api/v1/maintenance"
            async with http.post(api, json=plan, headers=staff) as response:
                assert response.status == 403
            async with http.post(api, json={**plan, "ends_at": _iso(now)}, headers=boss) as r:
                assert r.status == 422 and "ends_at" in (await r.json())["error"]
            async with http.post(api, json=plan, headers=boss) as response:
                assert response.status == 201, await response.text()
                made = await response.json()
            assert made["sync_state"] == "synced" and made["sync_error"] is None
            sid = made["silence_ids"][am.url]
            silence = await _silence(http, am, sid)
            assert silence["status"]["state"] == "active"
            assert silence["createdBy"] == "sigap"
            assert f"#{made['id']}" in silence["comment"] and "ganti switch" in silence["comment"]
            assert silence["matchers"] == [
                {"name": "skpd", "value": "dinkes", "isRegex": False, "isEqual": True}
            ]

            # Alertmanager applies it: the SKPD's alert is silenced, another SKPD's is not
            alerts = [
                {"labels": {"alertname": "SigapUplinkDown", "skpd": s, "node": f"gw-{s}"}}
                for s in ("dinkes", "dishub")
            ]
            async with http.post(f"{am.url}/api/v2/alerts", json=alerts) as response:
                assert response.status == 200
            async with http.get(f"{am.url}/api/v2/alerts") as response:
                held = {a["labels"]["skpd"]: a["status"] for a in await response.json()}
            assert held["dinkes"]["silencedBy"] == [sid]
            assert held["dishub"]["silencedBy"] == []

            # shortened to some nodes: the silence changes with it
            change = {"ends_at": _iso(now + timedelta(hours=1)), "nodes": ["gw.dinkes"]}
            async with http.patch(f"{api}/{made['id']}", json=change, headers=boss) as r:
                assert r.status == 200, await r.text()
                changed = await r.json()
            assert changed["sync_state"] == "synced"
            silence = await _silence(http, am, changed["silence_ids"][am.url])
            assert silence["status"]["state"] == "active"
            assert silence["matchers"][1]["value"] == r"gw\.dinkes"
            ends = datetime.fromisoformat(silence["endsAt"].replace("Z", "+00:00"))
            assert abs(ends - (now + timedelta(hours=1))) < timedelta(seconds=1)
            if changed["silence_ids"][am.url] != sid:  # replaced, not updated in place
                assert (await _silence(http, am, sid))["status"]["state"] == "expired"

            async with http.get(api, headers=staff) as response:
                listed = (await response.json())["maintenance"]
            assert [p["id"] for p in listed] == [made["id"]]
            async with http.get(f"{hook.url}/metrics") as response:
                assert 'sigap_maintenance_active{skpd="dinkes"} 1.0' in await response.text()

            async with http.delete(f"{api}/{made['id']}", headers=boss) as response:
                assert response.status == 200
                cancelled = await response.json()
            assert cancelled["cancelled_at"] and cancelled["silence_ids"] == {}
            silence = await _silence(http, am, changed["silence_ids"][am.url])
            assert silence["status"]["state"] == "expired"
            assert await requests(http, hook.url) == {
                ("create", "ok"): 2,  # the plan and its change
                ("create", "error"): 0,
                ("expire", "ok"): 1,
                ("expire", "error"): 0,
            }
            async with http.delete(f"{api}/{made['id']}", headers=boss) as response:
                assert response.status == 409
            async with http.get(api, headers=staff) as response:
                assert (await response.json())["maintenance"] == []
    finally:
        am.kill()


async def _plan_in_ten_minutes(
    http: aiohttp.ClientSession, url: str, boss: dict[str, str], reason: str
) -> dict[str, Any]:
    """A window for dishub from 10 minutes to an hour from now, made through the API."""
    now = datetime.now(UTC)
    plan = {
        "skpd": "dishub",
        "starts_at": _iso(now + timedelta(minutes=10)),
        "ends_at": _iso(now + timedelta(hours=1)),
        "reason": reason,
    }
    async with http.post(f"{url}/api/v1/maintenance", json=plan, headers=boss) as response:
        assert response.status == 201
        return dict(await response.json())


async def test_a_plan_made_while_alertmanager_is_down_is_put_in_place_when_it_is_back(
    tmp_path: Path,
) -> None:
    am = Alertmanager(tmp_path, "am", "http://127.0.0.1:9/none", cluster=False)
    settings = settings_for(f"sqlite:///{tmp_path / 'sigap.db'}", SIGAP_ALERTMANAGER_URL=am.url)
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        boss = await _token(hook.app, "koordinator", "coordinator")
        made = await _plan_in_ten_minutes(http, hook.url, boss, "pemadaman listrik PLN")
        assert made["sync_state"] == "failed" and am.url in made["sync_error"]
        assert await requests(http, hook.url) == {
            ("create", "error"): 1,
            ("create", "ok"): 0,
            ("expire", "error"): 0,
            ("expire", "ok"): 0,
        }
        # still down at the leader's retry: counted again, so an alert on the rate sees it
        assert await hook.app[RESOURCES].silences.sync_unsynced(datetime.now(UTC)) == 1
        assert (await requests(http, hook.url))["create", "error"] == 2
        try:
            am.start()
            # the leader's round (every 30 s in the service; here called at once)
            assert await hook.app[RESOURCES].silences.sync_unsynced(datetime.now(UTC)) == 1
            counted = await requests(http, hook.url)
            assert counted["create", "ok"] == 1 and counted["create", "error"] == 2
            async with http.get(f"{hook.url}/api/v1/maintenance", headers=boss) as r:
                (plan_now,) = (await r.json())["maintenance"]
            assert plan_now["sync_state"] == "synced"
            silence = await _silence(http, am, plan_now["silence_ids"][am.url])
            assert silence["status"]["state"] == "pending"  # it starts in 10 minutes
            assert await hook.app[RESOURCES].silences.sync_unsynced(datetime.now(UTC)) == 0
        finally:
            am.kill()


async def test_an_alert_inside_a_window_opens_a_planned_incident(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'sigap.db'}")
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        boss = await _token(hook.app, "koordinator", "coordinator")
        now = datetime.now(UTC)
        plan = {
            "skpd": "dinkes",
            "nodes": "sw-dinkes",
            "starts_at": _iso(now - timedelta(minutes=1)),
            "ends_at": _iso(now + timedelta(hours=1)),
            "reason": "ganti switch",
        }
        async with http.post(f"{hook.url}/api/v1/maintenance", json=plan, headers=boss) as r:
            assert r.status == 201
            assert (await r.json())["sync_state"] == "none"  # no Alertmanager configured

        def firing(skpd: str, node: str) -> dict[str, Any]:
            return {
                "status": "firing",
                "labels": {"alertname": "SigapNodeDown", "skpd": skpd, "node": node},
                "annotations": {"summary": f"{node} down"},
                "startsAt": _iso(now),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": f"fp-{skpd}-{node}",
            }

        for skpd, node in (("dinkes", "sw-dinkes"), ("dishub", "sw-dishub")):
            body = notification([firing(skpd, node)])
            async with http.post(
                f"{hook.url}/api/v1/alertmanager", json=body, headers=HEADERS
            ) as r:
                assert r.status == 200, await r.text()
        async with http.get(f"{hook.url}/api/v1/incidents", headers=boss) as r:
            by_skpd = {i["skpd"]: i["planned"] for i in (await r.json())["incidents"]}
        assert by_skpd == {"dinkes": True, "dishub": False}


def test_the_cli_plans_lists_and_cancels(tmp_path: Path) -> None:
    import os

    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS.parent),
        "SIGAP_DATABASE_URL": f"sqlite:///{tmp_path / 'sigap.db'}",
        "SIGAP_SECRET_KEY": "test",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "webhook.cli", "maintenance", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    start = datetime.now(UTC).astimezone().replace(second=0, microsecond=0) + timedelta(hours=1)
    done = cli(
        "add",
        "dinkes",
        "--start",
        start.isoformat(),
        "--end",
        (start + timedelta(hours=2)).isoformat(),
        "--reason",
        "kabel FO",
        "--node",
        "gw-dinkes",
    )
    assert done.returncode == 0, done.stderr
    assert "maintenance window 1 planned" in done.stdout
    listed = cli("list").stdout
    assert "dinkes\tgw-dinkes" in listed and "kabel FO" in listed
    bad = cli(
        "add", "dinkes", "--start", "2026-11-03T22:00", "--end", "2026-11-03T21:00", "--reason", "x"
    )
    assert bad.returncode == 1 and "ends_at" in bad.stderr
    assert "cancelled" in cli("cancel", "1").stdout
    assert "kabel FO" not in cli("list").stdout


async def test_two_replicas_syncing_one_plan_leave_one_silence(tmp_path: Path) -> None:
    """A save on one replica and the leader's round on another sync the same plan at once: both
    create a silence, the first recorded stands and the other is expired at once (left, it
    would keep silencing the SKPD after the plan is cancelled)."""
    am = Alertmanager(tmp_path, "am", "http://127.0.0.1:9/none", cluster=False)
    settings = settings_for(f"sqlite:///{tmp_path / 'sigap.db'}", SIGAP_ALERTMANAGER_URL=am.url)
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        boss = await _token(hook.app, "koordinator", "coordinator")
        now = datetime.now(UTC)
        # Alertmanager is down: not in place yet
        made = await _plan_in_ten_minutes(http, hook.url, boss, "ganti router")
        registry = CollectorRegistry()
        counted = Counter("requests", "", ["operation", "result"], registry=registry)
        other = Silences(hook.app[DATABASE], [am.url], counted)  # the second replica's
        try:
            am.start()
            errors = await asyncio.gather(
                hook.app[RESOURCES].silences.sync(made["id"], now), other.sync(made["id"], now)
            )
            assert errors == [None, None]
            async with http.get(f"{hook.url}/api/v1/maintenance", headers=boss) as r:
                (plan_now,) = (await r.json())["maintenance"]
            async with http.get(f"{am.url}/api/v2/silences") as r:
                silences = await r.json()
            assert len(silences) == 2, "both replicas made one"
            live = [s for s in silences if s["status"]["state"] != "expired"]
            assert [s["id"] for s in live] == [plan_now["silence_ids"][am.url]]
            cancel = f"{hook.url}/api/v1/maintenance/{made['id']}"
            async with http.delete(cancel, headers=boss) as r:
                assert r.status == 200
            async with http.get(f"{am.url}/api/v2/silences") as r:
                assert all(s["status"]["state"] == "expired" for s in await r.json())
        finally:
            am.kill()
