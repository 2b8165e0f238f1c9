"""The probe statistics: what a node's series say after a given run of replies and losses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exporter.stats import RTT_BUCKETS, NodeStats


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
