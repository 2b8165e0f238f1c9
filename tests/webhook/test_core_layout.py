"""The package tree shows the architecture: each layer of `webhook` imports only the layers
below it, and the pure core imports no I/O library at all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WEBHOOK = Path(__file__).resolve().parents[2] / "webhook"
LAYERS = ("core", "store", "intake", "services", "web")
"""Bottom to top: a module may import its own layer and those before it."""
IO_LIBRARIES = {"aiohttp", "sqlalchemy", "asyncpg", "aiosqlite", "aiosmtplib", "icmplib", "socket"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _layer_modules(layer: str) -> list[Path]:
    return sorted((WEBHOOK / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_downward(layer: str) -> None:
    above = set(LAYERS[LAYERS.index(layer) + 1 :])
    wrong = [
        f"{path.relative_to(WEBHOOK.parent)} imports {name}"
        for path in _layer_modules(layer)
        for name in _imports(path)
        if name.startswith("webhook.") and name.split(".")[1] in above
    ]
    assert not wrong, "\n".join(wrong)


def test_the_core_does_no_io() -> None:
    wrong = [
        f"{path.relative_to(WEBHOOK.parent)} imports {name}"
        for path in _layer_modules("core")
        for name in _imports(path)
        if name.split(".")[0] in IO_LIBRARIES
    ]
    assert not wrong, "\n".join(wrong)


def test_every_module_is_in_a_layer() -> None:
    loose = {p.name for p in WEBHOOK.glob("*.py")} - {"__init__.py", "settings.py", "cli.py"}
    assert not loose, f"modules outside the layers: {sorted(loose)}"


def test_the_webhook_borrows_from_the_exporter_without_loading_the_prober() -> None:
    allowed = {"exporter.inventory", "exporter.flags", "exporter.logfmt", "exporter.icmp"}
    wrong = [
        f"{path.relative_to(WEBHOOK.parent)} imports {name}"
        for path in sorted(WEBHOOK.rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] == "exporter" and name not in allowed
    ]
    assert not wrong, "\n".join(wrong)
