"""WhatsApp without I/O: the Graph API's message bodies for SIGAP's messages, its webhooks read
and their signature checked, and the text replies people type (on WhatsApp and through the
generic gateway).

The same signed buttons as Telegram's (`webhook.core.chat`: 39 characters, within a reply
button id's 256): up to 3 moves are interactive reply buttons (titles at most 20 characters), 4
to 10 an interactive list, more a text with numbered options. The Cloud API has no message
edit: what a press did comes back as a reply quoting the message pressed on.

A person may also type: `1` (the first option of the last message SIGAP sent them with
options), `tangani 12` (a move on incident 12, as a press of its button now would make it), or
a command (`status`, `piket`, `insiden 12`, `lapor TEKS`; with or without Telegram's `/`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

BUTTONS_MAX = 3
"""Reply buttons in one interactive message (Meta's limit)."""
BUTTON_TITLE = 20
BUTTON_ID = 256
LIST_ROWS = 10
ROW_TITLE = 24
ROW_ID = 200
INTERACTIVE_BODY = 1024
"""Characters of an interactive message's body; a longer message goes as text."""
TEXT_BODY = 4096
SIGNATURE_HEADER = "X-Hub-Signature-256"
TEXT_MOVES = {
    "tangani": "acknowledge",
    "acknowledge": "acknowledge",
    "tugaskan": "dispatch",
    "dispatch": "dispatch",
    "teruskan": "forward",
    "forward": "forward",
    "perbaiki": "order_repair",
    "repair": "order_repair",
    "tutup": "close",
    "close": "close",
}
"""The word a person types for a move (`tangani 12`), Bahasa Indonesia and English."""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def options_text(labels: Sequence[str], incident_id: int, lang: str) -> str:
    """The numbered options of a text message, one a line (`1 = Tangani`), and the move's own
    words (`tangani 12`) for the first when it has them."""
    head = "Balas dengan angka:" if lang == "id" else "Reply with the number:"
    lines = [head, *(f"{n} = {label}" for n, label in enumerate(labels, 1))]
    verb = labels[0].split()[0].lower() if labels else ""
    if verb in TEXT_MOVES:
        lines.append(f"({'atau tulis' if lang == 'id' else 'or write'}: {verb} {incident_id})")
    return "\n".join(lines) + "\n"


def body(
    to: str,
    subject: str,
    text: str,
    buttons: Sequence[tuple[str, str]],
    *,
    incident_id: int,
    lang: str,
    reply_to: str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """The JSON of `POST /{version}/{phone-number-id}/messages` for one message to `to`
    (E.164 digits): its buttons (label, signed id) as reply buttons, a list, or numbered."""
    content = f"*{subject}*\n{text}".rstrip()
    message: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    message["to"] = to
    if reply_to is not None:
        message["context"] = {"message_id": reply_to}
    if key is not None:
        message["biz_opaque_callback_data"] = key  # comes back in the status webhooks
    fits = len(content) <= INTERACTIVE_BODY
    if buttons and fits and len(buttons) <= BUTTONS_MAX:
        message["type"] = "interactive"
        message["interactive"] = {
            "type": "button",
            "body": {"text": content},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": data, "title": _cut(label, BUTTON_TITLE)}}
                    for label, data in buttons
                ]
            },
        }
        return message
    if buttons and fits and len(buttons) <= LIST_ROWS:
        message["type"] = "interactive"
        message["interactive"] = {
            "type": "list",
            "body": {"text": content},
            "action": {
                "button": "Pilih" if lang == "id" else "Choose",
                "sections": [
                    {
                        "title": _cut(f"#{incident_id}", ROW_TITLE),
                        "rows": [
                            {"id": data, "title": _cut(label, ROW_TITLE)} for label, data in buttons
                        ],
                    }
                ],
            },
        }
        return message
    if buttons:
        content += "\n\n" + options_text([label for label, _ in buttons], incident_id, lang)
    message["type"] = "text"
    message["text"] = {"body": _cut(content, TEXT_BODY), "preview_url": False}
    return message


OUTSIDE_WINDOW = 131047
"""The Graph API's error for a free-form message more than 24 hours after the person last
wrote: only a template may be sent."""
TEMPLATE_PARAMETER = 1024


def template_body(
    to: str,
    name: str,
    language: str,
    subject: str,
    labels: Sequence[str],
    *,
    key: str | None = None,
) -> dict[str, Any]:
    """The message as the approved template `name` with one body variable: the subject and the
    numbered options on one line (a template's variable may hold no line break), which the
    person answers by typing the number."""
    summary = " · ".join([subject, *(f"{n} = {label}" for n, label in enumerate(labels, 1))])
    flat = " ".join(summary.split())  # nor tabs, nor more than four spaces in a row
    message: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": language},
            "components": [
                {"type": "body", "parameters": [
                    {"type": "text", "text": _cut(flat, TEMPLATE_PARAMETER)}
                ]}
            ],
        },
    }  # fmt: skip
    if key is not None:
        message["biz_opaque_callback_data"] = key
    return message


def signed(secret: str, raw: bytes, header: str | None) -> bool:
    """Whether `X-Hub-Signature-256` is `sha256=` + HMAC-SHA256 of the raw body with the app
    secret, as Meta signs every webhook."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256=").lower(), expected)


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Reply(_Loose):
    id: str
    title: str = ""


class _Interactive(_Loose):
    type: str
    button_reply: _Reply | None = None
    list_reply: _Reply | None = None


class _Text(_Loose):
    body: str


class _Button(_Loose):
    """A template's quick-reply button (`type: button`)."""

    payload: str
    text: str = ""


class _Context(_Loose):
    id: str | None = None


class _Message(_Loose):
    id: str = Field(min_length=1, max_length=200)
    sender: str = Field(alias="from", min_length=1, max_length=32)
    type: str
    text: _Text | None = None
    interactive: _Interactive | None = None
    button: _Button | None = None
    context: _Context | None = None


class _Value(_Loose):
    messages: list[_Message] = []


class _Change(_Loose):
    field: str = "messages"
    value: _Value


class _Entry(_Loose):
    changes: list[_Change] = []


class _Payload(_Loose):
    object: Literal["whatsapp_business_account"]
    entry: list[_Entry]


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message a person sent: text they typed, or a press (a button's or a list row's id)."""

    message_id: str
    sender: str
    """Their number as WhatsApp gives it: E.164 digits without the plus."""
    text: str | None
    pressed: str | None
    context_id: str | None
    """The message a press was made on (a reply quotes it)."""


def incoming(payload: object) -> list[Incoming]:
    """The messages of a webhook's JSON (delivery statuses and other kinds carry none);
    ValueError naming the field when it is not a WhatsApp Business webhook."""
    try:
        parsed = _Payload.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"not a WhatsApp webhook: {where}: {first['msg']}") from None
    found = []
    for entry in parsed.entry:
        for change in entry.changes:
            for m in change.value.messages:
                pressed = None
                if m.interactive is not None:
                    reply = m.interactive.button_reply or m.interactive.list_reply
                    pressed = reply.id if reply is not None else None
                elif m.button is not None:
                    pressed = m.button.payload
                text = m.text.body if m.text is not None else None
                context = m.context.id if m.context is not None else None
                found.append(Incoming(m.id, m.sender, text, pressed, context))
    return found


@dataclass(frozen=True, slots=True)
class Option:
    """`1`: the n-th option of the last message with options."""

    number: int


@dataclass(frozen=True, slots=True)
class TextMove:
    """`tangani 12`: a move on an incident, as its button would make it now."""

    action: str
    incident_id: int
    rest: str


@dataclass(frozen=True, slots=True)
class Command:
    """`status`, `/piket`, `insiden 12`, `lapor ...`: the Telegram bot's commands, with the
    slash Telegram needs (the chat door answers them)."""

    command: str
    rest: str


def read_reply(text: str) -> Option | TextMove | Command:
    """What a typed reply asks for."""
    stripped = text.strip()
    if stripped.isdigit() and len(stripped) <= 2:
        return Option(int(stripped))
    first, _, rest = stripped.partition(" ")
    verb = first.lower().lstrip("/")
    number, _, after = rest.strip().partition(" ")
    if verb in TEXT_MOVES and number.lstrip("#").isdigit():
        return TextMove(TEXT_MOVES[verb], int(number.lstrip("#")), after.strip())
    return Command("/" + verb, rest.strip())
