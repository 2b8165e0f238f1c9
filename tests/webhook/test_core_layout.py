"""The package tree shows the architecture: each layer of `webhook` imports only the layers
below it, and the pure core imports no I/O library at all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WEBHOOK = Path(__file__).resolve().parents[2] / "webhook"
LAYERS = ("core", "store", "intake", "services", "usecases", "web")
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
    allowed = {
        "exporter.inventory",
        "exporter.flags",
        "exporter.logfmt",
        "exporter.icmp",
        "exporter.clock",
    }
    wrong = [
        f"{path.relative_to(WEBHOOK.parent)} imports {name}"
        for path in sorted(WEBHOOK.rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] == "exporter" and name not in allowed
    ]
    assert not wrong, "\n".join(wrong)


DOORS = [*sorted((WEBHOOK / "web").rglob("*.py")), WEBHOOK / "cli.py"]
"""The doors: each translates its input into a use case's call and its result into output."""
"""(Their errors they may tell apart: `sqlalchemy.exc`; models and the database as types.)"""
STORE_CALLS = {"add", "add_all", "delete", "execute", "scalar", "scalars", "get", "flush", "merge"}


def test_the_doors_write_no_model_and_run_no_query_of_their_own() -> None:
    """The UI, the JSON API, links and the CLI reach the record only through
    `webhook.usecases`: no SQL built, no session used, no write transaction opened."""
    wrong = []
    for path in DOORS:
        where = path.relative_to(WEBHOOK.parent)
        tree = ast.parse(path.read_text(), str(path))
        wrong += [f"{where} imports {name}" for name in _imports(path)
                  if (name.split(".")[0] == "sqlalchemy" and name != "sqlalchemy.exc")
                  or (name.startswith("webhook.store.")
                  and name not in {"webhook.store.models", "webhook.store.database"})]  # fmt: skip
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            named = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if node.func.attr in STORE_CALLS and "session" in named:
                wrong.append(f"{where}:{node.lineno} calls {named}.{node.func.attr}")
            if (
                node.func.attr in {"read", "write", "write_batch"}
                and "database" in ast.unparse(owner).lower()
            ):
                wrong.append(f"{where}:{node.lineno} opens a transaction ({ast.unparse(node)})")
    assert not wrong, "\n".join(wrong)
