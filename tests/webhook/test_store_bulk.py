"""The receiver's bulk inserts (webhook.store.bulk) write what SQLAlchemy would have written:
rows inserted both ways read back the same through the models, and compare the same in SQL,
on SQLite and on a real PostgreSQL. And the batch's lookup of a notification's alerts does not
walk every firing alert (which made each batch of a storm slower than the one before)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select

from tests.pgserver import PgServer, pgserver
from webhook.intake.batch import _FIRING_BEFORE, _NEW_ALERTS, _READS
from webhook.settings import database_url
from webhook.store.bulk import BulkInsert, _sqlite_datetime
from webhook.store.database import Database
from webhook.store.models import Alert, Event, Incident, RawNotification

_DATABASES = itertools.count()
WITA = timezone(timedelta(hours=8))
ALERT_COLUMNS = _NEW_ALERTS.columns
TRICKY: list[dict[str, Any]] = [
    {  # a whole second (no microseconds), given in WITA
        "fingerprint": "a1",
        "starts_at": datetime(2026, 11, 30, 8, 0, tzinfo=WITA),
        "ends_at": None,
        "status": "firing",
        "resolved_by": None,
        "labels": {"alertname": "NodeDown", "skpd": "dinkes", "node": "gw-dinkes"},
        "annotations": {"summary": "Gangguan — Dinas Kesehatan ✓", "empty": ""},
        "generator_url": None,
        "received_at": datetime(2026, 11, 30, 0, 0, 1, 250, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 30, 0, 0, 1, 250, tzinfo=UTC),
    },
    {  # an ended one, before 1000 AD's formatting pitfalls are an issue: year 1970
        "fingerprint": "b2",
        "starts_at": datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        "ends_at": datetime(1970, 1, 2, 23, 59, 59, 999999, tzinfo=UTC),
        "status": "resolved",
        "resolved_by": "alertmanager",
        "labels": {},
        "annotations": {"nested": '"quoted" \\ back'},
        "generator_url": "http://prometheus:9090/graph?g0.expr=up%3D%3D0",
        "received_at": datetime(2026, 11, 30, 0, 0, 2, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 30, 0, 0, 3, tzinfo=UTC),
    },
]


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    with pgserver() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Any:  # AsyncIterator[Database]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/bulk.db"
    else:
        server: PgServer = request.getfixturevalue("pg")
        url = server.create_database(f"bulk{next(_DATABASES)}")
    db = Database(database_url(url))
    await db.upgrade()
    yield db
    await db.close()


def _incident(connection: Connection, at: datetime) -> int:
    values = {"skpd": "dinkes", "state": "opened", "source": "alert", "opened_by": "test",
              "opened_at": at, "stage_entered_at": at, "updated_at": at}  # fmt: skip
    return int(connection.execute(insert(Incident).values(**values)).inserted_primary_key[0])


def _rows(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(*(getattr(Alert, c) for c in ALERT_COLUMNS)).order_by(Alert.id)
    )
    return [dict(row._mapping) for row in rows]


async def test_bulk_rows_read_back_as_sqlalchemy_writes_them(database: Database) -> None:
    def write(connection: Connection, _facts: list[Any]) -> tuple[list[Any], list[Any], bool]:
        incident_id = _incident(connection, datetime(2026, 11, 30, tzinfo=UTC))
        rows = [{**r, "incident_id": incident_id} for r in TRICKY]
        connection.execute(insert(Alert), rows)
        through_orm = _rows(connection)
        connection.execute(delete(Alert))
        _NEW_ALERTS.execute(connection, [tuple(r[c] for c in ALERT_COLUMNS) for r in rows])
        through_bulk = _rows(connection)
        # stored in the same form: SQL compares the bulk rows with a bound datetime as it would
        # compare SQLAlchemy's (SQLite compares the text)
        later = connection.execute(
            select(Alert.fingerprint).where(Alert.starts_at >= TRICKY[0]["starts_at"])
        ).scalars()
        return through_orm, through_bulk, list(later) == ["a1"]

    through_orm, through_bulk, compares = await database.write_batch(write)
    assert through_bulk == through_orm
    assert through_bulk[0]["starts_at"] == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert through_bulk[0]["annotations"]["summary"] == "Gangguan — Dinas Kesehatan ✓"
    assert compares


async def test_bulk_timeline_and_raw_bodies(database: Database) -> None:
    events = BulkInsert(
        Event.__table__,
        ("incident_id", "at", "actor", "role", "kind", "from_state", "to_state", "data"),
    )
    raw = BulkInsert(
        RawNotification.__table__,
        ("received_at", "remote", "auth_ok", "status_code", "error", "group_key", "body"),
    )
    at = datetime(2026, 11, 30, 9, 30, 15, 123456, tzinfo=UTC)

    def write(connection: Connection, _facts: list[Any]) -> tuple[Any, Any]:
        incident_id = _incident(connection, at)
        events.execute(
            connection,
            [(incident_id, at, "alertmanager", "system", "alert_firing", "opened", "opened",
              {"node": "gw", "count": 3, 7: "a number as key, written as text"})],
        )  # fmt: skip
        raw.execute(connection, [(at, None, True, 200, None, '{}:{skpd="x"}', b"\x00\xffbody")])
        event = connection.execute(select(Event.at, Event.data)).one()
        body = connection.execute(select(RawNotification.body, RawNotification.auth_ok)).one()
        return event, body

    event, body = await database.write_batch(write)
    assert event.at == at
    assert event.data == {"node": "gw", "count": 3, "7": "a number as key, written as text"}
    assert tuple(body) == (b"\x00\xffbody", True)


async def test_naive_datetimes_are_refused(database: Database) -> None:
    row = {**TRICKY[0], "starts_at": datetime(2026, 11, 30, 8, 0), "incident_id": None}

    def write(connection: Connection, _facts: list[Any]) -> None:
        _NEW_ALERTS.execute(connection, [tuple(row[c] for c in ALERT_COLUMNS)])

    with pytest.raises(ValueError, match="naive datetime"):
        await database.write_batch(write)


def test_columns_out_of_the_tables_order_are_refused() -> None:
    with pytest.raises(ValueError, match="not in the table's order"):
        BulkInsert(Alert.__table__, ("starts_at", "fingerprint"))


async def test_a_notifications_alerts_are_looked_up_by_fingerprint(tmp_path: Path) -> None:
    """SQLite's plan for the batch's read: the alerts of the fingerprints named, never a walk
    through all firing alerts (the plan an index on status alone led SQLite to); while
    reconciliation still reads only the firing alerts."""
    db = Database(database_url(f"sqlite:///{tmp_path}/plan.db"))
    await db.upgrade()
    names = [f"f{i}" for i in range(640)]
    starts = [datetime(2026, 11, 30, tzinfo=UTC)]  # a storm: one cut, one startsAt

    def plans(connection: Connection, _facts: list[Any]) -> tuple[str, str]:
        expanded = (
            _READS["sqlite"]
            .alerts_named.compile(dialect=connection.dialect)
            .construct_expanded_state({"fingerprints": names, "starts": starts})
        )
        values = tuple(
            _sqlite_datetime(v) if isinstance(v, datetime) else v
            for v in (expanded.parameters[name] for name in expanded.positiontup or ())
        )
        lookup = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {expanded.statement}", values)
        walk = connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {_FIRING_BEFORE.compile(dialect=connection.dialect)}",
            (_sqlite_datetime(starts[0]),),
        )
        return (" ".join(str(r[-1]) for r in lookup), " ".join(str(r[-1]) for r in walk))

    try:
        lookup, walk = await db.write_batch(plans, commit=False)
    finally:
        await db.close()
    assert "status" not in lookup and "MULTI-INDEX OR" not in lookup, lookup
    assert "sqlite_autoindex_alert_1 (fingerprint=?" in lookup, lookup
    assert "ix_alert_firing" in walk, walk


async def test_postgresql_looks_a_notifications_alerts_up_by_fingerprint(pg: PgServer) -> None:
    """PostgreSQL's plan for the same read, as a storm meets it (a table not analyzed yet) and
    made to use indexes (this table is small; a storm's is not): every index it scans is
    searched by the fingerprints named. A partial index of the firing alerts keyed by anything
    else (tried: by id) became an arm of the OR that read every firing alert."""
    db = Database(database_url(pg.create_database(f"plan{next(_DATABASES)}")))
    await db.upgrade()
    start = datetime(2026, 11, 30, tzinfo=UTC)

    def plan(connection: Connection, _facts: list[Any]) -> Any:
        incident = _incident(connection, start)
        firing = [
            (f"f{i}", start, None, "firing", None, {}, {}, None, start, start, incident)
            for i in range(2000)
        ]
        _NEW_ALERTS.execute(connection, firing)
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        compiled = _READS["postgresql"].alerts_named.compile(dialect=connection.dialect)
        explained = connection.exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) {compiled.string}",
            ([f"f{i}" for i in range(0, 2000, 3)], [start]),
        )
        return explained.scalar_one()[0]["Plan"]

    try:
        root = await db.write_batch(plan, commit=False)
    finally:
        await db.close()

    def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    scans = [n for n in nodes(root) if "Index Name" in n]
    assert scans, root
    for scan in scans:
        assert "fingerprint" in scan.get("Index Cond", ""), root
