"""Getting updates into the bot without losing any: the durable inbox and the polling loop.

PTB's own Updater confirms updates to Telegram (by asking for the next offset) before they are
handled, so a crash at the wrong moment loses them. Here every update is written to the
``inbox`` table first, then handled, then forgotten. At start-up whatever is still in the inbox
is handled again; the services' per-update claims make sure nothing counts twice. An update
that failed because the database was down is retried with back-off until it goes through.

Right after an update's handlers have run (and sent its reply) it is marked replied, in the
same unit of work that takes it out of the inbox. A redelivered update that was replied to
(a webhook retry, an update another replica finished) is dropped on arrival. One whose
effects committed but whose reply never went out (a crash in between) is handled again: its
claim noted, with the effects, what the reply shows (``Tx.once``), and the service returns
that view, rendered again from the stored state, without counting anything twice; the handler
sends it as it would have the first time, so the reply goes out once. This covers every
private-chat step, deck uploads, /challenge and group challenge answers, and replies to the
question of the day. A question is shown again only while it is still open at that step.
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

from bot.core.throttle import WINDOW_SECONDS, Decision, judge_arrivals

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.storage.base import Store, Tx

log = logging.getLogger("bot.telegram.pump")

#: Long-poll timeout for getUpdates, in seconds.
POLL_TIMEOUT = 25
#: Back-off after a failed getUpdates, doubling up to the maximum.
POLL_BACKOFF = (1.0, 30.0)
#: Back-off for updates that failed because the database was unreachable.
RETRY_BACKOFF = (1.0, 60.0)
#: Left-over updates received this recently may still be in another replica's hands; they are
#: recovered after this pause, when that replica has had time to reply and clear them.
RECOVERY_GRACE = timedelta(seconds=5)
LAST_UPDATE_KEY = "last_received_update_id"
#: How long an update's claim is kept; Telegram redelivers an update for at most a day.
CLAIM_RETENTION = timedelta(days=7)
#: How often old claims are cleared, in seconds.
CLAIM_PRUNE_INTERVAL = 3600.0
CLAIM_PRUNE_BATCH = 5000

#: Each user's flood-control window, counted for the whole deployment.
FLOOD_WINDOW = timedelta(seconds=WINDOW_SECONDS)

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
        self._recovery: asyncio.Task[None] | None = None
        self._recovered: set[int] = set()
        self._flood: dict[int, Decision] = {}
        self.offset: int | None = None

    # --- receiving ----------------------------------------------------------------------------

    async def accept(self, updates: Sequence[Update]) -> None:
        """Keep these updates durably, then queue the ones not answered before."""
        if not updates:
            return
        last = max(update.update_id for update in updates)
        replied: set[int] = set()
        try:
            async with self.store.transaction() as tx:
                replied = await tx.replied_among(update.update_id for update in updates)
                fresh = [update for update in updates if update.update_id not in replied]
                await tx.keep_updates(
                    [(update.update_id, update.to_json()) for update in fresh], self.clock()
                )
                await tx.set_state(LAST_UPDATE_KEY, str(last))
                await self._count_floods(tx, fresh)
        except DATABASE_ERRORS as problem:
            # Handle them anyway: the user hears "try again in a moment" and we retry.
            log.error("Could not keep %d update(s) in the inbox: %s", len(updates), type(problem))
        for update in updates:
            if update.update_id in replied:
                log.info("Update %d was answered before; not again", update.update_id)
            else:
                await self.application.update_queue.put(update)

    async def _count_floods(self, tx: Tx, updates: Sequence[Update]) -> None:
        """Count each user's updates in the window the replicas share, and note the ones to
        refuse (the ``throttle`` handler asks ``flood_decision``)."""
        by_user: dict[int, list[int]] = {}
        for update in updates:
            if update.effective_user is not None:
                by_user.setdefault(update.effective_user.id, []).append(update.update_id)
        now = self.clock()
        warned: list[int] = []
        for user_id, update_ids in by_user.items():
            before, was_warned = await tx.count_arrivals(
                user_id, len(update_ids), now, now - FLOOD_WINDOW
            )
            decisions = judge_arrivals(before, len(update_ids), was_warned)
            for update_id, decision in zip(update_ids, decisions, strict=True):
                if decision is not Decision.ALLOW:
                    self._flood[update_id] = decision
                if decision is Decision.WARN:
                    warned.append(user_id)
        await tx.note_warned(warned)

    def flood_decision(self, update_id: int) -> Decision | None:
        """What the shared flood window said of this update, if it is to be refused."""
        return self._flood.pop(update_id, None)

    async def recover(self) -> int:
        """Queue again what was received but not finished before this process started.

        Updates received within ``RECOVERY_GRACE`` of now may be in a live replica's hands:
        they are looked at again after that pause, when that replica has cleared its own.
        """
        started = self.clock()
        count = await self._recover_received_before(started - RECOVERY_GRACE)
        async with self.store.transaction() as tx:
            last = await tx.get_state(LAST_UPDATE_KEY)
            recent = await tx.kept_updates(limit=1, received_before=started)
        self.offset = int(last) + 1 if last else None
        if recent:
            self._recovery = asyncio.create_task(self._recover_later(started))
        return count

    async def _recover_later(self, started: datetime) -> None:
        await asyncio.sleep(RECOVERY_GRACE.total_seconds())
        try:
            await self._recover_received_before(started)
        except DATABASE_ERRORS as problem:
            log.warning("Could not recover the left-over updates: %s", problem)

    async def _recover_received_before(self, moment: datetime) -> int:
        async with self.store.transaction() as tx:
            kept = await tx.kept_updates(received_before=moment)
            replied = await tx.replied_among(update_id for update_id, _ in kept)
            if replied:
                await tx.forget_updates(sorted(replied))
        count = 0
        for update_id, payload in kept:
            if update_id in replied or update_id in self._recovered:
                continue
            self._recovered.add(update_id)
            update = Update.de_json(json.loads(payload), self.application.bot)
            if update is not None:
                await self.application.update_queue.put(update)
                count += 1
        if count:
            log.info("Handling %d update(s) left over from an earlier run", count)
        return count

    # --- after handling -----------------------------------------------------------------------

    def failed_on_database(self, update: Update) -> bool:
        """Note an update to retry; True on its first failure (so the user is told once)."""
        self._failed_now.add(update.update_id)
        return update.update_id not in self._attempts

    async def finished(self, update: Update) -> None:
        """Called after every update: mark it replied and forget it, or schedule a retry."""
        update_id = update.update_id
        if update_id in self._failed_now:
            self._failed_now.discard(update_id)
            attempts = self._attempts[update_id] = self._attempts.get(update_id, 0) + 1
            delay = min(RETRY_BACKOFF[0] * 2 ** (attempts - 1), RETRY_BACKOFF[1])
            log.info("Retrying update %d in %.0f s", update_id, delay)
            self._retries[update_id] = asyncio.create_task(self._retry(update, delay))
            return
        self._attempts.pop(update_id, None)
        try:
            async with self.store.transaction() as tx:
                await tx.mark_replied(update_id, self.clock())
                await tx.forget_updates([update_id])
        except DATABASE_ERRORS as problem:
            # It stays in the inbox: handled again at the next start, where the claims keep
            # it from counting twice and its recorded reply is sent (at least once).
            log.warning("Could not mark update %d as replied: %s", update_id, problem)

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
        if self._recovery is not None:
            tasks.append(self._recovery)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._retries.clear()

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
