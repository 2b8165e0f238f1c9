"""The public status page against a real Prometheus (status_world.py) and the real app: each
SKPD's condition now, the open incident's stage, 90 days of bars with the report's figures,
the feeds and the badge; nothing internal leaks; a thousand refreshes cost one gathering; the
coordinator's settings turn it off or keep it inside the intranet."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
import yaml
from jsonschema import Draft202012Validator
from sqlalchemy import select

from exporter.inventory import load_inventory
from tests.webhook.access_app import csrf_of, login, running
from tests.webhook.status_world import INVENTORY, World, world
from webhook.store.models import StatusNotice
from webhook.web.keys import DATABASE
from webhook.web.status import STATUS_CACHE

__all__ = ["world"]
ALERTMANAGER_TOKEN = "status-test-token"
OPENAPI = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "webhook" / "web" / "openapi.yaml").read_text()
)


def alert_of(skpd: str, node: str, starts_at: datetime) -> dict[str, object]:
    return {
        "version": "4",
        "receiver": "sigap",
        "status": "firing",
        "groupKey": f'{{}}:{{skpd="{skpd}"}}',
        "groupLabels": {"skpd": skpd},
        "commonLabels": {"skpd": skpd},
        "externalURL": "http://alertmanager.test",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "SigapUplinkDown",
                    "skpd": skpd,
                    "node": node,
                    "responsibility": "diskominfo",
                },
                "annotations": {"summary": f"{node} of {skpd} is down"},
                "startsAt": starts_at.isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.test/graph",
                "fingerprint": f"{skpd}-{node}",
            }
        ],
    }


def card(page: str, skpd: str) -> str:
    found = re.search(rf'<li class="skpd [a-z_]+" data-testid="skpd-{skpd}">(.*?)</li>', page, re.S)
    assert found is not None, f"no card of {skpd}"
    return found.group(1)


async def test_conditions_stage_and_the_report_s_daily_figures(
    world: World, tmp_path: Path
) -> None:
    async with running(
        tmp_path, SIGAP_PROMETHEUS_URL=world.url, SIGAP_ALERTMANAGER_TOKEN=ALERTMANAGER_TOKEN
    ) as service:
        client = service.client
        sent = await client.post(
            "/api/v1/alertmanager",
            json=alert_of("dinkes", "gw-dinkes", datetime.now(UTC) - timedelta(minutes=5)),
            headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
        )
        assert sent.status == 200
        response = await client.get("/status")
        assert response.status == 200
        assert "public" in response.headers["Cache-Control"]
        page = await response.text()
        assert 'lang="id"' in page
        dinkes = card(page, "dinkes")
        assert 'data-condition="down_diskominfo"' in dinkes
        assert "Putus (jaringan Diskominfo)" in dinkes
        assert "Gangguan terdeteksi" in dinkes  # the open incident's stage
        assert 'data-condition="degraded"' in card(page, "bappeda")
        assert 'data-condition="normal"' in card(page, "rsud")  # open day and night
        # the day of the two-hour outage: its bar's tooltip says so, the others a whole day up
        assert re.search(
            rf"<title>{world.outage_day}: 91\.67% \(gangguan 2 jam 0 menit\)</title>", dinkes
        ), re.findall(rf"<title>{world.outage_day}[^<]*", dinkes)
        assert dinkes.count("<rect") == 90
        data = json.loads(await (await client.get("/status.json")).text())
        Draft202012Validator(
            {"$ref": "#/components/schemas/StatusBoard", "components": OPENAPI["components"]}
        ).validate(data)
        network = {n["id"]: n for n in data["network"]}
        assert network["gw-rsud"]["parents"] == ["uplink-rsud", "radio-rsud"]
        assert network["gw-rsud"]["parent"] == "uplink-rsud"
        assert network["gw-dinkes"]["parents"] == ["uplink-dinkes"]
        days = {d["date"]: d for d in next(s for s in data["skpds"] if s["id"] == "dinkes")["days"]}
        assert days[world.outage_day]["availability"] == pytest.approx(22 / 24)
        assert days[world.outage_day]["downtime_seconds"] == pytest.approx(7200)
        english = await (await client.get("/status?lang=en")).text()
        assert "Down (Diskominfo&#39;s network)" in card(english, "dinkes")
        assert "Detected, checking" in card(english, "dinkes")
        # the public map: Diskominfo's nodes, the failed gateway red
        assert 'data-node="gw-dinkes"><circle cx=' in page
        assert re.search(r'data-node="gw-dinkes"><circle [^>]*fill="#c62828"', page)


async def test_a_thousand_refreshes_cost_one_gathering_and_304s(
    world: World, tmp_path: Path
) -> None:
    async with running(tmp_path, SIGAP_PROMETHEUS_URL=world.url) as service:
        client = service.client
        first = await client.get("/status")
        etag = first.headers["ETag"]
        for path in ["/status", "/status.json", "/status.atom", "/status/dinkes"] * 250:
            assert (await client.get(path)).status == 200
        assert service.app[STATUS_CACHE].refreshes == 1
        again = await client.get("/status", headers={"If-None-Match": etag})
        assert again.status == 304


def secrets_of_the_inventory() -> list[str]:
    """Every address, SKPD-owned node id, office address, contact name, phone and e-mail."""
    inventory = load_inventory(INVENTORY, resolve=None)
    found: list[str] = []
    for node in inventory.nodes.values():
        found.append(node.address)
        if node.owner == "skpd":
            found.append(node.id)
    for skpd in inventory.skpds.values():
        if skpd.location:
            found.append(skpd.location)
        for contact in skpd.contacts:
            found += [contact.name, *(x for x in (contact.phone, contact.email) if x)]
    return found


async def test_nothing_internal_leaks(world: World, tmp_path: Path) -> None:
    async with running(tmp_path, SIGAP_PROMETHEUS_URL=world.url) as service:
        client = service.client
        inventory = load_inventory(INVENTORY, resolve=None)
        assert all(s.position for s in inventory.skpds.values())  # the offices map is drawn
        assert 'data-office="dinkes"' in await (await client.get("/status")).text()
        paths = ["/status", "/status?lang=en", "/status.json", "/status.atom"]
        for skpd in inventory.skpds:
            paths += [f"/status/{skpd}", f"/status/{skpd}/badge.svg"]
        secrets = secrets_of_the_inventory()
        assert "sw-dinkes-core" in secrets and "198.18.5.2" in secrets  # the scan is armed
        for path in paths:
            response = await client.get(path)
            assert response.status == 200, path
            body = await response.text()
            leaked = [s for s in secrets if s in body]
            assert not leaked, f"{path} shows {leaked}"


async def test_feeds_badge_and_bad_input(world: World, tmp_path: Path) -> None:
    async with running(tmp_path, SIGAP_PROMETHEUS_URL=world.url) as service:
        client = service.client
        feed = ElementTree.fromstring(await (await client.get("/status.atom")).text())
        assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
        badge = await client.get("/status/dinkes/badge.svg")
        assert badge.content_type == "image/svg+xml"
        svg = ElementTree.fromstring(await badge.text())
        assert "Putus" in "".join(svg.itertext())
        missing = await client.get("/status/tidak-ada")
        assert missing.status == 404 and missing.content_type == "text/html"
        text = await missing.text()
        assert "SKPD tidak ditemukan" in text and "/static/sigap.css" in text
        assert (await client.get("/status/tidak-ada/badge.svg")).status == 404
        assert (await client.get("/status?lang=" + "x" * 100)).status == 400
        headers = (await client.get("/status")).headers
        assert "script-src" in headers["Content-Security-Policy"] or headers[
            "Content-Security-Policy"
        ].startswith("default-src")
        assert headers["X-Content-Type-Options"] == "nosniff"


async def test_off_and_intranet_only(tmp_path: Path) -> None:
    async with running(tmp_path / "off", SIGAP_STATUS_PAGE="off") as service:
        assert (await service.client.get("/status")).status == 404
        assert (await service.client.get("/status.json")).status == 404
    async with running(
        tmp_path / "far", SIGAP_STATUS_PAGE="intranet", SIGAP_STATUS_NETWORKS="10.0.0.0/8"
    ) as service:
        assert (await service.client.get("/status")).status == 403
    async with running(
        tmp_path / "near", SIGAP_STATUS_PAGE="intranet", SIGAP_STATUS_NETWORKS="127.0.0.0/8, ::1"
    ) as service:
        assert (await service.client.get("/status")).status == 200


async def test_the_noc_map_needs_a_login_and_shows_every_node(world: World, tmp_path: Path) -> None:
    async with running(tmp_path, SIGAP_PROMETHEUS_URL=world.url) as service:
        client = service.client
        assert (await client.get("/peta", allow_redirects=False)).status == 303
        assert await login(client, "sari") == 303
        page = await (await client.get("/peta")).text()
        assert 'data-node="sw-dinkes-core"' in page  # the SKPD's own switch, for the NOC
        assert re.search(r'data-node="sw-dinkes-core"><circle [^>]*fill="#ef9a9a"', page)


async def test_a_coordinator_posts_a_notice_escaped_short_and_on_the_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sigap.webhook")
    async with running(tmp_path) as service:
        client = service.client
        assert await login(client, "sari") == 303
        staff_csrf = await csrf_of(client, "/peta")
        refused = await client.post("/pengumuman", data={"csrf": staff_csrf, "text": "hai"})
        assert refused.status == 403
        await client.post("/logout", data={"csrf": staff_csrf})
        assert await login(client, "koord") == 303
        csrf = await csrf_of(client, "/peta")
        text = "Fiber Batulicin putus <script>alert(1)</script>, perbaikan  sampai\n15.00 WITA"
        posted = await client.post(
            "/pengumuman", data={"csrf": csrf, "text": text}, allow_redirects=False
        )
        assert posted.status == 303
        page = await (await client.get("/status")).text()
        shown = re.search(r'data-testid="notice">(.*?)</p>', page, re.S)
        assert shown is not None
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.group(1)
        assert "perbaikan sampai 15.00 WITA" in shown.group(1) and "<script>" not in page
        data = json.loads(await (await client.get("/status.json")).text())
        assert data["notice"].startswith("Fiber Batulicin putus <script>")
        long = await client.post("/pengumuman", data={"csrf": csrf, "text": "x" * 281})
        assert long.status == 422 and "at most 280" in await long.text()
        async with service.app[DATABASE].read() as session:
            rows = (await session.execute(select(StatusNotice))).scalars().all()
        assert [(r.posted_by, r.text[:5]) for r in rows] == [("koord", "Fiber")]
        logged = [r for r in caplog.records if r.getMessage() == "status page notice"]
        assert [(r.__dict__["by"], r.__dict__["characters"]) for r in logged] == [("koord", 76)]
        await client.post("/pengumuman", data={"csrf": csrf, "text": "  "})
        assert 'data-testid="notice"' not in await (await client.get("/status")).text()


async def test_maintenance_ahead_and_the_skpd_s_outages_without_their_words(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, SIGAP_ALERTMANAGER_TOKEN=ALERTMANAGER_TOKEN) as service:
        client = service.client
        now = datetime.now(UTC)
        sent = await client.post(
            "/api/v1/alertmanager",
            json=alert_of("dinkes", "gw-dinkes", now - timedelta(minutes=5)),
            headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
        )
        assert sent.status == 200
        assert await login(client, "koord") == 303
        csrf = await csrf_of(client, "/pemeliharaan")
        local = "%Y-%m-%dT%H:%M"
        wita = ZoneInfo("Asia/Makassar")
        planned = await client.post(
            "/pemeliharaan",
            data={
                "csrf": csrf,
                "skpd": "disdik",
                "nodes": "",
                "starts_at": (now + timedelta(hours=2)).astimezone(wita).strftime(local),
                "ends_at": (now + timedelta(hours=3)).astimezone(wita).strftime(local),
                "reason": "ganti switch lantai rahasia",
            },
            allow_redirects=False,
        )
        assert planned.status == 303
        await client.post("/logout", data={"csrf": csrf})
        page = await (await client.get("/status")).text()
        disdik = card(page, "disdik")
        assert "Pemeliharaan terencana:" in disdik and "WITA" in disdik
        assert "rahasia" not in page  # the plan's reason is internal
        skpd = await (await client.get("/status/dinkes")).text()
        row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", skpd, re.S)
        assert row is not None
        assert "belum pulih" in row.group(1) and "Belum diisi" in row.group(1)
        assert "gw-dinkes of dinkes is down" not in skpd  # the alert's words stay inside


async def test_every_status_answer_carries_the_security_headers(
    world: World, tmp_path: Path
) -> None:
    """The pages, the feeds, the badge, a 304, the 404 of an unknown SKPD and the 400 of an
    overlong query: each with the headers of the rest of the site; an unknown `lang` is Bahasa
    Indonesia, not an error."""
    async with running(tmp_path, SIGAP_PROMETHEUS_URL=world.url) as service:
        client = service.client
        etag = (await client.get("/status")).headers["ETag"]
        answers = {
            "/status": 200,
            "/status?lang=en": 200,
            "/status?lang=xx": 200,
            "/status.json": 200,
            "/status.atom": 200,
            "/status/dinkes": 200,
            "/status/dinkes/badge.svg": 200,
            "/status/tidak-ada": 404,
            "/status/tidak-ada/badge.svg": 404,
            "/status?lang=id&" + "x" * 80: 400,
            "/status.json?" + "x=1&" * 20: 400,
        }
        for path, status in answers.items():
            response = await client.get(path)
            assert response.status == status, path
            headers = response.headers
            assert headers["Content-Security-Policy"].startswith("default-src"), path
            assert headers["X-Content-Type-Options"] == "nosniff", path
            assert headers["X-Frame-Options"] == "DENY", path
            assert headers["Referrer-Policy"] == "same-origin", path
        assert 'lang="id"' in await (await client.get("/status?lang=xx")).text()
        again = await client.get("/status", headers={"If-None-Match": etag})
        assert again.status == 304 and again.headers["X-Content-Type-Options"] == "nosniff"


async def test_an_skpd_marked_internal_stays_off_the_public_pages(
    world: World, tmp_path: Path
) -> None:
    """`internal: true` on an SKPD: not its card, page, badge, feed entry, office or links on
    the public map; the NOC's /peta still draws it."""
    text = INVENTORY.read_text().replace(
        "  - id: dinkes\n    name: Dinas Kesehatan\n",
        "  - id: dinkes\n    name: Dinas Kesehatan\n    internal: true\n",
    )
    assert "internal: true" in text
    marked = tmp_path / "inventory.yml"
    marked.write_text(text)
    inventory = load_inventory(marked, resolve=None)
    assert inventory.skpds["dinkes"].internal and not inventory.skpds["setda"].internal
    secret = ["dinkes", "Dinas Kesehatan", *(n.id for n in inventory.nodes_of("dinkes"))]
    async with running(
        tmp_path, SIGAP_PROMETHEUS_URL=world.url, SIGAP_INVENTORY=str(marked)
    ) as service:
        client = service.client
        for path in ["/status", "/status?lang=en", "/status.json", "/status.atom"]:
            response = await client.get(path)
            assert response.status == 200, path
            body = await response.text()
            assert not [s for s in secret if s in body], path
        assert 'data-testid="skpd-setda"' in await (await client.get("/status")).text()
        assert (await client.get("/status/dinkes")).status == 404
        assert (await client.get("/status/dinkes/badge.svg")).status == 404
        assert await login(client, "sari") == 303
        assert 'data-node="gw-dinkes"' in await (await client.get("/peta")).text()
