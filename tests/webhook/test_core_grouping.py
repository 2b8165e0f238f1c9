"""The pure grouping core (`webhook.core.grouping`): no database, no sockets, the clock passed
in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exporter.inventory import CORE
from webhook.core.grouping import (
    Placement,
    Windows,
    closes_as_transient,
    merge_responsibility,
    place_firing,
    responsibility_of,
    skpd_of,
)
from webhook.core.workflow import State

T = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
W = Windows(transient=timedelta(minutes=5), reopen=timedelta(minutes=30))


def test_place_firing() -> None:
    assert place_firing(True, None, T, W) is Placement.ATTACH
    assert place_firing(True, T - timedelta(minutes=1), T, W) is Placement.ATTACH
    assert place_firing(False, None, T, W) is Placement.NEW
    assert place_firing(False, T - timedelta(minutes=30), T, W) is Placement.REOPEN
    assert place_firing(False, T - timedelta(minutes=30, seconds=1), T, W) is Placement.NEW


@pytest.mark.parametrize(
    ("state", "lasted", "closes"),
    [
        (State.OPENED, timedelta(minutes=5), True),
        (State.PING_CHECKED, timedelta(minutes=1), True),
        (State.OPENED, timedelta(minutes=5, seconds=1), False),
        (State.CONFIRMED, timedelta(seconds=10), False),
        (State.DISPATCHED, timedelta(seconds=10), False),
    ],
)
def test_closes_as_transient(state: State, lasted: timedelta, closes: bool) -> None:
    assert closes_as_transient(state, T, T + lasted, W) is closes


def test_labels() -> None:
    assert skpd_of({"skpd": "dinkes"}) == "dinkes"
    assert skpd_of({"alertname": "SigapExporterDown"}) == CORE
    assert responsibility_of({"responsibility": "skpd"}) == "skpd"
    assert responsibility_of({"responsibility": "vendor"}) is None
    assert responsibility_of({}) is None


def test_merge_responsibility() -> None:
    assert merge_responsibility(None, "skpd", State.OPENED) == "skpd"
    assert merge_responsibility("skpd", None, State.OPENED) == "skpd"
    # an outside fault found while nobody has confirmed: Diskominfo's
    assert merge_responsibility("skpd", "diskominfo", State.PING_CHECKED) == "diskominfo"
    assert merge_responsibility("diskominfo", "skpd", State.OPENED) == "diskominfo"
    # once staff confirmed, alerts no longer change it
    assert merge_responsibility("skpd", "diskominfo", State.CONFIRMED) == "skpd"


def test_ping_targets_are_the_affected_nodes() -> None:
    from exporter.inventory import parse_inventory
    from webhook.services.pingcheck import targets_of
    from webhook.store.models import Alert

    inventory = parse_inventory(
        """
skpd:
  - id: dinkes
    name: Dinas Kesehatan
    nodes:
      - {id: gw, address: 127.0.0.2, role: gateway, owner: diskominfo}
      - {id: sw, address: 127.0.0.3, role: switch, owner: skpd, parent: gw}
""",
        resolve=None,
    )
    down = Alert(labels={"node": "sw", "skpd": "dinkes"})
    labelled = Alert(labels={"node": "ap", "address": "127.0.0.9"})
    assert targets_of([down], [], "dinkes", inventory) == {"sw": "127.0.0.3"}
    assert targets_of([labelled], [], "dinkes", None) == {"ap": "127.0.0.9"}
    assert targets_of([], ["gw"], "dinkes", inventory) == {"gw": "127.0.0.2"}
    assert targets_of([], [], "dinkes", inventory) == {"gw": "127.0.0.2", "sw": "127.0.0.3"}
    assert targets_of([], [], "dinkes", None) == {}
