"""The shipped Prometheus and Alertmanager configs are valid, and the alert rules behave as their
promtool unit tests (deploy/prometheus/tests/) say: every alert fires where it must and stays
silent where it must."""

import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"


def run(*args: str, cwd: Path) -> None:
    tool = shutil.which(args[0])
    if tool is None:
        pytest.skip(
            f"{args[0]} not installed (Debian packages prometheus / prometheus-alertmanager)"
        )
    result = subprocess.run([tool, *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"


def test_prometheus_config_is_valid() -> None:
    run("promtool", "check", "config", "prometheus.yml", cwd=PROMETHEUS)


@pytest.mark.parametrize(
    "test_file", sorted(p.name for p in (PROMETHEUS / "tests").glob("*.yml")), ids=str
)
def test_rule_unit_tests_pass(test_file: str) -> None:
    run("promtool", "test", "rules", test_file, cwd=PROMETHEUS / "tests")


def test_alertmanager_config_is_valid() -> None:
    run("amtool", "check-config", "alertmanager.yml", cwd=DEPLOY / "alertmanager")


ROUTES = [
    # The Watchdog reaches only the dead man's switch.
    ({"alertname": "Watchdog"}, "sigap-deadmans-switch"),
    # SIGAP's own failures go around the webhook, although their names match Sigap.* too.
    ({"alertname": "SigapWebhookDown", "instance": "webhook:9428"}, "sigap-fallback"),
    ({"alertname": "SigapAlertmanagerDown"}, "sigap-fallback"),
    ({"alertname": "SigapNotificationsFailing", "channel": "email"}, "sigap-fallback"),
    ({"alertname": "SigapWebhookRejecting", "integration": "webhook"}, "sigap-fallback"),
    ({"alertname": "SigapDatabaseUnhealthy"}, "sigap-fallback"),
    # The network's alerts still open incidents through the webhook, and only there.
    ({"alertname": "SigapUplinkDown", "skpd": "dinkes"}, "sigap-webhook"),
    ({"alertname": "SigapCoreDown", "skpd": "core"}, "sigap-webhook"),
    # A lost path of a redundant node is no outage: the coordinators' mail, no incident.
    ({"alertname": "SigapRedundancyLost", "skpd": "rsud", "severity": "info"}, "sigap-redundancy"),
]


@pytest.mark.parametrize(
    ("labels", "receiver"), ROUTES, ids=[labels["alertname"] for labels, _ in ROUTES]
)
def test_alertmanager_routes_each_alert_to_its_one_receiver(
    labels: dict[str, str], receiver: str
) -> None:
    tool = shutil.which("amtool")
    if tool is None:
        pytest.skip("amtool not installed (Debian package prometheus-alertmanager)")
    result = subprocess.run(
        [tool, "config", "routes", "test", "--config.file", "alertmanager.yml"]
        + [f"{name}={value}" for name, value in labels.items()],
        cwd=DEPLOY / "alertmanager",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # One receiver, no continue: the alert is not also sent elsewhere.
    assert result.stdout.strip() == receiver
