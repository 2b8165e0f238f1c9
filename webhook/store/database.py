"""The database: engine, sessions, the write transaction, schema upgrades and query helpers.

Writes are serialised: one write transaction at a time per process (an asyncio lock) and across
processes (SQLite ``BEGIN IMMEDIATE``; a PostgreSQL transaction-level advisory lock). Two webhook
processes on one PostgreSQL therefore never race to open the same incident, and SQLite never
answers a writer with "database is locked" while another write of the same process is running.
Query helpers take the session, so handlers and tests choose the transaction. `write_batch` is
the same write transaction for work of many statements on a synchronous connection (the
receiver's group commit).

What a transaction changed that the metrics count (`webhook.core.figures` facts) is `publish()`ed on
its session and handed to the database's subscribers only after the commit: a move that rolls
back is never counted.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, event, func, select, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from webhook.core.figures import Fact
from webhook.store.models import json_text

log = logging.getLogger("sigap.webhook")
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)
"""What a database that is locked, down or unreachable raises: answered with 503."""
ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
# Any constant shared by every SIGAP process: the key of PostgreSQL's advisory locks.
_WRITE_LOCK_KEY = 0x51_6A_9_0001
_MIGRATE_LOCK_KEY = 0x51_6A_9_0002
_FACTS = "sigap_facts"
T = TypeVar("T")


def publish(session: AsyncSession, fact: Fact) -> None:
    """Hand `fact` to the database's subscribers once the write transaction of `session`
    commits."""
    session.info.setdefault(_FACTS, []).append(fact)


def create_engine(url: str, timeout: float = 5.0) -> AsyncEngine:
    """An async engine; SQLite in WAL mode with a busy timeout and real transactions.

    `timeout` bounds every wait for the database (a locked SQLite file, a PostgreSQL connection
    or lock), so that a receiver facing a stuck database answers 503 in time for Alertmanager.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": timeout}, json_serializer=json_text
        )
        _sqlite_events(engine.sync_engine, timeout)
        return engine
    ms = str(int(timeout * 1000))
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_timeout=timeout,
        pool_pre_ping=True,
        json_serializer=json_text,
        connect_args={
            "timeout": timeout,
            "command_timeout": max(timeout, 30.0),
            "server_settings": {"lock_timeout": ms, "application_name": "sigap-webhook"},
        },
    )


def _sqlite_batch_engine(url: URL, timeout: float) -> Engine:
    """The plain sqlite3 driver on the same file, for `Database.write_batch`: aiosqlite hands
    every call over to its thread and back (four times a statement), which costs a batch of
    statements more than the statements themselves."""
    engine = create_sync_engine(
        url.set(drivername="sqlite"),
        connect_args={"timeout": timeout, "check_same_thread": False},  # any worker thread
        json_serializer=json_text,
    )
    _sqlite_events(engine, timeout)
    return engine


def _sqlite_events(engine: Engine, timeout: float) -> None:
    busy_ms = int(timeout * 1000)
    event.listen(engine, "connect", lambda conn, _rec: _sqlite_connect(conn, busy_ms))
    event.listen(engine, "begin", _sqlite_begin)


def _sqlite_connect(dbapi_connection: Any, busy_ms: int) -> None:
    # The driver's own implicit BEGIN is switched off so that `_sqlite_begin` decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        f"busy_timeout={busy_ms}",
        "foreign_keys=ON",
        # Checkpoints copy the log into the file and sync both, which stalls the writer that
        # commits: `checkpoints` runs them beside it instead. A writer only checkpoints itself
        # past ~40 MB of log, in a long storm, in which those never catch up (the log restarts
        # only once it is all copied).
        "wal_autocheckpoint=10000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if "busy_ms" in options:  # what is left of the writer's time budget
        conn.exec_driver_sql(f"PRAGMA busy_timeout={int(options['busy_ms'])}")
    conn.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', 'DEFERRED')}")


def _pg_write_lock(conn: Connection, budget_ms: int) -> None:
    """Wait for the other processes' writers at most `budget_ms` (then: LockNotAvailable)."""
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, budget_ms)}")
    conn.execute(select(func.pg_advisory_xact_lock(_WRITE_LOCK_KEY)))


class Database:
    """The engine, a session factory and the one write path of this process."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        """Seconds a writer may wait in all (the lock of this process, the database's lock):
        then TimeoutError, which the receiver answers with 503 in time for Alertmanager."""
        self.engine = create_engine(url, timeout)
        self.is_sqlite = url.startswith("sqlite")
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._batch_engine = (
            _sqlite_batch_engine(self.engine.url, timeout) if self.is_sqlite else None
        )
        self._write_lock = asyncio.Lock()
        self._released_at = float("-inf")
        self._subscribers: list[Callable[[Sequence[Fact]], None]] = []

    def subscribe(self, subscriber: Callable[[Sequence[Fact]], None]) -> None:
        """Call `subscriber` with the facts of every committed write transaction."""
        self._subscribers.append(subscriber)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading (SQLite: a WAL snapshot that never blocks the writer)."""
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def _writer(self, deadline: float | None) -> AsyncIterator[int]:
        """This process's turn to write, taken before `deadline` (loop time; default: now +
        `timeout`); yields the milliseconds left for the database's own lock."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout if deadline is None else deadline
        try:
            async with asyncio.timeout_at(deadline):
                await self._write_lock.acquire()
        except TimeoutError:
            raise TimeoutError(
                f"the database's writer stayed busy for {self.timeout:g} s (SIGAP_DATABASE_TIMEOUT)"
            ) from None
        try:
            yield max(1, int((deadline - loop.time()) * 1000))
        finally:
            self._released_at = loop.time()
            self._write_lock.release()

    def writer_idle(self) -> float:
        """Seconds (loop time) since this process last gave the writer back; 0 while a write
        holds it or waits for it. Work that can wait (pruning) writes only when it is idle."""
        if self._write_lock.locked():
            return 0.0
        return asyncio.get_running_loop().time() - self._released_at

    @asynccontextmanager
    async def write(self, within: float | None = None) -> AsyncIterator[AsyncSession]:
        """A session in the write transaction; commits on success, rolls back on error.

        Use it for every change (the receiver, transitions from the UI, the CLI), so writers
        never interleave: read the incident inside, decide, change, leave. Read the request
        and check its sender before: the wait for the writer is bounded by `timeout` (or
        `within` seconds, for writes not worth waiting for).
        """
        facts: list[Fact] = []
        deadline = None if within is None else asyncio.get_running_loop().time() + within
        async with self._writer(deadline) as budget_ms, self.engine.connect() as conn:
            if self.is_sqlite:
                conn = await conn.execution_options(sqlite_begin="IMMEDIATE", busy_ms=budget_ms)
            async with conn.begin():
                if not self.is_sqlite:
                    await conn.run_sync(_pg_write_lock, budget_ms)
                session = AsyncSession(bind=conn, expire_on_commit=False)
                try:
                    yield session
                    await session.flush()
                    facts = session.info.get(_FACTS, [])
                finally:
                    await session.close()
        self._publish(facts)

    async def write_batch(
        self,
        work: Callable[[Connection, list[Fact]], T],
        *,
        commit: bool = True,
        deadline: float | None = None,
    ) -> T:
        """Run `work(connection, facts)` as one write transaction on a synchronous connection,
        serialised like `write`; the facts it appends are published after the commit.
        `commit=False` rolls it back (and publishes nothing). `deadline` (loop time) bounds
        the wait for the writer, as `timeout` does by default.

        For work of many statements: on SQLite it runs in a worker thread on a sqlite3
        connection of its own (one hand-over for the whole transaction), on PostgreSQL through
        the async driver (`run_sync`).
        """
        facts: list[Fact] = []
        async with self._writer(deadline) as budget_ms:
            if self._batch_engine is not None:
                engine = self._batch_engine
                result = await asyncio.to_thread(
                    _write_sqlite, engine, work, facts, commit, budget_ms
                )
            else:
                async with self.engine.connect() as conn:
                    result = await conn.run_sync(_write_batch, work, facts, commit, budget_ms)
        if commit:
            self._publish(facts)
        return result

    def _publish(self, facts: list[Fact]) -> None:
        if facts:
            for subscriber in self._subscribers:
                subscriber(facts)

    async def ping(self) -> None:
        """Raise unless the database answers."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision (one process at a time)."""
        if self.is_sqlite:
            Path(self.engine.url.database or "").parent.mkdir(parents=True, exist_ok=True)
        async with self.engine.connect() as conn:
            if not self.is_sqlite:
                await conn.execute(select(func.pg_advisory_lock(_MIGRATE_LOCK_KEY)))
                await conn.commit()
            try:
                await conn.run_sync(_upgrade)
                await conn.commit()
            finally:
                if not self.is_sqlite:
                    await conn.execute(select(func.pg_advisory_unlock(_MIGRATE_LOCK_KEY)))
                    await conn.commit()

    async def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database file and sync both, on a
        connection of its own in a worker thread, without waiting for readers or the writer."""
        if self._batch_engine is not None:
            await asyncio.to_thread(_checkpoint, self._batch_engine)

    async def close(self) -> None:
        await self.engine.dispose()
        if self._batch_engine is not None:
            self._batch_engine.dispose()


def _checkpoint(engine: Engine) -> None:
    connection = engine.raw_connection()  # the driver's: no transaction around the pragma
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        cursor.close()
    finally:
        connection.close()


async def checkpoints(database: Database, interval: float = 1.0) -> None:
    """Checkpoint SQLite's write-ahead log every `interval` seconds (see `_sqlite_connect`).
    With ``synchronous=NORMAL`` the log is synced only by checkpoints, so this also bounds
    what a power cut can take of committed transactions to about `interval`."""
    while True:
        await asyncio.sleep(interval)
        try:
            await database.checkpoint()
        except (sqlite3.Error, SQLAlchemyError, OSError) as error:
            log.warning("SQLite checkpoint failed", extra={"error": str(error)})


def _write_sqlite(
    engine: Engine,
    work: Callable[[Connection, list[Fact]], T],
    facts: list[Fact],
    commit: bool,
    budget_ms: int,
) -> T:
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE", busy_ms=budget_ms)
        return _write_batch(conn, work, facts, commit, budget_ms)


def _write_batch(
    conn: Connection,
    work: Callable[[Connection, list[Fact]], T],
    facts: list[Fact],
    commit: bool,
    budget_ms: int,
) -> T:
    with conn.begin() as transaction:
        if conn.dialect.name != "sqlite":
            _pg_write_lock(conn, budget_ms)
        result = work(conn, facts)
        if not commit:
            transaction.rollback()
        return result


def alembic_config() -> Config:
    return Config(str(ALEMBIC_INI))


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
