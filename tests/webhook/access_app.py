"""The real webhook app on SQLite with the example inventory, people with passwords and API
tokens, and a client that can log in: what the access tests (tests/webhook/test_access_*.py) run."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from webhook.core.credentials import hash_password, hash_token, new_api_token
from webhook.settings import load_settings
from webhook.store.models import ApiToken, User
from webhook.web.app import create_app
from webhook.web.keys import DATABASE

ROOT = Path(__file__).parents[2]
INVENTORY = str(ROOT / "deploy" / "inventory.example.yml")
SECRET = "access-test-secret"
PASSWORD = "rahasia-123"
PEOPLE = [
    ("sari", "staff", []),
    ("koord", "coordinator", []),
    ("budi", "skpd_admin", ["dinkes"]),
]
Client = TestClient[Any, Any]


@dataclass
class Service:
    app: web.Application
    client: Client
    tokens: dict[str, str]
    env: dict[str, str]


async def add_people(app: web.Application) -> dict[str, str]:
    tokens = {}
    hashed = hash_password(PASSWORD)
    async with app[DATABASE].write() as session:
        for name, role, skpds in PEOPLE:
            user = User(
                name=name,
                role=role,
                password_hash=hashed,
                skpds=skpds,
                active=True,
                created_at=datetime.now(UTC),
            )
            session.add(user)
            await session.flush()
            tokens[name] = new_api_token()
            session.add(
                ApiToken(
                    user_id=user.id,
                    token_hash=hash_token(tokens[name]),
                    created_at=datetime.now(UTC),
                    active=True,
                )
            )
    return tokens


@asynccontextmanager
async def running(
    tmp_path: Path, routes: web.RouteTableDef | None = None, **env: str
) -> AsyncIterator[Service]:
    """The app (SIGAP_* from `env` on top of the defaults here), started, with people."""
    environment = {
        "SIGAP_DATABASE_URL": f"sqlite:///{tmp_path / 'sigap.db'}",
        "SIGAP_SECRET_KEY": SECRET,
        "SIGAP_PING_CHECK": "false",
        "SIGAP_INVENTORY": INVENTORY,
        **env,
    }
    app = create_app(load_settings(env=environment), CollectorRegistry())
    if routes is not None:
        app.router.add_routes(routes)
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    try:
        tokens = await add_people(app)
        yield Service(app, client, tokens, environment)
    finally:
        await client.close()


async def login(
    client: Client, name: str, password: str = PASSWORD, headers: dict[str, str] | None = None
) -> int:
    response = await client.post(
        "/login",
        data={"name": name, "password": password, "next": "/"},
        allow_redirects=False,
        headers=headers or {},
    )
    return response.status


async def csrf_of(client: Client, path: str = "/") -> str:
    page = await (await client.get(path)).text()
    found = re.search(r'name="csrf" value="([^"]*)"', page)
    assert found is not None, page
    return found.group(1)


def use_cookie(client: Client, value: str) -> None:
    """Present `value` as the session cookie (what an attacker who kept a cookie does)."""
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"sigap_session": value})


def session_cookie(client: Client) -> str:
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/")).get("sigap_session")
    assert cookie is not None
    return cookie.value
