"""Benchmark of SIGAP's Telegram door and channel, against the tests' stand-in Bot API server
(tests/webhook/telegram_standin.py) on 127.0.0.1, with the real python-telegram-bot client:

- ``page``: 100 outages reported one after another (100 SKPDs); for each, the time from the
  commit that opens it (the database's after-commit hook) to the stand-in receiving the
  ``sendMessage`` of its page (the outbox: plan, claim, send);
- ``press``: 10 linked staff pressing *Tangani* on those 100 pages, 10 at once (each presser
  waits for the answer before its next press): the time from the update being handed to the
  bot's long poll to the stand-in receiving ``answerCallbackQuery`` (the move committed), and to
  its ``editMessageText`` (the edit owed through the outbox and sent).

Everything runs in one process and one event loop (SIGAP, the stand-in, the pressers), on
SQLite: the figures include the stand-in's own work.

    .venv/bin/python benchmarks/bench_telegram.py [--incidents 100] [--pressers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.webhook.telegram_standin import StandIn, start, stop
from webhook.core.figures import NoticeOwed
from webhook.settings import load_settings
from webhook.store.models import TelegramChat, User
from webhook.usecases import incidents as incident_uses
from webhook.usecases import roster as roster_uses
from webhook.usecases.context import Actor
from webhook.web.app import create_app
from webhook.web.keys import DATABASE, RESOURCES

TOKEN = "123456789:AAHbenchmark-token-for-sigap_012345"
FIRST_ID = 7000


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


async def main(incidents: int, pressers: int) -> None:
    bot, runner = await start(TOKEN)
    with tempfile.TemporaryDirectory() as folder:
        inventory(Path(folder) / "inventory.yml", incidents)
        settings = load_settings(
            env={
                "SIGAP_DATABASE_URL": f"sqlite:///{folder}/sigap.db",
                "SIGAP_SECRET_KEY": "bench",
                "SIGAP_PING_CHECK": "false",
                "SIGAP_INVENTORY": f"{folder}/inventory.yml",
                "SIGAP_TELEGRAM_BOT_TOKEN": TOKEN,
                "SIGAP_TELEGRAM_API_URL": bot.url,
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
            await run(app, bot, committed, incidents, pressers)
        finally:
            await server.close()
            await stop(bot, runner)


async def run(
    app: Any, bot: StandIn, committed: dict[int, float], incidents: int, pressers: int
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
    ids = []
    for i in range(incidents):
        incident, _ = await incident_uses.report(
            res, reporter, {"skpd": f"skpd{i:03d}", "description": "mati"}
        )
        ids.append(incident.id)
    await wait_until(
        lambda: len([s for s in bot.calls("sendMessage") if s.message_id]) >= incidents
    )
    pages = {}
    for sent in bot.calls("sendMessage"):
        found = re.search(r"\[SIGAP #(\d+)\]", str(sent.params["text"]))
        if found and sent.message_id:
            pages[int(found[1])] = sent
    page_latency = [pages[i].at - committed[i] for i in ids]

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
    held = sum(1 for i in done if i.holder is not None)
    assert held == incidents, f"{held} of {incidents} acknowledged"

    print(percentiles("page: commit -> sendMessage", page_latency))
    print(percentiles("press -> answerCallbackQuery (moved)", answered))
    print(percentiles("press -> editMessageText", edited))
    print(f"{incidents} presses by {pressers} pressers in {elapsed:.2f} s "
          f"({incidents / elapsed:.0f} presses/s); every incident acknowledged once")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100)
    parser.add_argument("--pressers", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.incidents, args.pressers))
