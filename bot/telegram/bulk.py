"""Bulk sending (reminders, broadcasts) within Telegram's limit for the whole deployment.

Telegram allows a bot about 30 messages a second, whichever process sends them. Each replica
paces itself, so two replicas pacing at 28/s each would together send 56/s and be answered
with 429s. Instead, one replica at a time holds the ``bulk`` lease, a row in the database, and
only the holder sends reminders and broadcasts, at one even pace shared by both. The holder
renews the lease while it sends and releases it when done; if it dies, the lease runs out
after ``lease_seconds`` and another replica takes over (the reminder claims make sure nothing
is sent twice). Replies to users are not bulk: every replica sends them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.telegram.pump import DATABASE_ERRORS

if TYPE_CHECKING:
    from bot.storage.base import Store

log = logging.getLogger("bot.bulk")

LEASE_NAME = "bulk"
#: Bulk messages leave at a steady rate just under Telegram's ~30 messages/s for the whole
#: deployment. PTB's rate limiter (which every message passes too) allows bursts of 30, and
#: bursts arriving bunched up are what Telegram answers with 429; an even pace avoids that.
BULK_PER_SECOND = 28.0
#: How long a lease lasts unless renewed; a replica that died holding it blocks bulk sends
#: this long at most.
DEFAULT_LEASE_SECONDS = 10.0


class Pacer:
    """Lets callers through one at a time, evenly spaced, and never catches up in a burst.

    Callers go in turn, each ``interval`` after the previous one. One that woke late (a busy
    event loop) lets at most one more through at once to catch up, never the whole backlog
    of missed slots, so no second carries more than one message over the pace.
    """

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._turn = asyncio.Lock()

    async def wait(self) -> None:
        async with self._turn:
            loop = asyncio.get_running_loop()
            now = loop.time()
            slot = max(now, self._next)
            if slot > now:
                await asyncio.sleep(slot - now)
            self._next = max(slot, loop.time() - self.interval) + self.interval


def replica_name() -> str:
    """This process, unique in the deployment: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class BulkLease:
    """The ``bulk`` lease as this process sees it, shared by its reminders and broadcasts.

    Users in one process share a hold (counted), and one pacer, so reminders and a broadcast
    sent at the same time still keep the deployment's pace together.
    """

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        per_second: float = BULK_PER_SECOND,
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.holder = holder or replica_name()
        self.pacer = Pacer(per_second)
        self._users = 0
        self._lost = False
        self._renewer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def held(self) -> bool:
        return self._users > 0 and not self._lost

    async def _take(self) -> bool:
        now = self.clock()
        until = now + timedelta(seconds=self.lease_seconds)
        async with self.store.transaction() as tx:
            return await tx.take_lease(LEASE_NAME, self.holder, now, until)

    async def try_acquire(self) -> bool:
        """Hold the lease (with whoever holds it in this process); False if another replica
        does. ``release`` must follow a True."""
        async with self._lock:
            if self._users and not self._lost:
                self._users += 1
                return True
            if not await self._take():
                return False
            if self._users == 0:
                log.info("This replica now sends reminders and broadcasts (%s)", self.holder)
            self._users += 1
            self._lost = False
            if self._renewer is None or self._renewer.done():
                self._renewer = asyncio.create_task(self._renew())
            return True

    async def acquire(self) -> None:
        """Wait for the lease, asking the database again every third of its length."""
        while True:
            if await self.try_acquire():
                return
            await asyncio.sleep(self.lease_seconds / 3)

    async def release(self) -> None:
        async with self._lock:
            self._users = max(0, self._users - 1)
            if self._users:
                return
            await self._stop_renewing()
            try:
                async with self.store.transaction() as tx:
                    await tx.release_lease(LEASE_NAME, self.holder)
            except DATABASE_ERRORS as problem:  # it runs out by itself
                log.warning("Could not release the bulk-send lease: %s", problem)

    @asynccontextmanager
    async def holding(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            await self.release()

    async def pace(self) -> None:
        """Wait for the next bulk slot; if the lease was lost meanwhile, wait to get it back."""
        while self._lost:
            async with self._lock:
                if await self._take():
                    self._lost = False
                    log.info("Took the bulk-send lease back")
                    break
            await asyncio.sleep(self.lease_seconds / 3)
        await self.pacer.wait()

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                taken = await self._take()
            except DATABASE_ERRORS as problem:
                log.warning("Could not renew the bulk-send lease: %s", problem)
                continue
            if not taken and not self._lost:
                log.warning("The bulk-send lease ran out and another replica has it")
            self._lost = not taken

    async def _stop_renewing(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None

    async def close(self) -> None:
        """At shutdown: let the lease go so another replica can send at once."""
        if self._users:
            self._users = 1
            await self.release()
