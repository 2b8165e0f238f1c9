"""The exporter's HTTP side: /metrics, health, reload and a landing page listing the nodes.

With basic auth users in the web config every endpoint asks for them, /-/healthy included, as
exporter-toolkit protects every handler, and so do its rate limit (429 first, as the toolkit
answers before it checks a password) and its `client_allowed_sans`; /-/reload also needs
`--web.enable-lifecycle`, as in Prometheus (SIGHUP always reloads). A reload reads the web
config file again too, so rotated certificates and changed users take effect without a restart.
/metrics is gzipped for a scraper that accepts it, as prometheus_client's exposition does.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import hdrs, web
from aiohttp.web import ContentCoding
from prometheus_client.exposition import gzip_accepted

from exporter.clock import Clock, Monotonic, system_clock
from exporter.exposition import LabelCache, ReloadStatus, render
from exporter.icmp import SocketUnavailable
from exporter.inventory import Inventory, InventoryError, load_inventory
from exporter.prober import ProbeEngine, describe_sockets
from exporter.ratelimit import TokenBucket
from exporter.webconfig import BasicAuth, WebConfig, WebConfigError, allowed_san, load_web_config

log = logging.getLogger("sigap.exporter")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.config_file = config_file
        self.engine = engine
        self.clock = clock
        self.monotonic = monotonic
        self.web_config_file = web_config_file
        self.web_config = web_config or WebConfig()
        self.basic_auth = BasicAuth(self.web_config.users)
        self.rate_limiter = _bucket(self.web_config)
        self.inventory: Inventory | None = None
        self.reload_status = ReloadStatus(successful=False)
        self.labels = LabelCache()
        self._reload_lock = asyncio.Lock()

    def load(self) -> str | None:
        """The first load, before the server starts: the same files, checks and messages as
        `reload`, with no last good config to fall back on. Returns the error, or None."""
        try:
            inventory, loaded = self._read()
            self.engine.apply(inventory)
        except (InventoryError, WebConfigError, SocketUnavailable, OSError) as error:
            self.reload_status.message = str(error)
            return str(error)
        self._took(inventory, loaded or self.web_config)
        return None

    async def reload(self) -> str | None:
        """Load the config file (and the web config file) and probe it; on any error keep
        probing the old inventory, behind the old web config. Returns the error message, or
        None on success."""
        async with self._reload_lock:
            loop = asyncio.get_running_loop()
            try:
                inventory, loaded = await loop.run_in_executor(None, self._read)
                if loaded is not None:
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
            self._took(inventory, web_config)
            return None

    def _read(self) -> tuple[Inventory, WebConfig | None]:
        """The inventory and the web config (None: no web config file), validated (blocking)."""
        inventory = load_inventory(self.config_file)
        if self.web_config_file is None:
            return inventory, None
        return inventory, load_web_config(self.web_config_file)

    def _took(self, inventory: Inventory, web_config: WebConfig) -> None:
        """The engine probes `inventory` now: put it and `web_config` in force."""
        self.inventory = inventory
        if web_config is not self.web_config:
            if web_config.rate_limit != self.web_config.rate_limit:
                self.rate_limiter = _bucket(web_config)  # an unchanged one keeps its count
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


def _bucket(config: WebConfig) -> TokenBucket | None:
    return TokenBucket(config.rate_limit) if config.rate_limit else None


SERVICE = web.AppKey("service", ExporterService)
LIFECYCLE = web.AppKey("lifecycle", bool)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    """exporter-toolkit's `rate_limit`: one bucket for every request, whoever sends it."""
    service = request.app[SERVICE]
    limiter = service.rate_limiter
    if limiter is not None and not limiter.allow(service.monotonic()):
        return web.Response(status=429, text="Too Many Requests\n")
    return await handler(request)


@web.middleware
async def require_allowed_san(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`client_allowed_sans`, checked on the certificate the handshake took, where
    exporter-toolkit checks it inside the handshake: a 403 tells the client why, where a
    refused handshake here only closes the connection (asyncio drops the TLS alert)."""
    tls = request.app[SERVICE].web_config.tls
    if tls is None or tls.client_allowed_sans is None:
        return await handler(request)
    ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
    peercert = ssl_object.getpeercert() if ssl_object is not None else None
    if not peercert or not allowed_san(peercert, tls.client_allowed_sans):
        return web.Response(
            status=403,
            text="Forbidden: the client certificate names none of the allowed SANs "
            "(client_allowed_sans).\n",
            headers={hdrs.CONNECTION: "close"},
        )
    return await handler(request)


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
    if gzip_accepted(request.headers.get(hdrs.ACCEPT_ENCODING, "")):
        response.enable_compression(ContentCoding.gzip)
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


LANGUAGES = ("id", "en")
"""The landing page's languages, Bahasa Indonesia first (the webhook UI's `?lang=` too)."""
_WORDS = {
    "id": {
        "metrics": "Metrik",
        "config": "konfigurasi",
        "sockets": "soket",
        "reload_failed": "Pemuatan ulang terakhir gagal (Last reload failed)",
        "columns": ("SKPD", "node", "peran", "pemilik", "alamat", "status", "loss"),
        "up": "hidup",
        "down": "mati",
        "unknown": "belum diketahui",
    },
    "en": {
        "metrics": "Metrics",
        "config": "config",
        "sockets": "sockets",
        "reload_failed": "Last reload failed",
        "columns": ("SKPD", "node", "role", "owner", "address", "state", "loss"),
        "up": "up",
        "down": "down",
        "unknown": "unknown",
    },
}


def page_language(lang: str | None, accept_language: str | None) -> str:
    """`?lang=` if it names one of LANGUAGES, else the best of them `Accept-Language` ranks
    above zero, else Bahasa Indonesia."""
    if lang in LANGUAGES:
        return lang
    best, best_q = LANGUAGES[0], 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        try:
            q = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            continue
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


def _state(up: bool | None) -> str:
    return {True: "up", False: "down", None: "unknown"}[up]


async def landing(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    lang = page_language(request.query.get("lang"), request.headers.get(hdrs.ACCEPT_LANGUAGE))
    words = _WORDS[lang]
    rows = []
    for target in service.engine.order:
        node, stats = target.node, target.stats
        state = _state(stats.up)
        cells = (node.skpd, node.id, node.role, node.owner, node.address, str(words[state]))
        row = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        rows.append(f"<tr class='{state}'>{row}<td>{stats.loss_ratio:.1%}</td></tr>")
    status = service.reload_status
    warning = (
        f"<p class='down'>{words['reload_failed']}: {html.escape(status.message)}</p>"
        if not status.successful
        else ""
    )
    header = "".join(f"<th>{c}</th>" for c in words["columns"])
    other = LANGUAGES[1 - LANGUAGES.index(lang)]
    body = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>SIGAP exporter</title>
<style>body{{font-family:sans-serif}} td,th{{padding:2px 8px}} .down{{color:#b00}}
.unknown{{color:#777}}</style></head>
<body><h1>SIGAP exporter</h1>
<p><a href="metrics">{words["metrics"]}</a> · {words["config"]}
<code>{html.escape(str(service.config_file))}</code> ·
{words["sockets"]} {describe_sockets(service.engine)} · <a href="?lang={other}">{other}</a></p>
{warning}
<table><tr>{header}</tr>
{"".join(rows)}
</table></body></html>"""
    return web.Response(
        text=body, content_type="text/html", headers={hdrs.VARY: hdrs.ACCEPT_LANGUAGE}
    )


def create_app(service: ExporterService, *, enable_lifecycle: bool = False) -> web.Application:
    """The exporter's app; TLS is the server's business (`service.web_config.ssl_context`)."""
    app = web.Application(middlewares=[rate_limit, require_allowed_san, require_basic_auth])
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
