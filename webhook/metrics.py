"""The webhook's own metrics, on a registry passed in (a fresh one per test)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
        self.incidents_opened = Counter(
            "sigap_webhook_incidents_opened",
            "Incidents opened (or reopened) by alerts.",
            ["skpd"],
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
        for code in ("2xx", "4xx", "5xx"):
            self.notifications.labels(code)
        for result in ("ok", "error"):
            self.reconcile_runs.labels(result)
