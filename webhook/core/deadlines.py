"""The SOP's target time for each stage, and whether a stage has overrun it. Pure: the clock is
passed in. Targets are configurable per stage in the `escalation:` section of the config file,
e.g. `escalation: {opened: 15m, reported: 30m}`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from exporter.inventory import parse_duration
from webhook.core.workflow import OPEN_STATES, State

# SOP targets: confirm within 15 minutes, dispatch within 30, and so on.
DEFAULT_TARGETS: dict[State, timedelta] = {
    State.OPENED: timedelta(minutes=15),
    State.PING_CHECKED: timedelta(minutes=15),
    State.CONFIRMED: timedelta(minutes=15),
    State.REPORTED: timedelta(minutes=30),
    State.DISPATCHED: timedelta(hours=1),
    State.ESTIMATED: timedelta(minutes=30),
    State.FORWARDED: timedelta(minutes=30),
    State.REPAIR_ORDERED: timedelta(hours=4),
    State.REPAIRED: timedelta(days=1),
}


def targets_of(section: Mapping[str, Any] | None) -> dict[State, timedelta]:
    targets = dict(DEFAULT_TARGETS)
    for name, value in (section or {}).items():
        try:
            state = State(name)
        except ValueError:
            raise ValueError(f"escalation.{name}: not a stage ({', '.join(State)})") from None
        if state not in OPEN_STATES:
            raise ValueError(f"escalation.{name}: a final stage has no target time")
        targets[state] = timedelta(seconds=parse_duration(value))
    return targets


def overdue(
    state: str, stage_entered_at: datetime, targets: Mapping[State, timedelta], now: datetime
) -> bool:
    target = targets.get(State(state))
    return target is not None and now - stage_entered_at > target
