"""End to end, for real: a cut in the lab pages the staff member on duty by email (a real SMTP
server, aiosmtpd) with a one-click Tangani link that works; nobody answering, the chain goes to
the next on duty, then the coordinator, each step once and on the timeline; following a link
acknowledges and ends the chain; an outage that ends by itself ends it too. The real exporter,
Prometheus (shipped rules) and Alertmanager (shipped config), and the webhook configured as
the README says (`notify: smtp`, `paging: ack_timeout / interval`, the roster set with the CLI).

Three SKPDs' uplinks are cut at once, one case each:
- dinkes: nobody answers; sari, then andi after `ack_timeout`, then koord after as long again;
  koord takes it from his page's link;
- disdik: sari takes it from her page's link at once; nobody else is ever paged for it;
- bpkad: the link comes back before anyone answers; the incident closes itself as transient
  and no step of the chain follows its close.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiosmtpd.controller import Controller
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e import harness
from tests.e2e.harness import Service, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.root]

WITA = ZoneInfo("Asia/Makassar")
ACK_TIMEOUT = 15.0
"""`paging: ack_timeout`: long enough for a transient outage's resolution to come back through
Alertmanager (group_interval 10 s) before the chain's first step."""
INTERVAL = 1.0
"""`paging: interval`: how often the leader looks for steps due."""
LATE = 6.0
"""How late a step may arrive after it is due: the loop's interval, the outbox, SMTP."""
INCIDENT_TIMEOUT = 75.0
NODES = 8
CHAIN, TAKEN, TRANSIENT = "dinkes", "disdik", "bpkad"
DOMAIN = "e2e.test"

INVENTORY = """
probe: {interval: 1s, timeout: 1s, down_after: 3}
core:
  nodes:
    - {id: core-router, address: 198.18.0.1, role: core, owner: diskominfo}
    - {id: dist-batulicin, address: 198.18.0.22, role: distribution, owner: diskominfo,
       parent: core-router}
skpd:
  - id: bpkad
    name: Badan Pengelolaan Keuangan dan Aset Daerah
    nodes:
      - {id: uplink-bpkad, address: 198.18.3.1, role: uplink, owner: diskominfo,
         parent: dist-batulicin}
      - {id: gw-bpkad, address: 198.18.3.2, role: gateway, owner: diskominfo,
         parent: uplink-bpkad}
  - id: dinkes
    name: Dinas Kesehatan
    nodes:
      - {id: uplink-dinkes, address: 198.18.5.1, role: uplink, owner: diskominfo,
         parent: dist-batulicin}
      - {id: gw-dinkes, address: 198.18.5.2, role: gateway, owner: diskominfo,
         parent: uplink-dinkes}
  - id: disdik
    name: Dinas Pendidikan
    nodes:
      - {id: uplink-disdik, address: 198.18.6.1, role: uplink, owner: diskominfo,
         parent: dist-batulicin}
      - {id: gw-disdik, address: 198.18.6.2, role: gateway, owner: diskominfo,
         parent: uplink-disdik}
"""
NAMES = {skpd["id"]: skpd["name"] for skpd in yaml.safe_load(INVENTORY)["skpd"]}
"""SKPD id -> its name, which the messages' subjects end with."""


@dataclass
class Mailbox:
    """What the real SMTP server received (aiosmtpd calls `handle_DATA` on its own thread)."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def pages(self, person: str, skpd: str | None = None) -> list[EmailMessage]:
        """The messages to `person`, of one SKPD's incident if given (its subject ends so)."""
        with self.lock:
            mine = [m for m in self.messages if m["To"] == f"{person}@{DOMAIN}"]
        return [m for m in mine if skpd is None or str(m["Subject"]).endswith(f": {NAMES[skpd]}")]


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("paging") / "inventory.yml"
    path.write_text(INVENTORY)
    return path


@pytest.fixture(scope="module")
def lab(inventory: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """This test's small network as lab namespaces (sgl-*), removed afterwards."""
    with harness.own_lab(inventory, tmp_path_factory.mktemp("lab")) as built:
        yield built


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on a free loopback port."""
    box = Mailbox()
    port = harness.free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def start_webhook(workdir: Path, token: str, inventory: Path, smtp_port: int) -> Service:
    """The webhook as an operator configures it: its config file's `notify:` and `paging:`
    sections, and SIGAP_EXTERNAL_URL (the address the links in its messages point at)."""
    port = harness.free_port()
    url = f"http://127.0.0.1:{port}"
    config = {
        "notify": {
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "sender": f"sigap@{DOMAIN}"},
            "retries": 3,
            "backoff": "500ms",
        },
        "paging": {"ack_timeout": f"{ACK_TIMEOUT:g}s", "interval": f"{INTERVAL:g}s"},
    }
    config_file = workdir / "webhook.yml"
    config_file.write_text(yaml.safe_dump(config))
    argv = [
        harness.which(harness.WEBHOOK) or harness.WEBHOOK,
        f"--web.listen-address=127.0.0.1:{port}",
        f"--config.file={config_file}",
    ]
    env = harness.webhook_env(
        workdir, token, SIGAP_INVENTORY=str(inventory), SIGAP_EXTERNAL_URL=url
    )
    return harness.start("webhook", argv, workdir=workdir, url=url, env=env)


class Stack:
    """Webhook, Alertmanager, exporter and Prometheus on the shipped configs; the staff and the
    roster set with the webhook's CLI, as a coordinator does."""

    def __init__(self, workdir: Path, inventory: Path, smtp_port: int) -> None:
        self.workdir, self.token = workdir, secrets.token_urlsafe(24)
        self.services: list[Service] = []
        try:
            self.webhook = self._add(start_webhook(workdir, self.token, inventory, smtp_port))
            self.alertmanager = self._add(
                harness.start_alertmanager(workdir, webhook_url=self.webhook.url, token=self.token)
            )
            self.exporter = self._add(harness.start_exporter(workdir, inventory))
            self.prometheus = self._add(
                harness.start_prometheus(
                    workdir, exporter=self.exporter.url, alertmanager=self.alertmanager.url
                )
            )
            for name, role in (("sari", "staff"), ("andi", "staff"), ("koord", "coordinator")):
                self.cli("user", "add", name, "--role", role, "--email", f"{name}@{DOMAIN}")
            self.api_token = self.cli("token", "create", "koord").strip().splitlines()[-1]
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
        return dict(self._get(f"{self.webhook.url}/api/v1/incidents/{incident_id}", self.api_token))

    def closed(self, incident_id: int) -> dict[str, Any] | None:
        """The incident once it closed itself as transient."""
        detail = self.incident(incident_id)
        return detail if detail["state"] == "transient" else None

    def value(self, promql: str) -> float | None:
        url = f"{self.prometheus.url}/api/v1/query?query={urllib.parse.quote(promql)}"
        result = self._get(url)["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def time_to_acknowledge(self) -> tuple[float, float]:
        """The webhook's `sigap_incident_time_to_acknowledge_seconds` histogram: (count, sum)."""
        with urllib.request.urlopen(f"{self.webhook.url}/metrics", timeout=10) as response:
            text = response.read().decode()
        for family in text_string_to_metric_families(text):
            if family.name == "sigap_incident_time_to_acknowledge_seconds":
                samples = {s.name: s.value for s in family.samples}
                return (
                    samples["sigap_incident_time_to_acknowledge_seconds_count"],
                    samples["sigap_incident_time_to_acknowledge_seconds_sum"],
                )
        raise AssertionError("no sigap_incident_time_to_acknowledge_seconds in /metrics")


@pytest.fixture(scope="module")
def stack(
    lab: Any,
    inventory: Path,
    mailbox: tuple[Mailbox, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    missing = harness.missing_binaries()
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (bash scripts/setup.sh)")
    running = Stack(tmp_path_factory.mktemp("stack"), inventory, mailbox[1])
    try:
        yield running
    finally:
        running.stop()


class _Form(HTMLParser):
    """The confirmation page's form: its method, action and fields, as a browser submits it."""

    def __init__(self) -> None:
        super().__init__()
        self.method: str | None = None
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.method is None:
            self.method, self.action = values.get("method", "get").lower(), values.get("action", "")
        elif tag == "input" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


def acknowledge_link(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(r"^Tangani: (http://\S+/l/\S+)", body.get_content(), re.M)
    assert found, f"no acknowledge link in:\n{body.get_content()}"
    return found.group(1)


def follow(link: str) -> str:
    """What a person does with the link: open it (GET shows what it will do), press the
    button (the page's form, submitted as a browser does); the answer page's text."""
    with urllib.request.urlopen(link, timeout=10) as response:
        assert response.status == 200
        page = response.read().decode()
    assert "Tangani" in page, page
    form = _Form()
    form.feed(page)
    assert form.method == "post", page
    target = urllib.parse.urljoin(link, form.action)
    body = urllib.parse.urlencode(form.fields).encode()
    request = urllib.request.Request(target, data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return str(response.read().decode())


def follow_again_refused(link: str) -> bool:
    """A used link does nothing the second time: the page says so (410)."""
    request = urllib.request.Request(link, data=b"", method="POST")
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        return error.code == 410
    return False


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def events(detail: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in detail["events"] if e["kind"] == kind]


def steps(detail: dict[str, Any]) -> list[tuple[int, str, list[str]]]:
    """The chain's steps on the incident's timeline: (step, to, people)."""
    return [
        (e["data"]["step"], e["data"]["to"], e["data"]["people"]) for e in events(detail, "page")
    ]


def test_the_on_duty_page_its_link_and_the_chain_on_the_real_stack(
    lab: Any, stack: Stack, mailbox: tuple[Mailbox, int], capsys: pytest.CaptureFixture[str]
) -> None:
    box = mailbox[0]
    # The coordinator sets the roster: a daily rotation sari -> andi, sari's shift since an hour.
    began = (datetime.now(UTC) - timedelta(hours=1)).astimezone(WITA)
    shown = stack.cli(
        "roster", "set", "sari", "andi", "--shift", "daily",
        "--handover", began.strftime("%H:%M"), "--from", began.date().isoformat(),
    )  # fmt: skip
    assert "on duty now: sari" in shown and "next: andi" in shown, shown
    wait_for(
        f"all {NODES} nodes up in Prometheus",
        lambda: stack.value("count(sigap_node_up == 1)") == NODES,
        timeout=60,
    )

    cut_at = time.monotonic()
    for skpd in (CHAIN, TAKEN, TRANSIENT):
        lab.cut(f"uplink-{skpd}")
    try:
        transient = wait_for(
            "an incident for the transient cut",
            lambda: stack.incidents(TRANSIENT),
            INCIDENT_TIMEOUT,
        )[0]
        lab.restore(f"uplink-{TRANSIENT}")  # back before anyone could answer
        chain = wait_for("an incident for dinkes", lambda: stack.incidents(CHAIN), 30)[0]
        taken = wait_for("an incident for disdik", lambda: stack.incidents(TAKEN), 30)[0]
        all_open = time.monotonic()
        opened_took = all_open - cut_at

        # Each opening pages the staff member on duty, and only her.
        for incident in (chain, taken, transient):
            name = NAMES[incident["skpd"]]
            subject = f"[SIGAP #{incident['id']}] Gangguan baru, mohon ditangani: {name}"
            page = wait_for(
                f"sari's page for {incident['skpd']}",
                functools.partial(box.pages, "sari", incident["skpd"]),
                LATE,
                step=0.2,
            )
            assert [str(m["Subject"]) for m in page] == [subject]
        assert box.pages("andi") == box.pages("koord") == []

        # sari takes disdik's from her page: the GET only shows the button, the POST acts.
        link = acknowledge_link(box.pages("sari", TAKEN)[0])
        assert link.startswith(f"{stack.webhook.url}/l/")
        with urllib.request.urlopen(link, timeout=10) as response:
            assert response.status == 200
        assert stack.incident(taken["id"])["holder"] is None  # a look is not an answer
        done = follow(link)
        assert f"#{taken['id']}" in done, done
        taken_detail = stack.incident(taken["id"])
        assert taken_detail["holder"] == "sari"
        assert [e["actor"] for e in events(taken_detail, "acknowledge")] == ["sari"]
        assert follow_again_refused(link)

        # Nobody answers for dinkes: after ack_timeout andi, after as long again koord.
        opened_at = at(chain["opened_at"])
        wait_for("andi's page", lambda: box.pages("andi", CHAIN), ACK_TIMEOUT + LATE, step=0.2)
        assert box.pages("koord", CHAIN) == []
        detail = stack.incident(chain["id"])
        assert steps(detail) == [(2, "next_on_duty", ["andi"])]
        step2 = at(events(detail, "page")[0]["at"]) - opened_at
        assert ACK_TIMEOUT <= step2.total_seconds() <= ACK_TIMEOUT + LATE, step2
        koord = wait_for(
            "koord's page", lambda: box.pages("koord", CHAIN), ACK_TIMEOUT + LATE, step=0.2
        )
        detail = stack.incident(chain["id"])
        assert steps(detail) == [(2, "next_on_duty", ["andi"]), (3, "coordinator", ["koord"])]
        step3 = at(events(detail, "page")[1]["at"]) - at(events(detail, "page")[0]["at"])
        assert ACK_TIMEOUT <= step3.total_seconds() <= ACK_TIMEOUT + LATE, step3
        assert [str(m["Subject"]) for m in box.pages("andi", CHAIN) + koord] == [
            f"[SIGAP #{chain['id']}] Belum ditangani, mohon ditangani: {NAMES[CHAIN]}"
        ] * 2

        # The coordinator takes it from his page's link.
        follow(acknowledge_link(koord[0]))
        acknowledged = time.monotonic()
        detail = stack.incident(chain["id"])
        assert detail["holder"] == "koord"
        [ack] = events(detail, "acknowledge")
        assert ack["actor"] == "koord" and ack["role"] == "coordinator"

        # The transient outage closed itself before anyone answered.
        closed = wait_for(
            "the transient incident closed", lambda: stack.closed(transient["id"]), 30
        )
        assert closed["holder"] is None
        closed_after = at(closed["closed_at"]) - at(transient["opened_at"])
        late_steps = [e for e in events(closed, "page") if at(e["at"]) > at(closed["closed_at"])]
        assert late_steps == []

        # Quiet: by now disdik's and bpkad's chains would have run to the coordinator (twice
        # ack_timeout after their opening), and dinkes's would have gone on.
        time.sleep(max(3 * INTERVAL, all_open + 2 * ACK_TIMEOUT + LATE - time.monotonic()))
        assert steps(stack.incident(taken["id"])) == []
        assert box.pages("andi", TAKEN) == box.pages("koord", TAKEN) == []
        assert steps(stack.incident(chain["id"])) == steps(detail)  # never twice, none after
        assert len(box.pages("andi", CHAIN)) == len(box.pages("koord", CHAIN)) == 1
        final = stack.incident(transient["id"])
        assert final["state"] == "transient" and steps(final) == steps(closed)
        # a step made before the close pages at most once (none if it was planned after)
        late_pages = len(box.pages("andi", TRANSIENT)) + len(box.pages("koord", TRANSIENT))
        assert late_pages <= len(steps(final))
        assert len(box.pages("sari")) == 3
    finally:
        lab.restore()

    # The SOP figure: opening -> first Tangani, for both acknowledged incidents.
    count, total = stack.time_to_acknowledge()
    expected = sum(
        (
            at(events(stack.incident(i["id"]), "acknowledge")[0]["at"]) - at(i["opened_at"])
        ).total_seconds()
        for i in (chain, taken)
    )
    assert count == 2 and total == pytest.approx(expected, abs=0.01)
    assert total > 2 * ACK_TIMEOUT  # dinkes's waited through the whole chain

    with capsys.disabled():
        print(
            f"\npaging e2e: cut -> 3 incidents {opened_took:.1f} s; step 2 after "
            f"{step2.total_seconds():.1f} s, step 3 {step3.total_seconds():.1f} s later "
            f"(ack_timeout {ACK_TIMEOUT:g} s); transient closed {closed_after.total_seconds():.1f} "
            f"s after opening, {len(steps(final))} steps before; quiet "
            f"{time.monotonic() - acknowledged:.0f} s after the ack"
        )
