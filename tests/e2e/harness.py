"""Start the real SIGAP stack for end-to-end tests: Prometheus and Alertmanager from the shipped
configs (deploy/) with only ports, URLs and paths templated, the exporter and the webhook.

Each ``start_*`` function starts one process on a free 127.0.0.1 port, waits until it is ready
and returns a `Service`; ``service.stop()`` ends it (by its PID) and is safe to call twice.

    with tempfile.TemporaryDirectory() as tmp:
        webhook = start_webhook(Path(tmp), token="t0ken")
        alertmanager = start_alertmanager(Path(tmp), webhook_url=webhook.url, token="t0ken")
        exporter = start_exporter(Path(tmp), INVENTORY)
        prometheus = start_prometheus(Path(tmp), exporter=exporter.url,
                                      alertmanager=alertmanager.url, webhook=webhook.url)
        ...  # prometheus.url, e.g. http://127.0.0.1:40123
        for service in (prometheus, exporter, alertmanager, webhook):
            service.stop()

Or all four wired together: ``stack = Stack(tmp); stack.start(); ...; stack.stop()``.
`missing_binaries()` names what is not installed, for a clear ``pytest.skip``; `load_lab_module()`
imports scripts/lab.py (its `Lab` builds the example network; needs root).

Other test folders import it the way tests/e2e does:
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest
import yaml

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
ALERTMANAGER_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
INVENTORY = DEPLOY / "inventory.example.yml"
BIN = Path(sys.executable).parent
"""The venv's bin directory, where the sigap-* console scripts are."""

PROMETHEUS = "prometheus"
ALERTMANAGER = "prometheus-alertmanager"
EXPORTER = "sigap-exporter"
WEBHOOK = "sigap-webhook"


def which(name: str) -> str | None:
    """A sigap-* script from this venv first, then PATH (Debian puts the others in /usr/bin)."""
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name)


def missing_binaries(*names: str) -> list[str]:
    return [n for n in (names or (PROMETHEUS, ALERTMANAGER, EXPORTER, WEBHOOK)) if not which(n)]


def free_port() -> int:
    """A port free right now on 127.0.0.1 (the process binds it right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    name: str
    url: str
    """Base URL, e.g. ``http://127.0.0.1:40123``."""
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def address(self) -> str:
        """``host:port``, as scrape targets and listen addresses are written."""
        return self.url.removeprefix("http://")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def start(
    name: str,
    argv: list[str],
    *,
    workdir: Path,
    url: str,
    ready_path: str = "/-/ready",
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Service:
    """Start ``argv`` with its output in ``workdir/<name>.log``; return once ``url+ready_path``
    answers 200 (or raise with the log's tail)."""
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=workdir,
        )
    service = Service(name, url, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{service.log_tail()}")
        try:
            with urllib.request.urlopen(url + ready_path, timeout=2) as response:
                if response.status == 200:
                    return service
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    service.stop()
    raise RuntimeError(f"{name} not ready after {timeout} s:\n{service.log_tail()}")


# --- the shipped configs, templated ---------------------------------------------------------------


def prometheus_config(
    *, exporter: str, alertmanager: str, webhook: str | None = None, prometheus: str | None = None
) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with the targets replaced (``host:port`` or URLs) and the
    rule files made absolute; everything else (intervals, rules) as shipped."""
    config: dict[str, Any] = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    config["rule_files"] = [str(PROMETHEUS_CONFIG.parent / p) for p in config["rule_files"]]
    config["alerting"]["alertmanagers"] = [
        {"static_configs": [{"targets": [_hostport(alertmanager)]}]}
    ]
    targets = {
        "sigap-exporter": exporter,
        "sigap-webhook": webhook,
        "prometheus": prometheus,
        "alertmanager": alertmanager,
    }
    jobs = []
    for job in config["scrape_configs"]:
        target = targets.get(job["job_name"])
        if target is not None:
            job["static_configs"] = [{"targets": [_hostport(target)]}]
            jobs.append(job)
    config["scrape_configs"] = jobs
    return config


def alertmanager_config(
    *, webhook_url: str, token_file: Path, smtp_port: int | None = None
) -> dict[str, Any]:
    """deploy/alertmanager/alertmanager.yml pointing at ``webhook_url`` (the webhook's base URL)
    with the bearer token read from ``token_file``; with ``smtp_port``, its mail goes to the SMTP
    server on that loopback port (no TLS, no login: aiosmtpd on loopback offers neither)."""
    config: dict[str, Any] = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = webhook_url.rstrip("/") + "/api/v1/alertmanager"
            hook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    if smtp_port is not None:
        smtp = config["global"]
        smtp["smtp_smarthost"] = f"127.0.0.1:{smtp_port}"
        smtp["smtp_require_tls"] = False
        del smtp["smtp_auth_username"], smtp["smtp_auth_password_file"]
    return config


@dataclass
class Mailbox:
    """What a real SMTP server (aiosmtpd) received; it calls `handle_DATA` on its own thread."""

    messages: list[tuple[float, list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append((time.monotonic(), list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[tuple[float, EmailMessage]]:
        with self.lock:
            return [(at, m) for at, rcpts, m in self.messages if address in rcpts]


def _hostport(target: str) -> str:
    return target.removeprefix("http://").removeprefix("https://").rstrip("/")


# --- the services ---------------------------------------------------------------------------------


def start_prometheus(
    workdir: Path,
    *,
    exporter: str,
    alertmanager: str,
    webhook: str | None = None,
    port: int | None = None,
) -> Service:
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    config = workdir / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            prometheus_config(
                exporter=exporter, alertmanager=alertmanager, webhook=webhook, prometheus=url
            )
        )
    )
    argv = [
        which(PROMETHEUS) or PROMETHEUS,
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    return start("prometheus", argv, workdir=workdir, url=url)


def start_alertmanager(
    workdir: Path, *, webhook_url: str, token: str, smtp_port: int | None = None
) -> Service:
    port = free_port()
    token_file = workdir / "alertmanager-token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    config = workdir / "alertmanager.yml"
    config.write_text(
        yaml.safe_dump(
            alertmanager_config(webhook_url=webhook_url, token_file=token_file, smtp_port=smtp_port)
        )
    )
    argv = [
        which(ALERTMANAGER) or ALERTMANAGER,
        f"--config.file={config}",
        f"--storage.path={workdir / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # a single instance: no gossip port
    ]
    return start("alertmanager", argv, workdir=workdir, url=f"http://127.0.0.1:{port}")


def start_exporter(workdir: Path, inventory: Path = INVENTORY) -> Service:
    port = free_port()
    argv = [
        which(EXPORTER) or EXPORTER,
        f"--config.file={inventory}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    return start("exporter", argv, workdir=workdir, url=f"http://127.0.0.1:{port}")


def webhook_env(workdir: Path, token: str, **extra: str) -> dict[str, str]:
    """The webhook's environment: SQLite in ``workdir``, the Alertmanager bearer token."""
    return {
        "SIGAP_DATABASE_URL": f"sqlite:///{workdir / 'sigap.db'}",
        "SIGAP_ALERTMANAGER_TOKEN": token,
        "SIGAP_SECRET_KEY": "e2e-secret-key-e2e-secret-key-0123456789",
        "SIGAP_INVENTORY": str(INVENTORY),
        **extra,
    }


def start_webhook(
    workdir: Path, *, token: str, config: dict[str, Any] | None = None, **env: str
) -> Service:
    """``env`` adds SIGAP_* settings (e.g. SIGAP_ALERTMANAGER_URL=...); ``config`` is written as
    the ``--config.file`` (sections such as ``notify:`` and ``escalation:``)."""
    port = free_port()
    argv = [which(WEBHOOK) or WEBHOOK, f"--web.listen-address=127.0.0.1:{port}"]
    if config is not None:
        config_file = workdir / "webhook.yml"
        config_file.write_text(yaml.safe_dump(config))
        argv.append(f"--config.file={config_file}")
    return start(
        "webhook",
        argv,
        workdir=workdir,
        url=f"http://127.0.0.1:{port}",
        env=webhook_env(workdir, token, **env),
    )


def webhook_cli(workdir: Path, token: str, *args: str, stdin: str | None = None) -> str:
    """Run ``sigap-webhook ARGS`` on the webhook's database in ``workdir``; its stdout."""
    env = {**os.environ, **webhook_env(workdir, token)}
    argv = [which(WEBHOOK) or WEBHOOK, "--log.level", "warning", *args]
    result = subprocess.run(argv, env=env, cwd=workdir, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"sigap-webhook {' '.join(args)}: {result.stderr}")
    return result.stdout


def create_api_token(workdir: Path, *, token: str, name: str = "e2e") -> str:
    """A bearer token for the webhook's JSON API: a coordinator ``name`` and its token
    (``sigap-webhook user add`` + ``token create``)."""
    add = ("user", "add", name, "--role", "coordinator", "--password-stdin")
    webhook_cli(workdir, token, *add, stdin="e2e-password-0\n")
    return webhook_cli(workdir, token, "token", "create", name).strip().splitlines()[-1]


def wait_for(what: str, check: Callable[[], T | None], timeout: float, step: float = 0.5) -> T:
    """Poll `check` every `step` seconds until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def load_lab_module() -> ModuleType:
    """scripts/ is no package: load scripts/lab.py by path."""
    path = ROOT / "scripts" / "lab.py"
    spec = importlib.util.spec_from_file_location("sigap_lab", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sigap_lab"] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def own_lab(inventory: Path, state_dir: Path) -> Iterator[Any]:
    """A test's own small network built from `inventory` as lab namespaces (sgl-*), removed
    afterwards; skips without root, or while another lab is up (the namespaces are
    machine-wide: building ours would tear another run's down)."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (network namespaces)")
    module = load_lab_module()
    if module.lab_namespaces():
        pytest.skip(
            f"a lab is already up ({module.NETNS_PREFIX}* namespaces); "
            "if it is a leftover: lab.py down"
        )
    built = module.Lab(inventory, state_dir=state_dir)
    try:
        built.up()
        yield built
    finally:
        built.down()


class Stack:
    """The four services wired as in production (Prometheus scrapes the exporter and alerts
    Alertmanager, which notifies the webhook), and the tokens to talk to them.

    ``start()``, then ``.prometheus.url``, ``.alertmanager.url``, ``.exporter.url``,
    ``.webhook.url``, ``.api_token`` (the webhook's JSON API); ``stop()``."""

    def __init__(
        self,
        workdir: Path,
        inventory: Path = INVENTORY,
        webhook_config: dict[str, Any] | None = None,
        webhook_reads_prometheus: bool = False,
        smtp_port: int | None = None,
    ) -> None:
        self.workdir = workdir
        self.inventory = inventory
        self.webhook_config = webhook_config
        self.webhook_reads_prometheus = webhook_reads_prometheus
        """Tell the webhook where Prometheus will listen (the status page, the report)."""
        self.smtp_port = smtp_port
        """Alertmanager's mail to this loopback SMTP server (a `Mailbox`), when given."""
        self.token = secrets.token_urlsafe(24)
        self.services: list[Service] = []

    def start(self) -> None:
        port = free_port()
        env = {"SIGAP_PROMETHEUS_URL": f"http://127.0.0.1:{port}"}
        self.webhook = self._add(
            start_webhook(
                self.workdir,
                token=self.token,
                config=self.webhook_config,
                **(env if self.webhook_reads_prometheus else {}),
            )
        )
        self.alertmanager = self._add(
            start_alertmanager(
                self.workdir,
                webhook_url=self.webhook.url,
                token=self.token,
                smtp_port=self.smtp_port,
            )
        )
        self.exporter = self._add(start_exporter(self.workdir, self.inventory))
        self.prometheus = self._add(
            start_prometheus(
                self.workdir,
                exporter=self.exporter.url,
                alertmanager=self.alertmanager.url,
                webhook=self.webhook.url,
                port=port,
            )
        )
        self.api_token = create_api_token(self.workdir, token=self.token)

    def _add(self, service: Service) -> Service:
        self.services.append(service)
        return service

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


class Client:
    """The webhook's JSON API, Prometheus and Alertmanager of a `Stack`, over plain HTTP."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def _get(self, url: str, token: str | None = None) -> Any:
        request = urllib.request.Request(url)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def incidents(self, skpd: str | None = None) -> list[dict[str, Any]]:
        query = f"?skpd={skpd}" if skpd else ""
        url = f"{self.stack.webhook.url}/api/v1/incidents{query}"
        return list(self._get(url, self.stack.api_token)["incidents"])

    def incident(self, incident_id: int) -> dict[str, Any]:
        url = f"{self.stack.webhook.url}/api/v1/incidents/{incident_id}"
        return dict(self._get(url, self.stack.api_token))

    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"{self.stack.prometheus.url}/api/v1/query?query={urllib.parse.quote(promql)}"
        return list(self._get(url)["data"]["result"])

    def active_alerts(self) -> list[dict[str, Any]]:
        """The network's active alerts (those of an SKPD): not the Watchdog, which always fires,
        nor SIGAP's alerts about itself."""
        found = self._get(f"{self.stack.alertmanager.url}/api/v2/alerts?active=true")
        return [a for a in found if "skpd" in a["labels"]]


def alertnames(detail: dict[str, Any]) -> set[str]:
    return {a["labels"]["alertname"] for a in detail["alerts"]}
