"""The shipped example inventory is what operators copy: it must load and look like Tanah Bumbu."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from exporter.inventory import CORE, Inventory, InventoryError, load_inventory, parse_inventory

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "inventory.example.yml"


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(EXAMPLE, resolve=None)


def test_example_has_about_ten_skpds_of_five_to_fifteen_nodes(inventory: Inventory) -> None:
    assert 9 <= len(inventory.skpds) <= 15
    for skpd in inventory.skpds.values():
        assert 5 <= len(skpd.node_ids) <= 15, skpd.id


def test_every_skpd_hangs_below_the_core(inventory: Inventory) -> None:
    for skpd in inventory.skpds.values():
        for node_id in skpd.node_ids:
            chain = list(inventory.ancestors(node_id))
            assert chain and chain[-1].skpd == CORE, node_id
            assert any(a.owner == "diskominfo" for a in [inventory.nodes[node_id], *chain])


def test_topology_order_lists_each_node_right_before_its_subtree(inventory: Inventory) -> None:
    order = inventory.topology_order()
    assert sorted(order) == sorted(inventory.nodes)
    position = {node_id: i for i, node_id in enumerate(order)}
    for node_id in order:
        # a redundant node sits under its primary (first) parent only
        subtree = [
            n.id
            for n in inventory.descendants(node_id)
            if n.parent == node_id or n.parent in primary_subtree(inventory, node_id)
        ]
        # the subtree follows the node without a gap: a sorted table draws the tree
        assert [order[position[node_id] + 1 + k] for k in range(len(subtree))] == subtree


def primary_subtree(inventory: Inventory, node_id: str) -> set[str]:
    """The nodes whose chain of primary parents passes through `node_id`."""
    found: set[str] = set()
    for n in inventory.nodes.values():
        parent = n.parent
        while parent is not None:
            if parent == node_id:
                found.add(n.id)
                break
            parent = inventory.nodes[parent].parent
    return found


def test_example_has_a_redundant_skpd_whose_gateway_is_reached_over_two_links(
    inventory: Inventory,
) -> None:
    gw = inventory.nodes["gw-rsud"]
    assert gw.parents == ("uplink-rsud", "radio-rsud") and gw.parent == "uplink-rsud"
    paths = [inventory.nodes[p] for p in gw.parents]
    assert {p.role for p in paths} == {"uplink", "radio"}
    assert {p.owner for p in paths} == {"diskominfo"}
    assert {a.id for a in inventory.ancestors("gw-rsud")} >= {
        "dist-batulicin", "dist-simpangempat", "core-router"
    }  # fmt: skip
    order = inventory.topology_order()
    assert order.count("gw-rsud") == 1
    assert order.index("uplink-rsud") < order.index("gw-rsud") < order.index("sw-rsud-core")


def test_the_handover_point_of_each_skpd_is_its_gateway(inventory: Inventory) -> None:
    for skpd in inventory.skpds:
        handover = [n for n in inventory.skpds[skpd].node_ids if inventory.handover(n)]
        assert handover == [f"gw-{skpd}"], skpd


def test_example_uses_only_the_lab_range(inventory: Inventory) -> None:
    lab = ipaddress.ip_network("198.18.0.0/15")
    for node in inventory.nodes.values():
        assert ipaddress.ip_address(node.ip) in lab, node.id


TANAH_BUMBU = ((-4.0, -2.9), (115.4, 116.4))
"""The regency's bounding box in degrees (lat, lon): Batulicin, Simpang Empat, Pagatan within."""


def test_every_office_is_placed_in_the_regency_apart_from_the_others(
    inventory: Inventory,
) -> None:
    """The example draws the offices map: every SKPD at a place in Tanah Bumbu, no two on the
    same spot (the map would hide one), each keeping its street address."""
    (south, north), (west, east) = TANAH_BUMBU
    spots = []
    for skpd in inventory.skpds.values():
        assert skpd.position is not None and skpd.location, skpd.id
        lat, lon = skpd.position
        assert south < lat < north and west < lon < east, (skpd.id, skpd.position)
        spots.append(skpd.position)
    for i, (lat, lon) in enumerate(spots):
        for other_lat, other_lon in spots[i + 1 :]:
            assert max(abs(lat - other_lat), abs(lon - other_lon)) >= 0.004, (lat, lon)


def test_parents_come_before_children(inventory: Inventory) -> None:
    seen: set[str] = set()
    for node in inventory.nodes.values():
        assert all(p in seen for p in node.parents), node.id
        seen.add(node.id)


def test_an_error_names_file_line_path_and_value(tmp_path: Path) -> None:
    bad = EXAMPLE.read_text().replace("parent: gw-dinkes", "parent: gw-dinkess", 1)
    assert bad != EXAMPLE.read_text()
    path = tmp_path / "inventory.yml"
    path.write_text(bad)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, resolve=None)
    message = str(caught.value)
    line = next(i for i, text in enumerate(bad.splitlines(), 1) if "gw-dinkess" in text)
    assert f"{path}:{line}:" in message
    assert "gw-dinkess" in message and ".parent" in message


def test_parse_rejects_a_duplicate_address() -> None:
    text = """
probe: {interval: 1s, timeout: 1s, down_after: 3}
skpd:
  - id: a
    name: A
    nodes:
      - {id: n1, address: 198.18.1.1, role: uplink, owner: diskominfo}
      - {id: n2, address: 198.18.1.1, role: gateway, owner: diskominfo, parent: n1}
"""
    with pytest.raises(InventoryError, match=r"skpd\[0\]\.nodes\[1\]\.address.*198\.18\.1\.1"):
        parse_inventory(text, "inline.yml", resolve=None)


BASE = """
probe: {interval: 1s, timeout: 1s, down_after: 3}
core:
  nodes:
    - {id: core, address: 198.18.0.1, role: core, owner: diskominfo}
skpd:
  - id: dinkes
    name: Dinas Kesehatan
    nodes:
      - {id: uplink, address: 198.18.1.1, role: uplink, owner: diskominfo, parent: core}
      - {id: gw, address: 198.18.1.2, role: gateway, owner: diskominfo, parent: uplink}
      - {id: sw, address: 198.18.1.10, role: switch, owner: skpd, parent: gw}
"""


@pytest.mark.parametrize(
    ("old", "new", "path", "expected"),
    [
        ("parent: gw}", "parent: gx}", r"skpd\[0\]\.nodes\[2\]\.parent", "'gx'"),
        ("parent: core}", "parent: sw}", r"skpd\[0\]\.nodes\[0\]\.parent", "cycle"),
        ("parent: gw}", "parents: [gw, gx]}", r"skpd\[0\]\.nodes\[2\]\.parents\[1\]", "'gx'"),
        ("parent: uplink}", "parents: [uplink, sw]}", r"skpd\[0\]\.nodes\[1\]\.parents", "cycle"),
        ("parent: gw}", "parents: [gw, sw]}", r"skpd\[0\]\.nodes\[2\]\.parents\[1\]", "itself"),
        ("parent: gw}", "parents: [gw, gw]}", r"skpd\[0\]\.nodes\[2\]\.parents\[1\]", "twice"),
        ("parent: gw}", "parents: []}", r"skpd\[0\]\.nodes\[2\]\.parents", "at least 1"),
        (
            "parent: gw}",
            "parent: gw, parents: [gw, uplink]}",
            r"skpd\[0\]\.nodes\[2\]\.parents",
            "both parent and parents",
        ),
        ("{id: gw,", "{id: uplink,", r"skpd\[0\]\.nodes\[1\]\.id", "'uplink'"),
        ("198.18.1.10", "198.18.1.2", r"skpd\[0\]\.nodes\[2\]\.address", "198.18.1.2"),
        ("198.18.1.10", "198.18.1.300", r"skpd\[0\]\.nodes\[2\]\.address", "198.18.1.300"),
        ("role: switch", "role: swtich", r"skpd\[0\]\.nodes\[2\]\.role", "'swtich'"),
        ("owner: skpd,", "owner: pemda,", r"skpd\[0\]\.nodes\[2\]\.owner", "'pemda'"),
        (
            "198.18.1.10",
            "sw.dinkes.invalid",
            r"skpd\[0\]\.nodes\[2\]\.address",
            "sw.dinkes.invalid",
        ),
    ],
    ids=[
        "unknown-parent",
        "cycle",
        "unknown-second-parent",
        "cycle-through-the-second-parent",
        "itself-as-second-parent",
        "parent-twice",
        "no-parents",
        "parent-and-parents",
        "duplicate-id",
        "duplicate-address",
        "bad-address",
        "unknown-role",
        "unknown-owner",
        "unresolvable-hostname",
    ],
)
def test_each_bad_inventory_names_line_path_and_value(
    tmp_path: Path, old: str, new: str, path: str, expected: str
) -> None:
    text = BASE.replace(old, new, 1)
    assert text != BASE
    file = tmp_path / "inventory.yml"
    file.write_text(text)
    with pytest.raises(InventoryError) as caught:
        load_inventory(file)  # the real resolver: *.invalid never resolves (RFC 6761)
    message = str(caught.value)
    assert re.search(rf"{re.escape(str(file))}:\d+: {path}: ", message), message
    assert expected in message


def test_an_skpd_may_be_marked_internal_and_a_wrong_value_names_its_line() -> None:
    marked = BASE.replace(
        "    name: Dinas Kesehatan\n", "    name: Dinas Kesehatan\n    internal: true\n"
    )
    assert parse_inventory(marked, "i.yml", resolve=None).skpds["dinkes"].internal
    assert not parse_inventory(BASE, "i.yml", resolve=None).skpds["dinkes"].internal
    wrong = marked.replace("internal: true", "internal: perhaps")
    line = wrong.splitlines().index("    internal: perhaps") + 1
    with pytest.raises(InventoryError, match=rf"i\.yml:{line}: skpd\[0\]\.internal: "):
        parse_inventory(wrong, "i.yml", resolve=None)
