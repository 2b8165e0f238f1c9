"""The workflow's own tables on the webhook's `Base`: forms, used link nonces, notifications.

F-01 and F-04 are kept as JSON per incident and form (their fields grow with the SOP without a
schema change). A used one-click link leaves its nonce here, so a link works once. Every
notification and its delivery state is kept, so a channel that is down shows on the incident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webhook.models import Base


class Form(Base):
    """The latest content of one form (`f01` or `f04`) of an incident."""

    __tablename__ = "form"
    __table_args__ = (UniqueConstraint("incident_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"))
    kind: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any]]
    saved_at: Mapped[datetime]
    saved_by: Mapped[str] = mapped_column(String(100))


class UsedLink(Base):
    """A one-click link that has been used: its nonce may never act again."""

    __tablename__ = "used_link"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    person: Mapped[str] = mapped_column(String(100))
    used_at: Mapped[datetime]


class Notification(Base):
    """One message to one recipient on one channel, and how its delivery went."""

    __tablename__ = "notification"

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
