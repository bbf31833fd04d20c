"""Concurrent update processing that keeps each chat's updates in order.

One slow database round trip for one student must not hold up everyone else, but two
messages from the same chat must be handled in the order they were sent (an answer, then
the press on Next). So updates of different chats run concurrently, and updates of one
chat run one after another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.engine import make_url
from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.storage.base import is_in_memory

#: How many updates may be in progress at once, across all chats.
MAX_CONCURRENT_UPDATES = 32


def concurrency_for(database_url: str) -> int:
    """How many updates may be handled at once on this database.

    Most of an update's time is its Bot API round trips, so chats must overlap. On a SQLite file
    a unit of work runs on the event loop without yielding (``storage.InlineConnection``), so
    overlapping updates never wait for each other's lock. An in-memory SQLite database keeps to
    aiosqlite, where overlapping transactions would only wait on its one writer.
    """
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite" and is_in_memory(parsed):
        return 1
    return MAX_CONCURRENT_UPDATES


def ordering_key(update: object) -> int | None:
    """The chat (or, failing that, the user) whose updates must stay in order."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Runs updates concurrently, but one at a time per chat, in arrival order."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
