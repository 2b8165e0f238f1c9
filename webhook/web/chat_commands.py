"""The chats' commands, whatever the chat (Telegram, WhatsApp, the gateway): `/status` (the open
incidents a person may see), `/piket` (who is on duty), `/insiden 12` (stage, holder,
estimate), `/lapor TEKS` (an SKPD admin's report, the UI's report form's path). Each is one use
case's call and its result in words."""

from __future__ import annotations

from webhook.core.chat import say
from webhook.core.i18n import word
from webhook.core.localtime import format_moment
from webhook.usecases import incidents as incident_uses
from webhook.usecases import roster as roster_uses
from webhook.usecases.context import Actor, Resources


async def answer(res: Resources, actor: Actor, command: str, rest: str) -> str:
    """The answer to `command` (`/status`, `/piket`, `/insiden 12`, `/lapor TEKS`) typed by
    `actor`; Refused from the use cases passes through."""
    lang = res.settings.notify.language
    inventory = res.inventory
    name = inventory.skpd_name if inventory is not None else str
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
        return await report(res, actor, rest)
    return say("unknown_command", lang)


async def report(res: Resources, actor: Actor, rest: str) -> str:
    """`/lapor TEXT` for an SKPD admin of one SKPD; `/lapor SKPD TEXT` otherwise."""
    lang = res.settings.notify.language
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
