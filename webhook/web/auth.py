"""Who is calling, at the HTTP edge: an API request's bearer token becomes the `User` it
belongs to (`api_user`, the one place), and the last uses a request owes are collected for the
middleware to record after the answer (`TOUCHES`)."""

from __future__ import annotations

import json

from aiohttp import web

from webhook.core.credentials import bearer_token
from webhook.store.models import User
from webhook.usecases import access
from webhook.web.keys import RESOURCES

TOUCHES = web.RequestKey("sigap_touches", list)
"""The session's or token's use a request owes (`webhook.usecases.access.Use`), recorded by
`webhook.web.middlewares` in one write transaction after the handler."""


def owe_use(request: web.Request, use: access.Use | None) -> None:
    if use is not None:
        request.setdefault(TOUCHES, []).append(use)


async def api_user(request: web.Request) -> User:
    """The user whose bearer token the request carries; 401 otherwise."""
    token = bearer_token(request.headers.get("Authorization"))
    found = await access.token_user(request.app[RESOURCES], token) if token else None
    if found is None:
        raise web.HTTPUnauthorized(
            text=json.dumps(
                {"error": "send Authorization: Bearer <token> (sigap-webhook token create NAME)"}
            ),
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="sigap"'},
        )
    user, use = found
    owe_use(request, use)
    return user
