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
