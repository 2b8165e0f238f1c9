"""SIGAP's one clock (the exporter's and the webhook's). Everything that depends on time takes
it (or `now`) as an argument, so a test moves time instead of waiting for it or shrinking
windows to a millisecond."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time, aware, in UTC."""
Monotonic = Callable[[], float]
"""Seconds on a clock that never goes back (`time.monotonic`): intervals, timeouts, rates."""
Sleep = Callable[[float], Awaitable[None]]
"""Waits that many seconds (`asyncio.sleep`): a test passes one that waits until it moves time."""


def system_clock() -> datetime:
    return datetime.now(UTC)
