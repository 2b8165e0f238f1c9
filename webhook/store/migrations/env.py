"""Alembic environment: the service passes its connection; the alembic CLI opens its own."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from webhook.store.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    # batch mode: SQLite rewrites a table for ALTERs it cannot do in place
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    from webhook.settings import load_settings
    from webhook.store.database import Database

    database = Database(load_settings().database_url)
    try:
        async with database.engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await database.close()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_with_own_engine())
