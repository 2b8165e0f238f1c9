"""The incident record: SQLAlchemy 2.0 typed models, the same on SQLite and PostgreSQL.

States, roles and responsibilities are stored as their string values (see `webhook.core.workflow`),
so the state machine can grow without a schema change. Relationships never lazy-load
(`raise_on_sql`): a query says what it loads (`selectinload(Incident.alerts)`).
Changes of state go through `webhook.core.workflow.transition` and leave an `Event` on the timeline.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}; SIGAP stores aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")


def json_text(value: Any) -> str:
    """JSON as SIGAP writes it (the engines' serializer, and `webhook.store.bulk`'s): orjson,
    about ten times faster than the standard library's, which a storm of alerts notices;
    non-string keys are written as strings, as the standard library does."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


ALERT_FIRING = "status = 'firing'"
"""The condition of the partial index `ix_alert_firing`; a query uses that index only when it
says this literally (a bound parameter cannot prove it)."""

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: Json,
        list[Any]: Json,
    }


class Incident(Base):
    """One outage of one SKPD (or one report), walked through the SOP."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    skpd: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    responsibility: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    """'alert' (opened by Alertmanager) or 'report' (opened by a person)."""
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    """The SKPD while the incident is open, NULL once final: at most one open incident per SKPD."""
    title: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str | None] = mapped_column(Text)
    nodes: Mapped[list[Any]] = mapped_column(default=list)
    """Node ids named by the alerts or the report."""
    group_key: Mapped[str | None] = mapped_column(Text)
    """Alertmanager's groupKey of the notification that opened it."""
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(100))
    recovered_at: Mapped[datetime | None]
    """When the last of its alerts resolved; NULL while any alert fires."""
    closed_at: Mapped[datetime | None]
    truncated_alerts: Mapped[int] = mapped_column(Integer, default=0)
    holder: Mapped[str | None] = mapped_column(String(100))
    """Who holds the incident now (acknowledged or was dispatched)."""
    assignee: Mapped[str | None] = mapped_column(String(100))
    estimated_recovery_at: Mapped[datetime | None]
    stage_entered_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    planned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Its outage started inside a maintenance window of its SKPD (`webhook.core.maintenance`)."""
    skpd_answer: Mapped[str | None] = mapped_column(String(16))
    """The SKPD's answer to "is your connection down?" (SOP 3, `webhook.core.confirmation`):
    down, up or slow; NULL until an admin of the SKPD answered."""
    skpd_answer_by: Mapped[str | None] = mapped_column(String(100))
    skpd_answer_at: Mapped[datetime | None]

    alerts: Mapped[list[Alert]] = relationship(
        back_populates="incident", lazy="raise_on_sql", order_by="Alert.id"
    )
    events: Mapped[list[Event]] = relationship(
        back_populates="incident", lazy="raise_on_sql", order_by="Event.id"
    )


class Alert(Base):
    """One Alertmanager alert: a fingerprint from one `startsAt` until it resolves."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("fingerprint", "starts_at"),
        # The firing alerts by fingerprint: what a notification's alerts may be copies of.
        # Partial, and not an index on status: with one, the databases looked a
        # notification's alerts up among ALL firing ones (every batch of a storm cost more
        # than the one before); reconciliation walks this index too.
        Index(
            "ix_alert_firing",
            "fingerprint",
            sqlite_where=text(ALERT_FIRING),
            postgresql_where=text(ALERT_FIRING),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    """'firing' or 'resolved'."""
    resolved_by: Mapped[str | None] = mapped_column(String(16))
    """'alertmanager' or 'reconcile' (Alertmanager no longer knew it; a later firing revives it)."""
    labels: Mapped[dict[str, Any]]
    annotations: Mapped[dict[str, Any]]
    generator_url: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)

    incident: Mapped[Incident | None] = relationship(back_populates="alerts", lazy="raise_on_sql")


class Event(Base):
    """One line of an incident's timeline: who did what, when, from which state to which."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_incident_id_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    """A workflow action (`webhook.core.workflow.ACTIONS`: ping_check, reopen, ...), `opened`, or a
    record that moves nothing: alerts (firing/resolved), recovered, report."""
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    incident: Mapped[Incident] = relationship(back_populates="events", lazy="raise_on_sql")


class RawNotification(Base):
    """Every body that reached the receiver authenticated (and failed authentications' metadata)."""

    __tablename__ = "raw_notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    remote: Mapped[str | None] = mapped_column(String(100))
    auth_ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    group_key: Mapped[str | None] = mapped_column(Text)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    """argon2id (argon2-cffi's PasswordHasher)."""
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    skpds: Mapped[list[Any]] = mapped_column(default=list)
    """The SKPD ids an skpd_admin may see and report for."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    full_name: Mapped[str | None] = mapped_column(String(200))
    """As it is written under a signature (F-01, F-04); the login name when not given."""
    nip: Mapped[str | None] = mapped_column(String(32))
    """Nomor Induk Pegawai (18 digits), printed under the name on the forms."""


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored (tokens are 256 random bits)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    """False once revoked (`token revoke`, or the user disabled): never usable again."""
    expires_at: Mapped[datetime | None]
    """NULL: never (only when created with `--expires never`)."""
    last_used_at: Mapped[datetime | None]
    """To the minute: written at most once a minute per token."""

    user: Mapped[User] = relationship(lazy="raise_on_sql")


class Form(Base):
    """The latest content of one form (`f01` or `f04`) of an incident."""

    __tablename__ = "form"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind"),
        UniqueConstraint("kind", "number_year", "number_month", "number_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"))
    kind: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any]]
    saved_at: Mapped[datetime]
    saved_by: Mapped[str] = mapped_column(String(100))
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_month: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer)
    """The document number (`F-04/042/XI/2026`): per kind and local month, given once when
    the form is first saved (`webhook.store.moves`); NULL for forms saved before numbers."""


class UsedLink(Base):
    """A one-click link that has been used: its nonce may never act again."""

    __tablename__ = "used_link"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    person: Mapped[str] = mapped_column(String(100))
    used_at: Mapped[datetime]


class Notification(Base):
    """One message to one recipient on one channel, and how its delivery went (the outbox's
    second stage: `webhook.services.delivery` plans it from a `Notice` and sends it)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), index=True)
    """'pending', 'sent' or 'failed' (given up after the last retry)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"), index=True)
    """The notice it was planned from (NULL for rows older than the outbox)."""
    person: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[dict[str, Any]] = mapped_column(default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    """The same on every attempt: the JSON webhook's `idempotency_key`, the email's Message-ID."""
    next_attempt_at: Mapped[datetime | None]
    """When a pending message is due; NULL once sent or failed."""
    claimed_until: Mapped[datetime | None]
    """A replica sending it holds it until then; after that (the replica died) anyone may."""


class Notice(Base):
    """A message an incident owes for a move, written in the move's own transaction (the
    transactional outbox's first stage): a move that commits is never left untold."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    notice: Mapped[str] = mapped_column(String(64))
    """The move told of (`webhook.core.messages.plan`): report, dispatch, ..., escalate."""
    actor: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    planned_at: Mapped[datetime | None] = mapped_column(index=True)
    """NULL until its notifications are planned."""
    error: Mapped[str | None] = mapped_column(Text)
    """Why planning failed (then it has no notifications; shown on the incident)."""


class WebSession(Base):
    """One login of the web UI. The browser's cookie holds a random token; only its SHA-256 is
    stored here, so logging out, a password change or disabling the user ends it for good."""

    __tablename__ = "web_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 (hex) of the cookie's random token."""
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    """Written at most once a minute; the idle timeout counts from it."""
    expires_at: Mapped[datetime] = mapped_column(index=True)
    """The absolute end (login + SIGAP_SESSION_LIFETIME)."""
    revoked_at: Mapped[datetime | None]
    """Logout, password change or disabling: the session never comes back."""
    address: Mapped[str | None] = mapped_column(String(64))
    """The client's address at login (behind a trusted proxy: the forwarded one)."""


class Maintenance(Base):
    """A maintenance window (issue 15): planned work on an SKPD or some of its nodes, carried out
    as one Alertmanager silence per configured Alertmanager (`webhook.services.silences`)."""

    __tablename__ = "maintenance"
    __table_args__ = (Index("ix_maintenance_skpd_ends_at", "skpd", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    skpd: Mapped[str] = mapped_column(String(64))
    nodes: Mapped[list[Any]] = mapped_column(default=list)
    """Node ids; empty: the whole SKPD."""
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(Integer, default=1)
    """Grows with every change of the plan; the silences carry out `synced_revision`."""
    silence_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Alertmanager base URL -> the id of the plan's silence there."""
    synced_revision: Mapped[int | None] = mapped_column(Integer)
    sync_error: Mapped[str | None] = mapped_column(Text)
    """Why the last sync failed (NULL when it worked); the leader retries."""
    synced_at: Mapped[datetime | None]


class RosterRotation(Base):
    """The duty roster's rotation (`webhook.core.roster.Rotation`); every change is a new row,
    the latest is in force (the older ones say who changed what, when)."""

    __tablename__ = "roster_rotation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    people: Mapped[list[Any]]
    """User names, in order of duty."""
    shift_days: Mapped[int] = mapped_column(Integer)
    handover: Mapped[str] = mapped_column(String(5))
    """Local time HH:MM in the regency's time zone (settings.timezone)."""
    starts_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))


class RosterOverride(Base):
    """A change of the roster for a time: a swap (on duty instead) or leave (off duty)."""

    __tablename__ = "roster_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(16))
    """'swap' or 'leave'."""
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class StatusNotice(Base):
    """A notice a coordinator posted on the public status page (issue 22): every one is kept,
    with who posted it; the newest is shown, and an empty one takes the last down."""

    __tablename__ = "status_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    posted_by: Mapped[str] = mapped_column(String(100))
    posted_at: Mapped[datetime]


class TelegramChat(Base):
    """A person's Telegram chat (issue 21): their messages go there, and presses and commands
    from it act as them. One chat per person; linking again moves it."""

    __tablename__ = "telegram_chat"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    linked_at: Mapped[datetime]
    language: Mapped[str | None] = mapped_column(String(8))
    """The words the bot answers this chat in (`/bahasa`, or Telegram's language at linking);
    NULL: the installation's (`notify.language`)."""

    user: Mapped[User] = relationship(lazy="raise_on_sql")


class TelegramGroup(Base):
    """A group chat a coordinator set (issue 21): `noc` gets every page; an SKPD's id gets that
    SKPD's messages and its confirmation question. A press in a group acts as the member who
    pressed, with what that person may do."""

    __tablename__ = "telegram_group"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    scope: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime]


class TelegramLinkCode(Base):
    """A one-time code a logged-in person shows the bot (`/start <code>`); only its SHA-256."""

    __tablename__ = "telegram_link_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class TelegramUpdate(Base):
    """An update from Telegram that was acted on: a redelivered one (the same `update_id`) acts
    no more; the highest is where long polling resumes, on whichever replica leads."""

    __tablename__ = "telegram_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime]


class RepairPhoto(Base):
    """A photo of a repair attached to an incident's F-04 (evidence), as cleaned by
    `webhook.core.photos.clean_photo`: JPEG or PNG, encoded again without metadata."""

    __tablename__ = "repair_photo"
    # ids never come back after a removal (SQLite would reuse the highest): a browser that
    # cached /photos/{id} must not show a removed photo for a new one
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class InboundMessage(Base):
    """A message a person sent by WhatsApp (`channel` whatsapp: Meta's message id) or through
    the generic gateway (its id, when it gives one) that was acted on: a redelivered one acts
    no more. Written in the transaction of what it did."""

    __tablename__ = "inbound_message"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime]
