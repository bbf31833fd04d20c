"""Tables and queries for spaced repetition, study settings and reminders.

The tables live on the shared ``metadata`` (``bot.storage.migrations`` imports this module before it
creates or upgrades the schema; migration 4 creates them in existing databases). Queries run
on a ``Tx``'s connection, so they join the caller's unit of work: an answer, its FSRS review
and the user's totals commit together; a reminder's claim and its send record do too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    cast,
    func,
    select,
    update,
)

from bot.core.scheduling import CardState
from bot.storage.schema import Queries, UTCDateTime, answers, metadata, per_dialect, row_as

#: One FSRS memory state per user per card (deck id + card id, as card ids are per deck).
card_states = Table(
    "card_states",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("deck_id", String(200), primary_key=True),
    Column("card_id", String(200), primary_key=True),
    Column("state", Integer, nullable=False),
    Column("step", Integer),
    Column("stability", Float),
    Column("difficulty", Float),
    Column("due", UTCDateTime, nullable=False),
    Column("last_review", UTCDateTime),
    Column("reps", Integer, nullable=False, default=0),
    Column("lapses", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
    # "What is due for this user (in this deck)?"
    Index("ix_card_states_user_due", "user_id", "deck_id", "due"),
    # "Who has cards due now?"
    Index("ix_card_states_due", "due", "user_id"),
)

#: Every review with the state it started from, so "I was right" can re-rate the review
#: (recompute from the stored pre-review state) instead of stacking a second one.
card_reviews = Table(
    "card_reviews",
    metadata,
    Column("review_id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", Integer, ForeignKey("answers.answer_id"), unique=True),
    Column("user_id", BigInteger, nullable=False),
    Column("deck_id", String(200), nullable=False),
    Column("card_id", String(200), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("reviewed_at", UTCDateTime, nullable=False),
    Column("response_seconds", Float),
    Column("first_review", Boolean, nullable=False, default=False),
    # the state before this review; prev_state NULL means the card was new
    Column("prev_state", Integer),
    Column("prev_step", Integer),
    Column("prev_stability", Float),
    Column("prev_difficulty", Float),
    Column("prev_due", UTCDateTime),
    Column("prev_last_review", UTCDateTime),
    Column("rerated_at", UTCDateTime),
    Index("ix_card_reviews_card", "user_id", "deck_id", "card_id", "review_id"),
    Index("ix_card_reviews_user_time", "user_id", "reviewed_at"),
)

#: Per chat (a private chat's id is the user's id): time zone and the daily new-card limit.
study_settings = Table(
    "study_settings",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("timezone", String(64)),
    Column("new_per_day", Integer),
    Column("question_hours", Integer),  # groups: how long a question of the day stays open
    Column("updated_at", UTCDateTime, nullable=False),
)

#: At most one daily reminder per chat. ``next_fire_at`` is the next instant it is due; the
#: time zone is copied here (and kept in step by /timezone) so fan-out needs no join.
reminders = Table(
    "reminders",
    metadata,
    Column("reminder_id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False, unique=True),
    Column("chat_type", String(16), nullable=False),  # private | group
    Column("set_by", BigInteger, nullable=False),
    Column("local_time", String(5), nullable=False),  # HH:MM
    Column("days", Integer, nullable=False),  # bit 0 = Monday
    Column("timezone", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("next_fire_at", UTCDateTime),
    Column("disabled_reason", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_reminders_due", "enabled", "next_fire_at"),
)

#: One row per reminder per local day: the claim, made in the same transaction that moves the
#: reminder on, and then the outcome of the send. The unique key is what makes "never twice
#: a day" hold across restarts and replicas.
reminder_sends = Table(
    "reminder_sends",
    metadata,
    Column("send_id", Integer, primary_key=True, autoincrement=True),
    Column("reminder_id", Integer, ForeignKey("reminders.reminder_id"), nullable=False),
    Column("local_date", Date, nullable=False),
    # claimed → sent | failed | blocked | unknown (claimed, then the bot stopped);
    # nothing_due and missed (more than 2 h late) record that no message was due.
    Column("status", String(16), nullable=False),
    Column("fire_at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("message_id", BigInteger),
    Column("round_id", Integer),
    Column("detail", String(200)),
    UniqueConstraint("reminder_id", "local_date", name="uq_reminder_sends_day"),
    Index("ix_reminder_sends_status", "status"),
)

#: Groups: the question of the day that a reminder posts, answered by replying to it.
daily_questions = Table(
    "daily_questions",
    metadata,
    Column("question_id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("send_id", Integer, ForeignKey("reminder_sends.send_id"), unique=True),
    Column("deck_id", String(200), nullable=False),
    Column("card_id", String(200), nullable=False),
    Column("message_id", BigInteger),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closes_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Index("ix_daily_questions_open", "chat_id", "closed_at"),
    Index("ix_daily_questions_closing", "closed_at", "closes_at"),
)

daily_answers = Table(
    "daily_answers",
    metadata,
    Column("daily_answer_id", Integer, primary_key=True, autoincrement=True),
    Column("question_id", Integer, ForeignKey("daily_questions.question_id"), nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("first_name", String(256), nullable=False, default=""),
    Column("answer_text", Text),
    Column("verdict", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("points", Integer, nullable=False),
    Column("update_id", BigInteger, unique=True),
    Column("answered_at", UTCDateTime, nullable=False),
    UniqueConstraint("question_id", "user_id", name="uq_daily_answers_once"),
)

CLAIMED = "claimed"
#: Statuses after which a message may have reached the chat: the day is used up.
MAY_HAVE_SENT = ("claimed", "sent", "unknown", "failed")


@dataclass(frozen=True)
class ReviewRow:
    review_id: int
    answer_id: int | None
    user_id: int
    deck_id: str
    card_id: str
    rating: int
    reviewed_at: datetime
    first_review: bool
    prev: CardState | None


@dataclass(frozen=True)
class SettingsRow:
    chat_id: int
    timezone: str | None
    new_per_day: int | None
    question_hours: int | None


@dataclass(frozen=True)
class ReminderRow:
    reminder_id: int
    chat_id: int
    chat_type: str
    set_by: int
    local_time: str
    days: int
    timezone: str
    enabled: bool
    next_fire_at: datetime | None
    disabled_reason: str | None


@dataclass(frozen=True)
class SendRow:
    send_id: int
    reminder_id: int
    local_date: date
    status: str
    fire_at: datetime
    message_id: int | None
    round_id: int | None


@dataclass(frozen=True)
class DailyQuestionRow:
    question_id: int
    chat_id: int
    deck_id: str
    card_id: str
    message_id: int | None
    opened_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None


def _state(row: Any, prefix: str = "") -> CardState:
    return CardState(
        state=getattr(row, f"{prefix}state"),
        step=getattr(row, f"{prefix}step"),
        stability=getattr(row, f"{prefix}stability"),
        difficulty=getattr(row, f"{prefix}difficulty"),
        due=getattr(row, f"{prefix}due"),
        last_review=getattr(row, f"{prefix}last_review"),
    )


def _state_values(state: CardState | None, prefix: str = "") -> dict[str, Any]:
    if state is None:
        return {f"{prefix}{name}": None for name in _STATE_COLUMNS}
    return {f"{prefix}{name}": getattr(state, name) for name in _STATE_COLUMNS}


def _review_row(row: Any) -> ReviewRow:
    return ReviewRow(
        review_id=row.review_id,
        answer_id=row.answer_id,
        user_id=row.user_id,
        deck_id=row.deck_id,
        card_id=row.card_id,
        rating=row.rating,
        reviewed_at=row.reviewed_at,
        first_review=row.first_review,
        prev=None if row.prev_state is None else _state(row, "prev_"),
    )


def _reminder_row(row: Any) -> ReminderRow:
    return row_as(ReminderRow, row)


def _send_row(row: Any) -> SendRow:
    return row_as(SendRow, row)


def _daily_row(row: Any) -> DailyQuestionRow:
    return row_as(DailyQuestionRow, row)


# Statements on the answer path, built once (see bot.storage.quiz's hot-path statements).
_ONE_CARD = and_(
    card_states.c.user_id == bindparam("user_id"),
    card_states.c.deck_id == bindparam("deck_id"),
    card_states.c.card_id == bindparam("card_id"),
)
_CARD_STATE = select(card_states).where(_ONE_CARD)
_STATE_COLUMNS = ("state", "step", "stability", "difficulty", "due", "last_review")


def _save_card_state(insert: Any) -> Any:
    statement = insert(card_states)
    return statement.on_conflict_do_update(
        index_elements=["user_id", "deck_id", "card_id"],
        set_={
            name: statement.excluded[name]
            for name in (*_STATE_COLUMNS, "reps", "lapses", "updated_at")
        },
    )


_SAVE_CARD_STATE = per_dialect(_save_card_state)
_SETTINGS = select(study_settings).where(study_settings.c.chat_id == bindparam("chat_id"))
_ADD_REVIEW = card_reviews.insert().returning(card_reviews.c.review_id)
_COUNT_REVIEWS = select(
    func.count().label("reps"),
    func.coalesce(
        func.sum(cast(and_(card_reviews.c.rating == 1, ~card_reviews.c.first_review), Integer)),
        0,
    ).label("lapses"),
).where(
    card_reviews.c.user_id == bindparam("user_id"),
    card_reviews.c.deck_id == bindparam("deck_id"),
    card_reviews.c.card_id == bindparam("card_id"),
)


class ReviewRepo:
    """Queries for this feature, run inside the caller's unit of work."""

    def __init__(self, tx: Queries) -> None:
        self.tx = tx
        self.conn = tx.conn

    @property
    def is_postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    # --- card states --------------------------------------------------------------------

    async def card_states(self, user_id: int, deck_id: str) -> dict[str, CardState]:
        result = await self.conn.execute(
            select(card_states).where(
                card_states.c.user_id == user_id, card_states.c.deck_id == deck_id
            )
        )
        return {row.card_id: _state(row) for row in result}

    async def card_state(self, user_id: int, deck_id: str, card_id: str) -> CardState | None:
        parameters = {"user_id": user_id, "deck_id": deck_id, "card_id": card_id}
        row = (await self.conn.execute(_CARD_STATE, parameters)).first()
        return _state(row) if row else None

    async def save_card_state(
        self,
        user_id: int,
        deck_id: str,
        card_id: str,
        state: CardState,
        now: datetime,
        *,
        reps: int,
        lapses: int,
    ) -> None:
        values = {**_state_values(state), "reps": reps, "lapses": lapses, "updated_at": now}
        await self.conn.execute(
            _SAVE_CARD_STATE[self.conn.dialect.name],
            {"user_id": user_id, "deck_id": deck_id, "card_id": card_id, **values},
        )

    async def due_times(self, user_id: int, deck_id: str) -> list[datetime]:
        result = await self.conn.execute(
            select(card_states.c.due).where(
                card_states.c.user_id == user_id, card_states.c.deck_id == deck_id
            )
        )
        return [row.due for row in result]

    async def count_due(self, user_id: int, deck_id: str, now: datetime) -> int:
        return int(
            (
                await self.conn.execute(
                    select(func.count()).where(
                        card_states.c.user_id == user_id,
                        card_states.c.deck_id == deck_id,
                        card_states.c.due <= now,
                    )
                )
            ).scalar_one()
        )

    async def count_seen(self, user_id: int, deck_id: str) -> int:
        return int(
            (
                await self.conn.execute(
                    select(func.count()).where(
                        card_states.c.user_id == user_id, card_states.c.deck_id == deck_id
                    )
                )
            ).scalar_one()
        )

    async def users_with_cards_due(self, now: datetime, limit: int = 1000) -> list[int]:
        """Who has something due now (the ``ix_card_states_due`` index serves this)."""
        result = await self.conn.execute(
            select(card_states.c.user_id)
            .where(card_states.c.due <= now)
            .group_by(card_states.c.user_id)
            .order_by(card_states.c.user_id)
            .limit(limit)
        )
        return [row.user_id for row in result]

    # --- reviews ------------------------------------------------------------------------

    async def add_review(
        self,
        *,
        answer_id: int | None,
        user_id: int,
        deck_id: str,
        card_id: str,
        rating: int,
        reviewed_at: datetime,
        response_seconds: float | None,
        prev: CardState | None,
    ) -> int:
        result = await self.conn.execute(
            _ADD_REVIEW,
            {
                "answer_id": answer_id,
                "user_id": user_id,
                "deck_id": deck_id,
                "card_id": card_id,
                "rating": rating,
                "reviewed_at": reviewed_at,
                "response_seconds": response_seconds,
                "first_review": prev is None,
                **_state_values(prev, "prev_"),
            },
        )
        return int(result.scalar_one())

    async def review_for_answer(self, answer_id: int) -> ReviewRow | None:
        row = (
            await self.conn.execute(
                select(card_reviews).where(card_reviews.c.answer_id == answer_id)
            )
        ).first()
        return _review_row(row) if row else None

    async def reviews_from(self, review: ReviewRow) -> list[ReviewRow]:
        """This review and every later one of the same card, oldest first."""
        result = await self.conn.execute(
            select(card_reviews)
            .where(
                card_reviews.c.user_id == review.user_id,
                card_reviews.c.deck_id == review.deck_id,
                card_reviews.c.card_id == review.card_id,
                card_reviews.c.review_id >= review.review_id,
            )
            .order_by(card_reviews.c.review_id)
        )
        return [_review_row(row) for row in result]

    async def rewrite_review(
        self, review_id: int, *, rating: int, prev: CardState | None, now: datetime | None
    ) -> None:
        values: dict[str, Any] = {"rating": rating, **_state_values(prev, "prev_")}
        if now is not None:
            values["rerated_at"] = now
        await self.conn.execute(
            update(card_reviews).where(card_reviews.c.review_id == review_id).values(**values)
        )

    async def count_reviews(self, user_id: int, deck_id: str, card_id: str) -> tuple[int, int]:
        """(reviews, lapses) of one card: lapses are Again ratings after the first review."""
        parameters = {"user_id": user_id, "deck_id": deck_id, "card_id": card_id}
        row = (await self.conn.execute(_COUNT_REVIEWS, parameters)).one()
        return int(row.reps), int(row.lapses)

    async def new_cards_since(self, user_id: int, since: datetime) -> int:
        """Cards met for the first time since ``since`` (the start of the user's day)."""
        return int(
            (
                await self.conn.execute(
                    select(func.count()).where(
                        card_reviews.c.user_id == user_id,
                        card_reviews.c.first_review.is_(True),
                        card_reviews.c.reviewed_at >= since,
                    )
                )
            ).scalar_one()
        )

    # --- history for /stats -----------------------------------------------------------------

    async def answers_since(self, user_id: int, since: datetime) -> list[tuple[datetime, str]]:
        """(answered_at, verdict) of scored answers; an "I was right" counts as correct."""
        result = await self.conn.execute(
            select(answers.c.answered_at, answers.c.verdict, answers.c.overridden)
            .where(
                answers.c.user_id == user_id,
                answers.c.answered_at >= since,
                answers.c.outcome != "skipped",
            )
            .order_by(answers.c.answered_at)
        )
        return [(row.answered_at, "correct" if row.overridden else row.verdict) for row in result]

    async def has_history(self, user_id: int) -> bool:
        row = (
            await self.conn.execute(
                select(answers.c.answer_id)
                .where(answers.c.user_id == user_id, answers.c.outcome != "skipped")
                .limit(1)
            )
        ).first()
        return row is not None

    # --- settings -----------------------------------------------------------------------

    async def settings(self, chat_id: int) -> SettingsRow:
        row = (await self.conn.execute(_SETTINGS, {"chat_id": chat_id})).first()
        if row is None:
            return SettingsRow(chat_id, None, None, None)
        return SettingsRow(row.chat_id, row.timezone, row.new_per_day, row.question_hours)

    async def save_settings(self, chat_id: int, now: datetime, **values: Any) -> None:
        statement = self.tx.insert(study_settings).values(chat_id=chat_id, updated_at=now, **values)
        statement = statement.on_conflict_do_update(
            index_elements=["chat_id"], set_={**values, "updated_at": now}
        )
        await self.conn.execute(statement)

    # --- reminders ----------------------------------------------------------------------

    async def reminder(self, chat_id: int) -> ReminderRow | None:
        row = (
            await self.conn.execute(select(reminders).where(reminders.c.chat_id == chat_id))
        ).first()
        return _reminder_row(row) if row else None

    async def save_reminder(
        self,
        *,
        chat_id: int,
        chat_type: str,
        set_by: int,
        local_time: str,
        days: int,
        timezone: str,
        next_fire_at: datetime | None,
        now: datetime,
    ) -> None:
        values = {
            "chat_type": chat_type,
            "set_by": set_by,
            "local_time": local_time,
            "days": days,
            "timezone": timezone,
            "enabled": True,
            "next_fire_at": next_fire_at,
            "disabled_reason": None,
            "updated_at": now,
        }
        statement = self.tx.insert(reminders).values(chat_id=chat_id, created_at=now, **values)
        statement = statement.on_conflict_do_update(index_elements=["chat_id"], set_=values)
        await self.conn.execute(statement)

    async def update_reminder(self, reminder_id: int, **values: Any) -> None:
        await self.conn.execute(
            update(reminders).where(reminders.c.reminder_id == reminder_id).values(**values)
        )

    async def due_reminders(self, now: datetime, limit: int) -> list[ReminderRow]:
        """Enabled reminders whose time has come, oldest first.

        On PostgreSQL the rows are locked with SKIP LOCKED, so two bot replicas never pick up
        the same reminder; SQLite has a single writer anyway.
        """
        query = (
            select(reminders)
            .where(reminders.c.enabled.is_(True), reminders.c.next_fire_at <= now)
            .order_by(reminders.c.next_fire_at, reminders.c.reminder_id)
            .limit(limit)
        )
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        return [_reminder_row(row) for row in await self.conn.execute(query)]

    async def next_fire_at(self) -> datetime | None:
        return (
            await self.conn.execute(
                select(func.min(reminders.c.next_fire_at)).where(reminders.c.enabled.is_(True))
            )
        ).scalar_one()

    async def sent_dates(self, reminder_id: int, since: date) -> set[date]:
        """Local days on or after ``since`` whose reminder may already have gone out."""
        result = await self.conn.execute(
            select(reminder_sends.c.local_date).where(
                reminder_sends.c.reminder_id == reminder_id,
                reminder_sends.c.local_date >= since,
                reminder_sends.c.status.in_(MAY_HAVE_SENT),
            )
        )
        return {row.local_date for row in result}

    async def claim_send(
        self, reminder_id: int, local_day: date, fire_at: datetime, now: datetime, status: str
    ) -> int | None:
        """Record this day's send for the reminder; None if one may have gone out already.

        A day that only recorded "nothing due" or "missed" can still be claimed (the user may
        have moved the reminder to later that day); anything else blocks a second message.
        """
        statement = self.tx.insert(reminder_sends).values(
            reminder_id=reminder_id,
            local_date=local_day,
            status=status,
            fire_at=fire_at,
            claimed_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["reminder_id", "local_date"],
            set_={"status": status, "fire_at": fire_at, "claimed_at": now, "finished_at": None},
            where=reminder_sends.c.status.not_in(MAY_HAVE_SENT),
        ).returning(reminder_sends.c.send_id)
        row = (await self.conn.execute(statement)).first()
        return None if row is None else int(row.send_id)

    async def finish_send(
        self,
        send_id: int,
        status: str,
        now: datetime,
        *,
        message_id: int | None = None,
        round_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": now}
        if message_id is not None:
            values["message_id"] = message_id
        if round_id is not None:
            values["round_id"] = round_id
        if detail is not None:
            values["detail"] = detail[:200]
        await self.conn.execute(
            update(reminder_sends).where(reminder_sends.c.send_id == send_id).values(**values)
        )

    async def unfinished_sends(self) -> list[SendRow]:
        result = await self.conn.execute(
            select(reminder_sends).where(reminder_sends.c.status == CLAIMED)
        )
        return [_send_row(row) for row in result]

    async def resolve_unfinished(self, send_ids: Sequence[int], now: datetime) -> None:
        if send_ids:
            await self.conn.execute(
                update(reminder_sends)
                .where(
                    reminder_sends.c.send_id.in_(list(send_ids)),
                    reminder_sends.c.status == CLAIMED,
                )
                .values(
                    status="unknown",
                    finished_at=now,
                    detail="the bot stopped between the claim and the end of the send",
                )
            )

    # --- group question of the day ----------------------------------------------------------

    async def open_daily_question(self, chat_id: int) -> DailyQuestionRow | None:
        row = (
            await self.conn.execute(
                select(daily_questions)
                .where(daily_questions.c.chat_id == chat_id, daily_questions.c.closed_at.is_(None))
                .order_by(daily_questions.c.question_id.desc())
                .limit(1)
            )
        ).first()
        return _daily_row(row) if row else None

    async def daily_question(self, question_id: int) -> DailyQuestionRow | None:
        row = (
            await self.conn.execute(
                select(daily_questions).where(daily_questions.c.question_id == question_id)
            )
        ).first()
        return _daily_row(row) if row else None

    async def daily_question_by_message(
        self, chat_id: int, message_id: int
    ) -> DailyQuestionRow | None:
        row = (
            await self.conn.execute(
                select(daily_questions).where(
                    daily_questions.c.chat_id == chat_id,
                    daily_questions.c.message_id == message_id,
                )
            )
        ).first()
        return _daily_row(row) if row else None

    async def asked_cards(self, chat_id: int) -> dict[str, datetime]:
        """When each card was last the question of the day in this chat."""
        result = await self.conn.execute(
            select(daily_questions.c.card_id, func.max(daily_questions.c.opened_at).label("at"))
            .where(daily_questions.c.chat_id == chat_id)
            .group_by(daily_questions.c.card_id)
        )
        return {row.card_id: row.at for row in result}

    async def add_daily_question(
        self,
        *,
        chat_id: int,
        send_id: int,
        deck_id: str,
        card_id: str,
        opened_at: datetime,
        closes_at: datetime | None,
    ) -> int:
        result = await self.conn.execute(
            daily_questions.insert()
            .values(
                chat_id=chat_id,
                send_id=send_id,
                deck_id=deck_id,
                card_id=card_id,
                opened_at=opened_at,
                closes_at=closes_at,
            )
            .returning(daily_questions.c.question_id)
        )
        return int(result.scalar_one())

    async def set_daily_message(self, question_id: int, message_id: int) -> None:
        await self.conn.execute(
            update(daily_questions)
            .where(daily_questions.c.question_id == question_id)
            .values(message_id=message_id)
        )

    async def close_daily_question(self, question_id: int, now: datetime) -> bool:
        result = await self.conn.execute(
            update(daily_questions)
            .where(
                daily_questions.c.question_id == question_id, daily_questions.c.closed_at.is_(None)
            )
            .values(closed_at=now)
        )
        return result.rowcount == 1

    async def daily_questions_to_close(self, now: datetime, limit: int) -> list[DailyQuestionRow]:
        result = await self.conn.execute(
            select(daily_questions)
            .where(daily_questions.c.closed_at.is_(None), daily_questions.c.closes_at <= now)
            .order_by(daily_questions.c.closes_at)
            .limit(limit)
        )
        return [_daily_row(row) for row in result]

    async def next_daily_close(self) -> datetime | None:
        return (
            await self.conn.execute(
                select(func.min(daily_questions.c.closes_at)).where(
                    daily_questions.c.closed_at.is_(None)
                )
            )
        ).scalar_one()

    async def add_daily_answer(self, **values: Any) -> bool:
        """Record a member's answer; False if they answered this question before."""
        statement = (
            self.tx.insert(daily_answers)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["question_id", "user_id"])
        )
        result = await self.conn.execute(statement)
        return result.rowcount == 1

    async def answers_to_daily(self, question_id: int) -> list[Any]:
        result = await self.conn.execute(
            select(daily_answers)
            .where(daily_answers.c.question_id == question_id)
            .order_by(daily_answers.c.daily_answer_id)
        )
        return list(result)
