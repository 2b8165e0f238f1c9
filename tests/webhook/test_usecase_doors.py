"""Every door asks the same use case the same question: who may be dispatched (the incident
page, a one-click link and the move itself agree), a manual report's nodes (the UI's form as the
JSON API), and the users page applying the CLI's rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.webhook.access_app import PASSWORD, Service, csrf_of, login, running
from webhook.core import links
from webhook.core.credentials import hash_password
from webhook.settings import Settings
from webhook.store.models import User
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
