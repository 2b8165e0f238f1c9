"""End to end on WhatsApp (issue 21): a cut uplink in the lab reaches the staff member on duty's
WhatsApp as a message with a *Tangani* reply button (the Graph API stand-in, which SIGAP's
client is pointed at as at Meta's), the press comes back as Meta's signed webhook, and the
incident is acknowledged (timeline, holder) and the press answered. The real exporter,
Prometheus (shipped rules), Alertmanager (shipped config) and the webhook as `sigap-webhook`,
set up as docs/operations.md says (`SIGAP_WHATSAPP_*`, the number on the user, the roster by
the CLI)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e import harness
from tests.e2e.harness import Service, wait_for
from tests.webhook.graph_standin import PHONE_NUMBER_ID, VERSION, GraphStandIn, Sent, start

pytestmark = [pytest.mark.e2e, pytest.mark.root]

WITA = ZoneInfo("Asia/Makassar")
TOKEN = "EAAG-e2e-stand-in-token"
APP_SECRET = "e2e-app-secret-0123456789"
SARI = "6281250011037"
NODES = 4
INVENTORY = """
probe: {interval: 1s, timeout: 1s, down_after: 3}
core:
  nodes:
    - {id: core-router, address: 198.18.0.1, role: core, owner: diskominfo}
    - {id: dist-batulicin, address: 198.18.0.22, role: distribution, owner: diskominfo,
       parent: core-router}
skpd:
  - id: dinkes
    name: Dinas Kesehatan
    nodes:
      - {id: uplink-dinkes, address: 198.18.5.1, role: uplink, owner: diskominfo,
         parent: dist-batulicin}
      - {id: gw-dinkes, address: 198.18.5.2, role: gateway, owner: diskominfo,
         parent: uplink-dinkes}
"""


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("whatsapp") / "inventory.yml"
    path.write_text(INVENTORY)
    return path


@pytest.fixture(scope="module")
def lab(inventory: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with harness.own_lab(inventory, tmp_path_factory.mktemp("lab")) as built:
        yield built


class Stack:
    def __init__(self, workdir: Path, inventory: Path) -> None:
        self.workdir, self.token = workdir, secrets.token_urlsafe(24)
        self.graph_port = harness.free_port()
        """Where the Graph API stand-in will listen (the test starts it on its event loop)."""
        self.services: list[Service] = []
        try:
            port = harness.free_port()
            url = f"http://127.0.0.1:{port}"
            env = harness.webhook_env(
                workdir, self.token, SIGAP_INVENTORY=str(inventory), SIGAP_EXTERNAL_URL=url,
                SIGAP_WHATSAPP_TOKEN=TOKEN, SIGAP_WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
                SIGAP_WHATSAPP_APP_SECRET=APP_SECRET, SIGAP_WHATSAPP_VERIFY_TOKEN="e2e-verify",
                SIGAP_WHATSAPP_API_URL=f"http://127.0.0.1:{self.graph_port}",
                SIGAP_WHATSAPP_API_VERSION=VERSION,
            )  # fmt: skip
            argv = [harness.which(harness.WEBHOOK) or harness.WEBHOOK,
                    f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip
            self.webhook = self._add(
                harness.start("webhook", argv, workdir=workdir, url=url, env=env)
            )
            self.alertmanager = self._add(
                harness.start_alertmanager(workdir, webhook_url=self.webhook.url, token=self.token)
            )
            self.exporter = self._add(harness.start_exporter(workdir, inventory))
            self.prometheus = self._add(
                harness.start_prometheus(
                    workdir, exporter=self.exporter.url, alertmanager=self.alertmanager.url
                )
            )
            self.cli("user", "add", "sari", "--role", "staff", "--phone", "0812-5001-1037")
            self.api_token = harness.create_api_token(workdir, token=self.token)
        except BaseException:
            self.stop()
            raise

    def _add(self, service: Service) -> Service:
        self.services.append(service)
        return service

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def cli(self, *args: str) -> str:
        return harness.webhook_cli(self.workdir, self.token, *args)

    def get(self, url: str) -> Any:
        request = urllib.request.Request(url)
        if url.startswith(self.webhook.url):
            request.add_header("Authorization", f"Bearer {self.api_token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def nodes_up(self) -> float | None:
        query = "count(sigap_node_up%20==%201)"
        result = self.get(f"{self.prometheus.url}/api/v1/query?query={query}")["data"]["result"]
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


def test_a_cut_pages_whatsapp_and_a_press_of_tangani_acknowledges(lab: Any, stack: Stack) -> None:
    began = (datetime.now(UTC) - timedelta(hours=1)).astimezone(WITA)
    stack.cli(
        "roster", "set", "sari", "--shift", "daily",
        "--handover", began.strftime("%H:%M"), "--from", began.date().isoformat(),
    )  # fmt: skip
    wait_for(f"all {NODES} nodes up", lambda: stack.nodes_up() == NODES, timeout=60)
    asyncio.run(cut_page_press(lab, stack))


async def cut_page_press(lab: Any, stack: Stack) -> None:
    """The phones' side on this thread's event loop (the services are processes)."""
    graph, runner = await start(TOKEN, APP_SECRET, stack.graph_port)
    graph.hook = f"{stack.webhook.url}/whatsapp/webhook"
    cut_at = time.monotonic()
    lab.cut("uplink-dinkes")
    try:
        page = (await arrived(graph, SARI, 1, within=90))[0]
        print(f"cut -> WhatsApp page: {page.at - cut_at:.1f} s")
        assert [title for title, _ in page.options] == ["Tangani"]
        assert "Dinas Kesehatan" in page.text
        incident_id = int(page.text.split("#", 1)[1].split("]", 1)[0])

        pressed_at = time.monotonic()
        assert await graph.post(graph.press_of(SARI, page, "Tangani")) == 200
        answer = (await arrived(graph, SARI, 2, within=10))[1]
        print(f"press -> answer: {answer.at - pressed_at:.2f} s")
        assert "✅ Tangani oleh sari" in answer.text and answer.reply_to == page.message_id

        detail = stack.get(f"{stack.webhook.url}/api/v1/incidents/{incident_id}")
        assert detail["holder"] == "sari"
        kinds = [event["kind"] for event in detail["events"]]
        assert kinds.count("acknowledge") == 1, kinds
    finally:
        await runner.cleanup()
        lab.restore()


async def arrived(graph: GraphStandIn, number: str, count: int, within: float) -> list[Sent]:
    """The messages to `number`, once there are `count` (AssertionError after `within` s)."""
    deadline = time.monotonic() + within
    while len(graph.to(number)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} message(s) to {number}: {graph.to(number)}")
        await asyncio.sleep(0.1)
    return graph.to(number)
