#!/usr/bin/env python3
"""The exporter at 1,000-20,000 nodes beside smokeping_prober and blackbox_exporter, same targets.

    .venv/bin/python benchmarks/bench_exporter.py                    # 1k 5k 10k 20k, 60 s windows
    .venv/bin/python benchmarks/bench_exporter.py --sizes 1000,20000 --duration 20

Targets: 90 % loopback addresses (127.1.x.y), 10 % silent hosts in a network namespace
(`sgb-silent`, 198.19.128.0/17, icmp_echo_ignore_all=1), so probes overlap as on a real network.
Each prober runs alone at a 1 s interval (blackbox: one /probe per target per 15 s, as Prometheus
drives it), after a warm-up, for --duration seconds, while /metrics is fetched every
--scrape-interval seconds (2 s, as the shipped prometheus.yml scrapes), so the CPU includes the
exposition. Printed per run: probes/s, CPU-seconds per 1,000 probes, peak RSS, schedule lag p99
(sigap), false loss (loss on loopback targets, which all answer), and a GET /metrics' time and
size. Needs root (raw sockets, the namespace), and the Debian packages
prometheus-smokeping-prober and prometheus-blackbox-exporter (installed when missing).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
SILENT_NS = "sgb-silent"
SMOKEPING = "/usr/bin/prometheus-smokeping-prober"
BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    prober: str
    nodes: int
    probes_per_second: float = 0.0
    cpu_per_1000: float = 0.0
    cpu_cores: float = 0.0
    peak_rss_mib: float = 0.0
    lag_p99_ms: float | None = None
    false_loss: float | None = None
    scrape_seconds: float | None = None
    scrape_mib: float | None = None
    note: str = ""

    def row(self) -> str:
        def f(v: float | None, fmt: str) -> str:
            return "-" if v is None else format(v, fmt)

        return (
            f"| {self.prober} | {self.nodes:,} | {self.probes_per_second:,.0f} | "
            f"{self.cpu_per_1000:.4f} | {self.cpu_cores:.2f} | {self.peak_rss_mib:.0f} | "
            f"{f(self.lag_p99_ms, '.1f')} | {f(self.false_loss, '.3%')} | "
            f"{f(self.scrape_seconds, '.2f')} | {f(self.scrape_mib, '.1f')} | {self.note} |"
        )


HEADER = (
    "| prober | nodes | probes/s | CPU-s / 1,000 probes | CPU cores | peak RSS MiB | "
    "lag p99 ms | false loss | scrape s | scrape MiB | note |\n|" + "---|" * 11
)


def targets(n: int) -> tuple[list[str], list[str]]:
    """(loopback, silent) addresses: 90 % and 10 % of n."""
    silent = n // 10
    loopback = [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(n - silent)]
    quiet = [f"198.19.{128 + i // 250}.{i % 250 + 1}" for i in range(silent)]
    return loopback, quiet


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


@contextlib.contextmanager
def silent_hosts(addresses: list[str]) -> Iterator[None]:
    subprocess.run(["ip", "netns", "del", SILENT_NS], capture_output=True)
    sh("ip", "netns", "add", SILENT_NS)
    try:
        sh("ip", "link", "add", "sgb-r", "type", "veth", "peer", "name", "eth0", "netns", SILENT_NS)
        sh("ip", "addr", "add", "198.19.127.253/30", "dev", "sgb-r")
        sh("ip", "link", "set", "sgb-r", "up")
        sh("ip", "-n", SILENT_NS, "addr", "add", "198.19.127.254/30", "dev", "eth0")
        sh("ip", "-n", SILENT_NS, "link", "set", "eth0", "up")
        sh("ip", "-n", SILENT_NS, "link", "set", "lo", "up")
        sh("ip", "netns", "exec", SILENT_NS, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1")
        batch = "".join(f"addr add {a}/32 dev lo\n" for a in addresses)
        subprocess.run(["ip", "-n", SILENT_NS, "-batch", "-"], input=batch.encode(), check=True)
        sh("ip", "route", "add", "198.19.128.0/17", "via", "198.19.127.254")
        yield
    finally:
        subprocess.run(["ip", "netns", "del", SILENT_NS], capture_output=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def get(url: str, timeout: float = 60) -> tuple[str, float]:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = response.read().decode()
    return body, time.perf_counter() - start


def wait_http(url: str, process: subprocess.Popen[bytes], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=5).read()
            return True
        time.sleep(0.2)
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sums(text: str, name: str, loopback_only: bool, address_label: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name != name:
                continue
            if loopback_only and not sample.labels.get(address_label, "").startswith("127."):
                continue
            total += sample.value
    return total


def histogram_p99(before: str, after: str, name: str) -> float | None:
    def buckets(text: str) -> dict[float, float]:
        out: dict[float, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name + "_bucket":
                    out[float(sample.labels["le"])] = sample.value
        return out

    b0, b1 = buckets(before), buckets(after)
    delta = sorted((le, b1[le] - b0.get(le, 0.0)) for le in b1)
    if not delta or delta[-1][1] <= 0:
        return None
    total = delta[-1][1]
    for le, count in delta:
        if count >= 0.99 * total:
            return le
    return None


@contextlib.contextmanager
def scraping(url: str, interval: float) -> Iterator[None]:
    """GET /metrics every `interval` seconds meanwhile, as Prometheus would, so the CPU figures
    include the exposition at the scrape rate the shipped prometheus.yml uses."""
    stopped = threading.Event()

    def loop() -> None:
        while not stopped.wait(interval):
            with contextlib.suppress(OSError):
                get(url)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join()


def measure_scraped(
    name: str,
    n: int,
    command: list[str],
    url: str,
    duration: float,
    sent: str,
    received: str,
    address_label: str,
    lag: str | None,
    scrape_interval: float,
    note: str = "",
) -> Result:
    result = Result(name, n, note=note)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
        try:
            if not wait_http(url, process, limit=120):
                result.note = "did not serve /metrics within 120 s"
                return result
            time.sleep(10)  # warm-up: every node probed a few times
            before, _ = get(url)
            cpu0, t0 = cpu_seconds(process.pid), time.monotonic()
            with scraping(url, scrape_interval):
                time.sleep(duration)
            after, scrape = get(url)
            cpu1, t1 = cpu_seconds(process.pid), time.monotonic()
            result.peak_rss_mib = peak_rss_mib(process.pid)
        finally:
            stop(process)
    probes = sums(after, sent, False, address_label) - sums(before, sent, False, address_label)
    lo_sent = sums(after, sent, True, address_label) - sums(before, sent, True, address_label)
    lo_recv = sums(after, received, True, address_label) - sums(
        before, received, True, address_label
    )
    result.probes_per_second = probes / (t1 - t0)
    result.cpu_cores = (cpu1 - cpu0) / (t1 - t0)
    result.cpu_per_1000 = (cpu1 - cpu0) / (probes / 1000) if probes else float("nan")
    # Replies to requests sent just before the first reading can make this a hair negative.
    result.false_loss = max(0.0, 1 - lo_recv / lo_sent) if lo_sent else None
    result.scrape_seconds, result.scrape_mib = scrape, len(after.encode()) / 2**20
    if lag:
        p99 = histogram_p99(before, after, lag)
        result.lag_p99_ms = None if p99 is None else p99 * 1000
    return result


def run_sigap(n: int, duration: float, scrape_interval: float, workdir: Path) -> Result:
    loopback, silent = targets(n)
    lines = ["probe: {interval: 1s, timeout: 1s, down_after: 3}", "skpd:"]
    for chunk in range(0, n, 100):
        lines.append(f"  - {{id: s{chunk}, name: S{chunk}, nodes: [")
        lines.extend(
            f"      {{id: n{i}, address: {a}, role: host, owner: skpd}},"
            for i, a in enumerate((loopback + silent)[chunk : chunk + 100], start=chunk)
        )
        lines.append("    ]}")
    config = workdir / f"sigap-{n}.yml"
    config.write_text("\n".join(lines) + "\n")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "exporter.cli",
        "--config.file",
        str(config),
        "--web.listen-address",
        f"127.0.0.1:{port}",
    ]
    return measure_scraped(
        "sigap-exporter",
        n,
        command,
        f"http://127.0.0.1:{port}/metrics",
        duration,
        "sigap_probe_packets_sent_total",
        "sigap_probe_packets_received_total",
        "address",
        "sigap_exporter_schedule_lag_seconds",
        scrape_interval,
    )


@contextlib.contextmanager
def ping_group_range(value: str) -> Iterator[None]:
    """smokeping's udp mode needs datagram ICMP sockets, which the kernel allows by group only."""
    path = Path("/proc/sys/net/ipv4/ping_group_range")
    old = " ".join(path.read_text().split())
    path.write_text(value)
    try:
        yield
    finally:
        path.write_text(old)


def run_smokeping(
    n: int, duration: float, scrape_interval: float, workdir: Path, protocol: str
) -> Result:
    if protocol == "udp":
        with ping_group_range("0 2147483647"):
            return _run_smokeping(n, duration, scrape_interval, workdir, protocol)
    return _run_smokeping(n, duration, scrape_interval, workdir, protocol)


def _run_smokeping(
    n: int, duration: float, scrape_interval: float, workdir: Path, protocol: str
) -> Result:
    loopback, silent = targets(n)
    config = workdir / f"smokeping-{n}.yml"
    hosts = "".join(f"  - {h}\n" for h in loopback + silent)
    config.write_text(
        f"targets:\n- interval: 1s\n  network: ip4\n  protocol: {protocol}\n  hosts:\n{hosts}"
    )
    port = free_port()
    command = [SMOKEPING, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"]
    return measure_scraped(
        f"smokeping_prober ({protocol})",
        n,
        command,
        f"http://127.0.0.1:{port}/metrics",
        duration,
        "smokeping_requests_total",
        "smokeping_response_duration_seconds_count",
        "host",
        None,
        scrape_interval,
    )


async def _drive_blackbox(url: str, hosts: list[str], duration: float) -> tuple[int, int, int]:
    import aiohttp  # the webhook's dependency; only this driver needs it here

    interval, issued, ok_loopback, loopback = 15.0, 0, 0, 0
    # Prometheus scrapes every target in its own loop: no global limit on requests in flight.
    # A silent host holds its request for the whole timeout, so the cap must exceed
    # (probes/s x 10 % silent x timeout) or the driver, not the exporter, sets the rate.
    semaphore = asyncio.Semaphore(2000)
    start = time.monotonic()

    async def probe(session: aiohttp.ClientSession, host: str, at: float) -> None:
        nonlocal issued, ok_loopback, loopback
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        async with semaphore:
            issued += 1
            # blackbox waits the scrape timeout less 0.5 s: a 1 s echo timeout, as the others
            headers = {"X-Prometheus-Scrape-Timeout-Seconds": "1.5"}
            params = {"module": "icmp", "target": host}
            async with session.get(url, params=params, headers=headers) as response:
                body = await response.text()
        if host.startswith("127."):
            loopback += 1
            ok_loopback += "probe_success 1" in body

    connector = aiohttp.TCPConnector(limit=0)  # the pool's default 100 would cap it too
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        jobs = []
        rounds = max(1, int(duration // interval))
        for r in range(rounds):
            for i, host in enumerate(hosts):
                jobs.append(probe(session, host, start + r * interval + i * interval / len(hosts)))
        await asyncio.gather(*jobs, return_exceptions=True)
    return issued, ok_loopback, loopback


def run_blackbox(n: int, duration: float, workdir: Path) -> Result:
    loopback, silent = targets(n)
    config = workdir / "blackbox.yml"
    config.write_text("modules:\n  icmp:\n    prober: icmp\n")
    port = free_port()
    result = Result("blackbox_exporter (/probe per target, 15 s)", n)
    process = subprocess.Popen(
        [BLACKBOX, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics", process, 30)
        cpu0, t0 = cpu_seconds(process.pid), time.monotonic()
        issued, ok, lo = asyncio.run(
            _drive_blackbox(f"http://127.0.0.1:{port}/probe", loopback + silent, duration)
        )
        cpu1, t1 = cpu_seconds(process.pid), time.monotonic()
        result.peak_rss_mib = peak_rss_mib(process.pid)
    finally:
        stop(process)
    result.probes_per_second = issued / (t1 - t0)
    result.cpu_cores = (cpu1 - cpu0) / (t1 - t0)
    result.cpu_per_1000 = (cpu1 - cpu0) / (issued / 1000) if issued else float("nan")
    result.false_loss = 1 - ok / lo if lo else None
    result.note = "Prometheus-style /probe per target; no continuous probing"
    return result


def ensure_packages() -> None:
    missing = [
        p
        for p, b in (
            ("prometheus-smokeping-prober", SMOKEPING),
            ("prometheus-blackbox-exporter", BLACKBOX),
        )
        if not Path(b).exists()
    ]
    if missing and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *missing],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000,20000")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument(
        "--scrape-interval",
        type=float,
        default=2.0,
        help="GET /metrics this often during the window (2 s: the shipped prometheus.yml)",
    )
    parser.add_argument("--only", choices=["sigap", "smokeping", "blackbox"], action="append")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("needs root: raw ICMP sockets and a network namespace")
    ensure_packages()
    sizes = [int(s) for s in args.sizes.split(",")]
    probers = args.only or ["sigap", "smokeping", "blackbox"]
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for n in sizes:
            with silent_hosts(targets(n)[1]):
                window = (n, args.duration, args.scrape_interval, workdir)
                if "sigap" in probers:
                    print(run_sigap(*window).row(), flush=True)
                if "smokeping" in probers:
                    print(run_smokeping(*window, "udp").row(), flush=True)
                    if n <= 1000:  # raw mode saturates both cores from 1,000 nodes on
                        print(run_smokeping(*window, "icmp").row(), flush=True)
                if "blackbox" in probers and n <= 10000:
                    duration = max(args.duration, 30.0)
                    print(run_blackbox(n, duration, workdir).row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
