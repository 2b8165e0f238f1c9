"""SIGAP's Telegram bot (python-telegram-bot's `Bot`): one per installation, its token from
`SIGAP_TELEGRAM_BOT_TOKEN`, talking to Telegram or to a self-hosted Bot API server
(`SIGAP_TELEGRAM_API_URL`). The delivery worker sends the outbox's Telegram messages with it;
the chat door (`webhook.web.telegram`) polls its updates and answers with it."""

from __future__ import annotations

import os
import warnings
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from webhook.core.chat import as_html
from webhook.core.messages import BUTTON, EDIT, Message, button_label

# python-telegram-bot's time periods as timedelta (its next major version's default): with the
# old ints, even building its RetryAfter (a 429) warns.
os.environ.setdefault("PTB_TIMEDELTA", "true")

DEFAULT_API_URL = "https://api.telegram.org"
POOL = 32
"""Connections to the Bot API at once: the delivery worker sends a batch concurrently."""


class TelegramDeferred(Exception):
    """Telegram's flood control (429): the next attempt not before `retry_after` seconds."""

    def __init__(self, retry_after: float, description: str) -> None:
        self.retry_after = retry_after
        super().__init__(description)


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # an int today, a timedelta in python-telegram-bot's next
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """One button a row: (label, callback data)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data)] for label, data in buttons]
    )


class Telegram:
    """The bot, started once (`getMe` tells its username for the deep links)."""

    def __init__(self, token: str, api_url: str | None = None, timeout: float = 10.0) -> None:
        base = (api_url or DEFAULT_API_URL).rstrip("/")
        self.bot = Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=HTTPXRequest(
                connection_pool_size=POOL, read_timeout=timeout, write_timeout=timeout
            ),
            get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=timeout),
        )
        self.username = ""

    async def start(self) -> None:
        await self.bot.initialize()
        self.username = self.bot.username

    async def stop(self) -> None:
        await self.bot.shutdown()

    async def send(self, message: Message, lang: str) -> None:
        """Send (or, for an edit, replace) one outbox message; TelegramDeferred on a 429, a
        TelegramError when Telegram refuses. An edit that changes nothing (a repeat after a
        crash) counts as sent."""
        if not self.username:  # Telegram was out of reach when the service started
            await self.start()
        text = as_html(message.subject, message.text)
        buttons = [
            (button_label(key, lang), data)
            for key, data in message.links.items()
            if key.startswith(BUTTON)
        ]
        try:
            if EDIT in message.links:
                try:
                    await self.bot.edit_message_text(
                        text,
                        chat_id=int(message.recipient),
                        message_id=int(message.links[EDIT]),
                        parse_mode=ParseMode.HTML,
                    )
                except BadRequest as error:
                    if "not modified" not in str(error).lower():
                        raise
                return
            await self.bot.send_message(
                int(message.recipient),
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except RetryAfter as error:
            raise TelegramDeferred(retry_after_seconds(error), str(error)) from None


SEND_ERRORS = (TelegramError, TelegramDeferred)
