"""The webhook's own metrics, on a registry passed in (a fresh one per test).

Two kinds of SOP figures (issue 6):

- counters and histograms of what happened (`sigap_incident_time_to_stage_seconds`, ...),
  observed in-process from the facts of each committed transaction (`WebhookMetrics.record`):
  each replica counts what it did, dashboards aggregate with ``sum``;
- gauges of what is open now (`sigap_incident_open`, `sigap_incident_overdue`), read from the
  database at scrape time (`OpenIncidents`): every replica reports the same, dashboards
  aggregate with ``max``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from webhook.core.deadlines import overdue
from webhook.core.figures import (
    RESPONSIBILITIES,
    TIMED_STAGES,
    Acknowledged,
    DowntimeCaused,
    EstimateChecked,
    Fact,
    MessageDelivered,
    Opened,
    OutageEnded,
    StageReached,
    responsibility_label,
)
from webhook.core.forms import CAUSES, UNKNOWN_CAUSE
from webhook.core.workflow import OPEN_STATES, State
from webhook.store.models import Incident

MINUTE, HOUR, DAY = 60, 3600, 86400
TIME_TO_STAGE_BUCKETS = (
    *(MINUTE * m for m in (1, 2, 5, 10, 15, 30)),
    *(HOUR * h for h in (1, 2, 4, 8, 12)),
    *(DAY * d for d in (1, 2, 3)),
)
"""1 minute (a confirm done at once) to 3 days (a repair waiting for parts)."""
TIME_TO_ACKNOWLEDGE_BUCKETS = (30, *(MINUTE * m for m in (1, 2, 5, 10, 15, 20, 30)), HOUR, 2 * HOUR)
"""Half a minute (the page answered at once) to two hours; the paging chain steps every
`paging.ack_timeout` (10 minutes by default)."""
_ERROR_STEPS = (5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 12 * HOUR, DAY)
ESTIMATE_ERROR_BUCKETS = (*(-s for s in reversed(_ERROR_STEPS)), 0, *_ERROR_STEPS)
"""Symmetric: negative bounds hold the recoveries earlier than promised."""
CHANNELS = ("email", "webhook", "telegram", "whatsapp")
DELIVERY_STATUSES = ("sent", "failed")
SOURCES = ("alert", "report")
SILENCE_OPERATIONS = ("create", "expire")
_OPEN_STAGES = [s.value for s in State if s in OPEN_STATES]


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.notifications = Counter(
            "sigap_webhook_notifications",
            "Alertmanager notifications received, by HTTP status class answered.",
            ["code"],
            registry=registry,
        )
        self.alerts = Counter(
            "sigap_webhook_alerts",
            "Alerts in received notifications, by their status.",
            ["status"],
            registry=registry,
        )
        self.duration = Histogram(
            "sigap_webhook_notification_duration_seconds",
            "Time from receiving a notification to answering it (commit included).",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.reconcile_runs = Counter(
            "sigap_webhook_reconcile_runs",
            "Reconciliations against Alertmanager's /api/v2/alerts, by result.",
            ["result"],
            registry=registry,
        )
        self.reconcile_resolved = Counter(
            "sigap_webhook_reconcile_resolved_alerts",
            "Alerts resolved because Alertmanager no longer knew them.",
            registry=registry,
        )
        self.ping_checks = Counter(
            "sigap_webhook_ping_checks",
            "Automatic ping checks (SOP step 2), by result.",
            ["result"],
            registry=registry,
        )
        self.database_up = Gauge(
            "sigap_webhook_database_up",
            "1 when the last database operation succeeded.",
            registry=registry,
        )
        self.incidents_opened = Counter(
            "sigap_incidents_opened",
            "Incidents opened, by SKPD, responsibility when opened and source (alert: by "
            "Alertmanager; report: by a person). A reopen is the same incident, not counted again.",
            ["skpd", "responsibility", "source"],
            registry=registry,
        )
        self.time_to_stage = Histogram(
            "sigap_incident_time_to_stage_seconds",
            "Seconds from an incident's opening to the first time it reached a stage of the SOP "
            "(confirm: F-01, dispatch, estimate, repair: F-04, close), observed when the move "
            "commits.",
            ["stage", "responsibility"],
            buckets=TIME_TO_STAGE_BUCKETS,
            registry=registry,
        )
        self.estimate_error = Histogram(
            "sigap_incident_estimate_error_seconds",
            "Actual recovery (the repair end on F-04) minus the estimated recovery time (the "
            "latest estimate), observed when F-04 is saved: positive = later than promised. "
            "No _sum: the buckets go below zero (OpenMetrics); use the buckets.",
            ["responsibility"],
            buckets=ESTIMATE_ERROR_BUCKETS,
            registry=registry,
        )
        self.downtime = Counter(
            "sigap_incident_downtime_seconds",
            "Outage seconds, added when an incident's outage ends: when all its alerts have "
            "resolved (the union of their times), or for a report without alerts when F-04 is "
            "saved (opening to the repair end).",
            ["skpd", "responsibility"],
            registry=registry,
        )
        self.time_to_acknowledge = Histogram(
            "sigap_incident_time_to_acknowledge_seconds",
            "Seconds from an incident's opening to the first time someone acknowledged it "
            "(Tangani, from the page or the UI), observed when the move commits.",
            buckets=TIME_TO_ACKNOWLEDGE_BUCKETS,
            registry=registry,
        )
        self.downtime_by_cause = Counter(
            "sigap_incident_downtime_by_cause_seconds",
            "Outage seconds by the cause named on F-04 (pln_power, fibre_cut, device_failure, "
            "configuration, upstream_provider, other; unknown: filed without one), added when "
            "F-04 is saved: the incident's downtime counted so far that no earlier F-04 of it "
            "attributed.",
            ["cause"],
            registry=registry,
        )
        self.messages = Counter(
            "sigap_notifications",
            "Notifications to people, by channel and final outcome (failed: after the last retry).",
            ["channel", "status"],
            registry=registry,
        )
        self.open_incidents = OpenIncidents()
        registry.register(self.open_incidents)
        self.maintenance_active = Gauge(
            "sigap_maintenance_active",
            "1 while a maintenance window of the SKPD runs (absent otherwise); read from the "
            "database at scrape time, like the open incidents: aggregate with max.",
            ["skpd"],
            registry=registry,
        )
        self.pending_messages = Gauge(
            "sigap_notifications_pending",
            "Messages waiting in the outbox (sent or retried by the delivery worker); read from "
            "the database at scrape time: aggregate with max.",
            registry=registry,
        )
        self.overdue_messages = Gauge(
            "sigap_notifications_overdue_seconds",
            "How long the most overdue pending message has been due (0: none is): a delivery "
            "worker that is stuck or a channel that keeps failing; aggregate with max.",
            registry=registry,
        )
        self.silence_requests = Counter(
            "sigap_maintenance_silence_requests",
            "Requests to an Alertmanager for a maintenance window's silence, by operation "
            "(create: create or replace; expire: a cancelled plan's) and result (error: refused "
            "or unanswered; the plan shows it and the leader retries every 30 s).",
            ["operation", "result"],
            registry=registry,
        )
        for code in ("2xx", "4xx", "5xx"):
            self.notifications.labels(code)
        for result in ("ok", "error"):
            self.reconcile_runs.labels(result)
        for responsibility in RESPONSIBILITIES:
            self.estimate_error.labels(responsibility)
            for stage in TIMED_STAGES:
                self.time_to_stage.labels(stage, responsibility)
        for channel in CHANNELS:
            for status in DELIVERY_STATUSES:
                self.messages.labels(channel, status)
        for cause in (*CAUSES, UNKNOWN_CAUSE):
            self.downtime_by_cause.labels(cause)
        for operation in SILENCE_OPERATIONS:
            for result in ("ok", "error"):
                self.silence_requests.labels(operation, result)

    def know_skpds(self, skpds: Iterable[str]) -> None:
        """Start the per-SKPD series of the inventory's SKPDs at 0, so a dashboard's sum is 0
        rather than empty before the first incident."""
        skpds = list(skpds)
        self.open_incidents.skpds = frozenset(skpds)
        for skpd in skpds:
            for responsibility in RESPONSIBILITIES:
                self.downtime.labels(skpd, responsibility)
                for source in SOURCES:
                    self.incidents_opened.labels(skpd, responsibility, source)

    def record(self, facts: Sequence[Fact]) -> None:
        """Count the facts of a committed transaction (`Database.subscribe`)."""
        for fact in facts:
            match fact:
                case Opened():
                    self.incidents_opened.labels(fact.skpd, fact.responsibility, fact.source).inc()
                case StageReached():
                    self.time_to_stage.labels(fact.stage, fact.responsibility).observe(fact.seconds)
                case EstimateChecked():
                    self.estimate_error.labels(fact.responsibility).observe(fact.error_seconds)
                case OutageEnded():
                    self.downtime.labels(fact.skpd, fact.responsibility).inc(fact.seconds)
                case Acknowledged():
                    self.time_to_acknowledge.observe(fact.seconds)
                case DowntimeCaused():
                    self.downtime_by_cause.labels(fact.cause).inc(fact.seconds)
                case MessageDelivered():
                    self.messages.labels(fact.channel, fact.status).inc()


@dataclass(frozen=True, slots=True)
class OpenFigures:
    open: Mapping[tuple[str, str, str], int]
    """(stage, skpd, responsibility) -> open incidents."""
    overdue: Mapping[tuple[str, str], int]
    """(stage, skpd) -> open incidents whose stage overran its target."""


def open_figures(
    incidents: Iterable[Incident],
    skpds: Iterable[str],
    targets: Mapping[State, timedelta],
    now: datetime,
) -> OpenFigures:
    """Counts of the open incidents, with a 0 for every open stage of every known SKPD."""
    known = {*skpds, *(i.skpd for i in incidents)}
    counts = {(st, sk, r): 0 for st in _OPEN_STAGES for sk in known for r in RESPONSIBILITIES}
    late = {(st, sk): 0 for st in _OPEN_STAGES for sk in known}
    for incident in incidents:
        responsibility = responsibility_label(incident.responsibility)
        counts[incident.state, incident.skpd, responsibility] += 1
        if overdue(incident.state, incident.stage_entered_at, targets, now):
            late[incident.state, incident.skpd] += 1
    return OpenFigures(counts, late)


class OpenIncidents:
    """`sigap_incident_open` and `sigap_incident_overdue` from the last `refresh()` (the
    /metrics handler reads the database, async, right before the registry is collected, sync)::

        sigap_incident_open{stage="dispatched",skpd="dinkes",responsibility="diskominfo"} 1
        sigap_incident_overdue{stage="dispatched",skpd="dinkes"} 1

    Every open stage of every SKPD of the inventory (and core) is present, 0 when empty, so that
    ``sum(sigap_incident_overdue)`` is 0, not empty, when nothing is late. Without a refresh
    (the database unreachable) the families have no series: no figure rather than a stale one.
    """

    def __init__(self) -> None:
        self.skpds: frozenset[str] = frozenset()
        self.figures: OpenFigures | None = None

    def refresh(
        self, incidents: Sequence[Incident], targets: Mapping[State, timedelta], now: datetime
    ) -> None:
        self.figures = open_figures(incidents, self.skpds, targets, now)

    def forget(self) -> None:
        self.figures = None

    def describe(self) -> Iterator[Metric]:
        yield from self._families(None)

    def collect(self) -> Iterator[Metric]:
        yield from self._families(self.figures)

    @staticmethod
    def _families(figures: OpenFigures | None) -> Iterator[Metric]:
        opened = GaugeMetricFamily(
            "sigap_incident_open",
            "Open incidents now, by stage (the SOP state), SKPD and responsibility (unknown until "
            "staff set it); from the database, the same on every replica: aggregate with max. "
            "Every open stage of every SKPD of the inventory is present, 0 when empty.",
            labels=["stage", "skpd", "responsibility"],
        )
        late = GaugeMetricFamily(
            "sigap_incident_overdue",
            "Open incidents whose current stage overran its target time (escalation targets), "
            "by stage and SKPD; from the database. Every open stage of every SKPD of the "
            "inventory is present, 0 when nothing is late.",
            labels=["stage", "skpd"],
        )
        if figures is not None:
            for labels, value in sorted(figures.open.items()):
                opened.add_metric(list(labels), value)
            for late_labels, value in sorted(figures.overdue.items()):
                late.add_metric(list(late_labels), value)
        yield opened
        yield late


class DatabaseFigures:
    """`sigap_database_size_bytes` and `sigap_database_rows{table}` from the last `refresh()`
    (every minute, not per scrape: counting rows on SQLite costs a scan)."""

    def __init__(self) -> None:
        self.size: int | None = None
        self.rows: Mapping[str, int] = {}
        self.free_ratio: float | None = None

    def refresh(self, size: int, rows: Mapping[str, int], free_ratio: float | None = None) -> None:
        self.size, self.rows, self.free_ratio = size, dict(rows), free_ratio

    def describe(self) -> Iterator[Metric]:
        return self._families()

    def collect(self) -> Iterator[Metric]:
        return self._families()

    def _families(self) -> Iterator[Metric]:
        size = GaugeMetricFamily(
            "sigap_database_size_bytes",
            "Size of the webhook's database (SQLite: pages times page size; PostgreSQL: "
            "pg_database_size), refreshed every minute.",
        )
        rows = GaugeMetricFamily(
            "sigap_database_rows",
            "Rows per table (SQLite: counted; PostgreSQL: the planner's estimate), refreshed "
            "every minute.",
            labels=["table"],
        )
        free = GaugeMetricFamily(
            "sigap_database_filesystem_free_ratio",
            "Share of the filesystem holding the SQLite database still free (absent on "
            "PostgreSQL), refreshed every minute.",
        )
        if self.size is not None:
            size.add_metric([], self.size)
        for name, n in sorted(self.rows.items()):
            rows.add_metric([name], n)
        if self.free_ratio is not None:
            free.add_metric([], self.free_ratio)
        yield size
        yield rows
        yield free
