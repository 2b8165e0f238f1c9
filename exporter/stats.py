"""Probe statistics of one node: the pure core behind every per-node series.

Nothing here touches a socket or a clock: the prober feeds results in (`record_reply`,
`record_loss`) with the times it measured, and the exposition reads the fields out. Each result
costs a few ring-buffer updates and one bisect, so 20,000 nodes at 1 s stay cheap.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

RTT_BUCKETS: tuple[float, ...] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
)
"""Upper bounds (seconds) of `sigap_probe_rtt_seconds`: 100 µs-1 ms resolve a LAN, 10-500 ms a
radio or WAN link; a reply later than 1 s is a timeout under every sane probe setting anyway."""


class NodeStats:
    """Counters, up/down state and the sliding window of one probed node.

    The windows are fixed-size rings in a bytearray and a float array: at 20,000 nodes a deque
    of Python objects per node would cost more memory than everything else together.
    """

    __slots__ = (
        "_delta_sum",
        "_deltas",
        "_deltas_len",
        "_deltas_pos",
        "_last_rtt",
        "_lost",
        "_lost_count",
        "_lost_len",
        "_lost_pos",
        "bucket_counts",
        "consecutive_lost",
        "down_after",
        "last_reply_time",
        "received",
        "rtt_sum",
        "sent",
        "up",
    )

    def __init__(self, window_probes: int, down_after: int) -> None:
        self.down_after = down_after
        self.sent = 0
        self.received = 0
        self.consecutive_lost = 0
        self.up: bool | None = None
        """None until the first reply or the first `down_after` losses: no state is claimed yet."""
        self.last_reply_time: float | None = None
        self.bucket_counts = [0] * (len(RTT_BUCKETS) + 1)
        """Per-bucket (not cumulative) counts; the last one is +Inf."""
        self.rtt_sum = 0.0
        self._last_rtt: float | None = None
        self._lost = bytearray(window_probes)
        self._lost_len = self._lost_pos = self._lost_count = 0
        self._deltas = array("d", bytes(8 * max(1, window_probes - 1)))
        self._deltas_len = self._deltas_pos = 0
        self._delta_sum = 0.0

    def record_sent(self) -> None:
        self.sent += 1

    def record_reply(self, rtt: float, wall_time: float) -> None:
        """A reply arrived `rtt` seconds after its request; `wall_time` is when (Unix time)."""
        self.received += 1
        self.consecutive_lost = 0
        self.up = True
        self.last_reply_time = wall_time
        self._push(0)
        self.bucket_counts[bisect_left(RTT_BUCKETS, rtt)] += 1
        self.rtt_sum += rtt
        if self._last_rtt is not None:
            deltas, pos = self._deltas, self._deltas_pos
            delta = abs(rtt - self._last_rtt)
            if self._deltas_len == len(deltas):
                self._delta_sum -= deltas[pos]
            else:
                self._deltas_len += 1
            deltas[pos] = delta
            self._delta_sum += delta
            self._deltas_pos = (pos + 1) % len(deltas)
        self._last_rtt = rtt

    def record_loss(self) -> None:
        """A request went unanswered within its timeout, or could not be sent at all."""
        self.consecutive_lost += 1
        if self.consecutive_lost >= self.down_after:
            self.up = False
        self._push(1)

    def _push(self, lost: int) -> None:
        ring, pos = self._lost, self._lost_pos
        if self._lost_len == len(ring):
            self._lost_count -= ring[pos]
        else:
            self._lost_len += 1
        ring[pos] = lost
        self._lost_count += lost
        self._lost_pos = (pos + 1) % len(ring)

    @property
    def loss_ratio(self) -> float:
        """Lost / completed probes over the window; 0 before the first result."""
        return self._lost_count / self._lost_len if self._lost_len else 0.0

    @property
    def jitter(self) -> float:
        """Mean absolute difference of consecutive RTTs over the window (RFC 3550's D, averaged)."""
        return max(0.0, self._delta_sum / self._deltas_len) if self._deltas_len else 0.0

    def resize(self, window_probes: int, down_after: int) -> None:
        """New probe settings after a reload; a changed window starts afresh."""
        self.down_after = down_after
        if window_probes != len(self._lost):
            self._lost = bytearray(window_probes)
            self._lost_len = self._lost_pos = self._lost_count = 0
            self._deltas = array("d", bytes(8 * max(1, window_probes - 1)))
            self._deltas_len = self._deltas_pos = 0
            self._delta_sum = 0.0
