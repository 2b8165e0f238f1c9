"""Fuzz POST /api/v1/alertmanager (hypothesis): bytes, any JSON, and Alertmanager payloads with
one field replaced by anything. The answer is always 2xx or a 4xx naming the problem: no 500,
no crash, and the service still answers afterwards."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from tests.webhook.reliability import HEADERS, alert, notification, settings_for
from webhook.web.app import create_app

ALLOWED = {200, 400, 413, 422}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
TEMPLATE = notification([alert("dinkes", "dinkes-gw"), alert("dinkes", "dinkes-sw1")])
ALERT_FIELDS = list(TEMPLATE["alerts"][0])


class Server:
    """The webhook on a real socket, served from its own thread and event loop."""

    def __init__(self, database: Path) -> None:
        self.app = create_app(settings_for(f"sqlite:///{database}"), CollectorRegistry())
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(self.app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def __enter__(self) -> Server:
        self.thread.start()
        assert self.ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> int:
        auth = HEADERS if headers is None else headers
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(
                "POST",
                "/api/v1/alertmanager",
                body=body,
                headers={"Content-Type": "application/json", **auth},
            )
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("fuzz") / "sigap.db") as running:
        yield running


FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(body=st.binary(max_size=300))
def test_any_bytes(server: Server, body: bytes) -> None:
    assert server.post(body) in ALLOWED


@FUZZ
@given(value=json_values)
def test_any_json(server: Server, value: Any) -> None:
    assert server.post(json.dumps(value).encode()) in ALLOWED


@FUZZ
@given(
    top=st.sampled_from(list(TEMPLATE)),
    field=st.sampled_from(ALERT_FIELDS),
    value=json_values,
    where=st.sampled_from(["top", "alert", "label"]),
)
def test_payload_with_one_field_replaced(
    server: Server, top: str, field: str, value: Any, where: str
) -> None:
    body = json.loads(json.dumps(TEMPLATE))
    if where == "top":
        body[top] = value
    elif where == "alert":
        body["alerts"][0][field] = value
    else:
        body["alerts"][1]["labels"]["skpd"] = value
    assert server.post(json.dumps(body).encode()) in ALLOWED


def test_big_body_and_bad_credentials(server: Server) -> None:
    assert server.post(b"{" + b" " * (1024 * 1024 + 10) + b"}") == 413
    assert server.post(json.dumps(TEMPLATE).encode(), {"Authorization": "Bearer wrong"}) == 401
    assert server.post(json.dumps(TEMPLATE).encode(), {}) == 401
    assert server.post(json.dumps(TEMPLATE).encode()) == 200
