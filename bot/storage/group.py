"""Tables and queries for group study challenges.

Group scores live here, per chat and apart from the private-chat totals in ``users``. The
whole state of a running challenge (its cards, the open question, its deadline and every
answer) is stored, so a restart resumes it.

Concurrency: every unit of work that changes a challenge starts by *locking* the challenge row
with ``UPDATE challenges SET revision = revision + 1 ... RETURNING``. On PostgreSQL that is a
row lock held to commit, so answers, closes and stops of one challenge run one after another;
on SQLite the first write takes the database's write lock, which does the same. Closing a
question is a conditional ``UPDATE ... WHERE state = 'open'`` (done once, whoever races), the
first-full-answer bonus a conditional ``UPDATE ... WHERE first_full_user_id IS NULL``, and a
unique constraint on (question, user) keeps every player to one answer.

Posting: each group message of a challenge (a question, its results, the final standings) is
claimed before it is sent, with a conditional ``UPDATE challenges SET posting_* ... WHERE`` no
other replica holds that step with a lease still running (``bot.core.challenge.may_post``), so two
replicas never post the same message, and one that crashed is taken over after its lease. The
holder renews the lease while its send lasts (``renew_posting``, only its own claim on that step).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)

from bot.core.challenge import CardStat, Entry, PostingClaim
from bot.storage.schema import Queries, UTCDateTime, metadata, row_as

group_chats = Table(
    "group_chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("title", String(256), nullable=False, default=""),
    # False once the bot was removed (or refused with 403); True again when it is re-added.
    Column("bot_present", Boolean, nullable=False, default=True),
    # Set when the group became a supergroup: updates still arriving for the old id follow it.
    Column("migrated_to", BigInteger),
    Column("updated_at", UTCDateTime, nullable=False),
)

challenges = Table(
    "challenges",
    metadata,
    Column("challenge_id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("started_by", BigInteger, nullable=False),
    Column("started_by_name", String(256), nullable=False),
    Column("deck_id", String(200), nullable=False),
    Column("card_ids", Text, nullable=False),  # JSON list, the questions in order
    Column("seconds", Integer, nullable=False),
    Column("grace_seconds", Float, nullable=False),
    # The position of the latest question opened; -1 before the first.
    Column("position", Integer, nullable=False, default=-1),
    # running -> finished (all questions done) | stopped (/stop) | ended (bot removed, ...)
    Column("state", String(16), nullable=False),
    # Bumped by every unit of work on the challenge: the UPDATE that bumps it is the row lock.
    Column("revision", Integer, nullable=False, default=0),
    Column("end_reason", String(200)),
    Column("stopped_by_name", String(256)),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    # The group message being posted (a step, see bot.core.challenge), by which replica, and until
    # when its claim holds; a lapsed claim may be taken over (schema version 6).
    Column("posting_step", String(32)),
    Column("posting_by", String(64)),
    Column("posting_until", UTCDateTime),
    # After a question's results, nothing more is posted before this: time to read them.
    Column("paused_until", UTCDateTime),
    Index("ix_challenges_chat_state", "chat_id", "state"),
)
# One running challenge per chat, even when two /challenge commands race.
Index(
    "uq_challenges_one_running_per_chat",
    challenges.c.chat_id,
    unique=True,
    postgresql_where=challenges.c.state == "running",
    sqlite_where=challenges.c.state == "running",
)

challenge_questions = Table(
    "challenge_questions",
    metadata,
    Column("question_id", Integer, primary_key=True, autoincrement=True),
    Column("challenge_id", Integer, ForeignKey("challenges.challenge_id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("card_id", String(200), nullable=False),
    # open -> closed (no more answers) -> announced (results posted)
    Column("state", String(16), nullable=False),
    Column("message_id", BigInteger),  # the question message players reply to
    Column("asked_at", UTCDateTime, nullable=False),
    Column("closes_at", UTCDateTime, nullable=False),
    Column("first_full_user_id", BigInteger),
    Column("closed_at", UTCDateTime),
    UniqueConstraint("challenge_id", "position", name="uq_challenge_questions_position"),
)

# Every message that showed a question, in the chat it lives in (it never moves, even when the
# challenge moves to a supergroup), so a reply is matched to its question.
challenge_messages = Table(
    "challenge_messages",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("question_id", Integer, ForeignKey("challenge_questions.question_id"), nullable=False),
)

challenge_answers = Table(
    "challenge_answers",
    metadata,
    Column("answer_id", Integer, primary_key=True, autoincrement=True),
    Column("question_id", Integer, ForeignKey("challenge_questions.question_id"), nullable=False),
    Column("challenge_id", Integer, ForeignKey("challenges.challenge_id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("answer_text", Text, nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("base_points", Integer, nullable=False),
    Column("speed_bonus", Integer, nullable=False),
    Column("streak_bonus", Integer, nullable=False),
    Column("first_bonus", Integer, nullable=False, default=0),
    Column("points", Integer, nullable=False),
    Column("grade_json", Text),
    Column("update_id", BigInteger),
    Column("answered_at", UTCDateTime, nullable=False),
    Column("elapsed_seconds", Float, nullable=False),
    UniqueConstraint("question_id", "user_id", name="uq_challenge_answers_one_per_player"),
    Index("ix_challenge_answers_chat_time", "chat_id", "answered_at"),
    Index("ix_challenge_answers_challenge_user", "challenge_id", "user_id"),
)

group_players = Table(
    "group_players",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("display_name", String(256), nullable=False),
    Column("username", String(64)),
    Column("points", Integer, nullable=False, default=0),
    Column("answers", Integer, nullable=False, default=0),
    Column("full_answers", Integer, nullable=False, default=0),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Index("ix_group_players_user", "user_id"),
)

RUNNING = "running"
OPEN, CLOSED, ANNOUNCED = "open", "closed", "announced"


# --- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChallengeRow:
    challenge_id: int
    chat_id: int
    started_by: int
    started_by_name: str
    deck_id: str
    card_ids: list[str]
    seconds: int
    grace_seconds: float
    position: int
    state: str
    end_reason: str | None
    stopped_by_name: str | None
    started_at: datetime
    finished_at: datetime | None
    posting: PostingClaim | None = None
    paused_until: datetime | None = None

    @property
    def total(self) -> int:
        return len(self.card_ids)


@dataclass(frozen=True)
class QuestionRow:
    question_id: int
    challenge_id: int
    position: int
    card_id: str
    state: str
    message_id: int | None
    asked_at: datetime
    closes_at: datetime
    first_full_user_id: int | None
    closed_at: datetime | None


@dataclass(frozen=True)
class AnswerRow:
    answer_id: int
    question_id: int
    position: int
    user_id: int
    name: str
    answer_text: str
    verdict: str
    score: float
    base_points: int
    speed_bonus: int
    streak_bonus: int
    first_bonus: int
    points: int
    answered_at: datetime
    elapsed_seconds: float


@dataclass(frozen=True)
class PlayerRow:
    chat_id: int
    user_id: int
    display_name: str
    points: int
    answers: int
    full_answers: int


@dataclass(frozen=True)
class GroupStanding:
    """A user's place in one group's all-time leaderboard (for the private /score)."""

    chat_id: int
    title: str
    rank: int
    players: int
    points: int
    bot_present: bool


def _challenge(row: Any) -> ChallengeRow:
    return ChallengeRow(
        challenge_id=row.challenge_id,
        chat_id=row.chat_id,
        started_by=row.started_by,
        started_by_name=row.started_by_name,
        deck_id=row.deck_id,
        card_ids=json.loads(row.card_ids),
        seconds=row.seconds,
        grace_seconds=row.grace_seconds,
        position=row.position,
        state=row.state,
        end_reason=row.end_reason,
        stopped_by_name=row.stopped_by_name,
        started_at=row.started_at,
        finished_at=row.finished_at,
        posting=(
            PostingClaim(row.posting_step, row.posting_by, row.posting_until)
            if row.posting_step is not None
            else None
        ),
        paused_until=row.paused_until,
    )


def _question(row: Any) -> QuestionRow:
    return row_as(QuestionRow, row)


def _player(row: Any) -> PlayerRow:
    return row_as(PlayerRow, row)


class ChallengeRepo:
    """Challenge queries on one unit of work's connection (see ``Store.transaction()``)."""

    def __init__(self, tx: Queries) -> None:
        self.tx = tx
        self.conn = tx.conn

    # chats

    async def touch_chat(self, chat_id: int, title: str | None, now: datetime) -> None:
        """Remember the chat's title (for the private /score) and that the bot is in it."""
        values: dict[str, Any] = {"bot_present": True, "updated_at": now}
        if title is not None:
            values["title"] = title[:256]
        statement = self.tx.insert(group_chats).values(chat_id=chat_id, **{"title": "", **values})
        statement = statement.on_conflict_do_update(index_elements=["chat_id"], set_=values)
        await self.conn.execute(statement)

    async def resolve_chat(self, chat_id: int) -> int:
        """The chat's current id: a group that became a supergroup answers for the new id."""
        for _ in range(3):  # a basic group migrates once; stay safe from a loop anyway
            moved = (
                await self.conn.execute(
                    select(group_chats.c.migrated_to).where(group_chats.c.chat_id == chat_id)
                )
            ).scalar_one_or_none()
            if moved is None:
                return chat_id
            chat_id = moved
        return chat_id

    async def mark_bot_absent(self, chat_id: int, now: datetime) -> None:
        await self.conn.execute(
            update(group_chats)
            .where(group_chats.c.chat_id == chat_id)
            .values(bot_present=False, updated_at=now)
        )

    # challenges

    async def create_challenge(self, **values: Any) -> int | None:
        """Insert a running challenge; None when the chat has one running already."""
        values["card_ids"] = json.dumps(values["card_ids"])
        statement = (
            self.tx.insert(challenges)
            .values(state=RUNNING, position=-1, revision=0, **values)
            .on_conflict_do_nothing()
            .returning(challenges.c.challenge_id)
        )
        return (await self.conn.execute(statement)).scalar_one_or_none()

    async def lock_running_in_chat(self, chat_id: int) -> ChallengeRow | None:
        """Lock and return the chat's running challenge (see the module docstring)."""
        statement = (
            update(challenges)
            .where(challenges.c.chat_id == chat_id, challenges.c.state == RUNNING)
            .values(revision=challenges.c.revision + 1)
            .returning(*challenges.c)
        )
        row = (await self.conn.execute(statement)).first()
        return _challenge(row) if row else None

    async def lock_challenge(self, challenge_id: int) -> ChallengeRow | None:
        """Lock and return one challenge, whatever its state."""
        statement = (
            update(challenges)
            .where(challenges.c.challenge_id == challenge_id)
            .values(revision=challenges.c.revision + 1)
            .returning(*challenges.c)
        )
        row = (await self.conn.execute(statement)).first()
        return _challenge(row) if row else None

    async def running_in_chat(self, chat_id: int) -> ChallengeRow | None:
        """The chat's running challenge, read without locking (for permission checks)."""
        row = (
            await self.conn.execute(
                select(challenges).where(
                    challenges.c.chat_id == chat_id, challenges.c.state == RUNNING
                )
            )
        ).first()
        return _challenge(row) if row else None

    async def running_ids(self) -> list[int]:
        result = await self.conn.execute(
            select(challenges.c.challenge_id)
            .where(challenges.c.state == RUNNING)
            .order_by(challenges.c.challenge_id)
        )
        return list(result.scalars())

    async def end_challenge(
        self,
        challenge_id: int,
        *,
        state: str,
        now: datetime,
        reason: str | None = None,
        stopped_by_name: str | None = None,
    ) -> bool:
        """running -> ``state``, once; False when it was not running any more."""
        result = await self.conn.execute(
            update(challenges)
            .where(challenges.c.challenge_id == challenge_id, challenges.c.state == RUNNING)
            .values(
                state=state,
                finished_at=now,
                end_reason=reason,
                stopped_by_name=stopped_by_name,
            )
        )
        return result.rowcount == 1

    async def claim_posting(
        self, challenge_id: int, step: str, replica: str, until: datetime, now: datetime
    ) -> bool:
        """Claim the posting of ``step`` until ``until``; True when this replica may post it.

        The same rule as ``bot.core.challenge.may_post``, as one atomic conditional update.
        """
        c = challenges.c
        result = await self.conn.execute(
            update(challenges)
            .where(
                c.challenge_id == challenge_id,
                c.state == RUNNING,
                or_(
                    c.posting_step.is_(None),
                    c.posting_step != step,
                    c.posting_until <= now,
                ),
            )
            .values(posting_step=step, posting_by=replica, posting_until=until)
        )
        return result.rowcount == 1

    async def renew_posting(
        self, challenge_id: int, step: str, replica: str, until: datetime
    ) -> bool:
        """Move the lease of ``replica``'s claim on ``step`` to ``until``; False when it holds
        no such claim any more (posted, given back, or taken over after its lease ran out)."""
        c = challenges.c
        result = await self.conn.execute(
            update(challenges)
            .where(c.challenge_id == challenge_id, c.posting_step == step, c.posting_by == replica)
            .values(posting_until=until)
        )
        return result.rowcount == 1

    async def _drop_claim(self, challenge_id: int, condition: Any) -> bool:
        result = await self.conn.execute(
            update(challenges)
            .where(challenges.c.challenge_id == challenge_id, condition)
            .values(posting_step=None, posting_by=None, posting_until=None)
        )
        return result.rowcount == 1

    async def give_back(self, challenge_id: int, replica: str) -> bool:
        """Drop the claim this replica holds on the challenge, if any (its send failed)."""
        return await self._drop_claim(challenge_id, challenges.c.posting_by == replica)

    async def posted(
        self, challenge_id: int, step: str, *, paused_until: datetime | None = None
    ) -> None:
        """``step`` was posted: drop its claim (and pause the next step until ``paused_until``)."""
        await self._drop_claim(challenge_id, challenges.c.posting_step == step)
        if paused_until is not None:
            await self.conn.execute(
                update(challenges)
                .where(challenges.c.challenge_id == challenge_id)
                .values(paused_until=paused_until)
            )

    async def set_position(self, challenge_id: int, position: int) -> None:
        await self.conn.execute(
            update(challenges)
            .where(challenges.c.challenge_id == challenge_id)
            .values(position=position)
        )

    # questions

    async def open_question(
        self,
        *,
        challenge_id: int,
        position: int,
        card_id: str,
        asked_at: datetime,
        closes_at: datetime,
    ) -> QuestionRow:
        result = await self.conn.execute(
            challenge_questions.insert()
            .values(
                challenge_id=challenge_id,
                position=position,
                card_id=card_id,
                state=OPEN,
                asked_at=asked_at,
                closes_at=closes_at,
            )
            .returning(*challenge_questions.c)
        )
        return _question(result.one())

    async def question(self, question_id: int) -> QuestionRow | None:
        row = (
            await self.conn.execute(
                select(challenge_questions).where(challenge_questions.c.question_id == question_id)
            )
        ).first()
        return _question(row) if row else None

    async def question_at(self, challenge_id: int, position: int) -> QuestionRow | None:
        row = (
            await self.conn.execute(
                select(challenge_questions).where(
                    challenge_questions.c.challenge_id == challenge_id,
                    challenge_questions.c.position == position,
                )
            )
        ).first()
        return _question(row) if row else None

    async def questions(self, challenge_id: int) -> list[QuestionRow]:
        result = await self.conn.execute(
            select(challenge_questions)
            .where(challenge_questions.c.challenge_id == challenge_id)
            .order_by(challenge_questions.c.position)
        )
        return [_question(row) for row in result]

    async def remember_message(self, chat_id: int, message_id: int, question_id: int) -> None:
        statement = self.tx.insert(challenge_messages).values(
            chat_id=chat_id, message_id=message_id, question_id=question_id
        )
        statement = statement.on_conflict_do_update(
            index_elements=["chat_id", "message_id"], set_={"question_id": question_id}
        )
        await self.conn.execute(statement)

    async def question_for_message(self, chat_id: int, message_id: int) -> int | None:
        """The question this message (in this very chat) showed, if any."""
        return (
            await self.conn.execute(
                select(challenge_messages.c.question_id).where(
                    challenge_messages.c.chat_id == chat_id,
                    challenge_messages.c.message_id == message_id,
                )
            )
        ).scalar_one_or_none()

    async def set_question_shown(
        self,
        question_id: int,
        message_id: int,
        *,
        asked_at: datetime | None = None,
        closes_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {"message_id": message_id}
        if asked_at is not None and closes_at is not None:
            values.update(asked_at=asked_at, closes_at=closes_at)
        await self.conn.execute(
            update(challenge_questions)
            .where(challenge_questions.c.question_id == question_id)
            .values(**values)
        )

    async def claim_first_full(self, question_id: int, user_id: int, closes_at: datetime) -> bool:
        """Take the first-full-answer bonus and move the close to ``closes_at``; True once.

        The caller holds the challenge lock and passes min(deadline, now + grace).
        """
        result = await self.conn.execute(
            update(challenge_questions)
            .where(
                challenge_questions.c.question_id == question_id,
                challenge_questions.c.first_full_user_id.is_(None),
                challenge_questions.c.state == OPEN,
            )
            .values(first_full_user_id=user_id, closes_at=closes_at)
        )
        return result.rowcount == 1

    async def close_question(self, question_id: int, now: datetime) -> bool:
        """open -> closed, exactly once: True only for the caller that closed it."""
        result = await self.conn.execute(
            update(challenge_questions)
            .where(
                challenge_questions.c.question_id == question_id,
                challenge_questions.c.state == OPEN,
            )
            .values(state=CLOSED, closed_at=now)
        )
        return result.rowcount == 1

    async def mark_announced(self, question_id: int) -> bool:
        result = await self.conn.execute(
            update(challenge_questions)
            .where(
                challenge_questions.c.question_id == question_id,
                challenge_questions.c.state == CLOSED,
            )
            .values(state=ANNOUNCED)
        )
        return result.rowcount == 1

    async def close_all_open(self, challenge_id: int, now: datetime, *, announced: bool) -> None:
        """Close whatever is still open or unannounced (the challenge is ending)."""
        await self.conn.execute(
            update(challenge_questions)
            .where(
                challenge_questions.c.challenge_id == challenge_id,
                challenge_questions.c.state.in_([OPEN, CLOSED] if announced else [OPEN]),
            )
            .values(
                state=ANNOUNCED if announced else CLOSED,
                closed_at=func.coalesce(challenge_questions.c.closed_at, now),
            )
        )

    # answers

    async def has_answered(self, question_id: int, user_id: int) -> bool:
        statement = select(func.count()).where(
            challenge_answers.c.question_id == question_id,
            challenge_answers.c.user_id == user_id,
        )
        return bool((await self.conn.execute(statement)).scalar_one())

    async def add_answer(self, **values: Any) -> int | None:
        """Insert a player's answer; None when they answered this question before."""
        if "grade" in values:
            values["grade_json"] = json.dumps(values.pop("grade"), ensure_ascii=False)
        statement = (
            self.tx.insert(challenge_answers)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["question_id", "user_id"])
            .returning(challenge_answers.c.answer_id)
        )
        return (await self.conn.execute(statement)).scalar_one_or_none()

    async def add_first_bonus(self, answer_id: int, bonus: int) -> None:
        await self.conn.execute(
            update(challenge_answers)
            .where(challenge_answers.c.answer_id == answer_id)
            .values(first_bonus=bonus, points=challenge_answers.c.points + bonus)
        )

    async def full_positions(self, challenge_id: int, user_id: int) -> list[int]:
        """Positions of the questions this player answered fully correctly in the challenge."""
        result = await self.conn.execute(
            select(challenge_answers.c.position).where(
                challenge_answers.c.challenge_id == challenge_id,
                challenge_answers.c.user_id == user_id,
                challenge_answers.c.verdict == "correct",
            )
        )
        return list(result.scalars())

    def _answers_with_names(self) -> Any:
        return (
            select(challenge_answers, group_players.c.display_name.label("name"))
            .select_from(
                challenge_answers.outerjoin(
                    group_players,
                    and_(
                        group_players.c.chat_id == challenge_answers.c.chat_id,
                        group_players.c.user_id == challenge_answers.c.user_id,
                    ),
                )
            )
            .order_by(challenge_answers.c.answered_at, challenge_answers.c.answer_id)
        )

    async def question_answers(self, question_id: int) -> list[AnswerRow]:
        result = await self.conn.execute(
            self._answers_with_names().where(challenge_answers.c.question_id == question_id)
        )
        return [
            AnswerRow(
                answer_id=row.answer_id,
                question_id=row.question_id,
                position=row.position,
                user_id=row.user_id,
                name=row.name or "someone",
                answer_text=row.answer_text,
                verdict=row.verdict,
                score=row.score,
                base_points=row.base_points,
                speed_bonus=row.speed_bonus,
                streak_bonus=row.streak_bonus,
                first_bonus=row.first_bonus,
                points=row.points,
                answered_at=row.answered_at,
                elapsed_seconds=row.elapsed_seconds,
            )
            for row in result
        ]

    async def answer_count(self, question_id: int) -> int:
        statement = select(func.count()).where(challenge_answers.c.question_id == question_id)
        return int((await self.conn.execute(statement)).scalar_one())

    async def challenge_entries(self, challenge_id: int) -> list[Entry]:
        """Every participant's points in this challenge."""
        statement = (
            select(
                challenge_answers.c.user_id,
                func.max(group_players.c.display_name).label("name"),
                func.sum(challenge_answers.c.points).label("points"),
            )
            .select_from(
                challenge_answers.outerjoin(
                    group_players,
                    and_(
                        group_players.c.chat_id == challenge_answers.c.chat_id,
                        group_players.c.user_id == challenge_answers.c.user_id,
                    ),
                )
            )
            .where(challenge_answers.c.challenge_id == challenge_id)
            .group_by(challenge_answers.c.user_id)
        )
        return [
            Entry(row.user_id, row.name or "someone", int(row.points or 0))
            for row in await self.conn.execute(statement)
        ]

    async def card_stats(self, challenge_id: int) -> list[CardStat]:
        """Per asked question, the scores of its answers (for the hardest card)."""
        asked = {q.position: q.card_id for q in await self.questions(challenge_id)}
        scores: dict[int, list[float]] = {position: [] for position in asked}
        result = await self.conn.execute(
            select(challenge_answers.c.position, challenge_answers.c.score).where(
                challenge_answers.c.challenge_id == challenge_id
            )
        )
        for row in result:
            scores.setdefault(row.position, []).append(float(row.score))
        return [
            CardStat(position, asked[position], tuple(scores[position]))
            for position in sorted(asked)
        ]

    # players and leaderboards

    async def add_to_player(
        self,
        *,
        chat_id: int,
        user_id: int,
        name: str,
        username: str | None,
        points: int,
        full: bool,
        now: datetime,
    ) -> None:
        """Add one answer to the player's all-time totals in this chat (and refresh the name)."""
        statement = self.tx.insert(group_players).values(
            chat_id=chat_id,
            user_id=user_id,
            display_name=name[:256],
            username=username,
            points=points,
            answers=1,
            full_answers=1 if full else 0,
            first_seen=now,
            last_seen=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["chat_id", "user_id"],
            set_={
                "display_name": statement.excluded.display_name,
                "username": statement.excluded.username,
                "points": group_players.c.points + points,
                "answers": group_players.c.answers + 1,
                "full_answers": group_players.c.full_answers + (1 if full else 0),
                "last_seen": now,
            },
        )
        await self.conn.execute(statement)

    async def player(self, chat_id: int, user_id: int) -> PlayerRow | None:
        row = (
            await self.conn.execute(
                select(group_players).where(
                    group_players.c.chat_id == chat_id, group_players.c.user_id == user_id
                )
            )
        ).first()
        return _player(row) if row else None

    async def all_time_entries(self, chat_id: int) -> list[Entry]:
        result = await self.conn.execute(
            select(group_players).where(group_players.c.chat_id == chat_id)
        )
        return [Entry(row.user_id, row.display_name, row.points) for row in result]

    async def entries_since(self, chat_id: int, since: datetime) -> list[Entry]:
        """Points per player from answers given in this chat since ``since``."""
        statement = (
            select(
                challenge_answers.c.user_id,
                func.max(group_players.c.display_name).label("name"),
                func.sum(challenge_answers.c.points).label("points"),
            )
            .select_from(
                challenge_answers.outerjoin(
                    group_players,
                    and_(
                        group_players.c.chat_id == challenge_answers.c.chat_id,
                        group_players.c.user_id == challenge_answers.c.user_id,
                    ),
                )
            )
            .where(challenge_answers.c.chat_id == chat_id, challenge_answers.c.answered_at >= since)
            .group_by(challenge_answers.c.user_id)
        )
        return [
            Entry(row.user_id, row.name or "someone", int(row.points or 0))
            for row in await self.conn.execute(statement)
        ]

    async def standings_for_user(self, user_id: int) -> list[GroupStanding]:
        """The user's rank and points in every group they scored in, best first."""
        others = group_players.alias("others")
        better = (
            select(func.count())
            .where(
                others.c.chat_id == group_players.c.chat_id,
                others.c.points > group_players.c.points,
            )
            .scalar_subquery()
        )
        everyone = (
            select(func.count())
            .where(others.c.chat_id == group_players.c.chat_id)
            .scalar_subquery()
        )
        statement = (
            select(
                group_players.c.chat_id,
                group_players.c.points,
                group_chats.c.title,
                group_chats.c.bot_present,
                better.label("better"),
                everyone.label("players"),
            )
            .select_from(
                group_players.outerjoin(
                    group_chats, group_chats.c.chat_id == group_players.c.chat_id
                )
            )
            .where(group_players.c.user_id == user_id)
            .order_by(group_players.c.points.desc(), group_players.c.chat_id)
        )
        return [
            GroupStanding(
                chat_id=row.chat_id,
                title=row.title or "a group",
                rank=int(row.better) + 1,
                players=int(row.players),
                points=row.points,
                bot_present=row.bot_present if row.bot_present is not None else True,
            )
            for row in await self.conn.execute(statement)
        ]

    # migration

    async def move_chat(self, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        """Move everything of a group to its new (supergroup) id, merging any scores there."""
        await self.conn.execute(
            update(challenges)
            .where(challenges.c.chat_id == old_chat_id)
            .values(chat_id=new_chat_id)
        )
        await self.conn.execute(
            update(challenge_answers)
            .where(challenge_answers.c.chat_id == old_chat_id)
            .values(chat_id=new_chat_id)
        )
        old_players = (
            await self.conn.execute(
                select(group_players).where(group_players.c.chat_id == old_chat_id)
            )
        ).all()
        for row in old_players:
            statement = self.tx.insert(group_players).values(
                chat_id=new_chat_id,
                user_id=row.user_id,
                display_name=row.display_name,
                username=row.username,
                points=row.points,
                answers=row.answers,
                full_answers=row.full_answers,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
            )
            statement = statement.on_conflict_do_update(
                index_elements=["chat_id", "user_id"],
                set_={
                    "points": group_players.c.points + row.points,
                    "answers": group_players.c.answers + row.answers,
                    "full_answers": group_players.c.full_answers + row.full_answers,
                },
            )
            await self.conn.execute(statement)
        await self.conn.execute(delete(group_players).where(group_players.c.chat_id == old_chat_id))
        old_chat = (
            await self.conn.execute(select(group_chats).where(group_chats.c.chat_id == old_chat_id))
        ).first()
        await self.touch_chat(new_chat_id, old_chat.title if old_chat else None, now)
        # The old id stays, pointing at the new one, for updates still on their way.
        statement = self.tx.insert(group_chats).values(
            chat_id=old_chat_id,
            title=old_chat.title if old_chat else "",
            bot_present=False,
            migrated_to=new_chat_id,
            updated_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["chat_id"],
            set_={"migrated_to": new_chat_id, "bot_present": False, "updated_at": now},
        )
        await self.conn.execute(statement)
