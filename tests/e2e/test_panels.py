"""End to end: every query of every panel of SIGAP's Grafana dashboards returns data from the real
stack (the exporter probing the lab, Prometheus with the shipped rules, Alertmanager, the webhook),
so that no panel of the NOC wall, the SKPD detail or the SOP figures would show "No data".

To give every panel something true to show, this module runs one working day in small: an uplink
is cut (the NOC tile turns red: Diskominfo's fault), the incident is walked through the whole SOP
with the JSON action API while a staff member is notified by email (a real SMTP server: sent) and
by a chat gateway that is down (failed); a second outage is reported by phone and left waiting in
its stage past its target (overdue). Then each query runs as Grafana runs it: variables
substituted, a range query over the last 10 minutes (an instant query for the panels that show
"now"), and must return at least one number.

The module has its own lab and stack (a notify and escalation config), so it needs no other test
to run first; the rules' first 1-minute evaluation happens while the incident is walked.
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from exporter.inventory import load_inventory
from tests.dashboard_queries import (
    PanelQuery,
    load_dashboards,
    panel_queries,
    render,
    scrape_interval,
    step,
)
from tests.e2e import harness
from tests.e2e.harness import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.root]

Json = dict[str, Any]

CUT_SKPD, CUT_NODE = "dinkes", "uplink-dinkes"
"""The outage walked through the SOP; also the SKPD the detail dashboard is looked at for."""
PHONED_SKPD, PHONED_NODE = "bappeda", "sw-bappeda-core"
"""The outage reported by phone, left overdue in `reported`."""
RANGE = 600.0
"""The dashboards' time range in this test: the last 10 minutes."""
STAFF = "sari"
STAFF_EMAIL = "sari@kominfo.tanahbumbu.example"
SKPD_ADMIN_EMAIL = "admin.dinkes@tanahbumbu.example"


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@dataclass
class Outcome:
    """What the walk did, for the checks of the panels."""

    walked: Json = field(default_factory=dict)
    phoned: Json = field(default_factory=dict)
    results: dict[PanelQuery, list[Json]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), harness.free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def stack(
    lab: object, mailbox: tuple[Mailbox, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[harness.Stack]:
    """The whole stack, the webhook told to notify by email (the SMTP server above) and by a JSON
    gateway nobody listens at (one attempt: failed), and to call `reported` overdue after 5 s."""
    missing = harness.missing_binaries()
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (bash scripts/setup.sh)")
    config = {
        "notify": {
            "smtp": {"host": "127.0.0.1", "port": mailbox[1], "sender": "sigap@kominfo.example"},
            "webhook": {"url": f"http://127.0.0.1:{harness.free_port()}/kirim", "timeout": "2s"},
            "retries": 1,
        },
        "escalation": {"reported": "5s"},
    }
    workdir = tmp_path_factory.mktemp("stack")
    running = harness.Stack(workdir, webhook_config=config)
    try:
        running.start()
        password = "e2e-password-1\n"
        harness.webhook_cli(
            workdir, running.token, "user", "add", STAFF, "--role", "staff",
            "--email", STAFF_EMAIL, "--phone", "+62 812 0000 1111", "--password-stdin",
            stdin=password,
        )  # fmt: skip
        harness.webhook_cli(
            workdir, running.token, "user", "add", "admin-dinkes", "--role", "skpd_admin",
            "--skpd", CUT_SKPD, "--email", SKPD_ADMIN_EMAIL, "--password-stdin", stdin=password,
        )  # fmt: skip
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def outcome() -> Outcome:
    return Outcome()


# --- HTTP -----------------------------------------------------------------------------------------


def call(url: str, body: Json | None = None, token: str | None = None) -> Any:
    """GET (or POST `body` as JSON) and decode the answer; an HTTP error raises with its body."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{request.method} {url}: {error.code} {error.read()!r}") from None


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, **params: str) -> Any:
        """The `data` of an API answer, or (None, the error) for a query Prometheus refuses."""
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=30) as response:
                return json.load(response)["data"]
        except urllib.error.HTTPError as error:
            return None, json.loads(error.read()).get("error", str(error))

    def value(self, promql: str) -> float | None:
        """The single value of an instant query (None when empty)."""
        result = self.get("/api/v1/query", query=promql)["result"]
        return float(result[0]["value"][1]) if result else None


class Webhook:
    def __init__(self, stack: harness.Stack) -> None:
        self.url, self.token = stack.webhook.url, stack.api_token

    def incidents(self, skpd: str) -> list[Json]:
        return list(call(f"{self.url}/api/v1/incidents?skpd={skpd}", token=self.token)["incidents"])

    def incident(self, incident_id: int) -> Json:
        return dict(call(f"{self.url}/api/v1/incidents/{incident_id}", token=self.token))

    def act(self, incident_id: int, action: str, **data: Any) -> Json:
        url = f"{self.url}/api/v1/incidents/{incident_id}/actions/{action}"
        return dict(call(url, data, self.token))

    def report(self, skpd: str, node: str, description: str) -> Json:
        body = {"skpd": skpd, "nodes": [node], "description": description, "reporter": "Telepon"}
        return dict(call(f"{self.url}/api/v1/incidents", body, self.token))


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# --- the dashboards -------------------------------------------------------------------------------

DASHBOARDS = load_dashboards()
QUERIES = [q for d in DASHBOARDS.values() for q in panel_queries(d)]
VARIABLES = {"skpd": CUT_SKPD, "node": ".*"}
"""The SKPD detail looked at for the SKPD that had the outage, all its nodes."""


def find(dashboard: str, panel: str, ref: str = "A") -> PanelQuery:
    return next(q for q in QUERIES if (q.dashboard, q.panel, q.ref) == (dashboard, panel, ref))


def run(prometheus: Prometheus, query: PanelQuery, now: float, scrape: float) -> list[Json] | str:
    """The query as Grafana sends it: its result, or Prometheus' error."""
    expr = render(query, VARIABLES, RANGE, scrape)
    if query.instant:
        data = prometheus.get("/api/v1/query", query=expr, time=f"{now:.3f}")
    else:
        data = prometheus.get(
            "/api/v1/query_range",
            query=expr,
            start=f"{now - RANGE:.3f}",
            end=f"{now:.3f}",
            step=f"{step(query, RANGE, scrape):g}",
        )
    if isinstance(data, tuple):
        return f"Prometheus refused it: {data[1]}"
    return list(data["result"])


def numbers(series: Json) -> list[float]:
    samples = series.get("values") or [series["value"]]
    return [float(v) for _, v in samples]


def has_data(result: list[Json]) -> bool:
    """At least one series with one number that is not NaN: what a panel needs to draw."""
    return any(not math.isnan(v) for s in result for v in numbers(s))


# --- the tests ------------------------------------------------------------------------------------


def test_an_outage_walks_the_whole_sop(
    lab: Any, stack: harness.Stack, mailbox: tuple[Mailbox, int], outcome: Outcome
) -> None:
    prometheus, webhook = Prometheus(stack.prometheus.url), Webhook(stack)
    wait_for(
        "all 92 nodes up in Prometheus",
        lambda: prometheus.value("count(sigap_node_up == 1)") == 92,
        timeout=60,
    )
    status = render(find("sigap-noc", "Status SKPD"), VARIABLES, RANGE, scrape_interval())
    # Green before the cut (a probe lost while the lab settles may show yellow for a moment).
    wait_for(f"the {CUT_SKPD} tile at 0", lambda: _tile_of(prometheus, status, CUT_SKPD) == 0, 60)

    lab.cut(CUT_NODE)
    # The NOC tile of the SKPD turns red, "Putus · tanggung jawab Diskominfo", within seconds.
    wait_for(f"the {CUT_SKPD} tile at 3", lambda: _tile_of(prometheus, status, CUT_SKPD) == 3, 20)
    # The node graph: the inventory's nodes and links, the cut uplink the failure, its branch
    # behind it unreachable, every other node up.
    cut, seen = _graph_of_the_cut(), []
    try:
        wait_for(
            "the node graph of the cut",
            lambda: seen.append(_graph(prometheus)) or seen[-1] == cut,
            20,
        )
    except AssertionError:
        nodes = {k: v for k, v in seen[-1][0].items() if cut[0].get(k) != v}
        raise AssertionError(
            f"the node graph differs: {nodes}, links {seen[-1][1] ^ cut[1]}"
        ) from None
    assert len(cut[0]) == 92 and len(cut[1]) == 91  # each node, each primary parent's link
    opened = wait_for(f"an incident for {CUT_SKPD}", lambda: webhook.incidents(CUT_SKPD), 75)[0]
    incident = opened["id"]
    now = datetime.now(UTC)
    webhook.act(
        incident,
        "confirm",
        reporter="Staf NOC",
        contact_confirmed_with="Admin Dinkes (telepon)",
        complaint="Seluruh kantor Dinkes tidak bisa akses intranet dan internet",
        affected_service="intranet, internet",
        reported_at=iso(now),
    )
    webhook.act(incident, "report", responsibility="diskominfo")
    webhook.act(incident, "dispatch", assignee=STAFF)
    promised = now + timedelta(seconds=40)
    webhook.act(
        incident,
        "estimate",
        findings="Kabel fiber uplink putus di tiang dekat kantor",
        estimated_recovery_at=iso(promised),
    )

    # Meanwhile an SKPD admin phones in a problem in BAPPEDA: reported, then left waiting.
    phoned = webhook.report(PHONED_SKPD, PHONED_NODE, "Switch inti BAPPEDA sering mati sendiri")
    webhook.act(
        phoned["id"],
        "confirm",
        reporter="Admin BAPPEDA",
        contact_confirmed_with="Admin BAPPEDA",
        complaint="Switch inti sering mati",
        affected_service="intranet",
        reported_at=iso(now),
    )
    webhook.act(phoned["id"], "report", responsibility="skpd")

    lab.restore(CUT_NODE)
    wait_for(
        f"{CUT_SKPD} recovered", lambda: webhook.incident(incident)["recovered_at"], timeout=75
    )
    webhook.act(incident, "forward")
    webhook.act(incident, "order_repair")
    ended = datetime.now(UTC)
    webhook.act(
        incident,
        "repair",
        findings="Kabel fiber uplink putus",
        actions_taken="Penyambungan ulang (splicing) kabel fiber",
        repair_started_at=iso(now),
        repair_ended_at=iso(ended),
        result="Koneksi Dinkes normal kembali",
    )
    closed = webhook.act(incident, "close")
    assert closed["state"] == "closed", closed
    assert webhook.incident(phoned["id"])["state"] == "reported"
    outcome.walked, outcome.phoned = webhook.incident(incident), webhook.incident(phoned["id"])

    box, _port = mailbox
    wait_for(
        "an email to the staff member",
        lambda: any(m["To"] == STAFF_EMAIL for m in box.messages),
        30,
    )


def _tile_of(prometheus: Prometheus, status: str, skpd: str) -> float | None:
    """The value of one SKPD's tile in the NOC's status query."""
    result = prometheus.get("/api/v1/query", query=status)["result"]
    values = {s["metric"].get("skpd"): float(s["value"][1]) for s in result}
    return values.get(skpd)


Graph = tuple[dict[str, tuple[str, str]], set[tuple[str, str, str]]]


def _graph(prometheus: Prometheus) -> Graph:
    """The NOC's node graph as its two queries return it: node -> (state, colour), and the
    links (source, target, colour)."""
    now, scrape = time.time(), scrape_interval()
    frames = [run(prometheus, find("sigap-noc", "Peta jaringan", ref), now, scrape) for ref in "AB"]
    assert all(isinstance(f, list) for f in frames), frames
    nodes, edges = ([s["metric"] for s in f] for f in frames)
    return (
        {m["id"]: (m["mainstat"], m["color"]) for m in nodes},
        {(m["source"], m["target"], m["color"]) for m in edges},
    )


def _graph_of_the_cut() -> Graph:
    """What the inventory says the graph is while CUT_NODE is cut."""
    inventory = load_inventory(harness.INVENTORY, resolve=None)
    behind = {n.id for n in inventory.descendants(CUT_NODE)}

    def state(node: str) -> tuple[str, str]:
        if node == CUT_NODE:
            return "Mati", "#c62828"
        return ("Hulu putus", "#ef9a9a") if node in behind else ("Hidup", "#2e7d32")

    dark = behind | {CUT_NODE}
    return (
        {n: state(n) for n in inventory.nodes},
        {
            (n.parent, n.id, "#c62828" if n.id in dark else "#90a4ae")
            for n in inventory.nodes.values()
            if n.parent is not None
        },
    )


def test_every_panel_query_returns_data(
    stack: harness.Stack, outcome: Outcome, capsys: pytest.CaptureFixture[str]
) -> None:
    assert outcome.walked, "the SOP walk did not run"
    prometheus = Prometheus(stack.prometheus.url)
    # The webhook is scraped every 15 s and the rules run every minute: wait until Prometheus
    # has the walk's figures and the first availability.
    figures = {
        "a close timed": 'sum(sigap_incident_time_to_stage_seconds_count{stage="close"})',
        "an estimate checked": "sum(sigap_incident_estimate_error_seconds_count)",
        "a notification sent": 'sum(sigap_notifications_total{status="sent"})',
        "a notification failed": 'sum(sigap_notifications_total{status="failed"})',
        "an overdue stage": "sum(max by (stage, skpd) (sigap_incident_overdue))",
        "downtime counted": f'sum(sigap_incident_downtime_seconds_total{{skpd="{CUT_SKPD}"}})',
        "availability recorded": "count(sigap:skpd_connection_availability:ratio_30d)",
        # the internal network counts only minutes with the connection whole: after the cut
        "internal availability recorded": (
            f'count(sigap:skpd_internal_availability:ratio_30d{{skpd="{CUT_SKPD}"}})'
        ),
    }

    def positive(promql: str) -> Callable[[], bool]:
        return lambda: (prometheus.value(promql) or 0) > 0

    for what, promql in figures.items():
        wait_for(f"{what} in Prometheus", positive(promql), 150)

    # The variables' own queries, as Grafana resolves them.
    skpds = prometheus.get("/api/v1/label/skpd/values", **{"match[]": "sigap_node_up"})
    assert CUT_SKPD in skpds and "core" in skpds, skpds
    nodes = prometheus.get(
        "/api/v1/label/node/values", **{"match[]": f'sigap_node_up{{skpd="{CUT_SKPD}"}}'}
    )
    assert CUT_NODE in nodes, nodes

    now, scrape = time.time(), scrape_interval()
    failed, idle = [], 0
    for query in QUERIES:
        result = run(prometheus, query, now, scrape)
        # Maintenance windows are marked only while one runs (none does here): the query must
        # run, and the maintenance tests check the series it reads.
        if query.panel == "annotation: Pemeliharaan" and not isinstance(result, str):
            idle += 1
            continue
        if isinstance(result, str) or not has_data(result):
            expr = render(query, VARIABLES, RANGE, scrape)
            failed.append(f"{query.where()}: {result or 'no data'}\n    {expr}")
        else:
            outcome.results[query] = result
    panels = {(q.dashboard, q.panel) for q in QUERIES if q.ref != "-"}
    with capsys.disabled():
        print(
            f"\ndashboards: {len(QUERIES) - len(failed) - idle} of {len(QUERIES)} queries "
            f"({len(panels)} panels and the annotations of {len(DASHBOARDS)} dashboards) "
            f"returned data; {idle} maintenance annotation(s) ran, empty while no window runs"
        )
    assert not failed, "panels that would show No data:\n" + "\n".join(failed)


def test_the_panels_show_what_happened(outcome: Outcome) -> None:
    """Data, and the right data: the figures of the walk are on the panels."""
    assert outcome.results, "the queries did not run"

    def result(dashboard: str, panel: str, ref: str = "A") -> list[Json]:
        return outcome.results[find(dashboard, panel, ref)]

    def by(label: str, series: list[Json]) -> dict[str, list[float]]:
        return {s["metric"].get(label, ""): numbers(s) for s in series}

    # NOC: the SKPD's history shows it red (Diskominfo's fault); the phoned outage is listed
    # open in its stage with the SKPD's responsibility.
    assert 3 in by("skpd", result("sigap-noc", "Riwayat status SKPD"))[CUT_SKPD]
    rows = [s["metric"] for s in result("sigap-noc", "Daftar insiden terbuka")]
    assert {"skpd": PHONED_SKPD, "tahap": "4 Dilaporkan", "responsibility": "skpd"} in rows, rows
    # SKPD detail: the cut node went down and came back.
    history = by("node", result("sigap-skpd", "Riwayat hidup/mati"))[CUT_NODE]
    assert 0 in history and history[-1] == 1, history
    # SOP: two incidents opened, the walk's stages timed, the estimate checked, a notification
    # failed, the phoned outage overdue in `reported`.
    assert by("", result("sigap-sop", "Insiden dibuka"))[""][-1] >= 2
    for panel in ("Sampai konfirmasi (F-01)", "Sampai ditutup"):
        assert by("", result("sigap-sop", panel))[""][-1] > 0, panel
    assert by("", result("sigap-sop", "Notifikasi gagal"))[""][-1] >= 1
    assert by("", result("sigap-sop", "Total waktu gangguan"))[""][-1] > 0
    late = [s["metric"] for s in result("sigap-sop", "Daftar tahap terlambat")]
    assert {"skpd": PHONED_SKPD, "tahap": "4 Dilaporkan"} in late, late
    accuracy = by(
        "responsibility", result("sigap-sop", "Akurasi estimasi menurut tanggung jawab", "D")
    )
    assert accuracy.get("diskominfo") == [1.0], accuracy
