"""A stand-in for Meta's Graph API, WhatsApp Cloud API part (aiohttp, 127.0.0.1, port 0), for
the tests: SIGAP's client is pointed at it by `SIGAP_WHATSAPP_API_URL`, as at Meta's.

It speaks the documented protocol (https://developers.facebook.com/docs/whatsapp/cloud-api/):
`POST /{version}/{phone-number-id}/messages` with `Authorization: Bearer <token>` and a JSON
body (`messaging_product: whatsapp`, `to`, `type` text or interactive), answering
`{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}], "messages": [{"id":
"wamid…"}]}` or Meta's error object (`{"error": {"message", "type", "code", "error_data",
"fbtrace_id"}}`: 401 code 190 for a bad token, 400 code 100 or 131009 for a bad parameter).
It holds an interactive message to Meta's limits: at most 3 reply buttons, titles at most 20
characters, ids at most 256 and distinct, a body at most 1024; a list's rows at most 10 with
titles at most 24 and ids at most 200; a text at most 4096.

And it is the people's phones: a test makes a person press a reply button or type, and the
stand-in posts the webhook Meta would, signed with the app secret (`X-Hub-Signature-256`), to
SIGAP's `/whatsapp/webhook`, returning SIGAP's status.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

VERSION = "v23.0"
PHONE_NUMBER_ID = "109876543210987"
BUSINESS_NUMBER = "6281100001111"
WABA_ID = "102938475610293"


class Invalid(Exception):
    def __init__(self, code: int, message: str, details: str) -> None:
        self.code, self.message, self.details = code, message, details
        super().__init__(details)


def check_message(body: Any) -> None:
    """Meta's rules for a message body (Invalid otherwise)."""
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        raise Invalid(100, "Invalid parameter", "messaging_product must be whatsapp")
    to = body.get("to")
    if not isinstance(to, str) or not to.lstrip("+").isdigit():
        raise Invalid(100, "Invalid parameter", "to must be a phone number")
    kind = body.get("type", "text")
    if kind == "text":
        text = body.get("text", {}).get("body")
        if not isinstance(text, str) or not 0 < len(text) <= 4096:
            raise Invalid(100, "Invalid parameter", "text.body: 1 to 4096 characters")
        return
    if kind == "template":
        template = body.get("template", {})
        if not template.get("name") or not template.get("language", {}).get("code"):
            raise Invalid(100, "Invalid parameter", "template.name and language.code needed")
        for component in template.get("components", []):
            for parameter in component.get("parameters", []):
                text = parameter.get("text", "")
                if "\n" in text or "\t" in text or "     " in text or len(text) > 1024:
                    raise Invalid(
                        132018,
                        "There was an issue with the parameters in your template.",
                        "Param text cannot have new-line/tab characters or more than 4 "
                        "consecutive spaces",
                    )
        return
    if kind != "interactive":
        raise Invalid(100, "Invalid parameter", f"type {kind!r} not supported here")
    interactive = body.get("interactive", {})
    text = interactive.get("body", {}).get("text")
    if not isinstance(text, str) or not 0 < len(text) <= 1024:
        raise Invalid(131009, "Parameter value is not valid", "body.text: 1 to 1024 characters")
    action = interactive.get("action", {})
    if interactive.get("type") == "button":
        buttons = action.get("buttons", [])
        if not 1 <= len(buttons) <= 3:
            raise Invalid(131009, "Parameter value is not valid", "buttons: 1 to 3")
        ids = [b["reply"]["id"] for b in buttons]
        for b in buttons:
            if b.get("type") != "reply" or not 0 < len(b["reply"]["title"]) <= 20:
                raise Invalid(131009, "Parameter value is not valid", "button title: 1 to 20")
            if not 0 < len(b["reply"]["id"]) <= 256:
                raise Invalid(131009, "Parameter value is not valid", "button id: 1 to 256")
        if len(set(ids)) != len(ids):
            raise Invalid(131009, "Parameter value is not valid", "button ids must be unique")
        return
    if interactive.get("type") == "list":
        if not 0 < len(action.get("button", "")) <= 20:
            raise Invalid(131009, "Parameter value is not valid", "list button: 1 to 20")
        rows = [row for section in action.get("sections", []) for row in section["rows"]]
        if not 1 <= len(rows) <= 10:
            raise Invalid(131009, "Parameter value is not valid", "rows: 1 to 10")
        for row in rows:
            if not 0 < len(row["title"]) <= 24 or not 0 < len(row["id"]) <= 200:
                raise Invalid(131009, "Parameter value is not valid", "row title/id too long")
        return
    raise Invalid(100, "Invalid parameter", "interactive.type must be button or list")


@dataclass
class Sent:
    body: dict[str, Any]
    at: float
    """time.monotonic() when the server received it."""
    message_id: str

    @property
    def to(self) -> str:
        return str(self.body["to"])

    @property
    def text(self) -> str:
        if self.body.get("type") == "template":
            return str(self.body["template"]["components"][0]["parameters"][0]["text"])
        if self.body.get("type") == "interactive":
            return str(self.body["interactive"]["body"]["text"])
        return str(self.body["text"]["body"])

    @property
    def options(self) -> list[tuple[str, str]]:
        """(title, id) of its reply buttons or list rows."""
        if self.body.get("type") != "interactive":
            return []
        action = self.body["interactive"]["action"]
        if "buttons" in action:
            return [(b["reply"]["title"], b["reply"]["id"]) for b in action["buttons"]]
        return [(r["title"], r["id"]) for s in action["sections"] for r in s["rows"]]

    @property
    def reply_to(self) -> str | None:
        context = self.body.get("context")
        return str(context["message_id"]) if context else None


@dataclass
class GraphStandIn:
    token: str
    app_secret: str
    url: str = ""
    hook: str = ""
    """SIGAP's webhook URL, where the people's messages are posted."""
    sent: list[Sent] = field(default_factory=list)
    failures: list[tuple[int, int, str]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    """Bodies answered with an error, and why."""
    templates: dict[str, int] = field(default_factory=dict)
    """Approved templates: name -> how many body variables."""
    windows: set[str] | None = None
    """None: every number may be sent anything. A set: only these numbers (who wrote within
    the last 24 hours) may be sent free-form messages; the others only a template."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    # --- what a test does -------------------------------------------------------------------

    def fail(self, status: int, code: int = 131000, message: str = "Something went wrong") -> None:
        """The next message is refused so (500 code 131000, 429 code 130429: rate limit)."""
        self.failures.append((status, code, message))

    async def wait_for(self, count: int = 1, to: str | None = None) -> list[Sent]:
        """The messages sent (to `to`), once there are at least `count` (30 s at most: a loaded
        test machine is slow, a message that never comes fails the test all the same)."""
        async with asyncio.timeout(30), self._arrived:
            await self._arrived.wait_for(lambda: len(self.to(to)) >= count)
        return self.to(to)

    def to(self, number: str | None) -> list[Sent]:
        return [s for s in self.sent if number is None or s.to == number]

    def envelope(
        self, sender: str, message: dict[str, Any], name: str = "Pengguna"
    ) -> dict[str, Any]:
        """A webhook as Meta posts it, carrying one message from `sender`."""
        return {
            "object": "whatsapp_business_account",
            "entry": [{
                "id": WABA_ID,
                "changes": [{
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": BUSINESS_NUMBER,
                            "phone_number_id": PHONE_NUMBER_ID,
                        },
                        "contacts": [{"profile": {"name": name}, "wa_id": sender}],
                        "messages": [{
                            "from": sender,
                            "id": f"wamid.IN{next(self._ids):06d}",
                            "timestamp": str(int(time.time())),
                            **message,
                        }],
                    },
                }],
            }],
        }  # fmt: skip

    def press_of(self, sender: str, sent: Sent, title: str) -> dict[str, Any]:
        """The webhook of `sender` pressing the button (or list row) `title` of `sent`."""
        data = dict(sent.options)[title]
        kind = "list_reply" if "sections" in sent.body["interactive"]["action"] else "button_reply"
        return self.envelope(sender, {
            "type": "interactive",
            "interactive": {"type": kind, kind: {"id": data, "title": title}},
            "context": {"from": BUSINESS_NUMBER, "id": sent.message_id},
        })  # fmt: skip

    def text_of(self, sender: str, text: str) -> dict[str, Any]:
        return self.envelope(sender, {"type": "text", "text": {"body": text}})

    async def post(
        self, payload: dict[str, Any], *, signature: str | None = "good", secret: str | None = None
    ) -> int:
        """Post `payload` to SIGAP's webhook as Meta would (`signature`: good, None for none, or
        the header's literal value); SIGAP's status."""
        raw = json.dumps(payload).encode()
        if self.windows is not None:  # whoever writes opens their 24-hour window
            for entry in payload.get("entry", []):
                for change in entry.get("changes", []):
                    for message in change.get("value", {}).get("messages", []):
                        self.windows.add(str(message.get("from")))
        headers = {"Content-Type": "application/json"}
        if signature == "good":
            mac = hmac.new((secret or self.app_secret).encode(), raw, hashlib.sha256)
            headers["X-Hub-Signature-256"] = "sha256=" + mac.hexdigest()
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        async with (
            aiohttp.ClientSession() as client,
            client.post(self.hook, data=raw, headers=headers) as response,
        ):
            return response.status

    # --- the Graph API -----------------------------------------------------------------------

    def _error(self, status: int, code: int, message: str, details: str = "") -> web.Response:
        error = {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details or message},
            "fbtrace_id": f"A{next(self._ids):010d}",
        }
        return web.json_response({"error": error}, status=status)

    async def messages(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if request.match_info["phone"] != PHONE_NUMBER_ID:
            return self._error(
                400, 100, f"Unsupported post request. Object with ID "
                f"'{request.match_info['phone']}' does not exist",
            )  # fmt: skip
        try:
            body = await request.json()
            check_message(body)
        except ValueError:
            return self._error(400, 100, "Invalid parameter", "the body is not JSON")
        except Invalid as invalid:
            self.refused.append({"body": body, "why": invalid.details})
            return self._error(400, invalid.code, invalid.message, invalid.details)
        if self.failures:
            status, code, message = self.failures.pop(0)
            return self._error(status, code, message)
        to = str(body["to"]).lstrip("+")
        if body.get("type") == "template":
            name = body["template"]["name"]
            given = sum(
                len(c.get("parameters", [])) for c in body["template"].get("components", [])
            )
            if self.templates.get(name) != given:
                return self._error(404, 132001, "Template name does not exist in the translation")
        elif self.windows is not None and to not in self.windows:
            return self._error(
                400, 131047, "Re-engagement message",
                "Message failed to send because more than 24 hours have passed since the "
                "customer last replied to this number.",
            )  # fmt: skip
        message_id = f"wamid.OUT{next(self._ids):06d}"
        async with self._arrived:
            self.sent.append(Sent(body, time.monotonic(), message_id))
            self._arrived.notify_all()
        return web.json_response({
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": to}],
            "messages": [{"id": message_id}],
        })  # fmt: skip


async def start(token: str, app_secret: str, port: int = 0) -> tuple[GraphStandIn, web.AppRunner]:
    """The stand-in, listening on 127.0.0.1 (`port`, or any free one)."""
    standin = GraphStandIn(token, app_secret)
    app = web.Application()
    app.router.add_post("/{version}/{phone}/messages", standin.messages)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = runner.addresses[0][1]
    standin.url = f"http://127.0.0.1:{port}"
    return standin, runner
