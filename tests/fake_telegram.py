"""A fake Telegram Bot API server for end-to-end tests: aiohttp on 127.0.0.1.

It implements what the bot calls, with Telegram's validation of HTML entities,
message length, callback data size and inline results, keeps the chats' messages,
long-polls getUpdates, delivers to a webhook, and can answer 429 with
`retry_after`, a 5xx, or drop the connection on demand.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
MAX_INLINE_RESULTS = 50
_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_JSON_FIELDS = {
    "reply_markup", "results", "commands", "scope", "allowed_updates", "reply_parameters",
    "link_preview_options", "button", "entities",
}  # fmt: skip
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_DESCRIPTIONS = {400: "Bad Request: injected failure", 403: "Forbidden: bot was blocked by the user"}


class BadRequestError(Exception):
    """A request Telegram would refuse with 400 Bad Request."""


class ConflictError(Exception):
    """A request Telegram would refuse with 409 Conflict."""


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """Parse Telegram HTML strictly; return the plain text or raise BadRequestError."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            end = text.find(">", i)
            if end < 0:
                raise BadRequestError(f"can't parse entities: unclosed tag at byte offset {i}")
            tag = text[i + 1 : end].strip()
            if tag.startswith("/"):
                name = tag[1:].strip().lower()
                if not stack or stack[-1] != name:
                    raise BadRequestError(f"can't parse entities: unexpected end tag at byte offset {i}")
                stack.pop()
            else:
                name = tag.split(None, 1)[0].lower() if tag else ""
                if name not in _TAGS:
                    raise BadRequestError(
                        f"can't parse entities: unsupported start tag {name!r} at offset {i}"
                    )
                stack.append(name)
            i = end + 1
        elif char == "&":
            match = _ENTITY.match(text, i)
            if match is None:
                raise BadRequestError(f"can't parse entities: bare & at byte offset {i}")
            ref = match.group(1)
            out.append(
                _NAMED[ref] if ref in _NAMED else chr(int(ref[2:], 16) if ref[1] == "x" else int(ref[1:]))
            )
            i = match.end()
        elif char == ">":
            raise BadRequestError(f"can't parse entities: bare > at byte offset {i}")
        else:
            out.append(char)
            i += 1
    if stack:
        raise BadRequestError(
            f"can't parse entities: can't find end tag corresponding to start tag {stack[-1]}"
        )
    return "".join(out)


def message_text(text: Any, parse_mode: Any) -> str:
    """Validate a message text as Telegram does; return it as the user will see it."""
    if not isinstance(text, str) or not text.strip():
        raise BadRequestError("message text is empty")
    plain = parse_html(text) if str(parse_mode or "").upper() == "HTML" else text
    if not plain.strip():
        raise BadRequestError("message text is empty")
    if utf16_len(plain) > MAX_TEXT:
        raise BadRequestError("message is too long")
    return plain


def check_markup(markup: Any) -> dict[str, Any] | None:
    """Validate an inline keyboard."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise BadRequestError("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        raise BadRequestError("can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not str(button.get("text", "")).strip():
                raise BadRequestError("BUTTON_TEXT_EMPTY")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise BadRequestError("BUTTON_DATA_INVALID")
    return markup


def entities(text: str) -> list[dict[str, Any]]:
    """Return the bot_command and mention entities Telegram would find in a user's text."""
    found = []
    for kind, pattern in (("bot_command", _COMMAND), ("mention", _MENTION)):
        for match in pattern.finditer(text):
            offset = utf16_len(text[: match.start()])
            found.append({"type": kind, "offset": offset, "length": utf16_len(match.group(0))})
    return sorted(found, key=lambda e: e["offset"])


PEOPLE: set[str] = set()
"""Every test user's id, last name and username: none of them may ever reach a log line."""


def user(
    uid: int, first_name: str, last_name: str = "", username: str = "", lang: str = "en"
) -> dict[str, Any]:
    """Return a Telegram user object (and remember what identifies the person)."""
    PEOPLE.update(x for x in (str(uid), last_name, username) if x)
    result: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": first_name, "language_code": lang}
    if last_name:
        result["last_name"] = last_name
    if username:
        result["username"] = username
    return result


def private_chat(of: dict[str, Any]) -> dict[str, Any]:
    """Return the private chat with a user."""
    return {"id": of["id"], "type": "private", "first_name": of["first_name"]}


def group_chat(chat_id: int, title: str = "Diaspora chat") -> dict[str, Any]:
    """Return a supergroup chat."""
    return {"id": chat_id, "type": "supergroup", "title": title}


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    status: int
    result: Any = None
    error: str = ""

    @property
    def ok(self) -> bool:
        """Return whether Telegram accepted the request."""
        return self.status == 200

    @property
    def html(self) -> str:
        """Return the text sent, as HTML."""
        return str(self.params.get("text", ""))

    @property
    def plain(self) -> str:
        """Return the text sent, as the user sees it."""
        return parse_html(self.html)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Return the inline buttons sent, as (label, callback data)."""
        markup = self.params.get("reply_markup") or {}
        return [
            (b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row
        ]

    def data(self, label: str) -> str:
        """Return the callback data of the button with this label."""
        return next(data for text, data in self.buttons if text == label)


@dataclass
class Failure:
    """An injected failure for the next requests of a method."""

    status: int
    times: int
    retry_after: int | None = None
    disconnect: bool = False


@dataclass
class FakeTelegram:
    """The fake Bot API server and helpers to play users."""

    token: str = "7000000001:AAFakeTokenSecretPart-0123456789abcdef"
    username: str = "embassy_qa_test_bot"
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    html: dict[tuple[int, int], str] = field(default_factory=dict)
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    url: str = ""

    def __post_init__(self) -> None:
        self.bot_id = int(self.token.split(":")[0])
        self.me = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Embassy Q&A",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._confirmed = 0
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callbacks: dict[str, bool] = {}
        self._inline: dict[str, bool] = {}
        self._ids = itertools.count(1)
        self._failures: dict[str, list[Failure]] = {}
        self._changed = asyncio.Condition()
        self._closing = False
        self.polls = 0
        """getUpdates requests received so far, finished or not."""
        self.latency: dict[str, float] = {}
        """Seconds a method (lower-case name) takes, to play a slow Telegram."""
        self._runner: web.AppRunner | None = None

    # Server

    async def start(self) -> str:
        """Start listening on a free port of 127.0.0.1; return the base URL."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        """Release long polls and stop the server."""
        self._closing = True
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        failure = self._take_failure(method)
        if failure is not None:
            if failure.disconnect:
                self.calls.append(Call(method, params, 0, error="connection dropped"))
                await self._notify()
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            return self._error(method, params, failure.status, failure.retry_after)
        if delay := self.latency.get(method.lower()):
            await asyncio.sleep(delay)
        handler = getattr(self, "_m_" + method.lower(), None)
        if handler is None:
            return self._error(method, params, 404, description="Not Found: method not found")
        try:
            result = await handler(params)
        except BadRequestError as exc:
            return self._error(method, params, 400, description=f"Bad Request: {exc}")
        except ConflictError as exc:
            return self._error(method, params, 409, description=f"Conflict: {exc}")
        self.calls.append(Call(method, params, 200, result))
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            raw.update(await request.json())
        elif request.can_read_body:
            raw.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(value, str) and (key in _JSON_FIELDS or value in ("true", "false")):
                params[key] = json.loads(value)
            elif isinstance(value, str) and re.fullmatch(r"-?\d+", value) and key != "text":
                params[key] = int(value)
            else:
                params[key] = value
        return params

    def _error(
        self,
        method: str,
        params: dict[str, Any],
        status: int,
        retry_after: int | None = None,
        description: str = "",
    ) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status}
        if retry_after is not None:
            body["description"] = f"Too Many Requests: retry after {retry_after}"
            body["parameters"] = {"retry_after": retry_after}
        else:
            body["description"] = description or _DESCRIPTIONS.get(status, "Internal Server Error")
        self.calls.append(Call(method, params, status, error=body["description"]))
        self._changed_soon()
        return web.json_response(body, status=status)

    def _changed_soon(self) -> None:
        asyncio.get_running_loop().create_task(self._notify())

    def fail(
        self,
        method: str,
        status: int = 429,
        *,
        times: int = 1,
        retry_after: int | None = None,
        disconnect: bool = False,
    ) -> None:
        """Make the next `times` requests of a method fail (429 with retry_after, 5xx, or a dropped line)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures.setdefault(method.lower(), []).append(Failure(status, times, retry_after, disconnect))

    def clear_failures(self) -> None:
        """Forget every failure still due: requests succeed again."""
        self._failures.clear()

    def _take_failure(self, method: str) -> Failure | None:
        queue = self._failures.get(method.lower())
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    # Bot API methods

    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return self.me

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ConflictError("can't use getUpdates method while webhook is active; use deleteWebhook")
        self.polls += 1
        await self._notify()
        offset = int(params.get("offset", 0))
        if offset > self._confirmed + 1:
            self._confirmed = offset - 1
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            await self._notify()
        deadline = time.monotonic() + float(params.get("timeout", 0))
        async with self._changed:
            while not self._closing:
                pending = [u for u in self._updates if u["update_id"] >= offset]
                if pending:
                    return pending[: int(params.get("limit", 100))]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    break
        return []

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise BadRequestError("secret token contains unallowed characters")
        self.webhook = {"url": params["url"], "secret_token": secret}
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    async def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or not commands:
            raise BadRequestError("commands must be a non-empty list")
        for command in commands:
            if not _COMMAND_NAME.match(str(command.get("command", ""))):
                raise BadRequestError("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise BadRequestError("BOT_COMMAND_DESCRIPTION_INVALID")
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[(scope, str(params.get("language_code", "")))] = commands
        return True

    async def _m_sendchataction(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        chat = self._chat(chat_id)
        plain = message_text(params.get("text"), params.get("parse_mode"))
        markup = check_markup(params.get("reply_markup"))
        reply = params.get("reply_parameters") or {}
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "from": self.me,
            "text": plain,
        }
        if "message_id" in reply:
            replied = self.messages.get((chat_id, int(reply["message_id"])))
            if replied is None and not reply.get("allow_sending_without_reply"):
                raise BadRequestError("message to be replied not found")
            if replied is not None:
                message["reply_to_message"] = replied
        if markup:
            message["reply_markup"] = markup
        self._store(message, params["text"])
        return message

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        message = self._bot_message(params)
        plain = message_text(params.get("text"), params.get("parse_mode"))
        markup = check_markup(params.get("reply_markup"))
        if plain == message["text"] and markup == message.get("reply_markup"):
            raise BadRequestError(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        edited = {k: v for k, v in message.items() if k != "reply_markup"}
        edited.update(text=plain, edit_date=int(time.time()))
        if markup:
            edited["reply_markup"] = markup
        self._store(edited, params["text"])
        return edited

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        message = self._bot_message(params)
        markup = check_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise BadRequestError("message is not modified")
        edited = {k: v for k, v in message.items() if k != "reply_markup"}
        if markup:
            edited["reply_markup"] = markup
        self.messages[(edited["chat"]["id"], edited["message_id"])] = edited
        return edited

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id"))
        if self._callbacks.get(query_id) is not False:
            raise BadRequestError("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text", ""))) > MAX_CALLBACK_ANSWER:
            raise BadRequestError("MESSAGE_TOO_LONG")
        self._callbacks[query_id] = True
        return True

    async def _m_answerinlinequery(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("inline_query_id"))
        if self._inline.get(query_id) is not False:
            raise BadRequestError("query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list) or len(results) > MAX_INLINE_RESULTS:
            raise BadRequestError("RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or not all(1 <= len(i.encode()) <= 64 for i in ids):
            raise BadRequestError("RESULT_ID_INVALID")
        for result in results:
            if result.get("type") != "article" or not str(result.get("title", "")).strip():
                raise BadRequestError("RESULT_TITLE_EMPTY")
            content = result.get("input_message_content") or {}
            message_text(content.get("message_text"), content.get("parse_mode"))
            check_markup(result.get("reply_markup"))
        button = params.get("button")
        if button is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,64}", str(button.get("start_parameter"))
        ):
            raise BadRequestError("START_PARAM_INVALID")
        self._inline[query_id] = True
        return True

    # State

    def _chat(self, chat_id: int) -> dict[str, Any]:
        for (cid, _), message in self.messages.items():
            if cid == chat_id:
                return dict(message["chat"])
        raise BadRequestError("chat not found")

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _store(self, message: dict[str, Any], html: str | None = None) -> None:
        key = (message["chat"]["id"], message["message_id"])
        self.messages[key] = message
        if html is not None:
            self.html[key] = html

    def _bot_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if "inline_message_id" in params:
            raise BadRequestError("MESSAGE_ID_INVALID")
        message = self.messages.get((int(params["chat_id"]), int(params["message_id"])))
        if message is None:
            raise BadRequestError("message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise BadRequestError("message can't be edited")
        return message

    # Playing users

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; return its id."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._changed_soon()
        return int(update["update_id"])

    def send(
        self,
        sender: dict[str, Any],
        text: str | None = None,
        *,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
        push: bool = True,
        **content: Any,
    ) -> dict[str, Any]:
        """Have a user send a message (text, or other content such as sticker=...); return it."""
        chat = chat or private_chat(sender)
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            **content,
        }
        if text is not None:
            message["text"] = text
            if found := entities(text):
                message["entities"] = found
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self._store(message)
        if push:
            self.push({"message": message})
        return message

    def edit(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """Have a user edit their message; return the edited message."""
        edited = {k: v for k, v in message.items() if k != "entities"}
        edited.update(text=text, edit_date=int(time.time()))
        if found := entities(text):
            edited["entities"] = found
        self._store(edited)
        self.push({"edited_message": edited})
        return edited

    def press(self, sender: dict[str, Any], message: dict[str, Any], data: str) -> str:
        """Have a user press a button (or send any callback data) on a message; return the query id."""
        query_id = f"cq{next(self._ids)}"
        self._callbacks[query_id] = False
        current = self.messages.get((message["chat"]["id"], message["message_id"]), message)
        self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": sender,
                    "message": current,
                    "chat_instance": f"ci{message['chat']['id']}",
                    "data": data,
                }
            }
        )
        return query_id

    def inline(self, sender: dict[str, Any], query: str) -> str:
        """Have a user type `@bot query`; return the inline query id."""
        query_id = f"iq{next(self._ids)}"
        self._inline[query_id] = False
        self.push({"inline_query": {"id": query_id, "from": sender, "query": query, "offset": ""}})
        return query_id

    async def deliver(self, update: dict[str, Any], secret: str | None = None) -> int:
        """POST an update to the registered webhook, as Telegram does; return the HTTP status."""
        assert self.webhook is not None, "no webhook set"
        update = {"update_id": next(self._update_ids), **update}
        token = self.webhook["secret_token"] if secret is None else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook["url"], json=update, headers=headers) as response,
        ):
            return response.status

    @property
    def last_update(self) -> dict[str, Any]:
        """Return the update the last send, press or inline made (to deliver it to a webhook)."""
        return self._updates[-1]

    async def post(self, url: str, update: dict[str, Any], secret: str | None = None) -> int:
        """POST an update as it is (its id kept) to one instance's webhook; return the HTTP status."""
        assert self.webhook is not None, "no webhook set"
        token = self.webhook["secret_token"] if secret is None else secret
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": token}) as response,
        ):
            return response.status

    # Waiting and looking

    @property
    def confirmed_up_to(self) -> int:
        """Return the highest update id the bot has confirmed."""
        return self._confirmed

    def confirmed(self) -> bool:
        """Return whether the bot has fetched and confirmed every queued update."""
        return not self._updates or self._confirmed >= self._updates[-1]["update_id"]

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Wait until `condition()` returns something truthy; return it."""
        async with asyncio.timeout(timeout):
            async with self._changed:
                while not (result := condition()):
                    await self._changed.wait()
                return result

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[Call]:
        """Return the accepted calls of a method, to one chat if given."""
        return [
            c
            for c in self.calls
            if c.method.lower() == method.lower()
            and c.ok
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    async def replies(self, chat_id: int, count: int = 1, method: str = "sendMessage") -> list[Call]:
        """Wait until the bot has sent at least `count` accepted messages to a chat; return them all."""
        return list(await self.wait_for(lambda: len(s := self.sent(chat_id, method)) >= count and s))

    async def answered(self, query_id: str) -> Call:
        """Wait until a callback or inline query is answered; return the answer."""

        def find() -> Call | None:
            for call in self.calls:
                if call.ok and query_id in (
                    call.params.get("callback_query_id"),
                    call.params.get("inline_query_id"),
                ):
                    return call
            return None

        return await self.wait_for(find)  # type: ignore[no-any-return]

    def message(self, call: Call) -> dict[str, Any]:
        """Return the current state of the message a sendMessage call created."""
        result = call.result
        return self.messages[(result["chat"]["id"], result["message_id"])]

    def failures(self, method: str) -> list[Call]:
        """Return the refused calls of a method."""
        return [c for c in self.calls if c.method.lower() == method.lower() and not c.ok]
