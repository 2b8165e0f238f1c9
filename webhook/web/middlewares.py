"""What every request and response of the webhook goes through.

- `trusted_proxies`: the forwarded client address and scheme (X-Forwarded-For / -Proto) are
  believed only when the connection comes from one of `SIGAP_TRUSTED_PROXIES`; the parsing is
  aiohttp-remotes' `XForwardedFiltered` (it walks the chain from the right past the trusted hops).
  That class alone believes the headers from anyone, and `XForwardedStrict` refuses every request
  that did not come through the proxy (Alertmanager and health checks do not), so the peer check
  is ours.
- `errors`: an unexpected exception is logged with its traceback and answered with an error
  that names nothing of the inside (503 when the database failed, else 500: JSON for the API,
  a page of the site for people, plain text for machines); after the handler, the
  small writes it owes (`webhook.web.auth.TOUCHES`) are made.
- `security_headers` (on_response_prepare, so also static files and error pages): the Content
  Security Policy (no script at all, styles only from /static, no framing, forms only to this
  site), nosniff, and no Referer from the one-click link pages (their token is in the URL).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_remotes import XForwardedFiltered

from webhook.settings import ProxyNetwork
from webhook.store.database import DATABASE_ERRORS
from webhook.usecases.access import record_uses
from webhook.web.auth import TOUCHES
from webhook.web.http import json_error, status_exception
from webhook.web.keys import RESOURCES

log = logging.getLogger("sigap.webhook")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PDF_CSP = "frame-ancestors 'none'"
"""A PDF is shown by the browser's own viewer, which a page policy would get in the way of."""
LINK_PREFIX = "/l/"
TOUCH_WAIT = 0.1
"""Seconds a last-use time may wait for the writer before it is skipped (it is written again
within a minute)."""


def trusted_proxies(networks: Sequence[ProxyNetwork]) -> Middleware | None:
    """The middleware, or None when no proxy is trusted (the headers are then never read)."""
    if not networks:
        return None
    forwarded = XForwardedFiltered(set(networks))

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        try:
            address = ipaddress.ip_address(peer[0]) if peer else None
        except ValueError:  # a Unix socket
            address = None
        if address is not None and any(address in network for network in networks):
            return await forwarded.middleware(request, handler)
        return await handler(request)

    return middleware


def _failure(request: web.Request, status: int, message: str) -> web.HTTPException:
    """Raised, so that the error pages (inside `pages`) draw it for a person as a page."""
    if request.path.startswith("/api/"):
        return json_error(status, message)
    return status_exception(status, f"{message}\n")


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException:
        await _owed_writes(request)
        raise
    except DATABASE_ERRORS:
        log.exception("database failed", extra={"path": request.path})
        raise _failure(request, 503, "the database is unavailable; retry in a moment") from None
    except Exception:
        log.exception("request failed", extra={"path": request.path})
        raise _failure(request, 500, "internal error; it has been logged") from None
    await _owed_writes(request)
    return response


async def _owed_writes(request: web.Request) -> None:
    uses = request.get(TOUCHES)
    if not uses:
        return
    try:  # best effort, never worth delaying the answer for: a busy writer skips it
        await record_uses(request.app[RESOURCES], uses, TOUCH_WAIT)
    except DATABASE_ERRORS as error:  # a last-use time is not worth failing the answer for
        log.warning("could not record a session's or token's use", extra={"error": str(error)})


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    pdf = response.content_type == "application/pdf"
    headers.setdefault("Content-Security-Policy", PDF_CSP if pdf else CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.path.startswith(LINK_PREFIX):
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cache-Control"] = "no-store"
    else:
        headers.setdefault("Referrer-Policy", "same-origin")


def setup_middlewares(
    app: web.Application, networks: Sequence[ProxyNetwork], pages: Middleware
) -> None:
    """`pages` (the UI's error pages) sits between the proxy and `errors`: it sees the forwarded
    scheme and draws the 500 and 503 that `errors` raises as pages for people."""
    proxy = trusted_proxies(networks)
    if proxy is not None:
        app.middlewares.append(proxy)
    app.middlewares.append(pages)
    app.middlewares.append(errors)
    app.on_response_prepare.append(security_headers)
