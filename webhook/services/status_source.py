"""What the status page asks Prometheus, once per refresh: each SKPD's availability per local
day over the last 90 days (the monthly report's figure, the connection Diskominfo delivers:
`avg_over_time` of `sigap:skpd_connection_up:avg1m`, one range query stepping a day) and each
node's `sigap_node_up` now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp

from webhook.services.prometheus import CONNECTION_RULE, TIMEOUT, AvailabilityUnavailable


async def _ask(prometheus_url: str, path: str, params: dict[str, str]) -> list[Any]:
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as http,
            http.get(f"{prometheus_url}{path}", params=params) as response,
        ):
            body = await response.json(content_type=None)
        if body["status"] != "success":
            raise AvailabilityUnavailable(f"Prometheus answered: {body.get('error', body)}")
        return list(body["data"]["result"])
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as error:
        raise AvailabilityUnavailable(f"Prometheus at {prometheus_url}: {error}") from None


async def daily_availability(
    prometheus_url: str, first_day_end: datetime, last_day_end: datetime
) -> dict[str, dict[float, float]]:
    """SKPD -> {end of a day (Unix seconds) -> availability that day}; days are 86400 s
    apart, ending at `first_day_end` ... `last_day_end` (the last one may be now)."""
    params = {
        "query": f"avg_over_time({CONNECTION_RULE}[1d])",
        "start": f"{first_day_end.timestamp():.3f}",
        "end": f"{last_day_end.timestamp():.3f}",
        "step": "86400",
    }
    found: dict[str, dict[float, float]] = {}
    for series in await _ask(prometheus_url, "/api/v1/query_range", params):
        days = found.setdefault(series["metric"].get("skpd", ""), {})
        for at, value in series["values"]:
            days[float(at)] = float(value)
    return found


async def nodes_up(prometheus_url: str, at: datetime) -> dict[str, bool]:
    """node id -> whether it answers now (any vantage point that sees it up)."""
    params = {"query": "max by (node) (sigap_node_up)", "time": f"{at.timestamp():.3f}"}
    return {
        s["metric"].get("node", ""): float(s["value"][1]) >= 1.0
        for s in await _ask(prometheus_url, "/api/v1/query", params)
    }
