"""A page on every new outage: the staff on duty get it (real SMTP) with a one-click Tangani
link when an alert or a report opens an incident; unacknowledged it goes to the next on duty,
then the coordinator, each step once, on the timeline; a transient outage or a move past the
ping check stops the chain; the time to acknowledge is measured. The duty roster's page, its
calendar feed (parsed back with icalendar), its CLI and its migration."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import Connection, select

from tests.workflow.conftest import (
    ALERTMANAGER_TOKEN,
    Mailbox,
    MovableClock,
    Service,
    alert_notification,
    open_by_alert,
    start_service,
)
from tests.workflow.test_notify import F01
from tests.workflow.test_service import act, bearer, csrf_of, login
from webhook.cli import main
from webhook.core.roster import parse_rotation
from webhook.services.paging import page_once, set_rotation
from webhook.store.models import Event, Incident
from webhook.web.keys import DATABASE, REGISTRY, SETTINGS

WITA = ZoneInfo("Asia/Makassar")
TIMEOUT = timedelta(minutes=10)


@dataclass
class Paging:
    service: Service
    clock: MovableClock
    mailbox: Mailbox

    async def chain(self) -> list[tuple[int, int, list[str]]]:
        """One round of the paging loop at the service's time, then the outbox delivered."""
        app = self.service.app
        steps = await page_once(
            app[DATABASE], app[SETTINGS].paging, ZoneInfo(app[SETTINGS].timezone), self.clock()
        )
        await self.service.drain()
        return [(s.incident_id, s.step, s.people) for s in steps]

    def pages_to(self, name: str) -> list[str]:
        return [str(m["Subject"]) for m in self.mailbox.to(f"{name}@example.test")]


def duty_since_an_hour_ago(now: datetime) -> tuple[str, str]:
    """A daily rotation sari -> andi whose current shift (sari's) began an hour ago."""
    began = (now - timedelta(hours=1)).astimezone(WITA)
    return began.strftime("%H:%M"), began.date().isoformat()


async def start_paging(tmp_path: Path, smtp: tuple[Mailbox, int], **notify: Any) -> Paging:
    """The service with real SMTP and a rotation sari -> andi, sari on duty now."""
    mailbox, port = smtp
    clock = MovableClock()
    smtp_at = {"host": "127.0.0.1", "port": port}
    config = {"smtp": smtp_at, "retries": 2, "backoff": "10ms", **notify}
    service = await start_service(tmp_path, config, clock=clock, paging={"ack_timeout": "10m"})
    handover, starts_on = duty_since_an_hour_ago(clock())
    async with service.app[DATABASE].write() as session:
        rotation = parse_rotation(["sari", "andi"], "daily", handover, starts_on)
        await set_rotation(session, rotation, "koord", clock())
    return Paging(service, clock, mailbox)


@pytest.fixture
async def paging(tmp_path: Path, smtp: tuple[Mailbox, int]) -> AsyncIterator[Paging]:
    running = await start_paging(tmp_path, smtp)
    try:
        yield running
    finally:
        await running.service.drain()
        await running.service.client.close()


def mail_text(mailbox: Mailbox, name: str) -> list[str]:
    bodies = [m.get_body(("plain",)) for m in mailbox.to(f"{name}@example.test")]
    return [body.get_content() for body in bodies if body is not None]


def acknowledge_link(mailbox: Mailbox, name: str, label: str = "Tangani") -> str:
    for text in mail_text(mailbox, name):
        found = re.search(rf"^{label}: http://sigap\.test(/l/\S+)", text, re.M)
        if found:
            return found.group(1)
    raise AssertionError(f"no {label} link for {name}")


async def holder_of(service: Service, incident: int) -> str | None:
    async with service.app[DATABASE].read() as session:
        found = await session.get(Incident, incident)
        assert found is not None
        return found.holder


async def pages_on_timeline(service: Service, incident: int) -> list[dict[str, Any]]:
    async with service.app[DATABASE].read() as session:
        rows = await session.execute(
            select(Event.data).where(Event.incident_id == incident, Event.kind == "page")
        )
        return [dict(r.data) for r in rows]


async def test_an_alert_pages_the_staff_on_duty_whose_link_acknowledges(paging: Paging) -> None:
    service = paging.service
    incident = await open_by_alert(service)
    await service.drain()
    assert paging.pages_to("sari") == [
        f"[SIGAP #{incident}] Gangguan baru, mohon ditangani: dinkes"
    ]
    assert paging.pages_to("andi") == paging.pages_to("koord") == []
    (text,) = mail_text(paging.mailbox, "sari")
    # every label in Bahasa Indonesia, like the subject and the page's button
    assert f"Insiden #{incident} · SKPD dinkes · Tahap: Dibuka" in text
    assert "Tanggung jawab: SKPD" in text  # the node's owner, until staff set it
    page = rf"^Halaman insiden: http://sigap\.test/incidents/{incident}\s"
    assert re.search(page, text, re.M), text
    assert not re.search(r"^(acknowledge|incident):", text, re.M), text
    path = acknowledge_link(paging.mailbox, "sari")
    confirm = await service.client.get(path)
    assert confirm.status == 200 and "Tangani" in await confirm.text()
    paging.clock.advance(timedelta(minutes=3))
    done = await service.client.post(path)
    assert done.status == 200, await done.text()
    assert await holder_of(service, incident) == "sari"
    registry = service.app[REGISTRY]
    assert registry.get_sample_value("sigap_incident_time_to_acknowledge_seconds_count") == 1
    waited = registry.get_sample_value("sigap_incident_time_to_acknowledge_seconds_sum")
    assert waited is not None and 180 <= waited < 200
    # acknowledged: the chain never starts
    paging.clock.advance(3 * TIMEOUT)
    assert await paging.chain() == []
    assert paging.pages_to("andi") == paging.pages_to("koord") == []


async def test_a_page_speaks_english_when_configured(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    paging = await start_paging(tmp_path, smtp, language="en")
    service = paging.service
    try:
        incident = await open_by_alert(service)
        await service.drain()
        assert paging.pages_to("sari") == [
            f"[SIGAP #{incident}] New outage, please acknowledge: dinkes"
        ]
        (text,) = mail_text(paging.mailbox, "sari")
        assert f"Incident #{incident} · SKPD dinkes · Stage: Opened" in text
        assert "Responsibility: SKPD" in text and "Incident page: http" in text
        done = await service.client.post(acknowledge_link(paging.mailbox, "sari", "Acknowledge"))
        assert done.status == 200, await done.text()
        assert await holder_of(service, incident) == "sari"
    finally:
        await service.drain()
        await service.client.close()


async def test_a_report_pages_the_staff_on_duty(paging: Paging) -> None:
    service = paging.service
    response = await service.client.post(
        "/api/v1/incidents",
        json={"skpd": "disdik", "description": "Internet mati sejak pagi"},
        headers=bearer(service, "wati"),
    )
    assert response.status == 201, await response.text()
    incident = (await response.json())["id"]
    await service.drain()
    assert paging.pages_to("sari") == [
        f"[SIGAP #{incident}] Gangguan baru, mohon ditangani: disdik"
    ]
    done = await service.client.post(acknowledge_link(paging.mailbox, "sari"))
    assert done.status == 200
    assert await holder_of(service, incident) == "sari"


async def test_nobody_answers_the_next_on_duty_then_the_coordinator_each_once(
    paging: Paging,
) -> None:
    service = paging.service
    incident = await open_by_alert(service)
    paging.clock.advance(TIMEOUT - timedelta(seconds=5))
    assert await paging.chain() == []
    paging.clock.advance(timedelta(seconds=10))
    assert await paging.chain() == [(incident, 2, ["andi"])]
    assert await paging.chain() == []  # never twice for one step
    assert paging.pages_to("andi") == [
        f"[SIGAP #{incident}] Belum ditangani, mohon ditangani: dinkes"
    ]
    paging.clock.advance(TIMEOUT)
    assert await paging.chain() == [(incident, 3, ["koord"])]
    paging.clock.advance(TIMEOUT)
    assert await paging.chain() == []
    assert len(paging.pages_to("koord")) == 1
    assert [
        (p["step"], p["to"], p["people"]) for p in await pages_on_timeline(service, incident)
    ] == [
        (2, "next_on_duty", ["andi"]),
        (3, "coordinator", ["koord"]),
    ]
    # the coordinator takes it from the page's link
    done = await service.client.post(acknowledge_link(paging.mailbox, "koord"))
    assert done.status == 200
    assert await holder_of(service, incident) == "koord"


async def test_a_transient_outage_or_a_move_past_the_ping_check_stops_the_chain(
    paging: Paging,
) -> None:
    service = paging.service
    short = await open_by_alert(service, "dinkes", "dinkes-gw")
    resolved = alert_notification("dinkes", "dinkes-gw")
    alert = resolved["alerts"][0]
    # the same alert (fingerprint, startsAt) as the one that opened it, now resolved
    resolved["status"] = alert["status"] = "resolved"
    async with service.app[DATABASE].read() as session:
        starts = (
            await session.execute(
                select(Event.data).where(Event.incident_id == short, Event.kind == "opened")
            )
        ).scalar_one()["starts_at"]
    alert["startsAt"], alert["endsAt"] = starts, datetime.now(UTC).isoformat()
    answer = await service.client.post(
        "/api/v1/alertmanager",
        json=resolved,
        headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
    )
    assert answer.status == 200
    confirmed = await open_by_alert(service, "disdik", "disdik-gw")
    status, _ = await act(service, "andi", confirmed, "confirm", **F01)
    assert status == 200
    paging.clock.advance(3 * TIMEOUT)
    assert await paging.chain() == []
    async with service.app[DATABASE].read() as session:
        found = await session.get(Incident, short)
        assert found is not None and found.state == "transient"
    assert paging.pages_to("andi") == paging.pages_to("koord") == []


async def test_the_roster_page_and_each_persons_calendar_feed(paging: Paging) -> None:
    client = paging.service.client
    assert await login(client, "sari") == 303
    page = await (await client.get("/piket")).text()
    assert 'data-testid="on-duty-now">sari<' in page
    assert 'data-testid="on-duty-next">andi<' in page
    board = await (await client.get("/")).text()
    assert "Piket sekarang" in board and "<strong>sari</strong>" in board
    refused = await client.post(
        "/piket/rotation",
        data={"csrf": await csrf_of(client, "/piket"), "people": "andi", "shift": "daily"},
    )
    assert refused.status == 403
    feed = re.search(r'href="http://sigap\.test(/piket/feed/sari/[0-9a-f]+\.ics)"', page)
    assert feed is not None
    await client.post("/logout", data={"csrf": await csrf_of(client, "/piket")})

    response = await client.get(feed.group(1))  # no login: a phone's calendar fetches it
    assert response.status == 200
    assert response.content_type == "text/calendar"
    calendar = Calendar.from_ical(await response.read())
    events = list(calendar.walk("VEVENT"))
    # every other day for 8 weeks, from the shift under way
    assert 27 <= len(events) <= 29
    starts = [e.decoded("dtstart") for e in events]
    assert starts == sorted(starts)
    now = paging.clock()
    assert starts[0] <= now < events[0].decoded("dtend")
    for event in events:
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert end - start == timedelta(days=1)
        assert start.astimezone(WITA).strftime("%H:%M") == duty_since_an_hour_ago(now)[0]
    assert all(
        (b.decoded("dtstart") - a.decoded("dtstart")) == timedelta(days=2)
        for a, b in itertools.pairwise(events)
    )
    forged = feed.group(1).replace("/sari/", "/andi/")
    assert (await client.get(forged)).status == 404


async def test_a_coordinator_sets_the_roster_and_bad_input_is_refused(paging: Paging) -> None:
    client = paging.service.client
    assert await login(client, "koord") == 303
    csrf = await csrf_of(client, "/piket")
    bad = await client.post(
        "/piket/rotation",
        data={
            "csrf": csrf,
            "people": "andi\nnoc",
            "shift": "daily",
            "handover": "07:30",
            "starts_on": "2026-11-23",
        },
    )
    assert bad.status == 422 and "noc: not an active network staff" in await bad.text()
    saved = await client.post(
        "/piket/rotation",
        data={
            "csrf": csrf,
            "people": "andi\nsari",
            "shift": "weekly",
            "handover": "08:00",
            "starts_on": "2026-11-23",
        },
        allow_redirects=False,
    )
    assert saved.status == 303
    now = paging.clock().astimezone(WITA)
    swap = await client.post(
        "/piket/overrides",
        data={
            "csrf": csrf,
            "person": "koord",
            "reason": "swap",
            "start": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "end": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
        allow_redirects=False,
    )
    assert swap.status == 303
    backwards = await client.post(
        "/piket/overrides",
        data={
            "csrf": csrf,
            "person": "sari",
            "reason": "leave",
            "start": "2026-11-24T10:00",
            "end": "2026-11-24T09:00",
        },
    )
    assert backwards.status == 422 and "ends after it starts" in await backwards.text()
    page = await (await client.get("/piket")).text()
    assert 'data-testid="on-duty-now">koord<' in page


def test_the_cli_sets_overrides_and_shows_the_roster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGAP_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    for name in ("sari", "andi"):
        assert main(["user", "add", name, "--role", "staff"]) == 0
    today = datetime.now(WITA).date()
    assert main(["roster", "set", "sari", "andi", "--from", str(today), "--handover", "00:00"]) == 0
    start = f"{today} 00:00"
    end = f"{today + timedelta(days=1)} 00:00"
    assert (
        main(["roster", "override", "sari", "--start", start, "--end", end, "--reason", "leave"])
        == 0
    )
    out = capsys.readouterr().out
    assert "on duty now: andi" in out  # sari is on leave: the next in the rotation covers
    assert "rotation: sari, andi; daily shifts, handover 00:00 (Asia/Makassar)" in out
    with pytest.raises(SystemExit, match="roster set: budi: not an active network staff"):
        main(["roster", "set", "budi"])
    assert main(["roster", "show", "--days", "2"]) == 0
    assert "on duty now: andi" in capsys.readouterr().out


def _roster_diff(connection: Connection) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from webhook.store.models import Base

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    mine = {"roster_rotation", "roster_override"}
    return [d for d in compare_metadata(context, Base.metadata) if mine & set(str(d).split("'"))]


async def test_revision_0005_matches_the_roster_models(paging: Paging) -> None:
    async with paging.service.app[DATABASE].engine.connect() as conn:
        assert await conn.run_sync(_roster_diff) == []
