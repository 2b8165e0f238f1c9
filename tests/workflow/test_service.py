"""The workflow through the real app: the action API (409s), the UI with sessions and CSRF,
email through a real SMTP server with its one-click links, links that must not act, access."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient

from tests.workflow.conftest import (
    ALERTMANAGER_TOKEN,
    PASSWORD,
    SECRET,
    Mailbox,
    Service,
    alert_notification,
    open_by_alert,
)
from webhook.core import links
from webhook.core.messages import action_name

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).astimezone(ZoneInfo("Asia/Makassar"))
AHEAD = f"{TOMORROW:%Y-%m-%dT%H:%M}"
"""An estimate as typed in the UI (WITA), a day ahead: estimates must lie ahead."""

Client = TestClient[Any, Any]


def bearer(service: Service, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {service.tokens[name]}"}


async def act(service: Service, who: str, incident: int, action: str, **data: Any) -> Any:
    response = await service.client.post(
        f"/api/v1/incidents/{incident}/actions/{action}", json=data, headers=bearer(service, who)
    )
    return response.status, await response.json()


async def login(client: Client, name: str, password: str = PASSWORD) -> int:
    response = await client.post(
        "/login", data={"name": name, "password": password, "next": "/"}, allow_redirects=False
    )
    return int(response.status)


async def csrf_of(client: Client, path: str) -> str:
    page = await (await client.get(path)).text()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def state_of(service: Service, incident: int) -> str:
    response = await service.client.get(
        f"/api/v1/incidents/{incident}", headers=bearer(service, "koord")
    )
    return str((await response.json())["state"])


def link_in(mailbox: Mailbox, address: str, action: str) -> str:
    bodies = [m.get_body(("plain",)) for m in mailbox.to(address)]
    for body in bodies:
        assert body is not None
        text = body.get_content()
        label = re.escape(action_name(action, "id"))  # the move's label: `Tangani`
        found = re.search(rf"^{label}: http://sigap\.test(/l/\S+)", text, re.MULTILINE)
        if found:
            return found.group(1)
    raise AssertionError(f"no {action} link for {address} in {bodies}")


async def test_the_api_walks_the_sop_and_refuses_with_409(service: Service) -> None:
    incident = await open_by_alert(service)
    status, body = await act(service, "noc", incident, "ping_check")
    assert status == 409 and "a viewer cannot ping_check" in body["error"]
    status, body = await act(service, "sari", incident, "ping_check")
    assert status == 202  # the ping checker records the move with its result
    status, body = await act(service, "sari", incident, "dispatch", assignee="andi")
    assert status == 409
    assert "cannot dispatch an incident that is opened" in body["error"]
    status, body = await act(service, "sari", incident, "confirm", reporter="sari")
    assert status == 409 and "confirm needs contact_confirmed_with" in body["error"]
    f01 = {
        "reporter": "sari",
        "contact_confirmed_with": "budi",
        "complaint": "internet mati",
        "affected_service": "internet",
        "reported_at": "2026-11-24T08:00",
    }
    assert (await act(service, "sari", incident, "confirm", **f01))[0] == 200
    assert (await act(service, "sari", incident, "report", responsibility="diskominfo"))[0] == 200
    status, body = await act(service, "sari", incident, "dispatch", assignee="andi")
    assert status == 409 and "a staff cannot dispatch; it is for coordinator" in body["error"]
    status, body = await act(service, "koord", incident, "dispatch", assignee="andi")
    assert status == 200 and body["state"] == "dispatched"
    detail = await service.client.get(
        f"/api/v1/incidents/{incident}", headers=bearer(service, "koord")
    )
    events = (await detail.json())["events"]
    last = events[-1]
    assert (last["kind"], last["actor"], last["from"], last["to"]) == (
        "dispatch",
        "koord",
        "reported",
        "dispatched",
    )


async def test_email_links_act_once_and_only_on_post(service: Service, smtp: Any) -> None:
    mailbox: Mailbox = smtp[0]
    incident = await open_by_alert(service)
    f01 = {
        "reporter": "sari",
        "contact_confirmed_with": "budi",
        "complaint": "internet mati",
        "affected_service": "internet",
        "reported_at": "2026-11-24T08:00",
    }
    await act(service, "sari", incident, "confirm", **f01)
    await act(service, "sari", incident, "report", responsibility="skpd")
    await service.drain()
    # SOP step 4: the coordinator and the SKPD's admin are told; the other SKPD's admin is not.
    assert mailbox.to("koord@example.test") and mailbox.to("budi@example.test")
    assert not mailbox.to("wati@example.test")
    message = mailbox.to("koord@example.test")[0]
    assert message["Subject"] == f"[SIGAP #{incident}] Gangguan dilaporkan: dinkes"
    path = link_in(mailbox, "koord@example.test", "dispatch")

    client = service.client
    # Someone else's link: staff logged in on this browser opens the coordinator's link.
    assert await login(client, "sari") == 303
    refused = await client.post(path, data={"assignee": "andi"})
    said = await refused.text()
    assert refused.status == 410 and "dikirim untuk koord" in said and "masuk sebagai sari" in said
    client.session.cookie_jar.clear()
    assert await state_of(service, incident) == "reported"
    page = await client.get(path)  # a mail scanner's prefetch
    assert page.status == 200
    assert "Tugaskan staf" in await page.text()
    assert await state_of(service, incident) == "reported"

    done = await client.post(path, data={"assignee": "andi"})
    assert done.status == 200, await done.text()
    assert await state_of(service, incident) == "dispatched"

    replay = await client.post(path, data={"assignee": "sari"})
    assert replay.status == 410
    assert "sudah pernah dipakai" in await replay.text()
    assert (await client.get(path)).status == 410

    payload, mac = path.removeprefix("/l/").split(".")
    tampered = f"/l/{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{mac}"
    refused = await client.post(tampered, data={"assignee": "andi"})
    assert refused.status == 403 and "Tautan ini tidak sah" in await refused.text()

    past = datetime.now(UTC) - timedelta(days=2)
    expired = links.sign(SECRET, incident, "estimate", "koord", past, timedelta(hours=1))
    refused = await client.post(f"/l/{expired}", data={"findings": "x"})
    assert refused.status == 410 and "sudah kedaluwarsa" in await refused.text()
    english = await client.post(f"/l/{expired}?lang=en", data={"findings": "x"})
    assert "This link has expired" in await english.text()
    client.session.cookie_jar.clear()  # the language cookie ?lang= set

    # A link for someone who may not act on this incident (another SKPD's admin).
    now = datetime.now(UTC)
    foreign = links.sign(SECRET, incident, "close", "wati", now)
    refused = await client.post(f"/l/{foreign}")
    assert refused.status == 410 and "bukan untuk orang yang" in await refused.text()
    # Someone else's role: the SKPD admin's link to dispatch is refused by the state machine.
    wrong_role = links.sign(SECRET, incident, "forward", "budi", now)
    refused = await client.post(f"/l/{wrong_role}")
    assert refused.status == 409
    said = await refused.text()  # the move's refusal, in the page's words
    assert "Teruskan" in said or "tidak dapat" in said.lower(), said
    assert await state_of(service, incident) == "dispatched"
    # The assignee was told (SOP step 5).
    await service.drain()
    assert mailbox.to("andi@example.test")


async def test_skpd_admin_sees_and_touches_only_its_own(service: Service) -> None:
    incident = await open_by_alert(service, "dinkes")
    # API: the other SKPD's admin gets 404 for the incident and for an action on it.
    response = await service.client.get(
        f"/api/v1/incidents/{incident}", headers=bearer(service, "wati")
    )
    assert response.status == 404
    status, _ = await act(service, "wati", incident, "cancel", reason="x")
    assert status == 404
    # UI: same, and the board does not list it.
    assert await login(service.client, "wati") == 303
    assert (await service.client.get(f"/incidents/{incident}")).status == 404
    board = await (await service.client.get("/")).text()
    assert f"#{incident} dinkes" not in board
    assert 'data-skpd="dinkes"' not in await (await service.client.get("/skpd")).text()
    csrf = await csrf_of(service.client, "/")
    refused = await service.client.post(
        f"/incidents/{incident}/actions/cancel", data={"csrf": csrf, "reason": "x"}
    )
    assert refused.status == 404
    # Its own SKPD's admin sees it.
    service.client.session.cookie_jar.clear()
    assert await login(service.client, "budi") == 303
    board = await (await service.client.get("/")).text()
    assert f"#{incident} dinkes" in board
    skpds = await (await service.client.get("/skpd")).text()
    assert 'data-skpd="dinkes"' in skpds and f"/incidents/{incident}" in skpds


async def test_csrf_login_limit_logout_and_language(service: Service) -> None:
    client = service.client
    incident = await open_by_alert(service)
    assert (await client.get("/", allow_redirects=False)).status == 303
    assert await login(client, "sari", "wrong") == 401
    assert await login(client, "sari") == 303
    page = await (await client.get(f"/incidents/{incident}")).text()
    assert "Konfirmasi (F-01)" in page
    english = await (await client.get(f"/incidents/{incident}?lang=en")).text()
    assert "Confirm (F-01)" in english
    forged = await client.post(f"/incidents/{incident}/actions/ping_check", data={"csrf": "forged"})
    assert forged.status == 403
    missing = await client.post(f"/incidents/{incident}/actions/ping_check", data={})
    assert missing.status == 403
    assert await state_of(service, incident) == "opened"
    csrf = await csrf_of(client, f"/incidents/{incident}")
    ok = await client.post(
        f"/incidents/{incident}/actions/acknowledge",
        data={"csrf": csrf},
        allow_redirects=False,
    )
    assert ok.status == 303
    logout = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert logout.status == 303
    assert (await client.get("/", allow_redirects=False)).status == 303
    for _ in range(5):
        assert await login(client, "andi", "wrong") == 401
    assert await login(client, "andi") == 429  # even the right password, until the window ends


async def test_the_whole_sop_in_the_ui_ends_with_the_f04_pdf(service: Service, smtp: Any) -> None:
    mailbox: Mailbox = smtp[0]
    client = service.client
    incident = await open_by_alert(service)

    async def step(who: str, action: str, **data: str) -> None:
        client.session.cookie_jar.clear()
        assert await login(client, who) == 303
        csrf = await csrf_of(client, f"/incidents/{incident}")
        response = await client.post(
            f"/incidents/{incident}/actions/{action}",
            data={"csrf": csrf, **data},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()

    await step(
        "sari",
        "confirm",
        reporter="sari",
        contact_confirmed_with="budi",
        complaint="internet mati",
        affected_service="internet",
        reported_at="2026-11-24T08:00",
    )
    await step("sari", "report", responsibility="diskominfo")
    await step("koord", "dispatch", assignee="sari")
    await step("sari", "estimate", findings="kabel putus", estimated_recovery_at=AHEAD)
    await step("koord", "forward")
    await step("koord", "order_repair")
    await step(
        "sari",
        "repair",
        findings="kabel putus",
        actions_taken="sambung ulang",
        parts_replaced="konektor RJ45",
        repair_started_at="2026-11-24T10:00",
        repair_ended_at="2026-11-24T11:00",
        result="pulih",
    )
    await step("budi", "close", despite_alarm="on")  # the alert still fires
    assert await state_of(service, incident) == "closed"
    pdf = await client.get(f"/incidents/{incident}/forms/f04.pdf")
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    assert (await pdf.read()).startswith(b"%PDF")
    printable = await (await client.get(f"/incidents/{incident}/forms/f04")).text()
    assert "konektor RJ45" in printable and "FORM TINDAKAN" in printable
    await service.drain()
    # F-04 went to the SKPD admin as a PDF attachment (SOP step 9).
    f04_mail = [m for m in mailbox.to("budi@example.test") if "F-04" in m["Subject"]]
    assert f04_mail
    attachments = [p for p in f04_mail[0].walk() if p.get_filename()]
    assert attachments[0].get_filename() == f"F-04-{incident}.pdf"
    assert attachments[0].get_payload(decode=True).startswith(b"%PDF")


async def test_a_cut_uplink_is_one_line_on_the_timeline(service: Service) -> None:
    """Alertmanager tells every node behind a cut uplink in one notification, and their
    recovery in another: the incident's timeline says each in one line naming the nodes, not
    one line per alert."""
    nodes = ["dinkes-gw", "dinkes-sw1", "dinkes-sw2"]
    body = alert_notification("dinkes", nodes[0])
    body["alerts"] = [alert_notification("dinkes", n)["alerts"][0] for n in nodes]
    response = await service.client.post(
        "/api/v1/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
    )
    assert response.status == 200, await response.text()
    (incident,) = (await response.json())["opened"]
    detail = await (
        await service.client.get(f"/api/v1/incidents/{incident}", headers=bearer(service, "koord"))
    ).json()
    firing = [e for e in detail["events"] if e["kind"] == "alert_firing"]
    assert len(firing) == 1, detail["events"]
    assert firing[0]["data"]["nodes"] == nodes
    assert len(detail["alerts"]) == 3
    for told in body["alerts"]:
        told.update(status="resolved", endsAt=datetime.now(UTC).isoformat())
    body["status"] = "resolved"
    response = await service.client.post(
        "/api/v1/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
    )
    assert response.status == 200, await response.text()
    detail = await (
        await service.client.get(f"/api/v1/incidents/{incident}", headers=bearer(service, "koord"))
    ).json()
    kinds = [e["kind"] for e in detail["events"]]
    assert kinds.count("alert_firing") == kinds.count("alert_resolved") == 1, kinds
    assert kinds.index("alert_resolved") < kinds.index("recovered")
    assert await login(service.client, "koord") == 303
    page = await (await service.client.get(f"/incidents/{incident}")).text()
    assert page.count("Node: dinkes-gw, dinkes-sw1, dinkes-sw2") == 2
