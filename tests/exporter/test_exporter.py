"""`sigap-exporter` as operators run it: flags, endpoints, the metric contract, reloads."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from exporter.inventory import parse_inventory
from exporter.prober import Shard

from .conftest import ROOT, Exporter, needs_root, samples, value

LOOPBACK = """
probe: {interval: 200ms, timeout: 200ms, down_after: 3}
core:
  nodes:
    - {id: core-router, address: 127.0.0.1, role: core, owner: diskominfo}
skpd:
  - id: dinkes
    name: Dinas Kesehatan
    labels: {kecamatan: batulicin}
    nodes:
      - {id: uplink-dinkes, address: 127.0.0.2, role: uplink, owner: diskominfo,
         parent: core-router}
      - {id: gw-dinkes, address: 127.0.0.3, role: gateway, owner: diskominfo, parent: uplink-dinkes}
      - {id: sw-dinkes, address: "::1", role: switch, owner: skpd, parent: gw-dinkes}
"""
PER_NODE = (
    "sigap_node_info",
    "sigap_node_topology_order",
    "sigap_node_up",
    "sigap_node_expected_up",
    "sigap_node_upstream_up",
    "sigap_node_upstream_paths",
    "sigap_node_upstream_paths_up",
    "sigap_node_bypassed",
    "sigap_probe_packets_sent_total",
    "sigap_probe_packets_received_total",
    "sigap_probe_rtt_seconds_bucket",
    "sigap_probe_rtt_seconds_count",
    "sigap_node_packet_loss_ratio",
    "sigap_node_jitter_seconds",
    "sigap_node_last_reply_timestamp_seconds",
)
StartExporter = Callable[..., Exporter]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exporter.cli", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_config_check_accepts_the_example_and_names_the_fault_of_a_bad_file(
    tmp_path: Path,
) -> None:
    ok = run_cli("--config.file", str(ROOT / "deploy/inventory.example.yml"), "--config.check")
    assert ok.returncode == 0, ok.stderr
    assert "valid" in ok.stdout
    bad = tmp_path / "bad.yml"
    text = LOOPBACK.replace("role: gateway", "role: gatewy")
    bad.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "gatewy" in t)
    result = run_cli("--config.file", str(bad), "--config.check")
    assert result.returncode == 1
    assert f"{bad}:{line}:" in result.stderr
    assert "skpd[0].nodes[1].role" in result.stderr and "gatewy" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_file_and_a_bad_flag_fail_clearly(tmp_path: Path) -> None:
    missing = run_cli("--config.file", str(tmp_path / "nope.yml"))
    assert missing.returncode == 1 and "nope.yml" in missing.stderr
    bad_flag = run_cli("--config.file", "x", "--web.listen-address", "localhost")
    assert bad_flag.returncode == 2 and "HOST:PORT" in bad_flag.stderr


@needs_root
@pytest.mark.root
def test_every_series_carries_the_contract_labels_and_promtool_accepts_the_page(
    start_exporter: StartExporter,
) -> None:
    exporter = start_exporter(LOOPBACK)
    text = exporter.wait_for(lambda t: len(samples(t, "sigap_node_up")) == 4)
    for name in PER_NODE:
        series = samples(text, name)
        nodes = {dict(labels)["node"] for labels in series}
        assert nodes == {"core-router", "uplink-dinkes", "gw-dinkes", "sw-dinkes"}, name
        for labels in series:
            assert {"skpd", "node", "role", "owner", "address"} <= dict(labels).keys()
    assert value(text, "sigap_node_up", node="sw-dinkes", address="::1", owner="skpd") == 1
    assert value(text, "sigap_node_up", node="gw-dinkes", kecamatan="batulicin") == 1
    assert value(text, "sigap_node_up", node="core-router", skpd="core") == 1
    assert value(text, "sigap_node_info", node="gw-dinkes", parent="uplink-dinkes") == 1
    assert value(text, "sigap_node_info", node="core-router", parent="") == 1
    assert value(text, "sigap_node_info", node="gw-dinkes", handover="true") == 1
    assert value(text, "sigap_node_info", node="uplink-dinkes", handover="false") == 1
    edges = {(dict(k)["node"], dict(k)["parent"]) for k in samples(text, "sigap_node_parent_info")}
    assert edges == {
        ("uplink-dinkes", "core-router"), ("gw-dinkes", "uplink-dinkes"), ("sw-dinkes", "gw-dinkes")
    }  # fmt: skip
    order = {
        node: value(text, "sigap_node_topology_order", node=node)
        for node in ("core-router", "uplink-dinkes", "gw-dinkes", "sw-dinkes")
    }
    assert order == {"core-router": 0, "uplink-dinkes": 1, "gw-dinkes": 2, "sw-dinkes": 3}
    assert value(text, "sigap_exporter_config_last_reload_successful") == 1
    check = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    assert "Healthy" in exporter.get("/-/healthy")
    assert "Ready" in exporter.get("/-/ready")
    landing = exporter.get("/")
    assert "sw-dinkes" in landing and "ipv4=raw" in landing
    assert "kind=raw" in exporter.log.read_text()  # start-up says which socket and why


@needs_root
@pytest.mark.root
def test_a_bad_reload_keeps_probing_the_last_good_inventory(
    start_exporter: StartExporter,
) -> None:
    exporter = start_exporter(LOOPBACK, "--web.enable-lifecycle")
    exporter.wait_for(lambda t: len(samples(t, "sigap_node_up")) == 4)
    exporter.config.write_text(LOOPBACK.replace("parent: uplink-dinkes", "parent: uplink-x"))
    status, body = exporter.post("/-/reload")
    assert status == 500
    assert str(exporter.config) in body and "uplink-x" in body
    before = value(exporter.get(), "sigap_probe_packets_sent_total", node="gw-dinkes") or 0
    text = exporter.wait_for(
        lambda t: (value(t, "sigap_probe_packets_sent_total", node="gw-dinkes") or 0) > before + 3
    )
    assert value(text, "sigap_exporter_config_last_reload_successful") == 0
    assert "Last reload failed" in exporter.get("/")
    assert "still probing the last good inventory" in exporter.log.read_text()

    exporter.config.write_text(
        LOOPBACK + "      - {id: ap-dinkes, address: 127.0.0.4, role: access_point, owner: skpd,"
        " parent: sw-dinkes}\n"
    )
    exporter.process.send_signal(signal.SIGHUP)
    text = exporter.wait_for(lambda t: value(t, "sigap_node_up", node="ap-dinkes") == 1)
    assert value(text, "sigap_exporter_config_last_reload_successful") == 1
    # history of the nodes that stayed is kept across the reload
    assert (value(text, "sigap_probe_packets_sent_total", node="gw-dinkes") or 0) > before


def test_shards_split_the_skpds_and_only_shard_zero_publishes_the_core() -> None:
    skpds = "\n".join(
        f"  - id: s{i}\n    name: S{i}\n    nodes:\n"
        f"      - {{id: n{i}, address: 198.19.9.{i + 1}, role: uplink, owner: diskominfo,"
        " parent: core}"
        for i in range(12)
    )
    inventory = parse_inventory(
        "core:\n  nodes:\n    - {id: core, address: 198.19.9.200, role: core, owner: diskominfo}\n"
        f"skpd:\n{skpds}\n",
        resolve=None,
    )
    shards = [Shard.parse(f"{i}/3") for i in range(3)]
    published = [{n.id for n in inventory.nodes.values() if s.publishes(n)} for s in shards]
    assert set().union(*published) == set(inventory.nodes)
    assert sum(len(p) for p in published) == len(inventory.nodes)  # nothing twice
    assert "core" in published[0]
    assert all(s.probes(inventory.nodes["core"]) for s in shards)
    with pytest.raises(ValueError, match="i/n"):
        Shard.parse("3")


def test_version_prints_the_program_and_the_installed_version() -> None:
    from exporter import __version__

    result = run_cli("--version")  # no --config.file needed to ask
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"sigap-exporter {__version__}\n"
    assert __version__ != "0.0.0", "the package is installed: its own version, not the fallback"
