"""The login as an attacker tries it: throttled per address and per name without locking the real
person out, names that differ by case or space share a bucket, the state stays small and expires,
unknown names cost as much as known ones, redirects never leave the site, and the proxy's forwarded
address is believed only from a trusted proxy (then cookies are Secure behind https)."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.webhook.access_app import PASSWORD, login, running
from webhook.web.ui.login import THROTTLE, LoginThrottle, client_key, local_path


def via(address: str, proto: str = "http") -> dict[str, str]:
    """What the reverse proxy adds for a client at `address`."""
    return {"X-Forwarded-For": address, "X-Forwarded-Proto": proto}


async def test_hammering_a_name_from_one_address_does_not_lock_out_its_owner(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, SIGAP_TRUSTED_PROXIES="127.0.0.1") as service:
        client = service.client
        attacker, owner = via("203.0.113.66"), via("198.51.100.7")
        for _ in range(5):
            assert await login(client, "sari", "tebak", headers=attacker) == 401
        for variant in ("sari", "Sari", "sari ", " SARI\t"):  # one person, one bucket
            assert await login(client, variant, PASSWORD, headers=attacker) == 429
        assert await login(client, "sari", PASSWORD, headers=owner) == 303


async def test_one_address_spraying_names_is_stopped_and_its_state_stays_small(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, SIGAP_TRUSTED_PROXIES="127.0.0.1") as service:
        client, throttle = service.client, service.app[THROTTLE]
        statuses = [
            await login(client, f"user{i}", "x", headers=via("203.0.113.9")) for i in range(40)
        ]
        assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
        # 20 names got a bucket, not 40 (nor the 100k of an all-night run): per name and per
        # address-and-name, plus the address's own.
        assert len(throttle) <= 2 * 20 + 1
        assert await login(client, "sari", PASSWORD, headers=via("198.51.100.7")) == 303
        # An IPv6 client cannot dodge the address bucket by hopping inside its /64.
        assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9")


def test_the_throttle_forgets_after_its_window() -> None:
    """The throttle reads SIGAP's clock: the test moves it, no sleeping."""
    now = [datetime(2026, 12, 7, 8, 0, tzinfo=UTC)]
    throttle = LoginThrottle(lambda: now[0])
    for _ in range(5):
        throttle.failed("203.0.113.1", "sari")
    assert throttle.blocked("203.0.113.1", "sari")
    now[0] += timedelta(minutes=11)  # two 5-minute windows later
    assert not throttle.blocked("203.0.113.1", "sari")
    now[0] += timedelta(hours=3)  # past the per-name hour too
    throttle.failed("203.0.113.1", "koord")  # the expiry pass runs on a hit
    assert list(throttle.pairs) == [("203.0.113.1", "koord")]
    assert list(throttle.addresses) == ["203.0.113.1"]
    assert list(throttle.names) == ["koord"]
    assert len(throttle) == 3  # only the fresh counters are left


async def test_an_unknown_name_costs_the_same_time_as_a_known_one(tmp_path: Path) -> None:
    async with running(tmp_path, SIGAP_TRUSTED_PROXIES="127.0.0.1") as service:
        client = service.client

        async def timed(name: str, n: int) -> float:
            start = time.perf_counter()
            status = await login(client, name, "salah", headers=via(f"198.51.100.{n}"))
            assert status == 401
            return time.perf_counter() - start

        known, unknown = [], []
        for n in range(10):  # interleaved, so load on the machine hits both alike
            known.append(await timed("sari", n + 1))
            unknown.append(await timed("nobody-here", n + 101))
        a, b = statistics.median(known), statistics.median(unknown)
        assert abs(a - b) / max(a, b) < 0.3, (known, unknown)


async def test_password_hashing_leaves_the_event_loop_free(tmp_path: Path) -> None:
    async with running(tmp_path, SIGAP_TRUSTED_PROXIES="127.0.0.1") as service:
        client = service.client
        logins = [
            asyncio.create_task(login(client, "sari", "salah", headers=via(f"198.51.100.{n}")))
            for n in range(1, 7)
        ]
        await asyncio.sleep(0.02)
        start = time.perf_counter()
        healthy = await client.get("/-/healthy")
        waited = time.perf_counter() - start
        assert healthy.status == 200
        assert not all(task.done() for task in logins)  # answered while hashes still ran
        assert await asyncio.gather(*logins) == [401] * 6
        assert waited < 0.1


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "\n//evil.example",
        "/\r\n/evil.example",
        " //evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "/.//evil.example",
        "/%2e//evil.example",
        "/a/..//evil.example",
    ],
)
def test_redirects_never_leave_the_site(target: str) -> None:
    path = local_path(target)
    assert path.startswith("/") and not path.startswith("//") and "\\" not in path


def test_paths_of_the_site_are_kept() -> None:
    assert local_path("/incidents/3?lang=en") == "/incidents/3?lang=en"
    assert local_path("/laporan?bulan=2026-11") == "/laporan?bulan=2026-11"


async def test_the_login_redirects_only_inside_the_site(tmp_path: Path) -> None:
    async with running(tmp_path) as service:
        response = await service.client.post(
            "/login",
            data={"name": "sari", "password": PASSWORD, "next": "/\t/evil.example"},
            allow_redirects=False,
        )
        assert response.status == 303
        assert response.headers["Location"] in ("/", "/evil.example")


async def test_forwarded_headers_are_believed_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    """Untrusted: a spoofed X-Forwarded-For must not give a fresh bucket, nor -Proto Secure."""

    async def attempts(trusted: str) -> tuple[list[int], str]:
        (tmp_path / trusted).mkdir()
        async with running(tmp_path / trusted, SIGAP_TRUSTED_PROXIES=trusted) as service:
            client = service.client
            statuses = [
                await login(client, "sari", "salah", headers=via(f"203.0.113.{n}", "https"))
                for n in range(6)
            ]
            client.session.cookie_jar.clear()
            response = await client.post(
                "/login",
                data={"name": "koord", "password": PASSWORD},
                headers=via("198.51.100.1", "https"),
                allow_redirects=False,
            )
            return statuses, response.headers.get("Set-Cookie", "")

    statuses, cookie = await attempts("10.0.0.0")
    assert statuses == [401] * 5 + [429]  # all one client: 127.0.0.1
    assert "Secure" not in cookie and "HttpOnly" in cookie
    statuses, cookie = await attempts("127.0.0.1")
    assert statuses == [401] * 6  # six clients behind the proxy
    assert "Secure" in cookie and "SameSite=Lax" in cookie
