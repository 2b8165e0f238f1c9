"""The highly available chain, end to end and for real, with its parts killed: two exporters, two
Prometheus (deploy/prometheus/prometheus-ha-{a,b}.yml), two Alertmanagers in a cluster on
loopback (deploy/alertmanager/alertmanager.yml, as shipped), two webhook replicas sharing one
address (SO_REUSEPORT) on one real PostgreSQL; beside it the single chain (tests/e2e/harness.py's
Stack) watching the same lab, so both time the same cuts.

Four rounds, each an outage during which one part of a kind is SIGKILLed (exporter, Prometheus,
Alertmanager, webhook replica) a few seconds after the cut and started again once the incident
is seen. Each outage must still become exactly one incident with the right responsibility, its
escalation message sent once, within 15 s of the single chain's cut -> incident time.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e import harness
from tests.e2e.harness import Service, Stack, wait_for
from tests.pgserver import pgserver

pytestmark = [pytest.mark.e2e, pytest.mark.root]

HA_PROMETHEUS = {r: harness.DEPLOY / "prometheus" / f"prometheus-ha-{r}.yml" for r in "ab"}
SLOWER_BY_AT_MOST = 15.0
INCIDENT_TIMEOUT = 90.0
KILL_AFTER = 8.0
"""Seconds after the cut: the exporters have seen it, no alert has fired yet (~23 s)."""
DK = "diskominfo"
ROUNDS = [  # the kind killed, and the outages during which it dies: (SKPD, node, owner)
    ("exporter", [("dinkes", "uplink-dinkes", DK), ("rsud", "sw-rsud-core", "skpd")]),
    ("prometheus", [("setda", "uplink-setda", DK), ("bpkad", "uplink-bpkad", DK)]),
    ("alertmanager", [("bapenda", "uplink-bapenda", DK), ("disdik", "gw-disdik", DK)]),
    ("webhook", [("disdukcapil", "uplink-disdukcapil", DK), ("dpmptsp", "uplink-dpmptsp", DK)]),
]
VICTIMS = {"exporter": "exporter-a", "prometheus": "prom-a", "alertmanager": "am-a"}
ESCALATE_AFTER = "20s"
"""The `opened` stage's target: every incident is escalated (one message) while the test runs."""


class Messages(ThreadingHTTPServer):
    """The chat gateway of `notify.webhook`: keeps every message it is sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                outer.received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/send"


class HaChain:
    """The HA chain's processes; `restart(kind)` starts again what `kill(kind)` killed."""

    def __init__(self, workdir: Path, database_url: str, token: str, chat: str) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.token = token
        self.chat = chat
        names = ("webhook", "am-a", "am-b", "prom-a", "prom-b", "exporter-a", "exporter-b")
        self.ports = {name: harness.free_port() for name in names}
        self.gossip = {name: harness.free_port() for name in ("am-a", "am-b")}
        self.services: dict[str, Service] = {}
        self.url = f"http://127.0.0.1:{self.ports['webhook']}"

    def start(self) -> None:
        for name in (
            "webhook-a",
            "webhook-b",
            "am-a",
            "am-b",
            "exporter-a",
            "exporter-b",
            "prom-a",
            "prom-b",
        ):
            self.restart(name)

    def dir(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(exist_ok=True)
        return path

    def webhook_env(self) -> dict[str, str]:
        return harness.webhook_env(
            self.workdir,
            self.token,
            SIGAP_DATABASE_URL=self.database_url,
            SIGAP_ALERTMANAGER_URL=f"http://127.0.0.1:{self.ports['am-a']},http://127.0.0.1:{self.ports['am-b']}",
            SIGAP_PING_CHECK="false",
            # short outages stay open (recovered, awaiting F-04) and so get escalated
            SIGAP_TRANSIENT_WINDOW="1s",
        )

    def restart(self, name: str) -> None:
        workdir = self.dir(name)
        if name.startswith("webhook"):
            config = workdir / "webhook.yml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "notify": {"webhook": {"url": self.chat}},
                        "escalation": {"opened": ESCALATE_AFTER},
                    }
                )
            )
            address = f"127.0.0.1:{self.ports['webhook']}"
            argv = [harness.which(harness.WEBHOOK) or harness.WEBHOOK, f"--config.file={config}",
                    f"--web.listen-address={address}", "--web.reuse-port"]  # fmt: skip
            service = harness.start(
                name, argv, workdir=workdir, url=self.url, env=self.webhook_env()
            )
        elif name.startswith("am"):
            token_file = workdir / "token"
            token_file.write_text(self.token)
            config = workdir / "alertmanager.yml"
            config.write_text(
                yaml.safe_dump(
                    harness.alertmanager_config(webhook_url=self.url, token_file=token_file)
                )
            )
            other = "am-b" if name == "am-a" else "am-a"
            argv = [
                harness.which(harness.ALERTMANAGER) or harness.ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.ports[name]}",
                f"--cluster.listen-address=127.0.0.1:{self.gossip[name]}",
                f"--cluster.advertise-address=127.0.0.1:{self.gossip[name]}",
                f"--cluster.peer=127.0.0.1:{self.gossip[other]}",
            ]
            service = harness.start(
                name, argv, workdir=workdir, url=f"http://127.0.0.1:{self.ports[name]}"
            )
        elif name.startswith("exporter"):
            port = self.ports[name]  # the same after a restart: Prometheus scrapes it there
            argv = [harness.which(harness.EXPORTER) or harness.EXPORTER,
                    f"--config.file={harness.INVENTORY}",
                    f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip
            service = harness.start(name, argv, workdir=workdir, url=f"http://127.0.0.1:{port}")
        else:
            replica = name[-1]
            config = workdir / "prometheus.yml"
            config.write_text(self.prometheus_config(replica))
            port = self.ports[name]
            argv = [harness.which(harness.PROMETHEUS) or harness.PROMETHEUS,
                    f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip
            service = harness.start(name, argv, workdir=workdir, url=f"http://127.0.0.1:{port}")
        self.services[name] = service

    def prometheus_config(self, replica: str) -> str:
        """The shipped HA file with its compose hosts replaced by this run's addresses."""
        hosts = {
            "exporter-a:9427": f"127.0.0.1:{self.ports['exporter-a']}",
            "exporter-b:9427": f"127.0.0.1:{self.ports['exporter-b']}",
            "webhook-a:9428": f"127.0.0.1:{self.ports['webhook']}",
            "webhook-b:9428": f"127.0.0.1:{self.ports['webhook']}",
            "alertmanager-a:9093": f"127.0.0.1:{self.ports['am-a']}",
            "alertmanager-b:9093": f"127.0.0.1:{self.ports['am-b']}",
            "prometheus-a:9090": f"127.0.0.1:{self.ports['prom-a']}",
            "prometheus-b:9090": f"127.0.0.1:{self.ports['prom-b']}",
        }
        config = yaml.safe_load(HA_PROMETHEUS[replica].read_text())
        config["rule_files"] = [
            str(HA_PROMETHEUS[replica].parent / p) for p in config["rule_files"]
        ]
        for job in config["scrape_configs"] + config["alerting"]["alertmanagers"]:
            for group in job["static_configs"]:
                group["targets"] = sorted({hosts[t] for t in group["targets"]})
        return yaml.safe_dump(config)

    def kill(self, name: str) -> None:
        process = self.services[name].process
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()

    def api(self, path: str, token: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def cli(self, *args: str, stdin: str | None = None) -> str:
        env = {**os.environ, **self.webhook_env()}
        argv = [harness.which(harness.WEBHOOK) or harness.WEBHOOK, "--log.level", "warning", *args]
        done = subprocess.run(
            argv, env=env, input=stdin, capture_output=True, text=True, check=True
        )
        return done.stdout


@pytest.fixture(scope="module")
def chains(
    lab: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, HaChain, Messages]]:
    missing = harness.missing_binaries()
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (bash scripts/setup.sh)")
    messages = Messages()
    threading.Thread(target=messages.serve_forever, daemon=True).start()
    with pgserver() as pg:
        single = Stack(tmp_path_factory.mktemp("single"))
        ha = HaChain(
            tmp_path_factory.mktemp("ha"), pg.create_database("ha"), single.token, messages.url
        )
        try:
            single.start()
            ha.start()
            yield single, ha, messages
        finally:
            ha.stop()
            single.stop()
            messages.shutdown()


def _query(url: str, promql: str) -> list[Any]:
    with urllib.request.urlopen(
        f"{url}/api/v1/query?query={urllib.parse.quote(promql)}", timeout=10
    ) as r:
        return list(json.load(r)["data"]["result"])


def test_each_outage_one_incident_while_parts_die(
    lab: Any, chains: tuple[Stack, HaChain, Messages], capsys: pytest.CaptureFixture[str]
) -> None:
    single, ha, messages = chains
    ha.cli("user", "add", "koordinator", "--role", "coordinator", "--phone", "081200000001",
           "--password-stdin", stdin="e2e-password-0\n")  # fmt: skip
    ha.cli(
        "user", "add", "e2e", "--role", "coordinator", "--password-stdin", stdin="e2e-password-0\n"
    )
    token = ha.cli("token", "create", "e2e").strip().splitlines()[-1]
    for prometheus in ("prom-a", "prom-b"):
        wait_for(
            f"{prometheus}: all 92 nodes up, from both exporters",
            lambda p=prometheus: _query(ha.services[p].url, "count(sigap_node_up == 1) == 184"),
            timeout=90,
        )
    wait_for("the Alertmanager cluster", lambda: _peers(ha.services["am-a"].url) == 2, 30)

    def incidents(base: str, api_token: str, skpd: str) -> list[dict[str, Any]]:
        request = urllib.request.Request(
            f"{base}/api/v1/incidents?skpd={skpd}", headers={"Authorization": f"Bearer {api_token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return list(json.load(response)["incidents"])

    figures: list[tuple[str, str, float, float]] = []  # (killed, skpd, single s, ha s)
    lock = threading.Lock()
    opened: dict[str, int] = {}

    for killed, outages in ROUNDS:
        # a webhook replica: the one that leads, so that the loops must move too
        victim = _leader(ha) if killed == "webhook" else VICTIMS[killed]

        def outage(skpd: str, node: str) -> tuple[str, float, float]:
            cut_at = time.monotonic()
            with lock:
                lab.cut(node)
            times: dict[str, float] = {}

            def seen() -> bool:
                for which, base, api_token in [
                    ("single", single.webhook.url, single.api_token),
                    ("ha", ha.url, token),
                ]:
                    try:
                        found = which not in times and incidents(base, api_token, skpd)
                    except OSError:  # a request to the replica being killed: ask again
                        continue
                    if found:
                        times[which] = time.monotonic() - cut_at
                return len(times) == 2

            wait_for(f"an incident for {skpd} in both chains", seen, INCIDENT_TIMEOUT, 0.25)
            return skpd, times["single"], times["ha"]

        with ThreadPoolExecutor(len(outages)) as pool:
            jobs = [pool.submit(outage, skpd, node) for skpd, node, _ in outages]
            time.sleep(KILL_AFTER)
            ha.kill(victim)
            results = [job.result() for job in jobs]
        ha.restart(victim)
        time.sleep(12)  # a second incident would show up by now (group_interval 10 s)
        for (skpd, node, owner), (_, single_s, ha_s) in zip(outages, results, strict=True):
            found = incidents(ha.url, token, skpd)
            assert len(found) == 1, (killed, found)
            detail = ha.api(f"/api/v1/incidents/{found[0]['id']}", token)
            assert detail["responsibility"] == owner, (killed, detail)
            assert {a["labels"]["node"] for a in detail["alerts"]} == {node}, detail["alerts"]
            assert [e["kind"] for e in detail["events"]].count("opened") == 1
            opened[skpd] = found[0]["id"]
            figures.append((killed, skpd, single_s, ha_s))
            with lock:
                lab.restore(node)

    with capsys.disabled():
        print("\ncut -> incident (s), single chain vs HA chain with one part SIGKILLed:")
        for killed, skpd, single_s, ha_s in figures:
            print(
                f"  {killed:<12} {skpd:<12} single {single_s:5.1f}  HA {ha_s:5.1f}"
                f"  (+{ha_s - single_s:4.1f})"
            )
        singles = [f[2] for f in figures]
        has = [f[3] for f in figures]
        print(
            f"  median: single {statistics.median(singles):.1f} s, "
            f"HA {statistics.median(has):.1f} s; "
            f"worst: single {max(singles):.1f} s, HA {max(has):.1f} s"
        )
    # every outage recovers, in the record of both chains; each incident escalated exactly once
    # (a message to the coordinator), by whichever replica led at the time
    for _, outages in ROUNDS:
        for skpd, _node, _owner in outages:
            wait_for(
                f"{skpd} recovered",
                lambda s=skpd: [i for i in incidents(ha.url, token, s) if i["recovered_at"]],
                90,
            )
    wait_for(
        "an escalation of every incident",
        lambda: all(
            "escalate" in [e["kind"] for e in ha.api(f"/api/v1/incidents/{i}", token)["events"]]
            for i in opened.values()
        ),
        130,
        2,
    )
    time.sleep(2)
    for skpd, incident_id in opened.items():
        kinds = [e["kind"] for e in ha.api(f"/api/v1/incidents/{incident_id}", token)["events"]]
        assert kinds.count("escalate") == 1, (skpd, kinds)
        assert len(incidents(ha.url, token, skpd)) == 1, skpd
    # (the gateway gets the number as entered, in E.164: webhook.core.phones)
    escalations = [m for m in messages.received if m["to"] == "+6281200000001"]
    texts = [m["text"] for m in escalations]
    assert len(texts) == len(set(texts)) == len(opened), texts
    with capsys.disabled():
        print(f"  {len(escalations)} escalation messages for {len(opened)} incidents")

    for killed, skpd, single_s, ha_s in figures:
        assert ha_s - single_s <= SLOWER_BY_AT_MOST, (killed, skpd, single_s, ha_s)


def _peers(url: str) -> int:
    with urllib.request.urlopen(f"{url}/api/v2/status", timeout=5) as response:
        return len(json.load(response)["cluster"].get("peers") or [])


def _leader(ha: HaChain) -> str:
    """The webhook replica whose lease is held (each replica's own /metrics, by its log file)."""
    for name in ("webhook-a", "webhook-b"):
        if "leading: background work runs here" in ha.services[name].log.read_text(
            errors="replace"
        ):
            return name
    raise AssertionError("no webhook replica leads")
