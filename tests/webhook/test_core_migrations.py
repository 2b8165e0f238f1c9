"""Alembic revision 0001 creates exactly what `webhook.store.models` describes (on SQLite and
PostgreSQL): the service upgrades on start, so a model change without a migration must fail here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from tests.pgserver import pgserver
from webhook.settings import database_url
from webhook.store.database import Database
from webhook.store.models import Base

CORE_TABLES = {"incident", "alert", "event", "raw_notification", "user_account", "api_token"}


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        d
        for d in compare_metadata(context, Base.metadata)
        if _table_of(d) in CORE_TABLES or _table_of(d) is None
    ]


def _table_of(diff: Any) -> str | None:
    """The table an autogenerate difference is about."""
    kind, *rest = diff[0] if isinstance(diff, list) else diff
    if kind in ("add_table", "remove_table"):
        return str(rest[0].name)
    if kind.endswith("_column") or kind.startswith("modify_"):
        return str(rest[1])
    table = getattr(rest[0], "table", None)  # an index or a constraint
    return str(table.name) if table is not None else None


async def _check(url: str) -> None:
    database = Database(database_url(url))
    try:
        await database.upgrade()
        await database.upgrade()  # idempotent: a second start changes nothing
        async with database.engine.connect() as conn:
            diff = await conn.run_sync(_diff)
        assert diff == []
    finally:
        await database.close()


async def test_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    await _check(f"sqlite:///{tmp_path / 'sigap.db'}")


@pytest.mark.e2e
async def test_postgres_schema_matches_the_models() -> None:
    with pgserver() as pg:
        await _check(pg.url)
