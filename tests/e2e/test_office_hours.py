"""End to end, for real: outside an SKPD's office hours its own switch going dark opens nothing,
while its uplink (Diskominfo's) being cut still opens one incident, and the same switch fault in
an SKPD without office hours opens one as always. Real lab, exporter, Prometheus, Alertmanager
and webhook; the shipped rules and configs.

The hours are written relative to today (a holiday yesterday, today and tomorrow, in WITA), so the
test never depends on the day or the hour it runs at.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e import harness
from tests.e2e.harness import Service, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.root]

WITA = ZoneInfo("Asia/Makassar")
QUIET_FOR = 45.0
"""The usual cut -> incident worst case; nothing may open for SETDA's switch within it."""
INCIDENT_TIMEOUT = 75.0
NODES = 10


def inventory_text(today: datetime) -> str:
    days = [(today + timedelta(days=d)).date().isoformat() for d in (-1, 0, 1)]
    return f"""
probe: {{interval: 1s, timeout: 1s, down_after: 3}}
office_hours:
  jam-kantor:
    timezone: Asia/Makassar
    days: [mon, tue, wed, thu, fri, sat, sun]
    start: "00:00"
    end: "24:00"
    holidays: [{", ".join(days)}]
core:
  nodes:
    - {{id: core-router, address: 198.18.0.1, role: core, owner: diskominfo}}
    - {{id: dist-gunungtinggi, address: 198.18.0.21, role: distribution, owner: diskominfo,
        parent: core-router}}
skpd:
  - id: setda
    name: Sekretariat Daerah
    office_hours: jam-kantor
    nodes:
      - {{id: uplink-setda, address: 198.18.1.1, role: uplink, owner: diskominfo,
          parent: dist-gunungtinggi}}
      - {{id: gw-setda, address: 198.18.1.2, role: gateway, owner: diskominfo,
          parent: uplink-setda}}
      - {{id: sw-setda-core, address: 198.18.1.10, role: switch, owner: skpd, parent: gw-setda}}
      - {{id: ap-setda-1, address: 198.18.1.31, role: access_point, owner: skpd,
          parent: sw-setda-core}}
  - id: bappeda
    name: Badan Perencanaan Pembangunan Daerah
    nodes:
      - {{id: uplink-bappeda, address: 198.18.2.1, role: uplink, owner: diskominfo,
          parent: dist-gunungtinggi}}
      - {{id: gw-bappeda, address: 198.18.2.2, role: gateway, owner: diskominfo,
          parent: uplink-bappeda}}
      - {{id: sw-bappeda-core, address: 198.18.2.10, role: switch, owner: skpd,
          parent: gw-bappeda}}
      - {{id: ap-bappeda-1, address: 198.18.2.31, role: access_point, owner: skpd,
          parent: sw-bappeda-core}}
"""


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("office-hours") / "inventory.yml"
    path.write_text(inventory_text(datetime.now(WITA)))
    return path


@pytest.fixture(scope="module")
def lab(inventory: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """This test's small network as lab namespaces (sgl-*), removed afterwards."""
    with harness.own_lab(inventory, tmp_path_factory.mktemp("lab")) as built:
        yield built


class Stack:
    """Webhook, Alertmanager, exporter and Prometheus on the shipped configs, all reading
    `inventory`."""

    def __init__(self, workdir: Path, inventory: Path) -> None:
        token = secrets.token_urlsafe(24)
        self.services: list[Service] = []
        try:
            self.webhook = self._add(
                harness.start_webhook(workdir, token=token, SIGAP_INVENTORY=str(inventory))
            )
            self.alertmanager = self._add(
                harness.start_alertmanager(workdir, webhook_url=self.webhook.url, token=token)
            )
            self.exporter = self._add(harness.start_exporter(workdir, inventory))
            self.prometheus = self._add(
                harness.start_prometheus(
                    workdir, exporter=self.exporter.url, alertmanager=self.alertmanager.url
                )
            )
            self.api_token = harness.create_api_token(workdir, token=token)
        except BaseException:
            self.stop()
            raise

    def _add(self, service: Service) -> Service:
        self.services.append(service)
        return service

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def _get(self, url: str, token: str | None = None) -> Any:
        request = urllib.request.Request(url)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def incidents(self, skpd: str) -> list[dict[str, Any]]:
        url = f"{self.webhook.url}/api/v1/incidents?skpd={skpd}"
        return list(self._get(url, self.api_token)["incidents"])

    def incident(self, incident_id: int) -> dict[str, Any]:
        url = f"{self.webhook.url}/api/v1/incidents/{incident_id}"
        return dict(self._get(url, self.api_token))

    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"{self.prometheus.url}/api/v1/query?query={urllib.parse.quote(promql)}"
        return list(self._get(url)["data"]["result"])

    def value(self, promql: str) -> float | None:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None


@pytest.fixture(scope="module")
def stack(lab: Any, inventory: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    missing = harness.missing_binaries()
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (bash scripts/setup.sh)")
    running = Stack(tmp_path_factory.mktemp("stack"), inventory)
    try:
        yield running
    finally:
        running.stop()


def test_after_hours_only_diskominfo_faults_open_incidents(
    lab: Any, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    wait_for(
        f"all {NODES} nodes up in Prometheus",
        lambda: stack.value("count(sigap_node_up == 1)") == NODES,
        timeout=60,
    )
    # The exporter says after hours for SETDA's own nodes only.
    expected = {
        r["metric"]["node"]: float(r["value"][1]) for r in stack.query("sigap_node_expected_up")
    }
    assert expected == {
        **dict.fromkeys(("core-router", "dist-gunungtinggi", "uplink-setda", "gw-setda"), 1.0),
        **dict.fromkeys(("uplink-bappeda", "gw-bappeda", "sw-bappeda-core", "ap-bappeda-1"), 1.0),
        "sw-setda-core": 0.0,
        "ap-setda-1": 0.0,
    }

    # Both SKPDs' core switches die at once: SETDA's is after hours, BAPPEDA has no hours.
    started = datetime.now(UTC)
    cut_at = time.monotonic()
    lab.cut("sw-setda-core")
    lab.cut("sw-bappeda-core")
    control = wait_for(
        "an incident for bappeda", lambda: stack.incidents("bappeda"), INCIDENT_TIMEOUT
    )
    control_took = time.monotonic() - cut_at
    time.sleep(max(0.0, QUIET_FOR - (time.monotonic() - cut_at)))
    # really dark: down in every sample of the last 30 s, when it would have been alerting
    assert stack.value('max_over_time(sigap_node_up{node="sw-setda-core"}[30s])') == 0
    assert stack.incidents("setda") == []
    window = f"{int((datetime.now(UTC) - started).total_seconds()) + 5}s"
    # no down alert, not even pending; nothing firing (a loss alert goes pending in the seconds
    # between the first lost probes and the down verdict, as for any cut, and never fires)
    assert not stack.query(
        f'max_over_time(ALERTS{{skpd="setda", alertname="SigapNodeDown"}}[{window}])'
    )
    assert not stack.query(f'max_over_time(ALERTS{{skpd="setda", alertstate="firing"}}[{window}])')
    detail = stack.incident(control[0]["id"])
    assert detail["responsibility"] == "skpd"
    assert {a["labels"]["alertname"] for a in detail["alerts"]} == {"SigapNodeDown"}

    # SETDA's uplink is cut, still after hours: Diskominfo's fault opens one incident.
    uplink_at = time.monotonic()
    lab.cut("uplink-setda")
    try:
        opened = wait_for(
            "an incident for setda", lambda: stack.incidents("setda"), INCIDENT_TIMEOUT
        )
    except AssertionError as error:
        # the lab is machine-wide: say what it and Prometheus saw (another run may have rebuilt it)
        seen = stack.query('sigap_node_up{skpd="setda"} or ALERTS{skpd="setda"}')
        raise AssertionError(f"{error}; lab: {lab.status()}; Prometheus: {seen}") from None
    uplink_took = time.monotonic() - uplink_at
    time.sleep(10)  # a second alert or incident would show up by now (group_interval 10 s)
    incidents = stack.incidents("setda")
    assert len(incidents) == 1, incidents
    detail = stack.incident(opened[0]["id"])
    assert detail["responsibility"] == "diskominfo", detail
    assert {a["labels"]["alertname"] for a in detail["alerts"]} == {"SigapUplinkDown"}
    assert {a["labels"]["node"] for a in detail["alerts"]} == {"uplink-setda"}

    with capsys.disabled():
        print(
            f"\ncut -> incident (s): bappeda switch (no hours) {control_took:.1f}, "
            f"setda uplink (after hours) {uplink_took:.1f}; setda switch (after hours): "
            f"nothing in {QUIET_FOR:.0f} s"
        )
