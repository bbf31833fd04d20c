"""The test-facing side of the fake Bot API: build a world, act as users, read and wait.

Every method is synchronous and thread-safe, so plain pytest functions can drive a bot
that runs in another thread or process.  Async tests use the ``*_async`` variants, which
poll instead of blocking the test's event loop.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from .markup import utf16_length
from .server import (
    DEFAULT_TOKEN,
    ApiCall,
    ApiError,
    BotApiState,
    ChatMessage,
    FakeChat,
    FakeUser,
    RateLimits,
    ServerThread,
    _CallbackQuery,
    _Chat,
    _Fault,
    _guess_mime_type,
    _Message,
    _now,
    _QueuedUpdate,
    make_png,
)

T = TypeVar("T")
UserRef = FakeUser | int
ChatRef = FakeChat | FakeUser | int
MessageRef = ChatMessage | int

_WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"


class WaitTimeout(AssertionError):
    """A wait_for* helper gave up; the message says what the fake saw meanwhile."""


def _id_of(ref: ChatRef | UserRef | MessageRef) -> int:
    if isinstance(ref, int):
        return ref
    if isinstance(ref, ChatMessage):
        return ref.message_id
    return ref.id


class FakeBotApi(BotApiState):
    """A running fake Telegram Bot API plus everything a test does with it."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "QuizTestBot",
        bot_first_name: str = "Quiz Test Bot",
        privacy_mode: bool = True,
        strict_html_ampersand: bool = True,
        rate_limits: RateLimits | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            token=token,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            privacy_mode=privacy_mode,
            strict_html_ampersand=strict_html_ampersand,
            rate_limits=rate_limits,
        )
        self._server = ServerThread(self, host, port)
        self._host = host
        self._port: int | None = None
        self._user_ids = itertools.count(100_000_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._supergroup_ids = itertools.count(2_000_000_001)
        self._message_cursor: dict[int, int] = {}

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        if self._port is not None:
            raise RuntimeError("the fake Bot API is running already")
        self._port = self._server.start()
        return self

    def stop(self) -> None:
        """Stop the server (waiting long polls return at once); safe to call twice."""
        self._server.stop()

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """What the bot gets as TELEGRAM_API_BASE_URL."""
        if self._port is None:
            raise RuntimeError("the fake Bot API is not running")
        return f"http://{self._host}:{self._port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url`` (the token and method are appended to it)."""
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root_url}/file/bot"

    @property
    def bot_id(self) -> int:
        return self.bot_user.id

    @property
    def bot_username(self) -> str:
        return self.bot_user.username or ""

    # -- building the world -----------------------------------------------------------------

    def add_user(
        self,
        first_name: str = "Ann",
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> FakeUser:
        """A user with a private chat with the bot (chat id == user id)."""
        with self._cond:
            user = FakeUser(
                user_id if user_id is not None else next(self._user_ids),
                first_name,
                last_name,
                username,
                language_code,
            )
            if user.id in self._users:
                raise ValueError(f"user {user.id} exists already")
            self._users[user.id] = user
            self._chats[user.id] = _Chat(user.id, "private", user=user)
            self._changed()
            return user

    def add_group(
        self,
        title: str = "Study group",
        *,
        members: Iterable[UserRef] = (),
        admins: Iterable[UserRef] = (),
        creator: UserRef | None = None,
        supergroup: bool = False,
        username: str | None = None,
        bot_status: str = "member",
        announce: bool = False,
    ) -> FakeChat:
        """A group (or supergroup) with the bot in it.

        ``announce`` delivers what Telegram sends when someone adds the bot: a
        ``my_chat_member`` update (left -> bot_status) and a ``new_chat_members`` message.
        """
        with self._cond:
            chat_id = -(
                1_000_000_000_000 + next(self._supergroup_ids)
                if supergroup
                else next(self._group_ids)
            )
            chat = _Chat(
                chat_id,
                "supergroup" if supergroup else "group",
                title=title,
                username=username,
                bot_status=bot_status,
            )
            for user in members:
                chat.members[_id_of(user)] = "member"
            for user in admins:
                chat.members[_id_of(user)] = "administrator"
            if creator is not None:
                chat.members[_id_of(creator)] = "creator"
            self._chats[chat.id] = chat
            if announce:
                actor = (
                    self._users[_id_of(creator)] if creator is not None else self._any_member(chat)
                )
                self._enqueue_my_chat_member(chat, actor, "left", bot_status)
                self._user_message(
                    actor, chat, {"new_chat_members": [self.bot_user.to_api()]}, kind="service"
                )
            self._changed()
            return chat.snapshot()

    def chat(self, chat: ChatRef) -> FakeChat:
        with self._cond:
            return self._chat(_id_of(chat)).snapshot()

    def user(self, user_id: int) -> FakeUser:
        with self._cond:
            return self._users[user_id]

    def set_member_status(self, chat: ChatRef, user: UserRef, status: str) -> None:
        """Set a user's status in a group: creator/administrator/member/restricted/left/kicked."""
        with self._cond:
            if status not in {"creator", "administrator", "member", "restricted", "left", "kicked"}:
                raise ValueError(f"unknown chat member status {status!r}")
            self._chat(_id_of(chat)).members[_id_of(user)] = status
            self._changed()

    def set_bot_status(self, chat: ChatRef, status: str, *, notify: bool = True) -> int | None:
        """Change the bot's own status in a group; by default send the my_chat_member update."""
        with self._cond:
            state = self._chat(_id_of(chat))
            old_status, state.bot_status = state.bot_status, status
            if not notify or old_status == status:
                self._changed()
                return None
            return self._enqueue_my_chat_member(state, self._any_member(state), old_status, status)

    def _any_member(self, chat: _Chat) -> FakeUser:
        """Someone to stand as the actor of a service event in ``chat``."""
        for wanted in ("creator", "administrator", "member"):
            for user_id, status in chat.members.items():
                if status == wanted:
                    return self._users[user_id]
        if chat.user is not None:
            return chat.user
        return self.add_user("Admin", username=f"admin_{abs(chat.id)}")

    # -- acting as users --------------------------------------------------------------------

    def _user_message(
        self,
        user: FakeUser,
        chat: _Chat,
        content: dict[str, Any],
        *,
        kind: str,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_to: int | None = None,
        deliver: bool = True,
    ) -> tuple[_Message, int | None]:
        message = _Message(
            chat_id=chat.id,
            message_id=self._next_message_id(chat),
            sender=user,
            from_bot=False,
            kind=kind,
            date=_now(),
            content=content,
            text=text,
            entities=entities or [],
            reply_to_message_id=reply_to,
        )
        self._store_message(message)
        update_id = self._enqueue("message", self._message_api(message)) if deliver else None
        return message, update_id

    def _sender_and_chat(self, user: UserRef, chat: ChatRef | None) -> tuple[FakeUser, _Chat]:
        sender = self._users[_id_of(user)]
        return sender, self._chat(sender.id if chat is None else _id_of(chat))

    def _reply_target_of(self, chat: _Chat, reply_to: MessageRef | None) -> _Message | None:
        if reply_to is None:
            return None
        target = self._find_message(chat.id, _id_of(reply_to))
        if target is None:
            raise LookupError(f"no message {_id_of(reply_to)} in chat {chat.id} to reply to")
        return target

    def _reaches_bot(self, chat: _Chat, text: str, reply_target: _Message | None) -> bool:
        """Privacy mode: in groups the bot only sees commands, replies to it and mentions
        (unless it is an administrator there)."""
        if chat.type == "private" or not self.privacy_mode:
            return True
        if chat.bot_status == "administrator":
            return True  # Telegram gives admin bots every message whatever their privacy mode
        if reply_target is not None and reply_target.from_bot:
            return True
        username = self.bot_username.lower()
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            return "@" not in command or command.split("@", 1)[1].lower() == username
        return f"@{username}" in text.lower()

    def send_text(
        self,
        user: UserRef,
        text: str,
        *,
        chat: ChatRef | None = None,
        reply_to: MessageRef | None = None,
    ) -> int | None:
        """A user writes ``text`` (to the private chat unless ``chat`` is given).

        Returns the update_id, or None when privacy mode keeps a group message from the bot.
        Commands get their ``bot_command`` entity; @mentions get ``mention`` entities.
        """
        with self._cond:
            sender, state = self._sender_and_chat(user, chat)
            target = self._reply_target_of(state, reply_to)
            entities = _text_entities(text)
            content: dict[str, Any] = {"text": text}
            if entities:
                content["entities"] = entities
            _, update_id = self._user_message(
                sender,
                state,
                content,
                kind="text",
                text=text,
                entities=entities,
                reply_to=None if target is None else target.message_id,
                deliver=self._reaches_bot(state, text, target),
            )
            return update_id

    def send_sticker(
        self,
        user: UserRef,
        *,
        chat: ChatRef | None = None,
        emoji: str = "👍",
        set_name: str = "TestStickers",
        reply_to: MessageRef | None = None,
    ) -> int | None:
        """A user sends a (static) sticker."""
        with self._cond:
            sender, state = self._sender_and_chat(user, chat)
            target = self._reply_target_of(state, reply_to)
            stored = self._store_file(make_png(8, 8), "stickers", "sticker.webp")
            sticker = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": emoji,
                "set_name": set_name,
                "file_size": len(stored.data),
            }
            _, update_id = self._user_message(
                sender,
                state,
                {"sticker": sticker},
                kind="sticker",
                reply_to=None if target is None else target.message_id,
                deliver=self._reaches_bot(state, "", target),
            )
            return update_id

    def send_photo_message(
        self,
        user: UserRef,
        *,
        chat: ChatRef | None = None,
        caption: str | None = None,
        width: int = 320,
        height: int = 240,
        reply_to: MessageRef | None = None,
    ) -> int | None:
        """A user sends a photo (a real PNG the bot can download with getFile)."""
        with self._cond:
            data = make_png(width, height)
            content = {"photo": self._photo_sizes(data, width, height, None)}
            return self._captioned_message(user, chat, reply_to, content, "photo", caption)

    def _captioned_message(
        self,
        user: UserRef,
        chat: ChatRef | None,
        reply_to: MessageRef | None,
        content: dict[str, Any],
        kind: str,
        caption: str | None,
    ) -> int | None:
        """A user's media message, with its caption's entities as Telegram adds them."""
        sender, state = self._sender_and_chat(user, chat)
        target = self._reply_target_of(state, reply_to)
        entities = _text_entities(caption) if caption else []
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        _, update_id = self._user_message(
            sender,
            state,
            content,
            kind=kind,
            text=caption,
            entities=entities,
            reply_to=None if target is None else target.message_id,
            deliver=self._reaches_bot(state, caption or "", target),
        )
        return update_id

    def send_document(
        self,
        user: UserRef,
        data: bytes,
        file_name: str,
        *,
        chat: ChatRef | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        reply_to: MessageRef | None = None,
    ) -> int | None:
        """A user sends a file: a ``document`` message whose file the bot can fetch with getFile
        and download from ``/file/bot<token>/<file_path>``, as from Telegram."""
        with self._cond:
            stored = self._store_file(data, "documents", file_name)
            document = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": file_name,
                "mime_type": mime_type or _guess_mime_type(file_name, data),
                "file_size": len(data),
            }
            content: dict[str, Any] = {"document": document}
            return self._captioned_message(user, chat, reply_to, content, "document", caption)

    def send_voice(
        self,
        user: UserRef,
        *,
        chat: ChatRef | None = None,
        duration: int = 3,
        reply_to: MessageRef | None = None,
    ) -> int | None:
        """A user sends a voice note (OGG/Opus as Telegram stores them)."""
        with self._cond:
            sender, state = self._sender_and_chat(user, chat)
            target = self._reply_target_of(state, reply_to)
            stored = self._store_file(b"OggS" + bytes(2000), "voice", "file.oga")
            voice = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "duration": duration,
                "mime_type": "audio/ogg",
                "file_size": len(stored.data),
            }
            _, update_id = self._user_message(
                sender,
                state,
                {"voice": voice},
                kind="voice",
                reply_to=None if target is None else target.message_id,
                deliver=self._reaches_bot(state, "", target),
            )
            return update_id

    def edit_text(
        self, user: UserRef, message: MessageRef, new_text: str, *, chat: ChatRef | None = None
    ) -> int:
        """A user edits one of their text messages: an ``edited_message`` update."""
        with self._cond:
            sender, state = self._sender_and_chat(user, chat)
            record = self._find_message(state.id, _id_of(message))
            if record is None or record.from_bot or record.sender.id != sender.id:
                raise LookupError(f"user {sender.id} has no message {_id_of(message)} here")
            entities = _text_entities(new_text)
            record.text = new_text
            record.entities = entities
            record.content = {"text": new_text}
            if entities:
                record.content["entities"] = entities
            record.edit_date = max(_now(), record.date + 1)
            return self._enqueue("edited_message", self._message_api(record))

    def press_button(
        self,
        user: UserRef,
        message: MessageRef,
        callback_data: str | None = None,
        *,
        chat: ChatRef | None = None,
    ) -> str:
        """A user taps an inline button of a bot message; returns the callback query id.

        Without ``callback_data`` the message must have exactly one callback button.
        """
        with self._cond:
            sender = self._users[_id_of(user)]
            chat_id = message.chat_id if isinstance(message, ChatMessage) else None
            if chat_id is None:
                chat_id = sender.id if chat is None else _id_of(chat)
            record = self._find_message(chat_id, _id_of(message))
            if record is None or record.deleted:
                raise LookupError(f"no message {_id_of(message)} in chat {chat_id}")
            datas = [
                button["callback_data"]
                for row in (record.reply_markup or {}).get("inline_keyboard", [])
                for button in row
                if "callback_data" in button
            ]
            if callback_data is None:
                if len(datas) != 1:
                    raise LookupError(f"pass callback_data; the message has buttons {datas}")
                callback_data = datas[0]
            elif callback_data not in datas:
                raise LookupError(
                    f"message {record.message_id} has no button with callback_data "
                    f"{callback_data!r}; it has {datas}"
                )
            query_id = str(5_000_000_000_000_000_000 + self._new_id())
            self._callback_queries[query_id] = _CallbackQuery(
                query_id, sender.id, chat_id, record.message_id, callback_data, time.monotonic()
            )
            self._enqueue(
                "callback_query",
                {
                    "id": query_id,
                    "from": sender.to_api(),
                    "message": self._message_api(record),
                    "chat_instance": str(abs(chat_id) * 7919 % 10**19 + 1),
                    "data": callback_data,
                },
            )
            return query_id

    def click_button(
        self, user: UserRef, message: MessageRef, text: str, *, chat: ChatRef | None = None
    ) -> str:
        """Find the inline button labelled ``text`` (exact, or a unique substring) and tap it."""
        snapshot = (
            message
            if isinstance(message, ChatMessage)
            else self.message(_id_of(user) if chat is None else _id_of(chat), message)
        )
        button = snapshot.button(text)
        if "callback_data" not in button:
            raise LookupError(f"button {text!r} sends no callback query: {button}")
        return self.press_button(user, snapshot, button["callback_data"])

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update (any shape); an update_id is added when it has none."""
        with self._cond:
            update = copy.deepcopy(update)
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            update_id = int(update["update_id"])
            self._next_update_id = max(self._next_update_id, update_id + 1)
            self._update_history[update_id] = copy.deepcopy(update)
            self._pending.append(_QueuedUpdate(update))
            self._changed(wake_pollers=True)
            return update_id

    def last_update_id(self) -> int:
        """The id of the update queued last (a button press's, say, to redeliver it)."""
        with self._cond:
            return self._next_update_id - 1

    def redeliver(self, update_id: int) -> None:
        """Deliver an earlier update again with the same update_id (a duplicate delivery).

        The copy is handed out by the next getUpdates whatever its offset, as Telegram does
        when a bot crashed before confirming; the bot must not act on it twice.
        """
        with self._cond:
            update = self._update_history.get(update_id)
            if update is None:
                raise LookupError(f"no update {update_id} was ever queued")
            self._pending.append(_QueuedUpdate(copy.deepcopy(update), forced=True))
            self._changed(wake_pollers=True)

    # -- fault injection --------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
        *,
        count: int = 1,
        execute: bool = False,
    ) -> None:
        """The next ``count`` calls of ``method`` ('*' = any but getUpdates) fail.

        Descriptions default to Telegram's (429 gets "retry after N" from parameters, 502
        answers nginx's HTML page).  ``execute=True`` performs the call and then reports
        the error, like a response lost on the way back.
        """
        if description is None:
            description = {
                400: "Bad Request",
                401: "Unauthorized",
                403: "Forbidden",
                404: "Not Found",
                409: "Conflict",
                429: f"Too Many Requests: retry after {(parameters or {}).get('retry_after', 1)}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, "Internal Server Error")
        if error_code == 429 and not parameters:
            parameters = {"retry_after": 1}
        with self._cond:
            for _ in range(count):
                self._faults.append(
                    _Fault(
                        method,
                        ApiError(error_code, description, parameters),
                        execute=execute,
                        bad_gateway_html=error_code == 502,
                    )
                )

    def delay_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        """Hold the next ``count`` calls of ``method`` for ``seconds`` (client timeouts)."""
        with self._cond:
            self._delays.extend((method, seconds) for _ in range(count))

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()
            self._delays.clear()

    def block_user(self, user: UserRef, *, notify: bool = True) -> int | None:
        """The user blocks the bot: sends to them fail with 403 from now on."""
        with self._cond:
            chat = self._chat(_id_of(user))
            chat.blocked = True
            if not notify:
                self._changed()
                return None
            return self._enqueue_my_chat_member(chat, self._users[chat.id], "member", "kicked")

    def unblock_user(self, user: UserRef, *, notify: bool = True) -> int | None:
        with self._cond:
            chat = self._chat(_id_of(user))
            chat.blocked = False
            if not notify:
                self._changed()
                return None
            return self._enqueue_my_chat_member(chat, self._users[chat.id], "kicked", "member")

    def deactivate_user(self, user: UserRef) -> None:
        """The account is deleted: sends fail with 403 "user is deactivated"."""
        with self._cond:
            self._chat(_id_of(user)).deactivated = True
            self._changed()

    def remove_bot_from_chat(
        self, chat: ChatRef, *, status: str = "kicked", by: UserRef | None = None
    ) -> int:
        """Someone removes the bot: a my_chat_member update, then sends get 403."""
        if status not in ("kicked", "left"):
            raise ValueError("status must be 'kicked' or 'left'")
        with self._cond:
            state = self._chat(_id_of(chat))
            actor = self._users[_id_of(by)] if by is not None else self._any_member(state)
            old_status, state.bot_status = state.bot_status, status
            return self._enqueue_my_chat_member(state, actor, old_status, status)

    def migrate_chat(self, group: ChatRef, *, by: UserRef | None = None) -> int:
        """Upgrade a group to a supergroup; returns the new -100… chat id.

        Delivers the two service messages Telegram sends (migrate_to_chat_id in the old
        group, migrate_from_chat_id in the new one); afterwards the old id answers 400
        "group chat was upgraded to a supergroup chat" with migrate_to_chat_id.
        """
        with self._cond:
            old = self._chat(_id_of(group))
            if old.type != "group" or old.migrated_to is not None:
                raise ValueError(f"chat {old.id} is not a basic group")
            actor = self._users[_id_of(by)] if by is not None else self._any_member(old)
            new = _Chat(
                -(1_000_000_000_000 + next(self._supergroup_ids)),
                "supergroup",
                title=old.title,
                members=dict(old.members),
                bot_status=old.bot_status,
                migrated_from=old.id,
            )
            self._chats[new.id] = new
            self._user_message(actor, old, {"migrate_to_chat_id": new.id}, kind="service")
            old.migrated_to = new.id
            self._user_message(actor, new, {"migrate_from_chat_id": old.id}, kind="service")
            return new.id

    def route_webhook_to(self, url: str | None) -> None:
        """Deliver webhook updates to ``url`` (a loopback address) instead of the URL the
        bot registered, like a reverse proxy in front of the bot would; None undoes it."""
        with self._cond:
            self.webhook_target = url
            self._changed(wake_pollers=True)

    def webhook_info(self) -> dict[str, Any] | None:
        """The webhook the bot set (url, secret_token, last error...), or None."""
        with self._cond:
            return None if self._webhook is None else dict(self._webhook)

    def enable_rate_limits(self, limits: RateLimits | None = None) -> None:
        """Answer 429 with retry_after like Telegram's flood control (off by default)."""
        with self._cond:
            self._rate_limits = limits or RateLimits()
            self._buckets.clear()

    def disable_rate_limits(self) -> None:
        with self._cond:
            self._rate_limits = None
            self._buckets.clear()

    # -- reading ----------------------------------------------------------------------------

    def messages(self, chat: ChatRef, *, include_deleted: bool = True) -> list[ChatMessage]:
        """Every message in the chat (users' and the bot's), oldest first."""
        with self._cond:
            records = sorted(
                self._messages.get(_id_of(chat), {}).values(), key=lambda item: item.message_id
            )
            return [
                self._snapshot(record)
                for record in records
                if include_deleted or not record.deleted
            ]

    def sent_messages(self, chat: ChatRef, *, include_deleted: bool = True) -> list[ChatMessage]:
        """The bot's messages in the chat with their current text/markup and edit history."""
        return [
            message
            for message in self.messages(chat, include_deleted=include_deleted)
            if message.from_bot
        ]

    def sent_texts(self, chat: ChatRef) -> list[str]:
        return [message.text or "" for message in self.sent_messages(chat)]

    def message(self, chat: ChatRef, message_id: int) -> ChatMessage:
        with self._cond:
            record = self._find_message(_id_of(chat), message_id)
            if record is None:
                raise LookupError(f"no message {message_id} in chat {_id_of(chat)}")
            return self._snapshot(record)

    def last_message(self, chat: ChatRef) -> ChatMessage | None:
        sent = self.sent_messages(chat)
        return sent[-1] if sent else None

    def calls(self, method: str | None = None, *, after: int = 0) -> list[ApiCall]:
        """Logged API calls (copies) from log index ``after`` on, optionally of one method."""
        with self._cond:
            return [
                copy.copy(call)
                for call in self._calls[after:]
                if method is None or call.method.lower() == method.lower()
            ]

    def call_count(self) -> int:
        """Length of the call log, e.g. as ``after=`` for wait_for_call."""
        with self._cond:
            return len(self._calls)

    @property
    def commands(self) -> list[dict[str, str]]:
        """Commands set for the default scope and no language."""
        return self.commands_for()

    def commands_for(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        with self._cond:
            return copy.deepcopy(self._commands.get(key, []))

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (via a getUpdates offset)."""
        with self._cond:
            return [copy.deepcopy(queued.update) for queued in self._pending]

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """How the bot answered a callback query (text, show_alert, url), or None."""
        with self._cond:
            query = self._callback_queries.get(query_id)
            return None if query is None or query.answer is None else dict(query.answer)

    # -- waiting ----------------------------------------------------------------------------

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 10.0, *, description: str = ""
    ) -> T:
        """Wait until ``predicate()`` is truthy and return its value.

        Rechecked on every state change of the fake and at least every 50 ms (so
        predicates about other things, such as a database, work too).
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(
                        f"timed out after {timeout}s waiting for "
                        f"{description or getattr(predicate, '__name__', 'a condition')}\n"
                        + self.describe()
                    )
                self._cond.wait(min(remaining, 0.05))

    def _message_matcher(
        self,
        chat_id: int,
        contains: str | None,
        predicate: Callable[[ChatMessage], bool] | None,
        after: MessageRef | None,
    ) -> Callable[[], ChatMessage | None]:
        floor = self._message_cursor.get(chat_id, 0) if after is None else _id_of(after)

        def find() -> ChatMessage | None:
            for record in sorted(
                self._messages.get(chat_id, {}).values(), key=lambda item: item.message_id
            ):
                if not record.from_bot or record.message_id <= floor:
                    continue
                snapshot = self._snapshot(record)
                if contains is not None and contains not in (snapshot.text or ""):
                    continue
                if predicate is not None and not predicate(snapshot):
                    continue
                return snapshot
            return None

        return find

    def wait_for_message(
        self,
        chat: ChatRef,
        contains: str | None = None,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 10.0,
        *,
        after: MessageRef | None = None,
    ) -> ChatMessage:
        """Wait for a new bot message in ``chat`` (matching ``contains``/``predicate``).

        "New" means: with message_id greater than ``after`` if given, else greater than
        the last message an earlier wait_for_message returned for this chat, so a test
        can read the bot's replies one after another without racing the bot.
        """
        chat_id = _id_of(chat)
        with self._cond:
            find = self._message_matcher(chat_id, contains, predicate, after)
            found = self.wait_for(
                find,
                timeout,
                description=f"a bot message in chat {chat_id}"
                + (f" containing {contains!r}" if contains else ""),
            )
            self._message_cursor[chat_id] = max(
                self._message_cursor.get(chat_id, 0), found.message_id
            )
            return found

    async def wait_for_message_async(
        self,
        chat: ChatRef,
        contains: str | None = None,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - same signature as the sync twin
        *,
        after: MessageRef | None = None,
    ) -> ChatMessage:
        """wait_for_message for async tests: polls without blocking the event loop."""
        chat_id = _id_of(chat)
        with self._cond:
            find = self._message_matcher(chat_id, contains, predicate, after)
        found = await self.wait_for_async(
            lambda: self._locked(find), timeout, description=f"a bot message in chat {chat_id}"
        )
        with self._cond:
            self._message_cursor[chat_id] = max(
                self._message_cursor.get(chat_id, 0), found.message_id
            )
        return found

    def _locked(self, function: Callable[[], T]) -> T:
        with self._cond:
            return function()

    def wait_for_edit(
        self,
        chat: ChatRef,
        message: MessageRef,
        contains: str | None = None,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 10.0,
        *,
        min_edits: int = 1,
    ) -> ChatMessage:
        """Wait until a bot message was edited ``min_edits`` times and matches."""
        chat_id, message_id = _id_of(chat), _id_of(message)

        def edited() -> ChatMessage | None:
            current = self.message(chat_id, message_id)
            if len(current.history) < min_edits:
                return None
            if contains is not None and contains not in (current.text or ""):
                return None
            if predicate is not None and not predicate(current):
                return None
            return current

        return self.wait_for(edited, timeout, description=f"an edit of message {message_id}")

    def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,
        *,
        after: int = 0,
        finished: bool = True,
    ) -> ApiCall:
        """Wait for a call of ``method`` with log index >= ``after`` (see call_count()).

        With ``finished`` (the default) the call must have been answered, so ``result`` and
        ``status`` are there.
        """

        def find() -> ApiCall | None:
            for call in self._calls[after:]:
                if call.method.lower() != method.lower():
                    continue
                if finished and call.status is None:
                    continue
                if predicate is not None and not predicate(call):
                    continue
                return copy.copy(call)
            return None

        return self.wait_for(find, timeout, description=f"a {method} call")

    async def wait_for_call_async(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - same signature as the sync twin
        *,
        after: int = 0,
        finished: bool = True,
    ) -> ApiCall:
        """wait_for_call for async tests (polls, never blocks the event loop)."""

        def find() -> ApiCall | None:
            for call in self.calls(after=after):
                if call.method.lower() != method.lower():
                    continue
                if finished and call.status is None:
                    continue
                if predicate is None or predicate(call):
                    return call
            return None

        return await self.wait_for_async(find, timeout, description=f"a {method} call")

    async def wait_for_async(
        self,
        predicate: Callable[[], T],
        timeout: float = 10.0,  # noqa: ASYNC109 - same signature as the sync twin
        *,
        description: str = "",
    ) -> T:
        """wait_for for async tests (polls every 10 ms, never blocks the event loop)."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise WaitTimeout(
                    f"timed out after {timeout}s waiting for {description or 'a condition'}\n"
                    + self.describe()
                )
            await asyncio.sleep(0.01)

    def wait_for_callback_answer(self, query_id: str, timeout: float = 10.0) -> dict[str, Any]:
        return self.wait_for(
            lambda: self.callback_answer(query_id),
            timeout,
            description=f"an answer to callback query {query_id}",
        )

    def wait_until_updates_consumed(self, timeout: float = 10.0) -> None:
        """Wait until the bot confirmed every queued update (its next getUpdates offset)."""
        self.wait_for(
            lambda: not self._pending, timeout, description="the bot to confirm all updates"
        )

    def describe(self, last_calls: int = 15) -> str:
        """A short account of recent calls and pending updates for failure messages."""
        with self._cond:
            lines = [f"pending updates: {[queued.update_id for queued in self._pending]}"]
            lines.append(f"last {last_calls} API calls:")
            for call in self._calls[-last_calls:]:
                params = {
                    key: (value if len(str(value)) < 80 else str(value)[:77] + "...")
                    for key, value in call.params.items()
                }
                lines.append(f"  #{call.index} {call.method} {params} -> {call.status}")
            return "\n".join(lines)


def _text_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram adds to text users type: a leading bot_command and @mentions."""
    entities: list[dict[str, Any]] = []
    if text.startswith("/") and len(text) > 1 and text[1] in _WORD_CHARS:
        end = 1
        while end < len(text) and (text[end] in _WORD_CHARS or text[end] == "@"):
            end += 1
        entities.append({"offset": 0, "length": utf16_length(text[:end]), "type": "bot_command"})
    index = 0
    while True:
        index = text.find("@", index)
        if index == -1:
            break
        end = index + 1
        while end < len(text) and text[end] in _WORD_CHARS:
            end += 1
        preceded_ok = index == 0 or text[index - 1] not in _WORD_CHARS + "/"
        if (
            preceded_ok
            and end - index - 1 >= 4
            and not (entities and index < entities[0]["length"])
        ):
            entities.append(
                {
                    "offset": utf16_length(text[:index]),
                    "length": utf16_length(text[index:end]),
                    "type": "mention",
                }
            )
        index = end
    return entities


@contextmanager
def running_fake_bot_api(**options: Any) -> Iterator[FakeBotApi]:
    """Start a fake Bot API on 127.0.0.1 (random port) for the duration of a with-block."""
    api = FakeBotApi(**options)
    api.start()
    try:
        yield api
    finally:
        api.stop()
