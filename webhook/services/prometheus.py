"""Availability per SKPD over a period, from Prometheus' recording rules (deploy/prometheus/rules/
sigap-recording.yml, defined in README "Availability"): `sigap:skpd_connection_up:avg1m`, the
connection Diskominfo delivers (the service agreement's figure), or
`sigap:skpd_internal_up:avg1m`, the SKPD's own network; one `avg_over_time` over the period,
asked at its end through the HTTP API (/api/v1/query). The monthly report's one use of
Prometheus.

The average is over the minutes Prometheus has samples for: a time when nothing was monitored
(Prometheus or the exporter down) counts neither as up nor as down.
"""

from __future__ import annotations

import logging
from datetime import datetime

import aiohttp

log = logging.getLogger("sigap.webhook")

CONNECTION_RULE = "sigap:skpd_connection_up:avg1m"
"""Per SKPD and minute: its hand-over nodes (the gateway) answering."""
INTERNAL_RULE = "sigap:skpd_internal_up:avg1m"
"""Per SKPD and minute: its own expected nodes answering, while the connection is whole."""
TIMEOUT = aiohttp.ClientTimeout(total=10.0)
"""A report page must not hang on a Prometheus that does not answer."""


class AvailabilityUnavailable(Exception):
    """Prometheus could not be asked or gave no usable answer; `str()` says why."""


def availability_query(start: datetime, end: datetime, rule: str = CONNECTION_RULE) -> str:
    """PromQL for the mean of the per-minute SKPD figure over [start, end], asked at `end`."""
    seconds = max(1, int((end - start).total_seconds()))
    return f"avg_over_time({rule}[{seconds}s])"


async def skpd_availability(
    prometheus_url: str, start: datetime, end: datetime, rule: str = CONNECTION_RULE
) -> dict[str, float]:
    """SKPD -> its availability between `start` and `end` (0..1) by `rule` (default: the
    connection Diskominfo delivers); an SKPD without samples in the period is absent."""
    params = {"query": availability_query(start, end, rule), "time": f"{end.timestamp():.3f}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as http,
            http.get(f"{prometheus_url}/api/v1/query", params=params) as response,
        ):
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        log.warning("Prometheus not readable", extra={"url": prometheus_url, "error": str(error)})
        raise AvailabilityUnavailable(f"Prometheus at {prometheus_url} is unreachable") from None
    try:
        if body["status"] != "success":
            raise AvailabilityUnavailable(f"Prometheus answered: {body.get('error', body)}")
        return {
            sample["metric"].get("skpd", ""): float(sample["value"][1])
            for sample in body["data"]["result"]
        }
    except (KeyError, TypeError, IndexError, ValueError) as error:
        raise AvailabilityUnavailable(f"unexpected answer from Prometheus: {error}") from None
