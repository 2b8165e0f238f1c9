"""The probe statistics: what a node's series say after a given run of replies and losses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exporter.stats import RTT_BUCKETS, NodeStats, upstream


def test_a_node_is_unknown_until_it_answers_or_misses_down_after_probes() -> None:
    stats = NodeStats(window_probes=10, down_after=3)
    assert stats.up is None
    stats.record_loss()
    stats.record_loss()
    assert stats.up is None
    stats.record_loss()
    assert stats.up is False
    stats.record_reply(0.001, 100.0)
    assert stats.up is True
    assert stats.last_reply_time == 100.0


def test_a_single_lost_probe_does_not_bring_a_node_down() -> None:
    stats = NodeStats(window_probes=10, down_after=3)
    for _ in range(5):
        stats.record_reply(0.001, 0.0)
        stats.record_loss()
        stats.record_loss()
    assert stats.up is True


def test_loss_ratio_covers_only_the_window() -> None:
    stats = NodeStats(window_probes=4, down_after=3)
    for _ in range(4):
        stats.record_loss()
    assert stats.loss_ratio == 1.0
    stats.record_reply(0.001, 0.0)
    stats.record_reply(0.001, 0.0)
    assert stats.loss_ratio == 0.5
    stats.record_reply(0.001, 0.0)
    stats.record_reply(0.001, 0.0)
    assert stats.loss_ratio == 0.0


@given(st.lists(st.booleans(), min_size=1, max_size=200), st.integers(1, 50))
def test_loss_ratio_equals_the_share_of_losses_in_the_last_window(
    results: list[bool], window: int
) -> None:
    stats = NodeStats(window_probes=window, down_after=3)
    for lost in results:
        if lost:
            stats.record_loss()
        else:
            stats.record_reply(0.002, 0.0)
    last = results[-window:]
    assert stats.loss_ratio == pytest.approx(sum(last) / len(last))


def test_jitter_is_the_mean_difference_of_consecutive_rtts() -> None:
    stats = NodeStats(window_probes=10, down_after=3)
    for rtt in (0.010, 0.012, 0.010, 0.016):
        stats.record_reply(rtt, 0.0)
    assert stats.jitter == pytest.approx((0.002 + 0.002 + 0.006) / 3)


def test_rtt_lands_in_the_right_bucket() -> None:
    stats = NodeStats(window_probes=10, down_after=3)
    stats.record_reply(0.0003, 0.0)  # a LAN: between 250 µs and 500 µs
    stats.record_reply(0.120, 0.0)  # a radio link: between 100 ms and 250 ms
    stats.record_reply(3.0, 0.0)
    assert stats.bucket_counts[RTT_BUCKETS.index(0.0005)] == 1
    assert stats.bucket_counts[RTT_BUCKETS.index(0.25)] == 1
    assert stats.bucket_counts[-1] == 1
    assert stats.rtt_sum == pytest.approx(3.1203)


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
