"""Real ICMP: up/down through a topology of network namespaces, loss, delay, and ping parity."""

from __future__ import annotations

import asyncio
import re
import statistics
from collections.abc import Callable, Iterator

import pytest

from exporter.inventory import parse_inventory
from exporter.prober import ProbeEngine
from exporter.stats import NodeStats

from .conftest import Exporter, Netns, needs_root, samples, sh, value

pytestmark = [pytest.mark.root, needs_root]


@pytest.fixture
def rtt_samples(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[int, list[float]]]:
    """Every RTT the engine records, by NodeStats object id: the samples behind the histogram."""
    recorded: dict[int, list[float]] = {}
    original = NodeStats.record_reply

    def record_reply(self: NodeStats, rtt: float, wall_time: float) -> None:
        recorded.setdefault(id(self), []).append(rtt)
        original(self, rtt, wall_time)

    monkeypatch.setattr(NodeStats, "record_reply", record_reply)
    yield recorded


async def probe(inventory_text: str, probes: int, interval: float) -> ProbeEngine:
    """Run the engine until every node was sent `probes` requests, plus one timeout."""
    engine = ProbeEngine()
    engine.apply(parse_inventory(inventory_text, resolve=None))
    task = asyncio.create_task(engine.run())
    try:
        while min(t.stats.sent for t in engine.order) < probes:  # noqa: ASYNC110 (polls counters)
            await asyncio.sleep(interval)
        await asyncio.sleep(1.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        engine.close()
    return engine


def one_node(address: str, interval: str, timeout: str | None = None) -> str:
    return (
        f"probe: {{interval: {interval}, timeout: {timeout or interval}, down_after: 3}}\n"
        "skpd:\n  - id: t\n    name: T\n    nodes:\n"
        f"      - {{id: n, address: {address}, role: host, owner: skpd}}\n"
    )


async def test_loopback_median_rtt_is_within_50_us_of_iputils_ping(
    rtt_samples: dict[int, list[float]],
) -> None:
    ping = await asyncio.create_subprocess_exec(
        *("ping", "-n", "-c", "200", "-i", "0.01", "127.0.0.1"), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await ping.communicate()
    assert ping.returncode == 0
    ping_ms = [float(m) for m in re.findall(r"time=([\d.]+) ms", out.decode())]
    engine = await probe(one_node("127.0.0.1", interval="10ms"), 200, 0.01)
    ours = rtt_samples[id(engine.order[0].stats)]
    ping_median, our_median = statistics.median(ping_ms) / 1000, statistics.median(ours)
    print(f"loopback median RTT: ping {ping_median * 1e6:.1f} µs, sigap {our_median * 1e6:.1f} µs")
    assert abs(our_median - ping_median) < 50e-6


async def test_loss_over_1000_probes_is_within_2_points_of_the_injected_loss(
    netns: Netns,
) -> None:
    injected = {"198.19.4.2": 0.1, "198.19.4.6": 0.3}
    responders = {}
    for i, (address, loss) in enumerate(injected.items()):
        ns = netns.add(f"loss{i}")
        netns.link(None, f"198.19.4.{4 * i + 1}/30", ns, f"{address}/30")
        responders[address] = netns.responder(ns, "--loss", str(loss))
    nodes = "".join(
        f"      - {{id: n{i}, address: {a}, role: host, owner: skpd}}\n"
        for i, a in enumerate(injected)
    )
    engine = await probe(
        # 25 ms for a reply: the userspace responder on a loaded 2-core machine can take more
        # than 10 ms, and a late reply counts as lost
        "probe: {interval: 25ms, timeout: 25ms, down_after: 3}\n"
        f"skpd:\n  - id: t\n    name: T\n    nodes:\n{nodes}",
        1000,
        0.1,
    )
    for target in engine.order:
        stats, loss = target.stats, injected[target.node.address]
        measured = 1 - stats.received / stats.sent
        responder = responders[target.node.address]
        responder.terminate()
        out, _ = responder.communicate(timeout=5)
        seen, dropped = (int(x) for x in re.findall(r"\d+", out))
        print(f"injected {loss:.0%}: responder dropped {dropped}/{seen}, measured {measured:.2%}")
        assert abs(measured - loss) <= 0.02
        assert abs(measured - dropped / seen) <= 0.005  # exactly what was lost, nothing more


async def test_injected_50_ms_delay_is_measured_within_1_ms_at_the_median(
    netns: Netns, rtt_samples: dict[int, list[float]]
) -> None:
    ns = netns.add("delay")
    netns.link(None, "198.19.5.1/30", ns, "198.19.5.2/30")
    netns.responder(ns, "--delay", "0.05")
    engine = await probe(one_node("198.19.5.2", interval="60ms"), 100, 0.05)
    median = statistics.median(rtt_samples[id(engine.order[0].stats)])
    print(f"injected 50 ms, measured median {median * 1000:.3f} ms")
    assert abs(median - 0.050) < 0.001


TOPOLOGY = """
probe: {interval: 200ms, timeout: 200ms, down_after: 3}
core:
  nodes:
    - {id: core, address: 127.0.0.1, role: core, owner: diskominfo}
skpd:
  - id: dinkes
    name: Dinas Kesehatan
    nodes:
      - {id: uplink, address: 198.19.1.2, role: uplink, owner: diskominfo, parent: core}
      - {id: gw, address: 198.19.2.2, role: gateway, owner: diskominfo, parent: uplink}
      - {id: sw, address: 198.19.3.2, role: switch, owner: skpd, parent: gw}
"""


def test_down_and_upstream_follow_the_topology_through_three_levels(
    netns: Netns, start_exporter: Callable[..., Exporter]
) -> None:
    a, b, c = netns.add("a"), netns.add("b"), netns.add("c")
    cut = netns.link(None, "198.19.1.1/30", a, "198.19.1.2/30")
    netns.link(a, "198.19.2.1/30", b, "198.19.2.2/30")
    netns.link(b, "198.19.3.1/30", c, "198.19.3.2/30")
    sh("ip", "route", "add", "198.19.2.0/23", "via", "198.19.1.2")
    sh("ip", "-n", a, "route", "add", "default", "via", "198.19.1.1")
    sh("ip", "-n", a, "route", "add", "198.19.3.0/30", "via", "198.19.2.2")
    sh("ip", "-n", b, "route", "add", "default", "via", "198.19.2.1")
    sh("ip", "-n", c, "route", "add", "default", "via", "198.19.3.1")
    exporter = start_exporter(TOPOLOGY)

    def states(text: str) -> dict[str, tuple[float | None, float | None]]:
        return {
            n: (value(text, "sigap_node_up", node=n), value(text, "sigap_node_upstream_up", node=n))
            for n in ("uplink", "gw", "sw")
        }

    exporter.wait_for(lambda t: all(s == (1, 1) for s in states(t).values()))

    # a silent switch: down, its upstream still up (the SKPD's own fault)
    sh("ip", "netns", "exec", c, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1")
    text = exporter.wait_for(lambda t: states(t)["sw"] == (0, 1))
    assert states(text)["gw"] == (1, 1)
    sh("ip", "netns", "exec", c, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=0")
    exporter.wait_for(lambda t: states(t)["sw"] == (1, 1))

    # the uplink cut: everything behind it is down, and only the uplink has its upstream up
    sh("ip", "link", "set", cut, "down")
    text = exporter.wait_for(lambda t: states(t) == {"uplink": (0, 1), "gw": (0, 0), "sw": (0, 0)})
    errors = samples(text, "sigap_probe_send_errors_total")
    assert {dict(k)["reason"] for k in errors} & {"host_unreachable", "network_unreachable"}
    assert value(text, "sigap_node_up", node="core") == 1
    sh("ip", "link", "set", cut, "up")
    sh("ip", "route", "replace", "198.19.2.0/23", "via", "198.19.1.2")
    exporter.wait_for(lambda t: all(s == (1, 1) for s in states(t).values()))


REDUNDANT = """
probe: {interval: 200ms, timeout: 200ms, down_after: 3}
core:
  nodes:
    - {id: core, address: 127.0.0.1, role: core, owner: diskominfo}
skpd:
  - id: rsud
    name: RSUD
    nodes:
      - {id: fibre, address: 198.19.21.2, role: uplink, owner: diskominfo, parent: core}
      - {id: radio, address: 198.19.22.2, role: radio, owner: diskominfo, parent: core}
      - {id: gw, address: 198.19.23.2, role: gateway, owner: diskominfo, parents: [fibre, radio]}
      - {id: sw, address: 198.19.24.2, role: switch, owner: skpd, parent: gw}
"""


def test_a_redundant_gateway_stays_reachable_on_one_path_and_is_cut_off_by_both(
    netns: Netns, start_exporter: Callable[..., Exporter]
) -> None:
    names = ("fibre", "radio", "gw", "sw")
    spaces = {}
    for i, name in enumerate(names, start=21):
        spaces[name] = netns.add(name)
        netns.link(None, f"198.19.{i}.1/30", spaces[name], f"198.19.{i}.2/30")
    exporter = start_exporter(REDUNDANT)

    def silence(name: str, on: bool) -> None:
        sh("ip", "netns", "exec", spaces[name], "sysctl", "-qw",
           f"net.ipv4.icmp_echo_ignore_all={int(on)}")  # fmt: skip

    def states(text: str) -> dict[str, tuple[float | None, ...]]:
        return {
            n: tuple(
                value(text, metric, node=n)
                for metric in (
                    "sigap_node_up",
                    "sigap_node_upstream_up",
                    "sigap_node_upstream_paths_up",
                    "sigap_node_bypassed",
                )
            )
            for n in names
        }

    text = exporter.wait_for(lambda t: all(s[0] == 1 for s in states(t).values()))
    assert value(text, "sigap_node_upstream_paths", node="gw") == 2
    assert value(text, "sigap_node_upstream_paths", node="sw") == 1
    assert value(text, "sigap_node_upstream_paths", node="core") == 0
    assert value(text, "sigap_node_info", node="gw", parent="fibre", handover="true") == 1
    assert value(text, "sigap_node_info", node="fibre", handover="false") == 1
    edges = {dict(k)["parent"] for k in samples(text, "sigap_node_parent_info") if
             dict(k)["node"] == "gw"}  # fmt: skip
    assert edges == {"fibre", "radio"}

    # the fibre cut: the gateway runs on the radio link; nothing is cut off
    silence("fibre", True)
    text = exporter.wait_for(lambda t: states(t)["fibre"] == (0, 1, 1, 1))
    assert states(text)["gw"] == (1, 1, 1, 0) and states(text)["sw"] == (1, 1, 1, 0)
    assert states(text)["radio"] == (1, 1, 1, 0)

    # the radio too: the gateway is cut off, and each link is an outage of its own
    silence("radio", True)
    silence("gw", True)
    silence("sw", True)
    # (each node's down_after counts from its own last reply: wait for both to be counted)
    text = exporter.wait_for(lambda t: states(t)["gw"] == states(t)["sw"] == (0, 0, 0, 0))
    assert states(text)["fibre"] == (0, 1, 1, 0) and states(text)["radio"] == (0, 1, 1, 0)

    for name in names:
        silence(name, False)
    text = exporter.wait_for(lambda t: all(s[0] == s[1] == 1 for s in states(t).values()))
    assert states(text)["gw"] == (1, 1, 2, 0)
