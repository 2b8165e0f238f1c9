"""The outbox: what a move owes reaches people with one idempotency key on every attempt; a
channel that is down is retried with backoff, then given up (on the incident, in the metrics);
a kill -9 with messages owed loses none (SQLite and PostgreSQL); two replicas send each message
once; a notice that cannot be planned holds up no other. Real SMTP (aiosmtpd), a real JSON
receiver, real PostgreSQL, the real `sigap-webhook` process."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiosmtpd.controller import Controller
from alembic import command
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine, select, text, update

from tests.pgserver import PgServer, pgserver
from tests.workflow.conftest import (
    ALERTMANAGER_TOKEN,
    PASSWORD,
    SECRET,
    Mailbox,
    Service,
    add_people,
    alert_notification,
    config_file,
    free_port,
    open_by_alert,
    outbox_settled,
    start_service,
)
from tests.workflow.test_notify import F01, notifications, schema_diff
from tests.workflow.test_service import act
from webhook.core.deadlines import targets_of
from webhook.core.messages import notify_config
from webhook.services.delivery import Delivery
from webhook.services.escalation import escalate_once
from webhook.services.metrics import WebhookMetrics
from webhook.settings import database_url
from webhook.store.database import Database, alembic_config
from webhook.store.models import Incident, Notice, Notification, User
from webhook.store.outbox import claim_due, owe
from webhook.web.app import create_app
from webhook.web.keys import DATABASE, DELIVERY, REGISTRY, SETTINGS

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
_databases = itertools.count()


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    with pgserver() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_at(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL as a person writes it, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sigap.db'}"
    server: PgServer = request.getfixturevalue("pg")
    return server.create_database(f"outbox{next(_databases)}")


@dataclass
class Gateway:
    """A chat gateway: records every JSON body, its Idempotency-Key header and its token
    (Fonnte's `Authorization`)."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    async def send(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        self.headers.append(request.headers.get("Idempotency-Key", ""))
        self.tokens.append(request.headers.get("Authorization", ""))
        return web.json_response({"ok": True})


@asynccontextmanager
async def gateway(port: int = 0) -> AsyncIterator[tuple[Gateway, str]]:
    received = Gateway()
    app = web.Application()
    app.router.add_post("/send", received.send)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield received, f"http://127.0.0.1:{bound}/send"
    finally:
        await runner.cleanup()


async def test_a_moves_messages_carry_one_idempotency_key(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    token = tmp_path / "gateway_token"
    token.write_text("fonnte-token-123\n")  # a compose secret: the gateway's token header
    async with gateway() as (received, url):
        notify = {
            "smtp": {"host": "127.0.0.1", "port": port, "sender": "sigap@sigap.test"},
            "webhook": {"url": url, "headers_file": {"Authorization": str(token)}},
        }
        service = await start_service(tmp_path, notify)
        try:
            incident = await open_by_alert(service)
            await act(service, "sari", incident, "confirm", **F01)
            status, _ = await act(service, "sari", incident, "report", responsibility="skpd")
            assert status == 200
            await service.drain()
            rows = await notifications(service)
        finally:
            await service.client.close()
    assert {(r.person, r.channel, r.status) for r in rows} == {
        (person, channel, "sent")
        for person in ("koord", "budi")
        for channel in ("email", "webhook")
    }
    keys = {r.channel: set() for r in rows}
    for row in rows:
        keys[row.channel].add(row.idempotency_key)
    assert {m["Message-ID"] for m in mailbox.messages} == {
        f"<{key}@sigap.test>" for key in keys["email"]
    }
    assert {b["idempotency_key"] for b in received.bodies} == keys["webhook"]
    assert received.headers == [b["idempotency_key"] for b in received.bodies]
    assert set(received.tokens) == {"fonnte-token-123"}


async def test_a_channel_down_is_retried_with_backoff_then_failed_and_counted(
    tmp_path: Path,
) -> None:
    database = Database(database_url(f"sqlite:///{tmp_path / 'sigap.db'}"))
    await database.upgrade()
    registry = CollectorRegistry()
    database.subscribe(WebhookMetrics(registry).record)
    clock = [T0]
    smtp = {"host": "127.0.0.1", "port": free_port(), "timeout": "1s"}  # nothing listens
    config = notify_config({"smtp": smtp, "retries": 3, "backoff": "10s"})
    delivery = Delivery(
        database, config, secret=SECRET, external_url="http://sigap.test", clock=lambda: clock[0]
    )
    try:
        async with database.write() as session:
            incident = _incident("dinkes")
            session.add_all([incident, _person("koord", "coordinator")])
            await session.flush()
            owe(session, incident.id, "escalate", T0)

        async def attempt_at(seconds: float) -> tuple[bool, Notification]:
            clock[0] = T0 + timedelta(seconds=seconds)
            worked = await delivery.round()
            async with database.read() as session:
                return worked, (await session.execute(select(Notification))).scalar_one()

        worked, row = await attempt_at(0)
        assert worked and (row.status, row.attempts) == ("pending", 1)
        assert row.next_attempt_at == T0 + timedelta(seconds=10)
        assert "Connect" in (row.last_error or "")
        worked, row = await attempt_at(9.9)
        assert not worked and row.attempts == 1  # not due yet: nothing is tried
        _, row = await attempt_at(10)
        assert (row.attempts, row.next_attempt_at) == (2, T0 + timedelta(seconds=30))
        _, row = await attempt_at(30)
        assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
        worked, row = await attempt_at(3600)
        assert not worked and row.attempts == 3  # given up for good
        failed = {"channel": "email", "status": "failed"}
        assert registry.get_sample_value("sigap_notifications_total", failed) == 1
    finally:
        await database.close()


async def test_a_dead_replicas_claims_are_taken_after_the_lease(database_at: str) -> None:
    database = Database(database_url(database_at))
    await database.upgrade()
    config = notify_config({"webhook": {"url": "http://127.0.0.1:9/", "timeout": "1s"}})
    delivery = Delivery(database, config, secret=SECRET, external_url="http://sigap.test")
    lease = timedelta(minutes=1)
    try:
        async with database.write() as session:
            incident = _incident("dinkes")
            session.add_all([incident, _person("koord", "coordinator")])
            await session.flush()
            owe(session, incident.id, "escalate", T0)
        assert await delivery.plan_owed() == 1
        now = datetime.now(UTC)
        async with database.write() as session:  # a replica claims it, then dies
            assert len(await claim_due(session, now, lease, 10)) == 1
        async with database.write() as session:
            assert await claim_due(session, now + lease - timedelta(seconds=1), lease, 10) == []
        async with database.write() as session:
            assert len(await claim_due(session, now + lease, lease, 10)) == 1
    finally:
        await database.close()


async def test_kill_9_with_messages_owed_delivers_them_after_restart(
    tmp_path: Path, database_at: str
) -> None:
    smtp_port, gateway_port, port = free_port(), free_port(), free_port()
    config = config_file(
        tmp_path,
        {  # both channels down until the kill
            "smtp": {
                "host": "127.0.0.1",
                "port": smtp_port,
                "sender": "sigap@sigap.test",
                "timeout": "1s",
            },
            "webhook": {"url": f"http://127.0.0.1:{gateway_port}/send", "timeout": "1s"},
            "retries": 20,
            "backoff": "100ms",
            "lease": "3s",
            "poll": "200ms",
        },
    )
    database = Database(database_url(database_at))
    process = None
    try:
        await database.upgrade()
        tokens = await add_people(database)
        process = await start_webhook(port, database_at, config, tmp_path / "webhook.log")
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            incident = await open_incident(http, tokens["koord"])
            staff = {"Authorization": f"Bearer {tokens['sari']}"}
            for action, data in (("confirm", F01), ("report", {"responsibility": "skpd"})):
                async with http.post(
                    f"/api/v1/incidents/{incident}/actions/{action}", json=data, headers=staff
                ) as response:
                    assert response.status == 200, await response.text()
            tried = await attempted(database, 4)  # koord and budi, email and webhook
            async with http.post(  # a move answered 2xx right before the kill
                f"/api/v1/incidents/{incident}/actions/dispatch",
                json={"assignee": "andi"},
                headers={"Authorization": f"Bearer {tokens['koord']}"},
            ) as response:
                assert response.status == 200
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        mailbox = Mailbox()
        smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
        smtp.start()
        try:
            async with gateway(gateway_port) as (received, _):
                process = await start_webhook(port, database_at, config, tmp_path / "webhook.log")
                await outbox_settled(database)
        finally:
            smtp.stop()
        async with database.read() as session:
            rows = list((await session.execute(select(Notification))).scalars())
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        await database.close()
    assert {(r.person, r.channel, r.status) for r in rows} == {
        (person, channel, "sent")
        for person in ("koord", "budi", "andi")
        for channel in ("email", "webhook")
    }
    assert {r.idempotency_key for r in rows if r.event == "report"} == set(tried)
    emails = {r.idempotency_key for r in rows if r.channel == "email"}
    message_ids = Counter(m["Message-ID"] for m in mailbox.messages)
    assert set(message_ids) == {f"<{key}@sigap.test>" for key in emails}  # at least once each
    posted = Counter(b["idempotency_key"] for b in received.bodies)
    assert set(posted) == {r.idempotency_key for r in rows if r.channel == "webhook"}


async def test_two_replicas_send_each_message_once(
    tmp_path: Path, pg: PgServer, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    url = pg.create_database(f"replicas{next(_databases)}")
    async with gateway() as (received, gateway_url):
        notify = {
            "smtp": {"host": "127.0.0.1", "port": port, "sender": "sigap@sigap.test"},
            "webhook": {"url": gateway_url},
            "poll": "50ms",
        }
        first = await start_service(tmp_path, notify, env={"SIGAP_DATABASE_URL": url})
        second = await replica_of(first)
        try:
            async with first.app[DATABASE].write() as session:
                session.add_all(_person(f"koord{i}", "coordinator") for i in range(4))
            for i in range(20):  # alternate replicas take the alerts
                await open_by_alert(first if i % 2 else second, f"skpd{i}", f"skpd{i}-gw")
            later = datetime.now(UTC) + timedelta(minutes=16)
            escalated = await escalate_once(first.app[DATABASE], targets_of(None), later)
            assert len(escalated) == 20
            second.app[DELIVERY].nudge()
            await first.drain()
            rows = await notifications(first)
        finally:
            await second.client.close()
            await first.client.close()
    assert len(rows) == 20 * 5 * 2 and {r.status for r in rows} == {"sent"}
    message_ids = Counter(m["Message-ID"] for m in mailbox.messages)
    posted = Counter(b["idempotency_key"] for b in received.bodies)
    assert set(message_ids.values()) == {1} and len(message_ids) == 100
    assert set(posted.values()) == {1} and len(posted) == 100
    counted = [
        sum(
            service.app[REGISTRY].get_sample_value(
                "sigap_notifications_total", {"channel": channel, "status": "sent"}
            )
            or 0
            for channel in ("email", "webhook")
        )
        for service in (first, second)
    ]
    assert sum(counted) == 200 and all(counted)  # both took part; each message counted once


async def test_a_notice_that_cannot_be_planned_holds_up_no_other(
    service: Service, smtp: tuple[Mailbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    async with service.app[DATABASE].write() as session:  # a hand-edited row planning trips on
        await session.execute(update(User).where(User.name == "budi").values(skpds=None))
    incident = await open_by_alert(service)
    with caplog.at_level(logging.WARNING):
        await act(service, "sari", incident, "confirm", **F01)
        await act(service, "sari", incident, "report", responsibility="skpd")  # skpd_admin...
        await act(service, "koord", incident, "dispatch", assignee="andi")  # ...and not
        await service.drain()
    assert smtp[0].to("andi@example.test")
    async with service.app[DATABASE].read() as session:
        notices = {
            n.notice: n
            for n in (await session.execute(select(Notice).order_by(Notice.id))).scalars()
        }
    assert "TypeError" in (notices["report"].error or "")
    assert notices["dispatch"].error is None and notices["report"].planned_at is not None
    planning = [r for r in caplog.records if r.getMessage().startswith("could not plan notice")]
    assert len(planning) == 1 and planning[0].exc_info is not None
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
    await service.client.post("/login", data={"name": "koord", "password": PASSWORD})
    page = await (await service.client.get(f"/incidents/{incident}")).text()
    # said in words, its technical detail folded away for whoever looks into it
    assert "Gagal terkirim</strong> · Tetapkan tanggung jawab" in page and "TypeError" in page


async def test_the_outbox_tables_match_the_models_on_postgresql(pg: PgServer) -> None:
    database = Database(database_url(pg.create_database(f"schema{next(_databases)}")))
    try:
        await database.upgrade()
        async with database.engine.connect() as conn:
            assert await conn.run_sync(schema_diff) == []
    finally:
        await database.close()


def test_messages_pending_before_the_outbox_are_marked_failed(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.execute(
            text(
                "INSERT INTO incident (skpd, state, source, title, nodes, opened_at, opened_by,"
                " truncated_alerts, stage_entered_at, updated_at) VALUES ('dinkes', 'opened',"
                " 'report', '', '[]', '2026-11-24', 'x', 0, '2026-11-24', '2026-11-24')"
            )
        )
        for status in ("sent", "pending"):
            conn.execute(
                text(
                    "INSERT INTO notification (incident_id, event, channel, recipient, subject,"
                    " status, attempts, created_at) VALUES (1, 'report', 'email', 'a@b', 's',"
                    " :status, 1, '2026-11-24')"
                ),
                {"status": status},
            )
        command.upgrade(config, "head")
        rows = conn.execute(
            text("SELECT status, idempotency_key, last_error FROM notification ORDER BY id")
        ).all()
    engine.dispose()
    assert [(r.status, r.idempotency_key) for r in rows] == [
        ("sent", "sigap-legacy-1"),
        ("failed", "sigap-legacy-2"),
    ]
    assert "before the upgrade" in rows[1].last_error


# --- helpers ------------------------------------------------------------------------------------


def _incident(skpd: str) -> Incident:
    return Incident(
        skpd=skpd,
        state="opened",
        source="report",
        title="",
        nodes=[],
        opened_at=T0,
        opened_by="test",
        truncated_alerts=0,
        stage_entered_at=T0,
        updated_at=T0,
    )


def _person(name: str, role: str) -> User:
    return User(
        name=name, role=role, email=f"{name}@example.test", skpds=[], active=True, created_at=T0
    )


async def replica_of(service: Service) -> Service:
    """Another replica: an app of its own (worker, pool, metrics) on the same settings."""
    app = create_app(service.app[SETTINGS], CollectorRegistry())
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    return Service(app, client, service.tokens)


def spawn_webhook(port: int, url: str, config: str, log: Path) -> subprocess.Popen[bytes]:
    """`sigap-webhook` as its own process (ended by its PID in the test)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SIGAP_DATABASE_URL": url,
        "SIGAP_ALERTMANAGER_TOKEN": ALERTMANAGER_TOKEN,
        "SIGAP_SECRET_KEY": SECRET,
        "SIGAP_PING_CHECK": "false",
        "SIGAP_EXTERNAL_URL": "http://sigap.test",
    }
    command = [sys.executable, "-m", "webhook.cli", "--config.file", config]
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [*command, "--web.listen-address", f"127.0.0.1:{port}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


async def start_webhook(port: int, url: str, config: str, log: Path) -> subprocess.Popen[bytes]:
    """The webhook process, once it answers ready."""
    process = spawn_webhook(port, url, config, log)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            assert process.poll() is None, f"the webhook exited; see {log}"
            try:
                async with http.get(f"http://127.0.0.1:{port}/-/ready") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the webhook did not become ready")


async def open_incident(http: aiohttp.ClientSession, token: str) -> int:
    async with http.post(
        "/api/v1/alertmanager",
        json=alert_notification("dinkes", "dinkes-gw"),
        headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
    ) as response:
        assert response.status == 200
    async with http.get(
        "/api/v1/incidents?skpd=dinkes&open=true", headers={"Authorization": f"Bearer {token}"}
    ) as response:
        return int((await response.json())["incidents"][0]["id"])


async def attempted(database: Database, count: int) -> list[str]:
    """Wait until `count` messages have been tried at least once; their idempotency keys."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        async with database.read() as session:
            keys = list(
                (
                    await session.execute(
                        select(Notification.idempotency_key).where(Notification.attempts >= 1)
                    )
                ).scalars()
            )
        if len(keys) >= count:
            return keys
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} messages were not tried")
