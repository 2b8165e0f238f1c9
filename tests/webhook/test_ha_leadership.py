"""The leader lease on the real PostgreSQL: one replica of several leads; when it dies (SIGKILL:
no goodbye) or stops, another takes the lease within one check interval; the background loops
(reconciliation here) run only on the leader. On SQLite a replica always leads. PostgreSQL, the
processes and the kill are real; the leader's loops wait on a clock the test moves (`MovedTime`),
so no test waits for a check interval to pass."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from tests.pgserver import PgServer, pgserver
from tests.webhook.reliability import free_port, live_webhook, settings_for, start_webhook
from webhook.services.leadership import Leadership
from webhook.store.database import Database
from webhook.web.keys import LEADERSHIP, REGISTRY

FAILOVER_GOAL = 60.0
"""The issue's bound: background work resumes on another replica within a minute."""


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    with pgserver() as server:
        yield server


def _async_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


class MovedTime:
    """`asyncio.sleep` on a clock the test moves: the leader's loops wait on it, so a test
    steps them from one check or round to the next instead of waiting for wall intervals."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, float, asyncio.Future[None]]] = []
        """(due, seconds asked for, woken when due)"""

    async def sleep(self, seconds: float) -> None:
        sleeper = (self.now + seconds, seconds, asyncio.get_running_loop().create_future())
        self._sleepers.append(sleeper)
        try:
            await sleeper[2]
        finally:
            if sleeper in self._sleepers:
                self._sleepers.remove(sleeper)

    async def advance(self, seconds: float) -> None:
        """Move time, and return once every loop it woke waits again: its check or round,
        real PostgreSQL and HTTP, has run (within 10 s of real time)."""
        self.now += seconds
        due = [s for s in self._sleepers if s[0] <= self.now]
        for sleeper in due:
            self._sleepers.remove(sleeper)
            sleeper[2].set_result(None)
        waiting = len(self._sleepers) + len(due)
        await _until(lambda: len(self._sleepers) >= waiting, 10, poll=0.001)

    async def asleep(self, *intervals: float) -> None:
        """Return once loops wait `intervals` (each loop starts with real work or a sleep)."""
        await _until(lambda: set(intervals) <= {s[1] for s in self._sleepers}, 10, poll=0.001)


def _metrics(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return ""


async def _until(check: Callable[[], bool], within: float, poll: float = 0.2) -> None:
    """Wait for something real (a process, PostgreSQL) to happen."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within} s")
        await asyncio.sleep(poll)


async def _until_leading(leadership: Leadership, within: float) -> float:
    """Check the lease until `leadership` holds it; the seconds it took."""
    started = time.monotonic()
    while not await leadership.check():
        if time.monotonic() - started > within:
            raise AssertionError(f"no lease after {within} s")
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def test_one_replica_leads_and_a_clean_stop_hands_over_at_once(
    pg: PgServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "sigap")
    url = _async_url(pg.create_database("lease"))
    first, second = Database(url), Database(url)
    one, two = Leadership(first), Leadership(second)
    try:
        assert await one.check() is True
        assert await two.check() is False
        assert await one.check() is True, "the leader keeps its lease round after round"
        assert (one.is_leader, two.is_leader) == (True, False)
        await one.release()
        assert not one.is_leader
        said = [r.getMessage() for r in caplog.records if r.name.startswith("sigap")]
        assert "leader lease given up" in said and not any("another replica" in m for m in said)
        assert await _until_leading(two, within=5) < 1.0
        assert await one.check() is False
        await asyncio.wait_for(two.elected(), 0.1)  # returns at once for the leader
    finally:
        for leadership in (one, two):
            await leadership.release()
        for database in (first, second):
            await database.close()


async def test_a_leader_that_loses_postgres_stops_leading_and_leads_again(pg: PgServer) -> None:
    url = _async_url(pg.create_database("restart"))
    database = Database(url, timeout=2.0)
    leadership = Leadership(database)
    try:
        assert await leadership.check()
        pg.stop()
        try:
            assert await leadership.check() is False, "a dead connection is no lease"
            assert await leadership.check() is False
        finally:
            pg.start()
        assert await _until_leading(leadership, within=10) < 10
    finally:
        await leadership.release()
        await database.close()


async def test_sqlite_replica_always_leads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "sigap")
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    leadership = Leadership(database)
    task = asyncio.create_task(leadership.run())
    try:
        await asyncio.wait_for(leadership.elected(), 2)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await database.close()
    assert not leadership.is_leader
    said = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("sigap"))
    assert "not leading" not in said and "lease" not in said, "one replica: no talk of others"


async def test_a_killed_leader_replica_is_replaced_within_a_minute(
    pg: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two real replicas: `sigap-webhook` in its own process leads; SIGKILL it, and the replica
    in this process leads at its next check. What is real stays real: PostgreSQL noticing the
    dead process and freeing its lease (waited for); the check interval is moved."""
    url = pg.create_database("failover")
    dead_alertmanager = f"http://127.0.0.1:{free_port()}"  # rounds run and fail: counted
    settings = settings_for(url, SIGAP_ALERTMANAGER_URL=dead_alertmanager)
    port = free_port()
    other = start_webhook(port, url)
    watcher = Database(_async_url(url))
    moved = MovedTime()
    try:
        await _until(lambda: "sigap_webhook_leader 1.0" in _metrics(port), 10)
        async with live_webhook(settings, sleep=moved.sleep) as hook:
            leadership = hook.app[LEADERSHIP]
            registry: CollectorRegistry = hook.app[REGISTRY]
            await moved.asleep(leadership.interval)  # its first check: the lease is taken
            assert not leadership.is_leader
            assert registry.get_sample_value("sigap_webhook_leader") == 0
            assert await _lease_held(watcher, leadership.key)
            os.kill(other.pid, signal.SIGKILL)
            other.wait()
            killed_at = time.monotonic()
            while await _lease_held(watcher, leadership.key):
                assert time.monotonic() - killed_at < 5, "PostgreSQL kept a dead leader's lease"
                await asyncio.sleep(0.01)
            freed = time.monotonic() - killed_at
            await moved.advance(leadership.interval)
            assert leadership.is_leader, "the other replica leads at its next check"
            assert registry.get_sample_value("sigap_webhook_leader") == 1
            with capsys.disabled():
                print(f"\nleader SIGKILLed -> its lease freed after {freed:.2f} s")
            assert freed + leadership.interval <= FAILOVER_GOAL
    finally:
        if other.poll() is None:
            os.kill(other.pid, signal.SIGKILL)
            other.wait()
        await watcher.close()


async def _lease_held(database: Database, key: int) -> bool:
    """Whether a session holds the advisory lock `key` in the database (a bigint: its halves
    in pg_locks)."""
    async with database.read() as session:
        held = await session.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = :high AND objid = :low AND objsubid = 1 AND database ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"high": key >> 32, "low": key & 0xFFFFFFFF},
        )
    return bool(held)


async def test_background_rounds_run_on_the_leader_only(pg: PgServer) -> None:
    """Each replica's loops wait on a clock of its own that the test moves: one round per
    reconciliation interval on the leader, none on the other, and after a clean stop the other
    leads at its next check and takes the rounds over."""
    url = pg.create_database("rounds")
    dead_alertmanager = f"http://127.0.0.1:{free_port()}"
    settings = settings_for(url, SIGAP_ALERTMANAGER_URL=dead_alertmanager)
    every = settings.reconcile_interval

    def rounds(registry: CollectorRegistry) -> float:
        return sum(
            registry.get_sample_value("sigap_webhook_reconcile_runs_total", {"result": r}) or 0
            for r in ("ok", "error")
        )

    time_one, time_two = MovedTime(), MovedTime()
    first = live_webhook(settings, sleep=time_one.sleep)
    one = await first.__aenter__()
    running = True
    try:
        await asyncio.wait_for(one.app[LEADERSHIP].elected(), 5)  # the first check, at once
        async with live_webhook(settings, sleep=time_two.sleep) as two:
            leadership = two.app[LEADERSHIP]
            await time_one.asleep(one.app[LEADERSHIP].interval, every)
            await time_two.asleep(leadership.interval, every)  # its first check: not leading
            for n in range(1, 6):
                await time_one.advance(every)
                await time_two.advance(every)
                assert rounds(one.app[REGISTRY]) == n, "the leader reconciles, once a round"
            assert rounds(two.app[REGISTRY]) == 0, "the other replica does not"
            assert not leadership.is_leader
            await first.__aexit__(None, None, None)  # a clean shutdown gives the lease up
            running = False
            await time_two.advance(leadership.interval)
            assert leadership.is_leader, "the other replica leads at its next check"
            await time_two.advance(every)
            assert rounds(two.app[REGISTRY]) == 1
    finally:
        if running:
            await first.__aexit__(None, None, None)
