"""`webhook/web/openapi.yaml` describes every route the app serves, with the methods it serves:
a route added without its description fails here, and so does a description left behind."""

from __future__ import annotations

from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from webhook.settings import load_settings
from webhook.web.app import create_app

OPENAPI = Path(__file__).resolve().parents[2] / "webhook" / "web" / "openapi.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}


def _served(tmp_path: Path) -> set[tuple[str, str]]:
    settings = load_settings(env={"SIGAP_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    app = create_app(settings, CollectorRegistry())
    return {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


def _described() -> set[tuple[str, str]]:
    paths = yaml.safe_load(OPENAPI.read_text())["paths"]
    return {(method, path) for path, item in paths.items() for method in item if method in METHODS}


def test_every_route_is_described_and_nothing_else(tmp_path: Path) -> None:
    served, described = _served(tmp_path), _described()
    missing = sorted(f"{m.upper()} {p}" for m, p in served - described)
    stale = sorted(f"{m.upper()} {p}" for m, p in described - served)
    assert not missing, f"routes missing from openapi.yaml: {missing}"
    assert not stale, f"openapi.yaml describes routes the app does not serve: {stale}"


def test_every_described_operation_says_what_it_answers() -> None:
    paths = yaml.safe_load(OPENAPI.read_text())["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            if method in METHODS:
                assert operation.get("summary"), f"{method.upper()} {path} has no summary"
                assert operation.get("responses"), f"{method.upper()} {path} has no responses"
