"""Chat (Telegram) without I/O: the signed buttons of a message, which moves get one, link codes,
and the words a chat answers with.

A button's `callback_data` (Telegram allows 64 bytes) is
`base64url(payload) + base64url(HMAC-SHA256(secret, payload)[:12])`, 39 characters. The payload
packs the incident, the action, a chosen staff member (dispatch; 0: "let me choose"), when it
expires, and `seen`: a 4-byte digest of the incident's stage and holder when the message was
planned (`seen()`). A press acts only while the incident is still as its message showed it, so
of two people pressing *Tangani* at once one wins and the other is told who did; a button of a
closed incident changes nothing. Whoever presses acts as the person linked to their Telegram
account (a group's message acts for the member who pressed), with that person's role.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from webhook.core.confirmation import ANSWERS, CONFIRMING
from webhook.core.refusals import Conflict, Forbidden
from webhook.core.workflow import ACTIONS, Role, State, available

BUTTON_ACTIONS = ("acknowledge", "confirm", "dispatch", "forward", "order_repair", "close")
"""Moves a press can make: none needs a form (dispatch asks whom with a second keyboard; confirm
takes its F-01 from the SKPD's answer, `webhook.core.confirmation`, and is offered only once
the SKPD confirmed). The others (responsibility, the estimate, F-04) are made on the incident's
page."""
ANSWER = "answer"
"""The SKPD's answer to its confirmation question: a button per answer, not a stage's move."""
_PAYLOAD = struct.Struct(">IBIII")
"""incident id, action's index in ACTIONS, assignee's user id, expiry (Unix s), seen."""
_MAC_BYTES = 12
CALLBACK_LIMIT = 64
"""Telegram's limit on `callback_data`, in bytes."""
LINK_CODE_LIFETIME = timedelta(minutes=15)
TEXT_LIMIT = 4096
"""Telegram's limit on a message's text: a longer incoming one is refused, not truncated."""


@dataclass(frozen=True, slots=True)
class Press:
    """What a genuine, unexpired button asks for."""

    incident_id: int
    action: str
    assignee_id: int
    """The staff member a dispatch button names (a user's id); 0 for every other button, and
    for the dispatch button that asks whom. An answer button's answer (its index in ANSWERS)."""
    seen: int
    expires_at: datetime

    @property
    def answer(self) -> str:
        """What an answer button says (`down`, `up`, `slow`)."""
        return ANSWERS[self.assignee_id]


class ButtonRefused(Forbidden):
    """A button SIGAP did not make, or one too old."""


class Stale(Conflict):
    """The incident moved on since the message was sent: `reason` says who did what."""


def seen(state: str, holder: str | None) -> int:
    """The digest of what a message showed: the stage and who held the incident. SIGAP's own
    ping check (opened -> ping_checked, right after the page went out) changes nothing a
    person pressed for."""
    stage = State.OPENED.value if state == State.PING_CHECKED.value else state
    digest = hashlib.sha256(f"{stage}\0{holder or ''}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), b"sigap-chat:" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def sign_button(
    secret: str,
    incident_id: int,
    action: str,
    state: str,
    holder: str | None,
    now: datetime,
    lifetime: timedelta,
    assignee_id: int = 0,
) -> str:
    expires = int((now + lifetime).timestamp())
    payload = _PAYLOAD.pack(
        incident_id, ACTIONS.index(action), assignee_id, expires, seen(state, holder)
    )
    return _b64(payload) + _b64(_mac(secret, payload))


def sign_answer(
    secret: str, incident_id: int, answer: str, now: datetime, lifetime: timedelta
) -> str:
    """The button of one answer to the SKPD's question: valid whatever the incident's stage or
    holder (an answer is asked once and taken once, `webhook.core.workflow.AlreadyAnswered`)."""
    return sign_button(secret, incident_id, ANSWER, "", None, now, lifetime, ANSWERS.index(answer))


def verify_button(secret: str, data: str, now: datetime) -> Press:
    """The press a button asks for; ButtonRefused when it was not made by SIGAP or expired."""
    forged = ButtonRefused("Tombol ini tidak sah (bukan dari SIGAP).")
    payload_length = len(_b64(b"\0" * _PAYLOAD.size))
    if len(data) != payload_length + len(_b64(b"\0" * _MAC_BYTES)):
        raise forged
    try:
        payload = base64.urlsafe_b64decode(data[:payload_length] + "=" * (-payload_length % 4))
        mac = base64.urlsafe_b64decode(data[payload_length:] + "==")
    except ValueError:
        raise forged from None
    if len(payload) != _PAYLOAD.size or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise forged
    incident_id, action_index, assignee_id, expires, digest = _PAYLOAD.unpack(payload)
    if action_index >= len(ACTIONS) or ACTIONS[action_index] not in (*BUTTON_ACTIONS, ANSWER):
        raise forged
    if ACTIONS[action_index] == ANSWER and assignee_id >= len(ANSWERS):
        raise forged
    expires_at = datetime.fromtimestamp(expires, UTC)
    if now >= expires_at:
        raise ButtonRefused("Tombol ini sudah kedaluwarsa; buka insiden di SIGAP.")
    return Press(incident_id, ACTIONS[action_index], assignee_id, digest, expires_at)


def button_actions(state: str, role: str, answer: str | None = None) -> list[str]:
    """The moves `role` may make now that a press can make, in the table's order; confirm only
    once the SKPD's `answer` confirmed a problem."""
    try:
        moves = available(State(state), Role(role))
    except ValueError:
        return []
    pressable = set(BUTTON_ACTIONS) - (set() if answer in CONFIRMING else {"confirm"})
    return list(dict.fromkeys(t.action for t in moves if t.action in pressable))


def new_link_code() -> str:
    """A one-time code for `/start <code>`: 96 random bits in Telegram's deep-link alphabet."""
    return secrets.token_urlsafe(12)


def code_hash(code: str) -> str:
    """Only this is stored: a leaked table links nobody."""
    return hashlib.sha256(code.strip().encode()).hexdigest()


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def as_html(subject: str, text: str) -> str:
    """A message for Telegram's HTML parse mode: names and report text may hold `<b>` or `&`."""
    return f"<b>{html.escape(subject)}</b>\n{html.escape(text)}"


WORDS: dict[str, dict[str, str]] = {
    "unlinked": {
        "id": "Akun Telegram ini belum terhubung ke SIGAP. Buka halaman Akun di SIGAP, "
        "tekan «Hubungkan Telegram», lalu buka tautan yang ditampilkan (atau kirim "
        "/start KODE).",
        "en": "This Telegram account is not linked to SIGAP. Open your Account page in SIGAP, "
        "press «Link Telegram» and open the link shown (or send /start CODE).",
    },
    "linked": {
        "id": "Terhubung: pesan SIGAP untuk {name} kini dikirim ke sini.",
        "en": "Linked: SIGAP's messages for {name} now come here.",
    },
    "bad_code": {
        "id": "Kode tidak berlaku (salah, kedaluwarsa, atau sudah dipakai). Buat kode baru "
        "di halaman Akun SIGAP.",
        "en": "This code does not work (wrong, expired or used). Make a new one on your SIGAP "
        "Account page.",
    },
    "done": {"id": "{action} oleh {who}, {at}", "en": "{action} by {who}, {at}"},
    "taken": {
        "id": "Sudah ditangani oleh {who} ({action}, {at}).",
        "en": "Already taken by {who} ({action}, {at}).",
    },
    "moved": {
        "id": "Insiden sudah berubah: kini {state}. Tidak ada yang diubah.",
        "en": "The incident has moved on: it is now {state}. Nothing was changed.",
    },
    "choose_staff": {
        "id": "Tugaskan siapa ke insiden #{id}?",
        "en": "Dispatch whom to incident #{id}?",
    },
    "too_long": {
        "id": "Pesan terlalu panjang (paling banyak {limit} karakter).",
        "en": "Message too long (at most {limit} characters).",
    },
    "unknown_command": {
        "id": "Perintah: /status, /piket, /insiden NOMOR, /lapor TEKS, /bahasa en",
        "en": "Commands: /status, /piket, /insiden NUMBER, /lapor TEXT, /bahasa id",
    },
    "busy": {
        "id": "SIGAP sedang sibuk; coba lagi sebentar lagi.",
        "en": "SIGAP is busy; try again in a moment.",
    },
    "reported": {"id": "Laporan diterima, nomor #{id}.", "en": "Report received, number #{id}."},
    "no_open": {"id": "Tidak ada insiden terbuka.", "en": "No open incidents."},
    "on_duty": {"id": "Piket sekarang: {now}", "en": "On duty now: {now}"},
    "next_duty": {"id": "Berikutnya ({at}): {next}", "en": "Next ({at}): {next}"},
    "nobody": {"id": "belum ada jadwal piket", "en": "no duty roster yet"},
    "lapor_usage": {
        "id": "Tulis: /lapor TEKS (admin SKPD, untuk SKPD Anda).",
        "en": "Write: /lapor TEXT (SKPD admins, for their SKPD).",
    },
    "lapor_which": {
        "id": "Anda admin lebih dari satu SKPD; tulis: /lapor SKPD TEKS ({skpds}).",
        "en": "You administer several SKPDs; write: /lapor SKPD TEXT ({skpds}).",
    },
    "insiden_usage": {"id": "Tulis: /insiden NOMOR", "en": "Write: /insiden NUMBER"},
    "answered": {
        "id": "Terima kasih, jawaban tercatat: {answer}.",
        "en": "Thank you, your answer is recorded: {answer}.",
    },
    "answered_before": {
        "id": "Sudah dijawab oleh {who}: {answer}. Tidak ada yang diubah.",
        "en": "Already answered by {who}: {answer}. Nothing was changed.",
    },
    "answer_note": {
        "id": "{answer}, dijawab {who}, {at}",
        "en": "{answer}, answered by {who}, {at}",
    },
    "not_skpd_admin": {
        "id": "Pertanyaan ini untuk admin SKPD {skpd}.",
        "en": "This question is for the SKPD admins of {skpd}.",
    },
    "group_set": {
        "id": "Grup ini kini grup {scope} SIGAP.",
        "en": "This group is now SIGAP's {scope} group.",
    },
    "group_unset": {
        "id": "Grup ini tidak lagi menerima pesan SIGAP.",
        "en": "This group no longer gets SIGAP's messages.",
    },
    "group_usage": {
        "id": "Tulis di grup: /grup noc, /grup KODE_SKPD, atau /grup lepas (koordinator).",
        "en": "Write in the group: /grup noc, /grup SKPD_ID, or /grup lepas (coordinators).",
    },
    "group_only": {
        "id": "Hanya grup (id chat negatif) yang bisa menjadi grup SIGAP, bukan chat pribadi.",
        "en": "Only a group (a negative chat id) can be a SIGAP group, not a private chat.",
    },
    "private_only": {
        "id": "Hubungkan akun di chat pribadi dengan bot, bukan di grup.",
        "en": "Link your account in a private chat with the bot, not in a group.",
    },
    "language_set": {"id": "Bahasa: Indonesia.", "en": "Language: English."},
    "language_usage": {
        "id": "Tulis: /bahasa id atau /bahasa en",
        "en": "Write: /bahasa id or /bahasa en",
    },
    "holder": {"id": "Ditangani", "en": "Held by"},
}


def say(key: str, lang: str, **values: object) -> str:
    return WORDS[key].get(lang, WORDS[key]["id"]).format(**values)
