"""Fixtures of the workflow tests: the real webhook app on SQLite, people, a real SMTP server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiosmtpd.controller import Controller
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from webhook.core.credentials import hash_password, hash_token, new_api_token
from webhook.settings import load_settings
from webhook.store.database import Database
from webhook.store.models import ApiToken, Notice, Notification, User
from webhook.web.app import create_app
from webhook.web.keys import DATABASE

SECRET = "workflow-test-secret"
ALERTMANAGER_TOKEN = "am-token"
PASSWORD = "rahasia-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server (aiosmtpd) on a free local port."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def config_file(tmp_path: Path, notify: dict[str, Any], **sections: Any) -> str:
    path = tmp_path / "sigap.yml"
    path.write_text(yaml.safe_dump({"notify": notify, **sections}))
    return str(path)


@dataclass
class Service:
    app: web.Application
    client: TestClient[Any, Any]
    tokens: dict[str, str]

    async def drain(self) -> None:
        """Wait until every notice owed is planned and every message sent or given up."""
        await outbox_settled(self.app[DATABASE])


async def outbox_settled(database: Database) -> None:
    """Wait until `database` owes no unplanned notice and no pending message."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        async with database.read() as session:
            owed = await session.scalar(
                select(func.count()).select_from(Notice).where(Notice.planned_at.is_(None))
            )
            pending = await session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.status == "pending")
            )
        if not owed and not pending:
            return
        assert loop.time() < deadline, f"{owed} notices unplanned, {pending} messages pending"
        await asyncio.sleep(0.02)


PEOPLE = [
    ("sari", "staff", []),
    ("andi", "staff", []),
    ("koord", "coordinator", []),
    ("budi", "skpd_admin", ["dinkes"]),
    ("wati", "skpd_admin", ["disdik"]),
    ("noc", "viewer", []),
]


async def add_people(database: Database) -> dict[str, str]:
    tokens = {}
    hashed = hash_password(PASSWORD)
    async with database.write() as session:
        for name, role, skpds in PEOPLE:
            user = User(
                name=name,
                role=role,
                password_hash=hashed,
                email=f"{name}@example.test",
                skpds=skpds,
                active=True,
                created_at=datetime.now(UTC),
            )
            session.add(user)
            await session.flush()
            tokens[name] = new_api_token()
            session.add(
                ApiToken(
                    user_id=user.id,
                    token_hash=hash_token(tokens[name]),
                    created_at=datetime.now(UTC),
                    active=True,
                )
            )
    return tokens


class MovableClock:
    """The service's clock in a test: now, until the test moves it (`advance`)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, by: timedelta) -> None:
        self.offset += by


async def start_service(
    tmp_path: Path,
    notify: dict[str, Any],
    env: dict[str, str] | None = None,
    clock: MovableClock | None = None,
    **sections: Any,
) -> Service:
    """The app with `notify:` and other `sections` in its config file; `env` adds SIGAP_*;
    `clock` is the service's time."""
    settings = load_settings(
        config_file(tmp_path, notify, **sections),
        env={
            "SIGAP_DATABASE_URL": f"sqlite:///{tmp_path / 'sigap.db'}",
            "SIGAP_SECRET_KEY": SECRET,
            "SIGAP_ALERTMANAGER_TOKEN": ALERTMANAGER_TOKEN,
            "SIGAP_PING_CHECK": "false",
            "SIGAP_EXTERNAL_URL": "http://sigap.test",
            **(env or {}),
        },
    )
    app = create_app(settings, CollectorRegistry(), clock or MovableClock())
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    tokens = await add_people(app[DATABASE])
    return Service(app, client, tokens)


@pytest.fixture
async def service(tmp_path: Path, smtp: tuple[Mailbox, int]) -> AsyncIterator[Service]:
    notify = {"smtp": {"host": "127.0.0.1", "port": smtp[1]}, "retries": 2, "backoff": "10ms"}
    running = await start_service(tmp_path, notify)
    try:
        yield running
    finally:
        await running.drain()
        await running.client.close()


def alert_notification(skpd: str, node: str) -> dict[str, Any]:
    start = datetime.now(UTC).isoformat()
    labels = {"alertname": "SigapNodeDown", "skpd": skpd, "node": node, "responsibility": "skpd"}
    return {
        "version": "4",
        "receiver": "sigap",
        "status": "firing",
        "groupKey": f'{{}}:{{skpd="{skpd}"}}',
        "truncatedAlerts": 0,
        "groupLabels": {"skpd": skpd},
        "commonLabels": {"skpd": skpd},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.test",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": f"{node} of {skpd} is down"},
                "startsAt": start,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.test/graph",
                "fingerprint": f"{skpd}-{node}",
            }
        ],
    }


async def open_by_alert(service: Service, skpd: str = "dinkes", node: str = "dinkes-gw") -> int:
    response = await service.client.post(
        "/api/v1/alertmanager",
        json=alert_notification(skpd, node),
        headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
    )
    assert response.status == 200, await response.text()
    listed = await service.client.get(
        f"/api/v1/incidents?skpd={skpd}&open=true",
        headers={"Authorization": f"Bearer {service.tokens['koord']}"},
    )
    incidents = (await listed.json())["incidents"]
    assert len(incidents) == 1
    return int(incidents[0]["id"])
