"""Logging in and out, the request's login, its CSRF token, and the login throttle.

The login throttle (in memory, sliding windows that expire by themselves: `webhook.core.throttle`)
counts failed logins per client address (an IPv6 client by its /64), per address and
name, and per name. An attacker hammering a name from one address is stopped by the first two
long before the third, so the real person still logs in from elsewhere; the per-address limit
also bounds how many name buckets one address can create.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta
from urllib.parse import urlencode

from ada_url import URL
from aiohttp import web

from exporter.clock import Clock
from webhook.core.i18n import word
from webhook.core.sessions import Login, cookie_value, name_key
from webhook.core.throttle import Limit, SlidingWindow
from webhook.store.models import User
from webhook.usecases import access
from webhook.web.auth import owe_use
from webhook.web.http import read_form
from webhook.web.keys import CLOCK, RESOURCES, SETTINGS
from webhook.web.ui.rendering import LOGIN, language, render

log = logging.getLogger("sigap.access")
COOKIE = "sigap_session"
_SITE = "https://sigap.invalid"
_LOGIN: web.RequestKey[Login | None] = web.RequestKey("sigap_login")


def local_path(target: str) -> str:
    """`target` as a path of this site, judged as a browser parses it (WHATWG URL, by the ada
    library: tabs and newlines dropped, backslashes as slashes, dot segments resolved); "/" for
    anything that would leave the site."""
    try:
        url = URL(target, _SITE + "/")
    except ValueError:
        return "/"
    if url.origin != _SITE or url.pathname.startswith("//"):
        return "/"
    return url.pathname + url.search


async def logged_in(request: web.Request) -> Login | None:
    """The request's live login (looked up once per request), or None. Its use is recorded
    after the handler (`TOUCHES`), at most once a minute."""
    if _LOGIN in request:
        return request[_LOGIN]
    login = None
    cookie = request.cookies.get(COOKIE)
    if cookie:
        found = await access.login_of(request.app[RESOURCES], cookie)
        if found is not None:
            login, use = found
            owe_use(request, use)
    request[_LOGIN] = login
    return login


async def current_user(request: web.Request) -> tuple[User, Login]:
    """The logged-in user, or a redirect to the login page."""
    login = await logged_in(request)
    user = await access.logged_in_user(request.app[RESOURCES], login)
    if login is None or user is None:
        back = request.path_qs if request.method == "GET" else request.path
        raise web.HTTPSeeOther("/login?" + urlencode({"next": back}))
    request[LOGIN] = login
    return user, login


async def checked_form(request: web.Request, login: Login) -> dict[str, str]:
    """The form's fields, once its CSRF token is checked (read before any write starts)."""
    form = await read_form(request)
    if not login.csrf_ok(form.pop("csrf", None)):
        raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the page and retry")
    return form


async def posted(request: web.Request) -> tuple[User, dict[str, str]]:
    """The logged-in user of a POST and its form, CSRF token checked."""
    user, login = await current_user(request)
    return user, await checked_form(request, login)


async def login_page(request: web.Request) -> web.Response:
    target = local_path(request.query.get("next", "/"))
    return render(request, "login.html", next=target, error=None)


async def login(request: web.Request) -> web.Response:
    """Password login. Failures are throttled (`LoginThrottle`); every outcome is logged."""
    form = await request.post()
    typed, password = str(form.get("name", "")), str(form.get("password", ""))
    name, target = typed.strip(), local_path(str(form.get("next", "/")))
    throttle, address = request.app[THROTTLE], request.remote
    where = {"user": name_key(typed), "remote": address}
    lang = language(request)
    if throttle.blocked(address, name):
        log.warning("login throttled", extra=where)
        error = word("too_many", lang)
        return render(request, "login.html", status=429, next=target, error=error)
    attempt = await access.log_in(request.app[RESOURCES], name, password, address)
    if attempt.token is None or attempt.user is None:
        throttle.failed(address, name)
        log.warning("login failed", extra={**where, "reason": attempt.failure})
        error = word("login_failed", lang)
        return render(request, "login.html", status=401, next=target, error=error)
    throttle.succeeded(address, name)
    log.info("login", extra={"user": attempt.user.name, "remote": address})
    settings = request.app[SETTINGS]
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        COOKIE,
        cookie_value(settings.secret_key, attempt.token),
        max_age=int(settings.session_lifetime),
        httponly=True,
        samesite="Lax",
        secure=request.secure,
    )
    raise response


async def logout(request: web.Request) -> web.Response:
    login_session = await logged_in(request)
    if login_session is not None:
        await checked_form(request, login_session)
        await access.log_out(request.app[RESOURCES], login_session)
        log.info("logout", extra={"user": login_session.user, "remote": request.remote})
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE)
    raise response


def client_key(address: str | None) -> str:
    """The throttle's key for a client address: an IPv6 client by its /64 (one subscriber
    usually holds a whole /64), anything unparsable as itself."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "-"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class LoginThrottle:
    """Failed logins, counted in three sliding windows (see the module's docstring) on SIGAP's
    clock, so a test moves time instead of waiting for a window to pass."""

    PAIR = Limit(5, timedelta(minutes=5))
    """5 failures in 5 minutes for one name from one address."""
    ADDRESS = Limit(20, timedelta(minutes=5))
    """20 failures in 5 minutes from one address, whatever the names."""
    NAME = Limit(100, timedelta(hours=1))
    """100 failures in an hour for one name from anywhere: at least 20 addresses' worth."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.pairs: SlidingWindow[tuple[str, str]] = SlidingWindow(self.PAIR)
        self.addresses: SlidingWindow[str] = SlidingWindow(self.ADDRESS)
        self.names: SlidingWindow[str] = SlidingWindow(self.NAME)

    def blocked(self, address: str | None, name: str) -> bool:
        client, who, now = client_key(address), name_key(name), self.clock()
        return (
            self.pairs.full((client, who), now)
            or self.addresses.full(client, now)
            or self.names.full(who, now)
        )

    def failed(self, address: str | None, name: str) -> None:
        client, who, now = client_key(address), name_key(name), self.clock()
        self.pairs.hit((client, who), now)
        self.addresses.hit(client, now)
        self.names.hit(who, now)

    def succeeded(self, address: str | None, name: str) -> None:
        """Forget this address's failures for this name only: a login to one's own account
        must not reset an address's budget for guessing others'."""
        self.pairs.clear((client_key(address), name_key(name)))

    def __len__(self) -> int:
        """The keys held, over the three windows: what the throttle's memory grows with."""
        return len(self.pairs) + len(self.addresses) + len(self.names)


THROTTLE = web.AppKey("login_throttle", LoginThrottle)


def setup_login(app: web.Application) -> None:
    app[THROTTLE] = LoginThrottle(app[CLOCK])
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
