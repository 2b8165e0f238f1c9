"""The generic gateway both ways (issue 21): the `{"to", "subject", "text"}` messages to a
Fonnte/WAHA-like gateway carry numbered options, and what people answer by text (`1`,
`tangani 12`, `status`) comes back to `POST /gateway/incoming`, authenticated by a shared
secret, and makes the same moves as a button's press. The gateway here is a real HTTP server
on 127.0.0.1 that records what SIGAP posts to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from tests.webhook.access_app import INVENTORY, SECRET, add_people
from tests.workflow.conftest import alert_notification
from webhook.settings import load_settings
from webhook.usecases import incidents as incident_uses
from webhook.usecases import roster as roster_uses
from webhook.usecases import users as user_uses
from webhook.usecases.context import Actor
from webhook.web.app import create_app
from webhook.web.keys import RESOURCES

GATEWAY_SECRET = "shared-secret-of-the-gateway"
SARI, KOORD, BUDI = "6281250011037", "6281350022106", "6285251234567"
AM_TOKEN = "am-token-of-the-gateway-tests"


@dataclass
class Gateway:
    """What SIGAP posted to the gateway's send URL."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def send(self, request: web.Request) -> web.Response:
        async with self.arrived:
            self.bodies.append(await request.json())
            self.arrived.notify_all()
        return web.json_response({"status": True})

    async def wait_for(self, count: int) -> list[dict[str, Any]]:
        async with asyncio.timeout(10), self.arrived:
            await self.arrived.wait_for(lambda: len(self.bodies) >= count)
        return self.bodies


@dataclass
class World:
    client: TestClient[Any, Any]
    gateway: Gateway
    app: web.Application

    @property
    def res(self) -> Any:
        return self.app[RESOURCES]

    async def incoming(
        self, body: dict[str, str], secret: str | None = GATEWAY_SECRET, form: bool = False
    ) -> tuple[int, Any]:
        headers = {"X-Sigap-Gateway-Secret": secret} if secret else {}
        post = {"data": body} if form else {"json": body}
        answer = await self.client.post("/gateway/incoming", headers=headers, **post)
        is_json = answer.content_type == "application/json"
        return answer.status, (await answer.json()) if is_json else await answer.text()

    async def open_outage(self) -> int:
        incident, _ = await incident_uses.report(
            self.res, Actor.operator(), {"skpd": "dinkes", "description": "Internet mati"}
        )
        return int(incident.id)


@asynccontextmanager
async def world(tmp_path: Path, **more: str) -> AsyncIterator[World]:
    gateway = Gateway()
    receiver = web.Application()
    receiver.router.add_post("/send", gateway.send)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    config = tmp_path / "webhook.yml"
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/send"
    config.write_text(f"notify:\n  webhook: {{url: '{url}'}}\n  backoff: 100ms\n")
    env = {
        "SIGAP_DATABASE_URL": f"sqlite:///{tmp_path / 'sigap.db'}",
        "SIGAP_SECRET_KEY": SECRET,
        "SIGAP_PING_CHECK": "false",
        "SIGAP_INVENTORY": INVENTORY,
        "SIGAP_GATEWAY_SECRET": GATEWAY_SECRET,
        "SIGAP_EXTERNAL_URL": "https://sigap.example",
        **more,
    }
    app = create_app(load_settings(str(config), env=env), CollectorRegistry())
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        await add_people(app)
        res = app[RESOURCES]
        for name, role, phone in (("sari", "staff", "0812-5001-1037"),
                                  ("koord", "coordinator", "+62 813 5002 2106")):  # fmt: skip
            change = user_uses.UserChange(name, role, phone=phone)
            await user_uses.save_user(res, Actor.operator(), change)
        await roster_uses.put_rotation(res, Actor.operator(), ["sari"], "daily", "07:30", None)
        yield World(client, gateway, app)
    finally:
        await client.close()
        await runner.cleanup()


async def test_the_page_carries_numbered_options_and_1_acknowledges(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        incident_id = await w.open_outage()
        page = (await w.gateway.wait_for(1))[0]
        assert page["to"] == "+6281250011037"
        assert "Balas dengan angka:\n1 = Tangani\n" in page["text"]
        assert f"(atau tulis: tangani {incident_id})" in page["text"]
        assert set(page["links"]) == {"incident", "acknowledge"}  # the options' data stays home

        status, body = await w.incoming({"from": SARI, "text": "1", "id": "fonnte-1"})
        assert (status, body) == (200, {"reply": None})  # the answer is owed, not said here
        answer = (await w.gateway.wait_for(2))[1]
        assert answer["to"] == "+6281250011037" and "✅ Tangani oleh sari" in answer["text"]
        shown = await incident_uses.incident(w.res, Actor.operator(), incident_id)
        assert shown.holder == "sari"

        assert await w.incoming({"from": SARI, "text": "1", "id": "fonnte-1"}) == (
            200,
            {"reply": None},
        )
        await asyncio.sleep(0.3)
        shown = await incident_uses.incident(w.res, Actor.operator(), incident_id)
        assert [e.kind for e in shown.events].count("acknowledge") == 1
        assert len(w.gateway.bodies) == 2


async def test_an_alert_asks_the_skpds_admin_and_1_answers(tmp_path: Path) -> None:
    """SOP 3 through the gateway: the question with its answers numbered, `1` the first."""
    async with world(tmp_path, SIGAP_ALERTMANAGER_TOKEN=AM_TOKEN) as w:
        budi = user_uses.UserChange("budi", "skpd_admin", ("dinkes",), phone="0852 5123 4567")
        await user_uses.save_user(w.res, Actor.operator(), budi)
        response = await w.client.post(
            "/api/v1/alertmanager",
            json=alert_notification("dinkes", "gw-dinkes"),
            headers={"Authorization": f"Bearer {AM_TOKEN}"},
        )
        assert response.status == 200, await response.text()
        (incident,) = await incident_uses.incidents(w.res, Actor.operator(), is_open=True)
        bodies = await w.gateway.wait_for(2)  # the page to sari, the question to budi
        (question,) = [b for b in bodies if b["to"] == "+6285251234567"]
        assert "Apakah internet/intranet di kantor Anda terputus?" in question["text"]
        assert "1 = Ya, terputus\n2 = Tidak\n3 = Hanya lambat\n" in question["text"]
        status, _ = await w.incoming({"from": BUDI, "text": "1", "id": "fonnte-q1"})
        assert status == 200
        shown = await incident_uses.incident(w.res, Actor.operator(), incident.id)
        assert (shown.skpd_answer, shown.skpd_answer_by) == ("down", "budi")


async def test_without_the_secret_nothing_is_read(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        incident_id = await w.open_outage()
        await w.gateway.wait_for(1)
        move = {"from": SARI, "text": f"tangani {incident_id}"}
        assert (await w.incoming(move, secret=None))[0] == 401
        assert (await w.incoming(move, secret="not-the-shared-secret"))[0] == 403
        query = await w.client.post("/gateway/incoming?secret=wrong-secret-given-here", json=move)
        assert query.status == 403
        shown = await incident_uses.incident(w.res, Actor.operator(), incident_id)
        assert shown.holder is None

        status, _ = await w.incoming({"from": SARI})
        assert status == 422
        assert (await w.incoming({"text": "1"}))[0] == 422


async def test_typed_moves_and_commands_in_the_gateways_shapes(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        incident_id = await w.open_outage()
        await w.gateway.wait_for(1)
        # WAHA writes the sender as a chat id
        status, body = await w.incoming({"from": f"{SARI}@c.us", "text": f"Tangani {incident_id}"})
        assert (status, body["reply"]) == (200, None)
        shown = await incident_uses.incident(w.res, Actor.operator(), incident_id)
        assert shown.holder == "sari"
        # Fonnte posts a form, and some gateways only take the secret in the URL
        answer = await w.client.post(
            f"/gateway/incoming?secret={GATEWAY_SECRET}",
            data={"sender": SARI, "message": "status"},
        )
        reply = (await answer.json())["reply"]
        assert answer.status == 200 and f"#{incident_id} Dinas Kesehatan" in reply
        said = await w.gateway.wait_for(3)
        assert any(f"#{incident_id} Dinas Kesehatan" in b["text"] for b in said[2:])

        status, body = await w.incoming({"from": "6281999999999", "text": "status"})
        assert status == 200 and "belum terdaftar" in body["reply"]


async def test_tugaskan_by_number_then_whom_by_number(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        incident_id = await w.open_outage()
        await w.gateway.wait_for(1)
        f01 = {
            "reporter": "budi", "contact_confirmed_with": "budi", "complaint": "mati",
            "affected_service": "internet", "reported_at": "2026-12-07T08:00:00+08:00",
        }  # fmt: skip
        for action, data in (("confirm", f01), ("report", {"responsibility": "diskominfo"})):
            await incident_uses.make_move(w.res, Actor.operator(), incident_id, action, data)
        told = (await w.gateway.wait_for(2))[1]  # SOP 4: the coordinator is told
        assert told["to"] == "+6281350022106"
        assert "1 = Tangani\n2 = Tugaskan staf\n" in told["text"]
        assert (await w.incoming({"from": KOORD, "text": "2", "id": "k-1"}))[0] == 200
        choice = (await w.gateway.wait_for(3))[2]
        assert "Tugaskan siapa" in choice["text"] and "2 = sari" in choice["text"], choice
        assert (await w.incoming({"from": KOORD, "text": "2", "id": "k-2"}))[0] == 200
        shown = await incident_uses.incident(w.res, Actor.operator(), incident_id)
        assert (shown.state, shown.assignee) == ("dispatched", "sari")
        said = await w.gateway.wait_for(5)
        assert any("Tugaskan staf oleh koord" in b["text"] and b["to"] == "+6281350022106"
                   for b in said), said  # fmt: skip
