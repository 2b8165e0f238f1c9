"""Alertmanager's webhook payload (version 4), validated: what a notification must hold for SIGAP
to record it. Errors name the path of the bad value (the receiver answers 422 with them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _utc(value: datetime) -> datetime:
    """As the database gives it back: UTC (a time without zone is taken as UTC)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    fingerprint: str = Field(min_length=1, max_length=64)
    generatorURL: str | None = None

    @field_validator("startsAt")
    @classmethod
    def _started(cls, value: datetime) -> datetime:
        if value.year < 1970:
            raise ValueError("startsAt must be a real time (after 1970)")
        return _utc(value)

    @field_validator("endsAt")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None or value.year < 1970:  # Go's zero time: "not ended"
            return None
        return _utc(value)

    @field_validator("labels")
    @classmethod
    def _skpd_fits(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value.get("skpd", "")) > 64:
            raise ValueError("the skpd label is longer than 64 characters")
        return value


class AlertmanagerNotification(BaseModel):
    """Alertmanager's webhook payload, version 4."""

    model_config = ConfigDict(extra="allow")

    version: str = "4"
    receiver: str
    status: Literal["firing", "resolved"]
    alerts: list[AlertIn]
    groupKey: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    truncatedAlerts: int = Field(default=0, ge=0)
