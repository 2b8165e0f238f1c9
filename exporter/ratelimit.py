"""The web config's `rate_limit`, counted as exporter-toolkit counts it (golang.org/x/time/rate).

A bucket holds up to `burst` tokens, starts full and gains one token every `interval`; each
request takes one or is refused (429). `burst: 0` refuses every request, as in the toolkit.
"""

from __future__ import annotations

from exporter.webconfig import RateLimit


class TokenBucket:
    """One bucket for the whole server, as exporter-toolkit has one limiter per handler."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._tokens = float(limit.burst)
        self._last: float | None = None

    def allow(self, now: float) -> bool:
        """Take a token at `now` (seconds on a monotonic clock) if there is one."""
        if self._last is not None:
            gained = (now - self._last) / self.limit.interval
            self._tokens = min(float(self.limit.burst), self._tokens + max(gained, 0.0))
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
