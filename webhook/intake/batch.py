"""Recording Alertmanager's alerts and what they mean for the incidents, one `Batch` per write
transaction (the receiver's group commit of notifications, or one reconciliation).

A batch reads what it needs in four statements (the alerts the notifications name, the
incidents those may touch, the alerts and downtime ledger of those that may recover), then
decides in memory (`Decisions`: no connection, so a unit test builds it from plain rows), one
notification after the other, exactly as if each had its own transaction, and writes the
outcome with one statement per table and kind of change. Most notifications are Alertmanager's
repeats: they change nothing and cost no statement of their own. Statements are what costs (a
round trip each, and SQLAlchemy's work around it), so their number does not grow with the
batch; the ORM is left out of this path for the same reason.

What a batch holds is valid only inside its transaction: writers are serialised
(`webhook.store.database`), so nothing else changes these rows meanwhile, and nothing is kept
from one transaction to the next (another replica may write in between).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Row,
    and_,
    any_,
    bindparam,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.sql import Executable

from webhook.core import figures, maintenance
from webhook.core import grouping as rules
from webhook.core.figures import Fact
from webhook.core.messages import OPENED
from webhook.core.opening import open_incident
from webhook.core.workflow import FINAL_STATES, Move, Role, State, apply_move
from webhook.intake.payload import AlertIn, AlertmanagerNotification
from webhook.store.bulk import BulkInsert
from webhook.store.maintenance import windows_during_sync
from webhook.store.models import ALERT_FIRING, Alert, Event, Incident, Maintenance, Notice
from webhook.store.outbox import owed_row


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one notification changed."""

    opened: list[int]
    """Incidents opened or reopened: they get a ping check."""
    touched: list[int]


AlertKey = tuple[str, datetime]
"""Alertmanager's identity of an alert: its fingerprint and startsAt."""
Labelled = tuple[dict[str, Any], str]
"""An alert as its incident's timeline names it: its labels and fingerprint."""

_KEYS_PER_SELECT = 4000
"""Alert keys asked for in one statement: below the bind-parameter limits of both backends."""
_LEDGER = ("recovered", "repair")
"""The events that carry the downtime already counted (`figures.DOWNTIME_KEY`)."""


@dataclass(eq=False, slots=True)
class _Incident:
    """An incident as the batch reads and changes it."""

    id: int | None
    """None until `Batch.write` inserts an incident the batch opened."""
    skpd: str
    state: str
    responsibility: str | None
    open_key: str | None
    nodes: list[Any]
    opened_at: datetime
    recovered_at: datetime | None
    closed_at: datetime | None
    stage_entered_at: datetime
    truncated_alerts: int
    updated_at: datetime
    opening: dict[str, Any] | None = None
    """Opened by the batch: the columns written only when it is inserted."""
    changed: bool = False


_INCIDENT_READ = tuple(f.name for f in fields(_Incident) if f.name not in ("opening", "changed"))
"""The columns the batch reads of an incident, in `_Incident`'s order (rows become it whole)."""
_INCIDENT_COLUMNS = tuple(getattr(Incident, name) for name in _INCIDENT_READ)
_INCIDENT_CHANGES = (
    "state",
    "responsibility",
    "open_key",
    "nodes",
    "recovered_at",
    "closed_at",
    "stage_entered_at",
    "truncated_alerts",
    "updated_at",
)
"""The columns the batch may change: all written back, with one statement."""
_INCIDENT_FIELDS = frozenset(_INCIDENT_READ)
"""The columns the batch keeps of an incident (the others are written once, when opened)."""


@dataclass(slots=True)
class _Alert:
    """An alert as the transaction sees it: its row, then what the batch changed."""

    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    status: str
    resolved_by: str | None
    incident_id: int | None
    """Its incident in the database."""
    id: int | None = None
    """None: new in this batch, inserted by `Batch.write`."""
    incident: _Incident | None = None
    """The incident the batch gave it, which replaces `incident_id`."""
    received: AlertIn | None = None
    """A new alert as first received (labels, annotations, generator URL)."""
    received_at: datetime | None = None
    changed_at: datetime | None = None
    """When the batch last changed it; None: unchanged, nothing to write."""


_ALERT_KEPT = ("incident", "received", "received_at", "changed_at")
"""What the batch keeps of an alert beside its columns."""
_ALERT_READ = tuple(f.name for f in fields(_Alert) if f.name not in _ALERT_KEPT)
"""The columns the batch reads of an alert, in `_Alert`'s order (rows become it whole)."""
_ALERT_COLUMNS = tuple(getattr(Alert, name) for name in _ALERT_READ)


class AlertRow(NamedTuple):
    """An alert's columns as a batch reads them (`_Alert`'s first fields, in its order)."""

    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    status: str
    resolved_by: str | None
    incident_id: int | None
    id: int | None


class IncidentRow(NamedTuple):
    """An incident's columns as a batch reads them (`_Incident`'s first fields, in its order)."""

    id: int
    skpd: str
    state: str
    responsibility: str | None
    open_key: str | None
    nodes: list[Any]
    opened_at: datetime
    recovered_at: datetime | None
    closed_at: datetime | None
    stage_entered_at: datetime
    truncated_alerts: int
    updated_at: datetime


class _NewAlert(NamedTuple):
    """A row of `alert` as a storm writes it (`BulkInsert` by these names, in this order)."""

    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    status: str
    resolved_by: str | None
    labels: dict[str, Any]
    annotations: dict[str, Any]
    generator_url: str | None
    received_at: datetime | None
    updated_at: datetime | None
    incident_id: int | None


class _EventRow(NamedTuple):
    """A row of `event`, as the batch writes it and reads its downtime ledger back."""

    incident_id: int
    at: datetime
    actor: str
    role: str
    kind: str
    from_state: str | None
    to_state: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Event:
    """A line of an incident's timeline: pending, or read back for the downtime ledger."""

    incident: _Incident
    at: datetime
    actor: str
    role: str
    kind: str
    from_state: str | None
    to_state: str
    data: dict[str, Any]


@dataclass(slots=True)
class _Ingested:
    """What one notification changed, in the batch's terms (ids exist once written)."""

    opened: list[_Incident] = field(default_factory=list)
    touched: dict[_Incident, None] = field(default_factory=dict)
    """An ordered set."""
    lost: set[_Incident] = field(default_factory=set)
    """Incidents that lost a firing alert: they may have recovered."""


# The statements, built once (their parameters bound when run): building one costs more than
# running it.


def _among(column: Any, name: str, postgresql: bool) -> ColumnElement[bool]:
    """`column` is one of the values bound as `name`. PostgreSQL takes them as one array: one
    statement for any number of values, prepared and planned once (an IN list is a new
    statement for every length, with a parameter per value)."""
    if postgresql:
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return cast("ColumnElement[bool]", column.in_(bindparam(name)))


@dataclass(frozen=True, slots=True)
class _Reads:
    """What `Batch.read` asks, in the form the database answers fastest."""

    alerts_named: Executable
    """With the alerts named, their fingerprints' firing copies under another startsAt: two
    Alertmanagers of a cluster may each report one outage with the startsAt of the Prometheus
    they heard first, and a resolution sent by one ends the other's copy too."""
    alerts_of: Executable
    incidents: Executable
    ledger_of: Executable


def _reads(postgresql: bool) -> _Reads:
    return _Reads(
        alerts_named=select(*_ALERT_COLUMNS).where(
            _among(Alert.fingerprint, "fingerprints", postgresql),
            or_(_among(Alert.starts_at, "starts", postgresql), text(ALERT_FIRING)),
        ),
        alerts_of=select(*_ALERT_COLUMNS).where(_among(Alert.incident_id, "ids", postgresql)),
        incidents=select(*_INCIDENT_COLUMNS).where(
            or_(
                _among(Incident.id, "ids", postgresql),
                _among(Incident.open_key, "skpds", postgresql),
                and_(
                    _among(Incident.skpd, "closing_skpds", postgresql),
                    Incident.closed_at >= bindparam("closed_since"),
                ),
            )
        ),
        ledger_of=select(*(getattr(Event, name) for name in _EventRow._fields)).where(
            _among(Event.incident_id, "ids", postgresql), Event.kind.in_(_LEDGER)
        ),
    )


_READS = {"postgresql": _reads(postgresql=True), "sqlite": _reads(postgresql=False)}
_FIRING_BEFORE = select(*_ALERT_COLUMNS, Alert.labels).where(
    text(ALERT_FIRING), Alert.received_at < bindparam("seen_before")
)
_OPEN_INCIDENT = insert(Incident).returning(Incident.id, sort_by_parameter_order=True)
_CHANGE_INCIDENT = update(Incident).where(Incident.id == bindparam("incident_id"))
_CHANGE_ALERT = update(Alert).where(Alert.id == bindparam("alert_id"))
# What a storm writes most, row by row: values converted by `BulkInsert`, not per value.
_NEW_ALERTS = BulkInsert(Alert.__table__, _NewAlert._fields)
_NEW_EVENTS = BulkInsert(Event.__table__, _EventRow._fields)


def _places(alert: AlertIn, known: _Alert | None) -> bool:
    """A firing alert that no incident holds: new, or revived after the reconciliation had
    resolved it (Alertmanager had only forgotten it or been slow)."""
    return alert.status == "firing" and (
        known is None or (known.status == "resolved" and known.resolved_by == "reconcile")
    )


def _alerts_line(alerts: list[Labelled]) -> dict[str, Any]:
    """The timeline's line for the alerts that fired (or resolved) together on an incident:
    one line, not one per alert (a cut uplink takes every node behind it down at once)."""
    return {
        "alertname": ", ".join(dict.fromkeys(labels.get("alertname", "") for labels, _ in alerts)),
        "nodes": [n for n in dict.fromkeys(labels.get("node") for labels, _ in alerts) if n],
        "fingerprints": [fingerprint for _, fingerprint in alerts],
    }


def _written(incident: _Incident) -> int:
    assert incident.id is not None, "the batch is not written yet"
    return incident.id


class Decisions:
    """The deciding part of a batch, no connection: what it read, as plain values, and what the
    notifications change, in memory, one after the other. `Batch` reads into it and writes
    what it decided; a test builds it from the rows a batch would have read (`of`)."""

    def __init__(self, facts: list[Fact], windows: rules.Windows) -> None:
        self.facts = facts
        """What the metrics count, published by `webhook.store.database` after the commit."""
        self.windows = windows
        self._alerts: dict[AlertKey, _Alert] = {}
        self._copies: defaultdict[str, list[AlertKey]] = defaultdict(list)
        """Fingerprint -> the keys the batch knows of it (one per startsAt seen)."""
        self._rows_of: defaultdict[int, list[AlertKey]] = defaultdict(list)
        """Incident id -> the keys of its alerts in the database, as far as read."""
        self._assigned: defaultdict[_Incident, list[AlertKey]] = defaultdict(list)
        """The alerts the batch gave an incident."""
        self._incidents: dict[int, _Incident] = {}
        self._opened: list[_Incident] = []
        self._open: dict[str, _Incident | None] = {}
        """SKPD -> its open incident, for every SKPD the batch may place a firing alert in."""
        self._last_closed: dict[str, _Incident] = {}
        """SKPD -> its incident closed last within the reopen window (if any)."""
        self._ledger: defaultdict[int, list[_Event]] = defaultdict(list)
        self._events: list[_Event] = []
        self._ingested: list[_Ingested] = []
        self._maintenance: defaultdict[str, list[Maintenance]] = defaultdict(list)
        """The maintenance windows of the SKPDs that may get a new incident (`read`)."""
        self._pages: list[tuple[_Incident, str, datetime]] = []
        """Incidents opened or reopened: each owes the page of the staff on duty."""

    @classmethod
    def of(
        cls,
        facts: list[Fact],
        windows: rules.Windows,
        *,
        skpds: Collection[str],
        since: datetime,
        alerts: Iterable[AlertRow] = (),
        incidents: Iterable[IncidentRow] = (),
        maintenance: Iterable[Maintenance] = (),
    ) -> Decisions:
        """As `Batch.read` leaves it, from the rows it would have read: the `alerts` the
        notifications name and those of the `incidents` (for each SKPD of `skpds` that may get
        an incident, its open one and those closed since `since` less the reopen window), and
        the `maintenance` windows of those SKPDs. No downtime counted by earlier recoveries."""
        decisions = cls(facts, windows)
        for row in alerts:
            decisions._know(row)
        decisions._take_incidents(incidents, skpds, since - windows.reopen)
        for window in maintenance:
            decisions._maintenance[window.skpd].append(window)
        return decisions

    @property
    def opened(self) -> list[_Incident]:
        """The incidents the batch opened (`write` inserts them)."""
        return self._opened

    @property
    def changed(self) -> list[_Incident]:
        """The incidents read that the batch changed (`write` updates them)."""
        return [i for i in self._incidents.values() if i.changed]

    @property
    def events(self) -> list[_Event]:
        """The lines the batch put on the incidents' timelines, in order."""
        return self._events

    @property
    def pages(self) -> list[tuple[_Incident, str, datetime]]:
        """The pages owed: the incident, the notice, when."""
        return self._pages

    def _know(self, row: Row[*tuple[Any, ...]] | AlertRow) -> None:
        key = (row.fingerprint, row.starts_at)
        if key in self._alerts:  # the batch's state is newer than the row
            return
        self._alerts[key] = _Alert(*row[: len(_ALERT_COLUMNS)])
        self._copies[row.fingerprint].append(key)
        if row.incident_id is not None:
            self._rows_of[row.incident_id].append(key)

    def _take_incidents(
        self,
        rows: Iterable[Row[*tuple[Any, ...]] | IncidentRow],
        skpds: Collection[str],
        closed_since: datetime,
    ) -> None:
        """Hold the incidents read; for each SKPD of `skpds` its open one (None: it has none)
        and the last of those closed since `closed_since` (which may reopen)."""
        self._open.update(dict.fromkeys(skpds))
        for row in rows:
            incident = self._incidents[row.id] = _Incident(*row)
            if incident.open_key is not None and incident.open_key in skpds:
                self._open[incident.open_key] = incident
            elif incident.closed_at is not None and incident.closed_at >= closed_since:
                self._note_closed(incident)

    def _read_recovery(self, ids: set[int]) -> None:
        """Read the alerts and downtime ledger of the incidents `ids` if not held yet (`Batch`
        does); built from plain values, the deciding part holds all there is."""

    def _note_closed(self, incident: _Incident) -> None:
        assert incident.closed_at is not None
        last = self._last_closed.get(incident.skpd)
        if last is None or last.closed_at is None or last.closed_at <= incident.closed_at:
            self._last_closed[incident.skpd] = incident

    def _event(
        self,
        incident: _Incident,
        now: datetime,
        kind: str,
        to_state: State | str,
        from_state: str | None = "",
        actor: str = "alertmanager",
        **data: Any,
    ) -> None:
        """Put an event on the incident's timeline (written by `write`)."""
        self._events.append(
            _Event(
                incident,
                now,
                actor,
                Role.SYSTEM.value,
                kind,
                incident.state if from_state == "" else from_state,
                str(to_state),
                data,
            )
        )

    def _move(self, incident: _Incident, move: Move) -> None:
        """SIGAP's own move on an incident, through the one pure core, like a person's."""
        applied = apply_move(incident, move)
        for column, value in applied.changes.items():
            setattr(incident, column, value)
        entry = applied.event
        self._events.append(
            _Event(
                incident,
                move.at,
                entry.actor,
                entry.role,
                entry.kind,
                entry.from_state,
                entry.to_state,
                entry.data,
            )
        )

    def ingest(self, notification: AlertmanagerNotification, now: datetime) -> None:
        """Record a notification's alerts and what they mean for the incidents."""
        result = _Ingested()
        self._ingested.append(result)
        new: set[AlertKey] = set()
        # the alerts that fired and resolved on each incident: a line on its timeline each
        fired: defaultdict[_Incident, list[Labelled]] = defaultdict(list)
        ended: defaultdict[_Incident, list[Labelled]] = defaultdict(list)
        for alert in notification.alerts:
            key = (alert.fingerprint, alert.startsAt)
            if key in new:  # the same new alert twice in one notification
                continue
            resolution_lined = False  # its resolution is on the timeline
            known = self._alerts.get(key)
            if known is None:
                new.add(key)
                resolved = alert.status == "resolved"
                self._copies[alert.fingerprint].append(key)
                known = self._alerts[key] = _Alert(
                    alert.fingerprint,
                    alert.startsAt,
                    alert.endsAt if resolved else None,
                    alert.status,
                    "alertmanager" if resolved else None,
                    None,
                    received=alert,
                    received_at=now,
                    changed_at=now,
                )
                if not resolved:
                    incident = self._place(key, known, alert, now, notification, result)
                    if any(a.status == "firing" for a in self._other_copies(alert)):
                        continue  # another Alertmanager's copy: on the timeline already
                    fired[incident].append((alert.labels, alert.fingerprint))
            elif _places(alert, known):
                known.status, known.ends_at, known.resolved_by = "firing", None, None
                known.changed_at = now
                self._place(key, known, alert, now, notification, result)
            elif alert.status == "resolved" and known.status == "firing":
                self._resolve(known, alert, now, result, ended)
                resolution_lined = True
            if alert.status == "resolved":
                for copy in self._other_copies(alert):
                    if copy.status == "firing":
                        line = None if resolution_lined else ended
                        self._resolve(copy, alert, now, result, line)
                        resolution_lined = True
        for kind, lines in (("alert_firing", fired), ("alert_resolved", ended)):
            for incident, alerts in lines.items():
                self._event(incident, now, kind, incident.state, **_alerts_line(alerts))
        if notification.truncatedAlerts:
            for incident in result.touched:
                incident.truncated_alerts = max(
                    incident.truncated_alerts, notification.truncatedAlerts
                )
        self._settle(result.touched, result.lost, now)

    def _other_copies(self, alert: AlertIn) -> list[_Alert]:
        """The batch's other alerts of the same fingerprint that started no later than `alert`
        ended: the same outage as reported by another Alertmanager (a later start is a new
        outage of the same node)."""
        keys = self._copies.get(alert.fingerprint, ())
        if not keys or (len(keys) == 1 and keys[0][1] == alert.startsAt):  # the usual case
            return []
        ended = alert.endsAt if alert.status == "resolved" and alert.endsAt else None
        return [
            self._alerts[key]
            for key in keys
            if key[1] != alert.startsAt and (ended is None or key[1] <= ended)
        ]

    def _resolve(
        self,
        known: _Alert,
        alert: AlertIn,
        now: datetime,
        result: _Ingested,
        ended: defaultdict[_Incident, list[Labelled]] | None,
    ) -> None:
        """A firing alert resolved by Alertmanager (its own copy, or another Alertmanager's);
        added to its incident's line of `ended` alerts (None: already lined for both copies)."""
        known.status, known.resolved_by = "resolved", "alertmanager"
        known.ends_at, known.changed_at = alert.endsAt or now, now
        incident = self._incident_of(known)
        if incident is None:
            return
        result.touched[incident] = None
        result.lost.add(incident)
        if ended is not None:
            ended[incident].append((alert.labels, alert.fingerprint))

    def _incident_of(self, alert: _Alert) -> _Incident | None:
        if alert.incident is not None:
            return alert.incident
        return None if alert.incident_id is None else self._incidents[alert.incident_id]

    def _place(
        self,
        key: AlertKey,
        known: _Alert,
        alert: AlertIn,
        now: datetime,
        notification: AlertmanagerNotification,
        result: _Ingested,
    ) -> _Incident:
        """Give a firing alert its SKPD's incident: the open one, a reopened one, or a new one."""
        skpd = rules.skpd_of(alert.labels)
        incident = self._open[skpd]
        last = self._last_closed.get(skpd)
        placement = rules.place_firing(
            incident is not None, last.closed_at if last else None, now, self.windows
        )
        if placement is rules.Placement.REOPEN:
            assert last is not None
            incident = self._open[skpd] = last
            reason = (
                f"{alert.labels.get('alertname', 'alert')} fired again within the reopen window"
            )
            self._move(
                incident, Move("reopen", "alertmanager", Role.SYSTEM, now, {"reason": reason})
            )
            result.opened.append(incident)
            self._pages.append((incident, OPENED, now))
        elif placement is rules.Placement.NEW:
            incident = self._open[skpd] = self._open_new(skpd, alert, now, notification)
            result.opened.append(incident)
        assert incident is not None
        result.touched[incident] = None
        known.incident = incident
        self._assigned[incident].append(key)
        node = alert.labels.get("node")
        if node and node not in incident.nodes:
            incident.nodes = [*incident.nodes, node]
        incident.responsibility = rules.merge_responsibility(
            incident.responsibility, rules.responsibility_of(alert.labels), State(incident.state)
        )
        incident.recovered_at = None
        return incident

    def _open_new(
        self, skpd: str, alert: AlertIn, now: datetime, notification: AlertmanagerNotification
    ) -> _Incident:
        """The SKPD's incident, born of `alert` through the core (`open_incident`)."""
        opening = open_incident(
            skpd, "alert", "alertmanager", Role.SYSTEM, now,
            title=alert.annotations.get("summary") or alert.labels.get("alertname", ""),
            description=alert.annotations.get("description"),
            responsibility=rules.responsibility_of(alert.labels),
            planned=self._planned(skpd, alert),
            record={"alertname": alert.labels.get("alertname"),
                    "starts_at": alert.startsAt.isoformat()},
        )  # fmt: skip
        columns = opening.columns
        incident = _Incident(
            id=None,
            recovered_at=None,
            closed_at=None,
            opening={k: v for k, v in columns.items() if k not in _INCIDENT_FIELDS}
            | {"group_key": notification.groupKey},
            **{k: v for k, v in columns.items() if k in _INCIDENT_FIELDS},
        )
        self._opened.append(incident)
        entry = opening.event
        self._events.append(
            _Event(incident, now, entry.actor, entry.role, entry.kind, None, entry.to_state,
                   entry.data)
        )  # fmt: skip
        self._pages.extend((incident, notice, now) for notice in opening.owed)
        self.facts.append(opening.fact)
        return incident

    def _planned(self, skpd: str, alert: AlertIn) -> bool:
        """An alert that slipped past its silence (or an Alertmanager without it) inside a
        maintenance window opens a planned incident."""
        node = alert.labels.get("node")
        windows = self._maintenance.get(skpd, ())
        return maintenance.planned(windows, skpd, [node] if node else [], alert.startsAt)

    def _resolve_gone(self, gone: list[Row[*tuple[Any, ...]]], now: datetime) -> None:
        """Resolve the firing alerts Alertmanager no longer knows, rows of `alert` with labels."""
        touched: defaultdict[_Incident, list[Labelled]] = defaultdict(list)
        for row in gone:
            self._know(row)
            known = self._alerts[(row.fingerprint, row.starts_at)]
            known.status, known.resolved_by = "resolved", "reconcile"
            known.ends_at, known.changed_at = now, now
            incident = self._incident_of(known)
            if incident is not None:
                touched[incident].append((row.labels, known.fingerprint))
        for incident, alerts in touched.items():
            self._event(
                incident,
                now,
                "alert_resolved",
                incident.state,
                actor="reconcile",
                **_alerts_line(alerts),
                why="Alertmanager no longer knows these alerts",
            )
        self._settle(touched, set(touched), now)

    def _settle(self, touched: Iterable[_Incident], lost: set[_Incident], now: datetime) -> None:
        """After alerts changed: mark incidents whose alerts all resolved as recovered, and
        close the short, unconfirmed ones as transient. Only those that `lost` a firing alert
        can have recovered."""
        for incident in touched:
            # every change of the batch to an incident comes through here
            incident.updated_at, incident.changed = now, True
            if (
                incident not in lost
                or State(incident.state) in FINAL_STATES
                or incident.recovered_at is not None
            ):
                continue
            alerts = self._alerts_of(incident)
            if any(a.status == "firing" for a in alerts):
                continue
            incident.recovered_at = max(
                (a.ends_at for a in alerts if a.ends_at is not None), default=now
            )
            downtime = self._downtime_ended(incident, alerts, now)
            self._event(
                incident,
                now,
                "recovered",
                incident.state,
                recovered_at=incident.recovered_at.isoformat(),
                downtime_seconds=downtime,  # figures.DOWNTIME_KEY: the ledger
            )
            # the outage's own length (Alertmanager's times), not the time since it was
            # received: a late or replayed notification must not make a long outage look short
            outage_started = min((a.starts_at for a in alerts), default=incident.opened_at)
            if rules.closes_as_transient(
                State(incident.state), outage_started, incident.recovered_at, self.windows
            ):
                self._move(incident, Move("close_transient", "alertmanager", Role.SYSTEM, now))
                if self._open.get(incident.skpd) is incident:
                    self._open[incident.skpd] = None
                self._note_closed(incident)

    def _alerts_of(self, incident: _Incident) -> list[_Alert]:
        """Every alert of the incident: the batch's, and the rest from the database."""
        held = [self._alerts[key] for key in self._assigned.get(incident, ())]
        if incident.id is not None:
            self._read_recovery({incident.id})
            for key in self._rows_of[incident.id]:
                alert = self._alerts[key]
                if alert.incident is None:  # else the batch moved it (or it is in `held`)
                    held.append(alert)
        return held

    def _downtime_ended(self, incident: _Incident, alerts: list[_Alert], now: datetime) -> float:
        """The downtime an outage that just ended adds (published for the counter after the
        commit): its alerts' union, less what earlier recoveries of a flapping incident added."""
        ledger = [e for e in self._events if e.incident is incident and e.kind in _LEDGER]
        if incident.id is not None:
            ledger += self._ledger[incident.id]
        outage = figures.outage_seconds([(a.starts_at, a.ends_at) for a in alerts], now)
        downtime = figures.downtime_increment(outage, ledger)
        responsibility = figures.responsibility_label(incident.responsibility)
        self.facts.append(figures.OutageEnded(incident.skpd, responsibility, downtime))
        return downtime

    def outcomes(self) -> list[Outcome]:
        """What each notification changed, in the order ingested (after `write`)."""
        return [
            Outcome(
                [_written(i) for i in result.opened], sorted(_written(i) for i in result.touched)
            )
            for result in self._ingested
        ]


class Batch(Decisions):
    """The alerts and incidents of one write transaction: read once, decided in memory
    (`Decisions`), written once. Use: `read` the notifications, `ingest` each in order, `write`,
    then `outcomes`; or `resolve_forgotten`, then `write`."""

    def __init__(self, connection: Connection, facts: list[Fact], windows: rules.Windows) -> None:
        super().__init__(facts, windows)
        self.connection = connection
        self._reads = _READS[connection.dialect.name]
        self._complete: set[int] = set()
        """Incidents whose alerts and downtime ledger in the database are all read."""

    def read(self, notifications: Sequence[AlertmanagerNotification], since: datetime) -> None:
        """Read what the notifications need, in four statements: the alerts they name, the
        incidents those may go to, and the alerts and downtime ledger of the incidents that
        may recover. `since`: the earliest receipt among them (for the reopen window)."""
        keys = list({(a.fingerprint, a.startsAt) for n in notifications for a in n.alerts})
        for start in range(0, len(keys), _KEYS_PER_SELECT):
            chunk = keys[start : start + _KEYS_PER_SELECT]
            rows = self.connection.execute(
                self._reads.alerts_named,
                {
                    "fingerprints": list({k[0] for k in chunk}),
                    "starts": list({k[1] for k in chunk}),
                },
            )
            for row in rows:
                self._know(row)
        # Judged against the database's state: deciding can only narrow what is needed.
        placing: set[str] = set()  # SKPDs that may get an incident for a firing alert
        resolving: set[str] = set()
        losing: set[int] = set()  # incidents whose firing alerts may resolve
        for notification in notifications:
            for alert in notification.alerts:
                known = self._alerts.get((alert.fingerprint, alert.startsAt))
                if alert.status == "resolved":
                    resolving.add(rules.skpd_of(alert.labels))
                    ended = (
                        [known, *self._other_copies(alert)] if known else self._other_copies(alert)
                    )
                    losing |= {
                        a.incident_id for a in ended if a.status == "firing" and a.incident_id
                    }
                elif _places(alert, known):
                    placing.add(rules.skpd_of(alert.labels))
        self._read_incidents(losing, placing, since - self.windows.reopen)
        starts = [a.startsAt for n in notifications for a in n.alerts]
        if placing and starts:
            for window in windows_during_sync(self.connection, placing, min(starts), max(starts)):
                self._maintenance[window.skpd].append(window)
        # an incident that gets a firing alert may lose it again in the same batch
        placed = [self._open[s] or self._last_closed.get(s) for s in placing & resolving]
        self._read_recovery(losing | {i.id for i in placed if i and i.id is not None})

    def _read_incidents(self, ids: set[int], skpds: set[str], closed_since: datetime) -> None:
        """The incidents `ids`, and for each SKPD of `skpds` its open incident and those closed
        since `closed_since` (one of which may reopen)."""
        rows = (
            self.connection.execute(
                self._reads.incidents,
                {
                    "ids": list(ids),
                    "skpds": list(skpds),
                    "closing_skpds": list(skpds),
                    "closed_since": closed_since,
                },
            )
            if ids or skpds
            else ()
        )
        self._take_incidents(rows, skpds, closed_since)

    def _read_recovery(self, ids: set[int]) -> None:
        """The alerts and the downtime ledger of the incidents `ids` (read by now), which
        deciding whether they recovered needs."""
        ids = ids - self._complete
        if not ids:
            return
        for row in self.connection.execute(self._reads.alerts_of, {"ids": list(ids)}):
            self._know(row)
        for entry in self.connection.execute(self._reads.ledger_of, {"ids": list(ids)}):
            incident = self._incidents[entry.incident_id]
            self._ledger[entry.incident_id].append(_Event(incident, *entry[1:]))
        self._complete |= ids

    def resolve_forgotten(self, active: set[str], seen_before: datetime, now: datetime) -> int:
        """Resolve the alerts firing here that Alertmanager no longer knows (its fingerprints
        `active`) and that were received before `seen_before`; returns how many."""
        rows = self.connection.execute(_FIRING_BEFORE, {"seen_before": seen_before})
        # in the order received, sorted here: ORDER BY id would walk the whole table
        gone = sorted((row for row in rows if row.fingerprint not in active), key=lambda r: r.id)
        losing = {row.incident_id for row in gone if row.incident_id is not None}
        self._read_incidents(losing, set(), now)
        self._read_recovery(losing)
        self._resolve_gone(gone, now)
        return len(gone)

    def write(self) -> None:
        """Write what the batch changed: one statement per table and kind of change."""
        # Changes first: an incident closed in the batch frees its SKPD's `open_key` for one
        # the batch opened (at most one of them ends open).
        changed = self.changed
        if changed:
            self.connection.execute(
                _CHANGE_INCIDENT,
                [{"incident_id": i.id, **_changes(i)} for i in changed],
            )
        if self._opened:
            ids = self.connection.execute(
                _OPEN_INCIDENT,
                [
                    {"skpd": i.skpd, "opened_at": i.opened_at, **(i.opening or {}), **_changes(i)}
                    for i in self._opened
                ],
            )
            for incident, inserted in zip(self._opened, ids.scalars(), strict=True):
                incident.id = inserted
        new: list[_NewAlert] = []
        moved: list[dict[str, Any]] = []
        for alert in self._alerts.values():
            if alert.changed_at is None:
                continue
            incident_id = _written(alert.incident) if alert.incident else alert.incident_id
            if alert.received is None:
                moved.append(
                    {
                        "alert_id": alert.id,
                        "status": alert.status,
                        "resolved_by": alert.resolved_by,
                        "ends_at": alert.ends_at,
                        "updated_at": alert.changed_at,
                        "incident_id": incident_id,
                    }
                )
                continue
            received = alert.received
            new.append(
                _NewAlert(
                    fingerprint=alert.fingerprint,
                    starts_at=alert.starts_at,
                    ends_at=alert.ends_at,
                    status=alert.status,
                    resolved_by=alert.resolved_by,
                    labels=received.labels,
                    annotations=received.annotations,
                    generator_url=received.generatorURL,
                    received_at=alert.received_at,
                    updated_at=alert.changed_at,
                    incident_id=incident_id,
                )
            )
        _NEW_ALERTS.execute(self.connection, new)
        if moved:
            self.connection.execute(_CHANGE_ALERT, moved)
        _NEW_EVENTS.execute(
            self.connection,
            [
                _EventRow(
                    _written(e.incident),
                    e.at,
                    e.actor,
                    e.role,
                    e.kind,
                    e.from_state,
                    e.to_state,
                    e.data,
                )
                for e in self._events
            ],
        )
        # the page of a new outage, in the same transaction (one already over when it is
        # planned is not sent: webhook.core.messages.plan)
        if self._pages:
            self.connection.execute(
                insert(Notice), [owed_row(_written(i), notice, at) for i, notice, at in self._pages]
            )
            self.facts.append(figures.NoticeOwed(_written(self._pages[0][0])))


def _changes(incident: _Incident) -> dict[str, Any]:
    return {name: getattr(incident, name) for name in _INCIDENT_CHANGES}
