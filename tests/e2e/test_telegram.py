"""End to end on the lab, in Telegram (issue 21): a cut uplink pages the staff member on duty in
her Telegram chat (the stand-in Bot API server, tests/webhook/telegram_standin.py, with the
real python-telegram-bot client of the webhook pointed at it); her press on *Tangani*
acknowledges (on the timeline; the paging chain stops); the webhook is killed with SIGKILL
between the press and the edit of her message, and after the restart the edit, owed in the
outbox, is sent and the press is not made twice; the SKPD's admin answers the confirmation
question, the staff member confirms F-01 with one press, and F-01 shows the answer.

The real exporter, Prometheus (shipped rules), Alertmanager (shipped config) and the webhook
(`sigap-webhook`), people and the roster set with its CLI, each person linking their chat as
the README says (log in, /akun, the deep link's `/start <code>`).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import os
import re
import secrets
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.e2e import harness
from tests.e2e.harness import Service, wait_for
from tests.webhook.telegram_standin import BOT_USERNAME, Sent, start, stop

pytestmark = [pytest.mark.e2e, pytest.mark.root]

T = TypeVar("T")
WITA = ZoneInfo("Asia/Makassar")
TOKEN = "123456789:AAHe2e-stand-in-token-for-sigap_0123"
SARI, KOORD, BUDI = 5101, 5102, 5103
PASSWORD = "e2e-password-0"
ACK_TIMEOUT = 20.0
LEASE = 8.0
"""`notify: lease`: after a kill -9, a claimed message is anyone's again this much later."""
NODES = 4
INVENTORY = """
probe: {interval: 1s, timeout: 1s, down_after: 3}
core:
  nodes:
    - {id: core-router, address: 198.18.0.1, role: core, owner: diskominfo}
skpd:
  - id: dinkes
    name: Dinas Kesehatan
    contacts:
      - {name: Budi Santoso, role: admin, phone: "+62 812 5005 1185"}
    nodes:
      - {id: uplink-dinkes, address: 198.18.5.1, role: uplink, owner: diskominfo,
         parent: core-router}
      - {id: gw-dinkes, address: 198.18.5.2, role: gateway, owner: diskominfo,
         parent: uplink-dinkes}
      - {id: sw-dinkes, address: 198.18.5.10, role: switch, owner: skpd, parent: gw-dinkes}
"""


class Telegram:
    """The stand-in Bot API server on its own thread and event loop (the test is synchronous)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.bot, self.runner = self.run(start(TOKEN))

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(30)

    def call(self, method: Any, *args: Any) -> Any:
        return self.run(_call(method, *args))

    def close(self) -> None:
        """Stop the server, its loop's executor threads and the loop's thread: nothing of it
        may run on while pytest finishes (CPython 3.11's parser and a live thread collide)."""
        self.run(stop(self.bot, self.runner))
        self.run(self.loop.shutdown_default_executor())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        assert not self.thread.is_alive()
        self.loop.close()

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.bot.calls("sendMessage") if int(s.params["chat_id"]) == chat_id]

    def with_buttons(self, chat_id: int, words: str) -> Sent | None:
        return next(
            (
                s
                for s in self.to(chat_id)
                if s.message_id and words in str(s.params["text"]) and self.bot.buttons(s)
            ),
            None,
        )

    def text_of(self, sent: Sent) -> str:
        return str(self.bot.messages[(int(sent.params["chat_id"]), sent.message_id or 0)]["text"])

    def press(self, user_id: int, sent: Sent, label: str) -> str:
        """Press `label` on `sent`; the callback query's id."""
        data = dict(self.bot.buttons(sent))[label]
        chat_id = int(sent.params["chat_id"])
        query: str = self.run(self.bot.press(user_id, chat_id, sent.message_id or 0, data))
        return query

    def answer_to(self, query_id: str) -> str | None:
        for sent in self.bot.calls("answerCallbackQuery"):
            if sent.params.get("callback_query_id") == query_id:
                return str(sent.params.get("text", ""))
        return None

    def reply(self, user_id: int, text: str) -> str:
        before = len(self.to(user_id))
        self.run(self.bot.type_text(user_id, text))
        return wait_for(
            f"the bot's answer to {text!r}",
            lambda: (
                str(self.to(user_id)[before].params["text"])
                if len(self.to(user_id)) > before
                else None
            ),
            15,
            step=0.1,
        )


async def _call(method: Any, *args: Any) -> Any:
    return method(*args)


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("telegram") / "inventory.yml"
    path.write_text(INVENTORY)
    return path


@pytest.fixture(scope="module")
def lab(inventory: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with harness.own_lab(inventory, tmp_path_factory.mktemp("lab")) as built:
        yield built


@pytest.fixture(scope="module")
def telegram() -> Iterator[Telegram]:
    server = Telegram()
    try:
        yield server
    finally:
        server.close()


class Stack:
    """Webhook (Telegram on), Alertmanager, exporter and Prometheus; the webhook can be killed
    and started again on the same database."""

    def __init__(self, workdir: Path, inventory: Path, api_url: str) -> None:
        self.workdir, self.inventory, self.token = workdir, inventory, secrets.token_urlsafe(24)
        self.port = harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = harness.webhook_env(
            workdir, self.token,
            SIGAP_INVENTORY=str(inventory), SIGAP_EXTERNAL_URL=self.url,
            SIGAP_TELEGRAM_BOT_TOKEN=TOKEN, SIGAP_TELEGRAM_API_URL=api_url,
        )  # fmt: skip
        config = {
            "notify": {"retries": 5, "backoff": "500ms", "lease": f"{LEASE:g}s", "poll": "500ms"},
            "paging": {"ack_timeout": f"{ACK_TIMEOUT:g}s", "interval": "1s"},
        }
        self.config = workdir / "webhook.yml"
        self.config.write_text(yaml.safe_dump(config))
        self.services: list[Service] = []
        try:
            self.webhook = self.start_webhook()
            self.alertmanager = self._add(
                harness.start_alertmanager(workdir, webhook_url=self.url, token=self.token)
            )
            self.exporter = self._add(harness.start_exporter(workdir, inventory))
            self.prometheus = self._add(
                harness.start_prometheus(
                    workdir, exporter=self.exporter.url, alertmanager=self.alertmanager.url
                )
            )
            for name, role, *skpd in (
                ("sari", "staff"), ("koord", "coordinator"), ("budi", "skpd_admin", "dinkes")
            ):  # fmt: skip
                extra = ["--skpd", skpd[0]] if skpd else []
                self.cli("user", "add", name, "--role", role, *extra, "--password-stdin",
                         stdin=f"{PASSWORD}\n")  # fmt: skip
            self.api_token = self.cli("token", "create", "koord").strip().splitlines()[-1]
        except BaseException:
            self.stop()
            raise

    def start_webhook(self) -> Service:
        argv = [
            harness.which(harness.WEBHOOK) or harness.WEBHOOK,
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--config.file={self.config}",
        ]
        return self._add(
            harness.start(
                "webhook", argv, workdir=self.workdir, url=self.url, env=self.env, timeout=90
            )
        )

    def _add(self, service: Service) -> Service:
        self.services.append(service)
        return service

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def cli(self, *args: str, stdin: str | None = None) -> str:
        env = {**os.environ, **self.env}
        argv = [harness.which(harness.WEBHOOK) or harness.WEBHOOK, "--log.level", "warning", *args]
        done = subprocess.run(
            argv, env=env, cwd=self.workdir, input=stdin, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def api(self, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}{path}")
        request.add_header("Authorization", f"Bearer {self.api_token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def value(self, promql: str) -> float | None:
        url = f"{self.prometheus.url}/api/v1/query?query={urllib.parse.quote(promql)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            result = json.load(response)["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def browser(self, name: str) -> urllib.request.OpenerDirector:
        """A person logged in to SIGAP's pages (a cookie jar)."""
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        form = urllib.parse.urlencode({"name": name, "password": PASSWORD, "next": "/akun"})
        opener.open(f"{self.url}/login", data=form.encode(), timeout=10).read()
        return opener

    def link(self, name: str, telegram_id: int, telegram: Telegram) -> None:
        """What the README says a person does: /akun, «Hubungkan Telegram», the deep link."""
        opener = self.browser(name)
        page = opener.open(f"{self.url}/akun", timeout=10).read().decode()
        csrf = re.search(r'name="csrf" value="([^"]*)"', page)
        assert csrf is not None, page
        body = urllib.parse.urlencode({"csrf": csrf[1]}).encode()
        page = opener.open(f"{self.url}/akun/telegram", data=body, timeout=10).read().decode()
        code = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)", page)
        assert code is not None, page
        assert "Terhubung" in telegram.reply(telegram_id, f"/start {code[1]}")


@pytest.fixture(scope="module")
def stack(
    lab: Any, inventory: Path, telegram: Telegram, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    missing = harness.missing_binaries()
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (bash scripts/setup.sh)")
    running = Stack(tmp_path_factory.mktemp("stack"), inventory, telegram.bot.url)
    try:
        yield running
    finally:
        running.stop()


def events(detail: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in detail["events"] if e["kind"] == kind]


def test_a_cut_pages_telegram_a_press_acknowledges_through_a_kill_and_the_skpd_confirms(
    lab: Any, stack: Stack, telegram: Telegram, capsys: pytest.CaptureFixture[str]
) -> None:
    began = (datetime.now(UTC) - timedelta(hours=1)).astimezone(WITA)
    stack.cli(
        "roster", "set", "sari", "--shift", "daily",
        "--handover", began.strftime("%H:%M"), "--from", began.date().isoformat(),
    )  # fmt: skip
    for name, telegram_id in (("sari", SARI), ("koord", KOORD), ("budi", BUDI)):
        stack.link(name, telegram_id, telegram)
    wait_for(
        f"all {NODES} nodes up in Prometheus",
        lambda: stack.value("count(sigap_node_up == 1)") == NODES,
        timeout=60,
    )

    lab.cut("uplink-dinkes")
    try:
        cut_at = time.monotonic()
        incident = wait_for(
            "an incident of dinkes", lambda: stack.api("/api/v1/incidents?skpd=dinkes")[
                "incidents"], 90)[0]  # fmt: skip
        incident_id = int(incident["id"])
        opened = time.monotonic()
        page = wait_for(
            "sari's page in Telegram",
            lambda: telegram.with_buttons(SARI, f"[SIGAP #{incident_id}]"),
            10,
            step=0.05,
        )
        paged = page.at
        assert [label for label, _ in telegram.bot.buttons(page)] == ["Tangani"]
        question = wait_for(
            "budi's confirmation question",
            lambda: telegram.with_buttons(BUDI, "Apakah internet/intranet di kantor Anda"),
            10,
            step=0.05,
        )

        # sari presses Tangani; the webhook dies (SIGKILL) with the edit of her page in flight
        telegram.call(telegram.bot.hold, "editMessageText")
        query = telegram.press(SARI, page, "Tangani")
        answer = wait_for("the press answered", lambda: telegram.answer_to(query), 15, step=0.05)
        assert answer.startswith("Tangani oleh sari"), answer
        wait_for("the edit sent", lambda: telegram.bot.calls("editMessageText"), 15, step=0.05)
        os.kill(stack.webhook.process.pid, signal.SIGKILL)
        stack.webhook.process.wait(10)
        telegram.call(telegram.bot.release, "editMessageText")
        killed = time.monotonic()
        assert "✅" not in telegram.text_of(page)  # the edit died with the webhook
        stack.webhook = stack.start_webhook()
        edited = wait_for(
            "sari's page edited after the restart",
            lambda: "✅ Tangani oleh sari" in telegram.text_of(page),
            LEASE + 15,
            step=0.1,
        )
        assert edited and "reply_markup" not in telegram.bot.messages[(SARI, page.message_id)]
        edit_after_restart = time.monotonic() - killed
        detail = stack.api(f"/api/v1/incidents/{incident_id}")
        assert detail["holder"] == "sari"
        assert [e["actor"] for e in events(detail, "acknowledge")] == ["sari"]

        # SOP 3: budi answers in his chat; sari confirms F-01 with one press
        query = telegram.press(BUDI, question, "Ya, terputus")
        answer = wait_for("budi's answer", lambda: telegram.answer_to(query), 15, step=0.05)
        assert answer.startswith("Ya, terputus, dijawab budi"), answer
        told = wait_for(
            "the SKPD's answer to sari",
            lambda: telegram.with_buttons(SARI, "Jawaban SKPD: Ya, terputus (budi"),
            15,
            step=0.05,
        )
        query = telegram.press(SARI, told, "Konfirmasi (F-01)")
        answer = wait_for("sari's confirm", lambda: telegram.answer_to(query), 15, step=0.05)
        assert answer.startswith("Konfirmasi (F-01) oleh sari"), answer
        detail = stack.api(f"/api/v1/incidents/{incident_id}")
        assert detail["state"] == "confirmed"
        [said] = events(detail, "answer")
        assert (said["actor"], said["data"]["answer"]) == ("budi", "down")
        f01 = stack.browser("sari").open(f"{stack.url}/incidents/{incident_id}/forms/f01")
        text = f01.read().decode()
        assert "budi (admin SKPD, chat)" in text and "Ya, terputus" in text

        # the chain stopped at the press: nobody else paged, however long
        time.sleep(max(0.0, opened + ACK_TIMEOUT + 5 - time.monotonic()))
        detail = stack.api(f"/api/v1/incidents/{incident_id}")
        assert events(detail, "page") == []
        assert telegram.with_buttons(KOORD, f"[SIGAP #{incident_id}]") is None
        assert len(events(detail, "acknowledge")) == 1
    finally:
        lab.restore()

    with capsys.disabled():
        print(
            f"\ntelegram e2e: cut -> incident {opened - cut_at:.1f} s; page in Telegram "
            f"{paged - opened:.2f} s after the API showed it; the edit owed across the kill "
            f"sent {edit_after_restart:.1f} s after it (lease {LEASE:g} s)"
        )
