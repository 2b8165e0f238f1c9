"""`sigap_node_expected_up`: computed at each scrape from the exporter's clock, 0 for an SKPD's own
nodes outside its office hours, 1 for every other node; the page stays clean for promtool."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from exporter.inventory import load_inventory
from exporter.prober import ProbeEngine
from exporter.web import ExporterService, create_app

from .conftest import needs_root, samples

pytestmark = [pytest.mark.root, needs_root]
WITA = timezone(timedelta(hours=8))
INVENTORY = """
probe: {interval: 200ms, timeout: 200ms, down_after: 3}
office_hours:
  jam-kantor: {days: [mon, tue, wed, thu, fri], start: "07:30", end: "16:00"}
core:
  nodes:
    - {id: core-router, address: 127.0.0.1, role: core, owner: diskominfo}
skpd:
  - id: setda
    name: Sekretariat Daerah
    office_hours: jam-kantor
    labels: {kecamatan: batulicin}
    nodes:
      - {id: uplink-setda, address: 127.0.0.2, role: uplink, owner: diskominfo,
         parent: core-router}
      - {id: sw-setda, address: 127.0.0.3, role: switch, owner: skpd, parent: uplink-setda}
  - id: rsud
    name: RSUD
    nodes:
      - {id: sw-rsud, address: 127.0.0.4, role: switch, owner: skpd, parent: core-router}
"""


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def expected(text: str) -> dict[str, float]:
    return {dict(k)["node"]: v for k, v in samples(text, "sigap_node_expected_up").items()}


async def test_expected_up_follows_the_clock_at_each_scrape(
    tmp_path: Path, aiohttp_client: object
) -> None:
    config = tmp_path / "inventory.yml"
    config.write_text(INVENTORY)
    engine = ProbeEngine()
    engine.apply(load_inventory(config, resolve=None))
    clock = MovableClock(datetime(2026, 12, 1, 10, 0, tzinfo=WITA))  # Tuesday, 10:00 WITA
    service = ExporterService(config, engine, clock=clock)
    client: TestClient = await aiohttp_client(create_app(service))  # type: ignore[operator]

    async def scrape() -> str:
        response = await client.get("/metrics")
        assert response.status == 200
        return await response.text()

    every = {"core-router": 1, "uplink-setda": 1, "sw-setda": 1, "sw-rsud": 1}
    assert expected(await scrape()) == every
    clock.now = datetime(2026, 12, 1, 16, 0, tzinfo=WITA)  # closing time: only SETDA's switch
    text = await scrape()
    assert expected(text) == {**every, "sw-setda": 0}
    # the same identifying labels as every per-node series (sigap_node_up is absent until a
    # node's first verdict; its order is not), so the rules can join on them
    expected_labels = set(samples(text, "sigap_node_expected_up"))
    assert expected_labels == set(samples(text, "sigap_node_topology_order"))
    assert {dict(k)["kecamatan"] for k in expected_labels if dict(k)["skpd"] == "setda"} == {
        "batulicin"
    }
    check = await asyncio.to_thread(
        subprocess.run, ["promtool", "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    clock.now = datetime(2026, 12, 2, 7, 30, tzinfo=WITA)  # Wednesday opening
    assert expected(await scrape()) == every
