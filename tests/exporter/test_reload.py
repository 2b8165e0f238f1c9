"""Reloads touch only what changed: unchanged nodes keep their schedule, counters and state, even
under a reload every 100 ms; changed nodes restart under their new labels; removed nodes' series
go; /-/reload needs --web.enable-lifecycle while SIGHUP always reloads."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable

import pytest

from exporter.inventory import parse_inventory
from exporter.prober import ProbeEngine

from .conftest import Exporter, needs_root, samples, value

pytestmark = [pytest.mark.root, needs_root]
StartExporter = Callable[..., Exporter]


def loopback(count: int, interval: str = "250ms", **labels: dict[str, str]) -> str:
    """`count` nodes n1..nN on 127.0.0.1..N; `labels` adds labels to a node by id."""
    nodes = "".join(
        f"      - {{id: n{i}, address: 127.0.0.{i}, role: host, owner: skpd"
        + (f", labels: {labels[f'n{i}']}" if f"n{i}" in labels else "")
        + "}\n"
        for i in range(1, count + 1)
    )
    return (
        f"probe: {{interval: {interval}, timeout: {interval}, down_after: 3}}\n"
        f"skpd:\n  - id: t\n    name: T\n    nodes:\n{nodes}"
    )


def sent(text: str) -> dict[str, float]:
    return {dict(k)["node"]: v for k, v in samples(text, "sigap_probe_packets_sent_total").items()}


class MovedClock:
    """The probe engine's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def probe_for(engine: ProbeEngine, clock: MovedClock, seconds: float) -> None:
    """Step `engine` through `seconds` of its clock as `run` does, from one due time to the
    next; the real replies (loopback) of each step are received before time moves on."""
    end = clock.now + seconds
    while True:
        due = engine.tick(clock.now)
        deadline = time.monotonic() + 2.0  # real time: the replies come by the event loop
        while any(t.outstanding is not None for t in engine.targets.values()):
            assert time.monotonic() < deadline, "loopback did not answer"
            await asyncio.sleep(0.001)
        if due > end:
            break
        clock.now = due
    clock.now = end


async def test_apply_keeps_unchanged_nodes_and_restarts_changed_ones() -> None:
    clock = MovedClock()
    engine = ProbeEngine(monotonic=clock)
    engine.apply(parse_inventory(loopback(4, n2={"rack": "a"}), resolve=None))
    try:
        with engine.listening():
            await probe_for(engine, clock, 1.1)
            before = {t.node.id: t for t in engine.order}
            counts = {n: t.stats.sent for n, t in before.items()}
            assert min(counts.values()) >= 4 and all(t.stats.up for t in before.values())
            # n1: unchanged; n2: a label changed; n3: a new interval; n4: removed; n5: added
            changed = loopback(5, n2={"rack": "b"}).replace(
                "address: 127.0.0.3, role: host, owner: skpd",
                "address: 127.0.0.3, role: host, owner: skpd, interval: 100ms, timeout: 100ms",
            )
            changed = changed.replace(
                "      - {id: n4, address: 127.0.0.4, role: host, owner: skpd}\n", ""
            )
            engine.apply(parse_inventory(changed, resolve=None))
            after = {t.node.id: t for t in engine.order}
            assert set(after) == {"n1", "n2", "n3", "n5"}
            assert after["n1"] is before["n1"] and after["n1"].stats.sent == counts["n1"]
            assert after["n1"].stats.up is True
            assert after["n3"] is before["n3"]  # same series: history kept, new interval
            assert after["n3"].interval == 0.1
            assert after["n2"] is not before["n2"] and after["n2"].stats.sent == 0
            assert after["n2"].node.labels == {"rack": "b"}
            assert before["n4"].slot not in engine.targets
            await probe_for(engine, clock, 1.0)
            assert 8 <= after["n3"].stats.sent - counts["n3"] <= 11  # at 100 ms now
            assert 3 <= after["n1"].stats.sent - counts["n1"] <= 5
            assert after["n5"].stats.up is True and after["n2"].stats.up is True
    finally:
        engine.close()


def test_reload_needs_web_enable_lifecycle_and_sighup_always_reloads(
    start_exporter: StartExporter,
) -> None:
    exporter = start_exporter(loopback(1))
    exporter.config.write_text(loopback(2))
    status, body = exporter.post("/-/reload")
    assert status == 403 and "--web.enable-lifecycle" in body
    time.sleep(0.5)
    assert value(exporter.get(), "sigap_node_info", node="n2") is None  # not reloaded
    exporter.process.send_signal(signal.SIGHUP)
    exporter.wait_for(lambda t: value(t, "sigap_node_up", node="n2") == 1)

    enabled = start_exporter(loopback(1), "--web.enable-lifecycle")
    enabled.config.write_text(loopback(2))
    assert enabled.post("/-/reload") == (200, "Reloaded.\n")
    enabled.wait_for(lambda t: value(t, "sigap_node_up", node="n2") == 1)


def test_a_reload_every_100_ms_leaves_every_node_probed_at_its_normal_rate(
    start_exporter: StartExporter,
) -> None:
    exporter = start_exporter(loopback(10), "--web.enable-lifecycle")
    exporter.wait_for(lambda t: len(sent(t)) == 10 and min(sent(t).values()) >= 2)
    stop = threading.Event()
    statuses: list[int] = []

    def reload_storm() -> None:
        while not stop.is_set():
            statuses.append(exporter.post("/-/reload")[0])
            time.sleep(0.1)

    storm = threading.Thread(target=reload_storm)
    start_counts, started = sent(exporter.get()), time.monotonic()
    storm.start()
    try:
        time.sleep(4.0)
    finally:
        stop.set()
        storm.join()
    text = exporter.get()
    elapsed = time.monotonic() - started
    expected = elapsed / 0.25
    increases = {n: c - start_counts[n] for n, c in sent(text).items()}
    print(
        f"{len(statuses)} reloads in {elapsed:.1f} s; probes per node:", sorted(increases.values())
    )
    assert len(statuses) >= 25 and set(statuses) == {200}
    for node, increase in increases.items():
        assert expected - 2 <= increase <= expected + 1, (node, increase, expected)
        assert value(text, "sigap_node_up", node=node) == 1
        assert value(text, "sigap_node_packet_loss_ratio", node=node) == 0


def test_a_reload_relabels_a_changed_node_and_drops_a_removed_nodes_series(
    start_exporter: StartExporter,
) -> None:
    exporter = start_exporter(loopback(3, n2={"rack": "a"}), "--web.enable-lifecycle")
    exporter.wait_for(lambda t: len(samples(t, "sigap_node_up")) == 3)
    exporter.config.write_text(loopback(2, n2={"rack": "b"}))
    assert exporter.post("/-/reload")[0] == 200
    text = exporter.wait_for(lambda t: value(t, "sigap_node_up", node="n2", rack="b") == 1)
    for name in ("sigap_node_up", "sigap_probe_packets_sent_total", "sigap_node_info"):
        series = [dict(k) for k in samples(text, name)]
        assert {s["node"] for s in series} == {"n1", "n2"}, name
        assert [s.get("rack") for s in series if s["node"] == "n2"] == ["b"], name
