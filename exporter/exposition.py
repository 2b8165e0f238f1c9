"""The exporter's /metrics in the Prometheus text format, written straight from the statistics.

At 20,000 nodes the page has ~400,000 samples; one metric object per series (prometheus_client)
costs seconds per scrape, so the per-node families are rendered here from label strings built
once per node. `render()` yields chunks, and the HTTP handler gives the probe loop a turn between
two chunks, so a scrape never stalls the schedule. Process metrics come from prometheus_client.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from exporter import __version__
from exporter.inventory import OfficeHours, upstream
from exporter.prober import LAG_BUCKETS, ProbeEngine, Target
from exporter.stats import RTT_BUCKETS

CHUNK_NODES = 500
DROP_REASONS = ("invalid", "duplicate", "late", "foreign")


@dataclass
class ReloadStatus:
    successful: bool = True
    last_success_time: float = 0.0
    message: str = ""


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def node_labels(target: Target) -> str:
    node = target.node
    pairs = {
        "skpd": node.skpd,
        "node": node.id,
        "role": node.role,
        "owner": node.owner,
        "address": node.address,
        **node.labels,
    }
    return ",".join(f'{k}="{escape(v)}"' for k, v in pairs.items())


def _le(bound: float) -> str:
    return repr(bound)


_LE = [f'le="{_le(b)}"' for b in RTT_BUCKETS] + ['le="+Inf"']


class LabelCache:
    """Label strings per target, rebuilt only when the target's node changes (on reload)."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[object, str]] = {}

    def get(self, target: Target) -> str:
        cached = self._cache.get(target.slot)
        if cached is None or cached[0] is not target.node:
            cached = (target.node, node_labels(target))
            self._cache[target.slot] = cached
        return cached[1]

    def prune(self, live: set[int]) -> None:
        for slot in [s for s in self._cache if s not in live]:
            del self._cache[slot]


def _family(name: str, kind: str, help_text: str) -> str:
    return f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n"


def render(
    engine: ProbeEngine, reload: ReloadStatus, labels: LabelCache, now: datetime
) -> Iterator[str]:
    """The whole exposition, in chunks of a few hundred nodes; `now` (timezone-aware) decides
    which nodes are within their office hours."""
    published = [t for t in engine.order if t.published]
    within: dict[OfficeHours, int] = {}

    def expected(target: Target) -> int:
        # the same as inventory.expected_up, once per schedule rather than once per node
        hours = target.node.office_hours
        if hours is None:
            return 1
        if hours not in within:
            within[hours] = int(hours.covers(now))
        return within[hours]

    labels.prune({t.slot for t in engine.order})
    per_node = [(t, labels.get(t)) for t in published]
    paths = upstream(
        [t.node.id for t in engine.order],
        {t.node.id: t.node.parents for t in engine.order},
        {t.node.id: t.stats.up for t in engine.order},
    )

    def per_node_family(name: str, kind: str, help_text: str, value: object) -> Iterator[str]:
        yield _family(name, kind, help_text)
        for start in range(0, len(per_node), CHUNK_NODES):
            lines = []
            for target, label_text in per_node[start : start + CHUNK_NODES]:
                v = value(target)  # type: ignore[operator]
                if v is not None:
                    lines.append(f"{name}{{{label_text}}} {v}\n")
            yield "".join(lines)

    yield _family(
        "sigap_node_info",
        "gauge",
        "The node's place in the topology: its primary parent (empty for a root), its name, and "
        "whether it is where Diskominfo hands the connection to its SKPD over; always 1.",
    )
    for start in range(0, len(per_node), CHUNK_NODES):
        yield "".join(
            f'sigap_node_info{{{label_text},parent="{escape(t.node.parent or "")}",'
            f'name="{escape(t.node.name or "")}",handover="{str(t.handover).lower()}"}} 1\n'
            for t, label_text in per_node[start : start + CHUNK_NODES]
        )
    yield _family(
        "sigap_node_parent_info",
        "gauge",
        "One series per path of the node: each parent it can be reached through (several for a "
        "redundant node, none for a root); always 1.",
    )
    for start in range(0, len(per_node), CHUNK_NODES):
        yield "".join(
            f'sigap_node_parent_info{{{label_text},parent="{escape(parent)}"}} 1\n'
            for t, label_text in per_node[start : start + CHUNK_NODES]
            for parent in t.node.parents
        )
    yield from per_node_family(
        "sigap_node_topology_order",
        "gauge",
        "Depth-first position of the node in the topology (each node before its subtree, "
        "siblings in inventory order): sort by it to list nodes as a tree.",
        lambda t: t.position,
    )
    yield from per_node_family(
        "sigap_node_up",
        "gauge",
        "1 when the node answers, 0 after down_after consecutive lost probes.",
        lambda t: None if t.stats.up is None else int(t.stats.up),
    )
    yield from per_node_family(
        "sigap_node_expected_up",
        "gauge",
        "1 when the node is expected to answer now, 0 outside its SKPD's office hours (only "
        "owner=skpd nodes of an SKPD that declares them).",
        expected,
    )
    yield from per_node_family(
        "sigap_node_upstream_up",
        "gauge",
        "1 when at least one parent chain of the node up to the core is up (1 without a parent).",
        lambda t: int(paths[t.node.id].up),
    )
    yield from per_node_family(
        "sigap_node_upstream_paths",
        "gauge",
        "Parents the node can be reached through (0 for a root, 2 or more when redundant).",
        lambda t: paths[t.node.id].paths,
    )
    yield from per_node_family(
        "sigap_node_upstream_paths_up",
        "gauge",
        "Parents through which the node reaches the core now; below sigap_node_upstream_paths "
        "a redundant node runs on its remaining path (redundancy lost).",
        lambda t: paths[t.node.id].paths_up,
    )
    yield from per_node_family(
        "sigap_node_bypassed",
        "gauge",
        "1 while the node cannot be reached but nothing behind it is cut off (every node behind "
        "it still reaches the core through another parent): a lost path, not an outage.",
        lambda t: int(paths[t.node.id].bypassed),
    )
    yield from per_node_family(
        "sigap_probe_packets_sent_total",
        "counter",
        "ICMP echo requests sent to the node.",
        lambda t: t.stats.sent,
    )
    yield from per_node_family(
        "sigap_probe_packets_received_total",
        "counter",
        "ICMP echo replies received from the node in time.",
        lambda t: t.stats.received,
    )
    yield from per_node_family(
        "sigap_node_packet_loss_ratio",
        "gauge",
        "Lost / completed probes over the node's sliding window.",
        lambda t: t.stats.loss_ratio,
    )
    yield from per_node_family(
        "sigap_node_jitter_seconds",
        "gauge",
        "Mean absolute difference of consecutive round-trip times over the window.",
        lambda t: t.stats.jitter,
    )
    yield from per_node_family(
        "sigap_node_last_reply_timestamp_seconds",
        "gauge",
        "Unix time of the node's last reply.",
        lambda t: t.stats.last_reply_time,
    )
    yield _family("sigap_probe_rtt_seconds", "histogram", "Round-trip time of echo replies.")
    for start in range(0, len(per_node), CHUNK_NODES):
        lines = []
        for target, label_text in per_node[start : start + CHUNK_NODES]:
            stats = target.stats
            cumulative = 0
            for le, count in zip(_LE, stats.bucket_counts, strict=True):
                cumulative += count
                lines.append(f"sigap_probe_rtt_seconds_bucket{{{label_text},{le}}} {cumulative}\n")
            lines.append(f"sigap_probe_rtt_seconds_sum{{{label_text}}} {stats.rtt_sum}\n")
            lines.append(f"sigap_probe_rtt_seconds_count{{{label_text}}} {cumulative}\n")
        yield "".join(lines)
    yield _self_metrics(engine, reload, len(published))


class ExporterCollector(Collector):
    """The exporter's own series, read from the engine at scrape time:

    sigap_exporter_build_info{version="0.1.0",pythonversion="3.11.2"} 1
    sigap_exporter_nodes{state="probed"} 120
    sigap_exporter_icmp_socket_info{family="ipv4",kind="dgram"} 1
    sigap_exporter_schedule_lag_seconds_bucket{le="0.001"} 9512 (and _sum, _count)
    sigap_probe_send_errors_total{reason="unreachable"} 3
    sigap_probe_replies_dropped_total{reason="late"} 0
    sigap_exporter_config_last_reload_successful 1
    sigap_exporter_config_last_reload_success_timestamp_seconds 1.7650e+09
    """

    def __init__(self, engine: ProbeEngine, reload: ReloadStatus, published: int) -> None:
        self.engine, self.reload, self.published = engine, reload, published

    def collect(self) -> Iterator[Metric]:
        engine, counters = self.engine, self.engine.counters
        build = GaugeMetricFamily(
            "sigap_exporter_build_info",
            "Version of the exporter; always 1.",
            labels=["version", "pythonversion"],
        )
        build.add_metric([__version__, platform.python_version()], 1)
        yield build
        nodes = GaugeMetricFamily(
            "sigap_exporter_nodes", "Nodes probed and published by this exporter.", labels=["state"]
        )
        nodes.add_metric(["probed"], len(engine.order))
        nodes.add_metric(["published"], self.published)
        yield nodes
        sockets = GaugeMetricFamily(
            "sigap_exporter_icmp_socket_info",
            "The ICMP socket kind per family.",
            labels=["family", "kind"],
        )
        for family, echo_socket in sorted(engine.sockets.items()):
            sockets.add_metric([f"ipv{family}", echo_socket.kind], 1)
        yield sockets
        lag = HistogramMetricFamily(
            "sigap_exporter_schedule_lag_seconds",
            "How late probes were sent relative to their schedule.",
        )
        bounds = [*(_le(b) for b in LAG_BUCKETS), "+Inf"]
        lag.add_metric(
            [], list(zip(bounds, accumulate(counters.lag_buckets), strict=True)), counters.lag_sum
        )
        yield lag
        send_errors = CounterMetricFamily(
            "sigap_probe_send_errors",
            "Echo requests the kernel refused to send, by reason; each counts as a loss.",
            labels=["reason"],
        )
        for reason, count in sorted(counters.send_errors.items()):
            send_errors.add_metric([reason], count)
        yield send_errors
        dropped = CounterMetricFamily(
            "sigap_probe_replies_dropped",
            "ICMP packets dropped instead of counted as replies, by reason.",
            labels=["reason"],
        )
        for reason in sorted(set(DROP_REASONS) | counters.replies_dropped.keys()):
            dropped.add_metric([reason], counters.replies_dropped[reason])
        yield dropped
        yield GaugeMetricFamily(
            "sigap_exporter_config_last_reload_successful",
            "1 when the last configuration (re)load succeeded.",
            value=int(self.reload.successful),
        )
        yield GaugeMetricFamily(
            "sigap_exporter_config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful configuration load.",
            value=self.reload.last_success_time,
        )


def _self_metrics(engine: ProbeEngine, reload: ReloadStatus, published: int) -> str:
    """The exporter's own series and the process's, from a registry made for this scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ExporterCollector(engine, reload, published))
    return (generate_latest(registry) + generate_latest(_PROCESS_REGISTRY)).decode()


_PROCESS_REGISTRY = CollectorRegistry()
ProcessCollector(registry=_PROCESS_REGISTRY)
PlatformCollector(registry=_PROCESS_REGISTRY)
