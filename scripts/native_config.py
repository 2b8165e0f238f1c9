#!/usr/bin/env python3
"""The shipped Prometheus and Alertmanager configs for a run without Docker.

deploy/prometheus/prometheus.yml and deploy/alertmanager/alertmanager.yml name the services by
their docker-compose.yml names (``exporter:9427``, ``webhook:9428``, ``alertmanager:9093``,
``prometheus:9090``), so that the compose stack mounts them as they are. On one machine without
Docker (``make run``, a native install from the Debian packages) those names resolve to nothing:
this prints the same file with only those hosts replaced (and, for Alertmanager, the bearer
token's file; for Prometheus, optionally the rule files made absolute). Everything else, the
comments included, stays as shipped.

    python3 scripts/native_config.py prometheus --host 127.0.0.1 >/etc/prometheus/prometheus.yml
    python3 scripts/native_config.py alertmanager --host 127.0.0.1 \\
        --token-file /etc/sigap/alertmanager-token >/etc/prometheus/alertmanager.yml

(tests/e2e/harness.py does the same for the end-to-end tests, on the parsed YAML, with ports of
its own.)
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
ALERTMANAGER_CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"

SERVICES = ("exporter", "webhook", "alertmanager", "prometheus")
"""The docker-compose.yml services the shipped configs address."""

# `service:port` as a scrape target ("exporter:9427") or in a URL (http://webhook:9428/...):
# preceded by a quote, `//` or a list dash, so that `job_name: prometheus` is never touched.
_SERVICE_ADDRESS = re.compile(
    r"""(?<=["'/\s])(?P<service>""" + "|".join(SERVICES) + r"""):(?P<port>\d+)\b"""
)


class ConfigError(Exception):
    """The rendered file would still name a compose service (a form this script does not know)."""


def replace_hosts(text: str, host: str) -> str:
    return _SERVICE_ADDRESS.sub(lambda m: f"{host}:{m['port']}", text)


def _addresses(config: Any) -> list[str]:
    """Every string of a parsed config, to check that no compose host is left."""
    if isinstance(config, dict):
        return [s for value in config.values() for s in _addresses(value)]
    if isinstance(config, list):
        return [s for value in config for s in _addresses(value)]
    return [config] if isinstance(config, str) else []


def _check_no_service_left(text: str, name: str) -> None:
    left = [
        s
        for s in _addresses(yaml.safe_load(text))
        if re.search(r"(^|//)(" + "|".join(SERVICES) + r"):\d+", s)
    ]
    if left:
        raise ConfigError(f"{name}: still names a compose service after rendering: {left}")


def native_prometheus(text: str, *, host: str, relative_to: Path | None = None) -> str:
    """prometheus.yml with the compose hosts replaced by ``host``; with ``relative_to``, each
    relative ``rule_files`` entry made absolute against that directory (Prometheus resolves
    them against the config file's own directory otherwise)."""
    out = replace_hosts(text, host)
    if relative_to is not None:
        for entry in yaml.safe_load(text).get("rule_files") or []:
            if not Path(entry).is_absolute():
                out = _replace_list_item(out, entry, str(relative_to / entry))
    _check_no_service_left(out, "prometheus.yml")
    return out


def _replace_list_item(text: str, item: str, new: str) -> str:
    """``text`` with the YAML list line ``- item`` (quoted or not) reading ``- new``."""
    line = re.compile(r"""^([ \t]*-[ \t]*)(["']?)""" + re.escape(item) + r"""\2[ \t]*$""", re.M)
    out, count = line.subn(lambda m: m[1] + new, text)
    if count != 1:
        raise ConfigError(f"prometheus.yml: rule_files entry {item!r} not found once")
    return out


def native_alertmanager(text: str, *, host: str, token_file: Path | None = None) -> str:
    """alertmanager.yml with the compose hosts replaced by ``host`` and, with ``token_file``,
    every ``credentials_file`` pointing at it."""
    out = replace_hosts(text, host)
    if token_file is not None:
        out = re.sub(r"(?m)^(\s*credentials_file:\s*).*$", lambda m: f"{m[1]}{token_file}", out)
    _check_no_service_left(out, "alertmanager.yml")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print a shipped config with the compose service hosts replaced."
    )
    sub = parser.add_subparsers(dest="which", required=True)
    prometheus = sub.add_parser("prometheus", help="deploy/prometheus/prometheus.yml")
    prometheus.add_argument("--host", default="127.0.0.1")
    prometheus.add_argument(
        "--rules-relative-to",
        type=Path,
        help="make rule_files absolute against this directory (e.g. deploy/prometheus)",
    )
    alertmanager = sub.add_parser("alertmanager", help="deploy/alertmanager/alertmanager.yml")
    alertmanager.add_argument("--host", default="127.0.0.1")
    alertmanager.add_argument("--token-file", type=Path, help="the bearer token's file")
    args = parser.parse_args(argv)
    try:
        if args.which == "prometheus":
            relative_to = args.rules_relative_to.resolve() if args.rules_relative_to else None
            out = native_prometheus(
                PROMETHEUS_CONFIG.read_text(), host=args.host, relative_to=relative_to
            )
        else:
            out = native_alertmanager(
                ALERTMANAGER_CONFIG.read_text(), host=args.host, token_file=args.token_file
            )
    except ConfigError as error:
        print(f"native_config: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
