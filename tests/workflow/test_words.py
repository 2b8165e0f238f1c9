"""Every word the Indonesian UI shows is Indonesian (issue 24): each page of one incident's whole
SOP walk, its F-01 and F-04 (page and PDF), the monthly report (page and PDF), the e-mails SIGAP
sent, and every refusal of a move, read in `id`, hold no English word of a list and no raw enum
value; refusals come from the catalogue (`Refused.say`), in both languages."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.workflow.conftest import Mailbox
from tests.workflow.test_forms import forms_service, walk
from tests.workflow.test_phone import ENGLISH, RAW, open_incident, visible_text
from tests.workflow.test_service import login
from webhook.core.forms import F04Form, FormInvalid, parse_form
from webhook.core.i18n import WORDS
from webhook.core.refusals import Refused
from webhook.core.workflow import TRANSITIONS, Move, Role, State, TransitionRefused, apply_move

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "words"
NOW = datetime(2026, 11, 30, 9, 2, 2, tzinfo=UTC)


def text_of_html(page: str) -> str:
    """A page's text as people read it (no tags, no head, no e-mail addresses)."""
    body = page.split("<body", 1)[-1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return visible_text(html.unescape(body))


MIXED = re.compile(r"(?<!Dis)Kominfo")
"""The office is "Diskominfo" throughout, not sometimes "Kominfo"."""


def assert_indonesian(text: str, where: str) -> None:
    for pattern in (*RAW, ENGLISH, MIXED):
        found = pattern.search(text)
        around = text[max(0, found.start() - 60) : found.end() + 30] if found else ""
        assert found is None, f"{where}: {found.group(0)!r} in {around!r}"


def pdf_text(pdf: bytes, name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(pdf)
    read = ["pdftotext", "-layout", str(path), "-"]
    return subprocess.run(read, check=True, capture_output=True, text=True).stdout


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="Debian poppler-utils is not installed")
async def test_pages_pdfs_and_messages_of_a_whole_sop_are_indonesian(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    service = await forms_service(tmp_path, smtp)
    try:
        incident = await open_incident(service)
        await walk(service, incident)
        await service.drain()
        client = service.client
        for who in ("sari", "koord", "budi"):
            client.session.cookie_jar.clear()
            assert await login(client, who) == 303
            paths = ["/", f"/incidents/{incident}", "/skpd", "/laporan?bulan=2026-11",
                     "/pemeliharaan", "/piket", "/report", "/akun",
                     f"/incidents/{incident}/forms/f01", f"/incidents/{incident}/forms/f04",
                     "/incidents/999", f"/incidents/{incident}/actions/close",
                     *(["/users"] if who == "koord" else [])]  # fmt: skip
            for path in paths:
                response = await client.get(path)
                assert_indonesian(text_of_html(await response.text()), f"{who} {path}")
            forms = f"/incidents/{incident}/forms"
            pdfs = (f"{forms}/f01.pdf", f"{forms}/f04.pdf", "/laporan.pdf?bulan=2026-11")
            for path in pdfs:
                response = await client.get(path)
                assert response.status == 200, path
                name = re.sub(r"\W+", "-", path).strip("-")
                assert_indonesian(pdf_text(await response.read(), name), f"{who} {path}")
        mailbox: Mailbox = smtp[0]
        assert mailbox.messages
        for message in mailbox.messages:
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            text = visible_text(f"{message['Subject']}\n{body.get_content()}")
            text = re.sub(r"https?://\S+", "", text)  # links are addresses, not words
            assert_indonesian(text, f"e-mail {message['Subject']!r}")
    finally:
        await service.drain()
        await service.client.close()


class Facts:
    def __init__(self, state: str) -> None:
        self.state, self.skpd = state, "dinkes"


def refusals() -> list[Refused]:
    """One of each refusal a move can meet."""
    found: list[Refused] = []

    def attempt(action: str, state: State, role: Role, **data: Any) -> None:
        try:
            apply_move(Facts(state.value), Move(action, "sari", role, NOW, data, frozenset()))
        except Refused as refused:
            found.append(refused)
        else:
            raise AssertionError(f"{action} from {state} was not refused")

    attempt("acknowledge", State.CLOSED, Role.STAFF)  # wrong stage
    attempt("close", State.REPAIRED, Role.STAFF)  # wrong role
    attempt("cancel", State.OPENED, Role.STAFF, reason="   ")  # missing
    attempt("report", State.CONFIRMED, Role.STAFF, responsibility="kominfo")
    attempt("dispatch", State.REPORTED, Role.COORDINATOR, assignee="budi")  # not staff
    attempt("bogus", State.OPENED, Role.STAFF)
    attempt("estimate", State.DISPATCHED, Role.STAFF, findings="x",
            estimated_recovery_at=(NOW - timedelta(hours=1)).isoformat())  # fmt: skip
    attempt("estimate", State.DISPATCHED, Role.STAFF, findings="x",
            estimated_recovery_at="besok pagi")  # fmt: skip
    f04 = {"findings": "x", "actions_taken": "y", "result": "z",
           "repair_started_at": NOW.isoformat(),
           "repair_ended_at": (NOW - timedelta(minutes=5)).isoformat()}  # fmt: skip
    attempt("repair", State.REPAIR_ORDERED, Role.STAFF, **f04)
    attempt("repair", State.REPAIR_ORDERED, Role.STAFF, **{**f04, "parts_replaced": " "})
    attempt("confirm", State.OPENED, Role.STAFF, reporter="x", contact_confirmed_with="y",
            complaint="z", affected_service="internet", reported_at=NOW.isoformat(),
            skpd="forged")  # fmt: skip
    return found


def test_every_refusal_of_a_move_is_said_from_the_catalogue() -> None:
    for refused in refusals():
        said = refused.say("id")
        assert refused.key is not None or isinstance(refused, FormInvalid), refused.reason
        assert "{" not in said and said != refused.reason, said
        assert_indonesian(said, refused.reason)
        assert refused.say("en") != said  # English is a choice too
    # the API keeps its English reasons (a contract): only people's words changed
    with pytest.raises(TransitionRefused, match="cannot acknowledge an incident that is closed"):
        apply_move(Facts("closed"), Move("acknowledge", "sari", Role.STAFF, NOW, {}))


def test_form_errors_speak_in_the_forms_labels() -> None:
    with pytest.raises(FormInvalid) as caught:
        parse_form(F04Form, {"findings": "", "actions_taken": "y", "result": "z",
                             "repair_started_at": "kemarin", "repair_ended_at": NOW.isoformat(),
                             "parts_replaced": " "}, "repair")  # fmt: skip
    errors = caught.value.field_errors("id")
    assert errors == {
        "findings": "Temuan wajib diisi.",
        "repair_started_at": "Mulai perbaikan: isi tanggal dan jam yang lengkap.",
        "parts_replaced": "Perangkat diganti wajib diisi.",
    }
    assert caught.value.field_errors("en")["findings"] == "Findings is required."


def test_the_catalogue_has_every_word_in_both_languages() -> None:
    for key, entry in WORDS.items():
        assert set(entry) == {"id", "en"} and all(entry.values()), key
    assert all(t.label_id and t.label_en for t in TRANSITIONS)
