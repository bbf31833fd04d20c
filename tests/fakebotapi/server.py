"""The fake Telegram Bot API: shared state, the Bot API methods, and the aiohttp server.

Everything a Bot API method touches lives in :class:`BotApiState`, guarded by one
re-entrant lock, because the HTTP handlers run on the server thread's event loop while
tests drive the same state from their own thread.  Responses copy Telegram's JSON shapes
and error texts so that python-telegram-bot parses them exactly as it parses Telegram's.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import itertools
import json
import math
import re
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .markup import (
    MAX_CAPTION_LENGTH,
    MAX_MESSAGE_LENGTH,
    EntityParseError,
    FormattedText,
    parse_html,
    parse_markdown_v2,
    trim_formatted,
    utf16_length,
)

DEFAULT_BOT_ID = 7000000001
DEFAULT_TOKEN = f"{DEFAULT_BOT_ID}:AAFakeTokenForTestsOnly-0123456789ab"
_TOKEN_FORMAT = re.compile(r"^\d+:[A-Za-z0-9_-]{30,}$")
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")

# Telegram delivers every update type except these unless asked for them explicitly.
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "web_app",
    "callback_game",
    "pay",
    "copy_text",
)
_MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
_PRESENT_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
_BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: getFile serves files up to 20 MB; bigger ones get "file is too big", as from Telegram.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


class ApiError(Exception):
    """A Bot API error response: HTTP status == error_code, like Telegram."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def bad_request(reason: str, parameters: dict[str, Any] | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def _now() -> int:
    return int(time.time())


# ---------------------------------------------------------------------------------------------
# Public value objects handed to tests (immutable snapshots, safe to keep across threads)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user; its private chat with the bot has the same id."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    @property
    def chat_id(self) -> int:
        return self.id

    def to_api(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass(frozen=True)
class FakeChat:
    """What a test needs to know about a chat: its id and kind."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None

    @property
    def chat_id(self) -> int:
        return self.id


@dataclass(frozen=True)
class MessageVersion:
    """An earlier state of an edited message."""

    text: str | None
    html: str | None
    entities: tuple[dict[str, Any], ...]
    reply_markup: dict[str, Any] | None
    edit_date: int | None


@dataclass(frozen=True)
class ChatMessage:
    """A snapshot of one message in a chat (sent by the bot or by a user)."""

    chat_id: int
    message_id: int
    from_bot: bool
    sender_id: int
    kind: str
    text: str | None
    html: str | None
    parse_mode: str | None
    entities: tuple[dict[str, Any], ...]
    reply_markup: dict[str, Any] | None
    date: int
    edit_date: int | None
    history: tuple[MessageVersion, ...]
    deleted: bool
    reply_to_message_id: int | None
    upload: bytes | None
    file_name: str | None
    api_object: dict[str, Any]
    request_params: dict[str, Any]

    @property
    def caption(self) -> str | None:
        """Media messages keep their caption in ``text``; this alias reads better."""
        return self.text

    @property
    def edited(self) -> bool:
        return bool(self.history)

    def buttons(self) -> list[dict[str, Any]]:
        """All inline keyboard buttons, row by row."""
        if not self.reply_markup:
            return []
        return [button for row in self.reply_markup.get("inline_keyboard", []) for button in row]

    @property
    def button_texts(self) -> list[str]:
        return [button["text"] for button in self.buttons()]

    def button(self, text: str) -> dict[str, Any]:
        """The inline button whose text equals ``text`` (or uniquely contains it)."""
        buttons = self.buttons()
        exact = [button for button in buttons if button["text"] == text]
        if len(exact) == 1:
            return exact[0]
        partial = [button for button in buttons if text in button["text"]]
        if len(partial) == 1 and not exact:
            return partial[0]
        raise LookupError(
            f"no unique button {text!r} in message {self.message_id}; buttons: "
            f"{[button['text'] for button in buttons]}"
        )


BotMessage = ChatMessage


@dataclass
class ApiCall:
    """One request the bot made, as the fake saw it (params are the raw sent values)."""

    index: int
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str | None, bytes]]
    http_method: str
    started: float
    wall_time: float
    status: int | None = None
    response: dict[str, Any] | None = None
    finished: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return None if self.response is None else self.response.get("result")

    @property
    def description(self) -> str | None:
        return None if self.response is None else self.response.get("description")

    def int_param(self, name: str) -> int | None:
        value = self.params.get(name)
        return None if value is None else int(value)

    def json_param(self, name: str) -> Any:
        value = self.params.get(name)
        return json.loads(value) if isinstance(value, str) else value


@dataclass
class RateLimits:
    """Telegram-like flood limits (token buckets); a bucket's burst is its capacity."""

    global_per_second: float = 30.0
    global_burst: float = 30.0
    private_per_second: float = 1.0
    private_burst: float = 3.0
    group_per_minute: float = 20.0
    group_burst: float = 20.0


# ---------------------------------------------------------------------------------------------
# Internal mutable state
# ---------------------------------------------------------------------------------------------


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    user: FakeUser | None = None
    members: dict[int, str] = field(default_factory=dict)
    bot_status: str = "member"
    blocked: bool = False
    deactivated: bool = False
    migrated_to: int | None = None
    migrated_from: int | None = None
    next_message_id: int = 1

    def to_api(self) -> dict[str, Any]:
        if self.type == "private" and self.user is not None:
            chat: dict[str, Any] = {"id": self.id, "first_name": self.user.first_name}
            if self.user.last_name:
                chat["last_name"] = self.user.last_name
            if self.user.username:
                chat["username"] = self.user.username
            chat["type"] = "private"
            return chat
        chat = {"id": self.id, "title": self.title or "", "type": self.type}
        if self.username:
            chat["username"] = self.username
        return chat

    def snapshot(self) -> FakeChat:
        title = self.title if self.type != "private" or self.user is None else None
        return FakeChat(self.id, self.type, title, self.username)

    @property
    def kind_name(self) -> str:
        return "supergroup chat" if self.type == "supergroup" else "group chat"


@dataclass
class _Message:
    chat_id: int
    message_id: int
    sender: FakeUser
    from_bot: bool
    kind: str
    date: int
    content: dict[str, Any]
    text: str | None = None
    html: str | None = None
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    edit_date: int | None = None
    history: list[MessageVersion] = field(default_factory=list)
    deleted: bool = False
    reply_to_message_id: int | None = None
    upload: bytes | None = None
    file_name: str | None = None
    request_params: dict[str, Any] = field(default_factory=dict)


@dataclass
class _QueuedUpdate:
    update: dict[str, Any]
    forced: bool = False
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next((key for key in self.update if key != "update_id"), "")


@dataclass
class _CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    created: float
    answer: dict[str, Any] | None = None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str


@dataclass
class _Fault:
    method: str
    error: ApiError | None
    execute: bool = False
    bad_gateway_html: bool = False


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class _Params:
    """Typed access to request parameters that may arrive as JSON values or as strings."""

    def __init__(self, values: dict[str, Any], files: dict[str, tuple[str | None, bytes]]) -> None:
        self.values = values
        self.files = files

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def text(
        self, name: str, *, required: bool = False, empty_error: str | None = None
    ) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(empty_error or f'parameter "{name}" is required')
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    def integer(
        self, name: str, *, required: bool = False, empty_error: str | None = None
    ) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(empty_error or f'parameter "{name}" is required')
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in {"true", "1", "yes", "on"}

    def json_value(self, name: str, error: str) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error) from None
        return value


def _fake_id(prefix: str, *parts: object) -> str:
    raw = ":".join(str(part) for part in parts).encode()
    return prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG or GIF, as Telegram needs to accept a photo."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker = data[index + 1]
            length = struct.unpack(">H", data[index + 2 : index + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return width, height
            index += 2 + length
    return None


def make_png(width: int, height: int) -> bytes:
    """A valid grey PNG of the given size (for photos users send)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    raw_rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw_rows))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------------------------
# The state and the Bot API methods
# ---------------------------------------------------------------------------------------------


class BotApiState:
    """All of the fake's state plus the Bot API methods that read and change it."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "QuizTestBot",
        bot_first_name: str = "Quiz Test Bot",
        privacy_mode: bool = True,
        strict_html_ampersand: bool = True,
        rate_limits: RateLimits | None = None,
        first_update_id: int = 500_000_001,
    ) -> None:
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else DEFAULT_BOT_ID
        self.token = token
        self.bot_user = FakeUser(bot_id, bot_first_name, username=bot_username, is_bot=True)
        self.privacy_mode = privacy_mode
        self.strict_html_ampersand = strict_html_ampersand
        self._cond = threading.Condition(threading.RLock())
        self._users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        self._chats: dict[int, _Chat] = {}
        self._messages: dict[int, dict[int, _Message]] = {}
        self._pending: list[_QueuedUpdate] = []
        self._update_history: dict[int, dict[str, Any]] = {}
        self._next_update_id = first_update_id
        self._allowed_updates: frozenset[str] | None = None
        self._calls: list[ApiCall] = []
        self._faults: list[_Fault] = []
        self._delays: list[tuple[str, float]] = []
        self._callback_queries: dict[str, _CallbackQuery] = {}
        self._files: dict[str, _StoredFile] = {}
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._bot_settings: dict[str, Any] = {}
        self._webhook: dict[str, Any] | None = None
        self._rate_limits = rate_limits
        self._buckets: dict[object, _Bucket] = {}
        self._ids = itertools.count(1)
        self._poll_generation = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poll_event: asyncio.Event | None = None
        self._closing = False
        self.webhook_target: str | None = None
        self.webhook_deliveries: list[dict[str, Any]] = []

    # -- plumbing ---------------------------------------------------------------------------

    def _changed(self, *, wake_pollers: bool = False) -> None:
        """Tell waiting tests (and, for new updates, long polls) that state changed."""
        with self._cond:
            self._cond.notify_all()
        if wake_pollers:
            loop = self._loop
            if loop is not None and not loop.is_closed():
                # RuntimeError: the loop closed between the check and the call.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._wake_pollers)

    def _wake_pollers(self) -> None:
        """Runs on the server loop: release every waiting getUpdates."""
        if self._poll_event is not None:
            self._poll_event.set()
        self._poll_event = asyncio.Event()

    def _new_id(self) -> int:
        return next(self._ids)

    def _log_call(
        self,
        method: str,
        values: dict[str, Any],
        files: dict[str, tuple[str | None, bytes]],
        http_method: str,
    ) -> ApiCall:
        with self._cond:
            call = ApiCall(
                index=len(self._calls),
                method=method,
                params=dict(values),
                files=dict(files),
                http_method=http_method,
                started=time.monotonic(),
                wall_time=time.time(),
            )
            self._calls.append(call)
            self._cond.notify_all()
        return call

    def _finish_call(self, call: ApiCall, status: int, body: dict[str, Any]) -> None:
        with self._cond:
            call.status = status
            call.response = body
            call.finished = time.monotonic()
            self._cond.notify_all()

    def _take_fault_and_delay(self, method: str) -> tuple[_Fault | None, float]:
        """Pop the first injected fault and delay meant for this method ('*' = any but polls)."""

        def matches(target: str) -> bool:
            wanted = target.lower()
            return wanted == method.lower() or (wanted == "*" and method != "getUpdates")

        with self._cond:
            fault = next((item for item in self._faults if matches(item.method)), None)
            if fault is not None:
                self._faults.remove(fault)
            delay_entry = next((item for item in self._delays if matches(item[0])), None)
            if delay_entry is not None:
                self._delays.remove(delay_entry)
        return fault, (delay_entry[1] if delay_entry else 0.0)

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _resolve_chat(self, params: _Params, name: str = "chat_id") -> _Chat:
        raw = params.text(name, required=True, empty_error="chat_id is empty")
        assert raw is not None
        if raw.startswith("@"):
            wanted = raw[1:].lower()
            for chat in self._chats.values():
                if chat.username and chat.username.lower() == wanted and chat.type != "private":
                    return chat
            raise bad_request("chat not found")
        try:
            chat_id = int(raw)
        except ValueError:
            raise bad_request("chat not found") from None
        return self._chat(chat_id)

    def _check_chat_access(self, chat: _Chat) -> None:
        """Raise the 400/403 Telegram answers for chats the bot can no longer write to."""
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.type == "private":
            if chat.deactivated:
                raise ApiError(403, "Forbidden: user is deactivated")
            if chat.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            return
        if chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.kind_name}")
        if chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.kind_name}")

    def _check_rate_limit(self, chat: _Chat) -> None:
        limits = self._rate_limits
        if limits is None:
            return
        now = time.monotonic()
        buckets = [self._bucket("global", limits.global_per_second, limits.global_burst, now)]
        if chat.type == "private":
            buckets.append(
                self._bucket(chat.id, limits.private_per_second, limits.private_burst, now)
            )
        else:
            buckets.append(
                self._bucket(chat.id, limits.group_per_minute / 60.0, limits.group_burst, now)
            )
        wait = max(bucket.wait_time() for bucket in buckets)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.tokens -= 1

    def _bucket(self, key: object, rate: float, capacity: float, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.capacity != capacity:
            bucket = _Bucket(rate, capacity, capacity, now)
            self._buckets[key] = bucket
        bucket.refill(now)
        return bucket

    # -- messages ---------------------------------------------------------------------------

    def _store_message(self, message: _Message) -> _Message:
        self._messages.setdefault(message.chat_id, {})[message.message_id] = message
        return message

    def _next_message_id(self, chat: _Chat) -> int:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    def _find_message(self, chat_id: int, message_id: int) -> _Message | None:
        return self._messages.get(chat_id, {}).get(message_id)

    def _message_api(self, message: _Message, *, with_reply: bool = True) -> dict[str, Any]:
        chat = self._chats[message.chat_id]
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "from": message.sender.to_api(),
            "chat": chat.to_api(),
            "date": message.date,
        }
        if with_reply and message.reply_to_message_id is not None:
            replied = self._find_message(message.chat_id, message.reply_to_message_id)
            if replied is not None:
                result["reply_to_message"] = self._message_api(replied, with_reply=False)
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        result.update(copy.deepcopy(message.content))
        if message.reply_markup:
            result["reply_markup"] = copy.deepcopy(message.reply_markup)
        return result

    def _snapshot(self, message: _Message) -> ChatMessage:
        return ChatMessage(
            chat_id=message.chat_id,
            message_id=message.message_id,
            from_bot=message.from_bot,
            sender_id=message.sender.id,
            kind=message.kind,
            text=message.text,
            html=message.html,
            parse_mode=message.parse_mode,
            entities=tuple(copy.deepcopy(message.entities)),
            reply_markup=copy.deepcopy(message.reply_markup),
            date=message.date,
            edit_date=message.edit_date,
            history=tuple(message.history),
            deleted=message.deleted,
            reply_to_message_id=message.reply_to_message_id,
            upload=message.upload,
            file_name=message.file_name,
            api_object=self._message_api(message),
            request_params=dict(message.request_params),
        )

    def _format_text(
        self,
        text: str | None,
        parse_mode: str | None,
        entities: Any,
        *,
        limit: int,
        too_long: str,
    ) -> tuple[FormattedText, str | None, str | None]:
        """Apply parse_mode like Telegram; return (formatted, html source, parse mode)."""
        source = text or ""
        mode = (parse_mode or "").strip()
        html_source = None
        try:
            if not mode:
                formatted = FormattedText(source, list(entities or []))
            elif mode.lower() == "html":
                formatted = parse_html(source, strict_ampersand=self.strict_html_ampersand)
                html_source = source
            elif mode.lower() == "markdownv2":
                formatted = parse_markdown_v2(source)
            elif mode.lower() == "markdown":
                formatted = _parse_legacy_markdown(source)
            else:
                raise bad_request(f'unsupported parse_mode "{mode}"')
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        formatted = trim_formatted(formatted)
        if len(formatted.text) > limit:
            raise bad_request(too_long)
        return formatted, html_source, (mode or None)

    def _parse_reply_markup(self, params: _Params) -> tuple[dict[str, Any] | None, bool]:
        """Validate reply_markup; return (inline keyboard as echoed by Telegram, was given)."""
        markup = params.json_value("reply_markup", "can't parse reply keyboard markup JSON object")
        if markup is None:
            return None, False
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            return _validate_inline_keyboard(markup["inline_keyboard"]), True
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
            return None, True
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return None, True
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _reply_target(self, chat: _Chat, params: _Params) -> int | None:
        reply = params.json_value("reply_parameters", "can't parse reply parameters JSON object")
        allow_missing = params.flag("allow_sending_without_reply")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
            if reply.get("chat_id") not in (None, chat.id, str(chat.id)):
                raise bad_request("message to be replied not found")
        else:
            message_id = params.integer("reply_to_message_id")
        if message_id in (None, 0):
            return None
        target = self._find_message(chat.id, int(message_id))
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return target.message_id

    def _bot_message(
        self,
        chat: _Chat,
        params: _Params,
        *,
        kind: str,
        content: dict[str, Any],
        formatted: FormattedText | None,
        html_source: str | None,
        parse_mode: str | None,
        reply_markup: dict[str, Any] | None,
        upload: bytes | None = None,
        file_name: str | None = None,
    ) -> _Message:
        reply_to = self._reply_target(chat, params)
        message = _Message(
            chat_id=chat.id,
            message_id=self._next_message_id(chat),
            sender=self.bot_user,
            from_bot=True,
            kind=kind,
            date=_now(),
            content=content,
            text=None if formatted is None else formatted.text,
            html=html_source,
            parse_mode=parse_mode,
            entities=[] if formatted is None else formatted.entities,
            reply_markup=reply_markup,
            reply_to_message_id=reply_to,
            upload=upload,
            file_name=file_name,
            request_params=dict(params.values),
        )
        return self._store_message(message)

    # -- Bot API methods (run with the state lock held) -------------------------------------

    def api_getMe(self, params: _Params) -> Any:
        user = self.bot_user.to_api()
        user.update(
            {
                "can_join_groups": True,
                "can_read_all_group_messages": not self.privacy_mode,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )
        return user

    def api_logOut(self, params: _Params) -> Any:
        return True

    def api_close(self, params: _Params) -> Any:
        return True

    def api_deleteWebhook(self, params: _Params) -> Any:
        self._webhook = None
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        return True

    def api_setWebhook(self, params: _Params) -> Any:
        url = params.text("url") or ""
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        if not url:
            self._webhook = None
            return True
        parsed = urlsplit(url)
        loopback = parsed.hostname in _LOOPBACK_HOSTS
        # Telegram demands HTTPS; the fake also takes http://127.0.0.1 so tests need no TLS.
        if parsed.scheme != "https" and not (parsed.scheme == "http" and loopback):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if parsed.scheme == "https" and (parsed.port or 443) not in (443, 80, 88, 8443):
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        allowed = params.json_value("allowed_updates", "can't parse allowed updates JSON object")
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._webhook = {
            "url": url,
            "max_connections": params.integer("max_connections") or 40,
            "secret_token": params.text("secret_token"),
            "last_error_date": None,
            "last_error_message": None,
        }
        return True

    def api_getWebhookInfo(self, params: _Params) -> Any:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook is not None:
            info["url"] = self._webhook["url"]
            info["max_connections"] = self._webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self._webhook["last_error_date"] is not None:
                info["last_error_date"] = self._webhook["last_error_date"]
                info["last_error_message"] = self._webhook["last_error_message"]
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _next_webhook_delivery(self) -> tuple[str, str | None, _QueuedUpdate] | None:
        """The update to POST next and where to, if a webhook is set and reachable here."""
        if self._webhook is None:
            return None
        target = self.webhook_target or self._webhook["url"]
        if urlsplit(target).hostname not in _LOOPBACK_HOSTS:
            return None  # never contact anything but loopback
        self._pending = [queued for queued in self._pending if self._is_allowed(queued)]
        if not self._pending:
            return None
        queued = min(self._pending, key=lambda item: item.update_id)
        return target, self._webhook["secret_token"], queued

    def _webhook_result(self, queued: _QueuedUpdate, error: str | None) -> None:
        with self._cond:
            self.webhook_deliveries.append(
                {"update_id": queued.update_id, "error": error, "time": time.time()}
            )
            if error is None:
                if queued in self._pending:
                    self._pending.remove(queued)
            elif self._webhook is not None:
                self._webhook["last_error_date"] = _now()
                self._webhook["last_error_message"] = error
            self._cond.notify_all()

    def api_sendMessage(self, params: _Params) -> Any:
        chat = self._resolve_chat(params)
        self._check_chat_access(chat)
        if not params.has("text"):
            raise bad_request("message text is empty")
        entities = params.json_value("entities", "can't parse entities JSON object")
        formatted, html_source, parse_mode = self._format_text(
            params.text("text"),
            params.text("parse_mode"),
            entities,
            limit=MAX_MESSAGE_LENGTH,
            too_long="message is too long",
        )
        if not formatted.text:
            raise bad_request("message text is empty")
        params.json_value("link_preview_options", "can't parse link preview options JSON object")
        reply_markup, _ = self._parse_reply_markup(params)
        self._check_rate_limit(chat)
        content: dict[str, Any] = {"text": formatted.text}
        if formatted.entities:
            content["entities"] = formatted.entities
        message = self._bot_message(
            chat,
            params,
            kind="text",
            content=content,
            formatted=formatted,
            html_source=html_source,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
        )
        return self._message_api(message)

    def api_sendPhoto(self, params: _Params) -> Any:
        return self._send_file(params, "photo")

    def api_sendDocument(self, params: _Params) -> Any:
        return self._send_file(params, "document")

    def _send_file(self, params: _Params, kind: str) -> Any:
        chat = self._resolve_chat(params)
        self._check_chat_access(chat)
        file_name, data, known = self._read_input_file(params, kind)
        formatted, html_source, parse_mode = self._format_text(
            params.text("caption"),
            params.text("parse_mode"),
            params.json_value("caption_entities", "can't parse caption entities JSON object"),
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
        )
        reply_markup, _ = self._parse_reply_markup(params)
        self._check_rate_limit(chat)
        if known is not None:
            data = known.data
        content: dict[str, Any] = {}
        if kind == "photo":
            size = image_size(data)
            if size is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            width, height = size
            if width + height > 10000 or max(width, height) > 20 * max(1, min(width, height)):
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
            content["photo"] = self._photo_sizes(data, width, height, known)
        else:
            stored = known or self._store_file(data, "documents", file_name or "file")
            document: dict[str, Any] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(data),
            }
            if file_name:
                document["file_name"] = file_name
            document["mime_type"] = _guess_mime_type(file_name, data)
            content["document"] = document
        if formatted.text:
            content["caption"] = formatted.text
            if formatted.entities:
                content["caption_entities"] = formatted.entities
        message = self._bot_message(
            chat,
            params,
            kind=kind,
            content=content,
            formatted=formatted if formatted.text else None,
            html_source=html_source,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
            upload=data,
            file_name=file_name,
        )
        return self._message_api(message)

    def _read_input_file(
        self, params: _Params, name: str
    ) -> tuple[str | None, bytes, _StoredFile | None]:
        """Resolve a file parameter: an upload, attach://name, or a file_id we issued."""
        upload = params.files.get(name)
        raw = params.values.get(name)
        if upload is None and isinstance(raw, str) and raw.startswith("attach://"):
            upload = params.files.get(raw.removeprefix("attach://"))
        if upload is not None:
            file_name, data = upload
            if not data:
                raise bad_request("file must be non-empty")
            return file_name, data, None
        if not isinstance(raw, str) or not raw:
            raise bad_request(f"there is no {name} in the request")
        if raw.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        stored = self._files.get(raw)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored.file_path.rsplit("/", 1)[-1], stored.data, stored

    def _store_file(self, data: bytes, folder: str, file_name: str) -> _StoredFile:
        number = self._new_id()
        file_id = _fake_id("BQACAgIAAxkBAAI", "file", number, len(data))
        unique_id = _fake_id("AgAD", number)[:16]
        suffix = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = _StoredFile(file_id, unique_id, data, f"{folder}/file_{number}.{suffix}")
        self._files[file_id] = stored
        return stored

    def _photo_sizes(
        self, data: bytes, width: int, height: int, known: _StoredFile | None
    ) -> list[dict[str, Any]]:
        """PhotoSize list as Telegram builds it: scaled copies, largest last."""
        longest = max(width, height)
        targets = [side for side in (90, 320, 800) if side < longest]
        targets.append(min(longest, 1280))
        sizes = []
        for index, side in enumerate(targets):
            scale = side / longest
            size_width = max(1, round(width * scale))
            size_height = max(1, round(height * scale))
            is_largest = index == len(targets) - 1
            stored = (
                known
                if (known is not None and is_largest)
                else self._store_file(data, "photos", "photo.png")
            )
            file_size = (
                len(data)
                if is_largest
                else max(1, int(len(data) * (size_width * size_height) / (width * height)))
            )
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": file_size,
                    "width": size_width,
                    "height": size_height,
                }
            )
        return sizes

    def api_getFile(self, params: _Params) -> Any:
        file_id = params.text("file_id", required=True, empty_error="file_id is empty")
        stored = self._files.get(file_id or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _message_to_edit(self, params: _Params) -> tuple[_Chat, _Message]:
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params)
        self._check_chat_access(chat)
        message_id = params.integer("message_id", required=True, empty_error="message_id is empty")
        assert message_id is not None
        message = self._find_message(chat.id, message_id)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _apply_edit(
        self,
        message: _Message,
        *,
        formatted: FormattedText | None,
        html_source: str | None,
        parse_mode: str | None,
        reply_markup: dict[str, Any] | None,
        text_field: str,
        params: _Params,
    ) -> None:
        new_text = message.text if formatted is None else formatted.text
        new_entities = message.entities if formatted is None else formatted.entities
        if (
            new_text == message.text
            and new_entities == message.entities
            and reply_markup == message.reply_markup
        ):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.history.append(
            MessageVersion(
                message.text,
                message.html,
                tuple(copy.deepcopy(message.entities)),
                copy.deepcopy(message.reply_markup),
                message.edit_date,
            )
        )
        if formatted is not None:
            message.text = formatted.text
            message.entities = formatted.entities
            message.html = html_source
            message.parse_mode = parse_mode
            message.content[text_field] = formatted.text
            entities_field = "entities" if text_field == "text" else "caption_entities"
            if formatted.entities:
                message.content[entities_field] = formatted.entities
            else:
                message.content.pop(entities_field, None)
        message.reply_markup = reply_markup
        message.edit_date = _now()
        message.request_params = dict(params.values)

    def api_editMessageText(self, params: _Params) -> Any:
        _, message = self._message_to_edit(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        if not params.has("text"):
            raise bad_request("message text is empty")
        formatted, html_source, parse_mode = self._format_text(
            params.text("text"),
            params.text("parse_mode"),
            params.json_value("entities", "can't parse entities JSON object"),
            limit=MAX_MESSAGE_LENGTH,
            too_long="MESSAGE_TOO_LONG",
        )
        if not formatted.text:
            raise bad_request("message text is empty")
        reply_markup, _ = self._parse_reply_markup(params)
        self._apply_edit(
            message,
            formatted=formatted,
            html_source=html_source,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
            text_field="text",
            params=params,
        )
        return self._message_api(message)

    def api_editMessageCaption(self, params: _Params) -> Any:
        _, message = self._message_to_edit(params)
        if message.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        formatted, html_source, parse_mode = self._format_text(
            params.text("caption"),
            params.text("parse_mode"),
            params.json_value("caption_entities", "can't parse caption entities JSON object"),
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
        )
        reply_markup, _ = self._parse_reply_markup(params)
        self._apply_edit(
            message,
            formatted=formatted,
            html_source=html_source,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
            text_field="caption",
            params=params,
        )
        return self._message_api(message)

    def api_editMessageReplyMarkup(self, params: _Params) -> Any:
        _, message = self._message_to_edit(params)
        reply_markup, _ = self._parse_reply_markup(params)
        self._apply_edit(
            message,
            formatted=None,
            html_source=message.html,
            parse_mode=message.parse_mode,
            reply_markup=reply_markup,
            text_field="text" if message.kind == "text" else "caption",
            params=params,
        )
        return self._message_api(message)

    def api_deleteMessage(self, params: _Params) -> Any:
        chat = self._resolve_chat(params)
        self._check_chat_access(chat)
        message_id = params.integer("message_id", required=True, empty_error="message_id is empty")
        assert message_id is not None
        self._delete_message(chat, message_id)
        return True

    def api_deleteMessages(self, params: _Params) -> Any:
        chat = self._resolve_chat(params)
        self._check_chat_access(chat)
        ids = params.json_value("message_ids", "can't parse message identifiers JSON object")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message identifiers are not specified")
        for message_id in ids:
            message = self._find_message(chat.id, int(message_id))
            if message is not None and not message.deleted:
                message.deleted = True
        return True

    def _delete_message(self, chat: _Chat, message_id: int) -> None:
        message = self._find_message(chat.id, message_id)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if (
            chat.type != "private"
            and not message.from_bot
            and chat.bot_status
            not in (
                "creator",
                "administrator",
            )
        ):
            raise bad_request("message can't be deleted")
        message.deleted = True

    def api_answerCallbackQuery(self, params: _Params) -> Any:
        query_id = params.text("callback_query_id", required=True)
        query = self._callback_queries.get(query_id or "")
        if query is None or query.answer is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.text("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answer = {
            "text": text,
            "show_alert": params.flag("show_alert"),
            "url": params.text("url"),
            "cache_time": params.integer("cache_time") or 0,
        }
        return True

    def api_setMyCommands(self, params: _Params) -> Any:
        commands = params.json_value("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        cleaned: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not _COMMAND_NAME.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        self._commands[self._command_key(params)] = cleaned
        return True

    def api_getMyCommands(self, params: _Params) -> Any:
        return copy.deepcopy(self._commands.get(self._command_key(params), []))

    def api_deleteMyCommands(self, params: _Params) -> Any:
        self._commands.pop(self._command_key(params), None)
        return True

    def _command_key(self, params: _Params) -> tuple[str, str]:
        scope = params.json_value("scope", "can't parse BotCommandScope JSON object") or {
            "type": "default"
        }
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        language_code = params.text("language_code") or ""
        if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
            raise bad_request("invalid language code specified")
        return json.dumps(scope, sort_keys=True), language_code

    def _remember_setting(self, params: _Params, name: str) -> Any:
        self._bot_settings[name] = dict(params.values)
        return True

    def api_setMyDescription(self, params: _Params) -> Any:
        return self._remember_setting(params, "description")

    def api_setMyShortDescription(self, params: _Params) -> Any:
        return self._remember_setting(params, "short_description")

    def api_setMyName(self, params: _Params) -> Any:
        return self._remember_setting(params, "name")

    def api_setChatMenuButton(self, params: _Params) -> Any:
        return self._remember_setting(params, "menu_button")

    def api_sendChatAction(self, params: _Params) -> Any:
        chat = self._resolve_chat(params)
        self._check_chat_access(chat)
        if params.text("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def api_getChat(self, params: _Params) -> Any:
        chat = self._resolve_chat(params)
        self._check_chat_access(chat)
        info = chat.to_api()
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if chat.migrated_from is not None:
            info["migrated_from_chat_id"] = chat.migrated_from
        return info

    def _member_api(self, chat: _Chat, user: FakeUser, status: str) -> dict[str, Any]:
        member: dict[str, Any] = {"user": user.to_api(), "status": status}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": True,
                }
            )
            if chat.type == "supergroup":
                member["can_manage_topics"] = False
        elif status == "restricted":
            member.update(
                {
                    "is_member": True,
                    "can_send_messages": False,
                    "can_send_audios": False,
                    "can_send_documents": False,
                    "can_send_photos": False,
                    "can_send_videos": False,
                    "can_send_video_notes": False,
                    "can_send_voice_notes": False,
                    "can_send_polls": False,
                    "can_send_other_messages": False,
                    "can_add_web_page_previews": False,
                    "can_change_info": False,
                    "can_invite_users": False,
                    "can_pin_messages": False,
                    "can_manage_topics": False,
                    "can_react_to_messages": False,
                    "can_edit_tag": False,
                    "until_date": 0,
                }
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _status_of(self, chat: _Chat, user_id: int) -> str:
        if user_id == self.bot_user.id:
            return chat.bot_status
        if chat.type == "private":
            return "member" if user_id == chat.id else "left"
        return chat.members.get(user_id, "left")

    def api_getChatMember(self, params: _Params) -> Any:
        chat = self._resolve_chat(params)
        self._check_chat_access(chat)
        user_id = params.integer("user_id", required=True, empty_error="user not found")
        user = self._users.get(user_id or 0)
        if user is None:
            raise bad_request("user not found")
        return self._member_api(chat, user, self._status_of(chat, user.id))

    def api_getChatAdministrators(self, params: _Params) -> Any:
        chat = self._resolve_chat(params)
        self._check_chat_access(chat)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [
            self._member_api(chat, self._users[user_id], status)
            for user_id, status in chat.members.items()
            if status in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(self._member_api(chat, self.bot_user, "administrator"))
        return admins

    def api_getChatMemberCount(self, params: _Params) -> Any:
        chat = self._resolve_chat(params)
        self._check_chat_access(chat)
        if chat.type == "private":
            return 2
        present = sum(1 for status in chat.members.values() if status in _PRESENT_STATUSES)
        return present + (1 if chat.bot_status in _PRESENT_STATUSES else 0)

    def api_leaveChat(self, params: _Params) -> Any:
        chat = self._resolve_chat(params)
        self._check_chat_access(chat)
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        old_status = chat.bot_status
        chat.bot_status = "left"
        self._enqueue_my_chat_member(chat, self.bot_user, old_status, "left")
        return True

    # -- updates ----------------------------------------------------------------------------

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, kind: payload}
        self._update_history[update_id] = copy.deepcopy(update)
        self._pending.append(_QueuedUpdate(update))
        self._changed(wake_pollers=True)
        return update_id

    def _enqueue_my_chat_member(
        self, chat: _Chat, actor: FakeUser, old_status: str, new_status: str
    ) -> int:
        return self._enqueue(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": actor.to_api(),
                "date": _now(),
                "old_chat_member": self._member_api(chat, self.bot_user, old_status),
                "new_chat_member": self._member_api(chat, self.bot_user, new_status),
            },
        )

    def _is_allowed(self, queued: _QueuedUpdate) -> bool:
        if self._allowed_updates is None:
            return queued.kind not in _NOT_DELIVERED_BY_DEFAULT
        return queued.kind in self._allowed_updates

    def _confirm(self, offset: int | None) -> None:
        """Forget the updates an offset confirms, like Telegram's getUpdates does."""
        if offset is None or offset == 0:
            return
        if offset < 0:
            keep = -offset
            normal = [queued for queued in self._pending if not queued.forced]
            self._pending = normal[-keep:] if keep else []
            return
        self._pending = [
            queued
            for queued in self._pending
            if queued.update_id >= offset or (queued.forced and not queued.delivered)
        ]

    def _collect_updates(self, offset: int | None, limit: int) -> list[dict[str, Any]]:
        self._pending = [queued for queued in self._pending if self._is_allowed(queued)]
        candidates = [
            queued
            for queued in self._pending
            if queued.forced or offset is None or offset <= 0 or queued.update_id >= offset
        ]
        candidates.sort(key=lambda queued: queued.update_id)
        batch = candidates[:limit]
        for queued in batch:
            queued.delivered = True
        return [copy.deepcopy(queued.update) for queued in batch]

    async def api_getUpdates(self, params: _Params) -> Any:
        """Long poll: answer at once when updates wait, else when one arrives or on timeout."""
        loop = asyncio.get_running_loop()
        with self._cond:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first",
                )
            offset = params.integer("offset")
            limit = min(max(params.integer("limit") or 100, 1), 100)
            timeout = max(params.integer("timeout") or 0, 0)
            allowed = params.json_value(
                "allowed_updates", "can't parse allowed updates JSON object"
            )
            if allowed is not None:
                self._allowed_updates = frozenset(allowed) if allowed else None
            self._poll_generation += 1
            generation = self._poll_generation
            self._confirm(offset)
            self._cond.notify_all()
        self._wake_pollers()
        deadline = loop.time() + timeout
        while True:
            event = self._poll_event
            with self._cond:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                batch = self._collect_updates(offset, limit)
                if batch or self._closing:
                    if batch:
                        self._cond.notify_all()
                    return batch
            remaining = deadline - loop.time()
            if remaining <= 0 or event is None:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)


def _validate_inline_keyboard(rows: Any) -> dict[str, Any] | None:
    """Check an inline keyboard the way Telegram does and return it as Telegram echoes it."""
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    echoed_rows = []
    for row in rows:
        echoed_row = []
        for button in row:
            if not isinstance(button, dict):
                raise bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            text = button.get("text")
            if not isinstance(text, str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            if not text.strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            actions = [name for name in _INLINE_BUTTON_ACTIONS if name in button]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            data = button.get("callback_data")
            if "callback_data" in button and (
                not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64
            ):
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if "url" in button and (
                not isinstance(url, str)
                or not re.match(r"^(https?://[^\s/$.?#][^\s]*|tg://\S+)$", url)
            ):
                raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
            echoed = {"text": text}
            for name in ("style", "icon_custom_emoji_id", *_INLINE_BUTTON_ACTIONS):
                if name in button:
                    echoed[name] = button[name]
            echoed_row.append(echoed)
        if echoed_row:
            echoed_rows.append(echoed_row)
    return {"inline_keyboard": echoed_rows} if echoed_rows else None


def _parse_legacy_markdown(source: str) -> FormattedText:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no escapes needed."""
    pieces: list[str] = []
    entities: list[dict[str, Any]] = []
    offset = 0
    i = 0
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < len(source):
        char = source[i]
        if char in kinds or char == "[":
            end_marker = "```" if source.startswith("```", i) else ("]" if char == "[" else char)
            start = i + len(end_marker if end_marker == "```" else char)
            end = source.find(end_marker, start)
            if end == -1:
                byte_offset = len(source[:i].encode("utf-8"))
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {byte_offset}"
                )
            inner = source[start:end]
            entity: dict[str, Any] = {"offset": offset, "length": utf16_length(inner)}
            i = end + len(end_marker)
            if end_marker == "```":
                entity["type"] = "pre"
            elif char == "[":
                entity["type"] = "text_link"
                if source.startswith("(", i) and source.find(")", i) != -1:
                    close = source.find(")", i)
                    entity["url"] = source[i + 1 : close]
                    i = close + 1
            else:
                entity["type"] = kinds[char]
            pieces.append(inner)
            offset += entity["length"]
            if entity["length"] and (entity["type"] != "text_link" or "url" in entity):
                entities.append(entity)
            continue
        pieces.append(char)
        offset += utf16_length(char)
        i += 1
    return FormattedText("".join(pieces), entities)


def _guess_mime_type(file_name: str | None, data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"%PDF"):
        return "application/pdf"
    suffix = (file_name or "").rsplit(".", 1)[-1].lower()
    return {
        "txt": "text/plain",
        "csv": "text/csv",
        "tsv": "text/tab-separated-values",
        "yaml": "application/x-yaml",
        "yml": "application/x-yaml",
        "zip": "application/zip",
        "json": "application/json",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
    }.get(suffix, "application/octet-stream")


def _method_table(state_type: type[BotApiState]) -> dict[str, str]:
    """Lower-case method name -> canonical name; Telegram matches names case-insensitively."""
    return {
        name.removeprefix("api_").lower(): name.removeprefix("api_")
        for name in dir(state_type)
        if name.startswith("api_")
    }


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------


class BotApiHttp:
    """aiohttp front end: parses requests the ways Telegram accepts and logs every call."""

    def __init__(self, state: BotApiState) -> None:
        self.state = state
        self.methods = _method_table(type(state))
        self.closing = asyncio.Event()

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self.handle_method)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self.handle_file)
        return app

    async def read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, tuple[str | None, bytes]]]:
        values: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str | None, bytes]] = {}
        content_type = request.content_type
        if request.method == "GET" or not request.can_read_body:
            return values, files
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            values.update(body)
        elif content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part is None or not hasattr(part, "filename"):
                    continue
                name = part.name or ""
                if part.filename is not None:
                    files[name] = (part.filename, bytes(await part.read()))
                else:
                    values[name] = await part.text()
        else:
            form = await request.post()
            for key, value in form.items():
                values[key] = value if isinstance(value, str) else str(value)
        return values, files

    async def handle_method(self, request: web.Request) -> web.StreamResponse:
        state = self.state
        token = request.match_info["token"]
        if token != state.token:
            if _TOKEN_FORMAT.match(token):
                return self.json(ApiError(401, "Unauthorized").to_body(), 401)
            return self.json(ApiError(404, "Not Found").to_body(), 404)
        method = self.methods.get(request.match_info["method"].lower())
        try:
            values, files = await self.read_params(request)
        except ApiError as error:
            return self.json(error.to_body(), error.error_code)
        call = state._log_call(
            method or request.match_info["method"], values, files, request.method
        )
        fault, delay = state._take_fault_and_delay(call.method)
        if delay:
            await self.sleep(delay)
        status, body = await self.run_method(method, values, files, fault)
        state._finish_call(call, status, body)
        if status == 502 and fault is not None and fault.bad_gateway_html:
            return web.Response(status=502, text=_BAD_GATEWAY_HTML, content_type="text/html")
        return self.json(body, status)

    async def run_method(
        self,
        method: str | None,
        values: dict[str, Any],
        files: dict[str, tuple[str | None, bytes]],
        fault: _Fault | None,
    ) -> tuple[int, dict[str, Any]]:
        state = self.state
        try:
            if fault is not None and not fault.execute and fault.error is not None:
                raise fault.error
            if method is None:
                raise ApiError(404, "Not Found")
            handler: Callable[[_Params], Any] = getattr(state, f"api_{method}")
            params = _Params(values, files)
            if asyncio.iscoroutinefunction(handler):
                result = await handler(params)
            else:
                with state._cond:
                    result = handler(params)
                    state._cond.notify_all()
            if fault is not None and fault.error is not None:
                raise fault.error
            return 200, {"ok": True, "result": result}
        except ApiError as error:
            return error.error_code, error.to_body()

    async def handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.state.token:
            return web.Response(status=404, text="Not Found")
        path = request.match_info["path"]
        with self.state._cond:
            stored = next(
                (item for item in self.state._files.values() if item.file_path == path), None
            )
        if stored is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def webhook_pump(self) -> None:
        """POST pending updates to the webhook one at a time, as Telegram does.

        Only loopback targets are contacted; ``webhook_target`` (set by the driver) stands
        in for the public URL the bot registered, like a reverse proxy would.
        """
        state = self.state
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self.closing.is_set():
                event = state._poll_event
                with state._cond:
                    delivery = state._next_webhook_delivery()
                if delivery is None:
                    if event is not None:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(event.wait(), 0.2)
                    else:
                        await self.sleep(0.2)
                    continue
                target, secret, queued = delivery
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                error: str | None = None
                try:
                    async with session.post(target, json=queued.update, headers=headers) as reply:
                        await reply.read()
                        if not 200 <= reply.status < 300:
                            error = (
                                f"Wrong response from the webhook: {reply.status} {reply.reason}"
                            )
                except (aiohttp.ClientError, TimeoutError) as problem:
                    error = f"Connection failed: {problem.__class__.__name__}"
                state._webhook_result(queued, error)
                if error is not None:
                    await self.sleep(0.5)

    async def sleep(self, seconds: float) -> None:
        """A delay that ends early when the server shuts down."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), seconds)

    @staticmethod
    def json(body: dict[str, Any], status: int) -> web.Response:
        return web.Response(
            status=status,
            text=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            content_type="application/json",
        )


class ServerThread:
    """Runs the aiohttp app on 127.0.0.1 in a daemon thread with its own event loop."""

    def __init__(self, state: BotApiState, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._http: BotApiHttp | None = None
        self._runner: web.AppRunner | None = None
        self._pump: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    def start(self, timeout: float = 10.0) -> int:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="fake-bot-api", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("fake Bot API server did not start in time")
        if self._startup_error is not None:
            self._thread.join()
            raise RuntimeError("fake Bot API server failed to start") from self._startup_error
        assert self.port is not None
        return self.port

    def _run(self) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            try:
                loop.run_until_complete(self._startup())
            except BaseException as error:  # reported to the starting thread
                self._startup_error = error
                self._ready.set()
                return
            self._ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
        finally:
            self._cancel_leftover_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            asyncio.set_event_loop(None)
            loop.close()

    async def _startup(self) -> None:
        self._http = BotApiHttp(self.state)
        self.state._loop = asyncio.get_running_loop()
        self.state._wake_pollers()
        self._runner = web.AppRunner(
            self._http.make_app(), access_log=None, shutdown_timeout=2.0, handle_signals=False
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.requested_port, reuse_address=True)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])
        self._pump = asyncio.get_running_loop().create_task(self._http.webhook_pump())

    async def _shutdown(self) -> None:
        with self.state._cond:
            self.state._closing = True
        if self._http is not None:
            self._http.closing.set()
        self.state._wake_pollers()
        if self._pump is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pump, 5)
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def _cancel_leftover_tasks(loop: asyncio.AbstractEventLoop) -> None:
        tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=15)
        self._loop = None
        self._thread = None
        self.state._loop = None


__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "ApiError",
    "BotApiHttp",
    "BotApiState",
    "BotMessage",
    "ChatMessage",
    "FakeChat",
    "FakeUser",
    "MessageVersion",
    "RateLimits",
    "ServerThread",
    "image_size",
    "make_png",
]
