"""The alert batch's decisions without a database (`webhook.intake.batch.Decisions`): built from
the rows a batch would have read, it opens, attaches, recovers and ignores repeats in memory.
tests/webhook/test_service_batch.py checks that what it decides is what the database gets."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from tests.webhook.reliability import T0, alert, notification
from webhook.core.figures import Fact
from webhook.core.grouping import Windows
from webhook.intake.batch import AlertRow, Decisions, IncidentRow, _Alert, _Incident
from webhook.intake.payload import AlertmanagerNotification as Notification

WINDOWS = Windows(transient=timedelta(minutes=5), reopen=timedelta(minutes=30))


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _n(*alerts: dict[str, Any]) -> Notification:
    return Notification.model_validate(notification(alerts))


gw = alert("dinkes", "dinkes-gw")
gw_end = alert("dinkes", "dinkes-gw", status="resolved", end=600)


def test_a_new_alert_opens_an_incident_that_owes_a_page_and_recovers_when_it_resolves() -> None:
    facts: list[Fact] = []
    decisions = Decisions.of(facts, WINDOWS, skpds={"dinkes"}, since=_at(10))
    decisions.ingest(_n(gw), _at(10))
    [incident] = decisions.opened
    assert (incident.skpd, incident.state, incident.open_key) == ("dinkes", "opened", "dinkes")
    assert incident.responsibility == "diskominfo" and incident.nodes == ["dinkes-gw"]
    assert [(i, notice) for i, notice, _ in decisions.pages] == [(incident, "opened")]
    assert [e.kind for e in decisions.events] == ["opened", "alert_firing"]
    assert facts

    decisions.ingest(_n(gw), _at(60))  # Alertmanager's repeat: nothing changes
    assert [e.kind for e in decisions.events] == ["opened", "alert_firing"]
    assert len(decisions.pages) == 1 and incident.updated_at == _at(10)

    decisions.ingest(_n(gw_end), _at(610))  # ten minutes down: recovered, open for the SOP
    assert incident.recovered_at == _at(600) and incident.state == "opened"
    assert [e.kind for e in decisions.events][2:] == ["alert_resolved", "recovered"]
    assert decisions.events[-1].data["downtime_seconds"] == 600
    assert decisions.opened == [incident] and len(decisions.pages) == 1


def test_an_incident_read_from_its_rows_recovers_and_ignores_repeats() -> None:
    opened = _at(-300)
    row = IncidentRow(
        7, "dinkes", "dispatched", "diskominfo", "dinkes", ["dinkes-gw"],
        opened, None, None, opened, 0, opened,
    )  # fmt: skip
    firing = AlertRow(gw["fingerprint"], T0, None, "firing", None, 7, 41)
    decisions = Decisions.of(
        [], WINDOWS, skpds={"dinkes"}, since=_at(10), alerts=[firing], incidents=[row]
    )
    decisions.ingest(_n(gw), _at(10))
    assert decisions.changed == [] and decisions.events == [] and decisions.opened == []

    decisions.ingest(_n(gw_end), _at(610))
    [incident] = decisions.changed
    assert incident.id == 7 and incident.recovered_at == _at(600)
    assert incident.state == "dispatched"  # confirmed: staff close it, not the alert
    assert [e.kind for e in decisions.events] == ["alert_resolved", "recovered"]
    assert decisions.pages == [] and decisions.opened == []


def test_the_plain_rows_are_the_rows_a_batch_reads() -> None:
    for row, held in ((AlertRow, _Alert), (IncidentRow, _Incident)):
        assert row._fields == tuple(f.name for f in fields(held))[: len(row._fields)]
