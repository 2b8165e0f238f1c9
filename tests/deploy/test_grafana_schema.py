"""Every committed dashboard loads into Grafana Labs' own models (grafana-foundation-sdk, generated
from Grafana's schemas; the pinned build is the one for Grafana 12+, see pyproject.toml) and comes

ROOT = Path(__file__).resolve().parents[2]
back out unchanged: a key the schema does not know, a panel option or field option a panel type
does not have, an enum value Grafana does not accept, all fail here. And what the dashboards point
at resolves: the datasource uids, the variables, the links.

No Grafana runs here; tests/e2e/test_panels.py checks the queries against a live Prometheus.
"""

from __future__ import annotations

import enum
import json
import re
import types
import typing
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import prometheus as prometheus_models
from grafana_foundation_sdk.models.dashboard import Dashboard

from tests.dashboard_queries import DATASOURCES, load_dashboards, panels

Json = dict[str, Any]

register_default_plugins()
DASHBOARDS = load_dashboards()

# Keys Grafana reads that its dashboard schema does not declare, so the models drop them. Each
# is named with where Grafana reads it; nothing else may be dropped.
UNDECLARED = {
    # Grafana's Prometheus datasource reads these of a Prometheus annotation
    # (packages/grafana-prometheus, annotations): min step, title, text, tags, time from value.
    "annotations.list[].step": "Prometheus annotation: min step",
    "annotations.list[].titleFormat": "Prometheus annotation: title",
    "annotations.list[].textFormat": "Prometheus annotation: text",
    "annotations.list[].tagKeys": "Prometheus annotation: tags",
    "annotations.list[].useValueForTime": "Prometheus annotation: series value as time",
    # The query shown in the variables list; Grafana writes it for query variables.
    "templating.list[].definition": "query variable: the query as shown in the list",
}
# Grafana's own variables and the field/data macros of links and titles.
BUILTIN_VARIABLES = re.compile(
    r"__(?:field|data|value|series|url_time_range|from|to|interval|"
    r"rate_interval|range|dashboard|user|org|all_variables|all)\b"
)


def to_plain(value: object) -> object:
    """The models' to_json() nests model objects; plain JSON the way Grafana would read it."""
    return json.loads(json.dumps(value, default=lambda o: o.to_json()))


def dropped(original: object, model: object, path: str = "") -> list[str]:
    """Paths of keys or values in ``original`` that did not survive the models (defaults the
    models add are fine: Grafana adds the same)."""
    if isinstance(original, dict) and isinstance(model, dict):
        out = []
        for key, value in original.items():
            if key not in model:
                if not (key == "id" and value is None):
                    out.append(f"{path}.{key}".lstrip("."))
            else:
                out += dropped(value, model[key], f"{path}.{key}")
        return out
    if isinstance(original, list) and isinstance(model, list):
        if len(original) != len(model):
            return [f"{path}: {len(original)} items became {len(model)}"]
        return [
            x
            for i, (a, b) in enumerate(zip(original, model, strict=True))
            for x in dropped(a, b, f"{path}[{i}]")
        ]
    if original != model and not (isinstance(original, int | float) and original == model):
        return [f"{path.lstrip('.')}: {original!r} became {model!r}"]
    return []


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_dashboard_survives_grafanas_models_unchanged(name: str) -> None:
    original = DASHBOARDS[name]
    model = to_plain(Dashboard.from_json(original).to_json())
    lost = [p for p in dropped(original, model) if re.sub(r"\[\d+\]", "[]", p) not in UNDECLARED]
    assert not lost, f"{name}: Grafana's schema does not know {lost}"


def enum_members(hint: object) -> type[enum.Enum] | None:
    """The Enum in a field's type hint (also inside Optional[...] and list[...])."""
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    for arg in typing.get_args(hint):
        found = enum_members(arg)
        if found is not None:
            return found
    return None


def bad_enum_values(obj: object, path: str = "") -> list[str]:
    """Walk the model objects: every field typed by an Enum holds one of its values (the models
    keep whatever string the JSON had)."""
    if isinstance(obj, list):
        return [x for i, item in enumerate(obj) for x in bad_enum_values(item, f"{path}[{i}]")]
    if isinstance(obj, dict):
        return [x for k, v in obj.items() for x in bad_enum_values(v, f"{path}.{k}")]
    if not hasattr(obj, "to_json") or isinstance(obj, enum.Enum | types.ModuleType):
        return []
    out = []
    hints = typing.get_type_hints(type(obj))
    for field, hint in hints.items():
        value = getattr(obj, field, None)
        members = enum_members(hint)
        if members is not None and value is not None:
            values = value if isinstance(value, list) else [value]
            allowed = {m.value for m in members}
            out += [
                f"{path}.{field}: {v!r} not in {sorted(map(str, allowed))}"
                for v in values
                if (v.value if isinstance(v, enum.Enum) else v) not in allowed
            ]
        else:
            out += bad_enum_values(value, f"{path}.{field}")
    return out


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_enum_value_is_one_grafana_accepts(name: str) -> None:
    bad = bad_enum_values(Dashboard.from_json(DASHBOARDS[name]))
    assert not bad, f"{name}: {bad}"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_type_and_query_is_typed_by_grafanas_models(name: str) -> None:
    """A panel type or a query the SDK has no model for would pass the round trip untyped."""
    model = Dashboard.from_json(DASHBOARDS[name])
    for panel in model.panels or []:
        kind = getattr(panel, "type_val", None)
        if kind == "row":
            continue
        assert cogruntime.panelcfg_config(kind) is not None, f"{name}: panel type {kind!r}"
        for target in getattr(panel, "targets", None) or []:
            assert isinstance(target, prometheus_models.Dataquery), (
                f"{name}: {panel.title!r}: {type(target).__name__}"
            )


def provisioned_uids() -> dict[str, str]:
    sources = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))["datasources"]
    return {s["uid"]: s["type"] for s in sources}


def datasource_refs(node: object, path: str = "") -> list[tuple[str, Json]]:
    if isinstance(node, dict):
        found = [(path, node["datasource"])] if isinstance(node.get("datasource"), dict) else []
        return found + [r for k, v in node.items() for r in datasource_refs(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [r for i, v in enumerate(node) for r in datasource_refs(v, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_datasource_uids_resolve(name: str) -> None:
    uids = provisioned_uids()
    dashboard = DASHBOARDS[name]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    for variable in variables.values():
        if variable["type"] == "datasource":
            default = variable["current"]["value"]
            assert uids.get(default) == variable["query"], (
                f"{name}: ${variable['name']} defaults to {default!r}, provisioned: {uids}"
            )
    for path, ref in datasource_refs(dashboard):
        uid = ref.get("uid", "")
        if uid == "-- Grafana --":
            assert ref.get("type") == "grafana", (name, path)
            continue
        var = re.fullmatch(r"\$\{?(\w+)\}?", uid)
        if var:
            assert variables.get(var[1], {}).get("type") == "datasource", (name, path, uid)
            assert variables[var[1]]["query"] == ref.get("type"), (name, path, ref)
        else:
            assert uids.get(uid) == ref.get("type"), f"{name}{path}: {ref} is not provisioned"


def used_variables(text: str) -> set[str]:
    names = set(re.findall(r"\$\{(\w+)(?:[:.][^}]*)?\}", text))
    names |= set(re.findall(r"\$([A-Za-z_]\w*)", text))  # $1: a regex group, kept as is
    names |= set(re.findall(r"\[\[(\w+)\]\]", text))
    return {n for n in names if not BUILTIN_VARIABLES.match(n)}


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_variable_anywhere_is_defined(name: str) -> None:
    """Titles, descriptions, links and queries alike (Grafana shows an unknown one verbatim)."""
    dashboard = DASHBOARDS[name]
    defined = {v["name"] for v in dashboard["templating"]["list"]}
    text = json.dumps(dashboard, ensure_ascii=False)
    # Prometheus label templates of annotations ({{node}}) are no Grafana variables.
    unknown = used_variables(text) - defined
    assert not unknown, f"{name}: undefined variables {sorted(unknown)}"


def links(dashboard: Json) -> list[tuple[str, str]]:
    found = [("dashboard", link.get("url", "")) for link in dashboard.get("links", [])]
    for panel in panels(dashboard):
        found += [(panel.get("title", ""), link["url"]) for link in panel.get("links", [])]
        defaults = panel.get("fieldConfig", {}).get("defaults", {})
        found += [(panel.get("title", ""), link["url"]) for link in defaults.get("links", [])]
        for override in panel.get("fieldConfig", {}).get("overrides", []):
            for prop in override.get("properties", []):
                if prop.get("id") == "links":
                    found += [(panel.get("title", ""), link["url"]) for link in prop["value"]]
    return found


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_links_resolve(name: str) -> None:
    by_uid = {d["uid"]: d for d in DASHBOARDS.values()}
    dashboard = DASHBOARDS[name]
    for link in dashboard.get("links", []):
        if link.get("type") == "dashboards":
            tagged = [d["uid"] for d in DASHBOARDS.values() if set(link["tags"]) <= set(d["tags"])]
            assert len(tagged) == len(DASHBOARDS), f"{name}: tags {link['tags']} miss some"
    for where, url in links(dashboard):
        if not url:
            continue
        parts = urlsplit(url)
        target = re.fullmatch(r"/d/([\w-]+)(?:/[\w-]+)?", parts.path)
        assert target, f"{name}: {where}: {url} is no dashboard link"
        assert target[1] in by_uid, f"{name}: {where}: no dashboard with uid {target[1]}"
        wanted = {v["name"] for v in by_uid[target[1]]["templating"]["list"]}
        for key, _ in parse_qsl(parts.query, keep_blank_values=True):
            if key.startswith("var-"):
                assert key[4:] in wanted, f"{name}: {where}: {target[1]} has no ${key[4:]}"
