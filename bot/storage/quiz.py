"""Users, rounds and answers: the private quiz's aggregate.

Rows are handed to the service layer as frozen dataclasses; the statements on the answer
path are built once, since building a Core statement costs more than running it on SQLite.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, select, update

from bot.core.quiz import CardRecord, Streak
from bot.storage.schema import Queries, answers, rounds, users

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


class QuizQueries(Queries):
    """Users' totals and streaks, quiz rounds, and graded answers."""

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
