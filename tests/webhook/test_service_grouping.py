"""Grouping through the real receiver: one incident per outage of one SKPD, recovered but open
for the SOP, transient when short and unconfirmed, reopened within the window, repeats change
nothing, and a resolution for an alert never seen firing is accepted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from tests.webhook.reliability import (
    HEADERS,
    LiveWebhook,
    alert,
    live_webhook,
    notification,
    settings_for,
)
from webhook.core.workflow import State
from webhook.store.models import Alert, Event, Incident
from webhook.web.keys import DATABASE


def now_alert(skpd: str, node: str, *, resolved: bool = False, ago: float = 60) -> dict[str, Any]:
    """An alert that started `ago` seconds before now (and, resolved, ended now)."""
    body = alert(skpd, node, status="resolved" if resolved else "firing")
    now = datetime.now(UTC)
    body["startsAt"] = (now - timedelta(seconds=ago)).isoformat()
    if resolved:
        body["endsAt"] = now.isoformat()
    return body


async def post(http: aiohttp.ClientSession, hook: LiveWebhook, *alerts: dict[str, Any]) -> None:
    async with http.post(hook.receiver, json=notification(alerts), headers=HEADERS) as response:
        assert response.status == 200, await response.text()


async def incidents(hook: LiveWebhook) -> list[Incident]:
    async with hook.app[DATABASE].read() as session:
        return list(await session.scalars(select(Incident).order_by(Incident.id)))


async def n_events(hook: LiveWebhook) -> int:
    async with hook.app[DATABASE].read() as session:
        return int(await session.scalar(select(func.count()).select_from(Event)) or 0)


async def test_short_unconfirmed_outage_closes_as_transient_and_reopens(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 's.db'}")
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        first, second = now_alert("dinkes", "dinkes-gw"), now_alert("dinkes", "dinkes-sw1")
        await post(http, hook, first)
        await post(http, hook, first, second)  # the group grows
        (incident,) = await incidents(hook)
        assert incident.state == State.OPENED.value and incident.recovered_at is None
        before = await n_events(hook)
        await post(http, hook, first, second)  # a repeat
        assert await n_events(hook) == before

        resolved = [now_alert("dinkes", n, resolved=True) for n in ("dinkes-gw", "dinkes-sw1")]
        for a, b in zip(resolved, (first, second), strict=True):
            a["startsAt"] = b["startsAt"]
        await post(http, hook, *resolved)
        (incident,) = await incidents(hook)
        assert incident.recovered_at is not None
        assert incident.state == State.TRANSIENT.value and incident.closed_at is not None

        # the same SKPD fires again within the reopen window: the same incident, reopened
        await post(http, hook, now_alert("dinkes", "dinkes-gw", ago=1))
        (incident,) = await incidents(hook)
        assert incident.state == State.OPENED.value
        assert incident.recovered_at is None and incident.closed_at is None
        async with hook.app[DATABASE].read() as session:
            kinds = list(
                await session.scalars(select(Event.kind).where(Event.incident_id == incident.id))
            )
        assert "reopen" in kinds and "close_transient" in kinds


async def test_long_outage_recovers_but_stays_open_and_reopen_window_ends(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 's.db'}")
    started = datetime.now(UTC)
    moved = timedelta()
    async with (
        live_webhook(settings, lambda: started + moved) as hook,
        aiohttp.ClientSession() as http,
    ):
        firing = alert("disdik", "disdik-gw")
        firing["startsAt"] = started.isoformat()
        await post(http, hook, firing)
        moved = timedelta(seconds=settings.transient_window + 60)  # a long outage
        resolved = {**firing, "status": "resolved", "endsAt": (started + moved).isoformat()}
        await post(http, hook, resolved)
        await post(http, hook, resolved)  # repeated resolution: nothing new
        (incident,) = await incidents(hook)
        assert incident.recovered_at is not None
        assert incident.state == State.OPENED.value, "it still needs the SOP (F-04)"
        assert incident.closed_at is None


async def test_resolution_of_an_alert_never_seen_firing(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 's.db'}")
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        await post(http, hook, now_alert("dishub", "dishub-gw", resolved=True))
        assert await incidents(hook) == []
        async with hook.app[DATABASE].read() as session:
            (row,) = list(await session.scalars(select(Alert)))
        assert row.status == "resolved" and row.incident_id is None


async def test_truncated_alerts_are_recorded(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 's.db'}")
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        body = notification([now_alert("bappeda", "bappeda-gw")], truncated=7)
        async with http.post(hook.receiver, json=body, headers=HEADERS) as response:
            assert response.status == 200
        (incident,) = await incidents(hook)
        assert incident.truncated_alerts == 7


async def test_a_long_outage_told_late_is_not_transient(tmp_path: Path) -> None:
    """The outage's length comes from Alertmanager's startsAt/endsAt, not from when SIGAP
    happened to receive it (a webhook that was down, a replay)."""
    settings = settings_for(f"sqlite:///{tmp_path / 's.db'}")
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        firing = now_alert("dpmptsp", "dpmptsp-gw", ago=3600)
        await post(http, hook, firing)
        resolved = now_alert("dpmptsp", "dpmptsp-gw", resolved=True)
        resolved["startsAt"] = firing["startsAt"]
        await post(http, hook, resolved)
        (incident,) = await incidents(hook)
        assert incident.recovered_at is not None
        assert incident.state == State.OPENED.value


async def test_a_big_notification_is_read_whole(tmp_path: Path) -> None:
    """Hundreds of kilobytes arrive in many pieces: all of them make the notification (under
    1 MiB), and past 1 MiB, also without a Content-Length, the answer is 413."""
    settings = settings_for(f"sqlite:///{tmp_path / 's.db'}")
    nodes = [alert("diskominfo", f"diskominfo-n{i}") for i in range(1500)]
    body = json.dumps(notification(nodes)).encode()
    assert 512 * 1024 < len(body) < 1024 * 1024

    async def chunked(data: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        async with http.post(hook.receiver, data=body, headers=HEADERS) as response:
            assert response.status == 200, await response.text()
        async with hook.app[DATABASE].read() as session:
            assert await session.scalar(select(func.count()).select_from(Alert)) == 1500
        too_big = body + b" " * (1024 * 1024)
        async with http.post(hook.receiver, data=chunked(too_big), headers=HEADERS) as response:
            assert response.status == 413
