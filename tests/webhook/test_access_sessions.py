"""Sessions live in the database, so what ends them ends them: logout, a password change,
disabling the user, the idle and the absolute lifetime. API tokens expire, can be revoked, and die
with their user. The CLI commands do it and log it. CSRF tokens belong to one session."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from tests.webhook.access_app import (
    PASSWORD,
    Service,
    csrf_of,
    login,
    running,
    session_cookie,
    use_cookie,
)
from webhook.store.models import ApiToken, User, WebSession
from webhook.web.keys import DATABASE


async def cli(service: Service, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """`sigap-webhook ARGS` in its own process, on the service's database."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "webhook.cli",
        *args,
        env=service.env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin.encode())
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def board_status(service: Service) -> int:
    return (await service.client.get("/", allow_redirects=False)).status


async def api_status(service: Service, token: str) -> int:
    response = await service.client.get(
        "/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status


async def test_a_cookie_kept_after_logout_no_longer_opens_anything(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        client = service.client
        assert await login(client, "sari") == 303
        kept = session_cookie(client)
        csrf = await csrf_of(client)
        logout = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
        assert logout.status == 303
        use_cookie(client, kept)
        assert await board_status(service) == 303  # back to the login page


async def test_a_password_change_ends_every_session_of_that_user(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        client = service.client
        assert await login(client, "sari") == 303
        sari = session_cookie(client)
        client.session.cookie_jar.clear()
        assert await login(client, "koord") == 303
        koord = session_cookie(client)
        change = ["user", "add", "sari", "--role", "staff", "--password-stdin"]
        code, out, err = await cli(service, *change, stdin="baru-456\n")
        assert code == 0, err
        assert "1 web session(s) ended" in out
        assert "user updated" in err and "password_changed=True" in err  # logged
        use_cookie(client, sari)
        assert await board_status(service) == 303
        use_cookie(client, koord)  # someone else's session lives on
        assert await board_status(service) == 200
        client.session.cookie_jar.clear()
        assert await login(client, "sari", PASSWORD) == 401
        assert await login(client, "sari", "baru-456") == 303


async def test_disabling_a_leaver_ends_sessions_and_tokens_for_good(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        client = service.client
        assert await login(client, "sari") == 303
        kept = session_cookie(client)
        assert await api_status(service, service.tokens["sari"]) == 200
        code, out, err = await cli(service, "user", "disable", "sari")
        assert code == 0, err
        assert "1 web session(s) ended, 1 token(s) revoked" in out
        assert "user disabled" in err
        use_cookie(client, kept)
        assert await board_status(service) == 303
        assert await api_status(service, service.tokens["sari"]) == 401
        client.session.cookie_jar.clear()
        assert await login(client, "sari") == 401
        code, out, err = await cli(service, "user", "enable", "sari")
        assert code == 0, err
        assert await login(client, "sari") == 303  # the person may log in again...
        assert await api_status(service, service.tokens["sari"]) == 401  # ...old tokens stay dead
        use_cookie(client, kept)
        assert await board_status(service) == 303  # and so do old sessions


async def test_idle_and_absolute_lifetimes_end_a_session(tmp_path: Path) -> None:
    async with running(
        tmp_path, SIGAP_SESSION_IDLE_TIMEOUT="30m", SIGAP_SESSION_LIFETIME="8h"
    ) as service:
        client, database = service.client, service.app[DATABASE]
        assert await login(client, "sari") == 303
        now = datetime.now(UTC)

        async def age(last_seen: timedelta, created: timedelta) -> None:
            """Move the session back in time (as if the clock had run on)."""
            async with database.write() as session:
                await session.execute(
                    update(WebSession).values(
                        last_seen_at=now - last_seen, expires_at=now - created + timedelta(hours=8)
                    )
                )

        await age(timedelta(minutes=29), timedelta(hours=1))
        assert await board_status(service) == 200
        async with database.read() as session:  # the use was recorded: idle time starts over
            seen = (await session.execute(select(WebSession.last_seen_at))).scalar_one()
        assert seen >= now - timedelta(seconds=5)
        await age(timedelta(minutes=31), timedelta(hours=1))
        assert await board_status(service) == 303  # idle too long
        client.session.cookie_jar.clear()
        assert await login(client, "sari") == 303
        await age(timedelta(minutes=1), timedelta(hours=8, minutes=1))
        assert await board_status(service) == 303  # used all along, but past the lifetime


async def test_csrf_token_belongs_to_its_session_and_odd_values_are_403(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        client = service.client
        assert await login(client, "sari") == 303
        old_csrf = await csrf_of(client)
        client.session.cookie_jar.clear()
        assert await login(client, "sari") == 303
        assert old_csrf != await csrf_of(client)
        for forged in (old_csrf, "", "ü" * 43, "\x00"):
            response = await client.post("/logout", data={"csrf": forged}, allow_redirects=False)
            assert response.status == 403, forged
        assert await board_status(service) == 200  # still logged in


async def test_every_logout_button_carries_the_sessions_csrf(tmp_path: Path) -> None:
    """The form page and the refusal page had an empty token: logging out from them failed."""
    async with running(tmp_path) as service:
        client = service.client
        assert await login(client, "koord") == 303
        created = await client.post(
            "/api/v1/incidents",
            json={"skpd": "dinkes", "description": "kabel putus"},
            headers={"Authorization": f"Bearer {service.tokens['koord']}"},
        )
        incident = (await created.json())["id"]
        csrf = await csrf_of(client, f"/incidents/{incident}")
        refused = await client.post(
            f"/incidents/{incident}/actions/close", data={"csrf": csrf}, allow_redirects=False
        )
        assert refused.status == 409
        page = await refused.text()
        assert f'name="csrf" value="{csrf}"' in page
        response = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
        assert response.status == 303
        assert await board_status(service) == 303


async def test_tokens_expire_are_listed_revoked_and_record_their_use(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        code, token, err = await cli(service, "token", "create", "koord")
        assert code == 0, err
        token = token.strip()
        assert "token created" in err and "expires=" in err
        async with service.app[DATABASE].read() as session:
            row = (await session.execute(select(ApiToken).order_by(ApiToken.id.desc()))).scalars()
            newest = next(iter(row))
        assert newest.expires_at is not None
        assert timedelta(days=89) < newest.expires_at - datetime.now(UTC) <= timedelta(days=90)
        assert await api_status(service, token) == 200
        code, listing, _ = await cli(service, "token", "list", "koord")
        lines = [line.split("\t") for line in listing.strip().splitlines()]
        assert lines[0][:3] == ["ID", "USER", "STATE"]
        assert [line[2] for line in lines[1:]] == ["active", "active"]
        assert lines[-1][5] != "-"  # last used: just now
        assert token not in listing and service.tokens["koord"] not in listing

        code, never, _ = await cli(service, "token", "create", "koord", "--expires", "never")
        assert code == 0
        async with service.app[DATABASE].write() as session:  # the 90 days have passed
            await session.execute(
                update(ApiToken)
                .where(ApiToken.id == newest.id)
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert await api_status(service, token) == 401
        assert await api_status(service, never.strip()) == 200

        code, out, err = await cli(service, "token", "revoke", "koord", "--id", str(newest.id + 1))
        assert (code, out.strip()) == (0, "1 token(s) of koord revoked"), err
        assert "tokens revoked" in err
        assert await api_status(service, never.strip()) == 401
        assert await api_status(service, service.tokens["koord"]) == 200  # only that one
        code, out, _ = await cli(service, "token", "revoke", "koord")
        assert out.strip() == "2 token(s) of koord revoked"  # the first one and the expired one
        assert await api_status(service, service.tokens["koord"]) == 401
        code, _, err = await cli(service, "token", "create", "koord", "--expires", "soon")
        assert code == 2 and "expected e.g. 90d" in err


async def test_names_that_differ_by_case_or_space_are_refused(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        for name in ("Sari", " sari", "sari "):
            code, _, err = await cli(service, "user", "add", name, "--role", "staff")
            assert code != 0, name
        admin = ["user", "add", "x", "--role", "skpd_admin", "--skpd", "nope"]
        code, _, err = await cli(service, *admin)
        assert code != 0 and "unknown SKPD" in err
        async with service.app[DATABASE].read() as session:
            names = sorted((await session.execute(select(User.name))).scalars())
        assert names == ["budi", "koord", "sari"]
