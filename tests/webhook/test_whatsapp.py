"""WhatsApp both ways (issue 21), SIGAP's Cloud API client pointed at a stand-in Graph API on
127.0.0.1 (`tests/webhook/graph_standin.py`), which also posts Meta's signed webhooks to the real
app: a page reaches the staff on duty with reply buttons, a press acknowledges it and is
answered, forged and unsigned webhooks move nothing, a redelivered message acts once, an unknown
number is told how to become known, a stale press says why; typed replies and commands; the
outbox's retries; the generic gateway's replies by text; and SOP 3's question to the SKPD."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.webhook.access_app import Service, running
from tests.webhook.graph_standin import PHONE_NUMBER_ID, VERSION, GraphStandIn, Sent, start
from tests.workflow.conftest import alert_notification
from webhook.core.chat import verify_button
from webhook.core.workflow import Role
from webhook.settings import SettingsError, load_settings
from webhook.store.models import Notification
from webhook.usecases import incidents as incident_uses
from webhook.usecases import roster as roster_uses
from webhook.usecases import users as user_uses
from webhook.usecases.context import Actor
from webhook.web.keys import DATABASE, REGISTRY, RESOURCES

TOKEN = "EAAG-stand-in-access-token"
APP_SECRET = "app-secret-of-the-meta-app-0123"
VERIFY = "verify-token-of-sigap"
SARI, KOORD, BUDI = "6281250011037", "6281350022106", "6285251234567"
"""As WhatsApp writes numbers (wa_id): E.164 digits without the plus."""
WRITTEN = {"sari": "0812-5001-1037", "koord": "+62 813 5002 2106", "budi": "0852 5123 4567"}
"""The same numbers as the coordinator typed them on the users page."""
STRANGER = "6281999999999"


@dataclass
class Phones:
    service: Service
    graph: GraphStandIn

    @property
    def res(self) -> Any:
        return self.service.app[RESOURCES]

    async def page_of(self, number: str, count: int = 1) -> Sent:
        pages = [s for s in await self.graph.wait_for(count, to=number) if s.options]
        while len(pages) < count:
            pages = [
                s
                for s in await self.graph.wait_for(len(self.graph.to(number)) + 1, to=number)
                if s.options
            ]
        return pages[count - 1]

    async def answer_after(self, number: str, payload: dict[str, Any]) -> Sent:
        """Post `payload`; the next message SIGAP sends `number`."""
        before = len(self.graph.to(number))
        assert await self.graph.post(payload) == 200
        return (await self.graph.wait_for(before + 1, to=number))[before]

    async def incident(self, incident_id: int) -> Any:
        return await incident_uses.incident(self.res, Actor.operator(), incident_id)

    async def open_outage(self, skpd: str = "dinkes") -> int:
        incident, _ = await incident_uses.report(
            self.res, Actor.operator(), {"skpd": skpd, "description": "Internet mati"}
        )
        return int(incident.id)

    async def rows(
        self, incident_id: int, until: Callable[[Notification], bool] = lambda r: True
    ) -> list[Notification]:
        """The incident's WhatsApp notifications, once there are some and each is `until`."""
        rows: list[Notification] = []
        for _ in range(500):
            async with self.service.app[DATABASE].read() as session:
                query = select(Notification).where(
                    Notification.incident_id == incident_id, Notification.channel == "whatsapp"
                )
                rows = list((await session.execute(query)).scalars())
            if rows and all(until(row) for row in rows):
                return rows
            await asyncio.sleep(0.02)
        raise AssertionError(f"whatsapp notifications of #{incident_id}: {rows}")


@asynccontextmanager
async def phones(
    tmp_path: Path, on_duty: tuple[str, ...] = ("sari",), **env: str
) -> AsyncIterator[Phones]:
    graph, runner = await start(TOKEN, APP_SECRET)
    try:
        settings = {
            "SIGAP_WHATSAPP_TOKEN": TOKEN,
            "SIGAP_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "SIGAP_WHATSAPP_APP_SECRET": APP_SECRET,
            "SIGAP_WHATSAPP_VERIFY_TOKEN": VERIFY,
            "SIGAP_WHATSAPP_API_URL": graph.url,
            "SIGAP_WHATSAPP_API_VERSION": VERSION,
            "SIGAP_EXTERNAL_URL": "https://sigap.example",
        }
        async with running(tmp_path, **{**settings, **env}) as service:
            res = service.app[RESOURCES]
            for name, role, skpds in (("sari", "staff", ()), ("koord", "coordinator", ()),
                                      ("budi", "skpd_admin", ("dinkes",))):  # fmt: skip
                change = user_uses.UserChange(name, role, skpds, phone=WRITTEN[name])
                await user_uses.save_user(res, Actor.operator(), change)
            await roster_uses.put_rotation(
                res, Actor.operator(), list(on_duty), "daily", "07:30", None
            )
            graph.hook = str(service.client.make_url("/whatsapp/webhook"))
            yield Phones(service, graph)
    finally:
        await runner.cleanup()


async def test_a_page_reaches_the_staff_on_duty_with_reply_buttons(tmp_path: Path) -> None:
    async with phones(tmp_path) as wa:
        incident_id = await wa.open_outage()
        page = await wa.page_of(SARI)
        assert page.body["type"] == "interactive"
        assert page.body["interactive"]["type"] == "button"
        assert f"[SIGAP #{incident_id}]" in page.text and "Dinas Kesehatan" in page.text
        assert [title for title, _ in page.options] == ["Tangani"]
        press = verify_button(wa.res.settings.secret_key, page.options[0][1], wa.res.clock())
        assert (press.incident_id, press.action) == (incident_id, "acknowledge")
        rows = await wa.rows(incident_id, until=lambda r: r.status == "sent")
        assert [r.recipient for r in rows] == ["+6281250011037"]
        assert page.body["biz_opaque_callback_data"] == rows[0].idempotency_key
        registry = wa.service.app[REGISTRY]
        sent = {"channel": "whatsapp", "status": "sent"}
        assert registry.get_sample_value("sigap_notifications_total", sent) == 1.0


async def test_a_signed_press_acknowledges_and_is_answered(tmp_path: Path) -> None:
    async with phones(tmp_path) as wa:
        incident_id = await wa.open_outage()
        page = await wa.page_of(SARI)
        answer = await wa.answer_after(SARI, wa.graph.press_of(SARI, page, "Tangani"))
        assert answer.reply_to == page.message_id
        assert "✅ Tangani oleh sari" in answer.text
        shown = await wa.incident(incident_id)
        assert shown.holder == "sari"
        assert [e.actor for e in shown.events if e.kind == "acknowledge"] == ["sari"]


async def test_forged_or_unsigned_webhooks_are_refused_and_move_nothing(tmp_path: Path) -> None:
    async with phones(tmp_path) as wa:
        incident_id = await wa.open_outage()
        page = await wa.page_of(SARI)
        press = wa.graph.press_of(SARI, page, "Tangani")
        assert await wa.graph.post(press, signature=None) == 401
        assert await wa.graph.post(press, signature="sha256=" + "0" * 64) == 403
        assert await wa.graph.post(press, signature="md5=abc") == 403
        assert await wa.graph.post(press, secret="another-apps-secret-000") == 403
        client = wa.service.client
        huge = await client.post(
            "/whatsapp/webhook", data=b"{" + b" " * 300_000 + b"}",
            headers={"X-Hub-Signature-256": "sha256=00"},
        )  # fmt: skip
        assert huge.status == 413
        assert await wa.graph.post({"object": "page", "entry": []}) == 422
        shown = await wa.incident(incident_id)
        assert shown.holder is None and len(wa.graph.to(SARI)) == 1

        # a good signature on a button SIGAP did not make
        genuine = page.options[0][1]
        tampered = genuine[:5] + ("A" if genuine[5] != "A" else "B") + genuine[6:]
        forged = wa.graph.envelope(SARI, {
            "type": "interactive",
            "interactive": {"type": "button_reply",
                            "button_reply": {"id": tampered, "title": "Tangani"}},
        })  # fmt: skip
        answer = await wa.answer_after(SARI, forged)
        assert "tidak sah" in answer.text
        assert (await wa.incident(incident_id)).holder is None


async def test_meta_checks_the_webhook_url_with_the_verify_token(tmp_path: Path) -> None:
    async with phones(tmp_path) as wa:
        client = wa.service.client
        good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
        response = await client.get("/whatsapp/webhook", params=good)
        assert response.status == 200 and await response.text() == "1158201444"
        for wrong in ({**good, "hub.verify_token": "nope"}, {**good, "hub.mode": "unsubscribe"}):
            assert (await client.get("/whatsapp/webhook", params=wrong)).status == 403


async def test_a_redelivered_message_moves_nothing_twice(tmp_path: Path) -> None:
    async with phones(tmp_path, on_duty=("koord",)) as wa:
        incident_id = await wa.open_outage()
        page = await wa.page_of(KOORD)
        press = wa.graph.press_of(KOORD, page, "Tangani")
        await wa.answer_after(KOORD, press)
        assert await wa.graph.post(press) == 200  # Meta sends it again
        status = wa.graph.text_of(KOORD, "status")
        answer = await wa.answer_after(KOORD, status)
        assert f"#{incident_id}" in answer.text
        assert await wa.graph.post(status) == 200
        shown = await wa.incident(incident_id)
        assert [e.kind for e in shown.events].count("acknowledge") == 1
        assert len(wa.graph.to(KOORD)) == 3, [s.text for s in wa.graph.to(KOORD)]


async def test_an_unknown_number_is_told_how_to_become_known(tmp_path: Path) -> None:
    async with phones(tmp_path) as wa:
        incident_id = await wa.open_outage()
        page = await wa.page_of(SARI)
        for text in ("status", "insiden 1", "tangani 1", "1", "halo"):
            answer = await wa.answer_after(STRANGER, wa.graph.text_of(STRANGER, text))
            assert "belum terdaftar" in answer.text and f"#{incident_id}" not in answer.text
        answer = await wa.answer_after(STRANGER, wa.graph.press_of(STRANGER, page, "Tangani"))
        assert "belum terdaftar" in answer.text
        assert (await wa.incident(incident_id)).holder is None


async def test_a_stale_press_is_answered_with_the_reason(tmp_path: Path) -> None:
    async with phones(tmp_path) as wa:
        incident_id = await wa.open_outage()
        sari_page = await wa.page_of(SARI)
        koord = Actor("koord", Role.COORDINATOR, None)  # from the incident page, meanwhile
        await incident_uses.make_move(wa.res, koord, incident_id, "acknowledge", {})
        answer = await wa.answer_after(SARI, wa.graph.press_of(SARI, sari_page, "Tangani"))
        assert answer.text.startswith("Sudah ditangani oleh koord"), answer.text
        assert answer.reply_to is None or answer.reply_to == sari_page.message_id
        shown = await wa.incident(incident_id)
        assert shown.holder == "koord"
        assert [e.kind for e in shown.events].count("acknowledge") == 1

        await incident_uses.make_move(
            wa.res, Actor.operator(), incident_id, "cancel", {"reason": "duplikat"}
        )
        answer = await wa.answer_after(SARI, wa.graph.text_of(SARI, f"tangani {incident_id}"))
        assert "Batalkan" in answer.text or "sudah berubah" in answer.text, answer.text


async def answer_to_press(graph: GraphStandIn, number: str, *, since: int) -> str:
    """The first message to `number` after its first `since` that answers a press (a page to
    the coordinator may still arrive in between)."""
    sent = await graph.wait_for(since + 1, to=number)
    while True:
        texts = [s.text for s in sent[since:]]
        answers = [t for t in texts if "Tangani oleh" in t or t.startswith("Sudah ditangani")]
        if answers:
            return answers[0]
        sent = await graph.wait_for(len(sent) + 1, to=number)


async def test_two_people_at_once_one_wins_the_other_is_told_who(tmp_path: Path) -> None:
    async with phones(tmp_path) as wa:
        incident_id = await wa.open_outage()
        await wa.page_of(SARI)
        before = {n: len(wa.graph.to(n)) for n in (SARI, KOORD)}
        typed = [wa.graph.text_of(n, f"tangani {incident_id}") for n in (SARI, KOORD)]
        assert await asyncio.gather(*(wa.graph.post(t) for t in typed)) == [200, 200]
        answers = [await answer_to_press(wa.graph, n, since=before[n]) for n in (SARI, KOORD)]
        shown = await wa.incident(incident_id)
        assert [e.kind for e in shown.events].count("acknowledge") == 1
        winner = shown.holder
        assert any(f"✅ Tangani oleh {winner}" in a for a in answers), answers
        assert any(a.startswith(f"Sudah ditangani oleh {winner}") for a in answers), answers


async def test_typed_replies_and_commands(tmp_path: Path) -> None:
    async with phones(tmp_path) as wa:
        first = await wa.open_outage()
        await wa.page_of(SARI)
        answer = await wa.answer_after(SARI, wa.graph.text_of(SARI, "1"))
        assert "✅ Tangani oleh sari" in answer.text
        assert (await wa.incident(first)).holder == "sari"

        second = await wa.open_outage("setda")  # koord was not paged: a typed move needs no page
        answer = await wa.answer_after(KOORD, wa.graph.text_of(KOORD, f"Tangani #{second}"))
        assert "✅ Tangani oleh koord" in answer.text
        assert (await wa.incident(second)).holder == "koord"

        assert (
            "Tidak ada pilihan 7" in (await wa.answer_after(SARI, wa.graph.text_of(SARI, "7"))).text
        )
        assert (
            "Piket sekarang" in (await wa.answer_after(BUDI, wa.graph.text_of(BUDI, "/piket"))).text
        )
        report = await wa.answer_after(BUDI, wa.graph.text_of(BUDI, "lapor Wifi aula mati"))
        assert report.text.startswith("Laporan diterima, nomor #"), report.text
        detail = await wa.answer_after(SARI, wa.graph.text_of(SARI, f"insiden {first}"))
        assert "Ditangani: sari" in detail.text
        assert (
            "terlalu panjang"
            in (await wa.answer_after(SARI, wa.graph.text_of(SARI, "x" * 4097))).text
        )


async def test_tugaskan_offers_the_staff_as_a_list_and_dispatches(tmp_path: Path) -> None:
    async with phones(tmp_path, on_duty=("koord",)) as wa:
        incident_id = await wa.open_outage()
        f01 = {
            "reporter": "budi", "contact_confirmed_with": "budi", "complaint": "mati",
            "affected_service": "internet", "reported_at": "2026-12-07T08:00:00+08:00",
        }  # fmt: skip
        for action, data in (("confirm", f01), ("report", {"responsibility": "diskominfo"})):
            await incident_uses.make_move(wa.res, Actor.operator(), incident_id, action, data)
        told = await wa.page_of(KOORD, 2)  # the page, then SOP 4: the coordinator is told
        assert [title for title, _ in told.options] == ["Tangani", "Tugaskan staf"]
        choice = await wa.answer_after(KOORD, wa.graph.press_of(KOORD, told, "Tugaskan staf"))
        assert "Tugaskan siapa" in choice.text
        assert [title for title, _ in choice.options] == ["koord", "sari"]
        answer = await wa.answer_after(KOORD, wa.graph.press_of(KOORD, choice, "sari"))
        assert "Tugaskan staf oleh koord" in answer.text and "→ sari" in answer.text
        shown = await wa.incident(incident_id)
        assert (shown.state, shown.assignee) == ("dispatched", "sari")
        told_sari = await wa.graph.wait_for(1, to=SARI)  # SOP 5: the assignee is told
        assert any("ditugaskan" in s.text for s in told_sari), [s.text for s in told_sari]


async def test_a_refused_send_is_retried_with_backoff(tmp_path: Path) -> None:
    async with phones(tmp_path) as wa:
        wa.graph.fail(500, 131000, "Something went wrong")
        incident_id = await wa.open_outage()
        await wa.page_of(SARI)
        rows = await wa.rows(incident_id, until=lambda r: r.status == "sent")
        assert [r.attempts for r in rows] == [2]


async def test_a_send_the_graph_api_refuses_for_good_fails_on_the_incident(tmp_path: Path) -> None:
    async with phones(tmp_path, SIGAP_WHATSAPP_TOKEN="EAAG-a-token-meta-revoked") as wa:
        incident_id = await wa.open_outage()
        rows = await wa.rows(incident_id, until=lambda r: r.last_error is not None)
        assert "(190) Invalid OAuth access token" in (rows[0].last_error or "")
        assert not wa.graph.sent


async def test_outside_the_24_hour_window_the_template_goes_and_1_answers_it(
    tmp_path: Path,
) -> None:
    async with phones(tmp_path, SIGAP_WHATSAPP_TEMPLATE="sigap_pemberitahuan") as wa:
        wa.graph.windows, wa.graph.templates = set(), {"sigap_pemberitahuan": 1}
        incident_id = await wa.open_outage()
        page = (await wa.graph.wait_for(1, to=SARI))[0]
        assert page.body["type"] == "template"
        assert page.body["template"]["language"] == {"code": "id"}
        assert page.text.startswith(f"[SIGAP #{incident_id}] ") and page.text.endswith(
            " · 1 = Tangani"
        )
        rows = await wa.rows(incident_id, until=lambda r: r.status == "sent")
        assert [r.attempts for r in rows] == [1]  # the template in the same attempt
        answer = await wa.answer_after(SARI, wa.graph.text_of(SARI, "1"))  # opens the window
        assert answer.body["type"] == "text" and "✅ Tangani oleh sari" in answer.text
        assert (await wa.incident(incident_id)).holder == "sari"


async def test_outside_the_window_without_a_template_the_refusal_shows(tmp_path: Path) -> None:
    async with phones(tmp_path) as wa:
        wa.graph.windows = set()
        incident_id = await wa.open_outage()
        rows = await wa.rows(incident_id, until=lambda r: r.last_error is not None)
        assert "(131047) Re-engagement message" in (rows[0].last_error or "")
        assert not wa.graph.sent


def test_settings_need_all_four_credentials() -> None:
    try:
        load_settings(env={"SIGAP_WHATSAPP_TOKEN": TOKEN})
    except SettingsError as error:
        assert "SIGAP_WHATSAPP_APP_SECRET" in str(error)
    else:
        raise AssertionError("a token without the app secret was taken")


AM_TOKEN = "am-token-of-the-whatsapp-tests"
QUESTION = "Apakah internet/intranet di kantor Anda terputus?"


async def test_an_alert_asks_the_skpds_admin_on_whatsapp_and_the_answer_prefills_f01(
    tmp_path: Path,
) -> None:
    """SOP 3 on WhatsApp as on Telegram: the question with a reply button per answer, the press
    recorded on the timeline and in the incident's answer; a second answer changes nothing."""
    async with phones(tmp_path, SIGAP_ALERTMANAGER_TOKEN=AM_TOKEN) as wa:
        response = await wa.service.client.post(
            "/api/v1/alertmanager",
            json=alert_notification("dinkes", "gw-dinkes"),
            headers={"Authorization": f"Bearer {AM_TOKEN}"},
        )
        assert response.status == 200, await response.text()
        (incident,) = await incident_uses.incidents(wa.res, Actor.operator(), is_open=True)
        question = await wa.page_of(BUDI)
        assert QUESTION in question.text and f"#{incident.id}" in question.text
        assert [title for title, _ in question.options] == ["Ya, terputus", "Tidak", "Hanya lambat"]
        answer = await wa.answer_after(BUDI, wa.graph.press_of(BUDI, question, "Ya, terputus"))
        assert "✅ Ya, terputus, dijawab budi" in answer.text, answer.text
        assert answer.reply_to == question.message_id
        shown = await wa.incident(incident.id)
        assert (shown.skpd_answer, shown.skpd_answer_by) == ("down", "budi")
        assert [(e.actor, e.data["answer"]) for e in shown.events if e.kind == "answer"] == [
            ("budi", "down")
        ]
        again = await wa.answer_after(BUDI, wa.graph.text_of(BUDI, "2"))  # "Tidak", typed
        assert again.text == "Terima kasih, jawaban tercatat: Ya, terputus.", again.text
        assert (await wa.incident(incident.id)).skpd_answer == "down"
