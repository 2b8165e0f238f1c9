"""Fixtures of the end-to-end tests: the lab and the whole stack, once per module."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.e2e import harness

pytestmark = [pytest.mark.e2e, pytest.mark.root]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The example inventory built as network namespaces (sgl-*), removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (network namespaces)")
    module = harness.load_lab_module()
    built = module.Lab(harness.INVENTORY, state_dir=tmp_path_factory.mktemp("lab"))
    try:
        built.up()
        yield built
    finally:
        built.down()


@pytest.fixture(scope="module")
def stack(lab: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Stack]:
    missing = harness.missing_binaries()
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (bash scripts/setup.sh)")
    running = harness.Stack(tmp_path_factory.mktemp("stack"))
    try:
        running.start()
        yield running
    finally:
        running.stop()
