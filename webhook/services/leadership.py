"""Which replica runs the background loops (escalation, reconciliation, sweeps): the leader.

Every replica takes requests; the loops must run once across them, and resume on another replica
soon after the leader dies. The lease is a PostgreSQL session-level advisory lock
(`pg_try_advisory_lock`) held on a connection of its own: PostgreSQL frees it when that
connection ends, so a replica that dies, however it dies, gives the lease up without a word of
its own. Its backend notices a dead client at once when the host is alive (the kernel closes
the socket) and within `KEEPALIVE_SECONDS` when the host itself is gone (TCP keepalive). Every
`interval` the leader checks its connection is still alive, the others try to take the lease.

On SQLite a replica is always the leader: one file serves one process.

    leadership = Leadership(database)          # in create_app; `run()` in the cleanup context
    ...
    await leadership.repeat(60, one_round, "escalation")  # rounds only while leading
    if leadership.is_leader: ...                          # or ask,
    await leadership.elected()                            # or wait until this replica leads

The work the loops do is idempotent and serialised by the write lock, so the few seconds in
which two replicas may both believe they lead (a partitioned leader notices on its next check)
cost a repeated round, never a wrong record.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from exporter.clock import Sleep
from webhook.store.database import DATABASE_ERRORS, Database

log = logging.getLogger("sigap.leadership")

LEADER_LOCK_KEY = 0x51_6A_9_0003
"""Shared by every SIGAP replica; beside the write and migration keys of webhook.store.database."""
DEFAULT_INTERVAL = 10.0
"""How often the lease is checked or tried: the longest wait before a survivor takes over
after the leader's connection ended."""
KEEPALIVE_SECONDS = 30
"""How long PostgreSQL keeps the lease of a leader whose host vanished (no FIN, no RST)."""


class Leadership:
    """The leader lease of one replica; `is_leader` tells, `elected()` waits for it."""

    def __init__(
        self,
        database: Database,
        *,
        interval: float = DEFAULT_INTERVAL,
        key: int = LEADER_LOCK_KEY,
        on_change: Callable[[bool], None] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.database = database
        self.interval = interval
        self.sleep = sleep
        """How the loops wait between checks and rounds (a test passes one it moves)."""
        self.key = key
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        self._on_change = on_change
        self._leading = asyncio.Event()
        self._engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None

    @property
    def is_leader(self) -> bool:
        return self._leading.is_set()

    async def elected(self) -> None:
        """Return once this replica leads (at once when it does)."""
        await self._leading.wait()

    async def repeat(
        self, interval: float, work: Callable[[], Awaitable[object]], what: str
    ) -> None:
        """Run `work` every `interval` seconds while this replica leads, until cancelled. A
        round that fails is logged and the next one runs: no surprise ends a loop for good."""
        while True:
            await self.sleep(interval)
            if not self.is_leader:
                continue
            try:
                await work()
            except Exception:
                log.exception("background round failed", extra={"loop": what})

    async def run(self) -> None:
        """Hold or try the lease every `interval`, until cancelled (which gives it up)."""
        try:
            if self.database.is_sqlite:
                self._set(True)
                await asyncio.Event().wait()  # leads until cancelled
            while True:
                await self.check()
                await self.sleep(self.interval)
        finally:
            await self.release()

    async def check(self) -> bool:
        """One round: keep the lease if held and the connection lives, else try to take it."""
        try:
            if self._connection is not None:
                await self._connection.execute(text("SELECT 1"))
            else:
                self._connection = await self._connect()
                took = await self._connection.scalar(select(func.pg_try_advisory_lock(self.key)))
                if not took:
                    await self._drop_connection()
        except DATABASE_ERRORS as error:
            if self.is_leader:
                log.warning("leader lease lost", extra={"error": str(error)})
            await self._drop_connection()
        except Exception:  # a surprise must not leave a replica believing it leads
            log.exception("leader lease check failed")
            await self._drop_connection()
        self._set(self._connection is not None)
        return self.is_leader

    async def release(self) -> None:
        """Give the lease up now (a clean shutdown: the others need not wait for a timeout)."""
        leading = self.is_leader
        await self._drop_connection()
        self._set(False, quietly=True)  # "another replica runs background work" may be untrue
        if leading and not self.database.is_sqlite:
            log.info("leader lease given up", extra={"replica": self.identity})
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def _connect(self) -> AsyncConnection:
        if self._engine is None:
            self._engine = _lease_engine(self.database)
        connection = await self._engine.connect()
        # autocommit: the SELECTs must not hold a transaction open for as long as the lease
        return await connection.execution_options(isolation_level="AUTOCOMMIT")

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()  # ends the session, and with it the lock
            except DATABASE_ERRORS:
                await connection.invalidate()

    def _set(self, leading: bool, *, quietly: bool = False) -> None:
        if leading == self.is_leader:
            return
        if leading:
            self._leading.set()
            log.info("leading: background work runs here", extra={"replica": self.identity})
        else:
            self._leading.clear()
            if not quietly:
                log.info("not leading: another replica runs background work")
        if self._on_change is not None:
            self._on_change(leading)


def _lease_engine(database: Database) -> AsyncEngine:
    """An engine for the lease's one connection: no pool (the connection is the lease), and
    server-side TCP keepalive so PostgreSQL ends the session of a host that vanished."""
    idle = KEEPALIVE_SECONDS // 3
    settings: dict[str, Any] = {
        "application_name": "sigap-webhook-leader",
        "tcp_keepalives_idle": str(idle),
        "tcp_keepalives_interval": str(idle // 2 or 1),
        "tcp_keepalives_count": "4",
        # unacknowledged data outlives no dead peer longer than this either (milliseconds)
        "tcp_user_timeout": str(KEEPALIVE_SECONDS * 1000),
    }
    return create_async_engine(
        database.engine.url,
        poolclass=NullPool,
        connect_args={"timeout": 5.0, "command_timeout": 10.0, "server_settings": settings},
    )
