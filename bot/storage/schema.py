"""The schema of the core tables, and what every repository module shares.

``metadata`` holds every table; ``bot.storage.review`` and ``bot.storage.group`` add theirs to
it. ``Queries`` is the base of every repository: it runs statements on one unit of work's
connection, so queries of several aggregates commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

RowT = TypeVar("RowT")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

schema_versions = Table(
    "schema_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("first_name", String(256), nullable=False, default=""),
    Column("username", String(64)),
    Column("language_code", String(16)),
    Column("deck_id", String(200)),
    Column("points", Integer, nullable=False, default=0),
    Column("answered", Integer, nullable=False, default=0),
    Column("correct", Integer, nullable=False, default=0),
    Column("partial", Integer, nullable=False, default=0),
    Column("wrong", Integer, nullable=False, default=0),
    Column("streak_current", Integer, nullable=False, default=0),
    Column("streak_best", Integer, nullable=False, default=0),
    Column("streak_last_day", Date),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

rounds = Table(
    "rounds",
    metadata,
    Column("round_id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("deck_id", String(200), nullable=False),
    Column("card_ids", Text, nullable=False),  # JSON list, the round's cards in order
    Column("position", Integer, nullable=False, default=0),
    # asking: a question is open; reviewing: answered, waiting for Next; finished/stopped: closed
    Column("state", String(16), nullable=False),
    Column("hints_used", Integer, nullable=False, default=0),
    Column("question_message_id", BigInteger),
    Column("asked_at", UTCDateTime),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Index("ix_rounds_open", "chat_id", "user_id", "state"),
)

answers = Table(
    "answers",
    metadata,
    Column("answer_id", Integer, primary_key=True, autoincrement=True),
    Column("round_id", Integer, ForeignKey("rounds.round_id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("deck_id", String(200), nullable=False),
    Column("card_id", String(200), nullable=False),
    Column("answer_text", Text),
    # answered: graded text; revealed: "Show answer"; skipped: not scored
    Column("outcome", String(16), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("points", Integer, nullable=False),
    Column("hints", Integer, nullable=False, default=0),
    Column("grade_json", Text),  # which points were credited, with the student's words
    Column("overridden", Boolean, nullable=False, default=False),
    Column("overridden_at", UTCDateTime),
    Column("update_id", BigInteger, unique=True),
    Column("asked_at", UTCDateTime),
    Column("answered_at", UTCDateTime, nullable=False),
    Column("response_seconds", Float),
    Index("ix_answers_user_card", "user_id", "deck_id", "card_id"),
    Index("ix_answers_round", "round_id", "position"),
)

processed_updates = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("processed_at", UTCDateTime, nullable=False),
    # When the update's reply went out (or it needed none): a redelivery is then not answered
    # again. NULL with a claim: the effects committed but the reply may not have been sent.
    Column("replied_at", UTCDateTime),
    # What the update's reply shows, noted with its effects (the service's own record): a
    # redelivery finding it unreplied sends that reply, re-read from the stored state.
    Column("reply", Text),
)

#: One row per kind of bulk sending (reminders and broadcasts share "bulk"): the replica
#: holding it is the only one that sends, so the deployment keeps Telegram's overall limit.
send_leases = Table(
    "send_leases",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("held_until", UTCDateTime, nullable=False),
)


inbox = Table(
    "inbox",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("payload", Text, nullable=False),  # the update's JSON as Telegram sent it
    Column("received_at", UTCDateTime, nullable=False),
)

bot_state = Table(
    "bot_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


#: Each user's flood-control window, shared by the replicas (see bot.core.throttle).
flood_windows = Table(
    "flood_windows",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("window_start", UTCDateTime, nullable=False),
    Column("counted", Integer, nullable=False),
    Column("warned", Boolean, nullable=False),
)


def row_as(kind: type[RowT], row: Any) -> RowT:
    """A row dataclass from a result row whose columns carry the dataclass's field names."""
    return kind(**{name: getattr(row, name) for name in kind.__dataclass_fields__})


#: INSERT constructors that support ON CONFLICT, by dialect name.
_INSERTS: dict[str, Callable[[Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def per_dialect(build: Callable[[Callable[[Table], Any]], Any]) -> dict[str, Any]:
    """A statement built once for each dialect, by ``build`` given that dialect's insert()."""
    return {name: build(insert) for name, insert in _INSERTS.items()}


class InlineConnection:
    """A synchronous SQLite connection behind the one method of ``AsyncConnection`` Tx uses.

    Its ``execute`` never suspends, so a unit of work runs start to end without yielding to
    the event loop; the write lock it holds is taken before it starts (``Store.transaction``).
    """

    def __init__(self, conn: Connection) -> None:
        self.sync_connection = conn
        self.dialect = conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self.sync_connection.execute(statement, parameters)


class Queries:
    """Statements run on one unit of work's connection: every method joins its transaction."""

    def __init__(self, conn: AsyncConnection | InlineConnection) -> None:
        self.conn = conn

    def insert(self, table: Table) -> Any:
        """A dialect-specific INSERT that supports ON CONFLICT on SQLite and PostgreSQL."""
        return _INSERTS.get(self.conn.dialect.name, sqlite.insert)(table)
