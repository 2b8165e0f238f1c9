"""Notifications that fail are retried with backoff, never block, and show on the incident;
the JSON webhook channel; escalation of overdue stages; the workflow tables' migrations; PDFs.
The outbox's own guarantees (restarts, kill -9, replicas) are in test_outbox.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, select

from tests.workflow.conftest import (
    PASSWORD,
    Mailbox,
    Service,
    free_port,
    open_by_alert,
    start_service,
)
from tests.workflow.test_service import act, bearer
from webhook.core.deadlines import overdue, targets_of
from webhook.core.documents import build_document
from webhook.core.letterhead import DEFAULT_LETTERHEAD
from webhook.core.messages import Message, NotifyConfig, SmtpConfig, plan
from webhook.core.pdf import document_pdf
from webhook.core.workflow import State
from webhook.services.escalation import escalate_once
from webhook.store.models import Base, Event, Notification
from webhook.web.keys import DATABASE, REGISTRY

F01 = {
    "reporter": "sari",
    "contact_confirmed_with": "budi",
    "complaint": "internet mati",
    "affected_service": "internet",
    "reported_at": "2026-11-24T08:00",
}


async def notifications(service: Service) -> list[Notification]:
    async with service.app[DATABASE].read() as session:
        rows = await session.execute(select(Notification).order_by(Notification.id))
        return list(rows.scalars())


async def test_a_channel_that_is_down_is_retried_and_shown(tmp_path: Path) -> None:
    dead = free_port()  # nothing listens there
    notify = {"smtp": {"host": "127.0.0.1", "port": dead, "timeout": "2s"}, "retries": 3}
    notify["backoff"] = "50ms"
    service = await start_service(tmp_path, notify)
    try:
        incident = await open_by_alert(service)
        await act(service, "sari", incident, "confirm", **F01)
        started = datetime.now(UTC)
        status, _ = await act(service, "sari", incident, "report", responsibility="skpd")
        answered = datetime.now(UTC) - started
        assert status == 200
        assert answered < timedelta(seconds=1)  # the workflow did not wait for the channel
        await service.drain()
        rows = await notifications(service)
        assert {(r.recipient, r.status, r.attempts) for r in rows} == {
            ("koord@example.test", "failed", 3),
            ("budi@example.test", "failed", 3),
        }
        assert all("Connect" in (r.last_error or "") for r in rows)
        failed = {"channel": "email", "status": "failed"}
        assert service.app[REGISTRY].get_sample_value("sigap_notifications_total", failed) == 2
        await service.client.post("/login", data={"name": "koord", "password": PASSWORD})
        page = await (await service.client.get(f"/incidents/{incident}")).text()
        assert 'class="failed"' in page and "koord@example.test" in page
    finally:
        await service.client.close()


async def test_the_json_webhook_channel_carries_the_links(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []

    async def gateway(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({"ok": True})

    gateway_app = web.Application()
    gateway_app.router.add_post("/send", gateway)
    server = TestServer(gateway_app, host="127.0.0.1")
    await server.start_server()
    service = await start_service(
        tmp_path, {"webhook": {"url": str(server.make_url("/send"))}, "backoff": "10ms"}
    )
    try:
        incident = await open_by_alert(service)
        await act(service, "sari", incident, "confirm", **F01)
        await act(service, "sari", incident, "report", responsibility="skpd")
        await service.drain()
        to_coordinator = [m for m in received if m["person"] == "koord"]
        assert to_coordinator and to_coordinator[0]["links"]["dispatch"].startswith(
            "http://sigap.test/l/"
        )
        rows = await notifications(service)
        assert {r.status for r in rows} == {"sent"}
        assert sorted(m["idempotency_key"] for m in received) == sorted(
            r.idempotency_key for r in rows
        )
    finally:
        await service.client.close()
        await server.close()


async def test_overdue_stages_escalate_once_to_the_coordinator(
    service: Service, smtp: tuple[Mailbox, int]
) -> None:
    targets = targets_of({"opened": "15m", "reported": "30m"})
    opened_at = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert not overdue("opened", opened_at, targets, opened_at + timedelta(minutes=15))
    assert overdue("opened", opened_at, targets, opened_at + timedelta(minutes=15, seconds=1))
    assert targets[State.REPORTED] == timedelta(minutes=30)
    assert not overdue("closed", opened_at, targets, opened_at + timedelta(days=9))

    incident = await open_by_alert(service)
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert await escalate_once(service.app[DATABASE], targets, later) == [incident]
    assert await escalate_once(service.app[DATABASE], targets, later) == []  # once per stage
    await service.drain()
    mail = smtp[0].to("koord@example.test")
    assert mail and "Terlambat" in mail[0]["Subject"]
    async with service.app[DATABASE].read() as session:
        kinds = list(
            (
                await session.execute(select(Event.kind).where(Event.incident_id == incident))
            ).scalars()
        )
    assert kinds.count("escalate") == 1
    await service.client.post("/login", data={"name": "koord", "password": PASSWORD})
    board = await (await service.client.get("/")).text()
    assert "overdue" not in board  # not yet overdue by the wall clock
    status, _ = await act(service, "koord", incident, "acknowledge")
    assert status == 200
    response = await service.client.get(
        f"/api/v1/incidents/{incident}", headers=bearer(service, "koord")
    )
    assert (await response.json())["state"] == "opened"


def schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    mine = {"form", "used_link", "notification", "notice"}
    return [d for d in compare_metadata(context, Base.metadata) if mine & set(str(d).split("'"))]


async def test_revisions_0002_and_0003_match_the_workflow_models(service: Service) -> None:
    async with service.app[DATABASE].engine.connect() as conn:
        assert await conn.run_sync(schema_diff) == []


def test_f01_and_f04_pdfs_have_the_header_and_unicode() -> None:
    incident = SimpleNamespace(
        id=7, skpd="dinkes", responsibility=None, nodes=[], opened_at=datetime.now(UTC),
        recovered_at=None, closed_at=None, alerts=[], events=[],
    )  # fmt: skip
    for kind in ("f01", "f04"):
        document = build_document(
            kind,
            incident,
            {"findings": "Kabel putus · ±3 m", "staff": "sari"},
            number=None,
            saved_at=incident.opened_at,
            saved_by="sari",
            inventory=None,
            people={},
        )
        pdf = document_pdf(document, DEFAULT_LETTERHEAD)
        assert pdf.startswith(b"%PDF") and b"DejaVu" in pdf


def test_messages_name_the_skpd_as_the_inventory_does() -> None:
    """The subject carries the SKPD's name (the inventory's), the text its name and id; with
    no inventory, the id alone."""
    incident = SimpleNamespace(
        id=7, skpd="dinkes", state="reported", responsibility="skpd", assignee=None,
        estimated_recovery_at=None,
    )  # fmt: skip
    koord = SimpleNamespace(
        name="koord", role="coordinator", email="koord@example.test", phone=None, skpds=[],
        active=True,
    )  # fmt: skip
    config = NotifyConfig(smtp=SmtpConfig(host="127.0.0.1"))
    now = datetime(2026, 11, 30, tzinfo=UTC)

    def told(**name: str) -> Message:
        (message,) = plan(
            "report", incident, [koord], config, secret="s", external_url="http://x", now=now,
            **name,
        )  # fmt: skip
        return message

    named = told(skpd_name="Dinas Kesehatan")
    assert named.subject == "[SIGAP #7] Gangguan dilaporkan: Dinas Kesehatan"
    assert "SKPD Dinas Kesehatan (dinkes) · " in named.text
    plain = told()
    assert plain.subject == "[SIGAP #7] Gangguan dilaporkan: dinkes"
    assert "SKPD dinkes · " in plain.text
