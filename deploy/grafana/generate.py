#!/usr/bin/env python3
"""Generate SIGAP's Grafana dashboards (deploy/grafana/dashboards/*.json) from this one file.

    python deploy/grafana/generate.py           # write the JSON files
    python deploy/grafana/generate.py --check   # exit 1 when a committed file is out of date

Three dashboards in Grafana's classic JSON model (schemaVersion 39), each with a stable uid and a
`datasource` variable that every panel and query uses, so one Grafana can show several
Prometheus servers (a second vantage point, a test stack) without editing a file:

- `sigap-noc`  Dinding NOC: every SKPD as a tile (normal / degraded / down, and whose fault),
               open incidents and their SOP stage, the worst loss and latency now.
- `sigap-skpd` Detail SKPD (variable `skpd`): its nodes outside in, up/down history,
               smokeping-style latency, loss, jitter, availability 1 h / 1 d / 30 d.
- `sigap-sop`  Kinerja SOP: time per SOP stage, estimate accuracy, incidents and downtime by
               SKPD and responsibility, open and overdue stages, notifications sent and failed.

The queries follow the metric contract (README, webhook/services/metrics.py): exporter series
are per node (`skpd`, `node`, `role`, `owner`, `address`) and are taken with max over exporters
(`instance`); the webhook's incident gauges are read from the database, so every replica reports
the same value (max over replicas); its histograms and counters are per process (sum). No query
names an instance. Every panel shows a value even when nothing is wrong (an empty result is
replaced by a 0 or a "none" row), so "No data" on the wall always means a broken pipeline.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

Json = dict[str, Any]
Query = str | Json
"""A bare PromQL expression, or a `target()`."""

OUT = Path(__file__).resolve().parent / "dashboards"

DATASOURCE_UID = "sigap-prometheus"
"""The uid of the provisioned datasource (provisioning/datasources/sigap.yml), the default."""
DATASOURCE_NAME = "Prometheus SIGAP"
DS: Json = {"type": "prometheus", "uid": "${datasource}"}

# The incident's open stages (webhook.core.workflow.State less the final ones) in SOP order, with
# the name shown. The number in front keeps tables in SOP order when sorted by this name.
OPEN_STAGES: tuple[tuple[str, str], ...] = (
    ("opened", "1 Dibuka"),
    ("ping_checked", "2 Cek ping"),
    ("confirmed", "3 Dikonfirmasi (F-01)"),
    ("reported", "4 Dilaporkan"),
    ("dispatched", "5 Staf ditugaskan"),
    ("estimated", "6 Estimasi dicatat"),
    ("forwarded", "7 Estimasi diteruskan"),
    ("repair_ordered", "8 Perbaikan diperintahkan"),
    ("repaired", "9 Diperbaiki (F-04)"),
)
# The stages of sigap_incident_time_to_stage_seconds (time from opening to each).
TIMED_STAGES: tuple[tuple[str, str], ...] = (
    ("confirm", "1 Konfirmasi (F-01)"),
    ("dispatch", "2 Staf ditugaskan"),
    ("estimate", "3 Estimasi"),
    ("repair", "4 Diperbaiki (F-04)"),
    ("close", "5 Ditutup"),
)
NODE = "node, role, owner, address"
"""A node's identity across exporters (no instance)."""


# --- colours, thresholds and value mappings ------------------------------------------------------


def steps(first: str, *rest: float | str) -> Json:
    """Absolute thresholds: steps("green", 1, "red") is green below 1, red from 1."""
    levels: list[Json] = [{"color": first, "value": None}]
    levels += [{"color": c, "value": v} for v, c in zip(rest[::2], rest[1::2], strict=True)]
    return {"mode": "absolute", "steps": levels}


def fixed(color: str) -> Json:
    return {"mode": "fixed", "fixedColor": color}


def values(*pairs: tuple[str, str, str]) -> Json:
    """A value mapping: (raw value, text shown, colour) ..."""
    return {
        "type": "value",
        "options": {v: {"text": t, "color": c, "index": i} for i, (v, t, c) in enumerate(pairs)},
    }


OK_ELSE_RED = steps("green", 1, "red")
OK_ELSE_ORANGE = steps("green", 1, "orange")
LOSS_STEPS = steps("green", 0.02, "yellow", 0.1, "red")
RTT_STEPS = steps("green", 0.05, "yellow", 0.2, "red")
AVAILABILITY_STEPS = steps("red", 0.95, "orange", 0.99, "yellow", 0.999, "green")
UP_STEPS = steps("red", 1, "green")
NEUTRAL = steps("blue")

UNSET = {"text": "belum ditetapkan"}
RESPONSIBILITY = [
    values(
        ("diskominfo", "Diskominfo", "red"),
        ("skpd", "SKPD", "orange"),
        ("unknown", "belum ditetapkan", "text"),
    ),
    {"type": "special", "options": {"match": "null+nan", "result": UNSET}},
    {"type": "special", "options": {"match": "empty", "result": UNSET}},
]
CAUSE_NAMES = {
    "pln_power": "Listrik PLN padam",
    "fibre_cut": "Kabel fiber optik putus",
    "device_failure": "Kerusakan perangkat",
    "configuration": "Kesalahan konfigurasi",
    "upstream_provider": "Gangguan penyedia layanan",
    "other": "Lainnya",
    "unknown": "Belum diisi",
}
"""The causes on F-04 (webhook.core.forms.Cause) as the form names them."""
UP = [values(("0", "Mati", "red"), ("1", "Hidup", "green"))]
NO_FIGURE = [{"type": "special", "options": {"match": "nan", "result": {"text": "–"}}}]
"""A quantile of no observation in the range is NaN: shown as a dash."""
# The status of an SKPD, worst node first: 0 normal; 1 degraded (loss, a latency/loss alert, or
# a lost path of a redundant node: sigap_node_bypassed, running on the other path);
# 2 an SKPD-owned node down (its internal network: the SKPD's responsibility); 3 a
# Diskominfo-owned node down (link, gateway or core: Diskominfo's responsibility, SOP step 4).
STATUS = [
    values(
        ("0", "Normal", "green"),
        ("1", "Terganggu", "yellow"),
        ("2", "Gangguan · tanggung jawab SKPD", "orange"),
        ("3", "Putus · tanggung jawab Diskominfo", "red"),
    )
]
STATUS_STEPS = steps("green", 1, "yellow", 2, "orange", 3, "red")
STATUS_HELP = (
    "Hijau: semua node normal. Kuning: terganggu (paket hilang > 10 %, alarm latensi, atau satu "
    "jalur redundan putus sehingga jalur cadangan dipakai). "
    "Oranye: perangkat internal SKPD mati, tanggung jawab SKPD (Kominfo membantu). "
    "Merah: jalur, gateway atau jaringan inti Diskominfo putus, tanggung jawab Diskominfo "
    "(SOP langkah 4)."
)


# --- PromQL ---------------------------------------------------------------------------------------


def series(metric: str, selector: str = "") -> str:
    """`metric`, with `{selector}` when there is one."""
    return f"{metric}{{{selector}}}" if selector else metric


AFTER_HOURS = " unless on(instance, skpd, node) sigap_node_expected_up == 0"
"""Leaves out an SKPD's own nodes outside its office hours: dark then is not an outage."""
BYPASSED = " unless on(instance, skpd, node) sigap_node_bypassed == 1"
"""Leaves out a lost path of a redundant node: nothing is cut off, so it is not an outage."""


def skpd_status(selector: str = "") -> str:
    """Per SKPD: its STATUS code, the worst over its nodes and over exporters. `selector` adds
    matchers (e.g. 'skpd="$skpd"'); the `sebab` label keeps the four sources apart for `or`."""
    s = f", {selector}" if selector else ""
    alerts = f'ALERTS{{alertstate="firing", alertname=~"SigapPacketLossHigh|SigapLatencyHigh"{s}}}'
    return (
        "max by (skpd) (\n"
        f'    label_replace(3 * (sigap_node_up{{owner="diskominfo"{s}}} == bool 0){BYPASSED},'
        ' "sebab", "mati", "", "")\n'
        f'  or label_replace(2 * (sigap_node_up{{owner="skpd"{s}}} == bool 0){AFTER_HOURS}'
        f'{BYPASSED}, "sebab", "mati", "", "")\n'
        f"  or label_replace({series('sigap_node_bypassed', selector)} == bool 1,"
        ' "sebab", "cadangan", "", "")\n'
        f"  or label_replace({series('sigap_node_packet_loss_ratio', selector)} > bool 0.1,"
        ' "sebab", "hilang", "", "")\n'
        f'  or label_replace(0 * {alerts} + 1, "sebab", "alarm", "", "")\n'
        ")"
    )


def named_stages(expr: str, stages: Sequence[tuple[str, str]]) -> str:
    """`expr` with a label `tahap` holding each series' stage name (from its `stage` label)."""
    for stage, text in stages:
        expr = f'label_replace({expr}, "tahap", "{text}", "stage", "{stage}")'
    return expr


def or_none(expr: str, label: str, text: str) -> str:
    """`expr`, or a single 0 labelled `label`=`text` when `expr` has nothing."""
    return f'{expr} or on() label_replace(vector(0), "{label}", "{text}", "", "")'


def open_incidents(by: str, selector: str = "") -> str:
    """Open incidents summed by `by`, the stage's name in `tahap` (gauge: one replica's copy)."""
    one_copy = f"max by (stage, skpd, responsibility) ({series('sigap_incident_open', selector)})"
    return f"sum by ({by}) ({named_stages(one_copy, OPEN_STAGES)} > 0)"


def overdue_stages() -> str:
    return named_stages("max by (stage, skpd) (sigap_incident_overdue)", OPEN_STAGES)


def rtt_quantile(q: float, selector: str, by: str, window: str = "$__rate_interval") -> str:
    """An RTT quantile from the exporter's histogram; `by` ends with ', ' when not empty."""
    rate = f"rate({series('sigap_probe_rtt_seconds_bucket', selector)}[{window}])"
    return f"histogram_quantile({q}, sum by ({by}le) ({rate}))"


def sop_quantile(q: float, metric: str, by: str = "", selector: str = "") -> str:
    """A quantile of a webhook histogram over the dashboard's range (summed over replicas)."""
    grown = f"increase({series(metric + '_bucket', selector)}[$__range])"
    return f"histogram_quantile({q}, sum by ({by}le) ({grown}))"


def observed(expr: str, metric: str, by: str) -> str:
    """`expr` only for the `by` groups with an observation of histogram `metric` in the range."""
    return f"{expr} and on({by}) (sum by ({by}) (increase({metric}_count[$__range])) > 0)"


def in_range(metric: str, by: str = "", selector: str = "") -> str:
    """How much a webhook counter grew over the dashboard's range, summed over replicas."""
    group = f" by ({by})" if by else ""
    return f"round(sum{group} (increase({series(metric, selector)}[$__range])))"


NODES_DOWN = f"count(max by (skpd, node) (sigap_node_up{AFTER_HOURS}) == 0) or vector(0)"
FIRING = 'count(ALERTS{alertstate="firing", alertname=~"Sigap.*"}) or vector(0)'
OPEN_NOW = "sum(max by (stage, skpd, responsibility) (sigap_incident_open)) or vector(0)"
OVERDUE_NOW = "sum(max by (stage, skpd) (sigap_incident_overdue)) or vector(0)"
LOSS_OF_UP_NODES = (
    "max by (skpd, node) (sigap_node_packet_loss_ratio)"
    " and on(skpd, node) max by (skpd, node) (sigap_node_up) == 1"
)
RTT_NOW = rtt_quantile(0.5, "", "skpd, node, ", "1m") + " > 0"
"""Median RTT of the last minute per node; a node without replies (NaN) left out."""
TO_STAGE = "sigap_incident_time_to_stage_seconds"
ESTIMATE_ERROR = "sigap_incident_estimate_error_seconds"
DOWNTIME = "sigap_incident_downtime_seconds_total"
DOWNTIME_BY_CAUSE = "sigap_incident_downtime_by_cause_seconds_total"
OPENED = "sigap_incidents_opened_total"
NOTIFICATIONS = "sigap_notifications_total"

# The network drawn by Grafana's built-in node graph panel (no plugin): one instant query in
# table format per frame, its columns the labels the panel reads by name (id, title, subtitle,
# mainstat, color, detail__*; id, source, target, color for the edges). The node graph has no
# field config, so a colour is a string label and no transformation is needed.
NODE_UP = "max by (node) (sigap_node_up)"
NODE_UPSTREAM = "max by (node) (sigap_node_upstream_up)"
NODE_EXPECTED = "max by (node) (sigap_node_expected_up)"
NODE_KNOWN = "max by (node) (sigap_node_info)"
NODE_STATES: tuple[tuple[str, str, float, str], ...] = (
    # (the state shown in the circle, its colour, its code, which nodes are in it): the first
    # that takes a node keeps it. The colours are the status page's map (webhook.core.status).
    ("Di luar jam", "#607d8b", 0.25, f"({NODE_UP} == 0) and on(node) ({NODE_EXPECTED} == 0)"),
    ("Hidup", "#2e7d32", 0, f"{NODE_UP} == 1"),
    ("Mati", "#c62828", 1, f"({NODE_UP} == 0) unless on(node) ({NODE_UPSTREAM} == 0)"),
    ("Hulu putus", "#ef9a9a", 0.75, f"{NODE_UP} == 0"),
    ("Tanpa data", "#9e9e9e", 0.5, f"{NODE_KNOWN} unless on(node) {NODE_UP}"),
)
"""A down node whose upstream is up is the failure ("Mati", red); the nodes behind it are
unreachable ("Hulu putus"): the failed branch reads from its root. An SKPD's own equipment off
outside office hours is no failure."""
LINK_DOWN = f"({NODE_UP} == 0) unless on(node) ({NODE_EXPECTED} == 0)"
"""The nodes whose link from their parent is drawn red: down while expected up."""


def relabel(expr: str, *moves: tuple[str, str]) -> str:
    """`expr` with each (new, old) label set to a copy of the old one's value."""
    for new, old in moves:
        expr = f'label_replace({expr}, "{new}", "$1", "{old}", "(.*)")'
    return expr


def with_labels(expr: str, **labels: str) -> str:
    """`expr` with constant labels."""
    for name, value in labels.items():
        expr = f'label_replace({expr}, "{name}", "{value}", "", "")'
    return expr


def graph_nodes() -> str:
    """One row per node of the exporters' inventory: id, title (the node id), subtitle (its name,
    else its role), its state in `mainstat` and `color`, and details for the node's menu; the
    value is the state's code (0 up ... 1 the failure)."""
    states = " or on(node) ".join(
        with_labels(f"0 * ({which}) + {code}", mainstat=text, color=colour)
        for text, colour, code, which in NODE_STATES
    )
    info = "max by (node, name, skpd, role, owner, address) (sigap_node_info)"
    joined = f"{info} * on(node) group_left(mainstat, color) ({states})"
    moved = relabel(
        joined,
        ("id", "node"),
        ("title", "node"),
        ("subtitle", "role"),
        ("detail__skpd", "skpd"),
        ("detail__peran", "role"),
        ("detail__pemilik", "owner"),
        ("detail__alamat", "address"),
    )
    named = f'label_replace({moved}, "subtitle", "$1", "name", "(.+)")'
    details = "detail__skpd, detail__peran, detail__pemilik, detail__alamat"
    return f"max by (id, title, subtitle, mainstat, color, {details}) ({named})"


def graph_edges() -> str:
    """One row per link from a node's parent to it (both known, so the panel never meets an
    edge to a node it lacks), red when the node behind it is down."""
    links = 'max by (node, parent) (sigap_node_info{parent!=""})'
    parents = relabel(NODE_KNOWN, ("parent", "node"))
    known = f"{links} and on(parent) {parents}"
    coloured = (
        f"{with_labels(f'({known}) and on(node) ({LINK_DOWN})', color='#c62828')}"
        f" or on(node) {with_labels(known, color='#90a4ae')}"
    )
    moved = relabel(f'label_join({coloured}, "id", "--", "parent", "node")', ("source", "parent"))
    return f"max by (id, source, target, color) ({relabel(moved, ('target', 'node'))})"


# --- panels ---------------------------------------------------------------------------------------


def target(expr: str, legend: str = "", *, instant: bool = False, fmt: str = "") -> Json:
    """A Prometheus query; the panel numbers it (refId A, B, ...)."""
    return {
        "datasource": DS,
        "editorMode": "code",
        "expr": expr,
        "format": fmt or "time_series",
        "instant": instant,
        "range": not instant,
        "legendFormat": legend or "__auto",
        "refId": "",
    }


def by_name(name: str, **properties: Any) -> Json:
    """A field override; Grafana's property 'custom.x' is written custom_x."""
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [
            {"id": k.replace("custom_", "custom."), "value": v} for k, v in properties.items()
        ],
    }


def panel(
    kind: str,
    title: str,
    queries: Query | Sequence[Query],
    *,
    instant: bool,
    fmt: str = "",
    description: str = "",
    unit: str = "",
    decimals: int | None = None,
    mappings: Sequence[Json] = (),
    thresholds: Json | None = None,
    color: Json | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    custom: Json | None = None,
    overrides: Sequence[Json] = (),
    options: Json | None = None,
    transformations: Sequence[Json] = (),
    interval: str = "",
    links: Sequence[Json] = (),
) -> Json:
    """A panel whose queries all use the `datasource` variable; bare expressions in `queries`
    become targets (instant ones where the panel shows the value now)."""
    listed = [queries] if isinstance(queries, str | dict) else list(queries)
    targets = [q if isinstance(q, dict) else target(q, instant=instant, fmt=fmt) for q in listed]
    defaults: Json = {
        "color": color or {"mode": "thresholds"},
        "mappings": list(mappings),
        "thresholds": thresholds or NEUTRAL,
    }
    for key, value in (
        ("unit", unit),
        ("decimals", decimals),
        ("min", min_value),
        ("max", max_value),
        ("custom", custom),
        ("links", list(links)),
    ):
        if value not in (None, "", [], {}):
            defaults[key] = value
    result: Json = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": [{**t, "refId": chr(ord("A") + i)} for i, t in enumerate(targets)],
        "fieldConfig": {"defaults": defaults, "overrides": list(overrides)},
        "options": options or {},
    }
    if transformations:
        result["transformations"] = list(transformations)
    if interval:
        result["interval"] = interval
    return result


LAST = {"calcs": ["lastNotNull"], "fields": "", "values": False}


def stat(
    title: str,
    queries: Query | Sequence[Query],
    *,
    names: bool = False,
    color_mode: str = "background",
    title_size: int = 20,
    value_size: int = 48,
    **kwargs: Any,
) -> Json:
    """Big numbers (one tile per series); `names` shows each series' name above its value."""
    options = {
        "reduceOptions": LAST,
        "colorMode": color_mode,
        "graphMode": "none",
        "justifyMode": "center",
        "orientation": "auto",
        "textMode": "value_and_name" if names else "value",
        "text": {"titleSize": title_size, "valueSize": value_size},
        "wideLayout": True,
        "showPercentChange": False,
    }
    return panel("stat", title, queries, instant=True, options=options, **kwargs)


def timeseries(
    title: str,
    queries: Query | Sequence[Query],
    *,
    fill: int = 0,
    bars: bool = False,
    stack: bool = False,
    **kwargs: Any,
) -> Json:
    custom = {
        "drawStyle": "bars" if bars else "line",
        "lineWidth": 1,
        "fillOpacity": 80 if bars else fill,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        "axisSoftMin": 0,
    }
    options = {
        "legend": {
            "displayMode": "table",
            "placement": "right",
            "showLegend": True,
            "calcs": ["lastNotNull", "max"],
        },
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    kwargs.setdefault("color", {"mode": "palette-classic"})
    return panel(
        "timeseries", title, queries, instant=False, custom=custom, options=options, **kwargs
    )


def bargauge(title: str, queries: Query | Sequence[Query], **kwargs: Any) -> Json:
    options = {
        "reduceOptions": LAST,
        "orientation": "horizontal",
        "displayMode": "gradient",
        "valueMode": "color",
        "namePlacement": "left",
        "showUnfilled": True,
        "sizing": "auto",
        "minVizHeight": 16,
        "minVizWidth": 8,
        "maxVizHeight": 300,
    }
    return panel("bargauge", title, queries, instant=True, options=options, **kwargs)


def piechart(title: str, queries: Query | Sequence[Query], **kwargs: Any) -> Json:
    options = {
        "reduceOptions": LAST,
        "pieType": "donut",
        "displayLabels": ["name", "percent"],
        "legend": {
            "displayMode": "table",
            "placement": "right",
            "showLegend": True,
            "values": ["value", "percent"],
        },
        "tooltip": {"mode": "single", "sort": "none"},
    }
    return panel(
        "piechart",
        title,
        queries,
        instant=True,
        options=options,
        color={"mode": "palette-classic"},
        **kwargs,
    )


def state_timeline(title: str, queries: Query | Sequence[Query], **kwargs: Any) -> Json:
    options = {
        "mergeValues": True,
        "showValue": "never",
        "alignValue": "left",
        "rowHeight": 0.85,
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "single", "sort": "none"},
    }
    custom = {"fillOpacity": 85, "lineWidth": 0}
    return panel(
        "state-timeline", title, queries, instant=False, custom=custom, options=options, **kwargs
    )


def table(
    title: str,
    queries: Query | Sequence[Query],
    *,
    columns: Sequence[tuple[str, str]],
    sort_by: str,
    cell_height: str = "sm",
    hide: Sequence[str] = ("Time", "stage", "instance", "job", "__name__"),
    **kwargs: Any,
) -> Json:
    """Instant queries merged into one row per label set. `columns`: (field, title) in order,
    labels by name and query values as 'Value #<refId>' ('Value' with one query); `hide`: the
    other fields the queries may bring."""
    options = {
        "showHeader": True,
        "cellHeight": cell_height,
        "footer": {"show": False, "reducer": ["sum"], "fields": "", "countRows": False},
        "sortBy": [{"displayName": dict(columns)[sort_by], "desc": False}],
    }
    organize = {
        "excludeByName": dict.fromkeys(hide, True),
        "indexByName": {name: i for i, (name, _) in enumerate(columns)},
        "renameByName": dict(columns),
    }
    return panel(
        "table",
        title,
        queries,
        instant=True,
        fmt="table",
        custom={"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False},
        options=options,
        transformations=[{"id": "merge", "options": {}}, {"id": "organize", "options": organize}],
        **kwargs,
    )


def heatmap(title: str, queries: Query | Sequence[Query], *, unit: str, **kwargs: Any) -> Json:
    """A heatmap of a Prometheus histogram's buckets (query format 'heatmap', legend {{le}})."""
    options = {
        "calculate": False,
        "cellGap": 1,
        "color": {
            "mode": "scheme",
            "scheme": "Oranges",
            "fill": "dark-orange",
            "scale": "exponential",
            "exponent": 0.5,
            "steps": 64,
            "reverse": False,
        },
        "exemplars": {"color": "rgba(255,0,255,0.7)"},
        "filterValues": {"le": 1e-9},
        "legend": {"show": True},
        "rowsFrame": {"layout": "auto"},
        "tooltip": {"mode": "single", "showColorScale": False, "yHistogram": False},
        "yAxis": {"axisPlacement": "left", "reverse": False, "unit": unit},
    }
    return panel("heatmap", title, queries, instant=False, fmt="heatmap", options=options, **kwargs)


def node_graph(title: str, nodes: str, edges: str, **kwargs: Any) -> Json:
    """Grafana's node graph: a frame of nodes and one of edges (instant queries in table format;
    the frame with a `source` column is the edges), laid out in layers from the roots."""
    options = {"nodes": {}, "edges": {}, "zoomMode": "cooperative", "layoutAlgorithm": "layered"}
    frames = [target(q, instant=True, fmt="table") for q in (nodes, edges)]
    drawn = panel("nodeGraph", title, frames, instant=True, options=options, **kwargs)
    drawn["fieldConfig"] = {"defaults": {}, "overrides": []}  # it reads none: colours are labels
    return drawn


COLORED_CELLS = {"type": "color-background", "mode": "basic"}


class Layout:
    """Places panels left to right on Grafana's 24-column grid, a new line when one is full."""

    def __init__(self) -> None:
        self.panels: list[Json] = []
        self.x = self.y = self.line_height = 0

    def add(self, w: int, h: int, item: Json) -> None:
        if self.x + w > 24:
            self.newline()
        gridpos = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.panels.append({"id": len(self.panels) + 1, **item, "gridPos": gridpos})
        self.x += w
        self.line_height = max(self.line_height, h)

    def newline(self) -> None:
        self.y += self.line_height
        self.x = self.line_height = 0

    def row(self, title: str) -> None:
        if self.x:
            self.newline()
        self.add(24, 1, {"type": "row", "title": title, "collapsed": False, "panels": []})
        self.newline()


# --- dashboards -----------------------------------------------------------------------------------


DATASOURCE_VARIABLE: Json = {
    "name": "datasource",
    "label": "Sumber data",
    "type": "datasource",
    "query": "prometheus",
    "current": {"selected": False, "text": DATASOURCE_NAME, "value": DATASOURCE_UID},
    "hide": 0,
    "includeAll": False,
    "multi": False,
    "options": [],
    "refresh": 1,
    "regex": "",
    "skipUrlSync": False,
}


def query_variable(name: str, label: str, query: str, *, all_value: str | None = None) -> Json:
    """A variable of Prometheus label values; `all_value` adds an "All" choice (the default)."""
    variable: Json = {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "definition": query,
        "query": {"qryType": 1, "query": query, "refId": f"PrometheusVariableQueryEditor-{name}"},
        "current": {},
        "hide": 0,
        "includeAll": all_value is not None,
        "multi": False,
        "options": [],
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "skipUrlSync": False,
    }
    if all_value is not None:
        variable["allValue"] = all_value
        variable["current"] = {"selected": True, "text": "All", "value": "$__all"}
    return variable


def maintenance_annotation(selector: str = "") -> Json:
    """The maintenance windows planned in SIGAP (issue 15): the webhook's
    `sigap_maintenance_active{skpd}` is 1 while a window runs, so each window is one region.
    Every replica reports it: `max` counts it once."""
    return {
        "datasource": DS,
        "enable": True,
        "expr": f"max by (skpd) ({series('sigap_maintenance_active', selector)})",
        "iconColor": "blue",
        "name": "Pemeliharaan",
        "step": "1m",
        "titleFormat": "Pemeliharaan {{skpd}}",
        "textFormat": "jendela pemeliharaan terjadwal di SIGAP",
        "tagKeys": "skpd",
        "useValueForTime": False,
    }


def dashboard(
    uid: str,
    title: str,
    description: str,
    layout: Layout,
    *,
    refresh: str,
    time_from: str,
    variables: Iterable[Json] = (),
    annotations: Iterable[Json] = (),
) -> Json:
    builtin = {
        "builtIn": 1,
        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
        "enable": True,
        "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)",
        "name": "Annotations & Alerts",
        "type": "dashboard",
    }
    others = {
        "title": "Dasbor SIGAP",
        "type": "dashboards",
        "tags": ["sigap"],
        "asDropdown": False,
        "includeVars": False,
        "keepTime": True,
        "icon": "external link",
        "targetBlank": False,
        "tooltip": "",
        "url": "",
    }
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["sigap"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "monday",
        "refresh": refresh,
        "time": {"from": time_from, "to": "now"},
        "timepicker": {"refresh_intervals": ["10s", "15s", "30s", "1m", "5m", "15m"]},
        "templating": {"list": [DATASOURCE_VARIABLE, *variables]},
        "annotations": {"list": [builtin, *annotations]},
        "links": [others],
        "panels": layout.panels,
        "schemaVersion": 39,
        "version": 1,
        "id": None,
    }


SKPD_LINK = {
    "title": "Detail SKPD ${__field.labels.skpd}",
    "url": "/d/sigap-skpd/sigap-detail-skpd?var-datasource=${datasource}"
    "&var-skpd=${__field.labels.skpd}&${__url_time_range}",
}
CORE_NAME = by_name("core", displayName="INTI DISKOMINFO")


def noc() -> Json:
    wall: Json = {"title_size": 22, "value_size": 64}
    named: Json = {"names": True, "title_size": 22, "value_size": 40}
    worst = "{{skpd}} · {{node}}"
    layout = Layout()
    layout.add(4, 5, stat("Node mati", NODES_DOWN, thresholds=OK_ELSE_RED, **wall))
    layout.add(4, 5, stat("Alarm aktif", FIRING, thresholds=OK_ELSE_RED, **wall))
    layout.add(4, 5, stat("Insiden terbuka", OPEN_NOW, thresholds=OK_ELSE_ORANGE, **wall))
    layout.add(
        4,
        5,
        stat(
            "Tahap terlambat",
            OVERDUE_NOW,
            thresholds=OK_ELSE_RED,
            description="Insiden yang tahap SOP-nya melewati batas waktu (dieskalasi).",
            **wall,
        ),
    )
    layout.add(
        4,
        5,
        stat(
            "Paket hilang terburuk",
            target(f"topk(1, {LOSS_OF_UP_NODES})", worst, instant=True),
            unit="percentunit",
            decimals=0,
            thresholds=LOSS_STEPS,
            description="Node hidup dengan paket hilang terbanyak (jendela 1 menit exporter).",
            **named,
        ),
    )
    layout.add(
        4,
        5,
        stat(
            "Latensi terburuk",
            target(f"topk(1, {RTT_NOW})", worst, instant=True),
            unit="s",
            thresholds=RTT_STEPS,
            description="Median waktu ping tertinggi dalam 1 menit terakhir.",
            **named,
        ),
    )
    layout.add(
        24,
        12,
        stat(
            "Status SKPD",
            target(skpd_status(), "{{skpd}}", instant=True),
            names=True,
            title_size=26,
            value_size=30,
            mappings=STATUS,
            thresholds=STATUS_STEPS,
            description=STATUS_HELP,
            overrides=[CORE_NAME],
            links=[SKPD_LINK],
        ),
    )
    layout.add(
        12,
        10,
        table(
            "Daftar insiden terbuka",
            or_none(open_incidents("skpd, tahap, responsibility"), "tahap", "Tidak ada"),
            columns=[
                ("tahap", "Tahap SOP"),
                ("skpd", "SKPD"),
                ("responsibility", "Tanggung jawab"),
                ("Value", "Jumlah"),
            ],
            sort_by="tahap",
            cell_height="lg",
            overrides=[
                by_name("responsibility", mappings=RESPONSIBILITY, custom_cellOptions=COLORED_CELLS)
            ],
            description="Insiden yang belum ditutup, menurut tahap SOP.",
        ),
    )
    layout.add(
        6,
        10,
        bargauge(
            "Paket hilang terburuk (5 node)",
            target(f"topk(5, {LOSS_OF_UP_NODES})", worst, instant=True),
            unit="percentunit",
            min_value=0,
            max_value=1,
            thresholds=LOSS_STEPS,
        ),
    )
    layout.add(
        6,
        10,
        bargauge(
            "Latensi terburuk (5 node)",
            target(f"topk(5, {RTT_NOW})", worst, instant=True),
            unit="s",
            min_value=0,
            thresholds=RTT_STEPS,
        ),
    )
    layout.add(
        24,
        12,
        state_timeline(
            "Riwayat status SKPD",
            target(skpd_status(), "{{skpd}}"),
            mappings=STATUS,
            thresholds=STATUS_STEPS,
            description=STATUS_HELP,
            overrides=[CORE_NAME],
        ),
    )
    layout.add(
        24,
        20,
        node_graph(
            "Peta jaringan",
            graph_nodes(),
            graph_edges(),
            description="Topologi dari inventaris (sigap_node_info): inti, distribusi, uplink, "
            "gateway, lalu perangkat SKPD. Merah: node mati, titik gangguannya; merah muda: di "
            "belakang node yang mati (hulu putus); abu-abu: tanpa data; biru keabuan: perangkat "
            "SKPD di luar jam kantor. Klik node untuk SKPD, pemilik dan alamatnya.",
        ),
    )
    return dashboard(
        "sigap-noc",
        "SIGAP — Dinding NOC",
        "Layar dinding NOC Diskominfo: status setiap SKPD, insiden terbuka dan tahap SOP-nya, "
        "paket hilang dan latensi terburuk saat ini.",
        layout,
        refresh="10s",
        time_from="now-1h",
        annotations=[maintenance_annotation()],
    )


def skpd() -> Json:
    sel = 'skpd="$skpd"'
    chosen = f'{sel}, node=~"$node"'
    per_node = "{{node}}"
    availability: Json = {
        "unit": "percentunit",
        "decimals": 2,
        "min_value": 0,
        "max_value": 1,
        "thresholds": AVAILABILITY_STEPS,
    }
    layout = Layout()
    layout.add(
        6,
        4,
        stat(
            "Status",
            skpd_status(sel),
            value_size=28,
            mappings=STATUS,
            thresholds=STATUS_STEPS,
            description=STATUS_HELP,
        ),
    )
    down = f"count(max by (node) (sigap_node_up{{{sel}}}{AFTER_HOURS}) == 0) or vector(0)"
    layout.add(2, 4, stat("Node mati", down, thresholds=OK_ELSE_RED))
    # the two figures of README "Availability": Diskominfo's delivered connection, and apart
    # the SKPD's internal network
    for window, text in (("1h", "1 jam"), ("1d", "1 hari"), ("30d", "30 hari")):
        layout.add(
            2,
            4,
            stat(
                f"Koneksi Diskominfo {text}",
                f"max(sigap:skpd_connection_availability:ratio_{window}{{{sel}}})",
                description="Ketersediaan koneksi yang diserahkan Diskominfo: bagian waktu "
                "gateway SKPD (titik serah) menjawab ping, lewat jalur mana pun. Angka "
                "perjanjian layanan, sama dengan laporan bulanan dan halaman status.",
                **availability,
            ),
        )
    for window, text in (("1d", "1 hari"), ("30d", "30 hari")):
        layout.add(
            2,
            4,
            stat(
                f"Jaringan internal {text}",
                f"max(sigap:skpd_internal_availability:ratio_{window}{{{sel}}})",
                description="Ketersediaan jaringan internal SKPD: bagian perangkat milik SKPD "
                "yang menjawab ping pada jam yang diharapkan, selama koneksi Diskominfo utuh.",
                **availability,
            ),
        )
    layout.add(
        6,
        4,
        stat(
            "Insiden terbuka",
            target(
                or_none(open_incidents("tahap", sel), "tahap", "Tidak ada"),
                "{{tahap}}",
                instant=True,
            ),
            names=True,
            value_size=28,
            thresholds=OK_ELSE_ORANGE,
        ),
    )
    now_per_node = [
        f"max by ({NODE}) (sigap_node_topology_order{{{sel}}})",
        f"max by ({NODE}) (sigap_node_up{{{sel}}})",
        f"max by ({NODE}) (sigap_node_upstream_up{{{sel}}})",
        f"max by ({NODE}) (sigap_node_packet_loss_ratio{{{sel}}})",
        f"max by ({NODE}) (sigap_node_jitter_seconds{{{sel}}})",
        rtt_quantile(0.5, sel, f"{NODE}, ", "1m"),
        f"max by ({NODE}) (sigap:node_availability:ratio_1d{{{sel}}})",
        f"max by ({NODE}) (sigap_node_upstream_paths_up{{{sel}}})",
        f"max by ({NODE}) (sigap_node_upstream_paths{{{sel}}})",
    ]
    layout.add(
        24,
        11,
        table(
            "Node (urutan topologi)",
            now_per_node,
            columns=[
                ("Value #A", "Urutan"),
                ("node", "Node"),
                ("role", "Peran"),
                ("owner", "Pemilik"),
                ("address", "Alamat"),
                ("Value #B", "Status"),
                ("Value #C", "Jalur ke atas"),
                ("Value #D", "Paket hilang"),
                ("Value #E", "Jitter"),
                ("Value #F", "Median RTT"),
                ("Value #G", "Ketersediaan 1 hari"),
                ("Value #H", "Jalur aktif"),
                ("Value #I", "Jalur"),
            ],
            sort_by="Value #A",
            description="Node SKPD dalam urutan topologi: setiap node tepat sebelum node di "
            "belakangnya (jalur/uplink, gateway, lalu switch dan access point di belakangnya). "
            "Pemilik Diskominfo: di luar SKPD; SKPD: jaringan internal. Jalur aktif di bawah "
            "Jalur: node redundan berjalan di jalur cadangan.",
            overrides=[
                by_name("Value #B", mappings=UP, custom_cellOptions=COLORED_CELLS),
                by_name("Value #C", mappings=UP, custom_cellOptions=COLORED_CELLS),
                by_name("owner", mappings=RESPONSIBILITY),
                by_name("Value #D", unit="percentunit", decimals=1),
                by_name("Value #E", unit="s"),
                by_name("Value #F", unit="s"),
                by_name("Value #G", unit="percentunit", decimals=2),
            ],
        ),
    )
    layout.add(
        24,
        9,
        state_timeline(
            "Riwayat hidup/mati",
            target(f"max by (node) (sigap_node_up{{{sel}}})", per_node),
            mappings=UP,
            thresholds=UP_STEPS,
        ),
    )
    buckets = (
        f"sum by (le) (increase(sigap_probe_rtt_seconds_bucket{{{chosen}}}[$__rate_interval]))"
    )
    layout.add(
        12,
        9,
        heatmap(
            "Latensi (smokeping) — node: $node",
            target(buckets, "{{le}}", fmt="heatmap"),
            unit="s",
            description="Sebaran waktu ping per selang waktu: makin gelap, makin banyak balasan. "
            "Pilih node di atas (All: semua node SKPD).",
        ),
    )
    band = fixed("blue")
    layout.add(
        12,
        9,
        timeseries(
            "Latensi median dan p10–p90 — node: $node",
            [
                target(rtt_quantile(q, chosen, ""), name)
                for q, name in ((0.1, "p10"), (0.5, "median"), (0.9, "p90"))
            ],
            unit="s",
            overrides=[
                by_name(
                    "p90",
                    custom_fillBelowTo="p10",
                    custom_fillOpacity=25,
                    custom_lineWidth=0,
                    color=band,
                ),
                by_name("p10", custom_lineWidth=0, color=band),
                by_name("median", custom_lineWidth=2, color=fixed("dark-blue")),
            ],
        ),
    )
    layout.add(
        12,
        8,
        timeseries(
            "Latensi median per node", target(rtt_quantile(0.5, sel, "node, "), per_node), unit="s"
        ),
    )
    layout.add(
        12,
        8,
        timeseries(
            "Paket hilang per node",
            target(f"max by (node) (sigap_node_packet_loss_ratio{{{sel}}})", per_node),
            unit="percentunit",
            max_value=1,
            description="Bagian ping yang hilang dalam jendela 1 menit exporter.",
        ),
    )
    layout.add(
        12,
        8,
        timeseries(
            "Jitter per node",
            target(f"max by (node) (sigap_node_jitter_seconds{{{sel}}})", per_node),
            unit="s",
            description="Rata-rata selisih waktu ping yang berturut-turut.",
        ),
    )
    layout.add(
        12,
        8,
        bargauge(
            "Ketersediaan per node (30 hari)",
            target(
                f"max by (node) (sigap:node_availability:ratio_30d{{{sel}}})",
                per_node,
                instant=True,
            ),
            **availability,
        ),
    )
    alarms = {
        "datasource": DS,
        "enable": True,
        "expr": f'ALERTS{{alertstate="firing", alertname=~"Sigap.*", {sel}}}',
        "iconColor": "red",
        "name": "Alarm SIGAP",
        "step": "10s",
        "titleFormat": "{{alertname}}",
        "textFormat": "{{node}} · tanggung jawab {{responsibility}}",
        "tagKeys": "severity,responsibility",
        "useValueForTime": False,
    }
    return dashboard(
        "sigap-skpd",
        "SIGAP — Detail SKPD",
        "Satu SKPD: node-nodenya dari luar ke dalam, riwayat hidup/mati, latensi ala smokeping, "
        "paket hilang, jitter dan ketersediaan.",
        layout,
        variables=[
            query_variable("skpd", "SKPD", "label_values(sigap_node_up, skpd)"),
            query_variable(
                "node",
                "Node (latensi)",
                'label_values(sigap_node_up{skpd="$skpd"}, node)',
                all_value=".*",
            ),
        ],
        refresh="30s",
        time_from="now-6h",
        annotations=[alarms, maintenance_annotation(sel)],
    )


def sop() -> Json:
    layout = Layout()
    counted: Json = {"decimals": 0, "color_mode": "value"}
    layout.add(
        4,
        5,
        stat(
            "Insiden dibuka",
            f"{in_range(OPENED)} or vector(0)",
            description="Insiden yang dibuka (alarm atau laporan) dalam rentang waktu.",
            **counted,
        ),
    )
    layout.add(4, 5, stat("Insiden terbuka sekarang", OPEN_NOW, **counted))
    layout.add(
        4, 5, stat("Tahap terlambat sekarang", OVERDUE_NOW, thresholds=OK_ELSE_RED, decimals=0)
    )
    layout.add(
        4,
        5,
        stat(
            "Total waktu gangguan",
            f"{in_range(DOWNTIME)} or vector(0)",
            color_mode="value",
            unit="s",
            description="Lama gangguan semua insiden dalam rentang waktu.",
        ),
    )
    layout.add(
        4,
        5,
        stat(
            "Median selisih estimasi",
            sop_quantile(0.5, ESTIMATE_ERROR),
            color_mode="value",
            unit="s",
            mappings=NO_FIGURE,
            description="Pulih sebenarnya dikurangi estimasi pulih (SOP langkah 6): positif = "
            "lebih lambat dari estimasi.",
        ),
    )
    failed = in_range(NOTIFICATIONS, selector='status="failed"')
    layout.add(
        4, 5, stat("Notifikasi gagal", f"{failed} or vector(0)", thresholds=OK_ELSE_RED, decimals=0)
    )

    layout.row("Waktu per tahap SOP (sejak insiden dibuka)")
    titles = (
        "Sampai konfirmasi (F-01)",
        "Sampai staf ditugaskan",
        "Sampai estimasi",
        "Sampai diperbaiki (F-04)",
        "Sampai ditutup",
    )
    for (stage, _), title, width in zip(TIMED_STAGES, titles, (5, 5, 5, 5, 4), strict=True):
        sel = f'stage="{stage}"'
        quantiles = [
            target(sop_quantile(q, TO_STAGE, "", sel), name, instant=True)
            for q, name in ((0.5, "median"), (0.9, "p90"))
        ]
        layout.add(
            width,
            5,
            stat(
                title,
                quantiles,
                names=True,
                color_mode="value",
                unit="s",
                value_size=32,
                mappings=NO_FIGURE,
            ),
        )
    by_side, groups = "stage, responsibility, ", "stage, responsibility"
    layout.add(
        14,
        9,
        table(
            "Waktu per tahap menurut tanggung jawab",
            [
                named_stages(
                    observed(sop_quantile(0.5, TO_STAGE, by_side), TO_STAGE, groups), TIMED_STAGES
                ),
                named_stages(
                    observed(sop_quantile(0.9, TO_STAGE, by_side), TO_STAGE, groups), TIMED_STAGES
                ),
                or_none(
                    named_stages(f"{in_range(f'{TO_STAGE}_count', groups)} > 0", TIMED_STAGES),
                    "tahap",
                    "Tidak ada",
                ),
            ],
            columns=[
                ("tahap", "Tahap"),
                ("responsibility", "Tanggung jawab"),
                ("Value #A", "Median"),
                ("Value #B", "p90"),
                ("Value #C", "Insiden"),
            ],
            sort_by="tahap",
            overrides=[
                by_name("responsibility", mappings=RESPONSIBILITY),
                by_name("Value #A", unit="s"),
                by_name("Value #B", unit="s"),
            ],
            description="Waktu dari insiden dibuka sampai tiap tahap, dalam rentang waktu.",
        ),
    )
    layout.add(
        10,
        9,
        table(
            "Akurasi estimasi menurut tanggung jawab",
            [
                *(
                    observed(
                        sop_quantile(q, ESTIMATE_ERROR, "responsibility, "),
                        ESTIMATE_ERROR,
                        "responsibility",
                    )
                    for q in (0.1, 0.5, 0.9)
                ),
                or_none(
                    f"{in_range(f'{ESTIMATE_ERROR}_count', 'responsibility')} > 0",
                    "responsibility",
                    "Tidak ada",
                ),
            ],
            columns=[
                ("responsibility", "Tanggung jawab"),
                ("Value #A", "p10"),
                ("Value #B", "Median"),
                ("Value #C", "p90"),
                ("Value #D", "Insiden"),
            ],
            sort_by="responsibility",
            overrides=[
                by_name("responsibility", mappings=RESPONSIBILITY),
                *(by_name(f"Value #{ref}", unit="s") for ref in "ABC"),
            ],
            description="Pulih sebenarnya dikurangi estimasi (negatif: lebih cepat dari estimasi).",
        ),
    )

    layout.row("Insiden dan waktu gangguan")
    sides = [by_name("diskominfo", displayName="Diskominfo"), by_name("skpd", displayName="SKPD")]
    ranked: Json = {"min_value": 0, "color": {"mode": "continuous-YlRd"}}
    layout.add(
        6,
        10,
        bargauge(
            "Insiden per SKPD",
            target(f"sort_desc({in_range(OPENED, 'skpd')})", "{{skpd}}", instant=True),
            decimals=0,
            **ranked,
        ),
    )
    layout.add(
        6,
        10,
        piechart(
            "Insiden per tanggung jawab",
            target(in_range(OPENED, "responsibility"), "{{responsibility}}", instant=True),
            decimals=0,
            overrides=sides,
        ),
    )
    layout.add(
        6,
        10,
        bargauge(
            "Waktu gangguan per SKPD",
            target(f"sort_desc({in_range(DOWNTIME, 'skpd')})", "{{skpd}}", instant=True),
            unit="s",
            **ranked,
        ),
    )
    layout.add(
        6,
        10,
        piechart(
            "Waktu gangguan per tanggung jawab",
            target(in_range(DOWNTIME, "responsibility"), "{{responsibility}}", instant=True),
            unit="s",
            overrides=sides,
        ),
    )
    layout.add(
        6,
        10,
        bargauge(
            "Waktu gangguan per penyebab (F-04)",
            target(
                f"sort_desc({in_range(DOWNTIME_BY_CAUSE, 'cause')} > 0)", "{{cause}}", instant=True
            ),
            unit="s",
            description="Penyebab yang diisi staf pada form tindakan F-04; dihitung saat F-04 "
            "disimpan (waktu henti insiden yang sudah tercatat).",
            overrides=[by_name(c, displayName=t) for c, t in CAUSE_NAMES.items()],
            **ranked,
        ),
    )

    layout.row("Tahap terbuka, keterlambatan dan notifikasi")
    layout.add(
        6,
        9,
        table(
            "Insiden terbuka per tahap",
            or_none(open_incidents("tahap, responsibility"), "tahap", "Tidak ada"),
            columns=[
                ("tahap", "Tahap SOP"),
                ("responsibility", "Tanggung jawab"),
                ("Value", "Jumlah"),
            ],
            sort_by="tahap",
            overrides=[by_name("responsibility", mappings=RESPONSIBILITY)],
        ),
    )
    layout.add(
        6,
        9,
        table(
            "Daftar tahap terlambat",
            or_none(f"sum by (skpd, tahap) ({overdue_stages()} > 0)", "tahap", "Tidak ada"),
            columns=[("tahap", "Tahap SOP"), ("skpd", "SKPD"), ("Value", "Jumlah")],
            sort_by="tahap",
            description="Tahap SOP yang melewati batas waktunya (dieskalasi ke koordinator).",
        ),
    )
    layout.add(
        6,
        9,
        timeseries(
            "Tahap terlambat (riwayat)",
            target(or_none(f"sum by (tahap) ({overdue_stages()})", "tahap", "-"), "{{tahap}}"),
            decimals=0,
            stack=True,
            fill=30,
            interval="15s",
        ),
    )
    sent_failed = [
        by_name(f"{channel} {status}", color=fixed(color))
        for channel, status, color in (
            ("email", "sent", "green"),
            ("webhook", "sent", "blue"),
            ("email", "failed", "red"),
            ("webhook", "failed", "orange"),
        )
    ]
    per_minute = f"sum by (channel, status) (increase({NOTIFICATIONS}[$__rate_interval]))"
    layout.add(
        6,
        9,
        timeseries(
            "Notifikasi (email, webhook)",
            target(per_minute, "{{channel}} {{status}}"),
            bars=True,
            stack=True,
            decimals=0,
            interval="1m",
            overrides=sent_failed,
            description="Pesan menurut saluran dan hasil (sent: terkirim; failed: gagal setelah "
            "semua percobaan).",
        ),
    )
    return dashboard(
        "sigap-sop",
        "SIGAP — Kinerja SOP",
        "Kinerja penanganan gangguan menurut SOP: waktu per tahap, akurasi estimasi, insiden dan "
        "waktu gangguan per SKPD dan per pihak yang bertanggung jawab, keterlambatan, notifikasi.",
        layout,
        refresh="1m",
        time_from="now-30d",
    )


DASHBOARDS: dict[str, Callable[[], Json]] = {
    "sigap-noc.json": noc,
    "sigap-skpd.json": skpd,
    "sigap-sop.json": sop,
}


def render(build: Callable[[], Json]) -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate SIGAP's Grafana dashboards.")
    parser.add_argument("--check", action="store_true", help="exit 1 when a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for name, build in DASHBOARDS.items():
        path, text = OUT / name, render(build)
        if not args.check:
            OUT.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    if stale:
        print(
            f"out of date: {', '.join(stale)}; run python deploy/grafana/generate.py",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
