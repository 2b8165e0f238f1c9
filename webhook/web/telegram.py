"""The Telegram door: updates in, answers out. Each update is translated into one use case's
call (`webhook.usecases.chat`, `.incidents`, `.roster`) and its result or refusal into an
answer; no rule of the SOP is decided here.

Updates come by long polling (`getUpdates`), on the leading replica only (`Leadership`), from
where the last replica left off (the highest `update_id` acted on, stored with the act), so a
redelivered update acts no more. With `SIGAP_TELEGRAM_WEBHOOK_SECRET` set they come instead to
`POST /telegram/webhook` on any replica (Telegram's `setWebhook`, made at start), each checked
by its `X-Telegram-Bot-Api-Secret-Token` header. A press is answered at once
(`answerCallbackQuery`: what was done, or why nothing was); the edit of its message is owed
through the outbox. Command replies are answers, sent directly, like an HTTP response, in the
sender's language (`/bahasa`, else their Telegram's). In a group only commands are answered;
a coordinator's `/grup noc|SKPD|lepas` sets it. The page `/akun` shows a person's one-time link
code and the deep link `https://t.me/<bot>?start=<code>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from telegram import CallbackQuery, Update
from telegram import Message as ChatMessage
from telegram.constants import ChatType
from telegram.error import RetryAfter, TelegramError

from webhook.core import chat
from webhook.core.chat import say
from webhook.core.refusals import Refused
from webhook.services.leadership import Leadership
from webhook.services.telegram import Telegram, keyboard, retry_after_seconds
from webhook.store.database import DATABASE_ERRORS
from webhook.usecases import chat as chat_uses
from webhook.usecases.context import Actor, Resources
from webhook.usecases.status import StatusCache
from webhook.web import chat_commands as commands
from webhook.web.keys import LEADERSHIP, RESOURCES, TELEGRAM
from webhook.web.status import STATUS_CACHE
from webhook.web.ui.login import current_user, posted
from webhook.web.ui.rendering import refusal, render

log = logging.getLogger("sigap.telegram")
POLL_TIMEOUT = 25
"""Seconds a `getUpdates` long poll waits for an update (Telegram holds the request)."""
POLL_BACKOFF = 5.0
"""Seconds before polling again after Telegram could not be reached."""
ALLOWED_UPDATES = ["message", "callback_query"]


class Door:
    """Answers updates with the use cases' results, in the words of whoever sent them."""

    def __init__(
        self, telegram: Telegram, res: Resources, status: StatusCache | None = None
    ) -> None:
        self.telegram, self.res, self.status = telegram, res, status
        """`status`: the status page's board (`/status` of an SKPD admin shows its nodes)."""

    async def handle(self, update: Update) -> None:
        """One update; whatever happens, the loop goes on and the person gets an answer."""
        lang: str = self.res.settings.notify.language
        try:
            sender = update.effective_user
            if sender is not None:
                lang = await chat_uses.language(self.res, sender.id, sender.language_code)
            if update.callback_query is not None:
                await self.pressed(update.update_id, update.callback_query, lang)
            elif update.message is not None and update.message.text is not None:
                await self.message(update.update_id, update.message, lang)
        except chat_uses.Redelivered:
            log.info("telegram update redelivered, ignored", extra={"update": update.update_id})
        except DATABASE_ERRORS as error:
            log.warning("telegram update not acted on", extra={"error": str(error)})
            await self._tell(update, say("busy", lang))
        except TelegramError as error:
            log.warning("telegram answer failed", extra={"error": str(error)})
        except Exception:
            log.exception("telegram update failed", extra={"update": update.update_id})
            await self._tell(update, say("busy", lang))

    async def _tell(self, update: Update, text: str) -> None:
        with contextlib.suppress(TelegramError):
            if update.callback_query is not None:
                await update.callback_query.answer(text, show_alert=True)
            elif update.message is not None:
                await update.message.reply_text(text)

    async def pressed(self, update_id: int, query: CallbackQuery, lang: str) -> None:
        shown = None
        message = query.message
        if isinstance(message, ChatMessage) and message.text:
            subject, _, text = message.text.partition("\n")
            shown = chat_uses.Shown(message.chat.id, message.message_id, subject, text)
        try:
            result = await chat_uses.press(
                self.res, query.from_user.id, query.data or "", update_id, shown, lang
            )
        except Refused as refused:
            await query.answer(refused.say(lang)[:200], show_alert=True)
            return
        if isinstance(result, chat_uses.Choice):
            await query.answer()
            if shown is not None:
                await self.telegram.bot.send_message(
                    shown.chat_id,
                    say("choose_staff", lang, id=result.incident_id),
                    reply_markup=keyboard(result.buttons),
                )
            return
        await query.answer(result.note[:200])

    async def message(self, update_id: int, message: ChatMessage, lang: str) -> None:
        text = message.text or ""
        in_group = message.chat.type != ChatType.PRIVATE
        if len(text) > chat.TEXT_LIMIT:
            await message.reply_text(say("too_long", lang, limit=chat.TEXT_LIMIT))
            return
        if in_group and not text.startswith("/"):
            return  # a group's conversation is its members', not the bot's
        if in_group:  # its id, for `sigap-webhook telegram-group set`
            log.info("telegram group command", extra={"chat": message.chat.id})
        command, _, rest = text.strip().partition(" ")
        command = command.split("@", 1)[0].lower()
        rest = rest.strip()
        person = message.from_user.id if message.from_user is not None else message.chat.id
        try:
            if command == "/start" and rest:
                if in_group:  # the code would link the group as the person
                    raise Refused(say("private_only", lang))
                user = await chat_uses.link(self.res, message.chat.id, rest, update_id, lang)
                answer = say("linked", lang, name=user.full_name or user.name)
            else:
                actor = await chat_uses.chat_user(self.res, person, lang)
                await chat_uses.first_time(self.res, update_id)
                if command == "/grup":
                    answer = await chat_uses.set_group(
                        self.res, actor, message.chat.id, rest.lower(), message.chat.title or "",
                        lang,
                    )  # fmt: skip
                elif command == "/bahasa":
                    await chat_uses.choose_language(self.res, person, rest.lower(), lang)
                    lang = rest.lower()
                    answer = say("language_set", lang)
                else:
                    answer = await commands.answer(
                        self.res, actor, command, rest, lang, self.status
                    )
        except Refused as refused:
            answer = refused.say(lang)
        await message.reply_text(answer[: chat.TEXT_LIMIT])


async def poll(door: Door, res: Resources, leadership: Leadership) -> None:
    """Long-poll Telegram while this replica leads, until cancelled."""
    offset: int | None = None
    bot = door.telegram.bot
    while True:
        if not leadership.is_leader:
            offset = None  # another replica may have moved on meanwhile
            await leadership.elected()
        try:
            if offset is None:
                offset = await chat_uses.resume_offset(res)
            updates = await bot.get_updates(
                offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
            )
        except RetryAfter as error:
            await asyncio.sleep(retry_after_seconds(error))
            continue
        except (TelegramError, *DATABASE_ERRORS) as error:
            log.warning("telegram polling failed", extra={"error": str(error)})
            await asyncio.sleep(POLL_BACKOFF)
            continue
        if updates:
            await asyncio.gather(*(door.handle(update) for update in updates))
            offset = max(update.update_id for update in updates) + 1


WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATE_LIMIT = 256 * 1024
"""Bytes an update may have: Telegram's are a few kilobytes; anything bigger is not one."""
DOOR: web.AppKey[Door] = web.AppKey("telegram_door")


def telegram_ctx(telegram: Telegram) -> Callable[[web.Application], AsyncIterator[None]]:
    """Start the bot (its username for deep links) and either the polling loop (on the leader)
    or Telegram's webhook to this service."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        res = app[RESOURCES]
        secret = res.settings.telegram_webhook_secret
        try:
            await telegram.start()
            if secret is not None:
                url = f"{res.settings.external_url}{WEBHOOK_PATH}"  # set: checked by the settings
                await telegram.bot.set_webhook(
                    url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
                )
            else:  # Telegram refuses getUpdates while a webhook is set (an earlier mode)
                await telegram.bot.delete_webhook()
        except TelegramError as error:
            log.warning("telegram bot not started", extra={"error": str(error)})
        door = Door(telegram, res, app.get(STATUS_CACHE))
        app[DOOR] = door
        tasks = []
        if secret is None:
            tasks.append(asyncio.create_task(poll(door, res, app[LEADERSHIP])))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await telegram.stop()

    return ctx


async def webhook_update(request: web.Request) -> web.Response:
    """One update Telegram posts (webhook mode): 200 once handled, whatever its outcome (the
    person got the answer; Telegram would only post it again)."""
    secret = request.app[RESOURCES].settings.telegram_webhook_secret
    given = request.headers.get(SECRET_HEADER, "")
    if secret is None or not hmac.compare_digest(given.encode(), secret.encode()):
        raise web.HTTPUnauthorized(text=f"{SECRET_HEADER} missing or wrong\n")
    if (request.content_length or 0) > UPDATE_LIMIT:
        raise web.HTTPRequestEntityTooLarge(
            max_size=UPDATE_LIMIT, actual_size=request.content_length or 0
        )
    body = await request.content.read(UPDATE_LIMIT + 1)
    if len(body) > UPDATE_LIMIT:
        raise web.HTTPRequestEntityTooLarge(max_size=UPDATE_LIMIT, actual_size=len(body))
    door = request.app.get(DOOR)
    if door is None:
        raise web.HTTPServiceUnavailable(text="the Telegram bot is starting\n")
    try:
        update = Update.de_json(json.loads(body), door.telegram.bot)
    except (ValueError, TypeError, KeyError) as error:
        raise web.HTTPBadRequest(text=f"not a Telegram update: {error}\n") from None
    if update is not None:
        await door.handle(update)
    return web.Response(text="ok\n")


async def account_page(request: web.Request) -> web.Response:
    user, _ = await current_user(request)
    linked = await chat_uses.linked_chat(request.app[RESOURCES], Actor.of(user))
    return render(
        request, "account.html", user=user, linked=linked, code=None, telegram=_bot(request)
    )


async def new_link_code(request: web.Request) -> web.Response:
    user, _ = await posted(request)
    bot = _bot(request)
    if bot is None:
        raise web.HTTPNotFound(text="Telegram is not set up (SIGAP_TELEGRAM_BOT_TOKEN)\n")
    try:
        code, expires = await chat_uses.new_code(request.app[RESOURCES], Actor.of(user))
    except Refused as refused:
        raise refusal(refused, request) from None
    linked = await chat_uses.linked_chat(request.app[RESOURCES], Actor.of(user))
    return render(
        request, "account.html", user=user, linked=linked, code=code, expires=expires,
        telegram=bot, deep_link=chat.deep_link(bot.username, code) if bot.username else None,
    )  # fmt: skip


def _bot(request: web.Request) -> Telegram | None:
    return request.app.get(TELEGRAM)


def setup_telegram(app: web.Application) -> None:
    """The account page (always), and the bot when a token is set."""
    app.router.add_get("/akun", account_page)
    app.router.add_post("/akun/telegram", new_link_code)
    app.router.add_post(WEBHOOK_PATH, webhook_update)
    settings = app[RESOURCES].settings
    if settings.telegram_bot_token:
        telegram = app[TELEGRAM]
        app.cleanup_ctx.append(telegram_ctx(telegram))
