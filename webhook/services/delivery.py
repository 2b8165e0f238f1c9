"""Who is told what at each SOP step, and delivery by email (SMTP) and a generic JSON webhook.

`plan()` is pure: from a committed move, the incident and the users it returns the messages,
each with the signed one-click links its recipient may use. `Notifier` delivers them in
background tasks (the workflow never waits for a channel), retries a channel that is down with
exponential backoff, and records every message and its fate in `Notification`, so a failure shows
on the incident.

Configured in the `notify:` section of the webhook's config file::

    notify:
      smtp: {host: mail.example, port: 587, sender: sigap@example, starttls: true,
             username: sigap, password: secret}
      webhook: {url: https://wa-gateway.example/send}   # gets {"to", "subject", "text", "links"}
      retries: 5            # attempts per message and channel
      backoff: 2s           # first wait; doubles each time
      link_lifetime: 24h
      rules:                # SOP move -> who is told (coordinator, skpd_admin, staff, assignee)
        report: [coordinator, skpd_admin]
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiohttp
import aiosmtplib
from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select

from exporter.inventory import Duration
from webhook.core import links
from webhook.core.figures import MessageDelivered
from webhook.core.workflow import Role
from webhook.store.database import Database, publish
from webhook.store.models import Event, Incident, User

log = logging.getLogger("sigap.notify")

# SOP steps 4, 5, 7, 8, 9 and the escalation of an overdue stage.
DEFAULT_RULES: dict[str, list[str]] = {
    "report": ["coordinator", "skpd_admin"],
    "dispatch": ["assignee"],
    "estimate": ["coordinator"],
    "forward": ["skpd_admin"],
    "order_repair": ["assignee"],
    "repair": ["skpd_admin", "coordinator"],
    "escalate": ["coordinator"],
}
# The one-click link a recipient of a move gets: (move, role) -> the action of the link.
LINK_ACTIONS: dict[tuple[str, str], str] = {
    ("report", "coordinator"): "dispatch",
    ("estimate", "coordinator"): "forward",
    ("forward", "coordinator"): "order_repair",
    ("repair", "skpd_admin"): "close",
    ("escalate", "coordinator"): "acknowledge",
}
SUBJECTS = {
    "report": "Gangguan dilaporkan",
    "dispatch": "Anda ditugaskan",
    "estimate": "Estimasi pemulihan",
    "forward": "Estimasi pemulihan dari Kominfo",
    "order_repair": "Perintah perbaikan",
    "repair": "Form tindakan F-04",
    "escalate": "Terlambat: perlu tindakan",
}


class SmtpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str
    port: int = 25
    sender: str = "sigap@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: Duration = 10.0


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str
    headers: dict[str, str] = {}
    timeout: Duration = 10.0


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    smtp: SmtpConfig | None = None
    webhook: WebhookConfig | None = None
    retries: int = 5
    backoff: Duration = 2.0
    link_lifetime: Duration = 86400.0
    rules: dict[str, list[str]] = DEFAULT_RULES


def notify_config(section: Mapping[str, Any] | None) -> NotifyConfig:
    """The `notify:` section, validated (ValueError naming the field otherwise)."""
    try:
        return NotifyConfig.model_validate(section or {})
    except ValidationError as error:
        problems = "; ".join(
            f"notify.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ValueError(problems) from None


@dataclass(frozen=True, slots=True)
class Message:
    channel: str  # 'email' or 'webhook'
    recipient: str  # an address or a user name/phone
    person: str
    subject: str
    text: str
    links: dict[str, str] = field(default_factory=dict)
    attachments: tuple[tuple[str, bytes], ...] = ()


def recipients(audience: Sequence[str], incident: Incident, users: Sequence[User]) -> list[User]:
    chosen: dict[str, User] = {}
    for user in users:
        if not user.active:
            continue
        for who in audience:
            if (
                (who == "assignee" and user.name == incident.assignee)
                or (
                    who == "skpd_admin"
                    and user.role == Role.SKPD_ADMIN
                    and incident.skpd in user.skpds
                )
                or (who in ("coordinator", "staff") and user.role == who)
            ):
                chosen[user.name] = user
    return list(chosen.values())


def plan(
    move: str,
    incident: Incident,
    users: Sequence[User],
    config: NotifyConfig,
    *,
    secret: str,
    external_url: str,
    now: datetime,
    detail: str = "",
) -> list[Message]:
    """The messages a committed `move` sends: one per recipient and configured channel."""
    messages = []
    lifetime = timedelta(seconds=config.link_lifetime)
    subject = f"[SIGAP #{incident.id}] {SUBJECTS.get(move, move)}: {incident.skpd}"
    page = f"{external_url.rstrip('/')}/incidents/{incident.id}"
    for user in recipients(config.rules.get(move, []), incident, users):
        user_links = {"incident": page}
        link_action = LINK_ACTIONS.get((move, user.role))
        if link_action:
            token = links.sign(secret, incident.id, link_action, user.name, now, lifetime)
            user_links[link_action] = links.url(external_url, token)
        lines = [
            f"Insiden #{incident.id} · SKPD {incident.skpd} · status {incident.state}",
            f"Tanggung jawab: {incident.responsibility or '-'}",
        ]
        if incident.assignee:
            lines.append(f"Staf: {incident.assignee}")
        if incident.estimated_recovery_at:
            lines.append(f"Estimasi pulih: {incident.estimated_recovery_at:%Y-%m-%d %H:%M} UTC")
        if detail:
            lines.append(detail)
        lines.append("")
        lines += [f"{name}: {target}" for name, target in user_links.items()]
        text = "\n".join(lines) + "\n"
        if config.smtp is not None and user.email:
            messages.append(Message("email", user.email, user.name, subject, text, user_links))
        if config.webhook is not None and (user.phone or user.email):
            recipient = user.phone or user.name
            messages.append(Message("webhook", recipient, user.name, subject, text, user_links))
    return messages


async def send_email(config: SmtpConfig, message: Message) -> None:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = config.sender, message.recipient, message.subject
    email.set_content(message.text)
    for filename, content in message.attachments:
        email.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
    await aiosmtplib.send(
        email,
        hostname=config.host,
        port=config.port,
        start_tls=config.starttls,
        username=config.username,
        password=config.password,
        timeout=config.timeout,
    )


async def send_webhook(config: WebhookConfig, message: Message) -> None:
    body = {
        "to": message.recipient,
        "person": message.person,
        "subject": message.subject,
        "text": message.text,
        "links": message.links,
    }
    timeout = aiohttp.ClientTimeout(total=config.timeout)
    async with (
        aiohttp.ClientSession(timeout=timeout) as client,
        client.post(config.url, json=body, headers=config.headers) as response,
    ):
        response.raise_for_status()


class Notifier:
    """Delivers planned messages in background tasks, with retries, recording each outcome."""

    def __init__(
        self,
        database: Database,
        config: NotifyConfig,
        *,
        secret: str,
        external_url: str,
        attachments: Callable[[Incident, str], Any] | None = None,
    ) -> None:
        self.database, self.config = database, config
        self.secret, self.external_url = secret, external_url
        self.attachments = attachments
        self._tasks: set[asyncio.Task[None]] = set()

    async def event_committed(self, incident_id: int, event_id: int) -> None:
        self._spawn(self._notify_event(incident_id, event_id))

    async def notify(self, incident_id: int, move: str, detail: str = "") -> None:
        self._spawn(self._notify(incident_id, move, detail))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every delivery under way (tests; shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _notify_event(self, incident_id: int, event_id: int) -> None:
        async with self.database.read() as session:
            event = await session.get(Event, event_id)
        if event is not None:
            await self._notify(incident_id, event.kind, "")

    async def _notify(self, incident_id: int, move: str, detail: str) -> None:
        from webhook.store.models import Notification

        now = datetime.now(UTC)
        async with self.database.read() as session:
            incident = await session.get(Incident, incident_id)
            users = list((await session.execute(select(User))).scalars())
        if incident is None:
            return
        messages = plan(
            move,
            incident,
            users,
            self.config,
            secret=self.secret,
            external_url=self.external_url,
            now=now,
            detail=detail,
        )
        for message in messages:
            if self.attachments is not None and move == "repair" and message.channel == "email":
                attached = await self.attachments(incident, message.person)
                message = Message(**{**_fields(message), "attachments": attached})
            async with self.database.write() as session:
                row = Notification(
                    incident_id=incident_id,
                    event=move,
                    channel=message.channel,
                    recipient=message.recipient,
                    subject=message.subject,
                    status="pending",
                    attempts=0,
                    created_at=now,
                )
                session.add(row)
                await session.flush()
                row_id = row.id
            self._spawn(self._deliver(row_id, message))

    async def _deliver(self, row_id: int, message: Message) -> None:
        from webhook.store.models import Notification

        wait = self.config.backoff
        for attempt in range(1, self.config.retries + 1):
            error: str | None = None
            try:
                if message.channel == "email" and self.config.smtp is not None:
                    await send_email(self.config.smtp, message)
                elif self.config.webhook is not None:
                    await send_webhook(self.config.webhook, message)
            except (OSError, aiosmtplib.SMTPException, aiohttp.ClientError, TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            last = attempt == self.config.retries
            async with self.database.write() as session:
                row = await session.get(Notification, row_id)
                if row is not None:
                    row.attempts, row.last_error = attempt, error
                    if error is None:
                        row.status, row.sent_at = "sent", datetime.now(UTC)
                    elif last:
                        row.status = "failed"
                    if row.status != "pending":
                        publish(session, MessageDelivered(message.channel, row.status))
            if error is None:
                return
            log.warning("notification %d via %s failed (%s)", row_id, message.channel, error)
            if not last:
                await asyncio.sleep(wait)
                wait *= 2


def _fields(message: Message) -> dict[str, Any]:
    return {f: getattr(message, f) for f in message.__dataclass_fields__}


NOTIFIER = web.AppKey("notifier", Notifier)
