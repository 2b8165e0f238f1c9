"""Benchmark of SIGAP's WhatsApp door and channel, against the tests' Graph API stand-in
(tests/webhook/graph_standin.py) on 127.0.0.1, with SIGAP's own Cloud API client:

- ``page``: 100 outages reported one after another (100 SKPDs); for each, the time from the
  commit that opens it (the database's after-commit hook) to the stand-in receiving its page
  (`POST /{version}/{phone-number-id}/messages`: the outbox's plan, claim and send);
- ``press``: 10 staff pressing *Tangani* on those 100 pages, 10 at once (each presser waits for
  the answer before its next press): the time from Meta's signed webhook being posted to SIGAP
  answering it 200 (the move committed), and to the stand-in receiving the reply that says who
  did it (owed through the outbox and sent).

Everything runs in one process and one event loop (SIGAP, the stand-in, the pressers), on
SQLite: the figures include the stand-in's own work.

    .venv/bin/python benchmarks/bench_whatsapp.py [--incidents 100] [--pressers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_telegram import inventory, percentiles, wait_until
from tests.webhook.graph_standin import PHONE_NUMBER_ID, GraphStandIn, Sent, start
from webhook.core.figures import NoticeOwed
from webhook.settings import load_settings
from webhook.store.models import User
from webhook.usecases import incidents as incident_uses
from webhook.usecases import roster as roster_uses
from webhook.usecases.context import Actor
from webhook.web.app import create_app
from webhook.web.keys import DATABASE, RESOURCES

TOKEN = "EAAG-benchmark-token"
APP_SECRET = "benchmark-app-secret-0123"


def number(k: int) -> str:
    """Presser `k`'s WhatsApp id (E.164 digits)."""
    return f"6281250{k:06d}"


async def main(incidents: int, pressers: int) -> None:
    graph, runner = await start(TOKEN, APP_SECRET)
    with tempfile.TemporaryDirectory() as folder:
        inventory(Path(folder) / "inventory.yml", incidents)
        settings = load_settings(
            env={
                "SIGAP_DATABASE_URL": f"sqlite:///{folder}/sigap.db",
                "SIGAP_SECRET_KEY": "bench",
                "SIGAP_PING_CHECK": "false",
                "SIGAP_INVENTORY": f"{folder}/inventory.yml",
                "SIGAP_WHATSAPP_TOKEN": TOKEN,
                "SIGAP_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
                "SIGAP_WHATSAPP_APP_SECRET": APP_SECRET,
                "SIGAP_WHATSAPP_VERIFY_TOKEN": "bench-verify",
                "SIGAP_WHATSAPP_API_URL": graph.url,
            }
        )
        app = create_app(settings, CollectorRegistry())
        committed: dict[int, float] = {}
        app[DATABASE].subscribe(
            lambda facts: committed.update(
                {f.incident_id: time.monotonic() for f in facts if isinstance(f, NoticeOwed)}
                | committed
            )
        )
        server = TestServer(app)
        await server.start_server()
        graph.hook = str(server.make_url("/whatsapp/webhook"))
        try:
            await run(app, graph, committed, incidents, pressers)
        finally:
            await server.close()
            await runner.cleanup()


async def run(
    app: Any, graph: GraphStandIn, committed: dict[int, float], incidents: int, pressers: int
) -> None:
    res = app[RESOURCES]
    names = [f"staf{i}" for i in range(pressers)]
    async with app[DATABASE].write() as session:
        for k, name in enumerate(names):
            session.add(User(
                name=name, role="staff", skpds=[], active=True, phone=f"+{number(k)}",
                created_at=datetime.now(UTC),
            ))  # fmt: skip
    await roster_uses.put_rotation(res, Actor.operator(), names[:1], "daily", "07:30", None)
    reporter = Actor.operator()

    ids = []
    for i in range(incidents):
        incident, _ = await incident_uses.report(
            res, reporter, {"skpd": f"skpd{i:03d}", "description": "mati"}
        )
        ids.append(incident.id)
    await wait_until(lambda: len(graph.sent) >= incidents)
    pages: dict[int, Sent] = {}
    for sent in graph.sent:
        found = re.search(r"\[SIGAP #(\d+)\]", sent.text)
        if found and sent.options:
            pages[int(found[1])] = sent
    page_latency = [pages[i].at - committed[i] for i in ids]

    moved: list[float] = []
    replied: list[float] = []

    async def one_presser(k: int, mine: list[int]) -> None:
        for incident_id in mine:
            page = pages[incident_id]
            press = graph.press_of(number(k), page, "Tangani")
            before = len(graph.to(number(k)))
            posted = time.monotonic()
            assert await graph.post(press) == 200
            moved.append(time.monotonic() - posted)
            answer = (await graph.wait_for(before + 1, to=number(k)))[before]
            replied.append(answer.at - posted)

    start_at = time.monotonic()
    shares = [ids[k::pressers] for k in range(pressers)]
    await asyncio.gather(*(one_presser(k, share) for k, share in enumerate(shares)))
    elapsed = time.monotonic() - start_at
    done = await incident_uses.incidents(res, reporter, is_open=True, limit=1000)
    held = sum(1 for i in done if i.holder is not None)
    assert held == incidents, f"{held} of {incidents} acknowledged"

    print(percentiles("page: commit -> Graph API message", page_latency))
    print(percentiles("press webhook -> 200 (moved)", moved))
    print(percentiles("press webhook -> reply at Graph API", replied))
    print(f"{incidents} presses by {pressers} pressers in {elapsed:.2f} s "
          f"({incidents / elapsed:.0f} presses/s); every incident acknowledged once")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100)
    parser.add_argument("--pressers", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.incidents, args.pressers))
