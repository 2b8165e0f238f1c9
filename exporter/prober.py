"""The probe engine: continuous ICMP echo to every node over one socket per address family.

Requests go out on a schedule spread evenly over each node's interval (smokeping-style, not per
scrape); replies are read as they arrive and matched to the outstanding request by slot,
sequence and cookie; a request unanswered after its timeout is a loss. All of it runs on the
asyncio loop of the HTTP server, so there is no lock: the exposition reads the same objects
between two scheduler steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import heapq
import ipaddress
import logging
import secrets
import time
import zlib
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from exporter.clock import Monotonic
from exporter.icmp import (
    EchoSocket,
    echo_request,
    open_echo_socket,
    receive_replies,
)
from exporter.inventory import CORE, Inventory, Node
from exporter.stats import NodeStats

log = logging.getLogger("sigap.exporter")

LAG_BUCKETS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
MIN_SLEEP = 0.004
"""The scheduler wakes at most every 4 ms and sends what is due: small batches, little overhead,
and a schedule lag that stays far below any probe interval."""
_SEND_ERROR_REASONS = {
    errno.ENETUNREACH: "network_unreachable",
    errno.EHOSTUNREACH: "host_unreachable",
    errno.EPERM: "permission_denied",
    errno.EACCES: "permission_denied",
    errno.EADDRNOTAVAIL: "address_not_available",
    errno.EINVAL: "invalid_argument",
    errno.ENOBUFS: "no_buffer_space",
    errno.EAGAIN: "socket_buffer_full",
}


@dataclass(frozen=True)
class Shard:
    """`--shard i/n`: this exporter publishes the SKPDs whose id hashes to i (mod n).

    Every shard also probes the core, because the upstream state of its SKPDs depends on it, but
    only shard 0 publishes the core's series, so that no series exists twice.
    """

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise ValueError(f"--shard {text!r}: expected i/n, e.g. 0/2") from None
        if not 0 <= index < count:
            raise ValueError(f"--shard {text!r}: i must be in 0..n-1")
        return cls(index, count)

    def probes(self, node: Node) -> bool:
        return node.skpd == CORE or zlib.crc32(node.skpd.encode()) % self.count == self.index

    def publishes(self, node: Node) -> bool:
        return self.index == 0 if node.skpd == CORE else self.probes(node)


class Target:
    """One probed node: where it is, its statistics and its outstanding request."""

    __slots__ = (
        "family",
        "handover",
        "interval",
        "ip",
        "last_answered",
        "node",
        "outstanding",
        "position",
        "published",
        "schedule_token",
        "sent_at",
        "sequence",
        "slot",
        "sockaddr",
        "stats",
        "timeout",
    )

    def __init__(self, node: Node, slot: int, published: bool) -> None:
        self.slot = slot
        self.sequence = 0
        self.outstanding: int | None = None
        self.sent_at = 0.0
        self.last_answered = -1
        self.schedule_token = 0
        """Bumped when the target is rescheduled: its older schedule entries are void."""
        self.position = 0
        """Depth-first place of the node in the topology (`Inventory.topology_order`)."""
        self.handover = False
        """Where Diskominfo hands the SKPD its connection over (`Inventory.handover`)."""
        self.stats = NodeStats(node.probe.window_probes, node.probe.down_after)
        self.update(node, published)

    def update(self, node: Node, published: bool) -> None:
        self.node = node
        self.published = published
        self.family = node.family
        self.ip = ipaddress.ip_address(node.ip).compressed
        self.sockaddr: tuple[str, int] | tuple[str, int, int, int] = (
            (self.ip, 0) if node.family == 4 else (self.ip, 0, 0, 0)
        )
        self.interval = node.probe.interval
        self.timeout = node.probe.timeout
        self.stats.resize(node.probe.window_probes, node.probe.down_after)


@dataclass
class EngineCounters:
    """The exporter's own health, published as self-metrics."""

    send_errors: Counter[str] = field(default_factory=Counter)
    replies_dropped: Counter[str] = field(default_factory=Counter)
    lag_buckets: list[int] = field(default_factory=lambda: [0] * (len(LAG_BUCKETS) + 1))
    lag_sum: float = 0.0
    lag_count: int = 0

    def observe_lag(self, lag: float) -> None:
        self.lag_buckets[bisect_left(LAG_BUCKETS, lag)] += 1
        self.lag_sum += lag
        self.lag_count += 1


class ProbeEngine:
    """Sends, receives and times out echo requests for the targets of the current inventory."""

    def __init__(
        self,
        shard: Shard = Shard(),
        open_socket: Callable[[int], EchoSocket] = open_echo_socket,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.shard = shard
        self.monotonic = monotonic
        """Seconds on a monotonic clock: when requests are due, sent and timed out (a test
        passes its own and moves it)."""
        self.counters = EngineCounters()
        self.sockets: dict[int, EchoSocket] = {}
        self.targets: dict[int, Target] = {}
        """By slot; a slot number is never reused, so a stale reply cannot hit another node."""
        self.order: list[Target] = []
        """Targets parents first, as the inventory lists them."""
        self._open_socket = open_socket
        self._slot_of: dict[tuple[object, ...], int] = {}
        self._next_slot = 0
        self._cookie = secrets.token_bytes(8)
        self._schedule: list[tuple[float, int, int]] = []
        """(due, slot, schedule token): an entry whose slot is gone or whose token is older
        than its target's is skipped when it comes up."""
        self._deadlines: list[tuple[float, int, int]] = []
        self._running = False

    # --- inventory ------------------------------------------------------------------------------

    def apply(self, inventory: Inventory) -> None:
        """Probe `inventory` from now on, touching only what changed.

        A node whose identity (`identity()`: id, address and every label of its series) stays
        keeps its place in the schedule, its counters, loss window and up/down state; a new or
        changed node starts afresh on a new slot, spread over its interval; a removed node's
        series go. Opens the socket of a family the first time a node needs it; raises
        SocketUnavailable (and changes nothing) when that is impossible."""
        probed = [n for n in inventory.nodes.values() if self.shard.probes(n)]
        for family in sorted({n.family for n in probed} - self.sockets.keys()):
            echo_socket = self._open_socket(family)
            log.info(
                "icmp socket opened",
                extra={
                    "family": f"ipv{family}",
                    "kind": echo_socket.kind,
                    "why": echo_socket.reason,
                },
            )
            self.sockets[family] = echo_socket
            if self._running:
                self._watch(echo_socket)
        targets: dict[int, Target] = {}
        order: list[Target] = []
        restart: list[Target] = []
        position = {node_id: i for i, node_id in enumerate(inventory.topology_order())}
        for node in probed:
            key = identity(node)
            slot = self._slot_of.get(key)
            target = self.targets.get(slot) if slot is not None else None
            if target is None:
                slot = self._slot_of[key] = self._next_slot
                self._next_slot += 1
                target = Target(node, slot, self.shard.publishes(node))
                restart.append(target)
            elif target.node != node:  # parent, name or probe settings: same series
                interval = target.interval
                target.update(node, self.shard.publishes(node))
                if target.interval != interval:
                    restart.append(target)
            target.position = position[node.id]
            target.handover = inventory.handover(node.id)
            targets[target.slot] = target
            order.append(target)
        for key in [k for k, slot in self._slot_of.items() if slot not in targets]:
            del self._slot_of[key]
        self.targets = targets
        self.order = order
        self._schedule_first(restart)

    def _schedule_first(self, targets: list[Target]) -> None:
        """Spread the first requests of `targets` evenly over each one's interval; a target
        still waiting for a reply is not asked again before its timeout, so a new interval
        costs no false loss. Other targets keep their schedule entries."""
        now = self.monotonic()
        count = max(1, len(targets))
        for i, target in enumerate(targets):
            target.schedule_token += 1
            due = now + target.interval * i / count
            if target.outstanding is not None:
                due = max(due, target.sent_at + target.timeout)
            self._schedule.append((due, target.slot, target.schedule_token))
        heapq.heapify(self._schedule)

    # --- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Probe until cancelled."""
        with self.listening():
            while True:
                due = self.tick(self.monotonic())
                await asyncio.sleep(max(due - self.monotonic(), MIN_SLEEP))

    @contextlib.contextmanager
    def listening(self) -> Iterator[None]:
        """Replies are received (by the running event loop) while inside."""
        self._running = True
        for echo_socket in self.sockets.values():
            self._watch(echo_socket)
        try:
            yield
        finally:
            self._running = False
            loop = asyncio.get_running_loop()
            for echo_socket in self.sockets.values():
                loop.remove_reader(echo_socket.sock.fileno())

    def tick(self, now: float) -> float:
        """Time out what is overdue at `now` and send what is due; returns when the next
        request or timeout is due (at most a second ahead). The loop's one step: `run` calls
        it, a test calls it with a moved clock."""
        self._expire(now)
        self._send_due(now)
        next_event = self._schedule[0][0] if self._schedule else now + 1.0
        if self._deadlines:
            next_event = min(next_event, self._deadlines[0][0])
        return min(next_event, now + 1.0)

    def close(self) -> None:
        for echo_socket in self.sockets.values():
            echo_socket.close()
        self.sockets.clear()

    def _watch(self, echo_socket: EchoSocket) -> None:
        asyncio.get_running_loop().add_reader(echo_socket.sock.fileno(), self._receive, echo_socket)

    def _send_due(self, now: float) -> None:
        schedule, targets = self._schedule, self.targets
        observe_lag = self.counters.observe_lag
        sent = 0
        while schedule and schedule[0][0] <= now:
            due, slot, token = heapq.heappop(schedule)
            target = targets.get(slot)
            if target is None or token != target.schedule_token:
                continue
            observe_lag(now - due)
            self._send(target, self.monotonic())
            due += target.interval
            if due <= now:  # fell a whole interval behind: skip, never burst
                due = now + target.interval
            heapq.heappush(schedule, (due, slot, token))
            sent += 1
            if sent % 256 == 0:
                now = self.monotonic()

    def _send(self, target: Target, now: float) -> None:
        stats = target.stats
        if target.outstanding is not None:
            target.outstanding = None
            stats.record_loss()
        target.sequence = sequence = (target.sequence + 1) & 0xFFFFFFFF
        echo_socket = self.sockets[target.family]
        packet = echo_request(
            target.family, echo_socket.identifier, self._cookie, target.slot, sequence
        )
        stats.record_sent()
        try:
            target.sent_at = self.monotonic()
            echo_socket.sock.sendto(packet, target.sockaddr)
        except OSError as error:
            reason = _SEND_ERROR_REASONS.get(error.errno or 0) or (
                errno.errorcode.get(error.errno or 0, "unknown").lower()
            )
            self.counters.send_errors[reason] += 1
            stats.record_loss()
            return
        target.outstanding = sequence
        heapq.heappush(self._deadlines, (target.sent_at + target.timeout, target.slot, sequence))

    def _expire(self, now: float) -> None:
        deadlines, targets = self._deadlines, self.targets
        while deadlines and deadlines[0][0] <= now:
            _, slot, sequence = heapq.heappop(deadlines)
            target = targets.get(slot)
            if target is not None and target.outstanding == sequence:
                target.outstanding = None
                target.stats.record_loss()

    def _receive(self, echo_socket: EchoSocket) -> None:
        """Drain the socket: every reply that is ours, on time and new counts; the rest is
        counted by reason and dropped."""
        dropped, targets = self.counters.replies_dropped, self.targets
        arrivals = receive_replies(echo_socket, self._cookie, dropped, monotonic=self.monotonic)
        for arrival in arrivals:
            reply = arrival.reply
            target = targets.get(reply.slot)
            if target is None:
                dropped["late"] += 1
                continue
            if arrival.source != target.ip:
                dropped["invalid"] += 1
                continue
            if target.outstanding != reply.sequence:
                dropped["duplicate" if reply.sequence == target.last_answered else "late"] += 1
                continue
            rtt = arrival.received_at - target.sent_at
            queued = arrival.queued
            if queued < rtt:
                rtt -= queued
            target.outstanding = None
            target.last_answered = reply.sequence
            stamped = arrival.stamped
            target.stats.record_reply(rtt, stamped if stamped is not None else arrival.read_at)


def identity(node: Node) -> tuple[object, ...]:
    """What makes a node's series: its id, the address probed and every label it is published
    with. A node whose identity changes on reload is a new node to the engine (new slot, fresh
    counters), as it is a new series to Prometheus."""
    return (
        node.id,
        node.ip,
        node.address,
        node.skpd,
        node.role,
        node.owner,
        tuple(sorted(node.labels.items())),
    )


def describe_sockets(engine: ProbeEngine) -> str:
    return ", ".join(f"ipv{f}={s.kind}" for f, s in sorted(engine.sockets.items())) or "none"
