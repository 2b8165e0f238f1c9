"""Chat as a door's use cases: linking a person's Telegram chat, who a chat is and its
language, a button's press (every chat's, WhatsApp's too, through `press_as`: a move through
`webhook.usecases.incidents.make_move`, as the person who pressed: a stage's move, or the
SKPD's answer to its confirmation question), the group chats a coordinator sets, and the
updates already acted on. The chat doors (`webhook.web.telegram`, `webhook.web.whatsapp`)
translate updates into these calls and their results into answers; the rules are the
workflow's own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core import chat
from webhook.core.chat import Press, Stale, say
from webhook.core.confirmation import answer_word, f01_from_answer
from webhook.core.i18n import LANGUAGES, word
from webhook.core.inventory_check import check_skpd
from webhook.core.localtime import format_moment
from webhook.core.messages import action_name
from webhook.core.refusals import Forbidden, NotFound, Refused
from webhook.core.workflow import FINAL_STATES, AlreadyAnswered, Role, Transition
from webhook.store import chat as chat_store
from webhook.store import people
from webhook.store.models import Event, Incident, TelegramGroup, User
from webhook.store.queries import get_incident
from webhook.usecases.context import Actor, Resources
from webhook.usecases.incidents import make_move


class Redelivered(Exception):
    """This update was acted on before (Telegram sent it again): nothing more is done."""


class Unlinked(Forbidden):
    """A chat nobody linked: it is told how to link, and gets nothing else."""


async def new_code(res: Resources, actor: Actor) -> tuple[str, datetime]:
    """A one-time code that links the chat it is sent from (`/start <code>`) to `actor`."""
    now = res.clock()
    code = chat.new_link_code()
    expires = now + chat.LINK_CODE_LIFETIME
    async with res.database.write() as session:
        user = await people.user_by_name(session, actor.name)
        if user is None:
            raise NotFound(f"no user {actor.name}")
        chat_store.add_code(session, user.id, chat.code_hash(code), now, expires)
    return code, expires


async def linked_chat(res: Resources, actor: Actor) -> int | None:
    async with res.database.read() as session:
        user = await people.user_by_name(session, actor.name)
        return None if user is None else await chat_store.chat_of(session, user.id)


def spoken(res: Resources, client_language: str | None) -> str:
    """The language of a chat nobody linked or chose one for: English for a Telegram client
    set to English (its `language_code`), the installation's otherwise."""
    if client_language and client_language.lower().startswith("en"):
        return "en"
    return res.settings.notify.language


async def language(res: Resources, chat_id: int, client_language: str | None) -> str:
    """The words the bot answers `chat_id` in: its chosen language (`/bahasa`), else
    `spoken()`."""
    async with res.database.read() as session:
        chosen = await chat_store.language_of(session, chat_id)
    return chosen if chosen in LANGUAGES else spoken(res, client_language)


async def choose_language(res: Resources, chat_id: int, chosen: str, lang: str) -> None:
    """`/bahasa en`: the linked chat is answered in `chosen` from now on (a refusal in `lang`,
    the chat's words until now)."""
    if chosen not in LANGUAGES:
        raise Forbidden(say("language_usage", lang))
    async with res.database.write() as session:
        if not await chat_store.set_language(session, chat_id, chosen):
            raise Unlinked(say("unlinked", lang))


async def link(res: Resources, chat_id: int, code: str, update_id: int, lang: str) -> User:
    """Link `chat_id` to the person whose code this is (once; Forbidden when the code is wrong,
    expired or used); the chat keeps `lang` when it is not the installation's."""
    kept = None if lang == res.settings.notify.language else lang
    try:
        async with res.database.write() as session:
            await chat_store.mark_update(session, update_id, res.clock())
            user = await chat_store.use_code(
                session, chat.code_hash(code), chat_id, res.clock(), kept
            )
            if user is None:
                raise Forbidden(say("bad_code", lang))
    except IntegrityError:
        raise Redelivered() from None
    return user


async def chat_user(res: Resources, chat_id: int, lang: str) -> Actor:
    """The person linked to `chat_id` (Unlinked otherwise, told in `lang`)."""
    async with res.database.read() as session:
        user = await chat_store.user_of_chat(session, chat_id)
    if user is None:
        raise Unlinked(say("unlinked", lang))
    return Actor.of(user)


GROUP_SCOPE_NOC = "noc"
"""The NOC's group: every new outage's page, with the buttons staff may press."""
UNSET = "lepas"
"""`/grup lepas`: the group gets SIGAP's messages no more."""


async def set_group(
    res: Resources, actor: Actor, chat_id: int, scope: str, title: str, lang: str
) -> str:
    """A coordinator makes `chat_id` the NOC's group (`noc`) or an SKPD's own (its id), or
    unsets it (`lepas`); the answer to say."""
    if actor.role is not Role.COORDINATOR:
        raise Forbidden(say("group_usage", lang))
    if chat_id > 0:  # Telegram's private chats have positive ids, groups negative
        raise Refused(say("group_only", lang), field="chat_id")
    if scope == UNSET:
        async with res.database.write() as session:
            await chat_store.unset_group(session, chat_id)
        return say("group_unset", lang)
    if scope != GROUP_SCOPE_NOC:
        try:
            check_skpd(res.inventory, scope)
        except Refused as unknown:
            raise Refused(f"{unknown.message}; expected noc or an SKPD's id", "scope") from None
    async with res.database.write() as session:
        await chat_store.set_group(session, chat_id, scope, title[:200], actor.name, res.clock())
    name = res.inventory.skpd_name(scope) if res.inventory is not None else scope
    return say("group_set", lang, scope="NOC" if scope == GROUP_SCOPE_NOC else name)


async def groups(res: Resources) -> list[TelegramGroup]:
    """The group chats set, by scope."""
    async with res.database.read() as session:
        return await chat_store.list_groups(session)


async def first_time(res: Resources, update_id: int) -> None:
    """Record an update that moves nothing (a command) before it is answered; Redelivered if
    it was acted on before."""
    try:
        async with res.database.write() as session:
            await chat_store.mark_update(session, update_id, res.clock())
    except IntegrityError:
        raise Redelivered() from None


async def resume_offset(res: Resources) -> int | None:
    """Where long polling resumes: after the last update acted on, on any replica."""
    async with res.database.read() as session:
        last = await chat_store.last_update(session)
    return None if last is None else last + 1


@dataclass(frozen=True, slots=True)
class Choice:
    """A dispatch button asks whom: one signed button per staff member, to send as a reply."""

    incident_id: int
    buttons: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Pressed:
    incident: Incident
    row: Transition
    note: str
    """`Ditangani oleh Sari, 7 Desember 2026, 20.45 WITA`: appended to the edited message."""


def stale_reason(incident: Incident, events: list[Event], res: Resources, lang: str) -> str:
    """Why a press changes nothing: who took the incident, and when, or what it is now."""
    last = next((e for e in reversed(events) if e.role != "system"), None)
    if incident.holder and last is not None:
        at = format_moment(last.at, res.settings.timezone, lang)
        return say("taken", lang, who=incident.holder, action=action_name(last.kind, lang), at=at)
    return say("moved", lang, state=word(f"state_{incident.state}", lang))


@dataclass(frozen=True, slots=True)
class Shown:
    """The message a button was pressed on: where it is and what it says (for its edit)."""

    chat_id: int
    message_id: int
    subject: str
    text: str


def _answered_before(incident: Incident, actor: Actor, lang: str) -> Stale:
    said = answer_word(incident.skpd_answer or "", lang)
    if incident.skpd_answer_by == actor.name:  # the same person again: nothing to object to
        return Stale(say("answered", lang, answer=said))
    return Stale(say("answered_before", lang, who=incident.skpd_answer_by, answer=said))


async def press(
    res: Resources,
    person_id: int,
    data: str,
    update_id: int,
    message: Shown | None,
    lang: str,
) -> Pressed | Choice:
    """A press of a button of a SIGAP message by the Telegram user `person_id` (in their own
    chat or a group): the move, as the person linked to them (`press_as`), if the incident is
    still as the message showed it (Stale otherwise, saying who did what); the message is then
    edited through the outbox to say who did what and when. A dispatch button that asks whom answers
    with a Choice. An answer button records the SKPD's answer once (a second press is told who
    answered what); the confirm button fills F-01 from that answer. Words in `lang`."""
    claim: Press = chat.verify_button(res.settings.secret_key, data, res.clock())
    actor = await chat_user(res, person_id, lang)

    async def seen_before(session: AsyncSession) -> bool:
        return await chat_store.seen_update(session, update_id)

    async def record(session: AsyncSession, done: Done) -> None:
        await chat_store.mark_update(session, update_id, done.at)  # a redelivery fails here
        if message is not None:
            chat_store.owe_edit(
                session, done.incident_id, done.action, actor.name, message.chat_id,
                message.message_id, message.subject,
                f"{message.text.rstrip()}\n\n✅ {done.note}\n", done.at,
            )  # fmt: skip

    return await press_as(res, actor, claim, seen_before, record, lang)


@dataclass(frozen=True, slots=True)
class Done:
    """What a press is making, inside its write: for the chat's record of it."""

    incident_id: int
    action: str
    note: str
    at: datetime


SeenBefore = Callable[[AsyncSession], Awaitable[bool]]
"""Whether the chat's update (message) was acted on before (a redelivery)."""
Record = Callable[[AsyncSession, Done], Awaitable[None]]
"""Inside the move's write: mark the update acted on (IntegrityError on a redelivery) and owe
the chat's answer (Telegram's edit, WhatsApp's reply)."""


async def press_as(
    res: Resources,
    actor: Actor,
    claim: Press,
    seen_before: SeenBefore,
    record: Record,
    lang: str | None = None,
) -> Pressed | Choice:
    """A press of a genuine button by `actor`, whatever the chat: the move, if the incident is
    still as the message showed it (Stale otherwise, saying who did what). A dispatch button
    that asks whom answers with a Choice; an answer button records the SKPD's answer once, the
    confirm button fills F-01 from it. Words in `lang` (default: the notices' language)."""
    lang = lang or res.settings.notify.language
    answering = claim.action == chat.ANSWER
    async with res.database.read() as session:
        if await seen_before(session):
            raise Redelivered()
        found = await get_incident(session, claim.incident_id, detail=True)
        if found is None or not actor.sees(found.skpd):
            raise NotFound(f"no incident {claim.incident_id}")
        if answering and actor.role is not Role.SKPD_ADMIN:
            raise Forbidden(say("not_skpd_admin", lang, skpd=found.skpd))
        if answering and found.skpd_answer is not None:
            raise _answered_before(found, actor, lang)
        if answering and found.state in FINAL_STATES:
            raise Stale(say("moved", lang, state=word(f"state_{found.state}", lang)))
        if not answering and chat.seen(found.state, found.holder) != claim.seen:
            raise Stale(stale_reason(found, list(found.events), res, lang))
        staff = await people.network_staff(session)
        answerer = await people.user_by_name(session, found.skpd_answer_by or "")
    if claim.action == "dispatch" and claim.assignee_id == 0:
        lifetime = claim.expires_at - res.clock()
        return Choice(
            found.id,
            [
                (user.full_name or user.name, chat.sign_button(
                    res.settings.secret_key, found.id, "dispatch", found.state, found.holder,
                    res.clock(), lifetime, user.id,
                ))
                for user in staff
            ],
        )  # fmt: skip
    move_data: dict[str, Any] = {}
    if claim.action == "dispatch":
        chosen = next((u for u in staff if u.id == claim.assignee_id), None)
        if chosen is None:
            raise Stale(say("moved", lang, state=word(f"state_{found.state}", lang)))
        move_data["assignee"] = chosen.name
    if claim.action == "confirm":
        shown_as = (answerer.full_name or answerer.name) if answerer else found.skpd_answer_by
        f01 = f01_from_answer(found, actor.name, shown_as or "", lang)
        if f01 is None:
            raise Stale(say("moved", lang, state=word(f"state_{found.state}", lang)))
        move_data = f01
    if answering:
        move_data["answer"] = claim.answer
    now = res.clock()
    at = format_moment(now, res.settings.timezone, lang)
    note = say("done", lang, action=action_name(claim.action, lang), who=actor.name, at=at)
    if claim.action == "dispatch":
        note += f" → {move_data['assignee']}"
    if answering:
        note = say(
            "answer_note", lang, answer=answer_word(claim.answer, lang), who=actor.name, at=at
        )

    async def guarded(session: AsyncSession) -> None:
        await record(session, Done(found.id, claim.action, note, now))

    async def unchanged(session: AsyncSession, incident: Incident) -> None:
        # the same question again inside the write: of two presses at once, one wins
        if not answering and chat.seen(incident.state, incident.holder) != claim.seen:
            events = await chat_store.timeline(session, incident.id)
            raise Stale(stale_reason(incident, events, res, lang))

    try:
        incident, row = await make_move(
            res, actor, claim.incident_id, claim.action, move_data, also=guarded, check=unchanged
        )
    except IntegrityError:
        raise Redelivered() from None
    except AlreadyAnswered:  # two admins at once: the other was first
        async with res.database.read() as session:
            again = await get_incident(session, claim.incident_id)
        assert again is not None
        raise _answered_before(again, actor, lang) from None
    return Pressed(incident, row, note)
