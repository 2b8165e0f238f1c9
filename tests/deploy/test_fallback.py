"""The fallback receiver as shipped, Telegram block included, run by the real Alertmanager (Debian
`prometheus-alertmanager`): an alert on SIGAP itself reaches the coordinators' mailbox (a real
SMTP server, aiosmtpd) and their Telegram chat (the Bot API stand-in of the webhook's tests,
speaking Telegram's protocol and refusing HTML Telegram would refuse); an SKPD's alert reaches
neither.

Only what cannot be real here changes: the addresses, the SMTP server's TLS and login (aiosmtpd
on loopback offers neither), the bot's API URL, and `bot_token_file` becomes `bot_token` on
Alertmanager before 0.26, which does not know it."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiosmtpd.controller import Controller

from tests.e2e import harness
from tests.webhook.telegram_standin import StandIn, parse_html, start, stop

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(ALERTMANAGER is None, reason="Debian prometheus-alertmanager not installed"),
]
BOT_TOKEN = "123456789:" + "F" * 35


def uncommented_telegram(text: str) -> str:
    """alertmanager.yml with its commented `telegram_configs:` block taken in, as an operator
    does: the `# ` after the indentation removed, the lines kept where they are."""
    lines = text.splitlines()
    start_at = next(i for i, line in enumerate(lines) if line.strip() == "# telegram_configs:")
    indent = lines[start_at].index("#")
    end = start_at
    while end < len(lines) and lines[end].startswith(" " * indent + "#"):
        end += 1
    block = [line[:indent] + line[indent + 2 :] for line in lines[start_at:end]]
    return "\n".join([*lines[:start_at], *block, *lines[end:]]) + "\n"


def alertmanager_version() -> tuple[int, int]:
    assert ALERTMANAGER is not None
    done = subprocess.run([ALERTMANAGER, "--version"], capture_output=True, text=True, timeout=30)
    found = re.search(r"version (\d+)\.(\d+)", done.stdout + done.stderr)
    assert found, done.stdout + done.stderr
    return int(found[1]), int(found[2])


class Mailbox:
    """What the real SMTP server received: (recipients, subject)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), str(parsed["Subject"])))
        return "250 OK"

    def to(self, address: str) -> list[str]:
        with self.lock:
            return [subject for rcpts, subject in self.messages if address in rcpts]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), harness.free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
async def bot() -> AsyncIterator[StandIn]:
    standin, runner = await start(BOT_TOKEN)
    try:
        yield standin
    finally:
        await stop(standin, runner)


def fallback_config(tmp_path: Path, smtp_port: int, bot_url: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(
        uncommented_telegram(harness.ALERTMANAGER_CONFIG.read_text())
    )
    smtp = config["global"]
    smtp["smtp_smarthost"] = f"127.0.0.1:{smtp_port}"
    smtp["smtp_require_tls"] = False
    del smtp["smtp_auth_username"], smtp["smtp_auth_password_file"]
    receivers = {r["name"]: r for r in config["receivers"]}
    for hook in receivers["sigap-webhook"]["webhook_configs"]:  # SIGAP is down: nothing there
        hook["url"] = f"http://127.0.0.1:{harness.free_port()}/api/v1/alertmanager"
        hook["http_config"]["authorization"]["credentials_file"] = str(tmp_path / "token")
    (tmp_path / "token").write_text("t")
    (telegram,) = receivers["sigap-fallback"]["telegram_configs"]
    telegram["api_url"] = bot_url
    token_file = tmp_path / "telegram-token"
    token_file.write_text(BOT_TOKEN)
    if alertmanager_version() >= (0, 26):
        telegram["bot_token_file"] = str(token_file)
    else:
        del telegram["bot_token_file"]
        telegram["bot_token"] = BOT_TOKEN
    return config


def _alert(labels: dict[str, str], summary: str) -> dict[str, Any]:
    return {
        "labels": labels,
        "annotations": {"summary": summary},
        "startsAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        # Prometheus' link, with the & Telegram's HTML refuses unescaped.
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up%3D%3D0&g0.tab=1",
    }


def test_the_commented_telegram_block_is_the_fallback_s_and_valid() -> None:
    config = yaml.safe_load(uncommented_telegram(harness.ALERTMANAGER_CONFIG.read_text()))
    fallback = next(r for r in config["receivers"] if r["name"] == "sigap-fallback")
    (telegram,) = fallback["telegram_configs"]
    assert telegram["bot_token_file"].startswith("/etc/alertmanager/")
    assert telegram["send_resolved"] is True
    assert fallback["email_configs"], "Telegram is in addition to the e-mail, not instead"


async def test_an_alert_on_sigap_reaches_the_coordinators_by_mail_and_telegram(
    tmp_path: Path, mailbox: tuple[Mailbox, int], bot: StandIn
) -> None:
    box, smtp_port = mailbox
    config = fallback_config(tmp_path, smtp_port, bot.url)
    coordinators = next(r for r in config["receivers"] if r["name"] == "sigap-fallback")
    address = coordinators["email_configs"][0]["to"]
    chat = coordinators["telegram_configs"][0]["chat_id"]
    route = next(r for r in config["route"]["routes"] if r["receiver"] == "sigap-fallback")
    group_wait = float(route["group_wait"].removesuffix("s"))
    config_file = tmp_path / "alertmanager.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = harness.free_port()
    assert ALERTMANAGER is not None
    alertmanager = await asyncio.to_thread(
        harness.start,
        "alertmanager",
        [
            ALERTMANAGER,
            f"--config.file={config_file}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        workdir=tmp_path,
        url=f"http://127.0.0.1:{port}",
    )
    try:
        alerts = [
            _alert(
                {
                    "alertname": "SigapWebhookDown",
                    "instance": "webhook:9428",
                    "severity": "critical",
                },
                "SIGAP webhook <webhook:9428> tidak menjawab & tidak menerima alert",
            ),
            _alert(
                {"alertname": "SigapNodeDown", "skpd": "dinkes", "node": "sw-dinkes"},
                "sw-dinkes tidak dapat dijangkau",
            ),
        ]
        url = f"{alertmanager.url}/api/v2/alerts"
        async with aiohttp.ClientSession() as http, http.post(url, json=alerts) as response:
            assert response.status == 200, await response.text()
        sent = await bot.wait_for("sendMessage", within=group_wait + 20)
        assert not [m for m in sent if "SigapNodeDown" in str(m.params.get("text"))]
        message = sent[0].params
        assert int(message["chat_id"]) == chat
        text, refused = parse_html(str(message["text"]))
        assert refused is None, f"Telegram would refuse the message: {refused}\n{message['text']}"
        assert "SigapWebhookDown" in text and "FIRING" in text
        assert "<webhook:9428> tidak menjawab & tidak menerima alert" in text
        for _ in range(100):
            if box.to(address):
                break
            await asyncio.sleep(0.1)
        subjects = box.to(address)
        assert subjects and "SigapWebhookDown" in subjects[0], alertmanager.log_tail()
        # The SKPD's alert went to the (dead) webhook only: no mail, no chat message of it.
        await asyncio.sleep(2)
        assert all("SigapNodeDown" not in s for s in box.to(address))
        assert all(
            "SigapNodeDown" not in str(m.params.get("text")) for m in bot.calls("sendMessage")
        )
    finally:
        alertmanager.stop()
