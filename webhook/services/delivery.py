"""Delivery of notifications from the outbox, by email (SMTP), a generic JSON webhook,
Telegram (`webhook.services.telegram`: people who linked their chat; Telegram's 429
`retry_after` puts the next attempt no earlier than it asks) and WhatsApp's Cloud API
(`webhook.services.whatsapp`: people with a phone number, from their record or the
inventory's contacts).

A move's transaction owes its notices (`webhook.store.outbox.owe`); `Delivery`, a worker in every
replica, plans them into messages (`webhook.core.messages.plan`, the incident as it is then) and
sends them, with retries and exponential backoff (`notify:` `retries`, `backoff`), recording every
attempt in `Notification`, so a failure shows on the incident and, once final, in
`sigap_notifications_total{channel,status}`.

Delivery is at least once: a message is sent, then recorded as sent; a replica killed in between
sends it again once its claim's lease ends (`notify: lease`). Each message carries one
idempotency key on every attempt (the JSON body's `idempotency_key`, the `Idempotency-Key` header,
the email's `Message-ID`), by which a receiver can drop the repeat. Claims are short write
transactions; nothing is sent while a transaction is open. The worker wakes when this process
commits a notice, when a retry is due, and every `notify: poll` (notices of other replicas).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from zoneinfo import ZoneInfo

import aiohttp
import aiosmtplib
from sqlalchemy import select

from exporter.clock import Clock, system_clock
from webhook.core import whatsapp
from webhook.core.figures import Fact, NoticeOwed
from webhook.core.localtime import DEFAULT_ZONE
from webhook.core.messages import (
    BUTTON,
    CHOICE,
    Message,
    NotifyConfig,
    SmtpConfig,
    WebhookConfig,
    options,
    plan,
)
from webhook.core.phones import ContactLike, phones_of
from webhook.services.paging import duty_at, paged_people
from webhook.services.telegram import SEND_ERRORS as TELEGRAM_ERRORS
from webhook.services.telegram import Telegram, TelegramDeferred
from webhook.services.whatsapp import SEND_ERRORS as WHATSAPP_ERRORS
from webhook.services.whatsapp import WhatsApp
from webhook.store.chat import chats_by_person
from webhook.store.chat import groups as telegram_groups
from webhook.store.database import DATABASE_ERRORS, Database
from webhook.store.models import Incident, User
from webhook.store.outbox import (
    Claimed,
    add_planned,
    claim_due,
    claim_notices,
    next_due,
    record_attempt,
)

log = logging.getLogger("sigap.notify")

Attachments = Callable[[int], Awaitable[tuple[tuple[str, bytes], ...]]]
"""The files an email of an incident's `repair` notice carries (F-04 as PDF), made at send time."""
Evidence = Callable[[int], Awaitable[str]]
"""The lines a `repair` notice's messages add: the F-04's evidence (outage, ping check, nodes)."""
SEND_ERRORS = (OSError, aiosmtplib.SMTPException, aiohttp.ClientError, TimeoutError)
"""What a channel that is down, slow or refusing raises: the attempt failed, retry later."""
BATCH = 50
"""Notices planned, or messages claimed, per transaction."""
CLOSE_GRACE = 5.0
"""Seconds a stopping worker lets the messages it is sending finish (else their leases end)."""


def message_id(key: str, sender: str) -> str:
    """The email's Message-ID: the notification's idempotency key at the sender's domain, the
    same on every attempt and on every replica."""
    return f"<{key}@{sender.rpartition('@')[2] or 'sigap.invalid'}>"


async def send_email(
    config: SmtpConfig,
    message: Message,
    key: str,
    attachments: Sequence[tuple[str, bytes]] = (),
) -> None:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = config.sender, message.recipient, message.subject
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id(key, config.sender)
    email.set_content(message.text)
    for filename, content in attachments:
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


async def send_webhook(
    client: aiohttp.ClientSession,
    config: WebhookConfig,
    message: Message,
    key: str,
    incident_id: int = 0,
    lang: str = "id",
) -> None:
    """POST the message to the gateway; its options (the signed buttons a reply `1` answers)
    become numbered lines of its text, their data stays in SIGAP."""
    offered = options(message.links, lang)
    text = message.text
    if offered:
        labels = [label for label, _ in offered]
        text += "\n" + whatsapp.options_text(labels, incident_id, lang)
    body = {
        "to": message.recipient,
        "person": message.person,
        "subject": message.subject,
        "text": text,
        "links": {k: v for k, v in message.links.items() if not k.startswith((BUTTON, CHOICE))},
        "idempotency_key": key,
    }
    async with client.post(
        config.url,
        json=body,
        headers={"Idempotency-Key": key, **config.headers},
        timeout=aiohttp.ClientTimeout(total=config.timeout),
    ) as response:
        response.raise_for_status()


class Delivery:
    """The outbox's worker: plans owed notices, sends due messages, records every attempt."""

    def __init__(
        self,
        database: Database,
        config: NotifyConfig,
        *,
        secret: str,
        external_url: str | None,
        attachments: Attachments | None = None,
        evidence: Evidence | None = None,
        clock: Clock = system_clock,
        zone: str = DEFAULT_ZONE,
        skpd_name: Callable[[str], str] = str,
        telegram: Telegram | None = None,
        whatsapp: WhatsApp | None = None,
        contacts: Mapping[str, Sequence[ContactLike]] | None = None,
        gateway_replies: bool = False,
    ) -> None:
        self.database, self.config = database, config
        self.telegram = telegram
        self.whatsapp = whatsapp
        self.contacts = contacts or {}
        """The inventory's contacts by SKPD: a person's number when their record has none."""
        self.gateway_replies = gateway_replies
        self.skpd_name = skpd_name
        """An SKPD's name by its id (the inventory's), for the messages."""
        self.secret, self.external_url = secret, external_url
        self.attachments = attachments
        self.evidence = evidence
        self.clock = clock
        self.zone = zone
        """The regency's time zone: the messages' times are written in it, the duty roster's
        shifts hand over in it."""
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def nudge(self) -> None:
        """Look for work now rather than at the next poll."""
        self._wake.set()

    def committed(self, facts: Sequence[Fact]) -> None:
        """`Database.subscribe`: a transaction of this process that owes a notice wakes us."""
        if any(isinstance(fact, NoticeOwed) for fact in facts):
            self.nudge()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def close(self) -> None:
        """Stop after the round under way (its sends given `CLOSE_GRACE` seconds)."""
        self._closing = True
        self.nudge()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, CLOSE_GRACE)

    async def run(self) -> None:
        while not self._closing:
            self._wake.clear()
            try:
                busy = await self.round()
                wait = 0.0 if busy else await self._idle_wait()
            except DATABASE_ERRORS as error:
                log.warning("delivery round failed: %s", error)
                wait = self.config.poll
            except Exception:  # a bug in one round must not end delivery for good
                log.exception("delivery round failed")
                wait = self.config.poll
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)

    async def round(self) -> bool:
        """Plan what is owed, send what is due; whether there was anything to do."""
        planned = await self.plan_owed()
        sent = await self.send_due()
        return planned + sent > 0

    async def _idle_wait(self) -> float:
        async with self.database.read() as session:
            due = await next_due(session)
        if due is None:
            return self.config.poll
        return min(max((due - self.clock()).total_seconds(), 0.0), self.config.poll)

    async def plan_owed(self) -> int:
        """Turn unplanned notices into pending notifications, in one transaction. A notice whose
        planning raises is marked with the error and logged; the others go on."""
        now = self.clock()
        async with self.database.write() as session:
            notices = await claim_notices(session, BATCH)
            if not notices:
                return 0
            ids = {notice.incident_id for notice in notices}
            incidents = await session.execute(select(Incident).where(Incident.id.in_(ids)))
            by_id = {incident.id: incident for incident in incidents.scalars()}
            users = list((await session.execute(select(User))).scalars())
            kinds = {notice.notice for notice in notices}
            # the page of a new outage goes to whoever is on duty now; a chain's step to whom
            # it named
            on_duty = (
                (await duty_at(session, ZoneInfo(self.zone), now)).now
                if any("on_duty" in self.config.rules.get(kind, []) for kind in kinds)
                else []
            )
            paged = await paged_people(session, ids) if "page" in kinds else {}
            chats = await chats_by_person(session) if self.telegram is not None else {}
            numbers = phones_of(users, self.contacts)
            groups = await telegram_groups(session) if self.telegram is not None else {}
            for notice in notices:
                try:
                    detail = notice.detail
                    if notice.notice == "repair" and self.evidence is not None:
                        detail = "\n".join(
                            p for p in (detail, await self.evidence(notice.incident_id)) if p
                        )
                    messages = plan(
                        notice.notice,
                        by_id[notice.incident_id],
                        users,
                        self.config,
                        secret=self.secret,
                        external_url=self.external_url,
                        now=now,
                        detail=detail,
                        on_duty=on_duty,
                        paged=paged.get((notice.incident_id, notice.created_at), []),
                        zone=self.zone,
                        skpd_name=self.skpd_name(by_id[notice.incident_id].skpd),
                        telegram_chats=chats,
                        phone_numbers=numbers,
                        whatsapp_cloud=self.whatsapp is not None,
                        gateway_replies=self.gateway_replies,
                        telegram_groups=groups,
                    )
                except Exception as error:  # one notice's bug must not hold up the others
                    log.exception(
                        "could not plan notice %d (%s of incident %d)",
                        notice.id,
                        notice.notice,
                        notice.incident_id,
                    )
                    notice.error, notice.planned_at = f"{type(error).__name__}: {error}", now
                else:
                    add_planned(session, notice, messages, now)
        return len(notices)

    async def send_due(self) -> int:
        """Claim due messages (short transaction), send them concurrently (no transaction
        open), record the attempts (short transaction)."""
        lease = timedelta(seconds=self.config.lease)
        async with self.database.write() as session:
            claimed = await claim_due(session, self.clock(), lease, BATCH)
        if not claimed:
            return 0
        deferred: dict[int, float] = {}
        async with aiohttp.ClientSession() as client:
            errors = await asyncio.gather(*(self._send(client, c, deferred) for c in claimed))
        finished = self.clock()
        async with self.database.write() as session:
            for notification, error in zip(claimed, errors, strict=True):
                wait = deferred.get(notification.id)
                await record_attempt(
                    session, notification, error, finished, self.config,
                    not_before=finished + timedelta(seconds=wait) if wait is not None else None,
                )  # fmt: skip
        return len(claimed)

    async def _send(
        self, client: aiohttp.ClientSession, claimed: Claimed, deferred: dict[int, float]
    ) -> str | None:
        """Send one message; the error that failed the attempt, or None. A channel's "not
        before N seconds" (Telegram's 429) goes into `deferred` by the notification's id."""
        message, key = claimed.message, claimed.idempotency_key
        try:
            if message.channel == "email" and self.config.smtp is not None:
                files: tuple[tuple[str, bytes], ...] = ()
                if self.attachments is not None and claimed.event == "repair":
                    files = await self.attachments(claimed.incident_id)
                await send_email(self.config.smtp, message, key, files)
            elif message.channel == "webhook" and self.config.webhook is not None:
                await send_webhook(
                    client, self.config.webhook, message, key, claimed.incident_id,
                    self.config.language,
                )  # fmt: skip
            elif message.channel == "telegram" and self.telegram is not None:
                await self.telegram.send(message, self.config.language)
            elif message.channel == "whatsapp" and self.whatsapp is not None:
                await self.whatsapp.send(
                    client, message, claimed.incident_id, self.config.language, key
                )
            else:
                return f"channel {message.channel} is no longer configured"
        except (*SEND_ERRORS, *TELEGRAM_ERRORS, *WHATSAPP_ERRORS) as exc:
            if isinstance(exc, TelegramDeferred):
                deferred[claimed.id] = exc.retry_after
            error = f"{type(exc).__name__}: {exc}"
            log.warning("notification %d via %s failed (%s)", claimed.id, message.channel, error)
            return error
        except Exception as exc:  # recorded, not left claimed: a bug shows on the incident
            log.exception("notification %d via %s failed", claimed.id, message.channel)
            return f"{type(exc).__name__}: {exc}"
        return None
