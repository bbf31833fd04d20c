"""The repository layer: every piece of state the bot needs after a restart, over SQLAlchemy 2.

SQLite is the embedded default and PostgreSQL (asyncpg) the scale-out option; the same Core
queries serve both. Work happens in units of work (``Store.transaction()``), so that claiming an
update and recording its effects commit together or not at all.

On SQLite a unit of work runs on the event loop's own thread (see ``InlineConnection``): a local
transaction takes a fraction of a millisecond, less than aiosqlite's thread hop per statement.
aiosqlite still serves the schema upgrade and the health check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.storage.migrations import SCHEMA_VERSION, _migrate, load_table_modules
from bot.storage.quiz import AnswerRow, QuizQueries, RoundRow, UserProfile, UserRow
from bot.storage.schema import (
    InlineConnection,
    UTCDateTime,
    answers,
    bot_state,
    inbox,
    metadata,
    per_dialect,
    processed_updates,
    rounds,
    row_as,
    schema_versions,
    users,
)
from bot.storage.updates import UpdateQueries

__all__ = [
    "SCHEMA_VERSION",
    "AnswerRow",
    "InlineConnection",
    "RoundRow",
    "Store",
    "Tx",
    "UTCDateTime",
    "UserProfile",
    "UserRow",
    "answers",
    "bot_state",
    "create_engine_for",
    "create_inline_engine_for",
    "inbox",
    "is_in_memory",
    "metadata",
    "per_dialect",
    "ping_database",
    "processed_updates",
    "rounds",
    "row_as",
    "users",
]

log = logging.getLogger(__name__)


class Tx(QuizQueries, UpdateQueries):
    """One unit of work on one connection: every method runs inside the same transaction."""


# --- the store --------------------------------------------------------------------------------


#: How long a unit of work waits for SQLite's write lock held by another process.
SQLITE_LOCK_WAIT_SECONDS = 10.0
#: How long one statement may block the event loop on a lock before the wait turns async.
SQLITE_BLOCKING_MS = 10


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers and a writer share the file; the busy timeout is the driver's
    ``timeout`` connect argument (see ``create_engine_for`` and ``create_inline_engine_for``).
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    mode = cursor.fetchone()
    if mode is not None and str(mode[0]).lower() not in ("wal", "memory"):
        # Some network and overlay filesystems cannot do WAL: writers then wait for readers.
        log.warning("SQLite could not switch to WAL mode (it uses %s); use a local disk", mode[0])
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # We emit BEGIN IMMEDIATE ourselves (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(conn: Connection) -> None:
    """Take SQLite's write lock when a transaction begins, not at its first write.

    Updates are handled concurrently; a transaction that read first and wrote later could
    otherwise fail at once with "database is locked" when another one wrote in between.
    With the lock taken up front, the wait happens here, before any work is done.
    """
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _tune_sqlite(engine: Engine) -> None:
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin_immediate)


def _sqlite_read_check(engine: Engine) -> None:
    """Read the schema without a transaction: no BEGIN, and WAL readers block no writer."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT count(*) FROM sqlite_master")
        cursor.close()
    finally:
        raw.close()


async def ping_database(url: str) -> None:
    """Raise if the database at ``url`` cannot be reached; no schema work (``quizbot health``)."""
    store = Store(create_engine_for(url), create_inline_engine_for(url))
    try:
        await store.ping()
    finally:
        await store.close()


def _is_sqlite_lock_error(error: OperationalError) -> bool:
    message = str(error.orig).lower()
    return "locked" in message or "busy" in message


def create_engine_for(url: str) -> AsyncEngine:
    """An async engine for this URL, tuned for the backend it names."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_LOCK_WAIT_SECONDS})
        _tune_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def is_in_memory(url: URL) -> bool:
    """A SQLite URL naming no file: the database lives in one connection."""
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def create_inline_engine_for(url: str) -> Engine | None:
    """For a SQLite file, a synchronous engine on it for units of work; else None.

    An in-memory database lives in one connection, so it keeps to the aiosqlite engine.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or is_in_memory(parsed):
        return None
    engine = create_engine(
        parsed.set(drivername="sqlite+pysqlite"),
        connect_args={"timeout": SQLITE_BLOCKING_MS / 1000, "check_same_thread": False},
    )
    _tune_sqlite(engine)
    return engine


class Store:
    """Owns the engines; hands out units of work."""

    def __init__(self, engine: AsyncEngine, inline_engine: Engine | None = None) -> None:
        self.engine = engine
        self.inline_engine = inline_engine

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect and bring the schema up to date (creating it on first use)."""
        load_table_modules()
        store = cls(create_engine_for(url), create_inline_engine_for(url))
        try:
            async with store.engine.begin() as conn:
                await conn.run_sync(_migrate)
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        if self.inline_engine is not None:
            self.inline_engine.dispose()
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        if self.inline_engine is None:
            async with self.engine.begin() as conn:
                yield Tx(conn)
            return
        conn = await self._begin_inline()
        try:
            yield Tx(InlineConnection(conn))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    async def _begin_inline(self) -> Connection:
        """A connection holding SQLite's write lock, waited for without blocking the loop.

        Inside this process units of work never overlap (they do not yield), so the lock is
        only ever busy because another process writes; then we retry with a growing pause.
        """
        assert self.inline_engine is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SQLITE_LOCK_WAIT_SECONDS
        pause = 0.005
        while True:
            conn = None
            try:
                conn = self.inline_engine.connect()
                conn.begin()
                return conn
            except OperationalError as error:
                if conn is not None:
                    conn.close()
                if not _is_sqlite_lock_error(error) or loop.time() >= deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(2 * pause, 0.25)

    async def run(self, work: Callable[[Tx], Awaitable[Any]]) -> Any:
        async with self.transaction() as tx:
            return await work(tx)

    async def ping(self) -> None:
        """Raise if the database cannot be reached (on SQLite without taking the write lock)."""
        if self.inline_engine is not None:
            _sqlite_read_check(self.inline_engine)
            return
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def schema_version(self) -> int:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.max(schema_versions.c.version)))).scalar_one()
