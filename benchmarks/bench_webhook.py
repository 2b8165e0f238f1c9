"""Benchmark of the webhook receiver: a storm of Alertmanager notifications, on SQLite and on
PostgreSQL, beside two references measured in the same run on the same machine:

- ``echo``: a do-nothing aiohttp handler (reads the body, answers 200): the ceiling;
- ``plain-sql``: a bare aiohttp handler that commits the same rows (the raw body, one row per
  alert, upserted on fingerprint + startsAt) with hand-written SQL and no incident logic.

The stream is realistic: outages of 10 alerts each, told as new, repeated (Alertmanager's
``repeat_interval`` and retries), resolved and repeated again, sent by 50 concurrent senders.
Every server runs in its own process pinned to one CPU; the senders run on another. At the end
the database is counted: nothing may be lost.

    .venv/bin/python benchmarks/bench_webhook.py            # 1,000 notifications x 10 alerts
    .venv/bin/python benchmarks/bench_webhook.py --quick    # 200 notifications, a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from pgserver import pgserver  # noqa: E402

TOKEN = "bench-token"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PER_OUTAGE = 5  # new, repeat, repeat, resolved, resolved again


# --- the stream ----------------------------------------------------------------------------------


def _alert(outage: int, i: int, resolved: bool) -> dict[str, Any]:
    skpd = f"skpd{outage % 60}"
    node = f"{skpd}-n{outage}-{i}"
    starts = T0 + timedelta(minutes=outage)
    return {
        "status": "resolved" if resolved else "firing",
        "labels": {
            "alertname": "SigapNodeDown",
            "skpd": skpd,
            "node": node,
            "severity": "critical",
            "responsibility": "skpd",
        },
        "annotations": {"summary": f"{node} tidak dapat dijangkau", "description": "x" * 80},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": (
            (starts + timedelta(minutes=20)).isoformat().replace("+00:00", "Z")
            if resolved
            else "0001-01-01T00:00:00Z"
        ),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=probe_up",
        "fingerprint": hashlib.sha256(node.encode()).hexdigest()[:16],
    }


def stream(notifications: int, alerts_per: int) -> list[bytes]:
    """`notifications` bodies; outage k is told as new, repeat, repeat, resolved, resolved."""
    bodies = []
    for outage in range(notifications // PER_OUTAGE):
        for step in range(PER_OUTAGE):
            resolved = step >= 3
            alerts = [_alert(outage, i, resolved) for i in range(alerts_per)]
            skpd = alerts[0]["labels"]["skpd"]
            body = {
                "version": "4",
                "receiver": "sigap",
                "status": "resolved" if resolved else "firing",
                "groupKey": f'{{}}:{{skpd="{skpd}"}}',
                "truncatedAlerts": 0,
                "groupLabels": {"skpd": skpd},
                "commonLabels": {"skpd": skpd, "alertname": "SigapNodeDown"},
                "commonAnnotations": {},
                "externalURL": "http://alertmanager:9093",
                "alerts": alerts,
            }
            bodies.append(json.dumps(body).encode())
    return bodies


# --- the reference servers (run as `bench_webhook.py --serve KIND PORT [DB]`) -------------------


def serve_reference(kind: str, port: int, db: str | None) -> None:
    app = web.Application(client_max_size=2 * 1024 * 1024)

    async def echo(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "ok"})

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="Ready.\n")

    app.router.add_get("/-/ready", ready)
    if kind == "echo":
        app.router.add_post("/api/v1/alertmanager", echo)
    elif kind == "plain-sqlite":
        assert db is not None
        conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        conn.executescript(_PLAIN_SCHEMA)

        async def plain_sqlite(request: web.Request) -> web.Response:
            body = await request.read()
            data = json.loads(body)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO raw(body) VALUES (?)", (body,))
            conn.executemany(_PLAIN_UPSERT, _rows(data))
            conn.execute("COMMIT")
            return web.json_response({"status": "ok"})

        app.router.add_post("/api/v1/alertmanager", plain_sqlite)
    elif kind == "plain-postgres":
        import asyncpg

        assert db is not None

        async def pool_ctx(app: web.Application) -> Any:
            pool = await asyncpg.create_pool(db, min_size=4, max_size=10)
            async with pool.acquire() as conn:
                await conn.execute(
                    _PLAIN_SCHEMA.replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY")
                )

            async def plain_pg(request: web.Request) -> web.Response:
                body = await request.read()
                data = json.loads(body)
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute("INSERT INTO raw(body) VALUES ($1)", body)
                    await conn.executemany(_PLAIN_UPSERT_PG, _rows(data))
                return web.json_response({"status": "ok"})

            app.router.add_post("/api/v1/alertmanager", plain_pg)
            yield
            await pool.close()

        app.cleanup_ctx.append(pool_ctx)
    else:
        raise SystemExit(f"unknown reference {kind!r}")
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


_PLAIN_SCHEMA = """
CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, body BYTEA);
CREATE TABLE IF NOT EXISTS alerts (
    fingerprint TEXT, starts_at TEXT, status TEXT, ends_at TEXT, labels TEXT, annotations TEXT,
    PRIMARY KEY (fingerprint, starts_at)
);
"""
_PLAIN_UPSERT = (
    "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint, starts_at) "
    "DO UPDATE SET status = excluded.status, ends_at = excluded.ends_at"
)
_PLAIN_UPSERT_PG = (
    "INSERT INTO alerts VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (fingerprint, starts_at) "
    "DO UPDATE SET status = excluded.status, ends_at = excluded.ends_at"
)


def _rows(data: dict[str, Any]) -> list[tuple[str, ...]]:
    return [
        (
            a["fingerprint"],
            a["startsAt"],
            a["status"],
            a["endsAt"],
            json.dumps(a["labels"]),
            json.dumps(a["annotations"]),
        )
        for a in data["alerts"]
    ]


# --- running a server and the storm ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], cpu: int) -> Iterator[str]:
    """Start a server process pinned to `cpu`; yields its base URL; ends it by PID."""
    port = _free_port()
    command = [arg.replace("{port}", str(port)) for arg in command]
    process = subprocess.Popen(
        ["taskset", "-c", str(cpu), *command],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{command} did not start: {process.stderr.read().decode()[-2000:]}"  # type: ignore[union-attr]
                ) from None
            time.sleep(0.1)
    try:
        yield url
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    alerts: int
    stored: int | None = None

    @property
    def alerts_per_second(self) -> float:
        return self.alerts / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def storm(url: str, bodies: list[bytes], senders: int, alerts_per: int) -> Result:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def sender() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                while True:  # Alertmanager retries anything but 2xx
                    began = time.perf_counter()
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        status = response.status
                    latencies.append(time.perf_counter() - began)
                    statuses[status] = statuses.get(status, 0) + 1
                    if 200 <= status < 300:
                        break
                    await asyncio.sleep(0.05)

        began = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(senders)))
        seconds = time.perf_counter() - began
    return Result("", seconds, latencies, statuses, len(bodies) * alerts_per)


def run_storm(name: str, url: str, bodies: list[bytes], senders: int, alerts_per: int) -> Result:
    result = asyncio.run(storm(url + "/api/v1/alertmanager", bodies, senders, alerts_per))
    result.name = name
    return result


def count_sqlite(path: str, table: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def count_postgres(url: str, table: str) -> int:
    import asyncpg

    async def go() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
        finally:
            await conn.close()

    return asyncio.run(go())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notifications", type=int, default=1000)
    parser.add_argument("--alerts", type=int, default=10, help="alerts per notification")
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="200 notifications: a smoke run")
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_reference(
            args.serve[0], int(args.serve[1]), args.serve[2] if args.serve[2:] else None
        )
        return 0
    if args.quick:
        args.notifications = 200
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})
    bodies = stream(args.notifications, args.alerts)
    distinct = len(bodies) // PER_OUTAGE * args.alerts
    me = [sys.executable, str(Path(__file__).resolve()), "--serve"]
    webhook = [sys.executable, "-m", "webhook.cli", "--web.listen-address", "127.0.0.1:{port}"]
    base_env = {
        "SIGAP_ALERTMANAGER_TOKEN": TOKEN,
        "SIGAP_SECRET_KEY": "bench",
        "SIGAP_PING_CHECK": "false",
        "PYTHONPATH": str(ROOT),
    }
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="sigap-bench-") as tmp:
        with server([*me, "echo", "{port}"], {}, 0) as url:
            results.append(run_storm("echo (ceiling)", url, bodies, args.senders, args.alerts))

        plain = f"{tmp}/plain.db"
        with server([*me, "plain-sqlite", "{port}", plain], {}, 0) as url:
            result = run_storm("plain SQL, SQLite", url, bodies, args.senders, args.alerts)
            result.stored = count_sqlite(plain, "alerts")
            results.append(result)

        sigap_db = f"{tmp}/sigap.db"
        env = {**base_env, "SIGAP_DATABASE_URL": f"sqlite:///{sigap_db}"}
        with server(webhook, env, 0) as url:
            result = run_storm("SIGAP, SQLite", url, bodies, args.senders, args.alerts)
            result.stored = count_sqlite(sigap_db, "alert")
            results.append(result)

        with pgserver(fsync=True) as pg:
            plain_pg = pg.create_database("plain")
            with server([*me, "plain-postgres", "{port}", plain_pg], {}, 0) as url:
                result = run_storm("plain SQL, PostgreSQL", url, bodies, args.senders, args.alerts)
                result.stored = count_postgres(plain_pg, "alerts")
                results.append(result)
            env = {**base_env, "SIGAP_DATABASE_URL": pg.url}
            with server(webhook, env, 0) as url:
                result = run_storm("SIGAP, PostgreSQL", url, bodies, args.senders, args.alerts)
                result.stored = count_postgres(pg.url, "alert")
                results.append(result)

    ceiling = results[0].alerts_per_second
    print(
        f"\n{len(bodies)} notifications x {args.alerts} alerts ({distinct} distinct alerts), "
        f"{args.senders} senders; servers pinned to one CPU; {datetime.now(UTC):%Y-%m-%d %H:%M}Z"
    )
    print(
        f"{'server':<24}{'alerts/s':>10}{'x ceiling':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'non-2xx':>9}{'stored':>8}"
    )
    for r in results:
        non_2xx = sum(n for s, n in r.statuses.items() if not 200 <= s < 300)
        stored = "-" if r.stored is None else str(r.stored)
        print(
            f"{r.name:<24}{r.alerts_per_second:>10.0f}{ceiling / r.alerts_per_second:>10.1f}"
            f"{r.pct(0.5):>9.1f}{r.pct(0.99):>9.1f}{non_2xx:>9}{stored:>8}"
        )
    lost = [r.name for r in results if r.stored is not None and r.stored != distinct]
    if lost:
        print(f"LOST ALERTS in: {', '.join(lost)} (expected {distinct} stored)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
