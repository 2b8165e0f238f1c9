"""SIGAP's WhatsApp number through Meta's Cloud API: `POST /{version}/{phone-number-id}/messages`
on the Graph API (`SIGAP_WHATSAPP_API_URL`, Meta's by default), with aiohttp, the service's own
HTTP client. The delivery worker sends the outbox's WhatsApp messages with it; the chat door
(`webhook.web.whatsapp`) answers refusals with it.

The Graph API takes no idempotency key: the outbox's goes along as `biz_opaque_callback_data`
(it comes back in the delivery statuses), and a message a replica was killed sending is sent
again (at least once, as every channel).
"""

from __future__ import annotations

from typing import Any

import aiohttp

from webhook.core import whatsapp
from webhook.core.messages import REPLY_TO, Message, options
from webhook.core.phones import wa_id
from webhook.settings import WhatsAppSettings


class WhatsAppError(Exception):
    """The Graph API refused a message (its error's `code` and message), or answered
    nonsense (code None)."""

    def __init__(self, text: str, code: int | None = None) -> None:
        self.code = code
        super().__init__(text)


class WhatsApp:
    def __init__(self, settings: WhatsAppSettings, timeout: float = 10.0) -> None:
        self.settings = settings
        self.url = (
            f"{settings.api_url.rstrip('/')}/{settings.api_version}/"
            f"{settings.phone_number_id}/messages"
        )
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def post(self, client: aiohttp.ClientSession, body: dict[str, Any]) -> str:
        """Send one message's JSON; the id (`wamid.…`) WhatsApp gave it."""
        headers = {"Authorization": f"Bearer {self.settings.token}"}
        async with client.post(self.url, json=body, headers=headers, timeout=self.timeout) as r:
            try:
                answer = await r.json(content_type=None)
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                raise WhatsAppError(f"HTTP {r.status}: not the Graph API's JSON")
            if r.status >= 400 or "error" in answer:
                error = answer.get("error") or {}
                code = error.get("code")
                raise WhatsAppError(
                    f"HTTP {r.status}: ({code}) {error.get('message', 'refused')}",
                    code if isinstance(code, int) else None,
                )
            try:
                return str(answer["messages"][0]["id"])
            except (KeyError, IndexError, TypeError):
                raise WhatsAppError(f"HTTP {r.status}: no message id in the answer") from None

    async def send(
        self,
        client: aiohttp.ClientSession,
        message: Message,
        incident_id: int,
        lang: str,
        key: str,
    ) -> str:
        """One outbox message of incident `incident_id` (its options as reply buttons, a list
        or numbered; a press's answer as a reply to the message pressed on). Refused for the
        24-hour rule, it goes as the template, if one is set."""
        offered = options(message.links, lang)
        to = wa_id(message.recipient)
        body = whatsapp.body(
            to, message.subject, message.text, offered,
            incident_id=incident_id, lang=lang, reply_to=message.links.get(REPLY_TO), key=key,
        )  # fmt: skip
        try:
            return await self.post(client, body)
        except WhatsAppError as error:
            template = self.settings.template
            if error.code != whatsapp.OUTSIDE_WINDOW or template is None:
                raise
        labels = [label for label, _ in offered]
        language = self.settings.template_language
        fallback = whatsapp.template_body(to, template, language, message.subject, labels, key=key)
        return await self.post(client, fallback)

    async def say(
        self, client: aiohttp.ClientSession, to: str, text: str, reply_to: str | None
    ) -> None:
        """A plain text answer, sent at once (a refusal: nothing was done, nothing is owed)."""
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"body": text[: whatsapp.TEXT_BODY], "preview_url": False},
        }
        if reply_to is not None:
            body["context"] = {"message_id": reply_to}
        await self.post(client, body)


SEND_ERRORS = (WhatsAppError,)
