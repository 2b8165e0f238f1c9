"""End to end, for real: who watches SIGAP. The real Prometheus and Alertmanager run the shipped
configs (deploy/prometheus/rules/sigap-meta.yml, the fallback route of alertmanager.yml) beside
a real webhook and a real SMTP server (aiosmtpd). While SIGAP is healthy the coordinators get
nothing (the Watchdog reaches only the dead man's switch); once the webhook is killed (SIGKILL,
by its PID), Alertmanager itself e-mails the coordinators within group_wait + 2 min.

Only the addresses are changed (as tests/e2e/harness.py does), plus the webhook's scrape
interval (15 s shipped, 2 s here), Prometheus's resend delay of firing alerts (1 min, 5 s here)
and the SMTP server's TLS and login, which aiosmtpd on loopback does not offer. The rules'
`for: 1m` and the route's group_wait are as shipped."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller

from tests.e2e import harness
from tests.e2e.harness import Service

pytestmark = [pytest.mark.e2e]

SHIPPED = yaml.safe_load(harness.ALERTMANAGER_CONFIG.read_text())
RECEIVERS = {r["name"]: r for r in SHIPPED["receivers"]}
COORDINATORS = RECEIVERS["sigap-fallback"]["email_configs"][0]["to"]
HEARTBEAT = RECEIVERS["sigap-deadmans-switch"]["email_configs"][0]["to"]
FALLBACK_ROUTE = next(r for r in SHIPPED["route"]["routes"] if r["receiver"] == "sigap-fallback")
GROUP_WAIT = float(FALLBACK_ROUTE["group_wait"].removesuffix("s"))
DEADLINE = GROUP_WAIT + 120.0
"""The issue's promise: the fallback mail within group_wait + 2 min of the kill."""
HEALTHY = 20.0
"""How long SIGAP runs healthy (Watchdog firing, webhook up) before the kill."""


@pytest.fixture
def mailbox() -> Iterator[tuple[harness.Mailbox, int]]:
    box = harness.Mailbox()
    port = harness.free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def test_a_killed_webhook_mails_the_coordinators_through_alertmanager(
    tmp_path: Path, mailbox: tuple[harness.Mailbox, int]
) -> None:
    missing = harness.missing_binaries()
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (bash scripts/setup.sh)")
    box, smtp_port = mailbox
    token = "e2e-meta-token"
    services: list[Service] = []
    try:
        webhook = harness.start_webhook(tmp_path, token=token)
        services.append(webhook)
        token_file = tmp_path / "alertmanager-token"
        token_file.write_text(token)
        am_port = harness.free_port()
        am_config = tmp_path / "alertmanager.yml"
        am_config.write_text(
            yaml.safe_dump(
                harness.alertmanager_config(
                    webhook_url=webhook.url, token_file=token_file, smtp_port=smtp_port
                )
            )
        )
        alertmanager = harness.start(
            "alertmanager",
            [
                harness.which(harness.ALERTMANAGER) or harness.ALERTMANAGER,
                f"--config.file={am_config}",
                f"--storage.path={tmp_path / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            workdir=tmp_path,
            url=f"http://127.0.0.1:{am_port}",
        )
        services.append(alertmanager)
        prom_port = harness.free_port()
        prom_url = f"http://127.0.0.1:{prom_port}"
        config = harness.prometheus_config(
            # No exporter: this test is about SIGAP's own parts (a closed port, scraped as down).
            exporter=f"127.0.0.1:{harness.free_port()}",
            alertmanager=alertmanager.url,
            webhook=webhook.url,
            prometheus=prom_url,
        )
        for job in config["scrape_configs"]:
            if job["job_name"] == "sigap-webhook":
                job["scrape_interval"] = "2s"
        prom_config = tmp_path / "prometheus.yml"
        prom_config.write_text(yaml.safe_dump(config))
        services.append(
            harness.start(
                "prometheus",
                [
                    harness.which(harness.PROMETHEUS) or harness.PROMETHEUS,
                    f"--config.file={prom_config}",
                    f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    # Prometheus drops the Watchdog's first send (Alertmanager not yet
                    # discovered) and resends a firing alert only every minute by default.
                    "--rules.alert.resend-delay=5s",
                ],
                workdir=tmp_path,
                url=prom_url,
            )
        )

        # Healthy: the dead man's switch hears the Watchdog, the coordinators hear nothing.
        time.sleep(HEALTHY)
        assert box.to(HEARTBEAT), (
            "the Watchdog never reached the dead man's switch\n" + alertmanager.log_tail()
        )
        assert box.to(COORDINATORS) == [], "the fallback mailed while SIGAP was healthy"

        killed = time.monotonic()
        os.kill(webhook.process.pid, signal.SIGKILL)
        webhook.process.wait()
        while time.monotonic() - killed < DEADLINE and not box.to(COORDINATORS):
            time.sleep(0.5)
        mails = box.to(COORDINATORS)
        assert mails, (
            f"no fallback mail to {COORDINATORS} within {DEADLINE:.0f} s of the kill\n"
            + alertmanager.log_tail()
        )
        at, mail = mails[0]
        elapsed = at - killed
        print(f"\nwebhook SIGKILL -> fallback e-mail to the coordinators: {elapsed:.1f} s")
        assert "SigapWebhookDown" in str(mail["Subject"])
        assert elapsed <= DEADLINE
        # The Watchdog still goes only to the heartbeat, the fallback only to the coordinators.
        assert all("Watchdog" not in str(m["Subject"]) for _, m in mails)
    finally:
        for service in reversed(services):
            service.stop()
