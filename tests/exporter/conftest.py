"""Fixtures of the exporter tests: a running `sigap-exporter`, network namespaces, metrics."""

from __future__ import annotations

import base64
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
RESPONDER = ROOT / "scripts" / "icmp_responder.py"
NETNS_PREFIX = "sgx-"
"""Namespaces of these tests; addresses come from 198.19.0.0/16 only."""
SAFETY_ROUTE = ("unreachable", "198.19.0.0/16", "metric", "4000")
"""While a test runs, a cut link makes its addresses unreachable instead of sending the probes
out of the machine's default route."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sh(*args: str) -> str:
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def samples(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """Every sample called `name` in an exposition, keyed by its label set."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[frozenset(sample.labels.items())] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float | None:
    for key, v in samples(text, name).items():
        if set(labels.items()) <= key:
            return v
    return None


@dataclass
class Exporter:
    url: str
    process: subprocess.Popen[str]
    config: Path
    log: Path
    context: ssl.SSLContext | None = None
    """The client side of TLS, for an exporter started with a web config."""
    auth: tuple[str, str] | None = None
    """Basic auth sent with every request unless a call says otherwise."""

    def request(
        self, path: str, method: str = "GET", auth: tuple[str, str] | bool | None = True
    ) -> urllib.request.Request:
        request = urllib.request.Request(self.url + path, method=method)
        credentials = self.auth if auth is True else auth or None
        if credentials:
            token = base64.b64encode(":".join(credentials).encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        return request

    def get(self, path: str = "/metrics") -> str:
        with urllib.request.urlopen(self.request(path), timeout=10, context=self.context) as r:
            return str(r.read().decode())

    def fetch(
        self, path: str, method: str = "GET", auth: tuple[str, str] | bool | None = True
    ) -> tuple[int, dict[str, str], str]:
        """(status, headers, body), whatever the status."""
        request = self.request(path, method, auth)
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.context) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def post(self, path: str) -> tuple[int, str]:
        status, _headers, body = self.fetch(path, "POST")
        return status, body

    def wait_for(self, check: object, timeout: float = 15.0) -> str:
        """Poll /metrics until `check(text)` is true; returns that text."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.get()
            if check(text):  # type: ignore[operator]
                return text
            time.sleep(0.1)
        raise AssertionError(f"condition not met in {timeout} s; last metrics:\n{text[-3000:]}")


@pytest.fixture
def start_exporter(tmp_path: Path) -> Iterator[object]:
    started: list[Exporter] = []

    def start(
        inventory: str,
        *extra: str,
        context: ssl.SSLContext | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Exporter:
        """Start an exporter; `context` (TLS) and `auth` (basic auth) are how to reach it when
        `extra` passes a --web.config.file."""
        config = tmp_path / f"inventory-{len(started)}.yml"
        config.write_text(inventory)
        log = tmp_path / f"exporter-{len(started)}.log"
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "exporter.cli",
                "--config.file",
                str(config),
                "--web.listen-address",
                f"127.0.0.1:{port}",
                *extra,
            ],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
        scheme = "https" if context else "http"
        exporter = Exporter(f"{scheme}://127.0.0.1:{port}", process, config, log, context, auth)
        started.append(exporter)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"exporter exited: {log.read_text()}")
            try:
                exporter.get("/-/ready")
                return exporter
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"exporter not ready: {log.read_text()}")

    yield start
    for exporter in started:
        if exporter.process.poll() is None:
            exporter.process.send_signal(signal.SIGTERM)
            exporter.process.wait(10)


needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: network namespaces and raw ICMP sockets"
)


@dataclass
class Netns:
    """Namespaces and veth links of one test; everything is deleted afterwards."""

    namespaces: list[str] = field(default_factory=list)
    root_links: list[str] = field(default_factory=list)
    responders: list[subprocess.Popen[str]] = field(default_factory=list)

    def add(self, name: str) -> str:
        ns = NETNS_PREFIX + name
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        return ns

    def link(self, left: str | None, left_cidr: str, right: str, right_cidr: str) -> str:
        """A veth between `left` (None: the root namespace) and `right`; returns the left end."""
        left_if = f"{NETNS_PREFIX}{right[len(NETNS_PREFIX) :]}-up"[:15]
        right_if = "eth-up"
        sh("ip", "link", "add", left_if, "type", "veth", "peer", "name", right_if, "netns", right)
        if left is None:
            self.root_links.append(left_if)
            sh("ip", "addr", "add", left_cidr, "dev", left_if)
            sh("ip", "link", "set", left_if, "up")
        else:
            sh("ip", "link", "set", left_if, "netns", left)
            sh("ip", "-n", left, "addr", "add", left_cidr, "dev", left_if)
            sh("ip", "-n", left, "link", "set", left_if, "up")
        sh("ip", "-n", right, "addr", "add", right_cidr, "dev", right_if)
        sh("ip", "-n", right, "link", "set", right_if, "up")
        return left_if

    def responder(self, ns: str, *args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, str(RESPONDER), *args],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        self.responders.append(process)
        return process

    def cleanup(self) -> None:
        for process in self.responders:
            if process.poll() is None:
                process.terminate()
                process.wait(5)
        for link in self.root_links:
            subprocess.run(["ip", "link", "del", link], capture_output=True)
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _leftover_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(NETNS_PREFIX)]


@pytest.fixture
def netns() -> Iterator[Netns]:
    if os.geteuid() != 0:
        pytest.skip("needs root: network namespaces")
    for ns in _leftover_namespaces():  # a crashed earlier run
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    subprocess.run(["ip", "route", "replace", *SAFETY_ROUTE], capture_output=True, check=True)
    lab = Netns()
    try:
        yield lab
    finally:
        lab.cleanup()
        subprocess.run(["ip", "route", "del", *SAFETY_ROUTE], capture_output=True)
