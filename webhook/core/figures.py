"""The SOP's figures: "time to detect, to confirm, to dispatch, to estimate, to repair; how good
the estimates were; which SKPD and which responsibility side has the most downtime" (SOP.md).

Pure: an incident's events, alerts and F-04 in, seconds out, the clock passed in. The same
functions feed the live metrics (`webhook.services.metrics`) and the monthly report
(`webhook.core.monthly`), so the two never disagree on what a figure means.

The facts at the bottom are what one write transaction changed; the writer hands them to
`webhook.store.database.publish()`, and they reach the metrics only once that transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from webhook.core.workflow import State

TIMED_STAGES: dict[str, State] = {
    "confirm": State.CONFIRMED,  # SOP 3: F-01
    "dispatch": State.DISPATCHED,  # SOP 5
    "estimate": State.ESTIMATED,  # SOP 6
    "repair": State.REPAIRED,  # SOP 9: F-04
    "close": State.CLOSED,  # F-04 acknowledged
}
"""The stages timed from the incident's opening, by the name the metrics and the report use."""
_STAGE_OF_STATE = {state.value: stage for stage, state in TIMED_STAGES.items()}

RESPONSIBILITIES = ("diskominfo", "skpd", "unknown")
"""The responsibility label values: `unknown` until staff set it (SOP step 4)."""

DOWNTIME_KEY = "downtime_seconds"
"""Event data key of the downtime a `recovered` or `repair` event added to the counter: the
ledger that keeps a flapping incident's outage from being counted twice."""
CAUSED_KEY = "caused_downtime_seconds"
"""Event data key of the downtime a `repair` event (F-04) attributed to its cause: an F-04
filed again after a reopen attributes only what came since."""


class EventRecord(Protocol):
    """What the figures read of a timeline event (`webhook.store.models.Event`)."""

    @property
    def at(self) -> datetime: ...
    @property
    def from_state(self) -> str | None: ...
    @property
    def to_state(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...


def responsibility_label(value: str | None) -> str:
    return value or "unknown"


def stages_reached(events: Iterable[EventRecord]) -> dict[str, datetime]:
    """When each timed stage was first entered; a reopened incident keeps its first times."""
    reached: dict[str, datetime] = {}
    for event in sorted(events, key=lambda e: e.at):
        stage = _STAGE_OF_STATE.get(event.to_state)
        if stage is not None and event.from_state != event.to_state and stage not in reached:
            reached[stage] = event.at
    return reached


def time_to_stages(opened_at: datetime, events: Iterable[EventRecord]) -> dict[str, float]:
    """Seconds from the incident's opening to the first entry of each timed stage reached."""
    return {stage: (at - opened_at).total_seconds() for stage, at in stages_reached(events).items()}


def time_to_acknowledge(opened_at: datetime, events: Iterable[EventRecord]) -> float | None:
    """Seconds from the incident's opening to its first acknowledgement (None: nobody took it;
    a reopened incident keeps its first)."""
    taken = [event.at for event in events if event.kind == "acknowledge"]
    return (min(taken) - opened_at).total_seconds() if taken else None


def first_entry(source: str, target: str, earlier: Iterable[EventRecord]) -> str | None:
    """The timed stage a move from `source` to `target` enters for the first time, if any."""
    stage = _STAGE_OF_STATE.get(target)
    if stage is None or source == target or stage in stages_reached(earlier):
        return None
    return stage


def estimate_error(estimated_recovery_at: datetime, recovered_at: datetime) -> float:
    """Seconds the recovery came after the estimate (negative: earlier than promised)."""
    return (recovered_at - estimated_recovery_at).total_seconds()


Interval = tuple[datetime, datetime | None]
"""An outage from its start to its end; None while it lasts."""


def outage_seconds(
    intervals: Iterable[Interval], now: datetime, within: tuple[datetime, datetime] | None = None
) -> float:
    """Length of the union of `intervals` (one that lasts ends at `now`), clipped to `within`:
    two alerts of one SKPD down at the same time are one outage, not two."""
    spans = []
    for start, end in intervals:
        stop = end if end is not None else now
        if within is not None:
            start, stop = max(start, within[0]), min(stop, within[1])
        if stop > start:
            spans.append((start, stop))
    total, reach = 0.0, None
    for start, stop in sorted(spans):
        if reach is not None and start < reach:
            start = reach
        if stop > start:
            total += (stop - start).total_seconds()
            reach = stop
    return total


def outage_intervals(
    opened_at: datetime,
    closed_at: datetime | None,
    alerts: Iterable[tuple[datetime, datetime | None]],
    repair_ended_at: datetime | None,
) -> list[Interval]:
    """An incident's outage: its alerts' times; for a report without alerts, from the opening
    to the repair's end on F-04 (until then, while it is open)."""
    found = list(alerts)
    if found:
        return found
    return [(opened_at, repair_ended_at or closed_at)]


def downtime_counted(events: Iterable[EventRecord]) -> float:
    """Downtime already added to the counter for this incident (the ledger on its events)."""
    return sum(float(e.data.get(DOWNTIME_KEY, 0.0)) for e in events)


def downtime_increment(outage: float, events: Iterable[EventRecord]) -> float:
    """What an outage that just ended adds to the counter, given what earlier ones added."""
    return max(0.0, outage - downtime_counted(events))


# --- the facts of a transaction, for the metrics -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    skpd: str
    responsibility: str
    source: str
    """'alert' or 'report'."""


@dataclass(frozen=True, slots=True)
class StageReached:
    stage: str
    responsibility: str
    seconds: float
    """From the incident's opening."""


@dataclass(frozen=True, slots=True)
class EstimateChecked:
    responsibility: str
    error_seconds: float
    """Actual recovery (F-04's repair end) minus the estimate."""


@dataclass(frozen=True, slots=True)
class OutageEnded:
    skpd: str
    responsibility: str
    seconds: float


@dataclass(frozen=True, slots=True)
class DowntimeCaused:
    """F-04 named the cause of downtime already counted (`sigap_incident_downtime_seconds`)."""

    cause: str
    seconds: float


@dataclass(frozen=True, slots=True)
class MessageDelivered:
    channel: str
    status: str
    """'sent', or 'failed' after the last retry."""


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """Someone took an unheld incident (*Tangani*): the SOP figure "time to acknowledge"."""

    seconds: float
    """From the incident's opening."""


def first_acknowledgement(action: str, earlier_kinds: Iterable[str]) -> bool:
    """An `acknowledge` move that is the incident's first (a reopened one keeps its first)."""
    return action == "acknowledge" and "acknowledge" not in set(earlier_kinds)


@dataclass(frozen=True, slots=True)
class NoticeOwed:
    """A move owes a notice (`webhook.store.outbox.owe`): wakes the delivery worker; not counted."""

    incident_id: int


Fact = (
    Opened
    | StageReached
    | EstimateChecked
    | OutageEnded
    | DowntimeCaused
    | MessageDelivered
    | NoticeOwed
    | Acknowledged
)


def mean(values: Iterable[float]) -> float | None:
    found = list(values)
    return sum(found) / len(found) if found else None


def per_responsibility(amounts: Iterable[tuple[str | None, float]]) -> Mapping[str, float]:
    """Seconds summed per responsibility label, every label present."""
    totals = dict.fromkeys(RESPONSIBILITIES, 0.0)
    for responsibility, seconds in amounts:
        totals[responsibility_label(responsibility)] += seconds
    return totals
