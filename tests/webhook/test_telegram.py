"""Telegram both ways (issue 21), with the real python-telegram-bot client pointed at a stand-in
Bot API server on 127.0.0.1 (`tests/webhook/telegram_standin.py`): a person links their chat
from their SIGAP page, an outage pages the staff on duty there with a *Tangani* button, a press
acknowledges it and the message is edited; flood control, forged and stale buttons, unlinked
chats, redelivered updates and the commands."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.webhook.access_app import INVENTORY as EXAMPLE
from tests.webhook.access_app import Service, csrf_of, login, running
from tests.webhook.telegram_standin import BOT_USERNAME, Sent, StandIn, start, stop
from webhook.core.chat import sign_button
from webhook.core.workflow import Role
from webhook.services.leadership import Leadership
from webhook.services.telegram import Telegram
from webhook.store.models import Incident, Notification
from webhook.store.moves import make_move as store_move
from webhook.usecases import incidents as incident_uses
from webhook.usecases import roster as roster_uses
from webhook.usecases.context import Actor
from webhook.web.keys import DATABASE, RESOURCES
from webhook.web.telegram import Door, poll

INVENTORY = Path(EXAMPLE)
TOKEN = "123456789:AAHstand-in-token-for-tests_0123456"
SARI, KOORD, BUDI, STRANGER = 5001, 5002, 5003, 6666
"""Telegram user ids (each one's private chat has the same id)."""


@dataclass
class Chat:
    service: Service
    bot: StandIn

    @property
    def res(self) -> Any:
        return self.service.app[RESOURCES]

    async def link(self, name: str, telegram_id: int) -> str:
        """What `name` does: log in, make a code on /akun, send `/start <code>` to the bot."""
        client = self.service.client
        client.session.cookie_jar.clear()
        assert await login(client, name) == 303
        csrf = await csrf_of(client, "/akun")
        page = await (await client.post("/akun/telegram", data={"csrf": csrf})).text()
        found = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)", page)
        assert found is not None, page
        return await self.reply_to(telegram_id, f"/start {found[1]}")

    async def reply_to(self, telegram_id: int, text: str) -> str:
        """The bot's answer (plain text, unlike the outbox's messages) to `text`."""
        before = len(self.replies(telegram_id))
        await self.bot.type_text(telegram_id, text)
        for _ in range(1000):
            if len(self.replies(telegram_id)) > before:
                return str(self.replies(telegram_id)[before].params["text"])
            await asyncio.sleep(0.01)
        raise AssertionError(f"no answer to {text!r}")

    async def telegram_rows(
        self, incident_id: int, until: Callable[[Notification], bool]
    ) -> list[Notification]:
        """The incident's Telegram notifications, once each satisfies `until`."""
        for _ in range(500):
            async with self.service.app[DATABASE].read() as session:
                query = select(Notification).where(
                    Notification.incident_id == incident_id, Notification.channel == "telegram"
                )
                rows = list((await session.execute(query)).scalars())
            if rows and all(until(row) for row in rows):
                return rows
            await asyncio.sleep(0.02)
        raise AssertionError(f"telegram notifications of #{incident_id}: {rows}")

    def replies(self, chat_id: int) -> list[Sent]:
        return [s for s in self.to(chat_id) if "parse_mode" not in s.params]

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.bot.calls("sendMessage") if int(s.params["chat_id"]) == chat_id]

    async def page_of(self, chat_id: int, count: int = 1) -> Sent:
        for _ in range(1000):
            pages = [s for s in self.to(chat_id) if self.bot.buttons(s) and s.message_id]
            if len(pages) >= count:
                return pages[count - 1]
            await asyncio.sleep(0.01)
        raise AssertionError(f"no page reached chat {chat_id}: {self.to(chat_id)}")

    async def press(self, telegram_id: int, sent: Sent, label: str) -> str:
        """Press the button `label` of the message `sent`; the answer to the press."""
        data = dict(self.bot.buttons(sent))[label]
        before = len(self.bot.calls("answerCallbackQuery"))
        chat_id = int(sent.params["chat_id"])
        assert sent.message_id is not None
        await self.bot.press(telegram_id, chat_id, sent.message_id, data)
        answer = (await self.bot.wait_for("answerCallbackQuery", before + 1))[-1]
        return str(answer.params.get("text", ""))

    async def open_outage(self, description: str = "Router <rusak> & mati") -> int:
        budi = Actor("budi", Role.SKPD_ADMIN, ("dinkes",))
        incident, _ = await incident_uses.report(
            self.res, budi, {"skpd": "dinkes", "description": description}
        )
        return incident.id


@asynccontextmanager
async def telegram(
    tmp_path: Path, on_duty: tuple[str, ...] = ("sari",), **env: str
) -> AsyncIterator[Chat]:
    bot, runner = await start(TOKEN)
    try:
        async with running(
            tmp_path,
            SIGAP_TELEGRAM_BOT_TOKEN=TOKEN,
            SIGAP_TELEGRAM_API_URL=bot.url,
            SIGAP_EXTERNAL_URL="https://sigap.example",
            **env,
        ) as service:
            await roster_uses.put_rotation(
                service.app[RESOURCES], Actor.operator(), list(on_duty), "daily", "07:30", None
            )
            yield Chat(service, bot)
    finally:
        await stop(bot, runner)


async def test_a_page_reaches_the_linked_staff_and_a_press_acknowledges_it(tmp_path: Path) -> None:
    async with telegram(tmp_path) as chat:
        assert "Terhubung" in await chat.link("sari", SARI)
        incident_id = await chat.open_outage()
        page = await chat.page_of(SARI)
        assert page.params["parse_mode"] == "HTML"
        text = chat.bot.messages[(SARI, page.message_id or 0)]["text"]
        assert f"[SIGAP #{incident_id}]" in text
        assert [label for label, _ in chat.bot.buttons(page)] == ["Tangani"]

        answer = await chat.press(SARI, page, "Tangani")
        assert answer.startswith("Tangani oleh sari")
        edits = await chat.bot.wait_for("editMessageText")
        edited = chat.bot.messages[(SARI, page.message_id or 0)]
        assert "✅ Tangani oleh sari" in edited["text"] and "reply_markup" not in edited
        assert int(edits[0].params["message_id"]) == page.message_id

        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert shown.holder == "sari"
        assert [e.actor for e in shown.events if e.kind == "acknowledge"] == ["sari"]


async def test_names_are_escaped_for_telegrams_html(tmp_path: Path) -> None:
    """An SKPD named with `<` and `&` reaches the chat as written, page and edit alike (the
    stand-in refuses HTML Telegram would refuse)."""
    inventory = _renamed(tmp_path, 'name: "Dinas <Kesehatan> & KB"\n')
    async with telegram(tmp_path, SIGAP_INVENTORY=str(inventory)) as chat:
        await chat.link("sari", SARI)
        await chat.open_outage()
        page = await chat.page_of(SARI)
        assert "Dinas <Kesehatan> & KB" in chat.bot.messages[(SARI, page.message_id or 0)]["text"]
        await chat.press(SARI, page, "Tangani")
        await chat.bot.wait_for("editMessageText")
        edited = chat.bot.messages[(SARI, page.message_id or 0)]["text"]
        assert "Dinas <Kesehatan> & KB" in edited and "✅ Tangani oleh sari" in edited


def _renamed(tmp_path: Path, line: str) -> Path:
    """The example inventory with dinkes named by `line`."""
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(INVENTORY.read_text().replace("name: Dinas Kesehatan\n", line))
    return inventory


async def test_flood_control_puts_the_next_attempt_after_retry_after(tmp_path: Path) -> None:
    async with telegram(tmp_path) as chat:
        await chat.link("sari", SARI)
        chat.bot.fail("sendMessage", 429, retry_after=5)  # longer than the 2 s backoff
        incident_id = await chat.open_outage()
        refused = (await chat.bot.wait_for("sendMessage", 2))[-1]  # the link reply, then the 429
        page = await chat.page_of(SARI)
        waited = page.at - refused.at
        assert 5.0 <= waited < 7.0, f"sent again after {waited:.2f} s; Telegram said 5 s"
        rows = await chat.telegram_rows(incident_id, until=lambda r: r.status == "sent")
        assert [(row.attempts, row.status) for row in rows] == [(2, "sent")]


async def test_a_forged_or_tampered_button_moves_nothing(tmp_path: Path) -> None:
    async with telegram(tmp_path) as chat:
        await chat.link("sari", SARI)
        incident_id = await chat.open_outage()
        page = await chat.page_of(SARI)
        genuine = dict(chat.bot.buttons(page))["Tangani"]
        tampered = genuine[:5] + ("A" if genuine[5] != "A" else "B") + genuine[6:]
        before = len(chat.bot.calls("answerCallbackQuery"))
        await chat.bot.press(SARI, SARI, page.message_id or 0, tampered)
        await chat.bot.press(SARI, SARI, page.message_id or 0, "x" * 64)
        answers = await chat.bot.wait_for("answerCallbackQuery", before + 2)
        assert all("tidak sah" in str(a.params.get("text")) for a in answers[before:])
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert shown.holder is None and not chat.bot.calls("editMessageText")


async def test_an_unlinked_chat_gets_only_how_to_link(tmp_path: Path) -> None:
    async with telegram(tmp_path) as chat:
        await chat.link("sari", SARI)
        incident_id = await chat.open_outage()
        page = await chat.page_of(SARI)
        for command in ("/status", "/insiden 1", "/lapor dinkes mati", "halo"):
            reply = await chat.reply_to(STRANGER, command)
            assert "belum terhubung" in reply and f"#{incident_id}" not in reply
        before = len(chat.bot.calls("answerCallbackQuery"))
        await chat.bot.press(
            STRANGER, SARI, page.message_id or 0, dict(chat.bot.buttons(page))["Tangani"]
        )
        answer = (await chat.bot.wait_for("answerCallbackQuery", before + 1))[-1]
        assert "belum terhubung" in str(answer.params["text"])
        assert "tidak berlaku" in await chat.reply_to(STRANGER, "/start bukan-kode-yang-benar")
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert shown.holder is None


async def test_a_code_links_once_and_expires(tmp_path: Path) -> None:
    async with telegram(tmp_path) as chat:
        client = chat.service.client
        assert await login(client, "sari") == 303
        csrf = await csrf_of(client, "/akun")
        page = await (await client.post("/akun/telegram", data={"csrf": csrf})).text()
        code = re.search(r"/start ([A-Za-z0-9_-]+)", page)
        assert code is not None
        assert "Terhubung" in await chat.reply_to(SARI, f"/start {code[1]}")
        assert "tidak berlaku" in await chat.reply_to(STRANGER, f"/start {code[1]}")
        assert "Belum terhubung" not in await (await client.get("/akun")).text()


async def test_a_redelivered_press_moves_nothing_twice(tmp_path: Path) -> None:
    async with telegram(tmp_path, on_duty=("koord",)) as chat:
        await chat.link("koord", KOORD)
        incident_id = await chat.open_outage()
        page = await chat.page_of(KOORD)
        data = dict(chat.bot.buttons(page))["Tangani"]
        update = {
            "update_id": 777,
            "callback_query": {
                "id": "cq-redelivered", "chat_instance": "1", "data": data,
                "from": {"id": KOORD, "is_bot": False, "first_name": "Koord"},
                "message": chat.bot.messages[(KOORD, page.message_id or 0)],
            },
        }  # fmt: skip
        await chat.bot.push(dict(update))
        await chat.bot.wait_for("answerCallbackQuery")
        await chat.bot.wait_for("editMessageText")
        polls = chat.bot.polls
        # Telegram sends it again (two replicas briefly both leading, say)
        await chat.bot.push(dict(update), redelivery=True)
        await chat.bot.polled(polls + 1)
        assert not chat.bot.updates, "the redelivered update was not fetched"
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert [e.kind for e in shown.events].count("acknowledge") == 1
        assert len(chat.bot.calls("answerCallbackQuery")) == 1
        assert len(chat.bot.calls("editMessageText")) == 1


async def test_two_people_press_tangani_at_once_one_wins(tmp_path: Path) -> None:
    async with telegram(tmp_path) as chat:
        await chat.link("sari", SARI)
        await chat.link("koord", KOORD)
        incident_id = await chat.open_outage()
        sari_page = await chat.page_of(SARI)
        # koord holds the button the next step of the chain would send (a group's alike)
        now = chat.res.clock()
        koord_data = sign_button(
            chat.res.settings.secret_key, incident_id, "acknowledge", "opened", None, now,
            timedelta(hours=1),
        )  # fmt: skip
        before = len(chat.bot.calls("answerCallbackQuery"))
        await asyncio.gather(
            chat.bot.press(
                SARI, SARI, sari_page.message_id or 0, dict(chat.bot.buttons(sari_page))["Tangani"]
            ),
            chat.bot.press(KOORD, KOORD, 999, koord_data),
        )
        answers = await chat.bot.wait_for("answerCallbackQuery", before + 2)
        texts = sorted(str(a.params.get("text", "")) for a in answers[before:])
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert [e.kind for e in shown.events].count("acknowledge") == 1
        winner = shown.holder
        assert winner in ("sari", "koord")
        assert any(t.startswith(f"Tangani oleh {winner}") for t in texts)
        assert any(t.startswith(f"Sudah ditangani oleh {winner}") for t in texts), texts


async def test_a_button_of_a_closed_incident_says_why_and_changes_nothing(tmp_path: Path) -> None:
    async with telegram(tmp_path) as chat:
        await chat.link("sari", SARI)
        incident_id = await chat.open_outage()
        page = await chat.page_of(SARI)
        await incident_uses.make_move(
            chat.res, Actor.operator(), incident_id, "cancel", {"reason": "duplikat"}
        )
        answer = await chat.press(SARI, page, "Tangani")
        assert "Dibatalkan" in answer or "sudah berubah" in answer, answer
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert shown.holder is None and shown.state == "cancelled"


async def test_the_commands(tmp_path: Path) -> None:
    async with telegram(tmp_path) as chat:
        await chat.link("sari", SARI)
        await chat.link("budi", BUDI)
        reply = await chat.reply_to(BUDI, "/lapor Internet di ruang rapat mati & lambat")
        found = re.fullmatch(r"Laporan diterima, nomor #(\d+)\.", reply)
        assert found is not None, reply
        incident_id = int(found[1])
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert shown.skpd == "dinkes" and shown.opened_by == "budi"
        assert f"#{incident_id} Dinas Kesehatan" in await chat.reply_to(SARI, "/status")
        assert "Piket sekarang: sari" in await chat.reply_to(BUDI, "/piket")
        detail = await chat.reply_to(SARI, f"/insiden {incident_id}")
        assert f"#{incident_id}" in detail and "Ditangani: -" in detail
        # a refusal in the chat's language (Indonesian by default), from the catalogue
        assert "Insiden #99999 tidak ada" in await chat.reply_to(BUDI, "/insiden 99999")
        assert "/status" in await chat.reply_to(SARI, "/bantuan")
        assert "terlalu panjang" in await chat.reply_to(SARI, "x" * 4097)


async def test_tugaskan_asks_whom_and_dispatches_them(tmp_path: Path) -> None:
    async with telegram(tmp_path) as chat:
        await chat.link("koord", KOORD)
        await chat.link("sari", SARI)
        incident_id = await chat.open_outage()
        f01 = {
            "reporter": "budi", "contact_confirmed_with": "budi", "complaint": "mati",
            "affected_service": "internet", "reported_at": "2026-12-07T08:00:00+08:00",
        }  # fmt: skip
        for action, data in (("confirm", f01), ("report", {"responsibility": "diskominfo"})):
            await incident_uses.make_move(chat.res, Actor.operator(), incident_id, action, data)
        told = await chat.page_of(KOORD)  # SOP 4: the coordinator is told, with its moves
        assert [label for label, _ in chat.bot.buttons(told)] == ["Tangani", "Tugaskan staf"]
        await chat.press(KOORD, told, "Tugaskan staf")
        choice = await chat.page_of(KOORD, 2)
        assert "Tugaskan siapa ke insiden" in str(choice.params["text"])
        assert [label for label, _ in chat.bot.buttons(choice)] == ["koord", "sari"]
        answer = await chat.press(KOORD, choice, "sari")
        assert answer.startswith("Tugaskan staf oleh koord") and answer.endswith("→ sari")
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert (shown.state, shown.assignee) == ("dispatched", "sari")
        for _ in range(500):  # SOP 5: the assignee is told, on Telegram too
            if any("Anda ditugaskan" in str(s.params["text"]) for s in chat.to(SARI)):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"sari was not told: {chat.to(SARI)}")


async def test_only_the_leader_polls_and_it_resumes_after_the_last_update(tmp_path: Path) -> None:
    async with telegram(tmp_path) as chat:
        await chat.link("sari", SARI)
        assert "Piket sekarang" in await chat.reply_to(SARI, "/piket")
        last = max(u["update_id"] for u in chat.bot.sent_updates)
        other, runner = await start(TOKEN)  # a second replica's view of Telegram
        replica = Telegram(TOKEN, other.url)
        leadership = Leadership(chat.service.app[DATABASE])  # not leading yet
        tasks = [asyncio.create_task(poll(Door(replica, chat.res), chat.res, leadership))]
        try:
            await asyncio.sleep(0.5)
            assert other.polls == 0, "a replica that does not lead polled Telegram"
            tasks.append(asyncio.create_task(leadership.run()))  # SQLite: it leads at once
            await other.polled(1)
            assert other.offsets[0] == last + 1
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await replica.stop()
            await stop(other, runner)


async def test_webhook_mode_takes_updates_with_the_secret_only(tmp_path: Path) -> None:
    secret = "s3cret-token-of-the-webhook"
    async with telegram(tmp_path, SIGAP_TELEGRAM_WEBHOOK_SECRET=secret) as chat:
        hook = (await chat.bot.wait_for("setWebhook"))[0].params
        assert hook["url"] == "https://sigap.example/telegram/webhook"
        assert hook["secret_token"] == secret
        client = chat.service.client
        update = {
            "update_id": 55,
            "message": {
                "message_id": 1, "date": 1, "chat": {"id": STRANGER, "type": "private"},
                "from": {"id": STRANGER, "is_bot": False, "first_name": "x"}, "text": "/status",
            },
        }  # fmt: skip
        header = "X-Telegram-Bot-Api-Secret-Token"
        forged = await client.post("/telegram/webhook", json=update, headers={header: "wrong"})
        assert forged.status == 401
        assert (await client.post("/telegram/webhook", json=update)).status == 401
        assert not chat.replies(STRANGER)
        huge = await client.post(
            "/telegram/webhook", data=b"{" + b" " * 300_000 + b"}", headers={header: secret}
        )
        assert huge.status == 413
        taken = await client.post("/telegram/webhook", json=update, headers={header: secret})
        assert taken.status == 200
        assert "belum terhubung" in str(chat.replies(STRANGER)[0].params["text"])
        assert chat.bot.polls == 0, "webhook mode must not poll (Telegram refuses both)"


async def test_the_ping_check_after_the_page_leaves_its_button_working(tmp_path: Path) -> None:
    async with telegram(tmp_path) as chat:
        await chat.link("sari", SARI)
        incident_id = await chat.open_outage()
        page = await chat.page_of(SARI)
        async with chat.service.app[DATABASE].write() as session:  # SOP 2, SIGAP's own move
            incident = await session.get(Incident, incident_id)
            assert incident is not None
            await store_move(
                session, incident, "ping_check", "sigap", Role.SYSTEM,
                {"unreachable": ["uplink-dinkes"]}, chat.res.clock(),
            )  # fmt: skip
        assert (await chat.press(SARI, page, "Tangani")).startswith("Tangani oleh sari")
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert (shown.state, shown.holder) == ("ping_checked", "sari")
