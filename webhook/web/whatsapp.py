"""The WhatsApp doors: Meta's webhooks for the Cloud API, and the generic gateway's replies.
Each message is translated into one use case's call (`webhook.usecases.whatsapp`, the chats'
commands) and its refusal into an answer; no rule of the SOP is decided here.

`GET /whatsapp/webhook` answers Meta's check of the URL (`hub.mode=subscribe`,
`hub.verify_token` = `SIGAP_WHATSAPP_VERIFY_TOKEN`: `hub.challenge` back; 403 otherwise).
`POST /whatsapp/webhook` takes Meta's notifications, each signed (`X-Hub-Signature-256`:
HMAC-SHA256 of the raw body with the app secret): 401 without the header, 403 with a wrong one,
413 over 256 KiB, 400 when it is not JSON, 422 when not a WhatsApp Business webhook; else 200
once every message is acted on (Meta sends again what was not answered 200, and a message acted
on before acts no more: its id is kept).

`POST /gateway/incoming` takes a gateway's incoming message (Fonnte, WAHA and the like forward
what people write to SIGAP's number): JSON or a form with `from` (or `sender`), `text` (or
`message`), and `id` if the gateway has one, authenticated by `SIGAP_GATEWAY_SECRET` in the
header `X-Sigap-Gateway-Secret` or the URL's `?secret=` (many gateways only take a URL). 401
without it, 403 with a wrong one, 422 naming a missing field.

A move's answer (who did what) is owed through the outbox on the channel it came by; a
refusal, a command's answer and how to become known are said at once, like an HTTP response.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from webhook.core import chat, whatsapp
from webhook.core.chat import say
from webhook.core.messages import Message
from webhook.core.refusals import Refused
from webhook.core.whatsapp import Command, Option, TextMove, read_reply
from webhook.services.delivery import send_webhook
from webhook.services.whatsapp import WhatsApp, WhatsAppError
from webhook.store.database import DATABASE_ERRORS
from webhook.usecases import chat as chat_uses
from webhook.usecases import whatsapp as wa_uses
from webhook.usecases.context import Resources
from webhook.web import chat_commands as commands
from webhook.web.keys import RESOURCES, WHATSAPP

log = logging.getLogger("sigap.whatsapp")
WEBHOOK_PATH = "/whatsapp/webhook"
GATEWAY_PATH = "/gateway/incoming"
GATEWAY_HEADER = "X-Sigap-Gateway-Secret"
BODY_LIMIT = 256 * 1024
"""Bytes a webhook may have: Meta's are a few kilobytes; anything bigger is not one."""

Answer = Callable[[str, str, str | None], Awaitable[None]]
"""Say `text` to `number` at once, as a reply to message `reply_to` where the channel can."""


@dataclass(frozen=True, slots=True)
class Said:
    """One message a person sent, whatever the door."""

    message_id: str | None
    number: str
    text: str | None
    pressed: str | None
    reply_to: str | None


class Door:
    """Acts on what people send, on `channel` (`whatsapp` or the gateway's `webhook`)."""

    def __init__(self, res: Resources, channel: str, answer: Answer) -> None:
        self.res, self.channel, self.answer = res, channel, answer
        self.lang = res.settings.notify.language

    async def handle(self, said: Said) -> str | None:
        """One message; whatever happens, the person gets an answer or their move's reply.
        What was said at once (None: nothing, the outbox owes the reply)."""
        try:
            text = await self._act(said)
        except chat_uses.Redelivered:
            log.info("%s message redelivered, ignored", self.channel)
            return None
        except Refused as refused:
            text = refused.say(self.lang)
        except DATABASE_ERRORS as error:
            log.warning("%s message not acted on: %s", self.channel, error)
            text = say("busy", self.lang)
        except Exception:
            log.exception("%s message failed", self.channel)
            text = say("busy", self.lang)
        if text:
            try:
                await self.answer(said.number, text[: whatsapp.TEXT_BODY], said.reply_to)
            except (WhatsAppError, aiohttp.ClientError, TimeoutError) as error:
                log.warning("%s answer failed: %s", self.channel, error)
        return text

    async def _act(self, said: Said) -> str | None:
        res, channel, mid = self.res, self.channel, said.message_id
        if said.pressed is not None:
            await wa_uses.press(res, channel, said.number, said.pressed, mid, said.reply_to)
            return None
        if said.text is None:  # a picture, a sticker, a location: nothing SIGAP reads
            await wa_uses.person_of(res, said.number)
            return say("unknown_command", self.lang)
        if len(said.text) > chat.TEXT_LIMIT:
            return say("too_long", self.lang, limit=chat.TEXT_LIMIT)
        reply = read_reply(said.text)
        if isinstance(reply, Option):
            await wa_uses.option(res, channel, said.number, reply, mid)
            return None
        if isinstance(reply, TextMove):
            await wa_uses.text_move(res, channel, said.number, reply, mid)
            return None
        assert isinstance(reply, Command)
        actor, _ = await wa_uses.person_of(res, said.number)
        await wa_uses.first_time(res, channel, mid)
        return await commands.answer(res, actor, reply.command, reply.rest)


async def _body(request: web.Request) -> bytes:
    if (request.content_length or 0) > BODY_LIMIT:
        raise web.HTTPRequestEntityTooLarge(
            max_size=BODY_LIMIT, actual_size=request.content_length or 0
        )
    body = await request.content.read(BODY_LIMIT + 1)
    if len(body) > BODY_LIMIT:
        raise web.HTTPRequestEntityTooLarge(max_size=BODY_LIMIT, actual_size=len(body))
    return body


def _cloud(request: web.Request) -> WhatsApp:
    cloud = request.app.get(WHATSAPP)
    if cloud is None:
        raise web.HTTPNotFound(text="WhatsApp is not set up (SIGAP_WHATSAPP_TOKEN)\n")
    return cloud


async def verify(request: web.Request) -> web.Response:
    """Meta's check of the webhook's URL, when it is set in the app's dashboard."""
    cloud = _cloud(request)
    query = request.query
    token = query.get("hub.verify_token", "")
    expected = cloud.settings.verify_token
    if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
        token.encode(), expected.encode()
    ):
        raise web.HTTPForbidden(text="hub.mode must be subscribe and hub.verify_token match\n")
    return web.Response(text=query.get("hub.challenge", ""))


async def notification(request: web.Request) -> web.Response:
    cloud = _cloud(request)
    signature = request.headers.get(whatsapp.SIGNATURE_HEADER)
    if not signature:
        raise web.HTTPUnauthorized(text=f"{whatsapp.SIGNATURE_HEADER} missing\n")
    raw = await _body(request)
    if not whatsapp.signed(cloud.settings.app_secret, raw, signature):
        raise web.HTTPForbidden(text=f"{whatsapp.SIGNATURE_HEADER} does not match the body\n")
    try:
        payload = json.loads(raw)
    except ValueError as error:
        raise web.HTTPBadRequest(text=f"not JSON: {error}\n") from None
    try:
        messages = whatsapp.incoming(payload)
    except ValueError as error:
        raise web.HTTPUnprocessableEntity(text=f"{error}\n") from None
    res = request.app[RESOURCES]
    async with aiohttp.ClientSession() as client:

        async def answer(number: str, text: str, reply_to: str | None) -> None:
            await cloud.say(client, number, text, reply_to)

        door = Door(res, "whatsapp", answer)
        for m in messages:
            await door.handle(Said(m.message_id, m.sender, m.text, m.pressed, m.context_id))
    return web.Response(text="ok\n")


async def gateway_incoming(request: web.Request) -> web.Response:
    """A gateway's incoming message; the answer said at once is also the response's `reply`."""
    res = request.app[RESOURCES]
    secret = res.settings.gateway_secret
    if secret is None:
        raise web.HTTPNotFound(text="the gateway's replies are not set up (SIGAP_GATEWAY_SECRET)\n")
    given = request.headers.get(GATEWAY_HEADER) or request.query.get("secret", "")
    if not given:
        raise web.HTTPUnauthorized(text=f"{GATEWAY_HEADER} (or ?secret=) missing\n")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise web.HTTPForbidden(text=f"{GATEWAY_HEADER} wrong\n")
    said = _gateway_message(await _body(request), request.content_type)
    config = res.settings.notify.webhook

    async def answer(number: str, text: str, reply_to: str | None) -> None:
        if config is None:  # no gateway to send by: the response's `reply` is all
            return
        message = Message("webhook", number, "", "SIGAP", text + "\n")
        async with aiohttp.ClientSession() as client:
            await send_webhook(client, config, message, f"sigap-{uuid.uuid4().hex}")

    reply = await Door(res, "webhook", answer).handle(said)
    return web.json_response({"reply": reply})


def _gateway_message(raw: bytes, content_type: str) -> Said:
    """`from`/`sender`, `text`/`message`, `id` of a JSON or form body (422 naming a field)."""
    fields: dict[str, object]
    try:
        if content_type == "application/x-www-form-urlencoded":
            fields = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        else:
            parsed = json.loads(raw)
            if not isinstance(parsed, dict):
                raise web.HTTPUnprocessableEntity(text="expected a JSON object\n")
            fields = parsed
    except (ValueError, UnicodeDecodeError) as error:
        raise web.HTTPBadRequest(text=f"neither JSON nor a form: {error}\n") from None
    sender = fields.get("from") or fields.get("sender")
    text = fields.get("text") if "text" in fields else fields.get("message")
    if not isinstance(sender, str) or not sender.strip():
        raise web.HTTPUnprocessableEntity(
            text="from: missing; the sender's number, e.g. 6281250011037\n"
        )
    if not isinstance(text, str):
        raise web.HTTPUnprocessableEntity(text="text: missing; what the person wrote\n")
    number = sender.split("@", 1)[0].strip()  # WAHA's 6281250011037@c.us
    message_id = fields.get("id")
    return Said(str(message_id)[:200] if message_id else None, number, text, None, None)


def setup_whatsapp(app: web.Application) -> None:
    app.router.add_get(WEBHOOK_PATH, verify)
    app.router.add_post(WEBHOOK_PATH, notification)
    app.router.add_post(GATEWAY_PATH, gateway_incoming)
