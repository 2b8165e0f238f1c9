"""SOP step 3 in the chat, without I/O: the question an incident's SKPD is asked when it opens
("Apakah internet/intranet di kantor Anda terputus?"), its three answers, and the F-01 an answer
fills, so staff confirm with one press instead of a phone call.

Channel-neutral: Telegram (`webhook.web.telegram`) and any other chat render the same question,
answers and buttons (`answer:<id>` keys, `webhook.core.messages.BUTTON`); the answer itself is
the workflow's move `answer` (once per incident, by an admin of its SKPD).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from webhook.core.i18n import word

Answer = Literal["down", "up", "slow"]
ANSWERS: tuple[str, ...] = get_args(Answer)
"""In the buttons' order: Ya, terputus / Tidak / Hanya lambat."""
CONFIRMING = frozenset({"down", "slow"})
"""Answers that confirm a problem: staff get a one-press F-01 with them."""


class Answered(Protocol):
    """An incident with its SKPD's answer (`webhook.store.models.Incident`)."""

    @property
    def opened_at(self) -> datetime: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def skpd_answer(self) -> str | None: ...
    @property
    def skpd_answer_at(self) -> datetime | None: ...


def answer_word(answer: str, lang: str) -> str:
    return word(f"answer_{answer}", lang)


def f01_from_answer(
    incident: Answered, reporter: str, answered_by: str, lang: str
) -> dict[str, Any] | None:
    """The F-01 the SKPD's answer fills (with whom, when, what they said), as the confirm move
    takes it; None while the SKPD has not answered. `answered_by`: the admin's name as F-01
    shows it."""
    if incident.skpd_answer is None or incident.skpd_answer_at is None:
        return None
    said = answer_word(incident.skpd_answer, lang)
    about = incident.description or incident.title
    return {
        "reporter": reporter,
        "contact_confirmed_with": f"{answered_by} ({word('role_skpd_admin', lang)}, chat)",
        "complaint": f"{said}. {about}" if about else said,
        "affected_service": "internet",
        "reported_at": incident.opened_at.isoformat(),
        "confirmed_at": incident.skpd_answer_at.isoformat(),
        "skpd_answer": incident.skpd_answer,
    }
