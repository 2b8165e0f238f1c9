"""Maintenance windows (issue 15): planned work on an SKPD or on some of its nodes, from `starts_at`
to `ends_at`. Pure: the rules a plan obeys, the Alertmanager silence that carries it out, whether
an outage falls inside it, and how much of a month it takes.

- A plan names an SKPD and optionally nodes (empty: the whole SKPD). Its silence matches
  `skpd="dinkes"` for the whole SKPD, and also `node=~"a|b"` (ids regex-escaped) for some nodes:
  the alert rules label every alert with `skpd` and `node`.
- An outage whose start lies inside a window of its SKPD, on nodes the window covers, is planned.
- A plan ends after it starts, lasts at most `MAX_LENGTH`, and does not end in the past (a plan
  typed a minute late may start `GRACE` ago).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from webhook.core.i18n import FIELDS as LABELS
from webhook.core.refusals import Refused

GRACE = timedelta(minutes=15)
"""How far in the past a new plan may start (typed while the work already began)."""
MAX_LENGTH = timedelta(days=31)
"""A longer "maintenance" hides an SKPD for good: that is a change of the inventory instead."""
CREATED_BY = "sigap"
"""The silences' `createdBy` in Alertmanager."""


class PlanInvalid(Refused):
    """A plan that cannot be kept; `field` names the input at fault, `reason` says why."""

    def __init__(self, field: str, message: str, key: str = "invalid", **params: Any) -> None:
        super().__init__(
            message, field, key=key, params={"label": LABELS.get(field, {"id": field}), **params}
        )


class Window(Protocol):
    """What the rules read of a plan (`webhook.store.models.Maintenance`)."""

    @property
    def skpd(self) -> str: ...
    @property
    def nodes(self) -> Sequence[Any]: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def cancelled_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Plan:
    """A plan as people give it (the UI's form, the API's body, the CLI's options)."""

    skpd: str
    nodes: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    reason: str


def parse_time(value: object, field: str, zone: tzinfo) -> datetime:
    """An ISO 8601 time; one without an offset (a form's `datetime-local`) is in `zone`, the
    regency's time."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise PlanInvalid(field, "expected a time like 2026-11-03T22:00", "bad_time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def node_list(value: object) -> tuple[str, ...]:
    """Nodes as a JSON list or a comma-separated text (the form, the CLI)."""
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(n, str) for n in items):
        raise PlanInvalid("nodes", "expected a list of node ids")
    return tuple(n.strip() for n in items if n.strip())


FIELDS = frozenset({"skpd", "nodes", "starts_at", "ends_at", "reason"})


def parse_plan(data: Mapping[str, Any], zone: tzinfo, base: Plan | None = None) -> Plan:
    """A plan from a form or a JSON body; `base`: the plan an edit changes (fields left out
    keep their value). Unknown fields are refused, like every SIGAP form."""
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise PlanInvalid(unknown[0], "unknown field", "unknown_field")
    missing = [f for f in ("skpd", "starts_at", "ends_at", "reason") if f not in data]
    if base is None and missing:
        raise PlanInvalid(missing[0], "required", "required")
    if "skpd" in data and not isinstance(data["skpd"], str):
        raise PlanInvalid("skpd", "expected an SKPD id")
    if "reason" in data and not isinstance(data["reason"], str):
        raise PlanInvalid("reason", "expected a text", "required")
    if base is None:
        return Plan(
            str(data["skpd"]).strip(),
            node_list(data.get("nodes")),
            parse_time(data["starts_at"], "starts_at", zone),
            parse_time(data["ends_at"], "ends_at", zone),
            str(data["reason"]),
        )
    return Plan(
        str(data["skpd"]).strip() if "skpd" in data else base.skpd,
        node_list(data["nodes"]) if "nodes" in data else base.nodes,
        parse_time(data["starts_at"], "starts_at", zone) if "starts_at" in data else base.starts_at,
        parse_time(data["ends_at"], "ends_at", zone) if "ends_at" in data else base.ends_at,
        str(data["reason"]) if "reason" in data else base.reason,
    )


def check_plan(plan: Plan, now: datetime, *, new: bool) -> Plan:
    """`plan` when it can be kept; PlanInvalid otherwise. An edit (`new=False`) may keep a start
    in the past (the window is running); a new plan may start at most `GRACE` ago."""
    if plan.starts_at.tzinfo is None or plan.ends_at.tzinfo is None:
        raise PlanInvalid("starts_at", "times need a time zone", "bad_time")
    if plan.ends_at <= plan.starts_at:
        raise PlanInvalid(
            "ends_at", "the end must come after the start", "end_before_start",
            start=LABELS["starts_at"],
        )  # fmt: skip
    if plan.ends_at <= now:
        raise PlanInvalid("ends_at", "the end is in the past", "not_ahead")
    if new and plan.starts_at < now - GRACE:
        minutes = int(GRACE.total_seconds() // 60)
        raise PlanInvalid(
            "starts_at",
            f"the start is more than {minutes} minutes in the past",
            "start_too_early",
            minutes=minutes,
        )
    if plan.ends_at - plan.starts_at > MAX_LENGTH:
        raise PlanInvalid(
            "ends_at",
            f"a window lasts at most {MAX_LENGTH.days} days",
            "window_too_long",
            days=MAX_LENGTH.days,
        )
    reason = plan.reason.strip()
    if not reason or len(reason) > 500:
        raise PlanInvalid("reason", "say why, in 1 to 500 characters", "too_long", max=500)
    if len(set(plan.nodes)) != len(plan.nodes):
        raise PlanInvalid("nodes", "a node is named twice", "node_twice")
    return Plan(plan.skpd, plan.nodes, plan.starts_at, plan.ends_at, reason)


def matchers(skpd: str, nodes: Sequence[str]) -> list[dict[str, Any]]:
    """Alertmanager API v2 matchers of a plan's silence."""
    found: list[dict[str, Any]] = [
        {"name": "skpd", "value": skpd, "isRegex": False, "isEqual": True}
    ]
    if nodes:
        pattern = "|".join(re.escape(node) for node in sorted(nodes))
        found.append({"name": "node", "value": pattern, "isRegex": True, "isEqual": True})
    return found


def silence_body(plan_id: int, window: Window, reason: str) -> dict[str, Any]:
    """The `POST /api/v2/silences` body of a plan (without the id of a silence it replaces)."""
    return {
        "matchers": matchers(window.skpd, list(window.nodes)),
        "startsAt": window.starts_at.isoformat(),
        "endsAt": window.ends_at.isoformat(),
        "createdBy": CREATED_BY,
        "comment": f"SIGAP pemeliharaan #{plan_id}: {reason}",
    }


def is_active(window: Window, at: datetime) -> bool:
    return window.cancelled_at is None and window.starts_at <= at < window.ends_at


def covers(window: Window, skpd: str, nodes: Iterable[str], at: datetime) -> bool:
    """Whether an outage of `nodes` of `skpd` starting `at` is inside the window. A window on
    some nodes covers an outage only when it names every node of it (an outage naming no node,
    a report, is covered only by a window on the whole SKPD)."""
    if window.skpd != skpd or not is_active(window, at):
        return False
    named = set(nodes)
    return not window.nodes or (bool(named) and named <= set(window.nodes))


def planned(windows: Iterable[Window], skpd: str, nodes: Iterable[str], at: datetime) -> bool:
    """An outage (alert or report) starting `at` is planned when a window covers it: the one
    rule the intake and the reports follow."""
    named = list(nodes)
    return any(covers(w, skpd, named, at) for w in windows)


def intervals_within(
    windows: Iterable[Window], skpd: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The SKPD's window time within [start, end), overlapping windows merged, sorted. Windows
    on some of its nodes count too: the monthly figure is per SKPD."""
    spans = sorted(
        (max(w.starts_at, start), min(w.ends_at, w.cancelled_at or w.ends_at, end))
        for w in windows
        if w.skpd == skpd
    )
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in spans:
        if hi <= lo:
            continue
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def sync_state(
    revision: int, synced_revision: int | None, error: str | None, alertmanagers: int
) -> str:
    """How a plan stands with Alertmanager: `synced`, `pending` (changed, not yet carried out),
    `failed` (the last try failed: retried by the leader's loop) or `none` (no Alertmanager)."""
    if alertmanagers == 0:
        return "none"
    if error is not None:
        return "failed"
    return "synced" if synced_revision == revision else "pending"
