"""Sliding windows of events per key, for throttling: pure, the time passed in (`now`).

Each key keeps the times of its last `limit.count` events only (a key is full when the oldest
of them is still inside the window, so older ones never matter), and a key whose newest event
has left the window is forgotten at the next hit of any key: the memory is bounded by the keys
hit within one window, each at most `limit.count` times.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` events in any `window`."""

    count: int
    window: timedelta


class SlidingWindow(Generic[K]):
    """Events per key within the last `limit.window`, exact (no approximation at window edges)."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        # Least recently hit first: with one window for all keys, that is also the order in
        # which they expire, so expiring looks only at the front.
        self._events: OrderedDict[K, deque[datetime]] = OrderedDict()

    def full(self, key: K, now: datetime) -> bool:
        """Whether `limit.count` events of `key` lie within the window ending at `now`."""
        events = self._events.get(key)
        return (
            events is not None
            and len(events) == self.limit.count
            and events[0] > now - self.limit.window
        )

    def hit(self, key: K, now: datetime) -> None:
        self._expire(now)
        events = self._events.pop(key, None)
        if events is None:
            events = deque(maxlen=self.limit.count)
        events.append(now)
        self._events[key] = events

    def clear(self, key: K) -> None:
        self._events.pop(key, None)

    def __iter__(self) -> Iterator[K]:
        """The keys held (expired ones may linger until the next hit)."""
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def _expire(self, now: datetime) -> None:
        cutoff = now - self.limit.window
        while self._events:
            key, events = next(iter(self._events.items()))
            if events[-1] > cutoff:
                return
            del self._events[key]
