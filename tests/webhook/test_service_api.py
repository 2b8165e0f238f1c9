"""The service as an operator meets it: the admin CLI makes users and tokens, the JSON API shows
incidents to a token (an SKPD admin only its own), and /metrics passes `promtool check metrics`."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from subprocess import PIPE, STDOUT

import aiohttp
import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.webhook.reliability import (
    HEADERS,
    TESTS,
    alert,
    live_webhook,
    notification,
    settings_for,
)

OPENAPI = yaml.safe_load((TESTS.parent / "webhook" / "web" / "openapi.yaml").read_text())


def conforms(value: object, schema: str) -> None:
    """`value` matches components.schemas[schema] of webhook/web/openapi.yaml."""
    validator = Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": OPENAPI["components"]}
    )
    validator.validate(value)


def cli(database_url: str, *args: str, stdin: str | None = None) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS.parent),
        "SIGAP_DATABASE_URL": database_url,
        "SIGAP_SECRET_KEY": "test",
    }
    done = subprocess.run(
        [sys.executable, "-m", "webhook.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


async def test_tokens_from_the_cli_and_what_each_role_sees(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sigap.db'}"
    cli(url, "db", "upgrade")
    cli(url, "user", "add", "sari", "--role", "staff", "--password-stdin", stdin="rahasia-1\n")
    cli(
        url,
        *("user", "add", "budi", "--role", "skpd_admin", "--skpd", "dinkes"),
        "--password-stdin",
        stdin="rahasia-2\n",
    )
    staff = cli(url, "token", "create", "sari").splitlines()[-1]
    admin = cli(url, "token", "create", "budi").splitlines()[-1]
    async with live_webhook(settings_for(url)) as hook, aiohttp.ClientSession() as http:
        for skpd in ("dinkes", "disdik"):
            body = notification([alert(skpd, f"{skpd}-gw"), alert(skpd, f"{skpd}-sw1")])
            async with http.post(hook.receiver, json=body, headers=HEADERS) as response:
                assert response.status == 200

        async def get(path: str, token: str | None) -> tuple[int, dict[str, object]]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with http.get(f"{hook.url}{path}", headers=headers) as response:
                if response.content_type != "application/json":
                    return response.status, {}
                return response.status, await response.json()

        assert (await get("/api/v1/incidents", None))[0] == 401
        assert (await get("/api/v1/incidents", "not-a-token"))[0] == 401
        status, seen = await get("/api/v1/incidents", staff)
        assert status == 200
        for item in seen["incidents"]:  # type: ignore[attr-defined]
            conforms(item, "Incident")
        by_skpd = {i["skpd"]: i for i in seen["incidents"]}  # type: ignore[attr-defined]
        assert set(by_skpd) == {"dinkes", "disdik"}
        first = by_skpd["dinkes"]
        for key in ("id", "skpd", "state", "responsibility", "opened_at", "truncated_alerts"):
            assert key in first
        assert first["recovered_at"] is None and first["responsibility"] == "diskominfo"

        status, seen = await get("/api/v1/incidents?skpd=disdik&open=true", staff)
        assert [i["skpd"] for i in seen["incidents"]] == ["disdik"]  # type: ignore[attr-defined]
        status, seen = await get("/api/v1/incidents?state=closed", staff)
        assert seen["incidents"] == []

        status, seen = await get("/api/v1/incidents", admin)
        assert [i["skpd"] for i in seen["incidents"]] == ["dinkes"]  # type: ignore[attr-defined]
        other = by_skpd["disdik"]["id"]
        assert (await get(f"/api/v1/incidents/{other}", admin))[0] == 404
        status, detail = await get(f"/api/v1/incidents/{first['id']}", admin)
        assert status == 200
        conforms(detail, "IncidentDetail")
        alerts = detail["alerts"]
        assert {a["labels"]["node"] for a in alerts} == {"dinkes-gw", "dinkes-sw1"}  # type: ignore[attr-defined]
        for a in alerts:  # type: ignore[attr-defined]
            assert {"fingerprint", "status", "labels", "starts_at", "ends_at"} <= set(a)
        events = detail["events"]
        assert events and events[0]["to"] == "opened"  # type: ignore[index]

        # manual reports (SOP step 1, second path)
        async def report(token: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
            headers = {"Authorization": f"Bearer {token}"}
            url = f"{hook.url}/api/v1/incidents"
            async with http.post(url, json=body, headers=headers) as response:
                return response.status, await response.json()

        status, made = await report(admin, {"skpd": "dinkes", "description": "Internet mati"})
        assert status == 200 and made["id"] == first["id"], "joins the open incident"
        assert made["events"][-1]["kind"] == "report"  # type: ignore[index]
        status, _ = await report(admin, {"skpd": "disdik", "description": "bukan SKPD saya"})
        assert status == 403
        status, made = await report(
            staff, {"skpd": "dishub", "description": "Intranet putus\nsejak pagi", "nodes": []}
        )
        assert status == 201 and made["source"] == "report" and made["state"] == "opened"
        conforms(made, "IncidentDetail")
        assert made["title"] == "Intranet putus"
        assert made["events"][0]["actor"] == "sari"  # type: ignore[index]
        status, problem = await report(staff, {"skpd": "dishub"})
        assert status == 422 and "description" in str(problem["error"])


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="Debian promtool not installed")
async def test_metrics_pass_promtool(tmp_path: Path) -> None:
    async with (
        live_webhook(settings_for(f"sqlite:///{tmp_path / 's.db'}")) as hook,
        aiohttp.ClientSession() as http,
    ):
        body = notification([alert("dinkes", "dinkes-gw")])
        async with http.post(hook.receiver, json=body, headers=HEADERS) as response:
            assert response.status == 200
        async with http.get(f"{hook.url}/-/ready") as response:
            assert response.status == 200
        async with http.get(f"{hook.url}/metrics") as response:
            assert response.status == 200
            text = await response.text()
    assert "sigap_webhook_notifications_total" in text
    assert PROMTOOL is not None
    check = await asyncio.create_subprocess_exec(
        PROMTOOL, "check", "metrics", stdin=PIPE, stdout=PIPE, stderr=STDOUT
    )
    out, _ = await asyncio.wait_for(check.communicate(text.encode()), 30)
    assert check.returncode == 0, out.decode()


async def test_metrics_are_gzipped_for_a_scraper_that_asks(tmp_path: Path) -> None:
    import gzip

    async with (
        live_webhook(settings_for(f"sqlite:///{tmp_path / 's.db'}")) as hook,
        aiohttp.ClientSession(auto_decompress=False) as http,
    ):
        async with http.get(f"{hook.url}/metrics", headers={"Accept-Encoding": "gzip"}) as r:
            assert r.status == 200 and r.headers["Content-Encoding"] == "gzip"
            zipped = await r.read()
        async with http.get(f"{hook.url}/metrics", headers={"Accept-Encoding": "identity"}) as r:
            assert "Content-Encoding" not in r.headers
            plain = await r.read()
    assert b"sigap_webhook_notifications_total" in gzip.decompress(zipped)
    assert b"sigap_webhook_notifications_total" in plain
