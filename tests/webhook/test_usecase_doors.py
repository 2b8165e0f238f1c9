"""Every door asks the same use case the same question: who may be dispatched (the incident
page, a one-click link and the move itself agree), a manual report's nodes (the UI's form as the
JSON API), the users page applying the CLI's rules, and a close while the alarm fires."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from sqlalchemy import select

from tests.webhook.access_app import PASSWORD, Service, csrf_of, login, running
from webhook.core import links
from webhook.core.credentials import hash_password
from webhook.settings import Settings
from webhook.store.models import Alert, Event, User
from webhook.web.keys import DATABASE, SETTINGS


async def _add(service: Service, name: str, role: str, *, active: bool = True, **more: Any) -> None:
    async with service.app[DATABASE].write() as session:
        session.add(
            User(name=name, role=role, password_hash=hash_password(PASSWORD), skpds=[],
                 active=active, created_at=datetime.now(UTC), **more)
        )  # fmt: skip


async def _reported(service: Service) -> int:
    """An incident of dinkes in `reported`, where the coordinator dispatches."""
    api = {"Authorization": f"Bearer {service.tokens['sari']}"}
    created = await service.client.post(
        "/api/v1/incidents", json={"skpd": "dinkes", "description": "internet mati"}, headers=api
    )
    incident = (await created.json())["id"]
    confirm = {
        "reporter": "sari",
        "contact_confirmed_with": "budi",
        "complaint": "mati",
        "affected_service": "internet",
        "reported_at": "2026-11-24T08:00:00+08:00",
    }
    for action, data in (("confirm", confirm), ("report", {"responsibility": "diskominfo"})):
        moved = await service.client.post(
            f"/api/v1/incidents/{incident}/actions/{action}", json=data, headers=api
        )
        assert moved.status == 200, await moved.text()
    return int(incident)


def _offered(page: str) -> list[str]:
    choice = re.search(r'<select[^>]*name="assignee"[^>]*>(.*?)</select>', page, re.S)
    assert choice is not None, "no choice of whom to dispatch"
    return re.findall(r'<option value="([^"]+)"', choice[1])


async def test_only_who_may_be_dispatched_is_offered_at_every_door(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        await _add(service, "andi", "staff", active=False)  # a leaver
        await _add(service, "wati", "staff", full_name="Wati Rahmawati")
        incident = await _reported(service)
        assert await login(service.client, "koord") == 303
        page = await (await service.client.get(f"/incidents/{incident}")).text()
        assert _offered(page) == ["koord", "sari", "wati"]  # staff and coordinators, active
        assert "Wati Rahmawati" in page  # people by their full names
        settings: Settings = service.app[SETTINGS]
        token = links.sign(settings.secret_key, incident, "dispatch", "koord", datetime.now(UTC))
        link = await (await service.client.get(f"/l/{token}")).text()
        assert _offered(link) == ["koord", "sari", "wati"]
        csrf = await csrf_of(service.client, f"/incidents/{incident}")
        refused = await service.client.post(
            f"/incidents/{incident}/actions/dispatch", data={"csrf": csrf, "assignee": "andi"}
        )
        assert refused.status == 409 and "andi" in await refused.text()
        done = await service.client.post(f"/l/{token}", data={"assignee": "koord"})
        assert done.status == 200, await done.text()


async def test_the_report_form_checks_its_nodes_as_the_api_does(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        client = service.client
        assert await login(client, "budi") == 303  # the SKPD admin of dinkes
        csrf = await csrf_of(client, "/report")
        for nodes in ("gw-disdik", "no-such-node"):
            refused = await client.post(
                "/report", data={"csrf": csrf, "skpd": "dinkes", "description": "mati",
                                 "nodes": nodes}, allow_redirects=False,
            )  # fmt: skip
            assert refused.status == 422, nodes
            page = await refused.text()  # said beside the field, the input kept
            assert f"{nodes} bukan perangkat SKPD ini" in page and f'value="{nodes}"' in page
        made = await client.post(
            "/report",
            data={"csrf": csrf, "skpd": "dinkes", "description": "mati", "nodes": "gw-dinkes"},
            allow_redirects=False,
        )
        assert made.status == 303
        api = {"Authorization": f"Bearer {service.tokens['budi']}"}
        incident = await (await client.get(made.headers["Location"].replace("/", "/api/v1/", 1),
                                            headers=api)).json()  # fmt: skip
        assert incident["nodes"] == ["gw-dinkes"]


async def test_the_users_page_applies_the_clis_rules(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        client = service.client
        assert await login(client, "koord") == 303
        csrf = await csrf_of(client, "/users")

        async def save(**fields: str) -> tuple[int, str]:
            answer = await client.post(
                "/users", data={"csrf": csrf, **fields}, allow_redirects=False
            )
            return answer.status, await answer.text()

        status, text = await save(name="rina", role="skpd_admin")
        assert status == 422 and "at least one SKPD" in text
        assert (await save(name="rina", role="skpd_admin", skpds="dinkes"))[0] == 303
        # the same name again changes that user (as `user add` does), not a 409
        assert (await save(name="rina", role="skpd_admin", skpds="dinkes, disdik",
                           full_name="Rina Ayu"))[0] == 303  # fmt: skip
        assert (await save(name="Rina", role="staff"))[0] == 409  # alike but for case
        page = await (await client.get("/users")).text()
        row = re.search(r'<tr data-user="rina".*?</tr>', page, re.S)
        assert row is not None and "Rina Ayu" in row[0] and "dinkes, disdik" in row[0]
        disabled = await client.post(
            "/users/disable", data={"csrf": csrf, "name": "sari"}, allow_redirects=False
        )
        assert disabled.status == 303
        client.session.cookie_jar.clear()
        assert await login(client, "sari") == 401  # a leaver cannot log in


async def test_a_close_while_the_alarm_fires_asks_for_confirmation_at_every_door(
    tmp_path: Path,
) -> None:
    """The UI's tick box is the use case's rule: the JSON API is refused the same way until it
    sends `despite_alarm: true`, a close link's page asks with the same tick box, and the
    timeline says the incident closed while it fired."""
    async with running(tmp_path) as service:
        incident = await _reported(service)
        ahead = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        repair = {
            "findings": "kabel putus", "actions_taken": "sambung ulang",
            "parts_replaced": "konektor RJ45", "result": "pulih",
            "repair_started_at": "2026-11-24T10:00:00+08:00",
            "repair_ended_at": "2026-11-24T11:00:00+08:00",
        }  # fmt: skip
        for who, action, data in (
            ("koord", "dispatch", {"assignee": "sari"}),
            ("sari", "estimate", {"findings": "kabel putus", "estimated_recovery_at": ahead}),
            ("koord", "forward", {}),
            ("koord", "order_repair", {}),
            ("sari", "repair", repair),
        ):
            assert (await _api(service, who, incident, action, data)).status == 200
        now = datetime.now(UTC)
        async with service.app[DATABASE].write() as session:
            session.add(
                Alert(fingerprint="f1", starts_at=now, status="firing", labels={},
                      annotations={}, received_at=now, updated_at=now, incident_id=incident)
            )  # fmt: skip
        refused = await _api(service, "budi", incident, "close", {})
        assert refused.status == 409
        assert "despite_alarm: true" in (await refused.json())["error"]
        for unconfirmed in ({"despite_alarm": False}, {"despite_alarm": "maybe"}):
            assert (await _api(service, "budi", incident, "close", unconfirmed)).status == 409
        settings: Settings = service.app[SETTINGS]
        token = links.sign(settings.secret_key, incident, "close", "budi", datetime.now(UTC))
        link = await (await service.client.get(f"/l/{token}")).text()
        assert 'name="despite_alarm"' in link and "Alarm masih aktif" in link
        unticked = await service.client.post(f"/l/{token}")
        assert unticked.status == 409 and "Alarm insiden ini masih aktif" in await unticked.text()
        closed = await _api(service, "budi", incident, "close", {"despite_alarm": True})
        assert closed.status == 200 and (await closed.json())["state"] == "closed"
        async with service.app[DATABASE].read() as session:
            last = await session.scalar(
                select(Event).where(Event.incident_id == incident).order_by(Event.id.desc())
            )
        assert last is not None and last.kind == "close" and last.data.get("alarm_firing")


async def _api(
    service: Service, who: str, incident: int, action: str, data: dict[str, Any]
) -> ClientResponse:
    return await service.client.post(
        f"/api/v1/incidents/{incident}/actions/{action}",
        json=data,
        headers={"Authorization": f"Bearer {service.tokens[who]}"},
    )
