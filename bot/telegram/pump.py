"""Getting updates into the bot without losing any: the durable inbox and the polling loop.

PTB's own Updater confirms updates to Telegram (by asking for the next offset) before they are
handled, so a crash at the wrong moment loses them. Here every update is written to the
``inbox`` table first, then handled, then forgotten. At start-up whatever is still in the inbox
is handled again; the services' per-update claims make sure nothing counts twice. An update
that failed because the database was down is retried with back-off until it goes through.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.storage.base import Store

log = logging.getLogger("bot.telegram.pump")

#: Long-poll timeout for getUpdates, in seconds.
POLL_TIMEOUT = 25
#: Back-off after a failed getUpdates, doubling up to the maximum.
POLL_BACKOFF = (1.0, 30.0)
#: Back-off for updates that failed because the database was unreachable.
RETRY_BACKOFF = (1.0, 60.0)
#: Handled updates are cleared from the inbox in batches, this long after the first of them.
FORGET_DELAY = 0.25
LAST_UPDATE_KEY = "last_received_update_id"
#: How long an update's claim is kept; Telegram redelivers an update for at most a day.
CLAIM_RETENTION = timedelta(days=7)
#: How often old claims are cleared, in seconds.
CLAIM_PRUNE_INTERVAL = 3600.0
CLAIM_PRUNE_BATCH = 5000

DATABASE_ERRORS = (SQLAlchemyError, OSError)


def seconds_of(duration: timedelta | float) -> float:
    """A Bot API duration in seconds (PTB gives timedeltas, or ints without PTB_TIMEDELTA)."""
    return duration.total_seconds() if isinstance(duration, timedelta) else float(duration)


def is_database_error(error: BaseException | None) -> bool:
    return isinstance(error, DATABASE_ERRORS) and not isinstance(error, TelegramError)


class UpdatePump:
    """Receives updates, keeps them in the inbox until handled, and retries failed ones."""

    def __init__(
        self,
        application: Application,
        store: Store,
        clock: Callable[[], datetime],
        allowed_updates: Sequence[str] = Update.ALL_TYPES,
    ) -> None:
        self.application = application
        self.store = store
        self.clock = clock
        self.allowed_updates = list(allowed_updates)
        self._attempts: dict[int, int] = {}
        self._failed_now: set[int] = set()
        self._retries: dict[int, asyncio.Task[None]] = {}
        self._handled: set[int] = set()
        self._flusher: asyncio.Task[None] | None = None
        self.offset: int | None = None

    # --- receiving ----------------------------------------------------------------------------

    async def accept(self, updates: Sequence[Update]) -> None:
        """Keep these updates durably, then queue them for handling."""
        if not updates:
            return
        rows = [(update.update_id, update.to_json()) for update in updates]
        last = max(update.update_id for update in updates)
        try:
            async with self.store.transaction() as tx:
                await tx.keep_updates(rows, self.clock())
                await tx.set_state(LAST_UPDATE_KEY, str(last))
        except DATABASE_ERRORS as problem:
            # Handle them anyway: the user hears "try again in a moment" and we retry.
            log.error("Could not keep %d update(s) in the inbox: %s", len(rows), type(problem))
        for update in updates:
            await self.application.update_queue.put(update)

    async def recover(self) -> int:
        """Queue again what a previous run received but did not finish handling."""
        async with self.store.transaction() as tx:
            kept = await tx.kept_updates()
            last = await tx.get_state(LAST_UPDATE_KEY)
        self.offset = int(last) + 1 if last else None
        for _, payload in kept:
            update = Update.de_json(json.loads(payload), self.application.bot)
            if update is not None:
                await self.application.update_queue.put(update)
        if kept:
            log.info("Handling %d update(s) left over from the last run", len(kept))
        return len(kept)

    # --- after handling -----------------------------------------------------------------------

    def failed_on_database(self, update: Update) -> bool:
        """Note an update to retry; True on its first failure (so the user is told once)."""
        self._failed_now.add(update.update_id)
        return update.update_id not in self._attempts

    async def finished(self, update: Update) -> None:
        """Called after every update: forget it, or schedule a retry if it failed."""
        update_id = update.update_id
        if update_id in self._failed_now:
            self._failed_now.discard(update_id)
            attempts = self._attempts[update_id] = self._attempts.get(update_id, 0) + 1
            delay = min(RETRY_BACKOFF[0] * 2 ** (attempts - 1), RETRY_BACKOFF[1])
            log.info("Retrying update %d in %.0f s", update_id, delay)
            self._retries[update_id] = asyncio.create_task(self._retry(update, delay))
            return
        self._attempts.pop(update_id, None)
        self._handled.add(update_id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(FORGET_DELAY)
        await self.flush()

    async def flush(self) -> None:
        """Clear handled updates from the inbox, many per statement (off the hot path).

        If the process dies first, those updates are handled again at start-up; the
        services' per-update claims keep that from counting anything twice.
        """
        handled, self._handled = self._handled, set()
        if not handled:
            return
        try:
            async with self.store.transaction() as tx:
                await tx.forget_updates(sorted(handled))
        except DATABASE_ERRORS as problem:
            log.warning("Could not clear %d update(s) from the inbox: %s", len(handled), problem)

    async def forget_old_claims(self) -> int:
        """Clear update claims older than ``CLAIM_RETENTION``, a batch per unit of work.

        Without this the claims table grows by a row per update, for ever.
        """
        cutoff = self.clock() - CLAIM_RETENTION
        forgotten = 0
        while True:
            async with self.store.transaction() as tx:
                count = await tx.forget_claims(cutoff, batch=CLAIM_PRUNE_BATCH)
            forgotten += count
            if count < CLAIM_PRUNE_BATCH:
                if forgotten:
                    log.info("Cleared %d update claim(s) older than %s", forgotten, cutoff)
                return forgotten
            await asyncio.sleep(0)  # let updates in between batches

    async def _retry(self, update: Update, delay: float) -> None:
        await asyncio.sleep(delay)
        self._retries.pop(update.update_id, None)
        await self.application.update_queue.put(update)

    async def close(self) -> None:
        """Stop pending retries; their updates stay in the inbox for the next start."""
        tasks = list(self._retries.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._retries.clear()
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.flush()

    # --- polling ------------------------------------------------------------------------------

    async def poll(self) -> None:
        """Long-poll getUpdates until cancelled, feeding ``accept``."""
        bot = self.application.bot
        backoff = POLL_BACKOFF[0]
        while True:
            try:
                updates = await bot.get_updates(
                    offset=self.offset, timeout=POLL_TIMEOUT, allowed_updates=self.allowed_updates
                )
            except InvalidToken:
                raise
            except RetryAfter as problem:
                await asyncio.sleep(seconds_of(problem.retry_after))
                continue
            except (NetworkError, Conflict) as problem:
                log.warning("getUpdates failed (%s); retrying in %.0f s", problem, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, POLL_BACKOFF[1])
                continue
            backoff = POLL_BACKOFF[0]
            if updates:
                await self.accept(updates)
                self.offset = updates[-1].update_id + 1

    async def confirm(self) -> None:
        """Tell Telegram we have everything before ``offset``, so it is not sent again."""
        if self.offset is None:
            return
        try:
            await self.application.bot.get_updates(offset=self.offset, timeout=0, limit=1)
        except TelegramError as problem:
            log.info("Could not confirm the last updates: %s", problem)
