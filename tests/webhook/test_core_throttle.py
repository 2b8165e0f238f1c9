"""The throttle's sliding windows, pure: exact at the window's edge, a key's memory bounded by
its limit, and keys forgotten once their window has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webhook.core.throttle import Limit, SlidingWindow

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_a_key_is_full_while_its_oldest_counted_event_is_inside_the_window() -> None:
    window: SlidingWindow[str] = SlidingWindow(Limit(3, 5 * MINUTE))
    for minute in (0, 1, 2):
        window.hit("a", T0 + minute * MINUTE)
    assert window.full("a", T0 + 2 * MINUTE)
    assert window.full("a", T0 + 5 * MINUTE - timedelta(seconds=1))
    assert not window.full("a", T0 + 5 * MINUTE)  # the first event has left the window
    window.hit("a", T0 + 5 * MINUTE)
    assert window.full("a", T0 + 5 * MINUTE)  # three again: minutes 1, 2 and 5
    assert not window.full("b", T0)


def test_a_key_keeps_no_more_events_than_its_limit_and_expires_with_its_window() -> None:
    window: SlidingWindow[str] = SlidingWindow(Limit(3, 5 * MINUTE))
    for second in range(1000):
        window.hit("a", T0 + timedelta(seconds=second))
    assert len(window._events["a"]) == 3
    window.hit("b", T0 + 30 * MINUTE)
    assert list(window) == ["b"]
    window.clear("b")
    assert len(window) == 0
