"""Benchmark of the public status page: can it hold 500 requests/s with p99 under 100 ms, and
how often does it ask the database and Prometheus?

The webhook runs in its own process (pinned to CPU 0 when there are two) with the example
inventory on SQLite and a 30 s `status_interval`; its Prometheus is a small counting stand-in
on loopback that answers every query the status page asks (empty results, as a Prometheus
without data). The load runs in this process (pinned to the other CPU): first an open loop at
a fixed rate (requests are due on a schedule, latency counted from when each was due, so a
slow server cannot hide behind a slow sender), then a closed loop of 32 connections at full
speed. The paths cycle over /status, /status.json, /status.atom and /status/dinkes. At the end
the server prints how many SQL statements and Prometheus queries it made and how many times the
board was gathered.

The open loop runs four times: quiet; while a storm of Alertmanager notifications reaches the
same webhook, the goal's condition, sent by 20 senders from a third process (Alertmanager's
retries included), once of `bench_webhook.py`'s `repeats` stream (alerts told again, cheap for
the receiver, so many per second) and once of its `new` stream (alerts never seen before, each
stored and grouped into incidents: the costly kind an outage brings); and, as the reference on
the same machine in the same run, against a bare aiohttp server that answers each path with the
bytes SIGAP served (no cache to look up, no headers to set, no board): the ceiling of any
Python server here. The ping check is off: nothing is pinged.

    .venv/bin/python benchmarks/bench_status.py                  # 500 req/s for 10 s, then max
    .venv/bin/python benchmarks/bench_status.py --rate 800 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("/status", "/status.json", "/status.atom", "/status/dinkes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


async def serve(port: int, prometheus_port: int, db: str, interval: str) -> None:
    """The webhook with counters: SQL statements, Prometheus queries, gatherings."""
    from aiohttp import web
    from prometheus_client import CollectorRegistry
    from sqlalchemy import event

    sys.path.insert(0, str(ROOT))
    from webhook.core.status import Board
    from webhook.settings import load_settings
    from webhook.usecases import status
    from webhook.usecases.context import Resources
    from webhook.web.app import create_app
    from webhook.web.keys import DATABASE
    from webhook.web.status import STATUS_CACHE

    counts = {"sql": 0, "prometheus": 0, "gathering_sql": 0}

    async def prometheus(request: web.Request) -> web.Response:
        counts["prometheus"] += 1
        kind = "matrix" if request.path.endswith("query_range") else "vector"
        return web.json_response({"status": "success", "data": {"resultType": kind, "result": []}})

    fake = web.Application()
    fake.router.add_get("/api/v1/query", prometheus)
    fake.router.add_get("/api/v1/query_range", prometheus)
    fake_runner = web.AppRunner(fake, access_log=None)
    await fake_runner.setup()
    await web.TCPSite(fake_runner, "127.0.0.1", prometheus_port).start()

    settings = load_settings(
        env={
            "SIGAP_DATABASE_URL": f"sqlite:///{db}",
            "SIGAP_INVENTORY": str(ROOT / "deploy" / "inventory.example.yml"),
            "SIGAP_PROMETHEUS_URL": f"http://127.0.0.1:{prometheus_port}",
            "SIGAP_PING_CHECK": "false",
            "SIGAP_SECRET_KEY": "bench",
            "SIGAP_ALERTMANAGER_TOKEN": "bench",
            "SIGAP_STATUS_INTERVAL": interval,
        }
    )
    app = create_app(settings, CollectorRegistry())

    def count(*_: object) -> None:
        counts["sql"] += 1

    event.listen(app[DATABASE].engine.sync_engine, "before_cursor_execute", count)
    # the statements of the gatherings only (the background loops run their own)
    gather = status.gather

    async def counted(res: Resources) -> Board:
        before = counts["sql"]
        try:
            return await gather(res)
        finally:
            counts["gathering_sql"] += counts["sql"] - before

    status.gather = counted  # type: ignore[assignment]
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    at_start = counts["sql"]  # the schema upgrade, before any request
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    print(
        json.dumps(
            {**counts, "sql": counts["sql"] - at_start, "refreshes": app[STATUS_CACHE].refreshes}
        ),
        flush=True,
    )
    await runner.cleanup()
    await fake_runner.cleanup()


async def serve_bytes(port: int, pages: dict[str, bytes]) -> None:
    """The reference: each path's bytes as they are, from a bare aiohttp handler."""
    from aiohttp import web

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=pages[request.path], content_type="text/html")

    app = web.Application()
    for path in pages:
        app.router.add_get(path, page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


STORMS = ("repeats", "new")


async def storm(url: str, seconds: float, kind: str, senders: int = 20) -> dict[str, int]:
    """Alertmanager's notifications of `kind` (STORMS) for `seconds`, the stream over and over."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_webhook import new_alert_stream, stream

    bodies = stream(500, 10) if kind == "repeats" else new_alert_stream(5000, 10)
    headers = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
    statuses: dict[str, int] = {}
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=senders)) as http:

        async def sender(k: int) -> None:
            i = k
            while time.perf_counter() < deadline:
                async with http.post(url, data=bodies[i % len(bodies)], headers=headers) as r:
                    await r.read()
                    statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
                    if 200 <= r.status < 300:  # Alertmanager retries anything else
                        i += senders
                    else:
                        await asyncio.sleep(0.05)

        await asyncio.gather(*(sender(k) for k in range(senders)))
    return statuses


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def warm_up(base: str) -> None:
    """One request per path: the first gathering and the first drawings are not the load's."""
    async with aiohttp.ClientSession() as http:
        for path in PATHS:
            async with http.get(base + path) as response:
                await response.read()


async def open_loop(base: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """Requests due every 1/rate s for `seconds`; latency from when each was due."""
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(path: str, due: float) -> None:
            nonlocal failures
            async with http.get(base + path) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - due)

        tasks = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(PATHS[i % len(PATHS)], due)))
        await asyncio.gather(*tasks)
    return latencies, failures


async def closed_loop(base: str, seconds: float, connections: int = 32) -> tuple[int, float]:
    done = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as http:

        async def worker(k: int) -> None:
            nonlocal done
            i = k
            while time.perf_counter() < deadline:
                async with http.get(base + PATHS[i % len(PATHS)]) as response:
                    await response.read()
                done += 1
                i += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(connections)))
    return done, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval", default="30s", help="status_interval (default 30s)")
    parser.add_argument("--serve", nargs=3, metavar=("PORT", "PROMETHEUS_PORT", "DB"))
    parser.add_argument("--serve-bytes", nargs=2, metavar=("PORT", "PAGES_JSON"))
    parser.add_argument("--storm", nargs=3, metavar=("URL", "SECONDS", "KIND"))
    args = parser.parse_args()
    if args.serve:
        pin(0)
        port, prom, db = args.serve
        asyncio.run(serve(int(port), int(prom), db, args.interval))
        return
    if args.serve_bytes:
        pin(0)
        pages = json.loads(Path(args.serve_bytes[1]).read_text())
        asyncio.run(
            serve_bytes(int(args.serve_bytes[0]), {k: v.encode() for k, v in pages.items()})
        )
        return
    if args.storm:
        pin(1)
        url, seconds, kind = args.storm
        print(json.dumps(asyncio.run(storm(url, float(seconds), kind))), flush=True)
        return
    port, prometheus_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [
                *(sys.executable, __file__, "--serve", str(port), str(prometheus_port)),
                *(f"{tmp}/b.db", "--interval", args.interval),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            assert server.stdout.readline().strip() == "ready", "the server did not start"
            pin(1)
            base = f"http://127.0.0.1:{port}"
            started = time.perf_counter()
            asyncio.run(warm_up(base))
            report("SIGAP, quiet", *asyncio.run(open_loop(base, args.rate, args.seconds)), args)
            for kind in STORMS:
                storming = subprocess.Popen(
                    [sys.executable, __file__, "--storm", f"{base}/api/v1/alertmanager",
                     str(args.seconds + 1), kind],
                    stdout=subprocess.PIPE, text=True,
                )  # fmt: skip
                time.sleep(1)  # the storm under way first
                latencies = asyncio.run(open_loop(base, args.rate, args.seconds))
                report(f"SIGAP, storm of {kind}", *latencies, args)
                stormed, _ = storming.communicate(timeout=60)
                statuses = json.loads(stormed.strip().splitlines()[-1])
                told = sum(statuses.values())
                print(f"  the storm: {told / (args.seconds + 1):.0f} notifications/s answered "
                      f"(by status: {statuses})")  # fmt: skip
            pages = {path: asyncio.run(fetch(base + path)) for path in PATHS}
            done, elapsed = asyncio.run(closed_loop(base, args.seconds))
            print(f"closed loop (32 connections): {done / elapsed:.0f} requests/s")
            wall = time.perf_counter() - started
        finally:
            server.send_signal(signal.SIGTERM)
            out, _ = server.communicate(timeout=30)
        counts = json.loads(out.strip().splitlines()[-1])
        print(f"in {wall:.0f} s (status_interval {args.interval}): the board gathered "
              f"{counts['refreshes']} times: {counts['gathering_sql']} SQL statements, "
              f"{counts['prometheus']} Prometheus queries; {counts['sql']} SQL statements "
              "in all (the leader's background loops too)")  # fmt: skip
        per = max(1, counts["refreshes"])
        sql = counts["gathering_sql"] / per
        print(f"  per gathering (at most one per interval): {sql:.0f} SQL "
              f"statements, {counts['prometheus'] / per:.0f} Prometheus queries")  # fmt: skip
        reference(pages, tmp, args)


async def fetch(url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return await response.text()


def report(name: str, latencies: list[float], failures: int, args: argparse.Namespace) -> None:
    print(f"{name}: open loop, {len(latencies)} requests due at {args.rate:.0f}/s, "
          f"{failures} not 200; latency p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms")  # fmt: skip


def reference(pages: dict[str, str], tmp: str, args: argparse.Namespace) -> None:
    """The same open loop against the bare server of the same bytes."""
    path = Path(tmp) / "pages.json"
    path.write_text(json.dumps(pages))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-bytes", str(port), str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready", "the reference did not start"
        base = f"http://127.0.0.1:{port}"
        asyncio.run(warm_up(base))
        report("reference (bare aiohttp, same bytes)",
               *asyncio.run(open_loop(base, args.rate, args.seconds)), args)  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)


if __name__ == "__main__":
    main()
