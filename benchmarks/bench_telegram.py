"""Benchmark of SIGAP's Telegram door and channel, against the tests' stand-in Bot API server
(tests/webhook/telegram_standin.py) on 127.0.0.1, with the real python-telegram-bot client:

- ``page``: 100 outages reported one after another (100 SKPDs); for each, the time from the
  commit that opens it (the database's after-commit hook) to the stand-in receiving the
  ``sendMessage`` of its page (the outbox: plan, claim, send);
- ``page while storming`` (``--storm``): the same while Alertmanager storms the receiver:
  posters sending notifications of 20 firing alerts each, without pause, for other SKPDs (the
  first of each opens an incident, the rest are Alertmanager's re-sends);
- ``press``: 10 linked staff pressing *Tangani* on those 100 pages, 10 at once (each presser
  waits for the answer before its next press): the time from the update being handed to the
  bot's long poll to the stand-in receiving ``answerCallbackQuery`` (the move committed), and to
  its ``editMessageText`` (the edit owed through the outbox and sent).

Everything runs in one process and one event loop (SIGAP, the stand-in, the pressers), on
SQLite: the figures include the stand-in's own work.

    .venv/bin/python benchmarks/bench_telegram.py [--incidents 100] [--pressers 10] [--storm 4]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.webhook.telegram_standin import Sent, StandIn, start, stop
from webhook.core.figures import NoticeOwed
from webhook.settings import load_settings
from webhook.store.models import TelegramChat, User
from webhook.usecases import incidents as incident_uses
from webhook.usecases import roster as roster_uses
from webhook.usecases.context import Actor
from webhook.web.app import create_app
from webhook.web.keys import DATABASE, RESOURCES

TOKEN = "123456789:AAHbenchmark-token-for-sigap_012345"
AM_TOKEN = "bench-alertmanager-token"
FIRST_ID = 7000
STORM_SKPDS = 40
STORM_ALERTS = 20
"""Alerts in each storming notification (20 uplinks of 20 storm SKPDs, as a regency's storm)."""


def inventory(path: Path, skpds: int) -> None:
    lines = [
        "core:",
        "  nodes:",
        "    - {id: core-router, address: 198.18.0.1, role: core, owner: diskominfo}",
        "skpd:",
    ]
    for i in range(skpds):
        lines += [
            f"  - id: skpd{i:03d}",
            f"    name: SKPD Uji {i:03d}",
            "    nodes:",
            f"      - {{id: up-{i:03d}, address: 198.18.{10 + i // 250}.{1 + i % 250}, "
            "role: uplink, owner: diskominfo, parent: core-router}",
        ]
    path.write_text("\n".join(lines) + "\n")


def percentiles(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"{name:<38} n={len(values):<4} p50={statistics.median(ordered) * 1000:7.1f} ms  "
        f"p99={p99 * 1000:7.1f} ms  max={ordered[-1] * 1000:7.1f} ms"
    )


async def wait_until(check: Any, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        await asyncio.sleep(0.002)


async def main(incidents: int, pressers: int, storm: int) -> None:
    bot, runner = await start(TOKEN)
    with tempfile.TemporaryDirectory() as folder:
        inventory(Path(folder) / "inventory.yml", 2 * incidents + STORM_SKPDS)
        settings = load_settings(
            env={
                "SIGAP_DATABASE_URL": f"sqlite:///{folder}/sigap.db",
                "SIGAP_SECRET_KEY": "bench",
                "SIGAP_PING_CHECK": "false",
                "SIGAP_INVENTORY": f"{folder}/inventory.yml",
                "SIGAP_TELEGRAM_BOT_TOKEN": TOKEN,
                "SIGAP_TELEGRAM_API_URL": bot.url,
                "SIGAP_ALERTMANAGER_TOKEN": AM_TOKEN,
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
        try:
            await run(app, bot, committed, incidents, pressers, storm, str(server.make_url("")))
        finally:
            await server.close()
            await stop(bot, runner)


def storm_body(first: int, n: int) -> dict[str, Any]:
    """One Alertmanager notification: `STORM_ALERTS` uplinks firing, of SKPDs from `first`."""
    started = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "SigapUplinkDown", "skpd": f"skpd{first + k:03d}",
                       "node": f"up-{first + k:03d}", "responsibility": "diskominfo"},
            "annotations": {"summary": "uplink down"},
            "startsAt": started, "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.bench/graph",
            "fingerprint": f"storm-{first + k:03d}",
        }
        for k in range(STORM_ALERTS)
    ]  # fmt: skip
    return {
        "version": "4", "receiver": "sigap", "status": "firing", "truncatedAlerts": 0,
        "groupKey": f'{{}}:{{storm="{first}-{n}"}}', "groupLabels": {}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://alertmanager.bench", "alerts": alerts,
    }  # fmt: skip


async def storming(url: str, first: int, stop_at: asyncio.Event, sent: list[float]) -> None:
    """Post notifications without pause until `stop_at`; each one's answer time in `sent`."""
    headers = {"Authorization": f"Bearer {AM_TOKEN}"}
    async with aiohttp.ClientSession() as client:
        n = 0
        while not stop_at.is_set():
            body = storm_body(first + (n % 2) * STORM_ALERTS, n)
            began = time.monotonic()
            async with client.post(f"{url}/api/v1/alertmanager", json=body, headers=headers) as r:
                assert r.status == 200, await r.text()
            sent.append(time.monotonic() - began)
            n += 1


async def page_round(
    res: Any, bot: StandIn, committed: dict[int, float], skpds: range
) -> tuple[list[float], dict[int, Sent]]:
    """Report an outage of each of `skpds`, one after another; each page's latency."""
    ids = []
    for i in skpds:
        incident, _ = await incident_uses.report(
            res, Actor.operator(), {"skpd": f"skpd{i:03d}", "description": "mati"}
        )
        ids.append(incident.id)
    wanted = set(ids)

    def pages() -> dict[int, Sent]:
        found = {}
        for sent in bot.calls("sendMessage"):
            hit = re.search(r"\[SIGAP #(\d+)\]", str(sent.params["text"]))
            if hit and sent.message_id and int(hit[1]) in wanted:
                found[int(hit[1])] = sent
        return found

    await wait_until(lambda: len(pages()) >= len(ids))
    shown = pages()
    return [shown[i].at - committed[i] for i in ids], shown


async def run(
    app: Any,
    bot: StandIn,
    committed: dict[int, float],
    incidents: int,
    pressers: int,
    storm: int,
    url: str,
) -> None:
    res = app[RESOURCES]
    names = [f"staf{i}" for i in range(pressers)]
    async with app[DATABASE].write() as session:
        for i, name in enumerate(names):
            user = User(
                name=name, role="staff", skpds=[], active=True, created_at=datetime.now(UTC)
            )
            session.add(user)
            await session.flush()
            session.add(
                TelegramChat(chat_id=FIRST_ID + i, user_id=user.id, linked_at=user.created_at)
            )
    await roster_uses.put_rotation(res, Actor.operator(), names[:1], "daily", "07:30", None)
    reporter = Actor.operator()

    # page: commit -> sendMessage at the stand-in
    page_latency, pages = await page_round(res, bot, committed, range(incidents))
    ids = sorted(pages)
    stormed: list[float] = []
    answered_storm: list[float] = []
    if storm:
        stop_at = asyncio.Event()
        storms = [
            asyncio.create_task(storming(url, 2 * incidents, stop_at, answered_storm))
            for _ in range(storm)
        ]
        await asyncio.sleep(1.0)  # the storm under way (its incidents opened, re-sends now)
        stormed, _ = await page_round(res, bot, committed, range(incidents, 2 * incidents))
        stop_at.set()
        await asyncio.gather(*storms)

    # press: update handed out -> answerCallbackQuery, -> editMessageText
    queued: dict[int, float] = {}
    query_ids: dict[int, str] = {}

    def answered_ids() -> set[str]:
        return {str(s.params["callback_query_id"]) for s in bot.calls("answerCallbackQuery")}

    async def one_presser(k: int, mine: list[int]) -> None:
        for incident_id in mine:
            sent = pages[incident_id]
            data = dict(bot.buttons(sent))["Tangani"]
            query_id = await bot.press(
                FIRST_ID + k, int(sent.params["chat_id"]), sent.message_id or 0, data
            )
            queued[incident_id], query_ids[incident_id] = time.monotonic(), query_id
            await wait_until(lambda q=query_id: q in answered_ids())

    start_at = time.monotonic()
    shares = [ids[k::pressers] for k in range(pressers)]
    await asyncio.gather(*(one_presser(k, share) for k, share in enumerate(shares)))
    await wait_until(lambda: len(bot.calls("editMessageText")) >= incidents)
    elapsed = time.monotonic() - start_at
    answers = {str(s.params["callback_query_id"]): s.at for s in bot.calls("answerCallbackQuery")}
    edits = {int(s.params["message_id"]): s.at for s in bot.calls("editMessageText")}
    answered = [answers[query_ids[i]] - queued[i] for i in ids]
    edited = [edits[pages[i].message_id or 0] - queued[i] for i in ids]
    done = await incident_uses.incidents(res, reporter, is_open=True, limit=1000)
    held = sum(1 for i in done if i.holder is not None and i.id in pages)
    assert held == incidents, f"{held} of {incidents} acknowledged"

    print(percentiles("page: commit -> sendMessage", page_latency))
    if storm:
        print(percentiles(f"page while storming ({storm} posters)", stormed))
        print(percentiles("storm: notification answered", answered_storm))
    print(percentiles("press -> answerCallbackQuery (moved)", answered))
    print(percentiles("press -> editMessageText", edited))
    print(f"{incidents} presses by {pressers} pressers in {elapsed:.2f} s "
          f"({incidents / elapsed:.0f} presses/s); every incident acknowledged once")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100)
    parser.add_argument("--pressers", type=int, default=10)
    parser.add_argument("--storm", type=int, default=4, help="storming posters (0: no storm)")
    args = parser.parse_args()
    asyncio.run(main(args.incidents, args.pressers, args.storm))
