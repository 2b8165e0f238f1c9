"""Maintenance windows carried out as Alertmanager silences (API v2), so an outage inside a window
notifies nobody and opens no incident.

- A plan gets one silence on EVERY configured Alertmanager (`SIGAP_ALERTMANAGER_URL`), its id
  kept per URL. In a gossiping cluster the members then hold one copy per member (each expires
  with its plan; duplicates silence nothing more); with separate Alertmanagers each must hold
  one. Creating everywhere is right in both cases, and a member that was down when the plan was
  made still gets its own silence when it is back.
- A plan that changes is re-posted with its silence id (`POST /api/v2/silences` with `id`
  replaces it; Alertmanager may answer with a new id, kept); an id Alertmanager no longer knows
  (its storage wiped) is posted anew. A cancelled plan's silences are expired
  (`DELETE /api/v2/silence/{id}`); one already expired or unknown counts as done.
- `sync(plan_id)` runs after the commit that changed the plan; `sync_unsynced()` runs on the
  leader every `SYNC_INTERVAL`: what failed (an Alertmanager down) is retried until it holds.
  When two replicas sync one plan at once (a save on one, the leader's round on the other),
  the first to record its silences wins; the other expires the ones it made, which would
  otherwise outlive a cancel of the plan.
  The plan's `revision` tells whether its silences carry out its latest version.
- Every request is counted in `sigap_maintenance_silence_requests_total{operation,result}`, so a
  silence that cannot be put in place alerts like anything else, not only on the plan's page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from prometheus_client import Counter

from webhook.core.maintenance import silence_body
from webhook.store.database import Database
from webhook.store.maintenance import unsynced
from webhook.store.models import Maintenance

log = logging.getLogger("sigap.maintenance")

TIMEOUT = aiohttp.ClientTimeout(total=5.0)
"""A page that saves a plan waits at most this for each Alertmanager (the loop retries)."""
SYNC_INTERVAL = 30.0


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """A plan as read before talking to Alertmanager (no session is held meanwhile)."""

    id: int
    skpd: str
    nodes: list[Any]
    starts_at: datetime
    ends_at: datetime
    cancelled_at: datetime | None
    reason: str
    revision: int
    silence_ids: dict[str, Any]


class SilenceFailed(Exception):
    """One Alertmanager refused or did not answer; `str()` names it and why."""


async def _answer(response: aiohttp.ClientResponse) -> str:
    return (await response.text())[:300].strip()


async def post_silence(
    http: aiohttp.ClientSession, url: str, body: dict[str, Any], silence_id: str | None
) -> str:
    """Create the silence, or replace `silence_id`; its id now (Alertmanager may give a new
    one when the change cannot be made in place)."""
    payload = {**body, "id": silence_id} if silence_id else body
    try:
        async with http.post(f"{url}/api/v2/silences", json=payload) as response:
            if response.status == 404 and silence_id:  # it forgot the silence: make it anew
                return await post_silence(http, url, body, None)
            if response.status != 200:
                raise SilenceFailed(f"{url}: HTTP {response.status}: {await _answer(response)}")
            found = (await response.json(content_type=None)).get("silenceID")
    except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError) as error:
        raise SilenceFailed(f"{url}: {error or type(error).__name__}") from None
    if not isinstance(found, str) or not found:
        raise SilenceFailed(f"{url}: no silenceID in the answer")
    return found


async def expire_silence(http: aiohttp.ClientSession, url: str, silence_id: str) -> None:
    """Expire it now; one unknown or already expired is fine (the end wanted)."""
    try:
        async with http.delete(f"{url}/api/v2/silence/{silence_id}") as response:
            text = await _answer(response)
            if response.status == 404 or "already expired" in text:
                return
            if response.status != 200:
                raise SilenceFailed(f"{url}: HTTP {response.status}: {text}")
    except (aiohttp.ClientError, TimeoutError) as error:
        raise SilenceFailed(f"{url}: {error or type(error).__name__}") from None


async def carry_out(
    http: aiohttp.ClientSession,
    urls: Sequence[str],
    plan: _Snapshot,
    now: datetime,
    requests: Counter | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Make every Alertmanager hold what the plan says: (the silence ids, the errors); each
    request counted in `requests` (`sigap_maintenance_silence_requests`) by operation and
    result."""
    ids: dict[str, Any] = {u: i for u, i in plan.silence_ids.items() if u in urls}
    stale = [(u, i) for u, i in plan.silence_ids.items() if u not in urls]
    live = plan.cancelled_at is None and plan.ends_at > now
    errors: list[str] = []

    async def one(url: str) -> None:
        if live:
            operation = "create"
        elif plan.cancelled_at is not None and url in ids:
            operation = "expire"
        else:
            return  # a plan that ended on its own: its silence expired with it
        try:
            if operation == "create":
                ids[url] = await post_silence(
                    http, url, silence_body(plan.id, plan, plan.reason), ids.get(url)
                )
            else:
                await expire_silence(http, url, ids.pop(url))
        except SilenceFailed as error:
            errors.append(str(error))
            result = "error"
        else:
            result = "ok"
        if requests is not None:
            requests.labels(operation, result).inc()

    await asyncio.gather(*(one(url) for url in urls))
    if stale:  # an Alertmanager no longer configured: its silences end on their own
        log.info("maintenance: silences left on removed Alertmanagers", extra={"ids": stale})
    return ids, errors


class Silences:
    """The maintenance plans' silences on `urls` (empty: nothing to do, every plan `none`)."""

    def __init__(
        self, database: Database, urls: Sequence[str], requests: Counter | None = None
    ) -> None:
        self.database = database
        self.urls = tuple(urls)
        self.requests = requests
        """`sigap_maintenance_silence_requests` of the service's /metrics (None: the CLI)."""
        self._lock = asyncio.Lock()
        """One sync at a time in this process: two at once would create two silences."""

    async def sync(self, plan_id: int, now: datetime) -> str | None:
        """Carry out the plan's latest revision on every Alertmanager and record how it went;
        the error (None when it held everywhere)."""
        if not self.urls:
            return None
        async with self._lock:
            async with self.database.read() as session:
                row = await session.get(Maintenance, plan_id)
                if row is None:
                    return None
                plan = _Snapshot(
                    row.id,
                    row.skpd,
                    list(row.nodes),
                    row.starts_at,
                    row.ends_at,
                    row.cancelled_at,
                    row.reason,
                    row.revision,
                    dict(row.silence_ids),
                )
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                ids, errors = await carry_out(http, self.urls, plan, now, self.requests)
            error = "; ".join(sorted(errors)) or None
            extra: dict[str, Any] = {}
            async with self.database.write() as session:
                row = await session.get(Maintenance, plan_id)
                if row is not None and dict(row.silence_ids) != plan.silence_ids:
                    # another replica synced the plan meanwhile: its silences stand (the
                    # plan's), and those made here would outlive a cancel, so they go
                    extra = {u: i for u, i in ids.items() if row.silence_ids.get(u) != i}
                elif row is not None:
                    row.silence_ids, row.sync_error, row.synced_at = ids, error, now
                    if error is None:
                        row.synced_revision = plan.revision
            if extra:
                await self._expire(extra)
        if error:
            where = {"plan": plan_id, "error": error}
            log.warning("maintenance: silence not in place", extra=where)
        return error

    async def _expire(self, silences: dict[str, Any]) -> None:
        """Expire silences no plan keeps (best effort: each ends with its plan's window)."""
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            for url, silence_id in silences.items():
                try:
                    await expire_silence(http, url, silence_id)
                except SilenceFailed as failed:
                    log.warning("maintenance: duplicate silence left", extra={"error": str(failed)})
                    result = "error"
                else:
                    result = "ok"
                if self.requests is not None:
                    self.requests.labels("expire", result).inc()

    async def sync_unsynced(self, now: datetime) -> int:
        """Sync every plan whose silences lag behind it (the leader's loop); how many."""
        if not self.urls:
            return 0
        async with self.database.read() as session:
            ids = [m.id for m in await unsynced(session, now)]
        for plan_id in ids:
            await self.sync(plan_id, now)
        return len(ids)
