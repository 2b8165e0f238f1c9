"""The lock (requirements/*.txt, made by scripts/lock.sh from pyproject.toml) and pyproject.toml
agree: every dependency is locked at a version its specifier allows, every pin has hashes, the
runtime and build views are parts of the one resolution, the tools are pinned exactly, and what
setup.sh, the Dockerfile and this very environment install is the lock."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
LOCK = REQUIREMENTS / "lock.txt"
RUNTIME = REQUIREMENTS / "runtime.txt"
BUILD = REQUIREMENTS / "build.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# Floors below which SIGAP must never resolve, whatever a future `make lock` does.
MINIMUMS = {
    # GHSA-9548-qrrj-x5pj (CVE-2025-53643, request smuggling), fixed in 3.12.14; and the earlier
    # advisories of 3.9-3.11.
    "aiohttp": "3.12.14",
    # asyncio_default_fixture_loop_scope (pyproject's pytest options) exists from 0.24 on.
    "pytest-asyncio": "0.24",
}
# The extra whose tools give verdicts (lint, types, schema) and the one of `make lock`/`audit`.
EXACT_EXTRAS = ("dev",)
EXACT_IN_TEST = ("ruff", "mypy", "types-pyyaml", "grafana-foundation-sdk")


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: frozenset[str]
    marker: Marker | None


def read_lock(path: Path) -> dict[str, Pin]:
    """``name==version [; marker]`` followed by its ``--hash`` lines, as pip reads them."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pins: dict[str, Pin] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *hashes = re.split(r"\s+--hash=", line)
        name, _, rest = spec.partition("==")
        version, _, marker = rest.partition(";")
        assert name and version, f"{path.name}: not an exact pin: {line!r}"
        pins[canonicalize_name(name)] = Pin(
            version.strip(),
            frozenset(h.strip() for h in hashes),
            Marker(marker.strip()) if marker.strip() else None,
        )
    return pins


def requirements(group: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    if group == "runtime":
        return [Requirement(r) for r in project["dependencies"]]
    listed = project["optional-dependencies"][group]
    return [Requirement(r) for r in listed]


GROUPS = ["runtime", *PYPROJECT["project"]["optional-dependencies"]]
LOCKED = read_lock(LOCK)


@pytest.mark.parametrize("group", GROUPS)
def test_every_dependency_is_locked_at_a_version_pyproject_allows(group: str) -> None:
    for requirement in requirements(group):
        name = canonicalize_name(requirement.name)
        assert name in LOCKED, f"{requirement} ({group}) is not in {LOCK.name}: run `make lock`"
        version = LOCKED[name].version
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{LOCK.name} has {name}=={version}, pyproject.toml says {requirement}: run `make lock`"
        )
        assert str(requirement.specifier), f"{requirement} ({group}) has no floor"


def test_every_pin_has_hashes() -> None:
    for path in (LOCK, RUNTIME, BUILD):
        for name, pin in read_lock(path).items():
            assert pin.hashes, f"{path.name}: {name} has no --hash"
            assert all(h.startswith("sha256:") for h in pin.hashes), (path.name, name)


def test_runtime_and_build_are_parts_of_the_one_lock() -> None:
    runtime, build = read_lock(RUNTIME), read_lock(BUILD)
    for path, part in ((RUNTIME, runtime), (BUILD, build)):
        for name, pin in part.items():
            assert name in LOCKED, f"{path.name}: {name} is not in {LOCK.name}"
            assert pin.version == LOCKED[name].version, f"{path.name}: {name} differs from the lock"
            assert pin.hashes == LOCKED[name].hashes, f"{path.name}: {name}'s hashes differ"
    assert {canonicalize_name(r.name) for r in requirements("runtime")} <= set(runtime)
    only_test = {canonicalize_name(r.name) for group in GROUPS[1:] for r in requirements(group)} - {
        canonicalize_name(r.name) for r in requirements("runtime")
    }
    leaked = only_test & set(runtime) - {"setuptools"}
    assert not leaked, f"{RUNTIME.name} (the image) carries test tools: {sorted(leaked)}"
    backend = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    for requirement in backend:
        pin = build[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(pin.version), f"{BUILD.name}: {requirement}"


def test_tools_are_pinned_exactly() -> None:
    test = {canonicalize_name(r.name): r for r in requirements("test")}
    for name in EXACT_IN_TEST:
        assert str(test[name].specifier).startswith("=="), f"{test[name]}: pin it with =="
    for group in EXACT_EXTRAS:
        for requirement in requirements(group):
            assert str(requirement.specifier).startswith("=="), f"{requirement}: pin it with =="


@pytest.mark.parametrize("name, minimum", sorted(MINIMUMS.items()))
def test_floors_exclude_the_versions_sigap_must_not_run(name: str, minimum: str) -> None:
    requirement = next(
        r for group in GROUPS for r in requirements(group) if canonicalize_name(r.name) == name
    )
    floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
    assert floors and min(floors) >= Version(minimum), f"{requirement}: at least {minimum}"
    assert "asyncio_default_fixture_loop_scope" in PYPROJECT["tool"]["pytest"]["ini_options"]


def test_setup_ci_and_the_image_install_the_lock_with_hashes() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert re.search(r"pip install [^\n]*--require-hashes[^\n]*-r requirements/lock\.txt", setup)
    assert re.search(r"pip install [^\n]*--no-deps --no-build-isolation -e \.", setup)
    assert "bash scripts/setup.sh" in (ROOT / "scripts" / "test.sh").read_text()
    dockerfile = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    assert re.search(r"pip install [^\n]*--require-hashes[^\n]*-r \S*runtime\.txt", dockerfile)
    assert re.search(r"pip install [^\n]*--require-hashes[^\n]*-r \S*build\.txt", dockerfile)
    assert "pip wheel --no-cache-dir --no-deps --no-build-isolation" in dockerfile
    makefile = re.sub(r"\\\n\s*", " ", (ROOT / "Makefile").read_text())
    assert re.search(r"^lock:\n\tbash scripts/lock\.sh$", makefile, re.M)
    audit = r"^audit:\n\t\S*pip-audit .*--require-hashes .*-r requirements/lock\.txt"
    assert re.search(audit, makefile, re.M)


def test_this_environment_is_the_lock() -> None:
    """What the tests run with is what the lock says (setup.sh reinstalls when the lock changes)."""
    stale = []
    for name, pin in LOCKED.items():
        if pin.marker is not None and not pin.marker.evaluate():
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            stale.append(f"{name} missing")
            continue
        if Version(installed) != Version(pin.version):
            stale.append(f"{name} {installed} (lock: {pin.version})")
    assert not stale, f"the environment differs from {LOCK.name}: {stale}; run scripts/setup.sh"
