"""Maintenance windows, the pure rules (webhook.core.maintenance) and the monthly figures."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from webhook.core.maintenance import (
    Plan,
    PlanInvalid,
    check_plan,
    intervals_within,
    matchers,
    parse_plan,
    planned,
)
from webhook.core.monthly import Month, availability_excluding_planned, build_report

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
WITA = ZoneInfo("Asia/Makassar")


@dataclass
class W:
    skpd: str
    nodes: list[str]
    starts_at: datetime
    ends_at: datetime
    cancelled_at: datetime | None = None


def test_the_silence_matches_the_skpd_or_its_named_nodes_regex_escaped() -> None:
    assert matchers("dinkes", []) == [
        {"name": "skpd", "value": "dinkes", "isRegex": False, "isEqual": True}
    ]
    nodes = matchers("dinkes", ["sw.lt2", "gw-dinkes"])[1]
    assert nodes["isRegex"] and nodes["value"] == r"gw\-dinkes|sw\.lt2"
    assert re.fullmatch(nodes["value"], "sw.lt2") and not re.fullmatch(nodes["value"], "swxlt2")


def test_a_form_time_is_the_regencys_and_bad_plans_are_named() -> None:
    plan = parse_plan(
        {
            "skpd": "dinkes",
            "starts_at": "2026-11-03T22:00",
            "ends_at": "2026-11-04T02:00",
            "reason": "ganti switch",
            "nodes": "sw-a, sw-b",
        },
        WITA,
    )
    assert plan.starts_at == datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
    assert plan.nodes == ("sw-a", "sw-b")
    with pytest.raises(PlanInvalid, match="colour: unknown field"):
        parse_plan({"colour": "red"}, WITA)
    with pytest.raises(PlanInvalid, match="starts_at: expected a time"):
        parse_plan({"skpd": "x", "starts_at": "besok", "ends_at": "x", "reason": "r"}, WITA)
    ok = Plan("dinkes", (), NOW, NOW + timedelta(hours=2), "kabel")
    assert check_plan(ok, NOW, new=True) == ok
    cases = [
        (Plan("d", (), NOW, NOW, "r"), "ends_at: the end must come after the start"),
        (Plan("d", (), NOW - timedelta(hours=3), NOW - timedelta(hours=1), "r"), "in the past"),
        (Plan("d", (), NOW - timedelta(hours=1), NOW + timedelta(hours=1), "r"), "starts_at"),
        (Plan("d", (), NOW, NOW + timedelta(days=40), "r"), "at most 31 days"),
        (Plan("d", (), NOW, NOW + timedelta(hours=1), "  "), "reason"),
    ]
    for plan_, why in cases:
        with pytest.raises(PlanInvalid, match=why):
            check_plan(plan_, NOW, new=True)
    # an edit of a running window keeps its start in the past
    running = Plan("d", (), NOW - timedelta(hours=1), NOW + timedelta(hours=1), "r")
    assert check_plan(running, NOW, new=False) == running


def test_an_outage_is_planned_only_inside_a_window_that_covers_its_nodes() -> None:
    whole = W("dinkes", [], NOW, NOW + timedelta(hours=1))
    some = W("dishub", ["sw-a"], NOW, NOW + timedelta(hours=1))
    assert planned([whole], "dinkes", ["gw"], NOW + timedelta(minutes=5))
    assert planned([whole], "dinkes", [], NOW)  # a report without nodes
    assert not planned([whole], "dinkes", ["gw"], NOW + timedelta(hours=1))  # the end: outside
    assert not planned([whole], "dishub", ["gw"], NOW)
    assert planned([some], "dishub", ["sw-a"], NOW)
    assert not planned([some], "dishub", ["sw-b"], NOW)
    assert not planned([some], "dishub", [], NOW)
    cancelled = W("dinkes", [], NOW, NOW + timedelta(hours=1), cancelled_at=NOW)
    assert not planned([cancelled], "dinkes", [], NOW + timedelta(minutes=1))


def test_window_time_in_a_month_is_merged_clipped_and_cut_by_cancelling() -> None:
    month = Month(2026, 11)  # WITA: from 31 October 16:00 UTC
    windows = [
        W(
            "dinkes",
            [],
            datetime(2026, 10, 31, 15, tzinfo=UTC),
            datetime(2026, 10, 31, 17, tzinfo=UTC),
        ),
        W("dinkes", [], NOW, NOW + timedelta(hours=2)),
        W("dinkes", ["x"], NOW + timedelta(hours=1), NOW + timedelta(hours=3)),
        W(
            "dinkes",
            [],
            NOW + timedelta(days=1),
            NOW + timedelta(days=1, hours=4),
            cancelled_at=NOW + timedelta(days=1, hours=1),
        ),
        W("dishub", [], NOW, NOW + timedelta(hours=9)),
    ]
    spans = intervals_within(windows, "dinkes", month.start, month.end)
    assert [(hi - lo).total_seconds() / 3600 for lo, hi in spans] == [1, 3, 1]


def test_availability_excluding_planned_time() -> None:
    # 30 days, 10 h of maintenance during which the SKPD was down; otherwise 5 h down
    month = 30 * 86400.0
    a = 1 - 15 * 3600 / month
    assert availability_excluding_planned(a, month, 10 * 3600, 0.0) == pytest.approx(
        1 - 5 * 3600 / (month - 10 * 3600)
    )
    assert availability_excluding_planned(a, month, 0, None) == a
    assert availability_excluding_planned(a, month, 3600, None) is None
    assert availability_excluding_planned(None, month, 3600, 0.0) is None


@dataclass
class FakeAlert:
    starts_at: datetime
    ends_at: datetime | None


@dataclass
class FakeIncident:
    id: int
    skpd: str
    opened_at: datetime
    alerts: list[FakeAlert]
    planned: bool = False
    title: str = "x"
    state: str = "closed"
    responsibility: str | None = "diskominfo"
    closed_at: datetime | None = None
    events: list[Any] = field(default_factory=list)


def test_the_monthly_report_counts_planned_downtime_apart() -> None:
    month = Month(2026, 11)
    window = (NOW, NOW + timedelta(hours=2))
    incidents = [
        # 1 h inside the window, 1 h after it
        FakeIncident(
            1,
            "dinkes",
            NOW + timedelta(hours=1),
            [FakeAlert(NOW + timedelta(hours=1), NOW + timedelta(hours=3))],
        ),
        # opened inside a window (slipped through): all of it planned
        FakeIncident(
            2,
            "dinkes",
            NOW + timedelta(days=2),
            [FakeAlert(NOW + timedelta(days=2), NOW + timedelta(days=2, minutes=30))],
            planned=True,
        ),
    ]
    report = build_report(
        month,
        {"dinkes": "Dinas Kesehatan"},
        incidents,
        {},
        {"dinkes": 0.99},
        None,
        datetime(2026, 12, 1, tzinfo=UTC),
        {"dinkes": [window]},
        {"dinkes": 0.5},
    )
    skpd = report.skpds[0]
    assert skpd.downtime_total == 2.5 * 3600
    assert skpd.downtime_planned == 1.5 * 3600
    assert skpd.downtime_unplanned == 3600
    assert skpd.planned_time == 2 * 3600
    assert skpd.availability_excl_planned == pytest.approx(
        (0.99 * 30 * 86400 - 0.5 * 7200) / (30 * 86400 - 7200)
    )
