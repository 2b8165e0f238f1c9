"""How long each kind of finished row is kept (issue 23): pure, the clock passed in.

Only rows that are done are ever pruned: an authenticated notification once recorded, a message
sent or given up, a session that ended, a link nonce used. Incidents, their timeline, their
alerts and forms are the record and are never pruned.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from exporter.inventory import Duration

DAY = 86400.0

KINDS = (
    "raw_notification",
    "notification",
    "web_session",
    "used_link",
    "telegram_update",
    "telegram_link_code",
    "inbound_message",
)
"""The tables pruned, in the order a round prunes them."""


class RetentionConfig(BaseModel):
    """`retention:` of the settings file; each a duration (`2160h`: 90 days), null: forever."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    raw_notification: Duration | None = 90 * DAY
    notification: Duration | None = 180 * DAY
    web_session: Duration | None = 30 * DAY
    used_link: Duration | None = 90 * DAY
    telegram_update: Duration | None = 30 * DAY
    """Telegram's updates acted on (their ids refuse a redelivery, which Telegram makes within
    a day at most); the newest is always kept: long polling resumes after it."""
    telegram_link_code: Duration | None = 30 * DAY
    """One-time link codes expired this long ago (used or not)."""
    inbound_message: Duration | None = 30 * DAY
    """WhatsApp's and the gateway's messages acted on (their ids refuse a redelivery, which
    Meta retries for up to 7 days)."""
    interval: Duration = 600.0
    """How often the leader prunes."""
    batch: int = 500
    """Rows per DELETE: each a short write transaction, so the receiver never waits long."""


def cutoffs(config: RetentionConfig, now: datetime) -> dict[str, datetime]:
    """The time before which each kind's finished rows go; kinds kept forever are absent."""
    return {
        kind: now - timedelta(seconds=keep)
        for kind in KINDS
        if (keep := getattr(config, kind)) is not None
    }
