"""How fast the webhook's database grows under a regency's Alertmanager traffic, with retention
on (the defaults: raw notifications 90 days, messages 180, sessions 30, link uses 90) and off.

The traffic is the example regency's (deploy/inventory.example.yml), simulated, seeded:

- outages: each SKPD about once in three days, 5 minutes to 6 hours, 1-5 nodes joining the
  group one after another; Alertmanager resends a firing group every `repeat_interval` (1 h)
  and on every change, and sends its resolution;
- flapping: three SKPDs' loss alerts fire and resolve a dozen times a day (10 minutes each);
- every notification twice: two Alertmanagers of a cluster each send it (the HA deployment).

Each notification goes to the real webhook app (in this process, SQLite, the ping check off)
with the service's clock moved to when Alertmanager would send it; the leader's pruning round
(`webhook.services.retention.Pruner`) runs every simulated hour. The database file's size is
printed after each month.

    .venv/bin/python benchmarks/bench_growth.py [--months 4]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from exporter.inventory import load_inventory
from webhook.core.retention import RetentionConfig
from webhook.services.retention import Pruner
from webhook.settings import load_settings
from webhook.web.app import create_app
from webhook.web.keys import DATABASE

ROOT = Path(__file__).resolve().parents[1]
INVENTORY = ROOT / "deploy" / "inventory.example.yml"
START = datetime(2027, 1, 1, tzinfo=UTC)
MONTH = timedelta(days=30)
REPEAT = timedelta(hours=1)
ALERTMANAGERS = 2
TOKEN = "bench-growth-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEEP_ALL = RetentionConfig(raw_notification=None, notification=None, web_session=None,
                           used_link=None)  # fmt: skip


def _alert(
    skpd: str, node: str, name: str, starts: datetime, ends: datetime | None
) -> dict[str, Any]:
    return {
        "status": "resolved" if ends else "firing",
        "labels": {"alertname": name, "skpd": skpd, "node": node, "severity": "critical",
                   "responsibility": "diskominfo", "role": "gateway"},
        "annotations": {"summary": f"{node} tidak dapat dijangkau",
                        "description": f"{node} di {skpd} tidak menjawab ping sejak "
                        f"{starts:%H.%M} (SigapNodeDown, 3 probe berturut-turut hilang)."},
        "startsAt": starts.isoformat(),
        "endsAt": ends.isoformat() if ends else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=sigap_node_up+%3D%3D+0",
        "fingerprint": hashlib.sha256(f"{skpd}{node}{name}".encode()).hexdigest()[:16],
    }  # fmt: skip


def _body(skpd: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "receiver": "sigap-webhook",
        "status": "firing" if firing else "resolved",
        "groupKey": f'{{}}/{{alertname=~"Sigap.*"}}:{{skpd="{skpd}"}}',
        "truncatedAlerts": 0,
        "groupLabels": {"skpd": skpd},
        "commonLabels": {"skpd": skpd},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }


def _outage(skpd: str, nodes: list[str], name: str, start: datetime, length: timedelta,
            rng: random.Random) -> Iterator[tuple[datetime, dict[str, Any]]]:  # fmt: skip
    """Alertmanager's notifications of one outage of `skpd`: nodes joining, repeats, resolution."""
    end = start + length
    joined = sorted(start + timedelta(seconds=rng.randint(0, 60) * i) for i in range(len(nodes)))
    for i, at in enumerate(joined):
        yield at, _body(skpd, [_alert(skpd, n, name, start, None) for n in nodes[: i + 1]])
    at = joined[-1] + REPEAT
    while at < end:
        yield at, _body(skpd, [_alert(skpd, n, name, start, None) for n in nodes])
        at += REPEAT
    yield end, _body(skpd, [_alert(skpd, n, name, start, end) for n in nodes])


def traffic(months: int, seed: int = 7) -> list[tuple[datetime, dict[str, Any]]]:
    rng = random.Random(seed)
    inventory = load_inventory(INVENTORY)
    skpds = {s: sorted(x.node_ids) for s, x in inventory.skpds.items() if x.node_ids}
    flapping = sorted(skpds)[:3]
    days = months * MONTH.days
    sent: list[tuple[datetime, dict[str, Any]]] = []
    for skpd, nodes in skpds.items():
        for day in range(days):
            if rng.random() < 1 / 3:
                start = START + timedelta(days=day, seconds=rng.randint(0, 86399))
                length = timedelta(minutes=rng.randint(5, 360))
                down = nodes[: rng.randint(1, min(5, len(nodes)))]
                sent += _outage(skpd, down, "SigapNodeDown", start, length, rng)
            if skpd in flapping:
                for _ in range(12):
                    start = START + timedelta(days=day, seconds=rng.randint(0, 86399))
                    sent += _outage(skpd, nodes[:1], "SigapPacketLossHigh", start,
                                    timedelta(minutes=10), rng)  # fmt: skip
    twice = [(at, body) for at, body in sent for _ in range(ALERTMANAGERS)]
    return sorted(twice, key=lambda sending: sending[0])


async def run(
    months: int, retention: RetentionConfig, sent: list[tuple[datetime, Any]]
) -> list[int]:
    """The database file's size (bytes) after each simulated month."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sigap.db"
        env = {
            "SIGAP_DATABASE_URL": f"sqlite:///{path}",
            "SIGAP_PING_CHECK": "false",
            "SIGAP_INVENTORY": str(INVENTORY),
            "SIGAP_SECRET_KEY": "bench-growth",
            "SIGAP_ALERTMANAGER_TOKEN": TOKEN,
        }
        settings = load_settings(env=env)
        now = [START]
        app = create_app(settings, CollectorRegistry(), lambda: now[0])
        client = TestClient(TestServer(app))
        await client.start_server()
        pruner = Pruner(app[DATABASE], retention, CollectorRegistry())
        sizes, next_prune, month_end = [], START + timedelta(hours=1), START + MONTH
        try:
            for at, body in sent:
                while at >= next_prune:
                    now[0] = next_prune
                    await pruner.round(next_prune)
                    next_prune += timedelta(hours=1)
                while at >= month_end:
                    sizes.append(path.stat().st_size + _wal(path))
                    month_end += MONTH
                now[0] = at
                answer = await client.post("/api/v1/alertmanager", json=body, headers=AUTH)
                assert answer.status == 200, await answer.text()
            while len(sizes) < months:
                sizes.append(path.stat().st_size + _wal(path))
        finally:
            await client.close()
        with sqlite3.connect(path) as db:
            raw = db.execute("SELECT count(*) FROM raw_notification").fetchone()[0]
        print(f"  raw notifications kept at the end: {raw:,}")
        return sizes


def _wal(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=4)
    args = parser.parse_args()
    sent = traffic(args.months)
    print(f"{len(sent):,} notifications over {args.months} simulated months "
          f"({len(sent) / args.months:,.0f} a month, {ALERTMANAGERS} Alertmanagers)")  # fmt: skip
    for label, config in (
        ("retention on (defaults)", RetentionConfig()),
        ("retention off", KEEP_ALL),
    ):
        started = time.perf_counter()
        print(f"{label}:")
        sizes = asyncio.run(run(args.months, config, sent))
        months = ", ".join(f"month {i + 1}: {s / 1e6:.1f} MB" for i, s in enumerate(sizes))
        print(f"  database file {months} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
