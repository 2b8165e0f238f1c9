"""Retention (issue 23), on SQLite and a real PostgreSQL: the leader's round deletes finished
rows past their kind's retention, in batches, and nothing else: not a pending message, not a
live session, not the incident record."""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import PIPE, STDOUT

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select, text

from tests.pgserver import PgServer, pgserver
from tests.webhook.reliability import live_webhook, settings_for
from webhook.core.retention import RetentionConfig
from webhook.services.metrics import DatabaseFigures
from webhook.services.retention import Pruner
from webhook.settings import SettingsError, load_settings
from webhook.settings import database_url as async_url
from webhook.store.database import Database
from webhook.store.models import (
    Event,
    InboundMessage,
    Incident,
    Notification,
    RawNotification,
    TelegramLinkCode,
    TelegramUpdate,
    UsedLink,
    User,
    WebSession,
)
from webhook.store.retention import database_figures
from webhook.web.keys import DATABASE

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=400)
RECENT = NOW - timedelta(days=1)
_DATABASES = itertools.count()


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    with pgserver() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/retention.db"
    else:
        server: PgServer = request.getfixturevalue("pg")
        url = server.create_database(f"retention{next(_DATABASES)}")
    db = Database(async_url(url))
    await db.upgrade()
    yield db
    await db.close()


def _message(n: int, incident: int, status: str, at: datetime) -> Notification:
    return Notification(
        incident_id=incident, event="report", channel="email", recipient="a@b", subject="s",
        status=status, attempts=1, created_at=at, idempotency_key=f"k{n}",
    )  # fmt: skip


async def _seed(db: Database) -> None:
    async with db.write() as s:
        incident = Incident(skpd="dinkes", state="closed", source="alert", opened_by="t",
                            opened_at=OLD, stage_entered_at=OLD, updated_at=OLD)  # fmt: skip
        user = User(name="ana", role="staff", created_at=OLD)
        s.add_all([incident, user])
        await s.flush()
        s.add(
            Event(
                incident_id=incident.id,
                at=OLD,
                kind="opened",
                actor="t",
                role="system",
                to_state="opened",
            )
        )
        for _ in range(7):  # 7 old notifications: batches of 3, 3 and 1
            s.add(RawNotification(received_at=OLD, auth_ok=True, status_code=200))
        s.add(RawNotification(received_at=RECENT, auth_ok=True, status_code=200))
        s.add_all([
            _message(1, incident.id, "sent", OLD),
            _message(2, incident.id, "failed", OLD),
            _message(3, incident.id, "pending", OLD),  # never pruned: still to be sent
            _message(4, incident.id, "sent", RECENT),
        ])  # fmt: skip
        s.add_all([
            WebSession(id="ended", user_id=user.id, created_at=OLD, last_seen_at=OLD,
                       expires_at=OLD + timedelta(hours=12)),
            WebSession(id="live", user_id=user.id, created_at=RECENT, last_seen_at=RECENT,
                       expires_at=NOW + timedelta(hours=1)),
        ])  # fmt: skip
        s.add_all([
            UsedLink(nonce="old", incident_id=incident.id, action="ack", person="ana",
                     used_at=OLD),
            UsedLink(nonce="new", incident_id=incident.id, action="ack", person="ana",
                     used_at=RECENT),
        ])  # fmt: skip
        # Telegram's updates: the newest stays however old (long polling resumes after it)
        s.add_all([TelegramUpdate(update_id=n, received_at=OLD) for n in (10, 11, 12)])
        s.add_all([
            TelegramLinkCode(code_hash="old", user_id=user.id, created_at=OLD,
                             expires_at=OLD + timedelta(minutes=15)),
            TelegramLinkCode(code_hash="live", user_id=user.id, created_at=NOW,
                             expires_at=NOW + timedelta(minutes=15)),
        ])  # fmt: skip
        # one id on two channels: only the old row of the two goes
        s.add_all([
            InboundMessage(channel="whatsapp", message_id="wamid.1", received_at=OLD),
            InboundMessage(channel="gateway", message_id="wamid.1", received_at=RECENT),
            InboundMessage(channel="gateway", message_id="g-7", received_at=OLD),
        ])  # fmt: skip


async def _count(db: Database, model: type[object]) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_round_prunes_only_finished_rows_past_retention(database: Database) -> None:
    await _seed(database)
    registry = CollectorRegistry()
    pruner = Pruner(database, RetentionConfig(batch=3), registry)

    pruned = await pruner.round(NOW)

    assert pruned == {
        "raw_notification": 7, "notification": 2, "web_session": 1, "used_link": 1,
        "telegram_update": 2, "telegram_link_code": 1, "inbound_message": 2,
    }  # fmt: skip
    assert await _count(database, RawNotification) == 1
    async with database.read() as s:
        statuses = sorted(await s.scalars(select(Notification.status)))
        sessions = list(await s.scalars(select(WebSession.id)))
        links = list(await s.scalars(select(UsedLink.nonce)))
    assert statuses == ["pending", "sent"]
    assert sessions == ["live"]
    assert links == ["new"]
    async with database.read() as s:
        assert list(await s.scalars(select(TelegramUpdate.update_id))) == [12]
        assert list(await s.scalars(select(TelegramLinkCode.code_hash))) == ["live"]
        kept = (await s.execute(select(InboundMessage.channel, InboundMessage.message_id))).all()
        assert [tuple(row) for row in kept] == [("gateway", "wamid.1")]
    assert await _count(database, Incident) == 1
    assert await _count(database, Event) == 1
    value = registry.get_sample_value(
        "sigap_retention_pruned_rows_total", {"table": "raw_notification"}
    )
    assert value == 7
    assert await pruner.round(NOW) == dict.fromkeys(pruned, 0)


async def test_null_keeps_a_kind_forever(database: Database) -> None:
    await _seed(database)
    pruner = Pruner(database, RetentionConfig(raw_notification=None), CollectorRegistry())
    pruned = await pruner.round(NOW)
    assert "raw_notification" not in pruned
    assert await _count(database, RawNotification) == 8


async def _busy_writer(db: Database, stop: asyncio.Event, every: float) -> list[float]:
    """A receiver in a storm: a short write every `every` seconds until `stop`; each write's
    wait for the writer (seconds)."""
    waits = []
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        asked = loop.time()
        async with db.write() as s:
            waits.append(loop.time() - asked)
            s.add(RawNotification(received_at=NOW, auth_ok=True, status_code=200))
        await asyncio.sleep(every)
    return waits


async def test_pruning_waits_while_notifications_keep_the_writer_busy(database: Database) -> None:
    """A storm never queues behind pruning: while writes keep coming, the round takes no batch
    (until `interval` has passed); once they pause, it prunes everything."""
    await _seed(database)
    registry = CollectorRegistry()
    pruner = Pruner(database, RetentionConfig(batch=2, interval=60), registry)
    stop = asyncio.Event()
    storm = asyncio.create_task(_busy_writer(database, stop, every=0.05))
    await asyncio.sleep(0.1)
    pruning = asyncio.create_task(pruner.round(NOW))
    await asyncio.sleep(1.0)
    pruned = registry.get_sample_value(
        "sigap_retention_pruned_rows_total", {"table": "raw_notification"}
    )
    assert pruned == 0, "pruning took the writer while notifications kept arriving"
    stop.set()
    await storm
    done = await asyncio.wait_for(pruning, timeout=10)
    assert done["raw_notification"] == 7
    assert await _count(database, RawNotification) == 1 + len(storm.result())


async def test_pruning_still_advances_under_writes_that_never_pause(database: Database) -> None:
    """One batch per `interval` at least, whatever the traffic: the backlog cannot grow forever."""
    await _seed(database)
    registry = CollectorRegistry()
    pruner = Pruner(database, RetentionConfig(batch=2, interval=0.3), registry)
    stop = asyncio.Event()
    storm = asyncio.create_task(_busy_writer(database, stop, every=0.02))
    pruning = asyncio.create_task(pruner.round(NOW))
    await asyncio.sleep(1.5)
    pruned = registry.get_sample_value(
        "sigap_retention_pruned_rows_total", {"table": "raw_notification"}
    )
    stop.set()
    waits = await storm
    await asyncio.wait_for(pruning, timeout=10)
    assert pruned is not None and pruned >= 4, f"{pruned} rows in 1.5 s at one batch per 0.3 s"
    assert max(waits) < 1.0, "a write waited long for the writer"


def test_retention_settings_from_the_file(tmp_path: Path) -> None:
    config = tmp_path / "sigap.yml"
    config.write_text("retention:\n  raw_notification: 720h\n  batch: 100\n")
    settings = load_settings(str(config), env={})
    assert settings.retention.raw_notification == 30 * 86400
    assert settings.retention.batch == 100
    assert load_settings(None, env={}).retention.raw_notification == 90 * 86400


def test_unknown_retention_key_names_the_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "sigap.yml"
    config.write_text("retention:\n  raw_notifications: 720h\n")
    with pytest.raises(SettingsError, match=r"sigap\.yml:2: retention\.raw_notifications"):
        load_settings(str(config), env={})


async def test_database_figures_on_metrics(database: Database) -> None:
    await _seed(database)
    figures = DatabaseFigures()
    registry = CollectorRegistry()
    registry.register(figures)
    async with database.read() as s:
        figures.refresh(*await database_figures(s, database.is_sqlite))
    size = registry.get_sample_value("sigap_database_size_bytes")
    assert size is not None and size > 10_000
    rows = registry.get_sample_value("sigap_database_rows", {"table": "raw_notification"})
    if database.is_sqlite:
        assert rows == 8
    else:  # the estimate: known after ANALYZE (autovacuum's, here by hand)
        async with database.write() as s:
            await s.execute(text("ANALYZE raw_notification"))
        async with database.read() as s:
            figures.refresh(*await database_figures(s, database.is_sqlite))
        value = registry.get_sample_value("sigap_database_rows", {"table": "raw_notification"})
        assert value == 8


async def test_metrics_show_the_database_and_pass_promtool(tmp_path: Path) -> None:
    async with (
        live_webhook(settings_for(f"sqlite:///{tmp_path / 's.db'}")) as hook,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{hook.url}/-/ready") as response:
            assert response.status == 200
        async with http.get(f"{hook.url}/metrics") as response:
            body = await response.text()
    assert re.search(r"^sigap_database_size_bytes \d", body, re.M), body
    assert 'sigap_database_rows{table="raw_notification"}' in body
    assert 'sigap_retention_pruned_rows_total{table="notification"} 0.0' in body
    promtool = shutil.which("promtool")
    assert promtool is not None
    check = await asyncio.create_subprocess_exec(
        promtool, "check", "metrics", stdin=PIPE, stdout=PIPE, stderr=STDOUT
    )
    out, _ = await asyncio.wait_for(check.communicate(body.encode()), 30)
    assert check.returncode == 0, out.decode()


async def test_metrics_show_the_outbox_backlog_and_the_disk_under_sqlite(tmp_path: Path) -> None:
    """What `SigapNotificationsFailing` and `SigapDatabaseUnhealthy` read besides failures."""
    async with (
        live_webhook(settings_for(f"sqlite:///{tmp_path / 's.db'}")) as hook,
        aiohttp.ClientSession() as http,
    ):
        async with hook.app[DATABASE].write() as s:
            incident = Incident(skpd="dinkes", state="opened", source="alert", opened_by="t",
                                opened_at=OLD, stage_entered_at=OLD, updated_at=OLD)  # fmt: skip
            s.add(incident)
            await s.flush()
            stuck = _message(1, incident.id, "pending", OLD)
            stuck.next_attempt_at = datetime.now(UTC) - timedelta(minutes=20)
            stuck.claimed_until = datetime.now(UTC) + timedelta(hours=1)  # no worker sends it
            s.add(stuck)
        async with http.get(f"{hook.url}/metrics") as response:
            body = await response.text()
    assert re.search(r"^sigap_notifications_pending 1\.0$", body, re.M), body
    overdue = re.search(r"^sigap_notifications_overdue_seconds (\S+)$", body, re.M)
    assert overdue is not None and 1190 < float(overdue[1]) < 1300
    free = re.search(r"^sigap_database_filesystem_free_ratio (\S+)$", body, re.M)
    assert free is not None and 0 < float(free[1]) <= 1
