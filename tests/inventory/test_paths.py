"""The paths to the core: which nodes are reachable, which run on a backup path, and which lost
path cuts nothing off, from the topology and each node's state (`exporter.inventory.upstream`,
what the exporter publishes and the status page draws)."""

from __future__ import annotations

from exporter.inventory import upstream


def upstream_up(
    order: list[str], parents: dict[str, tuple[str, ...]], up: dict[str, bool | None]
) -> dict[str, bool]:
    return {node: state.up for node, state in upstream(order, parents, up).items()}


def test_upstream_is_down_below_a_down_node_through_three_levels() -> None:
    order = ["core", "uplink", "gw", "switch"]
    parent: dict[str, tuple[str, ...]] = {
        "core": (), "uplink": ("core",), "gw": ("uplink",), "switch": ("gw",)
    }  # fmt: skip
    assert upstream_up(order, parent, {"core": True, "uplink": False, "gw": False}) == {
        "core": True,
        "uplink": True,
        "gw": False,
        "switch": False,
    }
    assert (
        upstream_up(order, parent, {"core": True, "uplink": True, "gw": False})["switch"] is False
    )
    assert all(upstream_up(order, parent, {}).values())


# RSUD: a fibre and a radio link, both to the gateway; a switch and an access point behind it.
RSUD_ORDER = ["core", "dist-a", "dist-b", "fibre", "radio", "gw", "sw", "ap"]
RSUD: dict[str, tuple[str, ...]] = {
    "core": (), "dist-a": ("core",), "dist-b": ("core",), "fibre": ("dist-a",),
    "radio": ("dist-b",), "gw": ("fibre", "radio"), "sw": ("gw",), "ap": ("sw",),
}  # fmt: skip


def test_one_path_cut_keeps_everything_behind_the_redundant_node_reachable() -> None:
    state = upstream(RSUD_ORDER, RSUD, {"fibre": False})
    assert all(s.up for s in state.values())
    assert (state["gw"].paths, state["gw"].paths_up) == (2, 1)
    assert state["fibre"].bypassed and not state["radio"].bypassed
    assert [n for n, s in state.items() if s.bypassed] == ["fibre"]


def test_both_paths_cut_cuts_off_the_gateway_and_each_cut_path_is_to_blame() -> None:
    state = upstream(RSUD_ORDER, RSUD, {"fibre": False, "radio": False, "gw": False})
    assert state["fibre"].up and state["radio"].up  # each the highest down node of its path
    assert not state["gw"].up and not state["sw"].up and not state["ap"].up
    assert (state["gw"].paths, state["gw"].paths_up) == (2, 0)
    assert not any(s.bypassed for s in state.values())


def test_a_lost_path_further_up_is_bypassed_through_a_cut_off_link() -> None:
    # dist-b down strands the radio link, but the gateway still has the fibre: nothing lost
    state = upstream(RSUD_ORDER, RSUD, {"dist-b": False, "radio": False})
    assert not state["radio"].up and state["gw"].up
    assert state["dist-b"].bypassed and state["radio"].bypassed
    assert state["gw"].paths_up == 1


def test_a_down_leaf_and_a_node_with_a_single_homed_child_are_never_bypassed() -> None:
    state = upstream(RSUD_ORDER, RSUD, {"ap": False})
    assert not state["ap"].bypassed
    state = upstream(RSUD_ORDER, RSUD, {"sw": False, "ap": False})
    assert not state["sw"].bypassed and not state["ap"].up


def test_a_child_down_by_itself_does_not_make_its_redundant_parent_an_outage() -> None:
    state = upstream(RSUD_ORDER, RSUD, {"fibre": False, "gw": False})
    assert state["gw"].up  # the radio still reaches it: the gateway itself is the fault
    assert state["fibre"].bypassed


def test_unknown_states_count_as_up_so_a_starting_exporter_claims_nothing() -> None:
    state = upstream(RSUD_ORDER, RSUD, {})
    assert all(s.up and s.paths_up == s.paths and not s.bypassed for s in state.values())
