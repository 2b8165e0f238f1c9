"""SOP 3 in the chat (issue 21), the group chats and each chat's language, with the real
python-telegram-bot client against the stand-in Bot API server: an alert asks the SKPD's admin
"is your office's connection down?", the answer goes on the timeline and into F-01 (staff
confirm with one press), a second answer or a stale press changes nothing; the NOC's group
gets every new outage's page and an SKPD's group its messages; an English chat is answered in
English."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.webhook.access_app import INVENTORY, login
from tests.webhook.telegram_standin import Sent
from tests.webhook.test_telegram import BUDI, KOORD, SARI, STRANGER, Chat, telegram
from tests.workflow.conftest import alert_notification
from webhook.cli import main
from webhook.core.chat import ButtonRefused, sign_answer, sign_button, verify_button
from webhook.core.messages import BUTTON, OPENED, NotifyConfig, button_label, plan
from webhook.store.models import TelegramChat, User
from webhook.usecases import incidents as incident_uses
from webhook.usecases.context import Actor
from webhook.web.keys import DATABASE

AM_TOKEN = "am-token-of-the-confirm-tests"
NOC, DINKES_GROUP = -100500, -100600
"""Telegram group chats' ids are negative."""
QUESTION = "Apakah internet/intranet di kantor Anda terputus?"
ANSWERS = ["Ya, terputus", "Tidak", "Hanya lambat"]
RINA = 5004
"""A second admin of dinkes."""


@asynccontextmanager
async def confirming(tmp_path: Path) -> AsyncIterator[Chat]:
    async with telegram(tmp_path, SIGAP_ALERTMANAGER_TOKEN=AM_TOKEN) as chat:
        yield chat


async def alert(chat: Chat, skpd: str = "dinkes", node: str = "gw-dinkes") -> int:
    """An Alertmanager notification opens an incident of `skpd`; its id."""
    response = await chat.service.client.post(
        "/api/v1/alertmanager",
        json=alert_notification(skpd, node),
        headers={"Authorization": f"Bearer {AM_TOKEN}"},
    )
    assert response.status == 200, await response.text()
    found = await incident_uses.incidents(chat.res, Actor.operator(), is_open=True)
    return next(i.id for i in found if i.skpd == skpd)


async def question_to(chat: Chat, chat_id: int) -> Sent:
    for _ in range(1000):
        for sent in chat.to(chat_id):
            if QUESTION in str(sent.params["text"]) and sent.message_id:
                return sent
        await asyncio.sleep(0.01)
    raise AssertionError(f"no question reached {chat_id}: {chat.to(chat_id)}")


async def message_to(chat: Chat, chat_id: int, words: str) -> Sent:
    for _ in range(1000):
        for sent in chat.to(chat_id):
            if words in str(sent.params["text"]) and sent.message_id:
                return sent
        await asyncio.sleep(0.01)
    raise AssertionError(f"nothing with {words!r} reached {chat_id}: {chat.to(chat_id)}")


async def add_admin(chat: Chat, name: str, telegram_id: int) -> None:
    """Another SKPD admin of dinkes, with a linked chat."""
    async with chat.service.app[DATABASE].write() as session:
        user = User(
            name=name, role="skpd_admin", skpds=["dinkes"], active=True,
            created_at=datetime.now(UTC), full_name=name.title(),
        )  # fmt: skip
        session.add(user)
        await session.flush()
        session.add(TelegramChat(chat_id=telegram_id, user_id=user.id, linked_at=user.created_at))


async def test_the_skpd_answers_in_the_chat_and_staff_confirm_f01_with_one_press(
    tmp_path: Path,
) -> None:
    async with confirming(tmp_path) as chat:
        await chat.link("sari", SARI)
        await chat.link("budi", BUDI)
        incident_id = await alert(chat)
        question = await question_to(chat, BUDI)
        assert [label for label, _ in chat.bot.buttons(question)] == ANSWERS
        assert f"#{incident_id}" in str(question.params["text"])

        answer = await chat.press(BUDI, question, "Ya, terputus")
        assert answer.startswith("Ya, terputus, dijawab budi"), answer
        edits = await chat.bot.wait_for("editMessageText")
        assert int(edits[0].params["message_id"]) == question.message_id
        edited = chat.bot.messages[(BUDI, question.message_id or 0)]
        assert "✅ Ya, terputus, dijawab budi" in edited["text"] and "reply_markup" not in edited

        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert (shown.skpd_answer, shown.skpd_answer_by) == ("down", "budi")
        (event,) = [e for e in shown.events if e.kind == "answer"]
        assert (event.actor, event.role, event.data["answer"]) == ("budi", "skpd_admin", "down")
        assert shown.state in ("opened", "ping_checked")  # the answer is not the F-01

        # the staff on duty are told, with a one-press F-01
        told = await message_to(chat, SARI, "Jawaban SKPD: Ya, terputus (budi")
        assert "Konfirmasi (F-01)" in [label for label, _ in chat.bot.buttons(told)]
        assert (await chat.press(SARI, told, "Konfirmasi (F-01)")).startswith(
            "Konfirmasi (F-01) oleh sari"
        )
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert shown.state == "confirmed"
        client = chat.service.client
        assert await login(client, "sari") == 303
        f01 = await (await client.get(f"/incidents/{incident_id}/forms/f01")).text()
        assert "Dikonfirmasi dengan" in f01 and "budi (admin SKPD, chat)" in f01
        assert "Jawaban SKPD" in f01 and "Ya, terputus" in f01


async def test_the_incident_page_prefills_f01_from_the_answer(tmp_path: Path) -> None:
    async with confirming(tmp_path) as chat:
        await chat.link("budi", BUDI)
        incident_id = await alert(chat)
        await chat.press(BUDI, await question_to(chat, BUDI), "Hanya lambat")
        client = chat.service.client
        client.session.cookie_jar.clear()
        assert await login(client, "sari") == 303
        page = await (await client.get(f"/incidents/{incident_id}")).text()
        assert 'data-answer="slow"' in page and "Hanya lambat" in page
        assert 'name="skpd_answer" value="slow"' in page
        assert 'value="budi (admin SKPD, chat)"' in page
        # one press: the form as the page fills it, submitted as a browser does
        form = re.search(r'<form[^>]*data-action="confirm">(.*?)</form>', page, re.S)
        assert form is not None, page
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form[1]))
        fields["affected_service"] = "internet"  # the select's first option
        done = await client.post(
            f"/incidents/{incident_id}/actions/confirm", data=fields, allow_redirects=False
        )
        assert done.status == 303, await done.text()
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert shown.state == "confirmed"
        f01 = await (await client.get(f"/incidents/{incident_id}/forms/f01")).text()
        assert "budi (admin SKPD, chat)" in f01 and "Hanya lambat" in f01


async def test_a_second_answer_a_stale_press_and_a_redelivery_change_nothing(
    tmp_path: Path,
) -> None:
    async with confirming(tmp_path) as chat:
        await chat.link("budi", BUDI)
        await chat.link("sari", SARI)
        await add_admin(chat, "rina", RINA)
        incident_id = await alert(chat)
        budis, rinas = await question_to(chat, BUDI), await question_to(chat, RINA)
        assert (await chat.press(BUDI, budis, "Tidak")).startswith("Tidak, dijawab budi")
        # the same person again: told it is recorded; another admin: told who answered what
        assert await chat.press(BUDI, budis, "Ya, terputus") == (
            "Terima kasih, jawaban tercatat: Tidak."
        )
        assert await chat.press(RINA, rinas, "Ya, terputus") == (
            "Sudah dijawab oleh budi: Tidak. Tidak ada yang diubah."
        )
        # staff cannot answer for the SKPD (a forwarded question, a group)
        assert "untuk admin SKPD" in await chat.press(SARI, budis, "Hanya lambat")
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert [e.kind for e in shown.events].count("answer") == 1
        assert (shown.skpd_answer, shown.skpd_answer_by) == ("up", "budi")
        # "Tidak" confirms nothing: the staff's message has no one-press F-01
        told = await message_to(chat, SARI, "Jawaban SKPD: Tidak (budi")
        assert "Konfirmasi (F-01)" not in [label for label, _ in chat.bot.buttons(told)]
        assert len(chat.bot.calls("editMessageText")) == 1


async def test_an_answer_to_a_closed_incident_is_told_why(tmp_path: Path) -> None:
    async with confirming(tmp_path) as chat:
        await chat.link("budi", BUDI)
        incident_id = await alert(chat)
        question = await question_to(chat, BUDI)
        await incident_uses.make_move(
            chat.res, Actor.operator(), incident_id, "cancel", {"reason": "alarm palsu"}
        )
        answer = await chat.press(BUDI, question, "Ya, terputus")
        assert "sudah berubah" in answer and "Dibatalkan" in answer, answer
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert shown.skpd_answer is None


async def test_two_admins_answering_at_once_one_is_recorded(tmp_path: Path) -> None:
    async with confirming(tmp_path) as chat:
        await chat.link("budi", BUDI)
        await add_admin(chat, "rina", RINA)
        incident_id = await alert(chat)
        budis, rinas = await question_to(chat, BUDI), await question_to(chat, RINA)
        before = len(chat.bot.calls("answerCallbackQuery"))
        await asyncio.gather(
            chat.bot.press(
                BUDI, BUDI, budis.message_id or 0, dict(chat.bot.buttons(budis))["Tidak"]
            ),
            chat.bot.press(
                RINA, RINA, rinas.message_id or 0, dict(chat.bot.buttons(rinas))["Ya, terputus"]
            ),
        )
        answers = await chat.bot.wait_for("answerCallbackQuery", before + 2)
        texts = [str(a.params.get("text", "")) for a in answers[before:]]
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert [e.kind for e in shown.events].count("answer") == 1
        assert any(t.startswith("Sudah dijawab oleh") for t in texts), texts


async def test_a_report_by_a_person_asks_nobody(tmp_path: Path) -> None:
    """A report is a person's own word (SOP 1): the SKPD is not asked to confirm it."""
    async with confirming(tmp_path) as chat:
        await chat.link("budi", BUDI)
        await chat.link("sari", SARI)
        await chat.open_outage()
        await chat.page_of(SARI)
        await asyncio.sleep(0.3)
        assert not [s for s in chat.to(BUDI) if QUESTION in str(s.params["text"])]


async def group_command(chat: Chat, telegram_id: int, group: int, text: str) -> str:
    before = len(chat.to(group))
    await chat.bot.type_text(telegram_id, text, chat_id=group)
    for _ in range(1000):
        if len(chat.to(group)) > before:
            return str(chat.to(group)[before].params["text"])
        await asyncio.sleep(0.01)
    raise AssertionError(f"no answer to {text!r} in {group}")


async def test_the_noc_group_and_the_skpds_group(tmp_path: Path) -> None:
    async with confirming(tmp_path) as chat:
        for name, telegram_id in (("koord", KOORD), ("sari", SARI), ("budi", BUDI)):
            await chat.link(name, telegram_id)
        # only a coordinator sets a group; only in a group
        assert "koordinator" in await group_command(chat, SARI, NOC, "/grup noc")
        assert "Hanya grup" in await chat.reply_to(KOORD, "/grup noc")
        assert "grup NOC" in await group_command(chat, KOORD, NOC, "/grup noc")
        assert "Dinas Kesehatan" in await group_command(chat, KOORD, DINKES_GROUP, "/grup dinkes")
        assert "unknown SKPD 'bukan-skpd'" in await group_command(
            chat, KOORD, -100700, "/grup bukan-skpd"
        )
        assert "chat pribadi" in await group_command(chat, SARI, NOC, "/start abcdef")
        # a group's own conversation is not answered
        await chat.bot.type_text(SARI, "siapa yang piket?", chat_id=NOC)
        incident_id = await alert(chat)
        page = await message_to(chat, NOC, f"[SIGAP #{incident_id}]")
        assert [label for label, _ in chat.bot.buttons(page)] == ["Tangani"]
        question = await question_to(chat, DINKES_GROUP)
        assert [label for label, _ in chat.bot.buttons(question)] == ANSWERS
        assert not [s for s in chat.to(NOC) if "siapa" in str(s.params["text"])]

        # a member who is not linked presses: told how to link, nothing moves
        assert "belum terhubung" in await chat.press(STRANGER, page, "Tangani")
        # what a group may do is what its presser may do
        assert "untuk admin SKPD" in await chat.press(SARI, question, "Ya, terputus")
        assert (await chat.press(SARI, page, "Tangani")).startswith("Tangani oleh sari")
        assert (await chat.press(BUDI, question, "Ya, terputus")).startswith("Ya, terputus")
        await chat.bot.wait_for("editMessageText", 2)
        assert "✅ Tangani oleh sari" in chat.bot.messages[(NOC, page.message_id or 0)]["text"]
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert (shown.holder, shown.skpd_answer_by) == ("sari", "budi")

        # SOP 4 and on: the SKPD's group gets what its admins get
        f01 = {
            "reporter": "sari", "contact_confirmed_with": "budi", "complaint": "mati",
            "affected_service": "internet", "reported_at": "2026-12-07T08:00:00+08:00",
        }  # fmt: skip
        for action, data in (("confirm", f01), ("report", {"responsibility": "diskominfo"})):
            await incident_uses.make_move(chat.res, Actor.operator(), incident_id, action, data)
        await message_to(chat, DINKES_GROUP, "Gangguan dilaporkan")
        assert "tidak lagi" in await group_command(chat, KOORD, DINKES_GROUP, "/grup lepas")


async def english_update(telegram_id: int, text: str) -> dict[str, Any]:
    return {
        "message": {
            "message_id": 1, "date": 1, "chat": {"id": telegram_id, "type": "private"},
            "from": {
                "id": telegram_id, "is_bot": False, "first_name": "x", "language_code": "en-GB",
            },
            "text": text,
        }
    }  # fmt: skip


async def test_answers_in_the_chats_language(tmp_path: Path) -> None:
    async with confirming(tmp_path) as chat:
        # a stranger whose Telegram is in English is told in English how to link
        await chat.bot.push(await english_update(STRANGER, "/status"))
        for _ in range(500):
            if chat.replies(STRANGER):
                break
            await asyncio.sleep(0.01)
        assert "is not linked to SIGAP" in str(chat.replies(STRANGER)[0].params["text"])
        await chat.link("sari", SARI)
        await chat.link("koord", KOORD)
        assert "Perintah:" in await chat.reply_to(SARI, "/bantuan")  # Indonesian by default
        assert await chat.reply_to(SARI, "/bahasa en") == "Language: English."
        assert "Commands:" in await chat.reply_to(SARI, "/bantuan")
        assert "On duty now: sari" in await chat.reply_to(SARI, "/piket")
        assert "Write: /bahasa id" in await chat.reply_to(SARI, "/bahasa fr")
        assert "Piket sekarang" in await chat.reply_to(KOORD, "/piket")  # koord's own stays
        incident_id = await chat.open_outage()
        page = await chat.page_of(SARI)
        await incident_uses.make_move(
            chat.res, Actor("koord", Actor.operator().role, None), incident_id, "acknowledge", {}
        )
        assert (await chat.press(SARI, page, "Tangani")).startswith("Already taken by koord")
        assert await chat.reply_to(SARI, "/bahasa id") == "Bahasa: Indonesia."
        assert "Ditangani" in await chat.reply_to(SARI, f"/insiden {incident_id}")


def test_the_cli_sets_lists_and_unsets_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGAP_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SIGAP_SECRET_KEY", "cli-secret")
    monkeypatch.setenv("SIGAP_INVENTORY", INVENTORY)
    group = ["telegram-group"]
    assert main([*group, "set", "--title", "NOC Kominfo", "--", str(NOC), "noc"]) == 0
    assert main([*group, "set", "--", str(DINKES_GROUP), "dinkes"]) == 0
    assert main([*group, "set", "--", str(DINKES_GROUP), "noc"]) == 0  # a group has one scope
    assert "now SIGAP's Dinas Kesehatan group" in capsys.readouterr().out
    assert main([*group, "list"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [f"noc\t{DINKES_GROUP}\t-\tcli"]
    with pytest.raises(SystemExit, match="SCOPE: unknown SKPD 'nope'; expected noc or an SKPD"):
        main([*group, "set", "--", "-100900", "nope"])
    with pytest.raises(SystemExit, match="CHAT_ID: Only a group"):
        main([*group, "set", "42", "noc"])
    assert main([*group, "unset", "--", str(DINKES_GROUP)]) == 0
    assert main([*group, "list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "SCOPE\tCHAT_ID\tTITLE\tSET_BY"


async def test_lapor_status_piket_and_insiden(tmp_path: Path) -> None:
    """SOP 1 from the chat through the report form's use case, and the commands."""
    async with confirming(tmp_path) as chat:
        for name, telegram_id in (("koord", KOORD), ("sari", SARI), ("budi", BUDI)):
            await chat.link(name, telegram_id)
        text = "Internet <b>mati</b> & *lambat* sejak jam 9"
        reply = await chat.reply_to(BUDI, f"/lapor {text}")
        assert reply.startswith("Laporan diterima, nomor #"), reply
        incident_id = int(reply.removeprefix("Laporan diterima, nomor #").rstrip("."))
        shown = await incident_uses.incident(chat.res, Actor.operator(), incident_id)
        assert (shown.skpd, shown.opened_by, shown.source) == ("dinkes", "budi", "report")
        assert shown.description == text  # kept as written; escaped where a chat shows it
        page = await chat.page_of(SARI)  # the page to the staff on duty
        assert f"[SIGAP #{incident_id}]" in str(page.params["text"])
        # another report of the same SKPD joins its open incident
        assert await chat.reply_to(KOORD, "/lapor dinkes listrik padam") == (
            f"Laporan diterima, nomor #{incident_id}."
        )
        assert "/lapor SKPD" in await chat.reply_to(KOORD, "/lapor listrik padam")
        assert "/lapor TEKS" in await chat.reply_to(BUDI, "/lapor")

        status = await chat.reply_to(BUDI, "/status")  # an SKPD admin: their SKPD's nodes
        assert status.splitlines()[0].startswith("Dinas Kesehatan: ")
        assert "? uplink-dinkes · ? gw-dinkes" in status and "Tahap: " in status
        assert "Setda" not in status
        assert f"#{incident_id} Dinas Kesehatan" in await chat.reply_to(SARI, "/status")
        assert "Piket sekarang: sari" in await chat.reply_to(BUDI, "/piket")
        assert "Ditangani: -" in await chat.reply_to(SARI, f"/insiden #{incident_id}")
        await chat.press(SARI, page, "Tangani")
        detail = await chat.reply_to(BUDI, f"/insiden {incident_id}")
        assert f"#{incident_id} Dinas Kesehatan" in detail and "Ditangani: sari" in detail
        assert "Tulis: /insiden NOMOR" in await chat.reply_to(SARI, "/insiden satu")
        other = await alert(chat, "setda", "gw-setda")
        assert f"Insiden #{other} tidak ada" in await chat.reply_to(BUDI, f"/insiden {other}")


def _person(name: str, role: str, skpds: list[str] | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        name=name, role=role, email=None, phone=None, skpds=skpds or [], active=True
    )


def _planned(move: str, chats: dict[str, str], groups: dict[str, str], **facts: Any) -> Any:
    incident = SimpleNamespace(
        id=9, skpd="dinkes", state="opened", responsibility=None, assignee=None,
        estimated_recovery_at=None, holder=None, source="alert", skpd_answer=None,
        skpd_answer_by=None, skpd_answer_at=None,
    )  # fmt: skip
    for key, value in facts.items():
        setattr(incident, key, value)
    people = [
        _person("sari", "staff"), _person("koord", "coordinator"),
        _person("budi", "skpd_admin", ["dinkes"]), _person("ani", "skpd_admin", ["setda"]),
    ]  # fmt: skip
    return {
        (m.person, m.recipient): m
        for m in plan(
            move, incident, people, NotifyConfig(), secret="s", external_url="http://x",
            now=datetime(2026, 12, 7, tzinfo=UTC), on_duty=["sari"], telegram_chats=chats,
            telegram_groups=groups, skpd_name="Dinas Kesehatan",
        )
    }  # fmt: skip


CHATS = {"sari": "1", "koord": "2", "budi": "3", "ani": "4"}
GROUPS = {"noc": "-10", "dinkes": "-20", "setda": "-30"}


def test_planning_asks_the_skpd_pages_the_noc_and_tells_the_skpds_group() -> None:
    """Pure: who gets what in Telegram at each notice (no socket, no database)."""
    opened = _planned(OPENED, CHATS, GROUPS)
    assert set(opened) == {("sari", "1"), ("group:noc", "-10"), ("budi", "3"),
                           ("group:dinkes", "-20")}  # fmt: skip
    assert list(opened["group:noc", "-10"].links) == ["incident", f"{BUTTON}acknowledge"]
    for asked in (opened["budi", "3"], opened["group:dinkes", "-20"]):
        assert QUESTION in asked.text
        assert [button_label(k, "id") for k in asked.links] == ANSWERS
        assert [button_label(k, "en") for k in asked.links] == [
            "Yes, it is down",
            "No",
            "Only slow",
        ]
    # a report is a person's word: nobody is asked; the NOC's group still gets the page
    reported = _planned(OPENED, CHATS, GROUPS, source="report")
    assert set(reported) == {("sari", "1"), ("group:noc", "-10")}
    # no groups, no chats: nothing in Telegram, no question
    assert _planned(OPENED, {}, {}) == {}
    # SOP 4: the SKPD's group gets what its admins get, with their buttons; the NOC's does not
    told = _planned("report", CHATS, GROUPS, state="reported")
    assert ("group:dinkes", "-20") in told and ("group:noc", "-10") not in told
    assert ("group:setda", "-30") not in told and ("ani", "4") not in told


def test_the_answer_is_told_to_the_holder_and_the_staff_on_duty_with_a_one_press_f01() -> None:
    at = datetime(2026, 12, 7, 1, 5, tzinfo=UTC)
    facts = {"holder": "koord", "skpd_answer_by": "budi", "skpd_answer_at": at}
    down = _planned("answer", CHATS, GROUPS, skpd_answer="down", **facts)
    assert set(down) == {("koord", "2"), ("sari", "1")}
    for message in down.values():
        assert "Jawaban SKPD: Ya, terputus (budi, 7 Desember 2026, 09.05 WITA)" in message.text
        assert f"{BUTTON}confirm" in message.links
    up = _planned("answer", CHATS, GROUPS, skpd_answer="up", **facts)
    assert all(f"{BUTTON}confirm" not in m.links for m in up.values())
    # before any answer, no confirm button on a page
    assert f"{BUTTON}confirm" not in _planned(OPENED, CHATS, GROUPS)["sari", "1"].links


def test_answer_buttons_are_signed_and_hold_only_their_answer() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    hour = timedelta(hours=1)
    for answer in ("down", "up", "slow"):
        press = verify_button("s", sign_answer("s", 9, answer, now, hour), now)
        assert (press.incident_id, press.action, press.answer) == (9, "answer", answer)
    genuine = sign_answer("s", 9, "down", now, hour)
    with pytest.raises(ButtonRefused, match="tidak sah"):
        verify_button("another secret", genuine, now)
    # an answer index past the three, signed with the right key, is still not SIGAP's button
    forged = sign_button("s", 9, "answer", "", None, now, hour, assignee_id=3)
    with pytest.raises(ButtonRefused, match="tidak sah"):
        verify_button("s", forged, now)
    with pytest.raises(ButtonRefused, match="kedaluwarsa"):
        verify_button("s", genuine, now + 2 * hour)
    assert len(genuine.encode()) <= 64  # Telegram's limit on callback_data
