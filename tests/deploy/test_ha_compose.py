"""The highly available stack (docker-compose.ha.yml), checked without a Docker engine: valid
Compose; the two Prometheus configs identical but for `replica`, which alerts do not carry;
every host a config names is a service listening there; the Alertmanagers a cluster the webhook
asks in full; and the long-term store (Thanos) wired to both Prometheus with 13 months kept.
The Prometheus and Alertmanager configs are the very files tests/e2e/test_ha.py runs."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy import test_compose as single

ROOT = Path(__file__).resolve().parents[2]
HA_COMPOSE = ROOT / "docker-compose.ha.yml"
PROMETHEUS = {r: ROOT / "deploy" / "prometheus" / f"prometheus-ha-{r}.yml" for r in ("a", "b")}
ALERTMANAGER = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
BUCKET = ROOT / "deploy" / "thanos" / "bucket.yml"
KEPT_GOAL = 14 * 31 * 86400
"""Thirteen whole months before the month in progress, and that month."""

Json = dict[str, Any]


def raw() -> Json:
    data: Json = yaml.safe_load(HA_COMPOSE.read_text())
    return data


def services() -> dict[str, Json]:
    data: dict[str, Json] = single.interpolated(raw(), single.operator_env())["services"]
    return data


def running(name: str) -> list[str]:
    """The services that run `name` (a sigap-* script or an image without its tag)."""
    return sorted(s for s, service in services().items() if single.runs(service) == name)


def listen_port(service: Json) -> int:
    address = single.flag(service, "--web.listen-address") or single.flag(service, "--http-address")
    assert address is not None, "no listen address"
    return int(address.rsplit(":", 1)[1])


def grpc_port(service: Json) -> int:
    address = single.flag(service, "--grpc-address")
    assert address is not None
    return int(address.rsplit(":", 1)[1])


def assert_serves(address: str, names: list[str], port_of: Any = listen_port) -> str:
    """`address` (host:port or URL) is one of the services `names`, at its port; its name."""
    host, port = single.host_port(address)
    assert host in names, f"{address}: {host!r} is none of {names}"
    assert port == port_of(services()[host]), f"{address}: {host} listens elsewhere"
    return host


def thanos(role: str) -> dict[str, Json]:
    return {
        name: service
        for name, service in services().items()
        if single.runs(service) == "quay.io/thanos/thanos" and single.command(service)[0] == role
    }


def _seconds(duration: str) -> int:
    """A Thanos retention (``400d``, ``13w``, ``0d``: forever is refused here)."""
    match = re.fullmatch(r"(\d+)([smhdwy])", duration)
    assert match, f"{duration!r}: expected e.g. 400d"
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
    return int(match[1]) * units[match[2]]


def test_follows_the_compose_specification_and_mounts_what_exists() -> None:
    assert single.schema_errors(raw()) == []
    interpolated = single.interpolated(raw(), single.operator_env())
    assert single.schema_errors(interpolated) == []
    broken = copy.deepcopy(interpolated)
    broken["services"]["webhook-a"]["networks"] = {"default": {"aliases": "webhook"}}
    assert single.schema_errors(broken), "the schema refuses what compose refuses"
    used = set(single.variables_in(HA_COMPOSE.read_text()))
    assert used <= set(single.env_example()), "a variable .env.example does not document"
    for name, service in services().items():
        assert service.get("restart") == "unless-stopped", name
        for mount in single.mounts(service):
            if mount.bind:
                assert Path(mount.source).exists(), f"{name}: {mount.source}"
            else:
                assert mount.source in interpolated["volumes"], f"{name}: {mount.source}"


def test_two_of_every_part_but_postgresql() -> None:
    assert len(running("sigap-exporter")) == 2
    assert len(running("sigap-webhook")) == 2
    assert len(running("prom/prometheus")) == 2
    assert len(running("prom/alertmanager")) == 2
    assert running("postgres") == ["postgres"]


def test_the_prometheus_pair_differs_only_in_replica_and_alerts_drop_it() -> None:
    a, b = (yaml.safe_load(path.read_text()) for path in PROMETHEUS.values())
    assert a["global"]["external_labels"]["replica"] == "a"
    assert b["global"]["external_labels"]["replica"] == "b"
    b["global"]["external_labels"]["replica"] = "a"
    assert a == b
    drops = a["alerting"]["alert_relabel_configs"]
    dropped = [r for r in drops if r.get("action") == "labeldrop"]
    assert any(re.fullmatch(r["regex"], "replica") for r in dropped)
    kept = set(a["global"]["external_labels"]) - {"replica"}
    assert not any(re.fullmatch(r["regex"], label) for r in dropped for label in kept)
    # as the single chain otherwise: the same rules and timings
    shipped = yaml.safe_load(single.harness.PROMETHEUS_CONFIG.read_text())
    assert a["rule_files"] == shipped["rule_files"]
    for key in ("scrape_interval", "evaluation_interval"):
        assert a["global"][key] == shipped["global"][key]


@pytest.mark.parametrize("replica", ["a", "b"])
def test_promtool_accepts_each_prometheus(replica: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    result = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS[replica])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_prometheus_runs_its_file_and_reaches_every_replica_of_every_part() -> None:
    for replica, path in PROMETHEUS.items():
        name = f"prometheus-{replica}"
        assert single.mount_source(services()[name], "/etc/prometheus/prometheus.yml") == path
        config = yaml.safe_load(path.read_text())
        jobs = {job["job_name"]: job for job in config["scrape_configs"]}
        for job, what in [
            ("sigap-exporter", "sigap-exporter"),
            ("sigap-webhook", "sigap-webhook"),
            ("prometheus", "prom/prometheus"),
        ]:
            targets = [t for group in jobs[job]["static_configs"] for t in group["targets"]]
            hosts = {assert_serves(t, running(what)) for t in targets}
            assert hosts == set(running(what)), f"{name}, job {job}: not every replica"
        alertmanagers = [
            t
            for am in config["alerting"]["alertmanagers"]
            for group in am["static_configs"]
            for t in group["targets"]
        ]
        assert {assert_serves(t, running("prom/alertmanager")) for t in alertmanagers} == set(
            running("prom/alertmanager")
        ), "each Prometheus alerts every Alertmanager"


def test_the_alertmanagers_are_one_cluster_notifying_the_webhook_pair() -> None:
    members = running("prom/alertmanager")
    gossip = {}
    for name in members:
        service = services()[name]
        assert single.mount_source(service, "/etc/alertmanager/alertmanager.yml") == ALERTMANAGER
        listen = single.flag(service, "--cluster.listen-address")
        assert listen, f"{name}: no cluster port"
        gossip[name] = int(listen.rsplit(":", 1)[1])
    for name in members:
        peers = [a.split("=", 1)[1] for a in single.command(services()[name]) if "peer=" in a]
        others = {single.host_port(p) for p in peers}
        assert others == {(m, gossip[m]) for m in members if m != name}, name
    # the one address of alertmanager.yml is an alias both webhook replicas answer to
    config = yaml.safe_load(ALERTMANAGER.read_text())
    hooks = [h["url"] for r in config["receivers"] for h in r.get("webhook_configs", [])]
    for url in hooks:
        host, port = single.host_port(url)
        for name in running("sigap-webhook"):
            service = services()[name]
            assert host in service["networks"]["default"]["aliases"], name
            assert port == listen_port(service)


def test_the_webhooks_ask_every_alertmanager_and_share_postgresql() -> None:
    webhooks = running("sigap-webhook")
    environments = [single.environment(services()[name]) for name in webhooks]
    assert environments[0] == environments[1], "the replicas must be configured alike"
    env = environments[0]
    urls = env["SIGAP_ALERTMANAGER_URL"].split(",")
    assert {assert_serves(u, running("prom/alertmanager")) for u in urls} == set(
        running("prom/alertmanager")
    )
    assert len(env["SIGAP_ALERTMANAGER_URL"].split(",")) == 2
    assert urlsplit(env["SIGAP_DATABASE_URL"]).hostname == "postgres"
    # the monthly report reads the deduplicated long-term view
    assert_serves(env["SIGAP_PROMETHEUS_URL"], list(thanos("query")))


def test_secrets_reach_the_services_only_as_files_and_compose_requires_them() -> None:
    single.assert_secrets_only_as_files(raw())


def test_both_webhooks_get_every_secret_from_their_files(tmp_path: Path) -> None:
    single.assert_webhook_starts_with_its_secrets(
        single.interpolated(raw(), single.operator_env()), tmp_path
    )


def test_thanos_keeps_13_months_of_both_prometheus() -> None:
    bucket = yaml.safe_load(BUCKET.read_text())
    assert set(bucket) == {"type", "config"} and bucket["type"] == "FILESYSTEM"
    directory = bucket["config"]["directory"]
    sidecars = thanos("sidecar")
    assert len(sidecars) == 2
    prometheus_of = {}
    for name, sidecar in sidecars.items():
        url = single.flag(sidecar, "--prometheus.url")
        assert url is not None
        target = assert_serves(url, running("prom/prometheus"))
        prometheus_of[name] = target
        prometheus = services()[target]
        # the sidecar reads the TSDB Prometheus writes: the same volume at its --tsdb.path
        tsdb = single.flag(prometheus, "--storage.tsdb.path")
        volume = {m.target: m.source for m in single.mounts(prometheus)}[tsdb]
        assert {m.target: m.source for m in single.mounts(sidecar)}[
            single.flag(sidecar, "--tsdb.path")
        ] == volume, f"{name} does not see {target}'s TSDB"
        # Thanos uploads uncompacted 2-hour blocks
        assert single.flag(prometheus, "--storage.tsdb.min-block-duration") == "2h"
        assert single.flag(prometheus, "--storage.tsdb.max-block-duration") == "2h"
    assert sorted(prometheus_of.values()) == running("prom/prometheus")
    for name, service in {**sidecars, **thanos("store"), **thanos("compact")}.items():
        assert single.flag(service, "--objstore.config-file") == "/etc/thanos/bucket.yml"
        assert single.mount_source(service, "/etc/thanos/bucket.yml") == BUCKET
        assert directory in {m.target for m in single.mounts(service)}, f"{name}: no bucket"
    # the query merges the pair on the one label in which they differ
    ((query_name, query),) = thanos("query").items()
    assert single.flag(query, "--query.replica-label") == "replica"
    endpoints = [a.split("=", 1)[1] for a in single.command(query) if "--endpoint=" in a]
    stores = {**sidecars, **thanos("store")}
    assert {assert_serves(e, list(stores), grpc_port) for e in endpoints} == set(stores)
    # ... and the compactor keeps 13 months, deduplicating the pair's blocks
    ((_, compact),) = thanos("compact").items()
    assert single.flag(compact, "--deduplication.replica-label") == "replica"
    kept = max(
        _seconds(single.flag(compact, f"--retention.resolution-{r}") or "0s")
        for r in ("raw", "5m", "1h")
    )
    assert kept >= KEPT_GOAL
    # Grafana asks the query, under the uid the dashboards use
    grafana = services()[running("grafana/grafana")[0]]
    source = single.mount_source(grafana, "/etc/grafana/provisioning/datasources")
    (datasource,) = yaml.safe_load((source / "sigap.yml").read_text())["datasources"]
    assert datasource["uid"] == "sigap-prometheus"
    assert assert_serves(datasource["url"], [query_name]) == query_name
