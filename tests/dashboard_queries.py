"""The queries of SIGAP's Grafana dashboards (deploy/grafana/dashboards/), as Grafana sends them.

Shared by the static test (tests/deploy/test_dashboards.py: every query parses) and the
end-to-end test (tests/e2e/test_panels.py: every query returns data from a live stack). Other test
folders import it as tests/pgserver.py is imported: put tests/ on ``sys.path``.

Grafana substitutes its variables before it queries Prometheus; `render()` does the same:
``$__range`` is the dashboard's time range, ``$__interval`` the step (the range over the panel's
data points, at least the panel's min interval or else the datasource's scrape interval), and
``$__rate_interval`` max(``$__interval`` + scrape interval, 4 x scrape interval).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "sigap.yml"
MAX_DATA_POINTS = 1000
"""About a panel's width in pixels, which is what Grafana asks for."""

Json = dict[str, Any]

_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?::\w+)?\}|\$([A-Za-z_]\w*)|\[\[(\w+)\]\]")
"""A Grafana variable; `$1` (label_replace's regex group) is none, and Grafana leaves it as is."""
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


@dataclass(frozen=True, slots=True)
class PanelQuery:
    dashboard: str
    """The dashboard's uid."""
    panel: str
    """The panel's title; ``annotation: NAME`` for an annotation's query."""
    ref: str
    expr: str
    """As written in the dashboard, variables not substituted."""
    instant: bool
    min_interval: float | None
    """The panel's "Min interval" in seconds, if it sets one."""

    def where(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref}"


def duration(text: str) -> float:
    """Seconds of a Prometheus/Grafana duration such as ``2s``, ``1m30s``."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * _SECONDS[u] for n, u in parts)


def load_dashboards(directory: Path = DASHBOARDS) -> dict[str, Json]:
    """Every dashboard file in `directory`, by file name."""
    return {
        p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))
    }


def panels(dashboard: Json) -> Iterator[Json]:
    """Every panel that shows data (not rows), including those inside collapsed rows."""
    for item in dashboard.get("panels", []):
        if item.get("type") == "row":
            yield from item.get("panels", [])
        else:
            yield item


def panel_queries(dashboard: Json) -> list[PanelQuery]:
    """The Prometheus queries of every panel and of every annotation that queries Prometheus."""
    found = []
    for item in panels(dashboard):
        interval = duration(item["interval"]) if item.get("interval") else None
        for t in item.get("targets", []):
            found.append(
                PanelQuery(
                    dashboard["uid"], item["title"], t["refId"], t["expr"], t["instant"], interval
                )
            )
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if "expr" in annotation:
            name = f"annotation: {annotation['name']}"
            found.append(PanelQuery(dashboard["uid"], name, "-", annotation["expr"], False, None))
    return found


def scrape_interval(datasources: Path = DATASOURCES) -> float:
    """The provisioned datasource's scrape interval (``jsonData.timeInterval``) in seconds."""
    config = yaml.safe_load(datasources.read_text(encoding="utf-8"))
    return duration(config["datasources"][0]["jsonData"]["timeInterval"])


def step(query: PanelQuery, range_seconds: float, scrape: float) -> float:
    """Grafana's ``$__interval`` for `query` over a range: also the range query's step."""
    smallest = query.min_interval or scrape
    return max(smallest, math.ceil(range_seconds / MAX_DATA_POINTS))


def render(
    query: PanelQuery, variables: Mapping[str, str], range_seconds: float, scrape: float
) -> str:
    """The query's expression with every variable substituted; KeyError for an unknown one."""
    interval = step(query, range_seconds, scrape)
    builtins = {
        "__range": f"{round(range_seconds)}s",
        "__range_s": str(round(range_seconds)),
        "__range_ms": str(round(range_seconds * 1000)),
        "__interval": f"{round(interval)}s",
        "__interval_ms": str(round(interval * 1000)),
        "__rate_interval": f"{round(max(interval + scrape, 4 * scrape))}s",
    }
    values = {**builtins, **variables}

    def value(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g is not None)
        if name not in values:
            raise KeyError(f"{query.where()}: unknown variable ${name} in {query.expr!r}")
        return values[name]

    return _VARIABLE.sub(value, query.expr)
