"""SOP step 2, by itself: ping the affected nodes when an incident opens, and record the result.

Runs in the background after the commit, so Alertmanager's answer never waits for it. The
result goes on the incident's timeline as a `ping_check` event (opened -> ping_checked).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from icmplib import async_multiping
from icmplib.exceptions import ICMPLibError
from sqlalchemy import select

from exporter.inventory import Inventory
from webhook.core.workflow import Role, State, TransitionRefused, transition
from webhook.store.database import Database
from webhook.store.models import Alert, Event, Incident

log = logging.getLogger("sigap.webhook")


@dataclass(frozen=True)
class PingSettings:
    count: int = 3
    interval: float = 0.2
    timeout: float = 1.0
    privileged: bool | None = None
    """None: raw sockets when root, else the kernel's datagram ICMP sockets."""


def targets_of(
    alerts: list[Alert], nodes: list[str], skpd: str, inventory: Inventory | None
) -> dict[str, str]:
    """node -> address to ping: the nodes the alerts (or the report) name, by their `address`
    label or the inventory; with none named, every node of the SKPD in the inventory."""
    known = inventory.nodes if inventory is not None else {}
    found: dict[str, str] = {}
    for alert in alerts:
        node = alert.labels.get("node")
        if not node:
            continue
        if alert.labels.get("address"):
            found[node] = alert.labels["address"]
        elif node in known:
            found[node] = known[node].ip
    for node in nodes:
        if node not in found and node in known:
            found[node] = known[node].ip
    if not found and inventory is not None:
        found = {n.id: n.ip for n in inventory.nodes_of(skpd)}
    return found


async def ping_addresses(addresses: Mapping[str, str], settings: PingSettings) -> dict[str, Any]:
    """node -> {address, sent, received, loss, rtt_avg_ms}: what a person reads on the timeline."""
    privileged = settings.privileged if settings.privileged is not None else os.geteuid() == 0
    hosts = await async_multiping(
        list(dict.fromkeys(addresses.values())),
        count=settings.count,
        interval=settings.interval,
        timeout=settings.timeout,
        privileged=privileged,
    )
    by_address = {h.address: h for h in hosts}
    result = {}
    for node, address in addresses.items():
        host = by_address.get(address)
        if host is None:
            continue
        result[node] = {
            "address": address,
            "sent": host.packets_sent,
            "received": host.packets_received,
            # icmplib reports no loss when nothing could be sent (no route): that is all lost
            "loss": 1 - host.packets_received / host.packets_sent if host.packets_sent else 1.0,
            "rtt_avg_ms": round(host.avg_rtt, 3) if host.is_alive else None,
        }
    return result


class PingChecker:
    """Schedules ping checks as background tasks and keeps them referenced until done."""

    def __init__(
        self,
        database: Database,
        settings: PingSettings,
        inventory: Inventory | None,
        enabled: bool = True,
        on_result: Callable[[str], None] | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.inventory = inventory
        self.enabled = enabled
        self.on_result = on_result
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, incident_id: int, actor: str = "sigap", role: Role = Role.SYSTEM) -> None:
        if not self.enabled:
            return
        task = asyncio.get_running_loop().create_task(self.run(incident_id, actor, role))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the checks under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def run(self, incident_id: int, actor: str, role: Role) -> None:
        try:
            async with self.database.read() as session:
                incident = await session.get_one(Incident, incident_id)
                alerts = list(
                    (
                        await session.execute(select(Alert).where(Alert.incident_id == incident_id))
                    ).scalars()
                )
            targets = targets_of(alerts, list(incident.nodes), incident.skpd, self.inventory)
            try:
                results: dict[str, Any] = await ping_addresses(targets, self.settings)
                error = None
            except (ICMPLibError, OSError) as exc:
                results, error = {}, str(exc)
            await self._record(incident_id, actor, role, results, error)
            if self.on_result:
                self.on_result("error" if error else "ok")
        except Exception:  # a background task must log, never vanish silently
            log.exception("ping check failed", extra={"incident": incident_id})
            if self.on_result:
                self.on_result("error")

    async def _record(
        self, incident_id: int, actor: str, role: Role, results: dict[str, Any], error: str | None
    ) -> None:
        now = datetime.now(UTC)
        async with self.database.write() as session:
            incident = await session.get_one(Incident, incident_id)
            state = State(incident.state)
            try:
                row = transition(state, "ping_check", role, {})
            except TransitionRefused:
                return  # closed meanwhile (e.g. transient): nothing to check any more
            target = row.target_from(state)
            data: dict[str, Any] = {"results": results}
            if error:
                data["error"] = error
            data["reachable"] = sorted(n for n, r in results.items() if r["received"])
            data["unreachable"] = sorted(n for n, r in results.items() if not r["received"])
            session.add(
                Event(
                    incident_id=incident_id,
                    at=now,
                    actor=actor,
                    role=role.value,
                    kind="ping_check",
                    from_state=state.value,
                    to_state=target.value,
                    data=data,
                )
            )
            if target != state:
                incident.state = target.value
                incident.stage_entered_at = now
            incident.updated_at = now
