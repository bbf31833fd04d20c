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
import functools
import importlib
import itertools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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
    bindparam,
    case,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.schema import CreateColumn

from bot.core.quiz import CardRecord, Streak

log = logging.getLogger(__name__)

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


# --- rows handed to the service layer ---------------------------------------------------------


@dataclass(frozen=True)
class UserProfile:
    """Who sent an update, as Telegram describes them."""

    user_id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class UserRow:
    user_id: int
    first_name: str
    username: str | None
    deck_id: str | None
    points: int
    answered: int
    correct: int
    partial: int
    wrong: int
    streak: Streak


@dataclass(frozen=True)
class RoundRow:
    round_id: int
    chat_id: int
    user_id: int
    deck_id: str
    card_ids: list[str]
    position: int
    state: str
    hints_used: int
    question_message_id: int | None
    asked_at: datetime | None
    started_at: datetime

    @property
    def current_card_id(self) -> str | None:
        return self.card_ids[self.position] if self.position < len(self.card_ids) else None

    @property
    def is_last(self) -> bool:
        return self.position >= len(self.card_ids) - 1


@dataclass(frozen=True)
class AnswerRow:
    answer_id: int
    round_id: int
    position: int
    user_id: int
    chat_id: int
    deck_id: str
    card_id: str
    answer_text: str | None
    outcome: str
    verdict: str
    score: float
    points: int
    hints: int
    grade: list[dict[str, Any]]
    overridden: bool
    answered_at: datetime


def row_as(kind: type[RowT], row: Any) -> RowT:
    """A row dataclass from a result row whose columns carry the dataclass's field names."""
    return kind(**{name: getattr(row, name) for name in kind.__dataclass_fields__})


def _user_row(row: Any) -> UserRow:
    return UserRow(
        user_id=row.user_id,
        first_name=row.first_name,
        username=row.username,
        deck_id=row.deck_id,
        points=row.points,
        answered=row.answered,
        correct=row.correct,
        partial=row.partial,
        wrong=row.wrong,
        streak=Streak(row.streak_current, row.streak_best, row.streak_last_day),
    )


def _round_row(row: Any) -> RoundRow:
    return RoundRow(
        round_id=row.round_id,
        chat_id=row.chat_id,
        user_id=row.user_id,
        deck_id=row.deck_id,
        card_ids=json.loads(row.card_ids),
        position=row.position,
        state=row.state,
        hints_used=row.hints_used,
        question_message_id=row.question_message_id,
        asked_at=row.asked_at,
        started_at=row.started_at,
    )


def _answer_row(row: Any) -> AnswerRow:
    return AnswerRow(
        answer_id=row.answer_id,
        round_id=row.round_id,
        position=row.position,
        user_id=row.user_id,
        chat_id=row.chat_id,
        deck_id=row.deck_id,
        card_id=row.card_id,
        answer_text=row.answer_text,
        outcome=row.outcome,
        verdict=row.verdict,
        score=row.score,
        points=row.points,
        hints=row.hints,
        grade=json.loads(row.grade_json) if row.grade_json else [],
        overridden=row.overridden,
        answered_at=row.answered_at,
    )


OPEN_ROUND_STATES = ("asking", "reviewing")

# Statements on the hot path (every update), built once: building a Core statement costs more
# than running it on SQLite (bench/update_throughput.py's profile).
_OPEN_ROUND = (
    select(rounds)
    .where(
        rounds.c.chat_id == bindparam("chat_id"),
        rounds.c.user_id == bindparam("user_id"),
        rounds.c.state.in_(OPEN_ROUND_STATES),
    )
    .order_by(rounds.c.round_id.desc())
    .limit(1)
)
_GET_ROUND = select(rounds).where(rounds.c.round_id == bindparam("round_id"))
_GET_USER = select(users).where(users.c.user_id == bindparam("user_id"))
_ANSWER_AT = select(answers).where(
    answers.c.round_id == bindparam("round_id"), answers.c.position == bindparam("position")
)
_ADD_ANSWER = answers.insert().returning(answers.c.answer_id)


@functools.cache
def _totals_statement(verdict: str | None) -> Any:
    """Add an answer's points to the totals and move the daily streak, in one UPDATE.

    The streak rule is ``quiz.advance_streak``'s, written in SQL; one statement per verdict.
    """
    last = users.c.streak_last_day
    current = case(
        (last == bindparam("today"), users.c.streak_current),
        (last == bindparam("yesterday"), users.c.streak_current + 1),
        else_=1,
    )
    values: dict[str, Any] = {
        "points": users.c.points + bindparam("added_points"),
        "streak_current": current,
        "streak_best": case((current > users.c.streak_best, current), else_=users.c.streak_best),
        "streak_last_day": bindparam("today"),
    }
    if verdict is not None:
        values["answered"] = users.c.answered + 1
        values[verdict] = users.c[verdict] + 1
    # (UPDATE reserves bind names equal to column names, hence "added_points" and "of_user".)
    return update(users).where(users.c.user_id == bindparam("of_user")).values(**values)


#: INSERT constructors that support ON CONFLICT, by dialect name.
_INSERTS: dict[str, Callable[[Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def per_dialect(build: Callable[[Callable[[Table], Any]], Any]) -> dict[str, Any]:
    """A statement built once for each dialect, by ``build`` given that dialect's insert()."""
    return {name: build(insert) for name, insert in _INSERTS.items()}


_CLAIM_UPDATE = per_dialect(
    lambda insert: (
        insert(processed_updates)
        .values(update_id=bindparam("update_id"), processed_at=bindparam("processed_at"))
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
)


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


class Tx:
    """One unit of work on one connection: every method runs inside the same transaction."""

    def __init__(self, conn: AsyncConnection | InlineConnection) -> None:
        self.conn = conn

    def insert(self, table: Table) -> Any:
        """A dialect-specific INSERT that supports ON CONFLICT on SQLite and PostgreSQL."""
        return _INSERTS.get(self.conn.dialect.name, sqlite.insert)(table)

    async def claim_update(self, update_id: int | None, now: datetime) -> bool:
        """Record that this update is being handled; False if it was handled before.

        Telegram redelivers updates after a crash; claiming inside the same transaction as the
        update's effects makes every update count exactly once.
        """
        if update_id is None:
            return True
        result = await self.conn.execute(
            _CLAIM_UPDATE[self.conn.dialect.name], {"update_id": update_id, "processed_at": now}
        )
        return result.rowcount == 1

    async def forget_claims(self, before: datetime, batch: int = 5000) -> int:
        """Drop up to ``batch`` of the oldest update claims made before ``before``.

        Telegram redelivers an update for at most a day, so an older claim is never needed
        again. Update ids grow with time, so the oldest claims are the lowest keys: walking
        the primary key from the start finds them without an index on the time.
        """
        rows = (
            await self.conn.execute(
                select(processed_updates.c.update_id, processed_updates.c.processed_at)
                .order_by(processed_updates.c.update_id)
                .limit(batch)
            )
        ).all()
        old = list(itertools.takewhile(lambda row: row.processed_at < before, rows))
        if old:
            # A claim whose update still waits in the inbox (the bot was down all that time)
            # is kept until that update has been handled again.
            await self.conn.execute(
                processed_updates.delete().where(
                    processed_updates.c.update_id <= old[-1].update_id,
                    processed_updates.c.update_id.not_in(select(inbox.c.update_id)),
                )
            )
        return len(old)

    # the inbox: updates kept until handled, so a crash loses none of them

    async def keep_updates(self, updates: list[tuple[int, str]], now: datetime) -> None:
        if not updates:
            return
        await self.conn.execute(
            self.insert(inbox)
            .values(
                [
                    {"update_id": update_id, "payload": payload, "received_at": now}
                    for update_id, payload in updates
                ]
            )
            .on_conflict_do_nothing(index_elements=["update_id"])
        )

    async def kept_updates(self, limit: int = 1000) -> list[tuple[int, str]]:
        result = await self.conn.execute(
            select(inbox.c.update_id, inbox.c.payload).order_by(inbox.c.update_id).limit(limit)
        )
        return [(row.update_id, row.payload) for row in result]

    async def forget_updates(self, update_ids: list[int]) -> None:
        await self.conn.execute(inbox.delete().where(inbox.c.update_id.in_(update_ids)))

    async def get_state(self, key: str) -> str | None:
        row = (
            await self.conn.execute(select(bot_state.c.value).where(bot_state.c.key == key))
        ).first()
        return row.value if row else None

    async def set_state(self, key: str, value: str) -> None:
        statement = self.insert(bot_state).values(key=key, value=value)
        await self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=["key"], set_={"value": statement.excluded.value}
            )
        )

    # users

    async def upsert_user(self, profile: UserProfile, now: datetime) -> None:
        statement = self.insert(users).values(
            user_id=profile.user_id,
            first_name=profile.first_name[:256],
            username=profile.username,
            language_code=profile.language_code,
            created_at=now,
            updated_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "first_name": statement.excluded.first_name,
                "username": statement.excluded.username,
                "language_code": statement.excluded.language_code,
                "updated_at": statement.excluded.updated_at,
            },
        )
        await self.conn.execute(statement)

    async def get_user(self, user_id: int) -> UserRow | None:
        row = (await self.conn.execute(_GET_USER, {"user_id": user_id})).first()
        return _user_row(row) if row else None

    async def user_ids(self) -> list[int]:
        """Everyone who has used the bot, for broadcasts."""
        result = await self.conn.execute(select(users.c.user_id).order_by(users.c.user_id))
        return [row.user_id for row in result]

    async def set_user_deck(self, user_id: int, deck_id: str) -> None:
        await self.conn.execute(
            update(users).where(users.c.user_id == user_id).values(deck_id=deck_id)
        )

    async def add_to_totals(
        self, user_id: int, *, points: int, verdict: str | None, today: date
    ) -> None:
        """Add one scored answer to the user's totals and daily streak, in one statement.

        The streak rule is ``quiz.advance_streak``'s, written in SQL so that the hot path
        (every answer) costs one round trip instead of a read and a write.
        """
        await self.conn.execute(
            _totals_statement(verdict),
            {
                "of_user": user_id,
                "added_points": points,
                "today": today,
                "yesterday": today - timedelta(1),
            },
        )

    async def move_verdict(self, user_id: int, *, old: str, new: str, extra_points: int) -> None:
        """Re-file one answer under another verdict (used by "I was right")."""
        values: dict[str, Any] = {"points": users.c.points + extra_points}
        if old != new:
            values[old] = users.c[old] - 1
            values[new] = users.c[new] + 1
        await self.conn.execute(update(users).where(users.c.user_id == user_id).values(**values))

    # rounds

    async def open_round(self, chat_id: int, user_id: int) -> RoundRow | None:
        row = (
            await self.conn.execute(_OPEN_ROUND, {"chat_id": chat_id, "user_id": user_id})
        ).first()
        return _round_row(row) if row else None

    async def get_round(self, round_id: int) -> RoundRow | None:
        row = (await self.conn.execute(_GET_ROUND, {"round_id": round_id})).first()
        return _round_row(row) if row else None

    async def create_round(
        self, *, chat_id: int, user_id: int, deck_id: str, card_ids: list[str], now: datetime
    ) -> RoundRow:
        result = await self.conn.execute(
            rounds.insert()
            .values(
                chat_id=chat_id,
                user_id=user_id,
                deck_id=deck_id,
                card_ids=json.dumps(card_ids),
                position=0,
                state="asking",
                hints_used=0,
                asked_at=now,
                started_at=now,
            )
            .returning(rounds.c.round_id)
        )
        round_id = result.scalar_one()
        created = await self.get_round(round_id)
        assert created is not None
        return created

    async def update_round(self, round_id: int, **values: Any) -> None:
        await self.conn.execute(
            update(rounds).where(rounds.c.round_id == round_id).values(**values)
        )

    # answers

    async def add_answer(self, **values: Any) -> int:
        if "grade" in values:
            values["grade_json"] = json.dumps(values.pop("grade"), ensure_ascii=False)
        result = await self.conn.execute(_ADD_ANSWER, values)
        return int(result.scalar_one())

    async def get_answer(self, answer_id: int) -> AnswerRow | None:
        row = (
            await self.conn.execute(select(answers).where(answers.c.answer_id == answer_id))
        ).first()
        return _answer_row(row) if row else None

    async def answer_for_update(self, update_id: int) -> AnswerRow | None:
        row = (
            await self.conn.execute(select(answers).where(answers.c.update_id == update_id))
        ).first()
        return _answer_row(row) if row else None

    async def answer_at(self, round_id: int, position: int) -> AnswerRow | None:
        row = (
            await self.conn.execute(_ANSWER_AT, {"round_id": round_id, "position": position})
        ).first()
        return _answer_row(row) if row else None

    async def round_answers(self, round_id: int) -> list[AnswerRow]:
        result = await self.conn.execute(
            select(answers).where(answers.c.round_id == round_id).order_by(answers.c.position)
        )
        return [_answer_row(row) for row in result]

    async def mark_overridden(self, answer_id: int, *, points: int, now: datetime) -> None:
        await self.conn.execute(
            update(answers)
            .where(answers.c.answer_id == answer_id)
            .values(overridden=True, overridden_at=now, verdict="correct", points=points)
        )

    async def card_history(self, user_id: int, deck_id: str) -> dict[str, CardRecord]:
        """Per-card attempts and mean score, for choosing weak and unseen cards first."""
        result = await self.conn.execute(
            select(
                answers.c.card_id,
                func.count().label("attempts"),
                # An override means the user was right: count it as a full score.
                func.avg(case((answers.c.overridden, 1.0), else_=answers.c.score)).label(
                    "mean_score"
                ),
            )
            .where(
                answers.c.user_id == user_id,
                answers.c.deck_id == deck_id,
                answers.c.outcome != "skipped",
            )
            .group_by(answers.c.card_id)
        )
        return {
            row.card_id: CardRecord(attempts=row.attempts, mean_score=float(row.mean_score))
            for row in result
        }

    async def overrides(self, deck_id: str | None = None) -> list[AnswerRow]:
        """Answers that users marked "I was right", for deck authors to review."""
        query = select(answers).where(answers.c.overridden.is_(True))
        if deck_id is not None:
            query = query.where(answers.c.deck_id == deck_id)
        result = await self.conn.execute(query.order_by(answers.c.card_id, answers.c.answer_id))
        return [_answer_row(row) for row in result]


# --- schema versions --------------------------------------------------------------------------

Migration = Callable[[Connection], None]


def _add_response_seconds(conn: Connection) -> None:
    columns = {column["name"] for column in inspect(conn).get_columns("answers")}
    if "response_seconds" not in columns:
        conn.execute(text("ALTER TABLE answers ADD COLUMN response_seconds FLOAT"))


def _create_missing_tables(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


def _add_columns(table_name: str, *names: str) -> Migration:
    """A migration adding these (nullable) columns, as ``metadata`` declares them."""

    def migration(conn: Connection) -> None:
        inspector = inspect(conn)
        if not inspector.has_table(table_name):
            return  # created whole by a later create_all
        present = {column["name"] for column in inspector.get_columns(table_name)}
        for name in names:
            if name not in present:
                column = metadata.tables[table_name].c[name]
                table = conn.dialect.identifier_preparer.format_table(column.table)
                definition = CreateColumn(column).compile(dialect=conn.dialect)
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {definition}"))

    return migration


def _streak_days_to_local_days(conn: Connection) -> None:
    """Streak days used to be UTC days; they are now the user's own days.

    For each user with a time zone, the day of their last answer is re-read in that zone, so
    that the upgrade neither breaks nor stretches a running streak.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    settings = metadata.tables.get("study_settings")
    if settings is None or not inspect(conn).has_table("study_settings"):
        return
    last_answer = (
        select(func.max(answers.c.answered_at))
        .where(answers.c.user_id == users.c.user_id)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(users.c.user_id, users.c.streak_last_day, settings.c.timezone, last_answer)
        .join(settings, settings.c.chat_id == users.c.user_id)
        .where(settings.c.timezone.is_not(None), users.c.streak_last_day.is_not(None))
    ).all()
    for user_id, last_day, timezone, answered_at in rows:
        if answered_at is None:
            continue
        if answered_at.tzinfo is None:
            answered_at = answered_at.replace(tzinfo=UTC)
        answered_at = answered_at.astimezone(UTC)
        if answered_at.date() != last_day:
            continue  # not the answer that set the day: leave it
        try:
            local_day = answered_at.astimezone(ZoneInfo(timezone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            continue
        conn.execute(
            update(users).where(users.c.user_id == user_id).values(streak_last_day=local_day)
        )


#: Modules that define more tables on ``metadata``; imported before the schema is checked.
TABLE_MODULES = ("bot.storage.group", "bot.storage.review")


def load_table_modules() -> None:
    for name in TABLE_MODULES:
        importlib.import_module(name)


#: Ordered schema changes. A new database is created from ``metadata`` and stamped with the
#: latest version; an existing one runs every migration newer than its stamp, in order.
MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "initial schema", lambda conn: None),
    (2, "answers.response_seconds", _add_response_seconds),
    (3, "group challenge tables", _create_missing_tables),
    (4, "review and reminder tables", _create_missing_tables),
    (5, "update inbox and bot state", _create_missing_tables),
    (
        6,
        "challenge posting claims",
        _add_columns("challenges", "posting_step", "posting_by", "posting_until", "paused_until"),
    ),
    (7, "streak days in the user's time zone", _streak_days_to_local_days),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _migrate(conn: Connection) -> int:
    """Bring the schema to ``SCHEMA_VERSION``; return the version the database had before."""
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    now = datetime.now(UTC)
    if "users" not in existing:
        metadata.create_all(conn)
        conn.execute(
            schema_versions.insert(),
            [{"version": v, "name": name, "applied_at": now} for v, name, _ in MIGRATIONS],
        )
        return 0
    if "schema_versions" not in existing:
        schema_versions.create(conn)
        conn.execute(
            schema_versions.insert().values(version=1, name=MIGRATIONS[0][1], applied_at=now)
        )
    current = conn.execute(select(func.max(schema_versions.c.version))).scalar_one() or 0
    for version, name, migration in MIGRATIONS:
        if version > current:
            log.info("Upgrading the database schema to version %d (%s)", version, name)
            migration(conn)
            conn.execute(
                schema_versions.insert().values(version=version, name=name, applied_at=now)
            )
    # Tables added by later versions (never altered ones) are created here as well.
    metadata.create_all(conn, checkfirst=True)
    return current


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
