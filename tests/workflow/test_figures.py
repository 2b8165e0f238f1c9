"""The SOP's figures on /metrics after incidents walked through the real app: time to each stage
(first time only), the estimate's error, downtime (a flapping outage counted once), incidents
opened by source, notifications, the open and overdue gauges; and `promtool check metrics`."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import PIPE, STDOUT
from typing import Any

import pytest

from tests.workflow.conftest import Mailbox, MovableClock, Service, start_service
from tests.workflow.sop_walk import (
    F01,
    act,
    alert,
    detail,
    first_entries,
    open_incident_of,
    open_report,
    send,
    walk_to_repair,
)
from webhook.core import figures
from webhook.core.localtime import local
from webhook.core.monthly import Month
from webhook.core.workflow import OPEN_STATES, State
from webhook.web.keys import REGISTRY

INVENTORY = Path(__file__).resolve().parents[2] / "deploy" / "inventory.example.yml"
PROMTOOL = shutil.which("promtool")


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def figures_service(tmp_path: Path, smtp: tuple[Mailbox, int], clock: MovableClock) -> Any:
    """The app with the example inventory, mail through a real SMTP server, and a clock the
    test moves (the SOP's targets: `opened` is overdue after 15 minutes)."""
    notify = {"smtp": {"host": "127.0.0.1", "port": smtp[1]}, "retries": 2, "backoff": "10ms"}
    service = await start_service(
        tmp_path, notify, env={"SIGAP_INVENTORY": str(INVENTORY)}, clock=clock
    )
    try:
        yield service
    finally:
        await service.drain()
        await service.client.close()


def sample(service: Service, name: str, **labels: str) -> float | None:
    value = service.app[REGISTRY].get_sample_value(name, labels)
    return None if value is None else float(value)


async def scrape(service: Service) -> str:
    response = await service.client.get("/metrics")
    assert response.status == 200
    return await response.text()


async def test_the_sop_figures_after_a_whole_workflow(
    figures_service: Service, smtp: tuple[Mailbox, int], clock: MovableClock
) -> None:
    service = figures_service
    now = datetime.now(UTC).replace(microsecond=0)
    # dinkes: two alerts of one outage (overlapping), Diskominfo's side.
    gateway = alert("dinkes", "gw-dinkes", now - timedelta(minutes=60))
    switch = alert("dinkes", "sw-dinkes-core", now - timedelta(minutes=40))
    await send(service, "dinkes", gateway, switch)
    dinkes = await open_incident_of(service, "dinkes")
    estimate = now + timedelta(hours=1)
    await act(service, "sari", dinkes, "confirm", **F01)
    await act(service, "sari", dinkes, "report", responsibility="diskominfo")
    await act(service, "koord", dinkes, "dispatch", assignee="sari")
    await act(service, "koord", dinkes, "dispatch", assignee="andi")  # re-dispatch: not again
    await act(
        service, "andi", dinkes, "estimate", findings="x",
        estimated_recovery_at=(now + timedelta(minutes=30)).isoformat(),
    )  # fmt: skip
    await act(service, "koord", dinkes, "forward")
    # a new estimate after the first (from forwarded): the stage is not timed again
    await act(
        service,
        "andi",
        dinkes,
        "estimate",
        findings="kabel putus",
        estimated_recovery_at=estimate.isoformat(),
    )
    await act(service, "koord", dinkes, "forward")
    await act(service, "koord", dinkes, "order_repair")
    # the outage ends: the union of the two alerts, 60 to 10 minutes ago
    await send(
        service,
        "dinkes",
        alert("dinkes", "gw-dinkes", now - timedelta(minutes=60), now - timedelta(minutes=20)),
        alert("dinkes", "sw-dinkes-core", now - timedelta(minutes=40), now - timedelta(minutes=10)),
    )
    assert (
        sample(
            service,
            "sigap_incident_downtime_seconds_total",
            skpd="dinkes",
            responsibility="diskominfo",
        )
        == 3000
    )
    f04 = {
        "findings": "kabel putus",
        "actions_taken": "sambung",
        "repair_started_at": now.isoformat(),
        "repair_ended_at": (estimate + timedelta(minutes=25)).isoformat(),
        "result": "pulih",
    }
    # not a person's to set: the downtime ledger stays SIGAP's, and the form is refused whole
    forged = await service.client.post(
        f"/api/v1/incidents/{dinkes}/actions/repair",
        json={**f04, "downtime_seconds": 99999},
        headers={"Authorization": f"Bearer {service.tokens['andi']}"},
    )
    assert forged.status == 422
    assert "unknown field(s) downtime_seconds" in (await forged.json())["error"]
    await act(service, "andi", dinkes, "repair", **f04)
    # it flaps after the repair: down again for 3 minutes; only those 3 minutes are added
    await send(service, "dinkes", alert("dinkes", "gw-dinkes", now - timedelta(minutes=5)))
    await send(
        service,
        "dinkes",
        alert("dinkes", "gw-dinkes", now - timedelta(minutes=5), now - timedelta(minutes=2)),
    )
    assert (
        sample(
            service,
            "sigap_incident_downtime_seconds_total",
            skpd="dinkes",
            responsibility="diskominfo",
        )
        == 3000 + 180
    )
    await act(service, "budi", dinkes, "close")

    # setda: reported by phone, no alerts; the SKPD's side; repaired 15 minutes early.
    report = await open_report(service, "sari", "setda", "switch lantai 2 mati")
    opened_at = datetime.fromisoformat(report["opened_at"])
    await walk_to_repair(
        service,
        report["id"],
        "skpd",
        opened_at + timedelta(hours=1),
        opened_at + timedelta(minutes=45),
    )
    # disdik: left in `opened`, which is overdue at once in this service.
    await send(service, "disdik", alert("disdik", "gw-disdik", now, responsibility="skpd"))
    await service.drain()

    timeline = await detail(service, dinkes)
    expected = first_entries(timeline["events"], timeline["opened_at"])
    assert set(expected) == {"confirm", "dispatch", "estimate", "repair", "close"}
    for stage, seconds in expected.items():
        labels = {"stage": stage, "responsibility": "diskominfo"}
        assert sample(service, "sigap_incident_time_to_stage_seconds_count", **labels) == 1
        assert sample(service, "sigap_incident_time_to_stage_seconds_sum", **labels) == (
            pytest.approx(seconds, abs=1e-3)
        )
    # confirm was timed with the responsibility the alert gave; setda's stages after SOP 4
    # with the SKPD's
    assert (
        sample(
            service,
            "sigap_incident_time_to_stage_seconds_count",
            stage="confirm",
            responsibility="unknown",
        )
        == 1
    )
    assert (
        sample(
            service,
            "sigap_incident_time_to_stage_seconds_count",
            stage="repair",
            responsibility="skpd",
        )
        == 1
    )

    # estimates: dinkes 25 minutes late, setda 15 minutes early
    late = {"responsibility": "diskominfo"}
    # (no _sum: a histogram with negative buckets has none; dashboards use the buckets)
    assert sample(service, "sigap_incident_estimate_error_seconds_sum", **late) is None
    assert sample(service, "sigap_incident_estimate_error_seconds_count", **late) == 1
    assert sample(service, "sigap_incident_estimate_error_seconds_bucket", le="900.0", **late) == 0
    assert sample(service, "sigap_incident_estimate_error_seconds_bucket", le="1800.0", **late) == 1
    early = {"responsibility": "skpd"}
    assert (
        sample(service, "sigap_incident_estimate_error_seconds_bucket", le="-900.0", **early) == 1
    )
    assert (
        sample(service, "sigap_incident_estimate_error_seconds_bucket", le="-1800.0", **early) == 0
    )

    # the report's outage: its opening to F-04's repair end
    assert (
        sample(
            service, "sigap_incident_downtime_seconds_total", skpd="setda", responsibility="skpd"
        )
        == 45 * 60
    )
    assert (
        sample(
            service,
            "sigap_incidents_opened_total",
            skpd="dinkes",
            responsibility="diskominfo",
            source="alert",
        )
        == 1
    )
    assert (
        sample(
            service,
            "sigap_incidents_opened_total",
            skpd="setda",
            responsibility="unknown",
            source="report",
        )
        == 1
    )
    assert (
        sample(
            service,
            "sigap_incidents_opened_total",
            skpd="disdik",
            responsibility="skpd",
            source="alert",
        )
        == 1
    )
    assert (
        sample(
            service,
            "sigap_incidents_opened_total",
            skpd="rsud",
            responsibility="unknown",
            source="report",
        )
        == 0
    )  # every SKPD of the inventory starts at 0

    mails = len(smtp[0].messages)
    assert mails > 0
    assert sample(service, "sigap_notifications_total", channel="email", status="sent") == mails
    assert sample(service, "sigap_notifications_total", channel="email", status="failed") == 0

    clock.advance(timedelta(minutes=16))  # `opened` is overdue after 15 minutes
    text = await scrape(service)
    # open now: disdik in `opened` (overdue), setda waiting for the SKPD admin to close F-04
    assert (
        sample(service, "sigap_incident_open", stage="opened", skpd="disdik", responsibility="skpd")
        == 1
    )
    assert (
        sample(
            service, "sigap_incident_open", stage="repaired", skpd="setda", responsibility="skpd"
        )
        == 1
    )
    assert sample(service, "sigap_incident_overdue", stage="opened", skpd="disdik") == 1
    assert sample(service, "sigap_incident_overdue", stage="repaired", skpd="setda") == 0
    open_series = [line for line in text.splitlines() if line.startswith("sigap_incident_open{")]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in open_series) == 2
    # a 0 for every open stage of every SKPD (and core): sums are 0, not empty
    overdue = [line for line in text.splitlines() if line.startswith("sigap_incident_overdue{")]
    assert len(overdue) == len(OPEN_STATES) * 12
    assert (
        sample(service, "sigap_incident_overdue", stage=State.REPAIR_ORDERED.value, skpd="core")
        == 0
    )
    assert "sigap_webhook_incidents_opened" not in text

    assert PROMTOOL is not None, "promtool (Debian package prometheus) is needed"
    check = await asyncio.create_subprocess_exec(
        PROMTOOL, "check", "metrics", stdin=PIPE, stdout=PIPE, stderr=STDOUT
    )
    out, _ = await asyncio.wait_for(check.communicate(text.encode()), 30)
    assert check.returncode == 0, out.decode()


async def test_a_repair_with_a_bad_time_is_refused_and_not_counted(
    figures_service: Service,
) -> None:
    service = figures_service
    now = datetime.now(UTC)
    await send(service, "dinkes", alert("dinkes", "gw-dinkes", now))
    incident = await open_incident_of(service, "dinkes")
    ahead = now + timedelta(minutes=5)  # an estimate lies ahead
    await walk_to_repair(service, incident, "skpd", ahead, now)  # the first incident: counted
    await send(service, "disdik", alert("disdik", "gw-disdik", now))
    second = await open_incident_of(service, "disdik")
    for action, data in [
        ("confirm", F01),
        ("report", {"responsibility": "skpd"}),
        ("estimate", {}),
    ]:
        if action == "estimate":
            await act(service, "koord", second, "dispatch", assignee="sari")
            ahead = now + timedelta(minutes=5)  # an estimate lies ahead
            data = {"findings": "x", "estimated_recovery_at": ahead.isoformat()}
        await act(service, "sari", second, action, **data)
    await act(service, "koord", second, "forward")
    await act(service, "koord", second, "order_repair")
    response = await service.client.post(
        f"/api/v1/incidents/{second}/actions/repair",
        json={
            "findings": "x",
            "actions_taken": "y",
            "repair_started_at": now.isoformat(),
            "repair_ended_at": "kemarin sore",
            "result": "pulih",
        },
        headers={"Authorization": f"Bearer {service.tokens['sari']}"},
    )
    assert response.status == 422  # the form is malformed, whatever the incident's state
    assert "repair_ended_at: Input should be a valid datetime" in (await response.json())["error"]
    assert (await detail(service, second))["state"] == "repair_ordered"
    labels = {"stage": "repair", "responsibility": "skpd"}
    assert sample(service, "sigap_incident_time_to_stage_seconds_count", **labels) == 1
    assert (
        sample(service, "sigap_incident_estimate_error_seconds_count", responsibility="skpd") == 1
    )


T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@dataclass
class Step:
    at: datetime
    from_state: str | None
    to_state: str
    data: dict[str, Any]


def test_overlapping_alerts_are_one_outage_clipped_to_the_month() -> None:
    minutes = [(0, 30), (20, 50), (70, None)]  # two overlapping, one still down
    intervals = [
        (T0 + timedelta(minutes=a), None if b is None else T0 + timedelta(minutes=b))
        for a, b in minutes
    ]
    now = T0 + timedelta(minutes=80)
    assert figures.outage_seconds(intervals, now) == (50 + 10) * 60
    assert figures.outage_seconds(intervals, now, (T0 + timedelta(minutes=25), now)) == 35 * 60
    report = figures.outage_intervals(T0, None, [], T0 + timedelta(minutes=45))
    assert figures.outage_seconds(report, now) == 45 * 60


def test_a_reopened_incident_keeps_its_first_stage_times() -> None:
    steps = [
        Step(T0 + timedelta(minutes=5), "ping_checked", "confirmed", {}),
        Step(T0 + timedelta(hours=2), "repaired", "closed", {}),
        Step(T0 + timedelta(hours=3), "closed", "opened", {}),  # reopen
        Step(T0 + timedelta(hours=4), "ping_checked", "confirmed", {}),
    ]
    assert figures.time_to_stages(T0, steps) == {"confirm": 300.0, "close": 7200.0}
    assert figures.first_entry("opened", "confirmed", steps) is None
    assert figures.first_entry("reported", "dispatched", steps) == "dispatch"
    assert figures.first_entry("dispatched", "dispatched", []) is None  # a re-dispatch
    ledger = [Step(T0, "opened", "opened", {figures.DOWNTIME_KEY: 600.0})]
    assert figures.downtime_increment(900.0, ledger) == 300.0


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [("2026-11", "2026-11-01", "2026-12-01"), ("2026-12", "2026-12-01", "2027-01-01")],
)
def test_a_month_is_its_local_days(text: str, start: str, end: str) -> None:
    month = Month.parse(text)  # the regency's month (WITA): from 16:00 UTC the day before
    wita = (local(month.start).isoformat(), local(month.end).isoformat())
    assert wita == (f"{start}T00:00:00+08:00", f"{end}T00:00:00+08:00")
    utc = Month.parse(text, "UTC")
    assert (utc.start.date().isoformat(), utc.end.date().isoformat()) == (start, end)
    assert str(month.previous().next()) == text
    assert month.name("id").split()[0] in ("November", "Desember")
