"""The duty roster (jadwal piket): who of the network staff is on duty (SOP step 1, *yang
bertugas*), now and next, and the `paging:` section of the settings.

Pure: the clock and the regency's time zone are passed in. A `Rotation` hands the duty from one
person to the next in order at a fixed local time (the handover, e.g. 07:30 WITA), every day or
every week; shifts are counted in the regency's wall time, so a zone with daylight saving keeps
its handover at 07:30 too. `Override`s change it for a time: a `swap` puts a person on duty
instead of the rotation's, a `leave` takes one off (then the next in the rotation who is not on
leave covers).

Precedence, for one moment: a swap beats the rotation; a leave beats both (a person on leave is
never on duty); when a leave empties the shift, the rotation's next person not on leave covers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exporter.inventory import Duration
from webhook.core.refusals import Refused

Reason = Literal["swap", "leave"]
REASONS: tuple[Reason, ...] = ("swap", "leave")
SHIFT_DAYS = {"daily": 1, "weekly": 7}
"""The shift lengths a regency NOC uses: a daily duty (piket harian, handover every morning) or a
weekly one."""


class RosterInvalid(Refused):
    """A rotation or override that cannot be used; the reason says what to fix."""


@dataclass(frozen=True, slots=True)
class Rotation:
    people: tuple[str, ...]
    """In order of duty; `people[0]` has the shift that starts on `starts_on`."""
    shift_days: int
    """1: daily, 7: weekly."""
    handover: time
    """The local time a shift ends and the next begins."""
    starts_on: date
    """The local date of the first shift's handover."""

    def __post_init__(self) -> None:
        if not self.people:
            raise RosterInvalid("a rotation needs at least one person")
        if len(set(self.people)) != len(self.people):
            raise RosterInvalid("a person appears twice in the rotation")
        if self.shift_days < 1:
            raise RosterInvalid("a shift lasts at least one day")


@dataclass(frozen=True, slots=True)
class Override:
    person: str
    start: datetime
    end: datetime
    reason: Reason

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise RosterInvalid("an override ends after it starts")
        if self.reason not in REASONS:
            raise RosterInvalid(f"reason {self.reason!r} is not one of {', '.join(REASONS)}")

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class Shift:
    """One shift of the rotation, with who is on duty at its start (overrides applied)."""

    index: int
    start: datetime
    end: datetime
    scheduled: str
    """The rotation's person."""


def _local_start(rotation: Rotation, index: int, zone: ZoneInfo) -> datetime:
    day = rotation.starts_on + timedelta(days=index * rotation.shift_days)
    # in UTC: Python compares and subtracts two times of one zone by their wall clocks
    return datetime.combine(day, rotation.handover, zone).astimezone(UTC)


def shift_index(rotation: Rotation, at: datetime, zone: ZoneInfo) -> int:
    """The number of the shift holding `at` (negative before `starts_on`)."""
    local = at.astimezone(zone)
    day = local.date()
    if local.time() < rotation.handover:
        day -= timedelta(days=1)
    return (day - rotation.starts_on).days // rotation.shift_days


def shift(rotation: Rotation, index: int, zone: ZoneInfo) -> Shift:
    start = _local_start(rotation, index, zone)
    end = _local_start(rotation, index + 1, zone)
    person = rotation.people[index % len(rotation.people)]
    return Shift(index, start, end, person)


def shift_start(rotation: Rotation | None, at: datetime, zone: ZoneInfo) -> datetime:
    """The start of the shift holding `at` (`at` itself without a rotation)."""
    if rotation is None:
        return at
    return shift(rotation, shift_index(rotation, at, zone), zone).start


def _on_leave(overrides: Sequence[Override], person: str, at: datetime) -> bool:
    return any(o.reason == "leave" and o.person == person and o.covers(at) for o in overrides)


def on_duty(
    rotation: Rotation | None, overrides: Sequence[Override], at: datetime, zone: ZoneInfo
) -> list[str]:
    """Who is on duty at `at` (usually one person; more when swaps overlap)."""
    swapped = [
        o.person
        for o in overrides
        if o.reason == "swap" and o.covers(at) and not _on_leave(overrides, o.person, at)
    ]
    if swapped:
        return list(dict.fromkeys(swapped))
    if rotation is None:
        return []
    index = shift_index(rotation, at, zone)
    count = len(rotation.people)
    for step in range(count):  # the scheduled person, else the next not on leave
        person = rotation.people[(index + step) % count]
        if not _on_leave(overrides, person, at):
            return [person]
    return []


def next_change(
    rotation: Rotation | None, overrides: Sequence[Override], at: datetime, zone: ZoneInfo
) -> datetime | None:
    """The first moment after `at` when the duty may change hands: a handover or an
    override's start or end."""
    moments = [m for o in overrides for m in (o.start, o.end) if m > at]
    if rotation is not None:
        moments.append(shift(rotation, shift_index(rotation, at, zone), zone).end)
    return min(moments, default=None)


def next_on_duty(
    rotation: Rotation | None, overrides: Sequence[Override], at: datetime, zone: ZoneInfo
) -> tuple[list[str], datetime | None]:
    """Who takes over next, and from when: the first change after `at` that brings anyone
    else on duty (looked for up to a full turn of the rotation)."""
    now = on_duty(rotation, overrides, at, zone)
    moment = at
    horizon = at + timedelta(days=366)
    while (change := next_change(rotation, overrides, moment, zone)) is not None:
        if change > horizon:
            break
        then = on_duty(rotation, overrides, change, zone)
        if then and then != now:
            return then, change
        moment = change
    return [], None


def duty_periods(
    rotation: Rotation | None,
    overrides: Sequence[Override],
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> Iterator[tuple[datetime, datetime, tuple[str, ...]]]:
    """The duty between `start` and `end` as consecutive periods of one set of people (a
    shift, or the part of one an override changed); nobody on duty: no period."""
    begin = moment = start
    people = tuple(on_duty(rotation, overrides, moment, zone))
    while moment < end:
        change = next_change(rotation, overrides, moment, zone)
        stop = end if change is None or change > end else change
        following = tuple(on_duty(rotation, overrides, stop, zone)) if stop < end else ()
        if stop < end and following == people:
            moment = stop
            continue
        if people:
            yield begin, stop, people
        begin = moment = stop
        people = following


def shifts_of(
    person: str,
    rotation: Rotation | None,
    overrides: Sequence[Override],
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> list[tuple[datetime, datetime]]:
    """The periods between `start` and `end` in which `person` is on duty (the feed's events),
    adjoining periods joined."""
    found: list[tuple[datetime, datetime]] = []
    for begin, stop, people in duty_periods(rotation, overrides, start, end, zone):
        if person not in people:
            continue
        if found and found[-1][1] == begin:
            found[-1] = (found[-1][0], stop)
        else:
            found.append((begin, stop))
    return found


def parse_rotation(people: Sequence[str], shift: str, handover: str, starts_on: str) -> Rotation:
    """A rotation as a person types it: names in order, `daily` or `weekly`, `HH:MM`, a date
    `YYYY-MM-DD` (RosterInvalid naming what is wrong)."""
    if shift not in SHIFT_DAYS:
        raise RosterInvalid(f"shift {shift!r} is not one of {', '.join(SHIFT_DAYS)}")
    try:
        at = time.fromisoformat(handover)
    except ValueError:
        raise RosterInvalid(f"handover {handover!r} is not a time HH:MM, e.g. 07:30") from None
    try:
        day = date.fromisoformat(starts_on)
    except ValueError:
        raise RosterInvalid(f"start {starts_on!r} is not a date YYYY-MM-DD") from None
    names = [p.strip() for p in people if p.strip()]
    return Rotation(tuple(names), SHIFT_DAYS[shift], at.replace(second=0, microsecond=0), day)


def parse_local(text: str, zone: ZoneInfo, what: str) -> datetime:
    """A local time as typed (`2026-11-24 07:30` or the browser's `2026-11-24T07:30`), in the
    regency's zone unless it names its own."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RosterInvalid(f"{what} {text!r} is not a time YYYY-MM-DD HH:MM") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def shift_name(rotation: Rotation) -> str:
    return next((k for k, v in SHIFT_DAYS.items() if v == rotation.shift_days), "daily")


def feed_token(secret: str, person: str) -> str:
    """The signature in a person's calendar-feed URL: the feed needs no login (a phone's
    calendar cannot log in), so the URL itself is the credential. HMAC of the person's name
    with the service's secret key (a new key ends every old URL)."""
    mac = hmac.new(secret.encode(), b"sigap-roster-feed:" + person.encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def feed_token_ok(secret: str, person: str, token: str) -> bool:
    return hmac.compare_digest(feed_token(secret, person), token)


class PagingConfig(BaseModel):
    """The `paging:` section: a page on every new outage, and its escalation chain.

    ::

        paging:
          ack_timeout: 10m   # unacknowledged this long: the next on duty, then the coordinator
          interval: 30s      # how often the leader looks for pages due
          feed_weeks: 8      # how far ahead a person's calendar feed lists their shifts
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    ack_timeout: Duration = 600.0
    interval: Duration = 30.0
    feed_weeks: int = Field(default=8, ge=1, le=52)

    @model_validator(mode="after")
    def _positive(self) -> PagingConfig:
        if self.ack_timeout <= 0 or self.interval <= 0:
            raise ValueError("ack_timeout and interval must be longer than 0s")
        return self
