"""A stand-in Telegram Bot API server (aiohttp, 127.0.0.1, port 0) for the tests: the real
python-telegram-bot client is pointed at it as at a self-hosted Bot API server
(`SIGAP_TELEGRAM_API_URL`).

It speaks the documented protocol (https://core.telegram.org/bots/api): `POST
/bot<token>/<method>` with form or JSON parameters, answers `{"ok": true, "result": ...}` or
`{"ok": false, "error_code": ..., "description": ..., "parameters": {"retry_after": N}}`;
`getUpdates` long-polls (`offset` confirms earlier updates, `timeout` seconds of waiting);
`sendMessage` parses HTML like Telegram (an unknown tag or a bare `<`/`&` is a 400 "can't parse
entities"), keeps `reply_markup`; `editMessageText` ("message is not modified" on no change),
`answerCallbackQuery`, `getMe`. A test injects updates (a person typing, a button pressed) and
failures (`fail(method, 429, retry_after=3)`), and reads what the bot sent.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 424242
BOT_USERNAME = "sigap_test_bot"
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}


TAG = re.compile(r"</?(" + "|".join(sorted(ALLOWED_TAGS)) + r")(\s[^<>]*)?>")
ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def parse_html(text: str) -> tuple[str, str | None]:
    """(plain text, error) as Telegram reads `text` in HTML parse mode: only its tags, and
    every other <, > and & written as an entity."""
    bare = TAG.sub("", text)
    if "<" in bare or ">" in bare:
        return "", "Bad Request: can't parse entities: Unsupported start tag"
    if "&" in ENTITY.sub("", bare):
        return "", "Bad Request: can't parse entities: Character '&' is reserved"
    return html.unescape(bare), None


@dataclass
class Sent:
    method: str
    params: dict[str, Any]
    at: float
    """time.monotonic() when the server received it."""
    message_id: int | None = None
    dropped: bool = False
    """Held (`hold`) and its client gone before the release: not acted on."""


@dataclass
class StandIn:
    token: str
    url: str = ""
    sent: list[Sent] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    """(chat id, message id) -> the message as the bot last left it."""
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent_updates: list[dict[str, Any]] = field(default_factory=list)
    """Every update ever queued."""
    failures: dict[str, list[tuple[int, str, int | None]]] = field(default_factory=dict)
    polls: int = 0
    offsets: list[int | None] = field(default_factory=list)
    """The `offset` of every getUpdates call."""
    _redeliver: set[int] = field(default_factory=set)
    _polled: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False
    webhook: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    held: dict[str, asyncio.Event] = field(default_factory=dict)
    """Methods whose calls wait until released (`hold`): a call whose client went away
    meanwhile (a process killed) is dropped, as a server drops a closed connection's request."""

    # --- what a test does -------------------------------------------------------------------

    def fail(
        self, method: str, code: int, description: str = "", retry_after: int | None = None
    ) -> None:
        """The next call of `method` fails so (429 with retry_after: flood control)."""
        text = description or f"Too Many Requests: retry after {retry_after or 0}"
        self.failures.setdefault(method, []).append((code, text, retry_after))

    async def push(self, update: dict[str, Any], redelivery: bool = False) -> int:
        """Queue an update (its update_id given unless it has one); a `redelivery` is sent
        once more whatever offset the bot confirmed."""
        update.setdefault("update_id", next(self._update_ids))
        if redelivery:
            self._redeliver.add(int(update["update_id"]))
        async with self._arrived:
            self.sent_updates.append(update)
            self.updates.append(update)
            self._arrived.notify_all()
        return int(update["update_id"])

    async def type_text(self, user_id: int, text: str, chat_id: int | None = None) -> int:
        chat = chat_id if chat_id is not None else user_id
        return await self.push(
            {
                "message": {
                    "message_id": next(self._ids),
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": "private" if chat == user_id else "group"},
                    "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"},
                    "text": text,
                }
            }
        )

    async def press(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """Queue a press of a button of message `message_id`; the callback query's id."""
        message = self.messages.get((chat_id, message_id), {
            "message_id": message_id, "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"}, "text": "",
        })  # fmt: skip
        query_id = f"cq{next(self._ids)}"
        await self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"},
                    "chat_instance": str(chat_id),
                    "data": data,
                    "message": message,
                }
            }
        )
        return query_id

    def hold(self, method: str) -> None:
        """Calls of `method` wait, unanswered, until `release(method)`."""
        self.held[method] = asyncio.Event()

    def release(self, method: str) -> None:
        gate = self.held.pop(method, None)
        if gate is not None:
            gate.set()

    async def close(self) -> None:
        """End the long polls under way (as a server that stops does)."""
        async with self._arrived:
            self.closing = True
            self._arrived.notify_all()

    async def polled(self, count: int) -> None:
        """Until `count` getUpdates calls have come (the bot has taken what was queued)."""
        async with asyncio.timeout(10):
            while self.polls < count:
                self._polled.clear()
                await self._polled.wait()

    def calls(self, method: str) -> list[Sent]:
        return [s for s in self.sent if s.method == method]

    async def wait_for(self, method: str, count: int = 1, within: float = 10.0) -> list[Sent]:
        deadline = time.monotonic() + within
        while len(self.calls(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method}: {len(self.calls(method))} calls, not {count}")
            await asyncio.sleep(0.01)
        return self.calls(method)

    # --- the Bot API ----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        record = Sent(method, params, time.monotonic())
        if method != "getUpdates":
            self.sent.append(record)
        gate = self.held.get(method)
        if gate is not None:
            await gate.wait()
            if request.transport is None or request.transport.is_closing():
                record.dropped = True
                return web.Response(status=499)  # the client is gone: nothing done
        queued = self.failures.get(method)
        if queued:
            code, text, retry_after = queued.pop(0)
            return _error(code, text, retry_after)
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _getMe(self, params: dict[str, Any]) -> Any:
        return {"id": BOT_ID, "is_bot": True, "first_name": "SIGAP", "username": BOT_USERNAME}

    async def _getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        self.polls += 1
        self.offsets.append(int(params["offset"]) if params.get("offset") else None)
        self._polled.set()
        offset = int(params.get("offset") or 0)
        if offset:
            self.updates = [
                u for u in self.updates
                if u["update_id"] >= offset or u["update_id"] in self._redeliver
            ]  # fmt: skip
        handed = [u for u in self.updates if u["update_id"] in self._redeliver]
        if handed:
            self._redeliver -= {u["update_id"] for u in handed}
            self.updates = [u for u in self.updates if u not in handed]
            return handed
        wait = float(params.get("timeout") or 0)
        async with self._arrived:
            with _suppress_timeout():
                await asyncio.wait_for(
                    self._arrived.wait_for(lambda: bool(self.updates) or self.closing),
                    timeout=wait,
                )
        return list(self.updates[:100])

    async def _sendMessage(self, params: dict[str, Any]) -> Any:
        text, error = self._text(params)
        if error is not None:
            return _error(400, error)
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "SIGAP"},
            "text": text,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        self.sent[-1].message_id = message["message_id"]
        return message

    async def _editMessageText(self, params: dict[str, Any]) -> Any:
        text, error = self._text(params)
        if error is not None:
            return _error(400, error)
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if message["text"] == text and message.get("reply_markup") == markup:
            return _error(400, "Bad Request: message is not modified")
        message["text"] = text
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return message

    async def _answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = str(params["url"])
        return True

    async def _deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = ""
        return True

    def _text(self, params: dict[str, Any]) -> tuple[str, str | None]:
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            return parse_html(text)
        return text, None

    # --- a button's text and callback data, as a test reads them ---------------------------

    def buttons(self, sent: Sent) -> list[tuple[str, str]]:
        markup = sent.params.get("reply_markup") or {}
        return [
            (b["text"], b["callback_data"])
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]


class _suppress_timeout:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, value: object, traceback: object) -> bool:
        return kind is TimeoutError


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return dict(await request.json())
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    for key in ("reply_markup", "allowed_updates"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


async def start(token: str) -> tuple[StandIn, web.AppRunner]:
    standin = StandIn(token)
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", standin.handle)
    app.router.add_get("/bot{token}/{method}", standin.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    standin.url = f"http://127.0.0.1:{port}"
    return standin, runner


async def stop(standin: StandIn, runner: web.AppRunner) -> None:
    await standin.close()
    await runner.cleanup()
