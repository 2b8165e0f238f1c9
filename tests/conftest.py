"""What every test area shares: the tests that build a lab (network namespaces, the real
Prometheus and Alertmanager) run one after another on one worker (`xdist_group("lab")`: their
namespaces, addresses and timings must not meet), while every other test runs beside them on
the other worker (`scripts/test.sh` runs pytest-xdist with `--dist loadgroup`)."""

from __future__ import annotations

import pytest

LAB = pytest.mark.xdist_group("lab")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("e2e") or item.get_closest_marker("root"):
            item.add_marker(LAB)
