"""What every response and every input of the web side must do: security headers everywhere
(pages, static files, errors, link pages without Referer), no inline script or style for the CSP
to block, CSV cells a spreadsheet cannot run, SKPD and node ids from the inventory only, bounded
query parameters, and errors that tell nothing of the inside."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from tests.webhook.access_app import INVENTORY, csrf_of, login, running
from webhook.core.inventory_check import UnknownId, check_nodes, check_skpd
from webhook.core.monthly import neutralised
from webhook.store.models import Event, Incident
from webhook.web.keys import DATABASE

TEMPLATES = Path(__file__).parents[2] / "webhook" / "web" / "ui" / "templates"


def assert_guarded(response: web.StreamResponse | object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


async def test_every_kind_of_response_carries_the_headers(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        client = service.client
        for path in ("/login", "/static/sigap.css", "/nowhere", "/-/ready", "/metrics"):
            assert_guarded(await client.get(path))
        page = await client.get("/login")
        csp = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        link = await client.get("/l/not-a-real-token")
        assert_guarded(link)
        assert link.headers["Referrer-Policy"] == "no-referrer"
        assert link.headers["Cache-Control"] == "no-store"


def test_no_template_needs_what_the_csp_forbids() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=|javascript:", text), template


async def test_monthly_csvs_cannot_run_formulas(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        client = service.client
        description = '=HYPERLINK("http://evil.example","klik")'
        created = await client.post(
            "/api/v1/incidents",
            json={"skpd": "dinkes", "description": description},
            headers={"Authorization": f"Bearer {service.tokens['budi']}"},
        )
        assert created.status == 201
        async with service.app[DATABASE].write() as session:  # the title too, from a report
            await session.execute(update(Incident).values(title="@SUM(1+1)*cmd|' /C calc'!A0"))
        assert await login(client, "koord") == 303
        for path, delimiter in [
            ("/laporan/insiden.csv", ";"),  # for Excel, the default
            ("/laporan.csv", ";"),
            ("/laporan/insiden.csv?format=csv", ","),  # for programs
            ("/laporan.csv?format=csv", ","),
        ]:
            response = await client.get(path)
            assert response.status == 200
            assert_guarded(response)
            text = (await response.text()).removeprefix("\ufeff")
            for row in csv.reader(io.StringIO(text), delimiter=delimiter):
                for cell in row:
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (path, cell)
            if "insiden" in path:
                assert "'@SUM(1+1)" in text  # shown as text, not dropped


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+62 812", "'+62 812"),
        ("-cmd", "'-cmd"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("dinkes", "dinkes"),
        (-5, -5),
        (0.25, 0.25),
    ],
)
def test_neutralised_follows_owasp(cell: object, written: object) -> None:
    assert neutralised(cell) == written


async def test_the_ui_report_form_takes_only_inventory_skpds(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        client = service.client
        assert await login(client, "sari") == 303
        csrf = await csrf_of(client, "/report")
        for skpd in ("nope", "dinkes\r\nBcc: evil@example.test", "DINKES"):
            response = await client.post(
                "/report",
                data={"csrf": csrf, "skpd": skpd, "description": "mati"},
                allow_redirects=False,
            )
            assert response.status == 422, skpd
            assert "SKPD yang dipilih tidak dikenal" in await response.text()
        ok = await client.post(
            "/report",
            data={"csrf": csrf, "skpd": "dinkes", "description": "mati"},
            allow_redirects=False,
        )
        assert ok.status == 303
        async with service.app[DATABASE].read() as session:
            assert list((await session.execute(select(Incident.skpd))).scalars()) == ["dinkes"]


async def test_a_move_cannot_name_another_skpd_or_foreign_nodes(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        client = service.client
        created = await client.post(
            "/api/v1/incidents",
            json={"skpd": "dinkes", "description": "mati"},
            headers={"Authorization": f"Bearer {service.tokens['sari']}"},
        )
        incident = (await created.json())["id"]
        assert await login(client, "sari") == 303
        csrf = await csrf_of(client, f"/incidents/{incident}")
        response = await client.post(
            f"/incidents/{incident}/actions/acknowledge",
            data={"csrf": csrf, "skpd": "disdik"},
            allow_redirects=False,
        )
        assert response.status == 422
        async with service.app[DATABASE].read() as session:
            kinds = list((await session.execute(select(Event.kind))).scalars())
        assert "acknowledge" not in kinds


def test_the_id_checks_against_the_inventory() -> None:
    from exporter.inventory import load_inventory

    inventory = load_inventory(INVENTORY)
    assert check_skpd(inventory, "dinkes") == "dinkes"
    assert check_skpd(inventory, "core", core=True) == "core"
    assert check_nodes(inventory, "dinkes", ["gw-dinkes"]) == ["gw-dinkes"]
    for bad in (
        lambda: check_skpd(inventory, "core"),
        lambda: check_skpd(None, "a\nb"),
        lambda: check_nodes(inventory, "dinkes", ["gw-disdik"]),
        lambda: check_nodes(None, "dinkes", ["x y"]),
    ):
        with pytest.raises(UnknownId):
            bad()


async def test_api_parameters_are_bounded_and_errors_are_json(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        auth = {"Authorization": f"Bearer {service.tokens['koord']}"}
        client = service.client
        for query in ("limit=-1", "limit=0", "limit=1001", "limit=x", "limit=１", "open=maybe"):
            response = await client.get(f"/api/v1/incidents?{query}", headers=auth)
            assert response.status == 400, query
            assert "error" in await response.json()
        for query in ("limit=1", "limit=1000", ""):
            assert (await client.get(f"/api/v1/incidents?{query}", headers=auth)).status == 200
        unknown = await client.get("/api/v1/incidents?skpd=nope", headers=auth)
        assert unknown.status == 400
        assert (await unknown.json())["error"] == "skpd: unknown SKPD 'nope'"
        body = {"skpd": "dinkes", "description": "x", "nodes": ["gw-disdik"]}
        foreign = await client.post("/api/v1/incidents", json=body, headers=auth)
        assert foreign.status == 422
        missing = await client.get("/api/v1/incidents/99999", headers=auth)
        assert missing.status == 404 and "error" in await missing.json()
        laporan = await client.get("/laporan?skpd=nope", allow_redirects=False)
        assert laporan.status == 303  # not logged in: to the login page first
        assert await login(client, "koord") == 303
        assert (await client.get("/laporan?skpd=nope")).status == 400


async def test_errors_name_nothing_of_the_inside(tmp_path: Path) -> None:
    routes = web.RouteTableDef()

    @routes.get("/api/v1/boom")
    async def api_boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret-detail /srv/sigap/db password=hunter2")

    @routes.get("/boom")
    async def page_boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret-detail /srv/sigap/db password=hunter2")

    @routes.get("/db-gone")
    async def page_without_database(request: web.Request) -> web.Response:
        raise OperationalError("SELECT secret-detail", {}, OSError("connection refused"))

    @routes.get("/-/boom")
    async def machine_boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret-detail")

    async with running(tmp_path, routes) as service:
        client = service.client
        api = await client.get("/api/v1/boom")
        assert api.status == 500
        assert (await api.json()) == {
            "status": "error",
            "error": "internal error; it has been logged",
        }
        page = await client.get("/boom")
        html = await page.text()
        assert page.status == 500 and "secret" not in html
        assert 'data-testid="error-page"' in html and "Terjadi kesalahan di SIGAP" in html
        assert 'href="/"' in html  # the way back, in the site's layout
        assert_guarded(page)
        gone = await client.get("/db-gone?lang=en")
        html = await gone.text()
        assert gone.status == 503 and "secret" not in html and "SELECT" not in html
        assert "database cannot be reached" in html and 'data-status="503"' in html
        machine = await client.get("/-/boom")
        assert machine.status == 500 and await machine.text() == (
            "internal error; it has been logged\n"
        )
        await service.app[DATABASE].engine.dispose()
        (tmp_path / "sigap.db").rename(tmp_path / "moved.db")
        (tmp_path / "sigap.db").mkdir()  # the file is now a directory: SQLite cannot open it
        ready = await client.get("/-/ready")
        assert ready.status == 503
        assert await ready.text() == "Not ready: database unreachable.\n"


async def test_migration_0004_creates_what_the_models_describe(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from webhook.settings import database_url
    from webhook.store.database import Database
    from webhook.store.models import Base

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        found = compare_metadata(context, Base.metadata)
        return [d for d in found if "web_session" in str(d) or "api_token" in str(d)]

    database = Database(database_url(f"sqlite:///{tmp_path / 'sigap.db'}"))
    try:
        await database.upgrade()
        async with database.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await database.close()
