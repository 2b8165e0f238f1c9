"""SOP step 2 by itself: an incident that opens gets a real ICMP ping check (icmplib, to
127.0.0.x) in the background — after the commit, never delaying Alertmanager's answer — and the
result lands on the incident's timeline."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
from reliability import HEADERS, alert, live_webhook, notification, settings_for

from webhook.core.workflow import State
from webhook.store.models import Event, Incident
from webhook.web.keys import DATABASE

INVENTORY = """
skpd:
  - id: dinkes
    name: Dinas Kesehatan
    nodes:
      - {id: dinkes-gw, address: 127.0.0.2, role: gateway, owner: diskominfo}
      - {id: dinkes-sw1, address: 127.0.0.3, role: switch, owner: skpd, parent: dinkes-gw}
"""


def _can_ping() -> bool:
    if os.geteuid() == 0:
        return True
    low, high = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    return low <= os.getegid() <= high


@pytest.mark.skipif(not _can_ping(), reason="needs root or net.ipv4.ping_group_range for ICMP")
async def test_ping_check_runs_after_the_commit_and_lands_on_the_timeline(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(INVENTORY)
    settings = settings_for(
        f"sqlite:///{tmp_path / 'sigap.db'}",
        SIGAP_INVENTORY=str(inventory),
        SIGAP_PING_CHECK="true",
        SIGAP_PING_COUNT="10",  # 10 echoes 0.2 s apart: the check takes at least 1.8 s
    )
    body = notification([alert("dinkes", "dinkes-gw")])
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        began = time.monotonic()
        async with http.post(hook.receiver, json=body, headers=HEADERS) as response:
            assert response.status == 200, await response.text()
        answered_in = time.monotonic() - began
        database = hook.app[DATABASE]

        async def ping_events() -> list[Event]:
            async with database.read() as session:
                rows = await session.scalars(select(Event).where(Event.kind == "ping_check"))
                return list(rows)

        assert answered_in < 1.5, "the answer waited for the ping check"
        assert await ping_events() == []
        deadline = time.monotonic() + 15
        while not (events := await ping_events()):
            assert time.monotonic() < deadline, "no ping check on the timeline"
            await asyncio.sleep(0.1)
        (event,) = events
        assert event.actor and event.from_state == State.OPENED.value
        assert event.to_state == State.PING_CHECKED.value
        assert set(event.data["reachable"]) >= {"dinkes-gw"}
        result = event.data["results"]["dinkes-gw"]
        assert result["address"] == "127.0.0.2" and result["received"] == result["sent"] == 10
        async with database.read() as session:
            incident = await session.scalar(select(Incident))
        assert incident is not None and incident.state == State.PING_CHECKED.value
