"""SIGAP's Grafana dashboards and their provisioning, checked without Grafana: the files are what
deploy/grafana/generate.py makes, every dashboard has its stable uid and the `datasource`
variable that every panel, query and annotation uses, the panels fit the grid, no query names an
instance or a host, every variable a query uses exists, every metric a query reads is one SIGAP
publishes, and every query parses (promtool, after Grafana's variables are substituted).

That every query also returns data is tests/e2e/test_panels.py, on a live stack.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from exporter.inventory import load_inventory
from tests.dashboard_queries import (
    DASHBOARDS,
    DATASOURCES,
    GRAFANA,
    duration,
    load_dashboards,
    panel_queries,
    panels,
    render,
    scrape_interval,
)
from webhook.core.workflow import OPEN_STATES, State
from webhook.services.metrics import WebhookMetrics

ROOT = Path(__file__).resolve().parents[2]

Json = dict[str, Any]

UIDS = {
    "sigap-noc.json": "sigap-noc",
    "sigap-skpd.json": "sigap-skpd",
    "sigap-sop.json": "sigap-sop",
}
DS = {"type": "prometheus", "uid": "${datasource}"}
SAMPLE_VARIABLES = {"skpd": "dinkes", "node": ".*"}
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
RECORDING_RULES = ROOT / "deploy" / "prometheus" / "rules" / "sigap-recording.yml"
README = ROOT / "README.md"

_METRIC = re.compile(r"(?<![\w:\"])(?:sigap[_:][\w:]*|ALERTS)\b(?!\s*\()")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_HOST_PORT = re.compile(r"\b[\w.-]+:\d{2,5}\b")
_INSTANCE_MATCHER = re.compile(r"\binstance\s*(=|!=|=~|!~)")


def load_generator() -> ModuleType:
    """deploy/ is no package: load deploy/grafana/generate.py by path."""
    spec = importlib.util.spec_from_file_location("sigap_grafana_generate", GRAFANA / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DASHBOARD_FILES = load_dashboards()
QUERIES = [q for d in DASHBOARD_FILES.values() for q in panel_queries(d)]


def known_metrics() -> set[str]:
    """What SIGAP publishes: the exporter's contract (README), the recording rules, the webhook's
    registry, and Prometheus' ALERTS."""
    names: set[str] = set()
    for row in README.read_text(encoding="utf-8").splitlines():
        listed = re.findall(r"`(sigap_[a-z_]+)", row)
        names |= set(listed)
        if "| histogram |" in row:
            names |= {f"{n}_{s}" for n in listed for s in ("bucket", "sum", "count")}
    rules = yaml.safe_load(RECORDING_RULES.read_text(encoding="utf-8"))
    names |= {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    registry = CollectorRegistry()
    WebhookMetrics(registry)
    for family in registry.collect():
        names.add(family.name)
        names |= {sample.name for sample in family.samples}
        if family.type == "counter":
            names.add(f"{family.name}_total")
        if family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count")}
    return names | {"ALERTS"}


def test_the_committed_dashboards_are_what_the_generator_makes() -> None:
    assert load_generator().main(["--check"]) == 0, "run python deploy/grafana/generate.py"


def test_the_generator_knows_every_stage_and_role() -> None:
    generator = load_generator()
    open_stages = [s.value for s in State if s in OPEN_STATES]
    assert [stage for stage, _ in generator.OPEN_STAGES] == open_stages
    from webhook.core.figures import TIMED_STAGES

    assert [stage for stage, _ in generator.TIMED_STAGES] == list(TIMED_STAGES)


def test_every_dashboard_has_its_stable_uid_and_the_datasource_variable() -> None:
    assert {name: d["uid"] for name, d in DASHBOARD_FILES.items()} == UIDS
    provisioned = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))["datasources"]
    for name, dashboard in DASHBOARD_FILES.items():
        assert dashboard["schemaVersion"] >= 39, name
        assert dashboard["id"] is None, f"{name}: a provisioned dashboard has no database id"
        assert dashboard["title"] and dashboard["refresh"], name
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        source = variables["datasource"]
        assert (source["type"], source["query"]) == ("datasource", "prometheus"), name
        assert source["current"]["value"] == provisioned[0]["uid"], name
        for variable in variables.values():
            if variable["type"] == "query":
                assert variable["datasource"] == DS, f"{name}: variable {variable['name']}"


def test_the_noc_wall_refreshes_often_and_the_skpd_detail_has_its_variable() -> None:
    noc = DASHBOARD_FILES["sigap-noc.json"]
    assert 10 <= duration(noc["refresh"]) <= 30
    variables = {v["name"]: v for v in DASHBOARD_FILES["sigap-skpd.json"]["templating"]["list"]}
    assert variables["skpd"]["query"]["query"] == "label_values(sigap_node_up, skpd)"


@pytest.mark.parametrize("name", sorted(UIDS))
def test_every_panel_and_query_uses_the_datasource_variable(name: str) -> None:
    dashboard = DASHBOARD_FILES[name]
    shown = list(panels(dashboard))
    assert len(shown) >= 6, name
    for item in shown:
        assert item["datasource"] == DS, f"{name} / {item['title']}"
        refs = [t["refId"] for t in item["targets"]]
        assert refs and len(set(refs)) == len(refs), f"{name} / {item['title']}: refIds {refs}"
        for t in item["targets"]:
            assert t["datasource"] == DS, f"{name} / {item['title']} / {t['refId']}"
            assert t["expr"].strip(), f"{name} / {item['title']} / {t['refId']}"
    for annotation in dashboard["annotations"]["list"]:
        if "expr" in annotation:
            assert annotation["datasource"] == DS, f"{name} / annotation {annotation['name']}"


@pytest.mark.parametrize("name", sorted(UIDS))
def test_panel_titles_are_unique(name: str) -> None:
    """A panel is found by its title (in Grafana's search, in tests/e2e/test_panels.py)."""
    titles = [item["title"] for item in DASHBOARD_FILES[name]["panels"]]
    assert len(set(titles)) == len(titles), sorted(t for t in titles if titles.count(t) > 1)


@pytest.mark.parametrize("name", sorted(UIDS))
def test_panels_fit_the_grid_without_overlapping(name: str) -> None:
    taken: dict[tuple[int, int], str] = {}
    ids = []
    for item in DASHBOARD_FILES[name]["panels"]:
        ids.append(item["id"])
        pos = item["gridPos"]
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] + pos["w"] <= 24, item["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in taken, f"{item['title']} overlaps {taken[x, y]}"
                taken[x, y] = item["title"]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.where())
def test_no_query_names_an_instance_or_a_host(query: Any) -> None:
    assert not _INSTANCE_MATCHER.search(query.expr), query.expr
    assert not _HOST_PORT.search(query.expr), query.expr
    assert not re.search(r"\d+\.\d+\.\d+\.\d+|localhost", query.expr), query.expr


def test_every_query_reads_metrics_sigap_publishes() -> None:
    known = known_metrics()
    unknown = {
        f"{q.where()}: {name}"
        for q in QUERIES
        for name in _METRIC.findall(_STRINGS.sub('""', q.expr))
        if name not in known
    }
    assert not unknown, "\n".join(sorted(unknown))


def test_every_variable_a_query_uses_is_defined() -> None:
    """render() raises on a variable that is neither Grafana's nor the dashboard's."""
    for name, dashboard in DASHBOARD_FILES.items():
        defined = {v["name"]: ".*" for v in dashboard["templating"]["list"]}
        for query in panel_queries(dashboard):
            # label_replace's "$1" is a regex group, which Grafana leaves as it is
            rendered = re.sub(r'"\$\d"', "", render(query, defined, 600, 2))
            assert "$" not in rendered, f"{name}: {query.where()}"


def test_every_query_parses(tmp_path: Path) -> None:
    """promtool parses each expression as a recording rule: one group per query, named after
    its dashboard, panel and refId, so that an error names the panel."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    scrape = scrape_interval()
    groups = [
        {
            "name": f"{i:03d} {q.where()}",
            "rules": [
                {
                    "record": f"sigap_dashboard_query_{i}",
                    "expr": render(q, SAMPLE_VARIABLES, 600, scrape),
                }
            ],
        }
        for i, q in enumerate(QUERIES)
    ]
    rules = tmp_path / "dashboard-queries.yml"
    rules.write_text(yaml.safe_dump({"groups": groups}, allow_unicode=True))
    result = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(QUERIES)} rules found" in result.stdout, result.stdout


def test_provisioning_matches_prometheus_and_the_dashboards() -> None:
    source = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))["datasources"][0]
    assert source["type"] == "prometheus"
    assert source["uid"] == load_generator().DATASOURCE_UID
    assert source["url"] == "http://prometheus:9090"
    prometheus = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    assert duration(source["jsonData"]["timeInterval"]) == duration(
        prometheus["global"]["scrape_interval"]
    ), "Grafana's step must be Prometheus' scrape interval"
    providers = GRAFANA / "provisioning" / "dashboards" / "sigap.yml"
    provider = yaml.safe_load(providers.read_text(encoding="utf-8"))["providers"][0]
    assert provider["type"] == "file" and Path(provider["options"]["path"]).is_absolute()
    assert sorted(p.name for p in DASHBOARDS.glob("*.json")) == sorted(UIDS)


# --- what the key queries compute, on series made up for them (promtool test rules) -------------


def expr_of(uid: str, title: str, ref: str = "A") -> str:
    """A panel query with Grafana's variables substituted (skpd: dinkes)."""
    query = next(q for q in QUERIES if (q.dashboard, q.panel, q.ref) == (uid, title, ref))
    return render(query, SAMPLE_VARIABLES, 600, 2)


def node(skpd: str, name: str, owner: str, metric: str = "sigap_node_up") -> str:
    labels = f'skpd="{skpd}", node="{name}", owner="{owner}", role="x", address="198.18.0.1"'
    return f'{metric}{{{labels}, instance="exporter:9427", job="sigap-exporter"}}'


def promtool_eval(tmp_path: Path, series: dict[str, str], tests: list[tuple[str, Json]]) -> None:
    """Evaluate each (expr, {labels: value}) at 5m over `series` (a value every 15 s)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    cases = [
        {
            "expr": expr,
            "eval_time": "5m",
            "exp_samples": [{"labels": labels, "value": value} for labels, value in want.items()],
        }
        for expr, want in tests
    ]
    spec = {
        "rule_files": [],
        "tests": [
            {
                "interval": "15s",
                "input_series": [{"series": k, "values": v} for k, v in series.items()],
                "promql_expr_test": cases,
            }
        ],
    }
    path = tmp_path / "queries.test.yml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    result = subprocess.run(
        [promtool, "test", "rules", path.name], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_skpd_tile_tells_normal_degraded_and_whose_outage(tmp_path: Path) -> None:
    up, down = "1x40", "0x40"
    series = {
        # setda: all well. dpupr: a lossy link. bpkad: a latency alert. rsud: its core switch
        # and an access point behind it are down (internal: the SKPD's). dinkes: the uplink is
        # cut, everything behind it is down (Diskominfo's). core: all up.
        node("setda", "gw-setda", "diskominfo"): up,
        node("setda", "sw-setda", "skpd"): up,
        # after SETDA's office hours: its switched-off access point is no outage
        node("setda", "ap-setda-1", "skpd"): down,
        node("setda", "ap-setda-1", "skpd", "sigap_node_expected_up"): "0x40",
        node("dpupr", "gw-dpupr", "diskominfo"): up,
        node("dpupr", "gw-dpupr", "diskominfo", "sigap_node_packet_loss_ratio"): "0.3x40",
        node("bpkad", "gw-bpkad", "diskominfo"): up,
        node("rsud", "gw-rsud", "diskominfo"): up,
        node("rsud", "sw-rsud-core", "skpd"): down,
        node("rsud", "ap-rsud-1", "skpd"): down,
        node("dinkes", "uplink-dinkes", "diskominfo"): down,
        node("dinkes", "gw-dinkes", "diskominfo"): down,
        node("dinkes", "sw-dinkes", "skpd"): down,
        node("core", "core-router", "diskominfo"): up,
        'ALERTS{alertname="SigapLatencyHigh", alertstate="firing", skpd="bpkad", '
        'node="gw-bpkad"}': "1x40",
    }
    codes = {"setda": 0, "dpupr": 1, "bpkad": 1, "rsud": 2, "dinkes": 3, "core": 0}
    want = {f'{{skpd="{skpd}"}}': code for skpd, code in codes.items()}
    promtool_eval(
        tmp_path,
        series,
        [
            (expr_of("sigap-noc", "Status SKPD"), want),
            (expr_of("sigap-skpd", "Status"), {'{skpd="dinkes"}': 3}),
            (expr_of("sigap-noc", "Node mati"), {"{}": 5}),
        ],
    )


def test_open_and_overdue_incidents_are_listed_by_stage_or_none(tmp_path: Path) -> None:
    def gauge(
        stage: str, skpd: str, value: int, replica: str, overdue: bool = False
    ) -> tuple[str, str]:
        if overdue:
            labels = f'stage="{stage}", skpd="{skpd}"'
            name = "sigap_incident_overdue"
        else:
            labels = f'stage="{stage}", skpd="{skpd}", responsibility="skpd"'
            name = "sigap_incident_open"
        return f'{name}{{{labels}, instance="{replica}"}}', f"{value}x40"

    # Two webhook replicas report the same database: counted once.
    series = dict(
        [
            gauge("reported", "bappeda", 1, "webhook-1"),
            gauge("reported", "bappeda", 1, "webhook-2"),
            gauge("opened", "bappeda", 0, "webhook-1"),
            gauge("reported", "bappeda", 1, "webhook-1", overdue=True),
            gauge("reported", "bappeda", 1, "webhook-2", overdue=True),
        ]
    )
    listed = {'{skpd="bappeda", tahap="4 Dilaporkan", responsibility="skpd"}': 1}
    promtool_eval(
        tmp_path,
        series,
        [
            (expr_of("sigap-noc", "Daftar insiden terbuka"), listed),
            (expr_of("sigap-noc", "Insiden terbuka"), {"{}": 1}),
            (expr_of("sigap-noc", "Tahap terlambat"), {"{}": 1}),
            (
                expr_of("sigap-sop", "Daftar tahap terlambat"),
                {'{skpd="bappeda", tahap="4 Dilaporkan"}': 1},
            ),
        ],
    )
    quiet = dict(
        [
            gauge("opened", "bappeda", 0, "webhook-1"),
            gauge("opened", "bappeda", 0, "webhook-1", overdue=True),
        ]
    )
    promtool_eval(
        tmp_path,
        quiet,
        [
            (expr_of("sigap-noc", "Daftar insiden terbuka"), {'{tahap="Tidak ada"}': 0}),
            (expr_of("sigap-sop", "Daftar tahap terlambat"), {'{tahap="Tidak ada"}': 0}),
        ],
    )


# --- the network drawn: the node graph of the NOC wall --------------------------------------------

EXAMPLE = ROOT / "deploy" / "inventory.example.yml"
GRAPH = "Peta jaringan"


def labelled(metric: str, labels: dict[str, str]) -> str:
    return metric + "{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in labels.items()) + "}"


def graph_world(
    cut: str, unknown: str, after_hours: str
) -> tuple[dict[str, str], dict[str, Json], dict[str, Json]]:
    """The example inventory as two exporters publish it (each core node by both), with `cut`
    and its subtree down, `unknown` not probed yet and `after_hours` an SKPD's own node switched
    off outside office hours; and the node graph's rows the panel must get: (series, nodes,
    edges)."""
    inventory = load_inventory(EXAMPLE, resolve=None)
    behind = {n.id for n in inventory.descendants(cut)}
    series: dict[str, str] = {}
    nodes: dict[str, Json] = {}
    edges: dict[str, Json] = {}
    for node in inventory.nodes.values():
        base = {
            "skpd": node.skpd, "node": node.id, "role": node.role, "owner": node.owner,
            "address": node.address,
        }  # fmt: skip
        down = node.id == cut or node.id in behind or node.id == after_hours
        exporters = (
            ["exporter-0:9427", "exporter-1:9427"] if node.skpd == "core" else ["exporter-1:9427"]
        )
        for instance in exporters:
            labels = {**base, "instance": instance, "job": "sigap-exporter"}
            info = {**labels, "parent": node.parent or "", "name": node.name or ""}
            series[labelled("sigap_node_info", info)] = "1x40"
            if node.id == unknown:
                continue
            series[labelled("sigap_node_up", labels)] = "0x40" if down else "1x40"
            series[labelled("sigap_node_upstream_up", labels)] = (
                "0x40" if node.id in behind else "1x40"
            )
            expected = "0x40" if node.id == after_hours else "1x40"
            series[labelled("sigap_node_expected_up", labels)] = expected
        if node.id == unknown:
            state = ("Tanpa data", "#9e9e9e", 0.5)
        elif node.id == after_hours:
            state = ("Di luar jam", "#607d8b", 0.25)
        elif node.id == cut:
            state = ("Mati", "#c62828", 1.0)
        elif node.id in behind:
            state = ("Hulu putus", "#ef9a9a", 0.75)
        else:
            state = ("Hidup", "#2e7d32", 0.0)
        row = {
            "id": node.id, "title": node.id, "subtitle": node.name or node.role,
            "mainstat": state[0], "color": state[1], "detail__skpd": node.skpd,
            "detail__peran": node.role, "detail__pemilik": node.owner,
            "detail__alamat": node.address,
        }  # fmt: skip
        nodes[labelled("", row)] = state[2]
        if node.parent is not None:
            red = node.id == cut or node.id in behind
            link = {
                "id": f"{node.parent}--{node.id}", "source": node.parent, "target": node.id,
                "color": "#c62828" if red else "#90a4ae",
            }  # fmt: skip
            edges[labelled("", link)] = 1
    return series, nodes, edges


def test_the_node_graph_draws_the_inventory_and_the_cut_branch(tmp_path: Path) -> None:
    """Every node of the example once (two exporters publish the core), every link from a
    parent, the cut uplink red ("Mati"), its subtree behind it pale ("Hulu putus"), a node not
    yet probed grey, an SKPD's access point off after hours neither: exactly these rows."""
    series, nodes, edges = graph_world("uplink-dinkes", "srv-rsud-pacs", "ap-setda-1")
    assert len(nodes) == 92 and len(edges) == 91  # each primary parent's link
    promtool_eval(
        tmp_path,
        series,
        [(expr_of("sigap-noc", GRAPH, "A"), nodes), (expr_of("sigap-noc", GRAPH, "B"), edges)],
    )


def test_the_node_graph_has_no_edge_to_a_node_it_lacks(tmp_path: Path) -> None:
    """A link whose parent publishes nothing (the exporter of the core down) is left out: the
    panel fails on an edge to an unknown node."""
    series, nodes, edges = graph_world("uplink-dinkes", "srv-rsud-pacs", "ap-setda-1")
    gone = {k: v for k, v in series.items() if '"core-router"' not in k.split("parent=")[0]}
    nodes = {k: v for k, v in nodes.items() if 'id="core-router"' not in k}
    edges = {k: v for k, v in edges.items() if 'source="core-router"' not in k}
    assert len(nodes) == 91 and len(edges) == 86
    promtool_eval(
        tmp_path,
        gone,
        [(expr_of("sigap-noc", GRAPH, "A"), nodes), (expr_of("sigap-noc", GRAPH, "B"), edges)],
    )


def test_the_node_graph_is_a_built_in_panel_fed_as_it_reads_frames() -> None:
    """Grafana's own nodeGraph (no plugin to install): two instant table queries, the nodes
    frame with an `id` column and no `source`, the edges frame with `source`; the panel reads
    no field config, so none is given."""
    graph = next(p for p in DASHBOARD_FILES["sigap-noc.json"]["panels"] if p["title"] == GRAPH)
    assert graph["type"] == "nodeGraph"
    assert [(t["format"], t["instant"]) for t in graph["targets"]] == [("table", True)] * 2
    nodes, edges = (t["expr"] for t in graph["targets"])
    assert (
        nodes.startswith("max by (id, title, subtitle, mainstat, color,") and "source" not in nodes
    )
    assert edges.startswith("max by (id, source, target, color)")
    assert graph["fieldConfig"] == {"defaults": {}, "overrides": []}
    assert graph["options"]["layoutAlgorithm"] == "layered"
