"""The receiver's group commit: many notifications in ONE transaction (`webhook.intake.batch.Batch`)
record exactly what the same notifications record one transaction each: the same alerts, the
same incidents with the same timelines, the same answers and the same facts for the metrics.
On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select

from tests.pgserver import PgServer, pgserver
from tests.webhook.reliability import T0, alert, notification
from webhook.core.figures import Fact, NoticeOwed
from webhook.core.grouping import Windows
from webhook.intake.batch import Batch, Outcome
from webhook.intake.payload import AlertmanagerNotification as Notification
from webhook.settings import database_url
from webhook.store.database import Database
from webhook.store.models import Alert, Event, Incident, Notice

WINDOWS = Windows(transient=timedelta(minutes=5), reopen=timedelta(minutes=30))


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _n(*alerts: dict[str, Any], truncated: int = 0) -> Notification:
    return Notification.model_validate(notification(alerts, truncated=truncated))


gw, sw = alert("dinkes", "dinkes-gw"), alert("dinkes", "dinkes-sw", start=20)
gw_end = alert("dinkes", "dinkes-gw", status="resolved", end=60)
sw_end = alert("dinkes", "dinkes-sw", status="resolved", start=20, end=60)
gw_again = alert("dinkes", "dinkes-gw", start=100)
gw_again_end = alert("dinkes", "dinkes-gw", status="resolved", start=100, end=130)
core = alert("disdik", "disdik-core")
core_end = alert("disdik", "disdik-core", status="resolved", end=600)
core_again = alert("disdik", "disdik-core", start=700)
forgotten = alert("dishub", "dishub-gw", start=-600)  # resolved by the reconciliation first
before = alert("dpmptsp", "dpmptsp-gw", start=-500)  # open before the batch
before_end = alert("dpmptsp", "dpmptsp-gw", status="resolved", start=-500, end=-400)

STREAM: list[tuple[Notification, datetime]] = [
    (_n(gw), _at(10)),  # opens dinkes
    (_n(gw, sw), _at(30)),  # the group grows
    (_n(gw, sw), _at(40)),  # a repeat: nothing
    (_n(core, core_end), _at(45)),  # opens disdik; the same alert again, first one counts
    (_n(forgotten), _at(50)),  # Alertmanager still has it: revived
    (_n(gw_end, sw_end), _at(70)),  # dinkes recovers within 5 min: closes as transient
    (_n(gw_again), _at(110)),  # ... and fires again within 30 min: reopened
    (_n(alert("bappeda", "bappeda-gw", status="resolved", end=5)), _at(115)),  # never seen firing
    (_n(core_end), _at(620)),  # disdik recovers after 10 min: stays open for the SOP
    (_n(core_again, truncated=3), _at(710)),  # and fails again: the same open incident
    (_n(gw_again_end), _at(140)),  # dinkes transient again (received late)
    (_n(gw_again_end), _at(150)),  # a repeat: nothing
    (_n(before_end), _at(160)),  # closes an incident the database had as transient, and ...
    (_n(alert("dpmptsp", "dpmptsp-gw", start=2000)), _at(2000)),  # ... past 30 min: a new one
]


def _record(batch: list[tuple[Notification, datetime]]) -> Any:
    def work(connection: Connection, facts: list[Fact]) -> list[Outcome]:
        recording = Batch(connection, facts, WINDOWS)
        recording.read([n for n, _ in batch], min(now for _, now in batch))
        for notification_, now in batch:
            recording.ingest(notification_, now)
        recording.write()
        return recording.outcomes()

    return work


def _forget(connection: Connection, facts: list[Fact]) -> int:
    batch = Batch(connection, facts, WINDOWS)
    resolved = batch.resolve_forgotten(set(), _at(0), _at(1))
    batch.write()
    return resolved


async def _run(url: str, one_by_one: bool) -> tuple[list[Outcome], list[Fact], Any]:
    database = Database(database_url(url))
    await database.upgrade()
    facts: list[Fact] = []
    # what the metrics count; NoticeOwed only wakes the delivery worker (one per transaction)
    database.subscribe(lambda new: facts.extend(f for f in new if not isinstance(f, NoticeOwed)))
    try:
        await database.write_batch(_record([(_n(forgotten), _at(-500))]))
        assert await database.write_batch(_forget) == 1
        await database.write_batch(_record([(_n(before), _at(-490))]))
        facts.clear()
        outcomes: list[Outcome] = []
        for part in [[item] for item in STREAM] if one_by_one else [STREAM]:
            outcomes += await database.write_batch(_record(part))
        async with database.read() as session:
            incidents = (await session.execute(select(Incident).order_by(Incident.id))).scalars()
            alerts = await session.execute(
                select(
                    Alert.fingerprint,
                    Alert.starts_at,
                    Alert.ends_at,
                    Alert.status,
                    Alert.resolved_by,
                    Alert.incident_id,
                    Alert.received_at,
                    Alert.updated_at,
                ).order_by(Alert.fingerprint, Alert.starts_at)
            )
            events = await session.execute(
                select(
                    Event.incident_id,
                    Event.at,
                    Event.actor,
                    Event.kind,
                    Event.from_state,
                    Event.to_state,
                    Event.data,
                ).order_by(Event.id)
            )
            pages = await session.execute(
                select(Notice.incident_id, Notice.notice, Notice.created_at).order_by(Notice.id)
            )
            record = (
                [{k: v for k, v in vars(i).items() if not k.startswith("_")} for i in incidents],
                [tuple(a) for a in alerts],
                [tuple(e) for e in events],
                [tuple(p) for p in pages],
            )
        return outcomes, facts, record
    finally:
        await database.close()


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    with pgserver() as server:
        yield server


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_one_transaction_records_what_one_each_records(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        urls = [f"sqlite:///{tmp_path / name}.db" for name in ("batch", "one")]
    else:
        server: PgServer = request.getfixturevalue("pg")
        urls = [server.create_database(name) for name in ("batch", "one")]
    together = await _run(urls[0], one_by_one=False)
    alone = await _run(urls[1], one_by_one=True)
    assert together == alone

    outcomes, facts, (incidents, alerts, events, pages) = together
    dishub, dpmptsp, dinkes, disdik, dpmptsp_later = incidents
    assert (dinkes["skpd"], dinkes["state"]) == ("dinkes", "transient")
    assert (disdik["state"], disdik["truncated_alerts"]) == ("opened", 3)
    assert disdik["recovered_at"] is None  # failed again after it recovered
    assert (dishub["state"], dishub["recovered_at"]) == ("opened", None)  # revived
    kinds = [kind for incident_id, _, _, kind, *_ in events if incident_id == dinkes["id"]]
    assert kinds.count("close_transient") == 2 and kinds.count("reopen") == 1
    # the first mention of an alert in a notification counts: disdik recovered at 620 s
    assert [at for i, at, _, kind, *_ in events if (i, kind) == (disdik["id"], "recovered")] == [
        _at(620)
    ]
    assert (dpmptsp["state"], dpmptsp_later["open_key"]) == ("transient", "dpmptsp")
    opened = [[3], [], [], [4], [], [], [3], [], [], [], [], [], [], [5]]
    assert [o.opened for o in outcomes] == opened
    # every opening and reopening owes the page of the staff on duty
    # (incidents 1 and 2: opened before the stream, by the setup)
    owed = [(i, "opened") for o in [[1], [2], *opened] for i in o]
    assert [(i, notice) for i, notice, _ in pages] == owed
    assert sum(1 for a in alerts if a[5] is None) == 1  # the resolution never seen firing
    assert [type(f).__name__ for f in facts].count("OutageEnded") == 4
