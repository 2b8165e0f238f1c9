"""The exporter's HTTP side: /metrics, health, reload and a landing page listing the nodes.

With basic auth users in the web config every endpoint asks for them, /-/healthy included, as
exporter-toolkit protects every handler; /-/reload also needs `--web.enable-lifecycle`, as in
Prometheus (SIGHUP always reloads). A reload reads the web config file again too, so rotated
certificates and changed users take effect without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from exporter.exposition import LabelCache, ReloadStatus, render
from exporter.icmp import SocketUnavailable
from exporter.inventory import Inventory, InventoryError, load_inventory
from exporter.prober import ProbeEngine, describe_sockets
from exporter.webconfig import BasicAuth, WebConfig, WebConfigError, load_web_config

log = logging.getLogger("sigap.exporter")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Clock = Callable[[], datetime]
"""The time now, timezone-aware; tests pass their own."""


def system_clock() -> datetime:
    return datetime.now(UTC)


class ExporterService:
    """The inventory and web config in force, the engine probing it, and how the last
    (re)load went."""

    def __init__(
        self,
        config_file: Path,
        engine: ProbeEngine,
        clock: Clock = system_clock,
        *,
        web_config_file: Path | None = None,
        web_config: WebConfig | None = None,
    ) -> None:
        self.config_file = config_file
        self.engine = engine
        self.clock = clock
        self.web_config_file = web_config_file
        self.web_config = web_config or WebConfig()
        self.basic_auth = BasicAuth(self.web_config.users)
        self.inventory: Inventory | None = None
        self.reload_status = ReloadStatus(successful=False)
        self.labels = LabelCache()
        self._reload_lock = asyncio.Lock()

    async def reload(self) -> str | None:
        """Load the config file (and the web config file) and probe it; on any error keep
        probing the old inventory, behind the old web config. Returns the error message, or
        None on success."""
        async with self._reload_lock:
            loop = asyncio.get_running_loop()
            try:
                inventory = await loop.run_in_executor(None, load_inventory, self.config_file)
                loaded = None
                if self.web_config_file is not None:
                    loaded = await loop.run_in_executor(None, load_web_config, self.web_config_file)
                    self.web_config.check_reload(loaded)
                self.engine.apply(inventory)
                web_config = self.web_config if loaded is None else self.web_config.reloaded(loaded)
            except (InventoryError, WebConfigError, SocketUnavailable, OSError) as error:
                message = str(error)
                self.reload_status.successful = False
                self.reload_status.message = message
                log.error(
                    "config reload failed; still probing the last good inventory",
                    extra={"file": str(self.config_file), "error": message},
                )
                return message
            self.inventory = inventory
            if web_config is not self.web_config:
                self.web_config = web_config
                self.basic_auth.replace(web_config.users)
            self.reload_status.successful = True
            self.reload_status.last_success_time = time.time()
            self.reload_status.message = ""
            log.info(
                "config loaded",
                extra={
                    "file": str(self.config_file),
                    "nodes": len(self.engine.order),
                    "sockets": describe_sockets(self.engine),
                    "web": self.web_config.describe(),
                },
            )
            return None


SERVICE = web.AppKey("service", ExporterService)
LIFECYCLE = web.AppKey("lifecycle", bool)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def require_basic_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Basic auth when the web config in force has users (a reload may add or remove them)."""
    basic_auth = request.app[SERVICE].basic_auth
    if basic_auth.enabled and not await basic_auth.check(request.headers.get("Authorization")):
        return web.Response(
            status=401, text="Unauthorized\n", headers={"WWW-Authenticate": "Basic"}
        )
    return await handler(request)


async def metrics(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    response = web.StreamResponse(headers={"Content-Type": CONTENT_TYPE})
    await response.prepare(request)
    now = service.clock()
    for chunk in render(service.engine, service.reload_status, service.labels, now):
        await response.write(chunk.encode())
        await asyncio.sleep(0)  # let the probe loop send and receive between chunks
    await response.write_eof()
    return response


async def healthy(request: web.Request) -> web.Response:
    return web.Response(text="Healthy.\n")


async def ready(request: web.Request) -> web.Response:
    if request.app[SERVICE].inventory is None:
        return web.Response(status=503, text="Not ready: no inventory loaded yet.\n")
    return web.Response(text="Ready.\n")


async def reload(request: web.Request) -> web.Response:
    if not request.app[LIFECYCLE]:
        return web.Response(
            status=403,
            text="Lifecycle API is not enabled: start sigap-exporter with "
            "--web.enable-lifecycle, or send it SIGHUP.\n",
        )
    error = await request.app[SERVICE].reload()
    if error is not None:
        return web.Response(status=500, text=f"failed to reload config: {error}\n")
    return web.Response(text="Reloaded.\n")


def _state(up: bool | None) -> str:
    return {True: "up", False: "down", None: "unknown"}[up]


async def landing(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    rows = []
    for target in service.engine.order:
        node, stats = target.node, target.stats
        state = _state(stats.up)
        cells = (node.skpd, node.id, node.role, node.owner, node.address, state)
        row = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        rows.append(f"<tr class='{state}'>{row}<td>{stats.loss_ratio:.1%}</td></tr>")
    status = service.reload_status
    warning = (
        f"<p class='down'>Last reload failed: {html.escape(status.message)}</p>"
        if not status.successful
        else ""
    )
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SIGAP exporter</title>
<style>body{{font-family:sans-serif}} td,th{{padding:2px 8px}} .down{{color:#b00}}
.unknown{{color:#777}}</style></head>
<body><h1>SIGAP exporter</h1>
<p><a href="metrics">Metrics</a> · config <code>{html.escape(str(service.config_file))}</code> ·
sockets {describe_sockets(service.engine)}</p>{warning}
<table><tr><th>SKPD</th><th>node</th><th>role</th><th>owner</th><th>address</th><th>state</th>
<th>loss</th></tr>
{"".join(rows)}
</table></body></html>"""
    return web.Response(text=body, content_type="text/html")


def create_app(service: ExporterService, *, enable_lifecycle: bool = False) -> web.Application:
    """The exporter's app; TLS is the server's business (`service.web_config.ssl_context`)."""
    app = web.Application(middlewares=[require_basic_auth])
    app[SERVICE] = service
    app[LIFECYCLE] = enable_lifecycle

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(service.web_config.headers)

    app.on_response_prepare.append(add_headers)

    async def probe_loop(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(service.engine.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        service.engine.close()

    app.cleanup_ctx.append(probe_loop)
    app.router.add_get("/", landing)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    app.router.add_post("/-/reload", reload)
    app.router.add_put("/-/reload", reload)
    return app
