"""The chats' commands, whatever the chat (Telegram, WhatsApp, the gateway): `/status` (the open
incidents a person may see; for an SKPD admin, their SKPDs' condition and nodes), `/piket` (who
is on duty), `/insiden 12` (stage, holder, estimate), `/lapor TEKS` (an SKPD admin's report,
the UI's report form's path). Each is one use case's call and its result in words."""

from __future__ import annotations

from webhook.core.chat import say
from webhook.core.i18n import word
from webhook.core.localtime import format_moment
from webhook.core.status import say as status_words
from webhook.usecases import incidents as incident_uses
from webhook.usecases import roster as roster_uses
from webhook.usecases.context import Actor, Resources
from webhook.usecases.status import StatusCache, status_board


async def answer(
    res: Resources,
    actor: Actor,
    command: str,
    rest: str,
    lang: str | None = None,
    status: StatusCache | None = None,
) -> str:
    """The answer to `command` (`/status`, `/piket`, `/insiden 12`, `/lapor TEKS`) typed by
    `actor`, in `lang` (default: the notices' language); `status`: the status page's board, for
    an SKPD admin's `/status`. Refused from the use cases passes through."""
    lang = lang or res.settings.notify.language
    inventory = res.inventory
    name = inventory.skpd_name if inventory is not None else str
    if command == "/status" and actor.skpds is not None and status is not None:
        return await skpd_status(res, actor, status, lang)
    if command == "/status":
        found = await incident_uses.incidents(res, actor, is_open=True)
        return "\n".join(
            f"#{i.id} {name(i.skpd)} · {word(f'state_{i.state}', lang)}"
            + (f" · {i.holder}" if i.holder else "")
            for i in found
        ) or say("no_open", lang)
    if command == "/piket":
        duty = await roster_uses.on_duty(res)
        lines = [say("on_duty", lang, now=", ".join(duty.now) or say("nobody", lang))]
        if duty.next and duty.next_from is not None:
            at = format_moment(duty.next_from, res.settings.timezone, lang)
            lines.append(say("next_duty", lang, at=at, next=", ".join(duty.next)))
        return "\n".join(lines)
    if command == "/insiden":
        if not rest.lstrip("#").isdigit():
            return say("insiden_usage", lang)
        incident = await incident_uses.incident(res, actor, int(rest.lstrip("#")))
        lines = [
            f"#{incident.id} {name(incident.skpd)}",
            f"{word('state', lang)}: {word(f'state_{incident.state}', lang)}",
            f"{say('holder', lang)}: {incident.holder or '-'}",
        ]
        if incident.estimated_recovery_at is not None:
            estimate = format_moment(incident.estimated_recovery_at, res.settings.timezone, lang)
            lines.append(f"{word('estimated_recovery_at', lang)}: {estimate}")
        return "\n".join(lines)
    if command == "/lapor":
        return await report(res, actor, rest, lang)
    return say("unknown_command", lang)


async def skpd_status(res: Resources, actor: Actor, status: StatusCache, lang: str) -> str:
    """An SKPD admin's `/status`: each of their SKPDs' condition now (the status page's), its
    nodes up (✅), down (❌) or unread (?), and its open incident."""
    board = await status_board(res, status)
    up = dict(board.node_up)
    inventory = res.inventory
    marks = {True: "✅", False: "❌", None: "?"}
    lines = []
    for skpd in board.skpds:
        if not actor.sees(skpd.id):
            continue
        lines.append(f"{skpd.name}: {status_words(skpd.condition.value, lang)}")
        nodes = inventory.skpds[skpd.id].node_ids if inventory is not None else ()
        lines.append(" · ".join(f"{marks[up.get(node)]} {node}" for node in nodes))
        if skpd.incident is not None:
            lines.append(f"{word('state', lang)}: {word(f'state_{skpd.incident.state}', lang)}")
    return "\n".join(lines) or say("no_open", lang)


async def report(res: Resources, actor: Actor, rest: str, lang: str) -> str:
    """`/lapor TEXT` for an SKPD admin of one SKPD; `/lapor SKPD TEXT` otherwise."""
    if not rest:
        return say("lapor_usage", lang)
    skpds = incident_uses.reportable_skpds(res, actor)
    first, _, after = rest.partition(" ")
    if len(skpds) == 1 and actor.skpds is not None:
        skpd, description = skpds[0], rest
    elif first in skpds and after.strip():
        skpd, description = first, after.strip()
    else:
        return say("lapor_which", lang, skpds=", ".join(skpds))
    incident, _ = await incident_uses.report(res, actor, {"skpd": skpd, "description": description})
    return say("reported", lang, id=incident.id)
