"""SOP step 2, by itself: ping the affected nodes when an incident opens, and record the result.

Checks are queued jobs, run in the background after the commit so Alertmanager's answer never
waits for them, and bounded so that a storm of new incidents cannot starve the receiver:

- one job per incident while it waits (scheduling it again changes nothing);
- at most `concurrency` incidents checked at a time;
- one probe per node at a time: a check that needs a node another check is probing waits for
  that probe and reuses its result;
- every echo request travels over ONE ICMP socket per address family (the exporter's packet
  codec and reply matching, `exporter.icmp`), read through the loop's reader callback a
  handful of replies at a time, and sent in small slices with the loop handed back between them.

A periodic `sweep` (every `sweep_interval`, on the leading replica: `webhook.web.app`) queues
the incidents still `opened` without a ping check, so a restart, or the death of the replica that
was checking, leaves none unchecked. The result goes on the incident's timeline as a
`ping_check` event (opened -> ping_checked).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import secrets
import socket
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from exporter.clock import Clock, system_clock
from exporter.icmp import (
    EchoSocket,
    SocketUnavailable,
    echo_request,
    keep_only_own_replies,
    open_echo_socket,
    receive_replies,
)
from exporter.inventory import Inventory
from webhook.core.workflow import Role, State, TransitionRefused
from webhook.store.database import Database
from webhook.store.models import Alert, Event, Incident
from webhook.store.moves import make_move

_RESULTS_PER_WRITE = 50
"""Check results recorded in one write transaction at most."""
log = logging.getLogger("sigap.webhook")

SLICE = 16
"""Packets sent, or replies read, before the loop is handed back to the receiver."""


@dataclass(frozen=True)
class PingSettings:
    count: int = 3
    interval: float = 0.2
    timeout: float = 1.0
    privileged: bool | None = None
    """None: a raw socket when allowed (root, CAP_NET_RAW), else the kernel's datagram one."""
    concurrency: int = 8
    """Incidents checked at a time."""
    sweep_interval: float = 30.0
    sweep_grace: float = 60.0
    """The sweep leaves alone an incident opened less than this ago: its own check is queued."""
    rate: float = 1000.0
    """Echo requests a second, all checks together. Each costs the loop a send and a read
    (on loopback also the kernel's reply, in the sending call): about 170 µs on loopback, so
    the checks of a storm take at most a sixth of the receiver's CPU."""


class _Labelled(Protocol):
    @property
    def labels(self) -> dict[str, Any]: ...


def targets_of(
    alerts: Sequence[_Labelled], nodes: list[str], skpd: str, inventory: Inventory | None
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


@dataclass
class Echoes:
    """What the echo requests to one address came to."""

    sent: int = 0
    """Requests the kernel accepted (none when there is no route: all loss)."""
    rtts: list[float] = field(default_factory=list)
    """Of the replies that came in time, in seconds."""

    def as_result(self, address: str) -> dict[str, Any]:
        """The timeline's form: what a person reads."""
        received = len(self.rtts)
        return {
            "address": address,
            "sent": self.sent,
            "received": received,
            "loss": 1 - received / self.sent if self.sent else 1.0,
            "rtt_avg_ms": round(sum(self.rtts) / received * 1000, 3) if self.rtts else None,
        }


class _Probe:
    """The echo requests to one address, in flight."""

    __slots__ = ("address", "batch", "echoes", "sent_at", "slot", "sockaddr")

    def __init__(self, slot: int, address: str, sockaddr: tuple[Any, ...], batch: _Batch) -> None:
        self.slot = slot
        self.address = address
        self.sockaddr = sockaddr
        self.batch = batch
        self.sent_at: list[float | None] = []
        """By sequence: when the request left, None once answered (or never sent)."""
        self.echoes = Echoes()


class _Batch:
    """The probes of one `Pinger.ping` call; `done` once each has had all its replies."""

    __slots__ = ("done", "timeout", "waiting")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.waiting: set[int] | None = None
        """Slots of the probes still waiting for a reply, once every request is sent."""
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def answered(self, probe: _Probe) -> None:
        if self.waiting is not None:
            self.waiting.discard(probe.slot)
            if not self.waiting and not self.done.done():
                self.done.set_result(None)


class Pinger:
    """Echo requests to many addresses at once over one ICMP socket per address family.

    A reply is matched to its probe by the probe's slot (never reused), the sequence and this
    process's cookie, as the exporter does; the raw socket is told to pass only echo replies to
    this process, so the host's other ICMP traffic costs nothing here."""

    def __init__(
        self,
        privileged: bool | None = None,
        rate: float = 1000.0,
        open_socket: Callable[[int, bool | None], EchoSocket] = open_echo_socket,
    ) -> None:
        self.privileged = privileged
        self.rate = rate
        self._next_send = 0.0
        """time.monotonic() before which no further request leaves (the rate, over all checks)."""
        self.sockets: dict[int, EchoSocket] = {}
        self.dropped: Counter[str] = Counter()
        self._open_socket = open_socket
        self._cookie = secrets.token_bytes(8)
        self._slots = itertools.count(1)
        self._probes: dict[int, _Probe] = {}

    def _socket(self, family: int) -> EchoSocket:
        echo_socket = self.sockets.get(family)
        if echo_socket is None:
            echo_socket = self._open_socket(family, self.privileged)
            keep_only_own_replies(echo_socket)
            asyncio.get_running_loop().add_reader(
                echo_socket.sock.fileno(), self._receive, echo_socket
            )
            self.sockets[family] = echo_socket
            log.info(
                "ping check: icmp socket opened",
                extra={"family": f"ipv{family}", "kind": echo_socket.kind},
            )
        return echo_socket

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for echo_socket in self.sockets.values():
            loop.remove_reader(echo_socket.sock.fileno())
            echo_socket.close()
        self.sockets.clear()

    async def ping(
        self, addresses: list[str], count: int, interval: float, reply_within: float
    ) -> dict[str, Echoes]:
        """address -> its echoes: `count` requests to each, `interval` apart, each answered
        within `reply_within` seconds or lost. Raises SocketUnavailable when no ICMP socket
        can be opened."""
        batch = _Batch(reply_within)
        probes: list[tuple[_Probe, EchoSocket]] = []
        results: dict[str, Echoes] = {}
        for address in addresses:
            resolved = await _resolve(address)
            if resolved is None:
                results[address] = Echoes()  # nothing can be sent: all loss
                continue
            family, sockaddr = resolved
            probe = _Probe(next(self._slots) & 0xFFFFFFFF, address, sockaddr, batch)
            probes.append((probe, self._socket(family)))
            results[address] = probe.echoes
        for probe, _ in probes:
            self._probes[probe.slot] = probe
        try:
            for sequence in range(count):
                if sequence:
                    await asyncio.sleep(interval)
                for start in range(0, len(probes), SLICE):
                    await self._pace(min(SLICE, len(probes) - start))
                    for probe, echo_socket in probes[start : start + SLICE]:
                        self._send(probe, echo_socket, sequence)
            batch.waiting = {p.slot for p, _ in probes if any(t is not None for t in p.sent_at)}
            if batch.waiting:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(batch.done), reply_within)
        finally:
            for probe, _ in probes:
                self._probes.pop(probe.slot, None)
        return results

    async def _pace(self, packets: int) -> None:
        """Wait for the turn of `packets` requests under the rate; the loop is handed back
        in any case, so the receiver gets in between two slices."""
        now = time.monotonic()
        start = max(now, self._next_send)
        self._next_send = start + packets / self.rate
        await asyncio.sleep(start - now)

    def _send(self, probe: _Probe, echo_socket: EchoSocket, sequence: int) -> None:
        packet = echo_request(
            echo_socket.family, echo_socket.identifier, self._cookie, probe.slot, sequence
        )
        try:
            echo_socket.sock.sendto(packet, probe.sockaddr)
        except OSError:  # no route, buffer full: this request is not sent, the check says so
            probe.sent_at.append(None)
            return
        probe.sent_at.append(time.monotonic())
        probe.echoes.sent += 1

    def _receive(self, echo_socket: EchoSocket) -> None:
        for arrival in receive_replies(echo_socket, self._cookie, self.dropped, SLICE):
            reply = arrival.reply
            probe = self._probes.get(reply.slot)
            if probe is None:
                self.dropped["late"] += 1
                continue
            if arrival.source != probe.sockaddr[0]:
                self.dropped["invalid"] += 1
                continue
            sent_at = probe.sent_at[reply.sequence] if reply.sequence < len(probe.sent_at) else None
            if sent_at is None:
                self.dropped["duplicate"] += 1
                continue
            rtt = arrival.received_at - sent_at
            if 0.0 <= arrival.queued < rtt:
                rtt -= arrival.queued
            if rtt > probe.batch.timeout:
                self.dropped["late"] += 1
                continue
            probe.sent_at[reply.sequence] = None
            probe.echoes.rtts.append(rtt)
            if all(t is None for t in probe.sent_at):
                probe.batch.answered(probe)


async def _resolve(address: str) -> tuple[int, tuple[Any, ...]] | None:
    """(family, socket address) of an IP address or host name; None when it has none."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                address, None, type=socket.SOCK_RAW
            )
        except OSError:
            return None
        if not infos:
            return None
        ip = ipaddress.ip_address(infos[0][4][0])
    if ip.version == 4:
        return 4, (ip.compressed, 0)
    return 6, (ip.compressed, 0, 0, 0)


@dataclass(frozen=True)
class _Job:
    incident_id: int
    actor: str
    role: Role


class PingChecker:
    """The ping-check queue and its workers (`start()` / `stop()` in the app's cleanup_ctx)."""

    def __init__(
        self,
        database: Database,
        settings: PingSettings,
        inventory: Inventory | None,
        enabled: bool = True,
        on_result: Callable[[str], None] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings
        self.inventory = inventory
        self.enabled = enabled
        self.on_result = on_result
        self.pinger = Pinger(settings.privileged, settings.rate)
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._queued: dict[int, _Job] = {}
        self._running: set[int] = set()
        self._probing: dict[str, asyncio.Future[Echoes]] = {}
        """address -> the probe under way: a second check of the node waits for it."""
        self._tasks: list[asyncio.Task[None]] = []
        self._results: asyncio.Queue[
            tuple[_Job, dict[str, Any], str | None, asyncio.Future[None]]
        ] = asyncio.Queue()
        self.busiest = 0
        """The most incidents ever checked at once (a test reads it)."""

    def schedule(self, incident_id: int, actor: str = "sigap", role: Role = Role.SYSTEM) -> None:
        """Queue a check of the incident; one already waiting stays as it is."""
        if not self.enabled or incident_id in self._queued:
            return
        self._queued[incident_id] = _Job(incident_id, actor, role)
        self._queue.put_nowait(incident_id)

    async def start(self) -> None:
        if not self.enabled:
            return
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.settings.concurrency)]
        self._tasks.append(asyncio.create_task(self._write_results()))

    async def stop(self) -> None:
        """End the workers: a check cut short is picked up by the next start's sweep."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self.pinger.close()

    async def drain(self) -> None:
        """Wait until every queued check has been recorded (tests)."""
        await self._queue.join()

    async def sweep(self, now: datetime) -> list[int]:
        """Queue the incidents still `opened` with no ping check that were opened more than
        `sweep_grace` before `now` and are not queued or being checked here."""
        checked = exists().where(and_(Event.incident_id == Incident.id, Event.kind == "ping_check"))
        query = select(Incident.id).where(
            Incident.state == State.OPENED.value,
            Incident.opened_at < now - timedelta(seconds=self.settings.sweep_grace),
            ~checked,
        )
        async with self.database.read() as session:
            found = [i for i in (await session.scalars(query)) if i not in self._running]
        for incident_id in found:
            self.schedule(incident_id)
        return found

    async def _work(self) -> None:
        while True:
            incident_id = await self._queue.get()
            job = self._queued.pop(incident_id)
            self._running.add(incident_id)
            self.busiest = max(self.busiest, len(self._running))
            try:
                await self.run(job)
            finally:
                self._running.discard(incident_id)
                self._queue.task_done()

    async def run(self, job: _Job) -> None:
        try:
            async with self.database.read() as session:
                where = Incident.id == job.incident_id
                skpd, nodes = (
                    await session.execute(select(Incident.skpd, Incident.nodes).where(where))
                ).one()
                query = select(Alert.labels).where(Alert.incident_id == job.incident_id)
                alerts = (await session.execute(query)).all()
            targets = targets_of(alerts, list(nodes), skpd, self.inventory)
            try:
                results, error = await self.ping_addresses(targets), None
            except (SocketUnavailable, OSError) as exc:
                results, error = {}, str(exc)
            await self._record(job, results, error)
            if self.on_result:
                self.on_result("error" if error else "ok")
        except Exception:  # a background job must log, never vanish silently
            log.exception("ping check failed", extra={"incident": job.incident_id})
            if self.on_result:
                self.on_result("error")

    async def ping_addresses(self, addresses: Mapping[str, str]) -> dict[str, Any]:
        """node -> {address, sent, received, loss, rtt_avg_ms}: what a person reads on the
        timeline. A node another check is probing is not probed again: its result is shared."""
        wanted = list(dict.fromkeys(addresses.values()))
        mine = [a for a in wanted if a not in self._probing]
        theirs = {a: self._probing[a] for a in wanted if a in self._probing}
        loop = asyncio.get_running_loop()
        futures = {a: loop.create_future() for a in mine}
        self._probing.update(futures)
        try:
            settings = self.settings
            echoes = await self.pinger.ping(
                mine, settings.count, settings.interval, settings.timeout
            )
        except BaseException as exc:
            for future in futures.values():
                future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("ended"))
                future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            for address in mine:
                del self._probing[address]
        for address, future in futures.items():
            future.set_result(echoes[address])
        for address, future in theirs.items():
            echoes[address] = await asyncio.shield(future)
        return {node: echoes[address].as_result(address) for node, address in addresses.items()}

    async def _record(self, job: _Job, results: dict[str, Any], error: str | None) -> None:
        """Hand a check's result to the writer, and return once it is committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._results.put_nowait((job, results, error, done))
        await done

    async def _write_results(self) -> None:
        """Record the results waiting together in ONE write transaction: a hundred incidents
        opening at once take the writer a few times, not a hundred (the receiver shares it)."""
        while True:
            waiting = [await self._results.get()]
            while not self._results.empty() and len(waiting) < _RESULTS_PER_WRITE:
                waiting.append(self._results.get_nowait())
            try:
                async with self.database.write() as session:
                    for job, results, error, _ in waiting:
                        await self._record_one(session, job, results, error, self.clock())
            except Exception as exc:
                for *_, done in waiting:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for *_, done in waiting:
                if not done.done():
                    done.set_result(None)

    async def _record_one(
        self,
        session: AsyncSession,
        job: _Job,
        results: dict[str, Any],
        error: str | None,
        now: datetime,
    ) -> None:
        """The one place a check's result lands on the timeline. An automatic check (the
        system's) of an incident that is no longer `opened` is dropped: another replica or an
        earlier check has recorded it; a person's re-run is always recorded."""
        incident = await session.get_one(Incident, job.incident_id)
        state = State(incident.state)
        if job.role == Role.SYSTEM and state != State.OPENED:
            return
        data: dict[str, Any] = {
            "results": results,
            "reachable": sorted(n for n, r in results.items() if r["received"]),
            "unreachable": sorted(n for n, r in results.items() if not r["received"]),
        }
        if error:
            data["error"] = error
        try:  # a refused move writes nothing: the others of the batch go on
            await make_move(session, incident, "ping_check", job.actor, job.role, data, now)
        except TransitionRefused:
            return  # closed meanwhile (e.g. transient): nothing to check any more
