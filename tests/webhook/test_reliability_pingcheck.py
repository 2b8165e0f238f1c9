"""SOP step 2 by itself: an incident that opens gets a real ICMP ping check (icmplib, to
127.0.0.x) in the background — after the commit, never delaying Alertmanager's answer — and the
result lands on the incident's timeline."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import struct
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from tests.webhook.reliability import (
    HEADERS,
    LiveWebhook,
    alert,
    live_webhook,
    notification,
    settings_for,
)
from webhook.core.workflow import State
from webhook.services.pingcheck import PingChecker, PingSettings
from webhook.store.database import Database
from webhook.store.models import Event, Incident
from webhook.web.keys import DATABASE, PING_CHECKER

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


# --- bounded background checks: real ICMP over one socket per family -----------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: raw ICMP and namespaces")
SILENT = [f"198.18.{208 + i // 250}.{i % 250 + 1}" for i in range(1000)]
"""Addresses routed into a namespace that ignores echo requests (benchmarks/bench_webhook.py)."""


@pytest.fixture
def silent() -> Iterator[list[str]]:
    from benchmarks.bench_webhook import silent_hosts

    with silent_hosts(SILENT):
        yield SILENT


def icmp_sockets() -> int:
    """ICMP sockets this process holds open: its socket inodes found in /proc/net/{raw,icmp}."""
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/self/fd/{fd}")
            if link.startswith("socket:["):
                mine.add(link[8:-1])
    inodes = set()
    for table in ("raw", "raw6", "icmp", "icmp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
                inodes.add(line.split()[9])
    return len(mine & inodes)


def new_checker(**settings: Any) -> PingChecker:
    """A checker for `ping_addresses` alone (its database is never opened)."""
    return PingChecker(Database("sqlite+aiosqlite:///unused.db"), PingSettings(**settings), None)


@needs_root
async def test_one_icmp_socket_per_family_for_200_addresses() -> None:
    ping = new_checker(count=2, interval=0.05)
    addresses = {f"n{i}": f"127.31.{i // 200}.{i % 200 + 1}" for i in range(199)}
    addresses["v6"] = "::1"
    most = 0

    async def watch() -> None:
        nonlocal most
        while True:
            most = max(most, icmp_sockets())
            await asyncio.sleep(0.005)

    before = icmp_sockets()
    watcher = asyncio.create_task(watch())
    try:
        results = await ping.ping_addresses(addresses)
    finally:
        watcher.cancel()
    assert most - before == 2, "one ICMP socket for IPv4, one for IPv6"
    assert all(r["received"] == r["sent"] == 2 and r["loss"] == 0 for r in results.values())
    assert results["v6"]["address"] == "::1" and results["v6"]["rtt_avg_ms"] is not None
    await ping.stop()
    assert icmp_sockets() == before


@needs_root
async def test_a_silent_node_and_an_unroutable_one_are_all_loss(silent: list[str]) -> None:
    ping = new_checker(count=2, interval=0.05, timeout=0.3)
    results = await ping.ping_addresses({"off": silent[0], "nowhere": "198.18.255.1"})
    await ping.stop()
    assert results["off"] == {
        "address": silent[0], "sent": 2, "received": 0, "loss": 1.0, "rtt_avg_ms": None
    }  # fmt: skip
    assert results["nowhere"]["received"] == 0 and results["nowhere"]["loss"] == 1.0


async def _post(http: aiohttp.ClientSession, hook: LiveWebhook, body: Any) -> list[int]:
    async with http.post(hook.receiver, json=body, headers=HEADERS) as response:
        assert response.status == 200, await response.text()
        return list((await response.json())["opened"])


async def _open_incidents(
    hook: LiveWebhook, http: aiohttp.ClientSession, bodies: list[Any]
) -> list[int]:
    """Post the bodies all at once, as Alertmanager does after a restart."""
    return [i for ids in await asyncio.gather(*(_post(http, hook, b) for b in bodies)) for i in ids]


async def _ping_events(hook: LiveWebhook) -> list[Event]:
    async with hook.app[DATABASE].read() as session:
        return list(await session.scalars(select(Event).where(Event.kind == "ping_check")))


def _node(skpd: str, node: str, address: str) -> dict[str, Any]:
    item = alert(skpd, node)
    item["labels"]["address"] = address
    return item


@needs_root
async def test_checks_are_bounded_and_a_shared_node_is_probed_once(
    tmp_path: Path, silent: list[str]
) -> None:
    settings = settings_for(
        f"sqlite:///{tmp_path / 'sigap.db'}",
        SIGAP_PING_CHECK="true",
        SIGAP_PING_CONCURRENCY="3",
        SIGAP_PING_COUNT="2",
        SIGAP_PING_TIMEOUT="0.3s",
    )
    shared = "127.32.0.1"
    bodies = [
        notification([_node(f"skpd{i}", f"n{i}", silent[i]), _node(f"skpd{i}", "core", shared)])
        for i in range(10)
    ]
    sniffer = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sniffer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sniffer.setblocking(False)
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        opened = await _open_incidents(hook, http, bodies)
        assert len(opened) == 10
        checker = hook.app[PING_CHECKER]
        for incident_id in opened:  # queued or done already: nothing more is checked
            checker.schedule(incident_id)
        await checker.drain()
        events = await _ping_events(hook)
        assert checker.busiest == 3, "3 incidents checked at a time, never more"
    probes = []  # (probe slot, sequence) of each echo request to the shared node, in order
    with contextlib.suppress(BlockingIOError):
        while True:
            packet = sniffer.recv(256)
            if socket.inet_ntoa(packet[16:20]) == shared and packet[20] == 8:
                probes.append(struct.unpack_from("!II", packet, 20 + 8 + 8))
    sniffer.close()
    assert len(events) == 10, "one check per incident"
    assert all(e.data["results"]["core"]["received"] == 2 for e in events)
    assert sorted(n for e in events for n in e.data["unreachable"]) == sorted(
        f"n{i}" for i in range(10)
    )
    slots = [slot for slot, _ in probes]
    assert len(set(slots)) < 10, "checks that overlapped shared the shared node's probe"
    assert slots == sorted(slots) and len(probes) == 2 * len(set(slots)), (
        f"the shared node was probed twice at once: {probes}"
    )


async def test_the_sweep_checks_an_incident_left_unchecked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sigap.db'}"
    body = notification([_node("dinkes", "gw", "127.33.0.1")])
    async with live_webhook(settings_for(url)) as hook, aiohttp.ClientSession() as http:
        (incident_id,) = await _post(http, hook, body)  # the check died with its replica
    on = settings_for(url, SIGAP_PING_CHECK="true", SIGAP_PING_COUNT="1")
    async with live_webhook(on) as hook:
        checker = hook.app[PING_CHECKER]
        await checker.drain()  # the sweep at start leaves it to its own, maybe running, check
        assert await _ping_events(hook) == []
        later = datetime.now(UTC) + timedelta(minutes=2)
        assert await checker.sweep(later) == [incident_id]
        await checker.drain()
        (event,) = await _ping_events(hook)
        assert event.incident_id == incident_id and event.to_state == State.PING_CHECKED.value
        assert event.data["results"]["gw"]["received"] == 1
        assert await checker.sweep(later) == [], "a checked incident is not swept again"


@needs_root
async def test_checks_of_100_incidents_do_not_delay_the_receiver(
    tmp_path: Path, silent: list[str]
) -> None:
    settings = settings_for(
        f"sqlite:///{tmp_path / 'sigap.db'}",
        SIGAP_PING_CHECK="true",  # 8 incidents checked at a time, the others queued
    )
    outage = [
        notification([_node(f"skpd{i}", f"n{i}-{j}", silent[i * 10 + j]) for j in range(10)])
        for i in range(100)
    ]
    probe = notification([_node("dinkes", "gw", "127.34.0.1")])

    async def latencies(http: aiohttp.ClientSession, hook: LiveWebhook, n: int) -> list[float]:
        took = []
        for _ in range(n):
            began = time.perf_counter()
            await _post(http, hook, probe)
            took.append((time.perf_counter() - began) * 1000)
        return took

    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        await _post(http, hook, probe)
        await hook.app[PING_CHECKER].drain()
        quiet = await latencies(http, hook, 60)
        assert len(await _open_incidents(hook, http, outage)) == 100
        await asyncio.sleep(0.05)
        checker = hook.app[PING_CHECKER]
        busy = await latencies(http, hook, 60)
        assert checker.busiest == 8
        checked_during = len(await _ping_events(hook))
    quiet_p50, busy_p50 = statistics.median(quiet), statistics.median(busy)
    quiet_p90 = statistics.quantiles(quiet, n=10)[-1]
    busy_p90 = statistics.quantiles(busy, n=10)[-1]
    print(
        f"receiver ms: quiet p50 {quiet_p50:.1f} p90 {quiet_p90:.1f}; "
        f"checking p50 {busy_p50:.1f} p90 {busy_p90:.1f}; checked meanwhile {checked_during}"
    )
    assert checked_during < 100, "measured while the checks were under way"
    # a few ms at most, on a shared 2-core machine where the quiet figures already vary by that
    assert busy_p50 < quiet_p50 + 3 and busy_p90 < quiet_p90 + 10
