"""WhatsApp (the Cloud API, channel `whatsapp`) and the generic gateway's replies (channel
`webhook`) as use cases: who a number is, a press or a typed reply (`1`, `tangani 12`) made into
the move through the chats' one press (`webhook.usecases.chat.press_as`, as the person whose
number it is), its answer owed through the outbox, and the messages already acted on.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core import chat, phones
from webhook.core.chat import Press, Stale
from webhook.core.messages import REPLY_TO, action_name, choice_links, options
from webhook.core.refusals import Forbidden, NotFound, Refused
from webhook.core.whatsapp import Option, TextMove
from webhook.core.workflow import Role
from webhook.store import people
from webhook.store import whatsapp as store
from webhook.store.queries import get_incident
from webhook.usecases.chat import Choice, Done, Pressed, Redelivered, press_as, stale_reason
from webhook.usecases.context import Actor, Resources

TEXT_MOVE_LIFETIME = timedelta(minutes=1)
"""A typed move is a press of a button made as it is read: it acts on the incident as it is."""
UNKNOWN_NUMBER = {
    "id": "Nomor ini belum terdaftar di SIGAP. Minta koordinator jaringan mengisi nomor "
    "WhatsApp Anda di halaman Pengguna SIGAP (atau di kontak SKPD pada inventaris), lalu "
    "kirim pesan lagi.",
    "en": "This number is not known to SIGAP. Ask the network coordinator to enter your "
    "WhatsApp number on SIGAP's Users page (or in the SKPD's contacts in the inventory), then "
    "write again.",
}
NOT_YOURS = {
    "id": "«{action}» bukan langkah Anda untuk insiden #{id}.",
    "en": "«{action}» is not your move on incident #{id}.",
}
NO_INCIDENT = {
    "id": "Insiden #{id} tidak ada (atau bukan untuk Anda). Tulis: status",
    "en": "There is no incident #{id} (or it is not yours to see). Write: status",
}
NO_OPTION = {
    "id": "Tidak ada pilihan {n} pada pesan terakhir SIGAP untuk Anda. Tulis misalnya: "
    "tangani 12, status, piket, insiden 12.",
    "en": "SIGAP's last message to you has no option {n}. Write e.g.: tangani 12, status, "
    "piket, insiden 12.",
}


class UnknownNumber(Forbidden):
    """A number that is nobody's: it is told how to become someone's, and gets nothing else."""


async def person_of(res: Resources, number: str) -> tuple[Actor, str]:
    """The active person whose number (their record's, or their inventory contact's) this is,
    and the number as SIGAP writes it (E.164)."""
    lang = res.settings.notify.language
    try:
        wanted = phones.e164(number)
    except ValueError:
        raise UnknownNumber(UNKNOWN_NUMBER[lang]) from None
    async with res.database.read() as session:
        users = [user for user in await people.users(session) if user.active]
    contacts = {s.id: s.contacts for s in res.inventory.skpds.values()} if res.inventory else {}
    by_number = {n: name for name, n in phones.phones_of(users, contacts).items()}
    user = next((u for u in users if u.name == by_number.get(wanted)), None)
    if user is None:
        raise UnknownNumber(UNKNOWN_NUMBER[lang])
    return Actor.of(user), wanted


async def first_time(res: Resources, channel: str, message_id: str | None) -> None:
    """Record a message that moves nothing (a command) before it is answered; Redelivered if
    it was acted on before. A gateway's message without an id cannot be told from a repeat."""
    if message_id is None:
        return
    try:
        async with res.database.write() as session:
            await store.mark_inbound(session, channel, message_id, res.clock())
    except IntegrityError:
        raise Redelivered() from None


async def press(
    res: Resources,
    channel: str,
    number: str,
    data: str,
    message_id: str | None,
    reply_to: str | None,
) -> Pressed | Choice:
    """A press of a button (a reply button's or a list row's id, or an option's data) by the
    person whose number it is; the answer saying who did what is owed on `channel` as a reply
    to the message pressed on. A dispatch that asks whom owes the staff to choose from."""
    claim = chat.verify_button(res.settings.secret_key, data, res.clock())
    actor, recipient = await person_of(res, number)
    return await _press(res, channel, actor, recipient, claim, message_id, reply_to)


async def _press(
    res: Resources,
    channel: str,
    actor: Actor,
    recipient: str,
    claim: Press,
    message_id: str | None,
    reply_to: str | None,
) -> Pressed | Choice:
    async def seen_before(session: AsyncSession) -> bool:
        return message_id is not None and await store.seen_inbound(session, channel, message_id)

    async def record(session: AsyncSession, done: Done) -> None:
        if message_id is not None:  # a redelivery fails here
            await store.mark_inbound(session, channel, message_id, done.at)
        links = {REPLY_TO: reply_to} if reply_to else {}
        store.owe_message(
            session, channel, done.incident_id, done.action, actor.name, recipient,
            f"[SIGAP #{done.incident_id}]", f"✅ {done.note}\n", links, done.at,
        )  # fmt: skip

    result = await press_as(res, actor, claim, seen_before, record)
    if isinstance(result, Choice):
        now = res.clock()
        try:
            async with res.database.write() as session:
                if message_id is not None:  # a redelivery fails here
                    await store.mark_inbound(session, channel, message_id, now)
                store.owe_message(
                    session, channel, result.incident_id, "dispatch", actor.name, recipient,
                    f"[SIGAP #{result.incident_id}]",
                    chat.say("choose_staff", res.settings.notify.language, id=result.incident_id),
                    choice_links(result.buttons), now,
                )  # fmt: skip
        except IntegrityError:
            raise Redelivered() from None
    return result


async def option(
    res: Resources,
    channel: str,
    number: str,
    chosen: Option,
    message_id: str | None,
) -> Pressed | Choice:
    """`1`: the chosen option of the last message with options sent to this number."""
    actor, recipient = await person_of(res, number)
    lang = res.settings.notify.language
    async with res.database.read() as session:
        offered = options(await store.last_links(session, channel, recipient), lang)
    if not 1 <= chosen.number <= len(offered):
        raise Refused(NO_OPTION[lang].format(n=chosen.number))
    claim = chat.verify_button(res.settings.secret_key, offered[chosen.number - 1][1], res.clock())
    return await _press(res, channel, actor, recipient, claim, message_id, None)


async def text_move(
    res: Resources, channel: str, number: str, move: TextMove, message_id: str | None
) -> Pressed | Choice:
    """`tangani 12` (`tugaskan 12 sari`): the move as a press of its button now would make it,
    so the workflow's rules, and two people at once, are a press's."""
    actor, recipient = await person_of(res, number)
    now = res.clock()
    async with res.database.read() as session:
        found = await get_incident(session, move.incident_id, detail=True)
        if found is None or not actor.sees(found.skpd):
            lang = res.settings.notify.language
            raise NotFound(NO_INCIDENT[lang].format(id=move.incident_id))
        staff = await people.network_staff(session)
    if move.action not in chat.button_actions(found.state, actor.role):
        if any(move.action in chat.button_actions(found.state, role.value) for role in Role):
            lang = res.settings.notify.language
            name = action_name(move.action, lang)
            raise Forbidden(NOT_YOURS[lang].format(action=name, id=found.id))
        raise Stale(stale_reason(found, list(found.events), res, res.settings.notify.language))
    assignee = 0
    if move.action == "dispatch" and move.rest:
        wanted = move.rest.lower()
        named = [u.id for u in staff if wanted in (u.name.lower(), (u.full_name or "").lower())]
        assignee = named[0] if named else 0
    seen = chat.seen(found.state, found.holder)
    claim = Press(found.id, move.action, assignee, seen, now + TEXT_MOVE_LIFETIME)
    return await _press(res, channel, actor, recipient, claim, message_id, None)
