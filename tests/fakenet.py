"""An in-process fake network for PTB: the real Application and Bot, no sockets.

The loopback fake Bot API (tests/fakebotapi) is the faithful one for end-to-end tests. This
one answers inside the process, so benchmarks and property tests measure the bot, not HTTP.
Its JSON has the Bot API's shapes for the few methods the handlers call.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Quiz",
    "username": "QuizBenchBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class FakeNetwork(BaseRequest):
    """Answers Bot API calls from memory and counts them."""

    def __init__(self, latency: float = 0.0) -> None:
        """``latency``: seconds each call takes, as a round trip to Telegram would."""
        self.latency = latency
        self.calls: Counter[str] = Counter()
        self.sent: list[dict[str, Any]] = []
        self._message_ids = itertools.count(1_000)

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        chat = (
            {"id": chat_id, "type": "private", "first_name": "User"}
            if chat_id > 0
            else {"id": chat_id, "type": "group", "title": "Group"}
        )
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "from": BOT_USER,
            "chat": chat,
            "date": int(time.time()),
            "text": str(params.get("text", "")),
        }
        if params.get("reply_markup"):
            markup = params["reply_markup"]
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        return message

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in {"sendMessage", "editMessageText", "editMessageReplyMarkup"}:
            message = self._message(params)
            self.sent.append({"method": method, **params})
            return message
        if method == "getUpdates":
            return []
        return True

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        self.calls[api_method] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        params = request_data.parameters if request_data is not None else {}
        body = {"ok": True, "result": self.answer(api_method, dict(params))}
        return 200, json.dumps(body).encode()


_update_ids = itertools.count(1)


def text_update(user_id: int, text: str, first_name: str = "User") -> dict[str, Any]:
    """A private-chat text message update, commands with their bot_command entity."""
    message: dict[str, Any] = {
        "message_id": next(_update_ids),
        "from": {"id": user_id, "is_bot": False, "first_name": first_name},
        "chat": {"id": user_id, "type": "private", "first_name": first_name},
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": next(_update_ids), "message": message}


def button_update(user_id: int, data: str, message_id: int = 1) -> dict[str, Any]:
    """A callback query on a bot message in the user's private chat."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": "User"},
            "chat_instance": str(user_id),
            "data": data,
            "message": {
                "message_id": message_id,
                "from": BOT_USER,
                "chat": {"id": user_id, "type": "private", "first_name": "User"},
                "date": int(time.time()),
                "text": "question",
            },
        },
    }
