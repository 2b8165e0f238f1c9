"""End to end: the public status page (/status, /status.json) and the NOC's map (/peta) on the lab
follow a cut within one refresh interval (SIGAP_STATUS_INTERVAL, 20 s by default, which this
stack keeps), and so within 30 s of the cut itself: the exporter probing the lab, the real
Prometheus with the shipped rules, and the webhook gathering its board from that Prometheus.

An uplink is cut: the SKPD turns "down on Diskominfo's side", the uplink red on both maps and
the SKPD's equipment behind it pale; it is restored and all turns back. Each time is measured
from the cut and from the moment Prometheus had it, and printed.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from exporter.inventory import load_inventory
from tests.e2e import harness
from tests.e2e.harness import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.root]

INTERVAL = 20.0
"""SIGAP_STATUS_INTERVAL's default: how old the page's figures may get."""
GOAL = 30.0
"""Seconds from a cut (or restore) to every view showing it: detection plus one interval."""
SKPD, CUT = "dinkes", "uplink-dinkes"
BEHIND = "sw-dinkes-core"
"""The SKPD's own switch behind the cut: on /peta only (the public map has no SKPD equipment)."""


@pytest.fixture(scope="module")
def stack(lab: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Stack]:
    missing = harness.missing_binaries()
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (bash scripts/setup.sh)")
    running = harness.Stack(tmp_path_factory.mktemp("stack"), webhook_reads_prometheus=True)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def fetch(
    opener: urllib.request.OpenerDirector, url: str, form: dict[str, str] | None = None
) -> str:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    with opener.open(url, data=data, timeout=10) as response:
        return str(response.read().decode())


def fill(page: str, node: str) -> str | None:
    found = re.search(rf'data-node="{re.escape(node)}"><circle [^>]*fill="([^"]+)"', page)
    return found.group(1) if found else None


class Views:
    """What a phone (the public pages) and the NOC (logged in, /peta) see now."""

    def __init__(self, stack: harness.Stack) -> None:
        self.url = stack.webhook.url
        self.public = urllib.request.build_opener()
        self.noc = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        fetch(
            self.noc,
            f"{self.url}/login",
            {"name": "e2e", "password": "e2e-password-0", "next": "/"},
        )

    def now(self) -> dict[str, Any]:
        board = json.loads(fetch(self.public, f"{self.url}/status.json"))
        page = fetch(self.public, f"{self.url}/status")
        wall = fetch(self.noc, f"{self.url}/peta")
        skpd = next(s for s in board["skpds"] if s["id"] == SKPD)
        network = {n["id"]: n["up"] for n in board["network"]}
        office = re.search(rf'data-office="{SKPD}"><circle [^>]*fill="([^"]+)"', page)
        return {
            "condition": skpd["condition"],
            "json": network.get(CUT),
            "public map": fill(page, CUT),
            "offices": office.group(1) if office else None,
            "wall": fill(wall, CUT),
            "wall behind": fill(wall, BEHIND),
        }


CUT_VIEW = {
    "condition": "down_diskominfo",
    "json": False,
    "public map": "#c62828",
    "offices": "#c62828",
    "wall": "#c62828",
    "wall behind": "#ef9a9a",
}
WELL_VIEW = {
    "condition": "normal",
    "json": True,
    "public map": "#2e7d32",
    "offices": "#2e7d32",
    "wall": "#2e7d32",
    "wall behind": "#2e7d32",
}


def prometheus_up(stack: harness.Stack) -> float | None:
    query = urllib.parse.urlencode({"query": f'max(sigap_node_up{{node="{CUT}"}})'})
    with urllib.request.urlopen(f"{stack.prometheus.url}/api/v1/query?{query}", timeout=10) as r:
        result = json.load(r)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def follow(lab: Any, stack: harness.Stack, views: Views, act: str, want: dict[str, Any]) -> str:
    """`act` (cut or restore) CUT; the seconds until Prometheus has it and until every view is
    `want`, each checked against one interval."""
    value = 0.0 if act == "cut" else 1.0
    getattr(lab, act)(CUT)
    began = time.monotonic()
    seen = wait_for(
        f"Prometheus to see the {act}",
        lambda: prometheus_up(stack) == value and time.monotonic(),
        30,
        step=0.2,
    )
    last: list[dict[str, Any]] = []
    try:
        shown = wait_for(
            f"the views after the {act}",
            lambda: (last.append(views.now()) or last[-1] == want) and time.monotonic(),
            INTERVAL + 10,
            step=0.5,
        )
    except AssertionError:
        raise AssertionError(
            f"after the {act}, the views show {last[-1]}; expected {want}"
        ) from None
    assert shown - seen <= INTERVAL + 1.5, f"{shown - seen:.1f} s after Prometheus had the {act}"
    assert shown - began <= GOAL, f"{shown - began:.1f} s after the {act} itself"
    return (
        f"{act}: Prometheus had it after {seen - began:.1f} s, every view after "
        f"{shown - began:.1f} s ({shown - seen:.1f} s later; interval {INTERVAL:.0f} s)"
    )


def test_the_page_and_the_maps_follow_a_cut_within_one_interval(
    lab: Any, stack: harness.Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    def all_up() -> bool:
        query = urllib.parse.urlencode({"query": "count(sigap_node_up == 1)"})
        with urllib.request.urlopen(f"{stack.prometheus.url}/api/v1/query?{query}") as r:
            result = json.load(r)["data"]["result"]
        return bool(result) and float(result[0]["value"][1]) == nodes

    nodes = len(load_inventory(harness.INVENTORY, resolve=None).nodes)
    wait_for(f"all {nodes} nodes up in Prometheus", all_up, 60)
    views = Views(stack)
    wait_for("the views well before the cut", lambda: views.now() == WELL_VIEW, INTERVAL + 10)
    lines = [
        follow(lab, stack, views, "cut", CUT_VIEW),
        follow(lab, stack, views, "restore", WELL_VIEW),
    ]
    with capsys.disabled():
        print("\nstatus page:", *lines, sep="\n  ")
