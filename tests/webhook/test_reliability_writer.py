"""No client holds the writer: a request's body is read and its sender known before it may
take the write transaction, so a slow upload or a stranger never delays Alertmanager; and a
locked database answers 503 + Retry-After within SIGAP_DATABASE_TIMEOUT + 1 s, however many
writers queue before it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from tests.webhook.reliability import (
    HEADERS,
    alert,
    counts,
    live_webhook,
    notification,
    settings_for,
)
from webhook.core.credentials import hash_token
from webhook.store.models import ApiToken, User
from webhook.web.keys import DATABASE

API_TOKEN = "sigap_writer-test-token"


async def _staff_token(app: object) -> None:
    now = datetime.now(UTC)
    async with app[DATABASE].write() as session:  # type: ignore[index]
        user = User(name="sari", role="staff", skpds=[], active=True, created_at=now)
        session.add(user)
        await session.flush()
        session.add(
            ApiToken(user_id=user.id, token_hash=hash_token(API_TOKEN), created_at=now, active=True)
        )


async def _trickle(url: str, path: str, headers: dict[str, str], seconds: float) -> bytes:
    """A client on a weak connection: the headers, then one byte of body now and then."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = b'{"reporter": "sari"}'
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{head}\r\n".encode()
    )
    await writer.drain()
    pause = seconds / len(body)
    for byte in body[:-1]:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(pause)
    answer = await reader.read(200)
    writer.close()
    return answer


async def test_a_slow_upload_never_delays_alertmanager(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'sigap.db'}", SIGAP_BODY_TIMEOUT="2s")
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        await _staff_token(hook.app)
        async with http.post(
            hook.receiver, json=notification([alert("dinkes", "gw")]), headers=HEADERS
        ) as r:
            incident = (await r.json())["opened"][0]
        slow = [
            asyncio.create_task(
                _trickle(
                    hook.url,
                    f"/api/v1/incidents/{incident}/actions/confirm",
                    {"Authorization": f"Bearer {API_TOKEN}"},
                    seconds=4,
                )
            )
            for _ in range(3)
        ]
        await asyncio.sleep(0.3)  # the slow bodies are under way
        waits = []
        for i in range(20):  # a storm meanwhile: each answered at once, not after the uploads
            started = time.perf_counter()
            body = notification([alert(f"skpd{i}", f"node{i}")])
            async with http.post(hook.receiver, json=body, headers=HEADERS) as response:
                assert response.status == 200, await response.text()
            waits.append(time.perf_counter() - started)
        assert max(waits) < 1.0, f"Alertmanager waited {max(waits):.2f} s behind a slow client"
        answers = await asyncio.gather(*slow)
        # the trickling clients give up the body within SIGAP_BODY_TIMEOUT: 408, nothing written
        assert all(a.startswith(b"HTTP/1.1 408") for a in answers), answers
        assert (await counts(hook.app)).incidents_by_skpd["dinkes"] == 1


async def test_strangers_never_queue_on_the_lock_and_alertmanager_gets_503_in_time(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sigap.db"
    settings = settings_for(f"sqlite:///{db}", SIGAP_DATABASE_TIMEOUT="2s")
    async with live_webhook(settings) as hook, aiohttp.ClientSession() as http:
        await _staff_token(hook.app)
        locker = sqlite3.connect(db, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # another process holds the database's write lock
        try:
            started = time.perf_counter()

            async def forged_link() -> tuple[int, float]:
                async with http.post(f"{hook.url}/l/bm90LWEtbGluaw.Zm9yZ2Vk", data={}) as r:
                    return r.status, time.perf_counter() - started

            async def stranger_api() -> tuple[int, float]:
                url = f"{hook.url}/api/v1/incidents/1/actions/cancel"
                async with http.post(url, json={"reason": "x"}) as r:
                    return r.status, time.perf_counter() - started

            async def staff_move(n: int) -> tuple[int, float]:  # real writers that must queue
                url = f"{hook.url}/api/v1/incidents/{n}/actions/cancel"
                headers = {"Authorization": f"Bearer {API_TOKEN}"}
                async with http.post(url, json={"reason": "x"}, headers=headers) as r:
                    return r.status, time.perf_counter() - started

            async def alertmanager() -> tuple[int, float, str | None]:
                await asyncio.sleep(0.2)  # behind the queued writers
                body = notification([alert("dinkes", "gw")])
                async with http.post(hook.receiver, json=body, headers=HEADERS) as r:
                    return r.status, time.perf_counter() - started, r.headers.get("Retry-After")

            results = await asyncio.gather(
                *(forged_link() for _ in range(3)),
                *(stranger_api() for _ in range(3)),
                *(staff_move(n) for n in range(1, 6)),
                alertmanager(),
            )
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        *links, s1, s2, s3 = results[:6]
        for status, seconds in [*links, s1, s2, s3]:
            assert status in (401, 403), status
            assert seconds < 0.5, f"an unauthenticated request waited {seconds:.2f} s"
        for status, seconds in results[6:11]:
            assert status == 503 and seconds < 2 + 1
        am_status, am_seconds, retry_after = results[11]
        assert am_status == 503 and retry_after, "Alertmanager must be told to retry"
        assert am_seconds < 0.2 + 2 + 1, f"Alertmanager's 503 took {am_seconds:.2f} s"
        # the lock is gone: Alertmanager's retry is recorded
        async with http.post(
            hook.receiver, json=notification([alert("dinkes", "gw")]), headers=HEADERS
        ) as response:
            assert response.status == 200
