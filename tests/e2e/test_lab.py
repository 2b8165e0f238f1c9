"""The lab's pure core: names, the build plan and what a cut darkens (no root needed)."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.inventory import load_inventory
from tests.e2e import harness


@pytest.fixture(scope="module")
def lab() -> Any:
    return harness.load_lab_module()


@pytest.fixture(scope="module")
def inventory() -> Any:
    return load_inventory(harness.INVENTORY, resolve=None)


def test_a_cut_darkens_the_node_and_everything_behind_it(lab: Any, inventory: Any) -> None:
    dark = lab.dark_nodes(inventory, ["uplink-dinkes"])
    assert dark == {"uplink-dinkes", *(n.id for n in inventory.descendants("uplink-dinkes"))}
    assert all(inventory.nodes[n].skpd == "dinkes" for n in dark)
    assert lab.dark_nodes(inventory, ["core-router"]) == set(inventory.nodes)
    assert lab.dark_nodes(inventory, []) == set()


def test_a_redundant_node_goes_dark_only_when_every_path_is_cut(lab: Any, inventory: Any) -> None:
    assert lab.dark_nodes(inventory, ["uplink-rsud"]) == {"uplink-rsud"}
    assert lab.dark_nodes(inventory, ["radio-rsud"]) == {"radio-rsud"}
    behind = {"gw-rsud", *(n.id for n in inventory.descendants("gw-rsud"))}
    assert lab.dark_nodes(inventory, ["uplink-rsud", "radio-rsud"]) == {
        "uplink-rsud", "radio-rsud", *behind
    }  # fmt: skip
    # the fibre's distribution router down strands the fibre only; the radio's BTS as well
    assert "gw-rsud" not in lab.dark_nodes(inventory, ["dist-batulicin"])
    assert behind <= lab.dark_nodes(inventory, ["dist-batulicin", "dist-simpangempat"])


def test_every_node_gets_a_namespace_a_short_veth_and_its_address(lab: Any, inventory: Any) -> None:
    root, inner = lab.up_plan(inventory)
    veths = lab.veth_names(inventory)
    assert len(set(veths.values())) == len(inventory.nodes)
    assert all(len(v) <= 15 and v.startswith(lab.VETH_PREFIX) for v in veths.values())
    assert set(inner) == {lab.netns_name(n) for n in inventory.nodes}
    assert f"netns add {lab.netns_name('gw-dinkes')}" in root
    assert "address add 198.18.5.2/32 dev eth0" in inner[lab.netns_name("gw-dinkes")]
    assert all(n.ip.startswith("198.18.") for n in inventory.nodes.values())


def test_link_plan_downs_the_dark_and_gives_the_lit_their_routes_back(
    lab: Any, inventory: Any
) -> None:
    veths = lab.veth_names(inventory)
    lines = lab.link_plan(inventory, ["sw-rsud-core"])
    assert f"link set {veths['sw-rsud-core']} down" in lines
    assert f"link set {veths['ap-rsud-1']} down" in lines
    assert f"link set {veths['gw-rsud']} up" in lines
    assert f"route replace 198.18.10.2/32 dev {veths['gw-rsud']} src 198.18.255.254" in lines
