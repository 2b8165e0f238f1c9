"""Who is told what at each SOP step: the `notify:` section and the pure planner of messages.

`plan()` turns a notice an incident owes (a move's name: report, dispatch, estimate, forward,
order_repair, repair, escalate) into messages, one per recipient and configured channel, each with
the signed one-click links its recipient may use. It reads the incident as it is when planned and
does no I/O; `webhook.services.delivery` stores, sends and retries what it returns.

Configured in the `notify:` section of the webhook's config file::

    notify:
      smtp: {host: mail.example, port: 587, sender: sigap@example, starttls: true,
             username: sigap, password: secret}
      webhook: {url: https://wa-gateway.example/send}
      # gets {"to", "person", "subject", "text", "links", "idempotency_key"}
      retries: 5            # attempts per message and channel
      backoff: 2s           # first wait after a failed attempt; doubles each time
      link_lifetime: 24h
      language: id          # the messages' words: id (Bahasa Indonesia) or en
      poll: 1s              # how often the delivery worker looks for work nobody woke it for
      lease: 1m             # how long a claimed message is its replica's; then anyone's again
      rules:                # SOP move -> who is told (coordinator, skpd_admin, staff, assignee,
        report: [coordinator, skpd_admin]   # holder, on_duty: the duty roster's people now,
        opened: [on_duty]   # paged: the people a step of the paging chain named)
        answer: [holder, on_duty]           # the SKPD's answer in the chat (SOP 3)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from exporter.inventory import Duration
from webhook.core import chat, links
from webhook.core.confirmation import ANSWERS, answer_word
from webhook.core.i18n import word
from webhook.core.localtime import DEFAULT_ZONE, format_moment
from webhook.core.workflow import FINAL_STATES, TRANSITIONS, Role

# SOP steps 1 (the page of the staff on duty), 4, 5, 7, 8, 9 and the escalation of an overdue
# stage.
Audience = Literal["coordinator", "skpd_admin", "staff", "assignee", "holder", "on_duty", "paged"]
"""Who a rule names: people by role, the incident's assignee or holder, the staff on duty when
the notice is planned (`webhook.core.roster`), or the people a step of the paging chain named."""
OPENED = "opened"
"""The notice of a new outage (an alert or a report opened an incident): no move of the table
owes it, the opening does (`webhook.intake.batch`, `webhook.store.moves.record_report`)."""
DEFAULT_RULES: dict[str, list[Audience]] = {
    OPENED: ["on_duty"],
    "page": ["paged"],
    "report": ["coordinator", "skpd_admin"],
    "dispatch": ["assignee"],
    "estimate": ["coordinator"],
    "forward": ["skpd_admin"],
    "order_repair": ["assignee"],
    "repair": ["skpd_admin", "coordinator"],
    "escalate": ["coordinator"],
    "answer": ["holder", "on_duty"],
}
# The one-click link a recipient of a move gets: (move, role) -> the action of the link.
LINK_ACTIONS: dict[tuple[str, str], str] = {
    ("report", "coordinator"): "dispatch",
    ("estimate", "coordinator"): "forward",
    ("forward", "coordinator"): "order_repair",
    ("repair", "skpd_admin"): "close",
    ("escalate", "coordinator"): "acknowledge",
    **{
        (move, role): "acknowledge"
        for move in (OPENED, "page")
        for role in ("staff", "coordinator")
    },
}


class SmtpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str
    port: int = 25
    sender: str = "sigap@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: Duration = 10.0


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str
    headers: dict[str, str] = {}
    timeout: Duration = 10.0


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    smtp: SmtpConfig | None = None
    webhook: WebhookConfig | None = None
    retries: int = 5
    backoff: Duration = 2.0
    link_lifetime: Duration = 86400.0
    poll: Duration = 1.0
    lease: Duration = 60.0
    language: Literal["id", "en"] = "id"
    """The words of every message (subject, lines, link labels): Bahasa Indonesia, like the UI,
    unless the office reads English."""
    rules: dict[str, list[Audience]] = Field(default_factory=lambda: dict(DEFAULT_RULES))

    @field_validator("rules")
    @classmethod
    def _rules_name_moves_that_notify(
        cls, rules: dict[str, list[Audience]]
    ) -> dict[str, list[Audience]]:
        notifying = [OPENED, *(t.action for t in TRANSITIONS if t.notifies)]
        unknown = sorted(set(rules) - set(notifying))
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)}: not a move that sends messages; "
                f"expected one of {', '.join(dict.fromkeys(notifying))}"
            )
        return rules

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Self:
        # A replica still sending when its lease ends may see the message sent twice.
        timeouts = [c.timeout for c in (self.smtp, self.webhook) if c is not None]
        if self.retries < 1:
            raise ValueError("retries must be at least 1 (attempts per message)")
        if timeouts and self.lease <= max(timeouts):
            raise ValueError(f"lease must be longer than the channels' timeout ({max(timeouts)}s)")
        return self

    def retry_delay(self, attempts: int) -> timedelta | None:
        """How long after its `attempts`-th failed attempt a message is tried again; None once
        the last attempt has failed."""
        if attempts >= self.retries:
            return None
        return timedelta(seconds=self.backoff * 2 ** (attempts - 1))


def notify_config(section: Mapping[str, Any] | None) -> NotifyConfig:
    """The `notify:` section, validated (ValueError naming the field otherwise)."""
    try:
        return NotifyConfig.model_validate(section or {})
    except ValidationError as error:
        problems = "; ".join(
            ".".join(["notify", *(str(p) for p in e["loc"])]) + f": {e['msg']}"
            for e in error.errors()
        )
        raise ValueError(problems) from None


class IncidentToTell(Protocol):
    """What a message tells of an incident (`webhook.store.models.Incident`)."""

    @property
    def id(self) -> int: ...
    @property
    def skpd(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def responsibility(self) -> str | None: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def estimated_recovery_at(self) -> datetime | None: ...


class Person(Protocol):
    """Who may be told (`webhook.store.models.User`)."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def skpds(self) -> list[Any]: ...
    @property
    def active(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Message:
    channel: str  # 'email', 'webhook', 'telegram' or 'whatsapp'
    recipient: str  # an address or a user name/phone
    person: str
    subject: str
    text: str
    links: dict[str, str] = field(default_factory=dict)


def recipients(
    audience: Sequence[str],
    incident: IncidentToTell,
    users: Sequence[Person],
    on_duty: Sequence[str] = (),
    paged: Sequence[str] = (),
) -> list[Person]:
    chosen: dict[str, Person] = {}
    for user in users:
        if not user.active:
            continue
        for who in audience:
            if (
                (who == "assignee" and user.name == incident.assignee)
                or (
                    who == "skpd_admin"
                    and user.role == Role.SKPD_ADMIN
                    and incident.skpd in user.skpds
                )
                or (who in ("coordinator", "staff") and user.role == who)
                or (who == "holder" and user.name == getattr(incident, "holder", None))
                or (who == "on_duty" and user.name in on_duty)
                or (who == "paged" and user.name in paged)
            ):
                chosen[user.name] = user
    return list(chosen.values())


def plan(
    move: str,
    incident: IncidentToTell,
    users: Sequence[Person],
    config: NotifyConfig,
    *,
    secret: str,
    external_url: str | None,
    now: datetime,
    detail: str = "",
    on_duty: Sequence[str] = (),
    paged: Sequence[str] = (),
    zone: str = DEFAULT_ZONE,
    skpd_name: str = "",
    telegram_chats: Mapping[str, str] = {},
    phone_numbers: Mapping[str, str] = {},
    whatsapp_cloud: bool = False,
    gateway_replies: bool = False,
    telegram_groups: Mapping[str, str] = {},
) -> list[Message]:
    """The messages a committed `move` sends: one per recipient and configured channel, times
    on the regency's clock (`zone`). `on_duty`: who the roster has on duty now; `paged`: whom
    the paging step named; `skpd_name`: the SKPD's name in the inventory (if any);
    `telegram_chats`: the Telegram chat of each person who linked one (when the bot is set up);
    `phone_numbers`: each person's number (E.164: `webhook.core.phones.phones_of`), which
    `whatsapp_cloud` (the Cloud API is set up) and the gateway send to;
    `gateway_replies`: the gateway's messages carry numbered options people answer by text;
    `telegram_groups`: the group chats by scope (`noc`, an SKPD's id).

    Without `external_url` (SIGAP_EXTERNAL_URL unset) the messages carry no links: a link to a
    host nobody can reach (localhost) would be worse than none; chat buttons still work.

    A new outage (OPENED) opened by an alert also asks the SKPD's admins with a linked chat,
    and the SKPD's group, to confirm it (SOP 3, `webhook.core.confirmation`); the NOC group
    gets it with the buttons staff may press; the SKPD's group gets what its admins get."""
    if move in (OPENED, "page") and incident.state in FINAL_STATES:
        return []  # the outage ended before the page went out: nobody to wake
    messages = []
    lifetime = timedelta(seconds=config.link_lifetime)
    lang = config.language
    name = skpd_name or incident.skpd
    subject = f"[SIGAP #{incident.id}] {word(f'subject_{move}', lang)}: {name}"
    skpd = name if name == incident.skpd else f"{name} ({incident.skpd})"
    page = f"{external_url.rstrip('/')}/incidents/{incident.id}" if external_url else None
    state = word(f"state_{incident.state}", lang)
    responsibility = word(f"responsibility_{incident.responsibility or 'unknown'}", lang)
    audience = config.rules.get(move, [])
    lines_of_all = _head(incident, skpd, state, responsibility, zone, lang, detail)
    answer = getattr(incident, "skpd_answer", None)  # a stand-in of a test may have none
    if move == "answer" and answer:
        said = answer_word(answer, lang)
        at = format_moment(getattr(incident, "skpd_answer_at", None) or now, zone, lang)
        by = getattr(incident, "skpd_answer_by", "")
        lines_of_all.insert(-1, f"{word('skpd_answer', lang)}: {said} ({by}, {at})")
    groups = [("noc", Role.STAFF)] if move == OPENED else []
    if "skpd_admin" in audience:
        groups.append((incident.skpd, Role.SKPD_ADMIN))
    for scope, role in groups:
        if scope in telegram_groups:
            messages.append(
                _chat("telegram", incident, role, telegram_groups[scope], f"group:{scope}",
                      subject, lines_of_all, page, secret=secret, now=now, lifetime=lifetime,
                      lang=lang)
            )  # fmt: skip
    if move == OPENED and getattr(incident, "source", "alert") == "alert":
        addresses = {"telegram": telegram_chats}  # the chats an answer can come back by
        if whatsapp_cloud:
            addresses["whatsapp"] = phone_numbers
        if config.webhook is not None and gateway_replies:
            addresses["webhook"] = phone_numbers
        messages += _questions(
            incident, users, addresses, telegram_groups, skpd,
            secret=secret, now=now, lifetime=lifetime, lang=lang,
        )  # fmt: skip
    for user in recipients(audience, incident, users, on_duty, paged):
        user_links = {"incident": page} if page else {}
        link_action = LINK_ACTIONS.get((move, user.role))
        if link_action and external_url:
            token = links.sign(secret, incident.id, link_action, user.name, now, lifetime)
            user_links[link_action] = links.url(external_url, token)
        lines = list(lines_of_all)
        if user.name in telegram_chats:
            messages.append(
                _chat("telegram", incident, Role(user.role), telegram_chats[user.name], user.name,
                      subject, lines, page, secret=secret, now=now, lifetime=lifetime, lang=lang)
            )  # fmt: skip
        number = phone_numbers.get(user.name)
        if whatsapp_cloud and number is not None:
            messages.append(
                _chat("whatsapp", incident, Role(user.role), number, user.name, subject, lines,
                      page, secret=secret, now=now, lifetime=lifetime, lang=lang)
            )  # fmt: skip
        lines += [f"{action_name(name, lang)}: {target}" for name, target in user_links.items()]
        text = "\n".join(lines) + "\n"
        if config.smtp is not None and user.email:
            messages.append(Message("email", user.email, user.name, subject, text, user_links))
        if config.webhook is not None and (number or user.phone or user.email):
            recipient = number or user.phone or user.name
            gateway_links = dict(user_links)
            if gateway_replies:  # sent as numbered options (`webhook.services.delivery`)
                gateway_links.update(
                    _buttons(incident, Role(user.role), secret=secret, now=now, lifetime=lifetime)
                )
            messages.append(Message("webhook", recipient, user.name, subject, text, gateway_links))
    return messages


BUTTON = "button:"
"""A chat message's `links` key of a button: `button:acknowledge` -> its signed data."""
CHOICE = "choice:"
"""A chat message's `links` key of a chosen option: `choice:01:Sari Wulandari` -> its signed
data (the staff a dispatch may send)."""
REPLY_TO = "reply_to"
"""A WhatsApp message's `links` key naming the message it answers (what a press did)."""
EDIT = "edit"
"""A Telegram message's `links` key naming the message it replaces (an edit after a press)."""


ANSWER_BUTTON = f"{BUTTON}{chat.ANSWER}:"
"""`button:answer:down` -> the callback data of the answer "down" (SOP 3's question)."""


def button_label(key: str, lang: str) -> str:
    """What a button (a `links` key starting with BUTTON) says, in any chat."""
    name = key.removeprefix(BUTTON)
    if key.startswith(ANSWER_BUTTON):
        return answer_word(key.removeprefix(ANSWER_BUTTON), lang)
    return action_name(name, lang)


def _head(
    incident: IncidentToTell,
    skpd: str,
    state: str,
    responsibility: str,
    zone: str,
    lang: str,
    detail: str,
) -> list[str]:
    """The lines every message of a notice starts with (a blank line last)."""
    lines = [
        f"{word('incident', lang)} #{incident.id} · SKPD {skpd} · {word('state', lang)}: {state}",
        f"{word('responsibility', lang)}: {responsibility}",
    ]
    if incident.assignee:
        lines.append(f"{word('staff', lang)}: {incident.assignee}")
    if incident.estimated_recovery_at:
        estimate = format_moment(incident.estimated_recovery_at, zone, lang)
        lines.append(f"{word('estimated_recovery_at', lang)}: {estimate}")
    if detail:
        lines.append(detail)
    return [*lines, ""]


def _chat(
    channel: str,
    incident: IncidentToTell,
    role: Role,
    recipient: str,
    person: str,
    subject: str,
    lines: list[str],
    page: str | None,
    *,
    secret: str,
    now: datetime,
    lifetime: timedelta,
    lang: str,
) -> Message:
    """The chat message (Telegram's, WhatsApp's) of one recipient (a person, or a group as
    `group:<scope>`): the lines, the incident's page, and a signed button for each move `role`
    may make now that a press can make (`webhook.core.chat`); whoever presses acts with their
    own role."""
    buttons = _buttons(incident, role, secret=secret, now=now, lifetime=lifetime)
    if page is None:
        return Message(channel, recipient, person, subject, "\n".join(lines) + "\n", buttons)
    text = "\n".join([*lines, f"{action_name('incident', lang)}: {page}"]) + "\n"
    return Message(channel, recipient, person, subject, text, {"incident": page, **buttons})


def _buttons(
    incident: IncidentToTell, role: Role, *, secret: str, now: datetime, lifetime: timedelta
) -> dict[str, str]:
    """A signed button (`button:acknowledge` -> its data) for each move `role` may make now
    that a press can make (`webhook.core.chat`)."""
    holder = getattr(incident, "holder", None)
    answer = getattr(incident, "skpd_answer", None)
    return {
        f"{BUTTON}{action}": chat.sign_button(
            secret, incident.id, action, incident.state, holder, now, lifetime
        )
        for action in chat.button_actions(incident.state, role, answer)
    }


def options(links: Mapping[str, str], lang: str) -> list[tuple[str, str]]:
    """A message's options (label, signed data) in the order people see them numbered: its
    buttons in the table's order, then its choices by number. A stored message's links may
    come back in another order (PostgreSQL's JSONB), its numbers may not."""
    buttons = [
        (chat.BUTTON_ACTIONS.index(action), action_name(action, lang), data)
        for key, data in links.items()
        if key.startswith(BUTTON)
        for action in [key.removeprefix(BUTTON)]
        if action in chat.BUTTON_ACTIONS
    ] + [
        (len(chat.BUTTON_ACTIONS) + ANSWERS.index(answer), answer_word(answer, lang), data)
        for key, data in links.items()
        if key.startswith(ANSWER_BUTTON)
        for answer in [key.removeprefix(ANSWER_BUTTON)]
        if answer in ANSWERS
    ]
    choices = [
        (int(number), label, data)
        for key, data in links.items()
        if key.startswith(CHOICE)
        for number, _, label in [key.removeprefix(CHOICE).partition(":")]
        if number.isdigit()
    ]
    return [(label, data) for _, label, data in sorted(buttons)] + [
        (label, data) for _, label, data in sorted(choices)
    ]


def choice_links(choices: Sequence[tuple[str, str]]) -> dict[str, str]:
    """`links` of a message offering `choices` (label, signed data), numbered in order."""
    return {f"{CHOICE}{n:02d}:{label}": data for n, (label, data) in enumerate(choices, 1)}


def _questions(
    incident: IncidentToTell,
    users: Sequence[Person],
    addresses: Mapping[str, Mapping[str, str]],
    telegram_groups: Mapping[str, str],
    skpd: str,
    *,
    secret: str,
    now: datetime,
    lifetime: timedelta,
    lang: str,
) -> list[Message]:
    """SOP 3 asked in the chat: "is your office's connection down?" with a signed button per
    answer, to each SKPD admin of the incident's SKPD on every chat channel that can take an
    answer (`addresses`: channel -> person -> their chat id or number: Telegram, WhatsApp, the
    gateway with replies) and to its Telegram group. The first answer counts; a later one, on
    any channel, is told whose it was."""
    reachable = [u for u in users if any(u.name in address for address in addresses.values())]
    admins = recipients(["skpd_admin"], incident, reachable)
    to = [
        (channel, user.name, address[user.name])
        for channel, address in addresses.items()
        for user in admins
        if user.name in address
    ]
    if incident.skpd in telegram_groups:
        to.append(("telegram", f"group:{incident.skpd}", telegram_groups[incident.skpd]))
    subject = f"[SIGAP #{incident.id}] {word('subject_question', lang)}: {skpd}"
    text = f"{word('skpd_question', lang)}\n{word('incident', lang)} #{incident.id} · SKPD {skpd}\n"
    buttons = {
        f"{ANSWER_BUTTON}{answer}": chat.sign_answer(secret, incident.id, answer, now, lifetime)
        for answer in ANSWERS
    }
    return [
        Message(channel, address, person, subject, text, dict(buttons))
        for channel, person, address in to
    ]


def action_name(action: str, lang: str) -> str:
    """What an action is called wherever people read it (a timeline entry, a one-click link in
    a message): its move's own label (`Tangani`), else the catalogue's word for it."""
    move = next((t for t in TRANSITIONS if t.action == action), None)
    if move is None:
        return word(f"action_{action}", lang)
    return move.label_id if lang == "id" else move.label_en
