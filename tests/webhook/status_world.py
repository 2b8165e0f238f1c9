"""A world for the status page tests: a real Prometheus (Debian `prometheus`) serving 92 days of
`sigap:skpd_connection_up:avg1m` (dinkes down two hours three days ago) and every node's
`sigap_node_up` (gw-dinkes and ap-bappeda-1 down now), backfilled with `promtool`; the real
app on SQLite with the example inventory, pointed at it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from exporter.inventory import load_inventory
from tests.e2e import harness
from webhook.services.prometheus import CONNECTION_RULE

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "deploy" / "inventory.example.yml"
RULE = CONNECTION_RULE
WITA = ZoneInfo("Asia/Makassar")
DOWN_NOW = ("gw-dinkes", "ap-bappeda-1")


@dataclass
class World:
    url: str
    outage_day: str
    """The local date (ISO) on which dinkes was down 10.00-12.00 WITA."""


def outage_start(now: datetime) -> datetime:
    day = now.astimezone(WITA).date() - timedelta(days=3)
    return datetime.combine(day, time(10), WITA)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    promtool = shutil.which("promtool")
    if harness.missing_binaries(harness.PROMETHEUS) or promtool is None:
        pytest.skip("prometheus / promtool not installed (Debian package prometheus)")
    workdir = tmp_path_factory.mktemp("prometheus")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    down = outage_start(now)
    lines = [f"# TYPE {RULE} gauge"]
    for skpd in ("dinkes", "bappeda", "setda"):
        moment = now - timedelta(days=92, seconds=30)  # mid-minute: clear of day boundaries
        while moment < now - timedelta(minutes=1):
            value = 0.0 if skpd == "dinkes" and down <= moment < down + timedelta(hours=2) else 1.0
            lines.append(f'{RULE}{{skpd="{skpd}"}} {value} {moment.timestamp():.0f}')
            moment += timedelta(minutes=5)
    lines.append("# TYPE sigap_node_up gauge")
    inventory = load_inventory(INVENTORY, resolve=None)
    for node in inventory.nodes.values():
        value = 0 if node.id in DOWN_NOW else 1
        for minutes in range(30, 0, -1):
            at = (now - timedelta(minutes=minutes)).timestamp()
            lines.append(f'sigap_node_up{{node="{node.id}",skpd="{node.skpd}"}} {value} {at:.0f}')
    lines.append("# EOF")
    (workdir / "data.om").write_text("\n".join(lines) + "\n")
    data = workdir / "data"
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=2400h",
         str(workdir / "data.om"), str(data)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    (workdir / "prometheus.yml").write_text("global: {}\n")
    port = harness.free_port()
    service = harness.start(
        "prometheus",
        [
            harness.which(harness.PROMETHEUS) or harness.PROMETHEUS,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=3650d",
            "--query.lookback-delta=2h",  # the backfilled node states stay "now" for the tests
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        workdir=workdir,
        url=f"http://127.0.0.1:{port}",
    )
    try:
        yield World(service.url, down.date().isoformat())
    finally:
        service.stop()
