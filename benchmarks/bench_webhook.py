"""Benchmark of the webhook receiver: storms of Alertmanager notifications, on SQLite and on
PostgreSQL, beside references measured in the same run on the same machine:

- ``do-nothing``: an aiohttp handler that reads the body and answers 200: the ceiling;
- ``plain SQL``: a bare aiohttp handler that commits the same rows (the raw body, one row per
  alert, upserted on fingerprint + startsAt) with hand-written SQL, no validation and no
  incident logic: the floor, what storing each alert costs at all on this machine.

Three streams, each sent by 50 concurrent senders (Alertmanager retries anything but 2xx):

- ``repeats``: outages of 10 alerts each, told as new, repeated (``repeat_interval``, retries),
  resolved and repeated again: most of it costs SIGAP almost nothing;
- ``new``: 1,000 notifications of 10 alerts never seen before, over 100 SKPDs: 100 incidents
  open at once, and with the ping check on (SIGAP's default) every alert's ``address`` is
  pinged: 90 % on loopback (127.20.0.0/16, answering), 10 % silent (198.18.208.0/20, routed into
  the network namespace ``sgw-silent`` that ignores echo requests; an ``unreachable`` route keeps
  that range on this machine while it exists; both are deleted afterwards);
- ``realistic``: Alertmanager's own pattern: 100 groups (one per SKPD), each resent with ALL its
  alerts every ``group_interval``, 10 new alerts per group a round, 10 rounds.

Every server runs in its own process pinned to one CPU; the senders run on another. At the end
the database is counted: nothing may be lost. The ping check needs root (raw ICMP, namespaces).

``--retention``: every SIGAP run twice, on a database that already holds ``--old-rows`` raw
notifications from a year ago (each a body of the stream): once with retention off (they are
kept), once with the leader's pruning round (``retention: raw_notification: 2160h``, batches
of 500, ``interval: 10s``) deleting them while the storm runs. The storm starts right after the
round's first batch; the column ``pruned`` is what was deleted by its end (``all``: the backlog
ran out before the storm did, give more ``--old-rows``). The round takes the writer only when it
has been idle for a moment, and at least once per interval: retention must not move the storm.

    .venv/bin/python benchmarks/bench_webhook.py                 # all streams
    .venv/bin/python benchmarks/bench_webhook.py --stream new    # one stream
    .venv/bin/python benchmarks/bench_webhook.py --quick         # 200 notifications, a smoke run
    .venv/bin/python benchmarks/bench_webhook.py --stream repeats --retention --repeat 3
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
import statistics
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
import asyncpg
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

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


SKPDS = 100
SILENT_NS = "sgw-silent"
SILENT_NET = "198.18.208.0/20"
"""Silent targets: inside the namespace, which ignores echo requests."""
SILENT_LINK = ("198.18.207.253/30", "198.18.207.254/30")
SAFETY_ROUTE = ("unreachable", SILENT_NET, "metric", "4000")
"""Should the namespace vanish mid-run, its addresses stay unreachable rather than routed out."""


def _new_alert(skpd: str, node: str, address: str, starts: datetime) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {
            "alertname": "SigapNodeDown",
            "skpd": skpd,
            "node": node,
            "address": address,
            "severity": "critical",
            "responsibility": "skpd",
        },
        "annotations": {"summary": f"{node} tidak dapat dijangkau", "description": "x" * 80},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=sigap_node_up",
        "fingerprint": hashlib.sha256(node.encode()).hexdigest()[:16],
    }


def address_of(k: int) -> str:
    """The k-th node's address: one in ten silent, the others answering on loopback."""
    if k % 10 == 9:
        silent = k // 10
        return f"198.18.{208 + silent // 250}.{silent % 250 + 1}"
    return f"127.20.{k // 250 % 250}.{k % 250 + 1}"


def silent_addresses(nodes: int) -> list[str]:
    return [address_of(k) for k in range(nodes) if k % 10 == 9]


def _body(skpd: str, alerts: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {
            "version": "4",
            "receiver": "sigap",
            "status": "firing",
            "groupKey": f'{{}}:{{skpd="{skpd}"}}',
            "truncatedAlerts": 0,
            "groupLabels": {"skpd": skpd},
            "commonLabels": {"skpd": skpd, "alertname": "SigapNodeDown"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": alerts,
        }
    ).encode()


def new_alert_stream(notifications: int, alerts_per: int) -> list[bytes]:
    """`notifications` bodies of `alerts_per` alerts never seen before, over 100 SKPDs."""
    bodies = []
    for i in range(notifications):
        skpd = f"skpd{i % SKPDS}"
        alerts = []
        for j in range(alerts_per):
            k = i * alerts_per + j
            alerts.append(_new_alert(skpd, f"{skpd}-n{k}", address_of(k), T0))
        bodies.append(_body(skpd, alerts))
    return bodies


def realistic_stream(notifications: int, alerts_per: int) -> tuple[list[bytes], int]:
    """Alertmanager's pattern: each SKPD's group is resent with ALL its alerts every
    group_interval, `alerts_per` new ones a round. Returns the bodies and the alerts they carry."""
    rounds = max(1, notifications // SKPDS)
    known: dict[str, list[dict[str, Any]]] = {f"skpd{g}": [] for g in range(SKPDS)}
    bodies, carried = [], 0
    for r in range(rounds):
        for g, (skpd, alerts) in enumerate(known.items()):
            for j in range(alerts_per):
                k = (r * SKPDS + g) * alerts_per + j
                starts = T0 + timedelta(minutes=5 * r)
                alerts.append(_new_alert(skpd, f"{skpd}-n{k}", address_of(k), starts))
            bodies.append(_body(skpd, alerts))
            carried += len(alerts)
    return bodies, carried


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


@contextlib.contextmanager
def silent_hosts(addresses: list[str]) -> Iterator[None]:
    """`addresses` routed into a namespace that ignores echo requests (a switch that is off);
    the namespace, its link and the routes are deleted afterwards."""
    subprocess.run(["ip", "netns", "del", SILENT_NS], capture_output=True)  # a crashed run
    sh("ip", "route", "replace", *SAFETY_ROUTE)
    try:
        sh("ip", "netns", "add", SILENT_NS)
        sh("ip", "link", "add", "sgw-r", "type", "veth", "peer", "name", "eth0", "netns", SILENT_NS)
        sh("ip", "addr", "add", SILENT_LINK[0], "dev", "sgw-r")
        sh("ip", "link", "set", "sgw-r", "up")
        sh("ip", "-n", SILENT_NS, "addr", "add", SILENT_LINK[1], "dev", "eth0")
        sh("ip", "-n", SILENT_NS, "link", "set", "eth0", "up")
        sh("ip", "-n", SILENT_NS, "link", "set", "lo", "up")
        sh("ip", "netns", "exec", SILENT_NS, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1")
        batch = "".join(f"addr add {a}/32 dev lo\n" for a in addresses)
        subprocess.run(["ip", "-n", SILENT_NS, "-batch", "-"], input=batch.encode(), check=True)
        sh("ip", "route", "add", SILENT_NET, "via", SILENT_LINK[1].split("/")[0])
        yield
    finally:
        subprocess.run(["ip", "netns", "del", SILENT_NS], capture_output=True)
        subprocess.run(["ip", "route", "del", *SAFETY_ROUTE], capture_output=True)


# --- the reference servers (run as `bench_webhook.py --serve KIND PORT [DB]`) -------------------


def serve_reference(kind: str, port: int, db: str | None) -> None:
    app = web.Application(client_max_size=2 * 1024 * 1024)

    async def echo(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "ok"})

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="Ready.\n")

    app.router.add_get("/-/ready", ready)
    if kind == "do-nothing":
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
    checked: int | None = None
    """Ping checks on the timeline when the storm ended (they go on in the background)."""
    stream: str = ""
    pruned: int | None = None
    """Old rows the retention deleted by the end of the storm (`--retention`)."""

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


def count_sqlite(path: str, query: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return int(conn.execute(query).fetchone()[0])


def count_postgres(url: str, query: str) -> int:
    async def go() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval(query))
        finally:
            await conn.close()

    return asyncio.run(go())


# --- retention: old rows to prune while the storm runs --------------------------------------------

OLD = T0 - timedelta(days=365)
"""When the seeded raw notifications arrived: far past the 90 days kept."""
KEEP_ALL = (
    "retention:\n  raw_notification: null\n  notification: null\n  web_session: null\n"
    "  used_link: null\n"
)
PRUNING = "retention:\n  raw_notification: 2160h\n  interval: 10s\n  batch: 500\n"


def seed_old_notifications(database_url: str, rows: int, body: bytes) -> None:
    """The schema (`sigap-webhook db upgrade`), then `rows` authenticated raw notifications
    received a year ago, each holding `body`."""
    upgrade = subprocess.run(
        [sys.executable, "-m", "webhook.cli", "db", "upgrade"],
        env={**os.environ, "SIGAP_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    if upgrade.returncode != 0:
        raise RuntimeError(f"db upgrade failed: {upgrade.stderr[-2000:]}")
    times = [OLD + timedelta(seconds=i) for i in range(rows)]
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
            conn.executemany(
                "INSERT INTO raw_notification (received_at, remote, auth_ok, status_code, "
                "group_key, body) VALUES (?, '127.0.0.1', 1, 200, 'g', ?)",
                ((t.replace(tzinfo=None).isoformat(sep=" "), body) for t in times),
            )
            conn.commit()
        return

    async def copy() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.copy_records_to_table(
                "raw_notification",
                records=[(t, "127.0.0.1", True, 200, "g", body) for t in times],
                columns=["received_at", "remote", "auth_ok", "status_code", "group_key", "body"],
            )
        finally:
            await conn.close()

    asyncio.run(copy())


def pruned_rows(url: str) -> int:
    """`sigap_retention_pruned_rows_total` of the webhook at `url`, every table."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(text)
            if family.name == "sigap_retention_pruned_rows"
            for sample in family.samples
            if sample.name.endswith("_total")
        )
    )


def until_pruning(url: str, timeout: float = 90.0) -> None:
    """Wait until the leader's first pruning batch is done: the storm meets pruning under way."""
    deadline = time.monotonic() + timeout
    while pruned_rows(url) == 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}: no pruning within {timeout:.0f} s")
        time.sleep(0.05)


STORED = "SELECT count(*) FROM alert"
CHECKED = "SELECT count(*) FROM event WHERE kind = 'ping_check'"


@dataclass(frozen=True)
class Stream:
    name: str
    bodies: list[bytes]
    alerts: int
    """Alerts the bodies carry (a resent alert counts each time)."""
    distinct: int
    pings: bool
    """Run SIGAP with the ping check on too."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notifications", type=int, default=1000)
    parser.add_argument("--alerts", type=int, default=10, help="alerts per notification")
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument(
        "--stream", action="append", choices=["repeats", "new", "realistic"], default=[]
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--profile", metavar="DIR", help="run SIGAP under cProfile, one .prof file a run in DIR"
    )
    parser.add_argument("--quick", action="store_true", help="200 notifications: a smoke run")
    parser.add_argument(
        "--retention",
        action="store_true",
        help="run SIGAP with retention off and with its pruning under way (old rows seeded)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="with --retention: each pair of runs this many times, interleaved (medians compared)",
    )
    parser.add_argument(
        "--old-rows",
        type=int,
        default=50_000,
        help="raw notifications of a year ago seeded for --retention (default 50000)",
    )
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_reference(
            args.serve[0], int(args.serve[1]), args.serve[2] if args.serve[2:] else None
        )
        return 0
    if args.quick:
        args.notifications = 200
    chosen = args.stream or ["repeats", "new", "realistic"]
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})
    n, per = args.notifications, args.alerts
    streams = []
    if "repeats" in chosen:
        bodies = stream(n, per)
        streams.append(Stream("repeats", bodies, len(bodies) * per, n // PER_OUTAGE * per, False))
    if "new" in chosen:
        streams.append(Stream("new", new_alert_stream(n, per), n * per, n * per, True))
    if "realistic" in chosen:
        bodies, carried = realistic_stream(n, per)
        distinct = len(bodies) * per
        streams.append(Stream("realistic", bodies, carried, distinct, True))
    pings = any(s.pings for s in streams) and os.geteuid() == 0
    if any(s.pings for s in streams) and not pings:
        print("not root: SIGAP runs with the ping check off only (it needs raw ICMP, namespaces)")
    me = [sys.executable, str(Path(__file__).resolve()), "--serve"]
    webhook = [sys.executable, "-m", "webhook.cli", "--web.listen-address", "127.0.0.1:{port}"]
    base_env = {
        "SIGAP_ALERTMANAGER_TOKEN": TOKEN,
        "SIGAP_SECRET_KEY": "bench",
        "PYTHONPATH": str(ROOT),
    }
    results: list[Result] = []

    def run(
        s: Stream,
        name: str,
        command: list[str],
        env: dict[str, str],
        count: Any = None,
        pruning: bool = False,
    ) -> None:
        launch, is_sigap = command, command[: len(webhook)] == webhook
        if args.profile and is_sigap:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            slug = "".join(c if c.isalnum() else "-" for c in f"{s.name} {name}")
            profile = ["-m", "cProfile", "-o", f"{args.profile}/{slug}.prof"]
            launch = [command[0], *profile, *command[1:]]
        with server(launch, env, 0) as url:
            if pruning:
                until_pruning(url)
            result = run_storm(name, url, s.bodies, args.senders, 0)
            result.alerts, result.stream = s.alerts, s.name
            if pruning:
                result.pruned = pruned_rows(url)
            if count is not None:
                result.stored = count(STORED if is_sigap else "SELECT count(*) FROM alerts")
                if is_sigap:
                    result.checked = count(CHECKED)
            results.append(result)

    retentions = list(enumerate(("off", "pruning") * args.repeat if args.retention else (None,)))

    def sigap(
        s: Stream, name: str, url: str, count: Any, check: str, retention: str | None
    ) -> None:
        """One SIGAP run; with --retention, on old rows it keeps or prunes meanwhile."""
        env = {**base_env, "SIGAP_DATABASE_URL": url,
               "SIGAP_PING_CHECK": "true" if check == "on" else "false"}  # fmt: skip
        command = webhook
        if retention is not None:
            seed_old_notifications(url, args.old_rows, s.bodies[0])
            config = Path(tmp, f"retention-{retention}.yml")
            config.write_text(PRUNING if retention == "pruning" else KEEP_ALL)
            command = [*webhook, "--config.file", str(config)]
            name = f"{name}, retention {retention}"
        run(s, name, command, env, count, pruning=retention == "pruning")

    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="sigap-bench-"))
        if pings:
            stack.enter_context(silent_hosts(silent_addresses(n * per)))
        pg = None if args.no_postgres else stack.enter_context(pgserver(fsync=True))
        for s in streams:
            run(s, "do-nothing", [*me, "do-nothing", "{port}"], {})
            plain = f"{tmp}/plain-{s.name}.db"
            run(s, "plain SQL, SQLite", [*me, "plain-sqlite", "{port}", plain], {},
                lambda q, plain=plain: count_sqlite(plain, q))  # fmt: skip
            for check in ("off", "on") if s.pings and pings else ("off",):
                label = f", ping {check}" if s.pings else ""
                for k, retention in retentions:
                    db = f"{tmp}/{s.name}-{check}-{k}.db"
                    sigap(s, f"SIGAP, SQLite{label}", f"sqlite:///{db}",
                          lambda q, db=db: count_sqlite(db, q), check, retention)  # fmt: skip
            if pg is None:
                continue
            plain_pg = pg.create_database(f"plain_{s.name}")
            run(s, "plain SQL, PostgreSQL", [*me, "plain-postgres", "{port}", plain_pg], {},
                lambda q, u=plain_pg: count_postgres(u, q))  # fmt: skip
            for check in ("off", "on") if s.pings and pings else ("off",):
                label = f", ping {check}" if s.pings else ""
                for k, retention in retentions:
                    url = pg.create_database(f"{s.name}_{check}_{k}")
                    sigap(s, f"SIGAP, PostgreSQL{label}", url,
                          lambda q, u=url: count_postgres(u, q), check, retention)  # fmt: skip

    print(
        f"\n{n} notifications of {per} alerts a stream, {args.senders} senders; servers pinned "
        f"to one CPU; {datetime.now(UTC):%Y-%m-%d %H:%M}Z"
    )
    width = 48 if args.retention else 28
    print(
        f"{'stream':<10}{'server':<{width}}{'alerts/s':>9}{'x do-nothing':>13}{'p50 ms':>8}"
        f"{'p99 ms':>8}{'non-2xx':>8}{'stored':>8}{'checked':>8}"
        + (f"{'pruned':>8}" if args.retention else "")
    )
    lost = []
    for s in streams:
        mine = [r for r in results if r.stream == s.name]
        ceiling = mine[0].alerts_per_second
        for r in mine:
            non_2xx = sum(k for status, k in r.statuses.items() if not 200 <= status < 300)
            stored = "-" if r.stored is None else str(r.stored)
            checked = "-" if r.checked is None else str(r.checked)
            pruned = {None: "-", args.old_rows: "all"}.get(r.pruned, str(r.pruned))
            print(
                f"{s.name:<10}{r.name:<{width}}{r.alerts_per_second:>9.0f}"
                f"{ceiling / r.alerts_per_second:>13.1f}{r.pct(0.5):>8.1f}{r.pct(0.99):>8.1f}"
                f"{non_2xx:>8}{stored:>8}{checked:>8}" + (f"{pruned:>8}" if args.retention else "")
            )
            if r.stored is not None and r.stored != s.distinct:
                lost.append(f"{s.name}/{r.name}")
        for base in dict.fromkeys(r.name for r in mine if r.name.endswith(", retention off")):
            off = [r for r in mine if r.name == base]
            on = [r for r in mine if r.name == base.removesuffix("off") + "pruning"]

            def median(runs: list[Result], of: Any) -> float:
                return statistics.median(of(r) for r in runs)

            speed = median(on, lambda r: r.alerts_per_second) / median(
                off, lambda r: r.alerts_per_second
            )
            p50 = median(on, lambda r: r.pct(0.5)) - median(off, lambda r: r.pct(0.5))
            p99 = median(on, lambda r: r.pct(0.99)) - median(off, lambda r: r.pct(0.99))
            label = f"  pruning vs off ({base.split(', ')[1]}, median of {len(on)}):"
            print(f"{'':<10}{label:<{width}}{speed - 1:>+9.1%}{'':>13}{p50:>+8.1f}{p99:>+8.1f}")
    if lost:
        print(f"LOST ALERTS in: {', '.join(lost)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
