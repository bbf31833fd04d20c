"""The review feature's service layer: FSRS reviews, settings, reminders, /due and /stats.

``SpacedRepetition`` works inside the quiz service's units of work, so an answer and its FSRS
review commit together. ``ReviewService`` owns everything else. Reminders are claimed before
they are sent, in the same transaction that records the send attempt and moves the reminder
to its next time, which makes them at-most-once per reminder per local day (see
``claim_due_reminders``).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol

from bot.core import quiz
from bot.core.cards import Card, Deck
from bot.core.grading import grade
from bot.core.reminders import (
    DEFAULT_TIMEZONE,
    ReminderSpec,
    local_date,
    next_fire,
    resolve_timezone,
    suggest_timezones,
    zone,
)
from bot.core.scheduling import (
    DEFAULT_NEW_PER_DAY,
    CardState,
    DayCounts,
    DueForecast,
    Rating,
    RoundChoice,
    TagMastery,
    choose_round,
    daily_counts,
    forecast,
    local_midnight,
    local_today,
    make_scheduler,
    new_allowance,
    rating_for,
    reference_length,
    retrievability,
    review,
    rolling_accuracy,
    streak_at_risk,
    tag_mastery,
)
from bot.storage.base import Store, Tx, UserProfile
from bot.storage.decks import DeckQueries
from bot.storage.group import ChallengeRepo
from bot.storage.review import CLAIMED, DailyQuestionRow, ReminderRow, ReviewRepo
from bot.storage.updates import Note

log = logging.getLogger(__name__)

#: A reminder more than this late (the bot was down) is skipped rather than sent.
CATCH_UP = timedelta(hours=2)
#: An open round this old no longer stops a reminder from opening a fresh one.
STALE_ROUND = timedelta(hours=12)


# --- FSRS inside the quiz's transactions ------------------------------------------------------


@dataclass
class SpacedRepetition:
    """Card choice and FSRS reviews for ``QuizService``, on the caller's transaction."""

    fuzzing: bool = True

    def __post_init__(self) -> None:
        self.scheduler = make_scheduler(fuzzing=self.fuzzing)

    async def new_allowance(
        self, tx: Tx, user_id: int, deck: Deck, seen: int, now: datetime
    ) -> int:
        """New cards the user may still meet today (their day, in their time zone)."""
        repo = ReviewRepo(tx)
        settings = await repo.settings(user_id)
        limit = DEFAULT_NEW_PER_DAY if settings.new_per_day is None else settings.new_per_day
        user_zone = zone(settings.timezone or DEFAULT_TIMEZONE)
        since = local_midnight(local_today(now, user_zone), user_zone)
        introduced = await repo.new_cards_since(user_id, since)
        return new_allowance(limit, introduced, max(0, len(deck.cards) - seen))

    async def today(self, tx: Tx, user_id: int, now: datetime) -> date:
        """The user's calendar day, in their time zone: streaks count these days."""
        settings = await ReviewRepo(tx).settings(user_id)
        return local_today(now, zone(settings.timezone or DEFAULT_TIMEZONE))

    async def choose(
        self,
        tx: Tx,
        user_id: int,
        deck: Deck,
        size: int,
        now: datetime,
        seed: int,
        *,
        allow_ahead: bool = True,
    ) -> RoundChoice:
        """Due cards (most overdue first), then today's new cards, else practise ahead."""
        repo = ReviewRepo(tx)
        states = await repo.card_states(user_id, deck.id)
        known = {card_id: state for card_id, state in states.items() if card_id in deck.by_id}
        allowance = await self.new_allowance(tx, user_id, deck, len(known), now)
        unseen = [card for card in deck.cards if card.id not in known]
        # Among new cards, those answered before spaced repetition existed and answered
        # badly come first (the round rules' weak-first order), then the rest, shuffled.
        history = await tx.card_history(user_id, deck.id)
        new_order = quiz.choose_cards(unseen, history, len(unseen), seed)
        return choose_round(
            [card.id for card in deck.cards],
            {card_id: state.due for card_id, state in known.items()},
            now,
            size,
            allowance,
            new_order,
            allow_ahead=allow_ahead,
        )

    async def record(
        self,
        tx: Tx,
        *,
        answer_id: int | None,
        user_id: int,
        deck_id: str,
        card: Card,
        outcome: str,
        verdict: str,
        hints: int,
        response_seconds: float | None,
        now: datetime,
    ) -> Rating | None:
        """Review the card with the rating this answer earns (a plain skip changes nothing)."""
        rating = rating_for(
            outcome=outcome,
            verdict=verdict,
            hints=hints,
            response_seconds=response_seconds,
            reference_chars=reference_length(card),
        )
        if rating is None:
            return None
        repo = ReviewRepo(tx)
        before = await repo.card_state(user_id, deck_id, card.id)
        after = review(self.scheduler, before, rating, now)
        await repo.add_review(
            answer_id=answer_id,
            user_id=user_id,
            deck_id=deck_id,
            card_id=card.id,
            rating=int(rating),
            reviewed_at=now,
            response_seconds=response_seconds,
            prev=before,
        )
        await self._save(repo, user_id, deck_id, card.id, after, now)
        return rating

    async def rerate(self, tx: Tx, answer_id: int, rating: Rating, now: datetime) -> bool:
        """Give an earlier review another rating, recomputed from its stored starting state.

        Reviews of the card made after it are replayed on top, so the card ends where it would
        have been had the answer been rated so in the first place. False: no review to re-rate.
        """
        repo = ReviewRepo(tx)
        first = await repo.review_for_answer(answer_id)
        if first is None:
            return False
        state: CardState | None = first.prev
        for index, item in enumerate(await repo.reviews_from(first)):
            item_rating = int(rating) if index == 0 else item.rating
            if index == 0 or item.prev != state:
                await repo.rewrite_review(
                    item.review_id, rating=item_rating, prev=state, now=now if index == 0 else None
                )
            state = review(self.scheduler, state, Rating(item_rating), item.reviewed_at)
        assert state is not None
        await self._save(repo, first.user_id, first.deck_id, first.card_id, state, now)
        return True

    @staticmethod
    async def _save(
        repo: ReviewRepo, user_id: int, deck_id: str, card_id: str, state: CardState, now: datetime
    ) -> None:
        reps, lapses = await repo.count_reviews(user_id, deck_id, card_id)
        await repo.save_card_state(user_id, deck_id, card_id, state, now, reps=reps, lapses=lapses)


# --- views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderView:
    spec: ReminderSpec
    timezone: str
    timezone_set: bool
    enabled: bool
    next_fire_at: datetime | None
    disabled_reason: str | None
    chat_type: str


@dataclass(frozen=True)
class SettingsView:
    timezone: str
    timezone_set: bool
    new_per_day: int
    reminder: ReminderView | None
    question_hours: int | None = None


@dataclass(frozen=True)
class TimezoneResult:
    """A time zone was set (``name``), or the name was unknown (``suggestions``)."""

    name: str | None
    suggestions: list[str] = field(default_factory=list)
    reminder: ReminderView | None = None


@dataclass(frozen=True)
class DueView:
    deck: Deck
    forecast: DueForecast
    new_left: int
    new_per_day: int
    timezone: str
    next_due_at: datetime | None


@dataclass(frozen=True)
class NothingDue:
    """Why /quiz offers to practise ahead: nothing due, no new card left today."""

    next_due_at: datetime | None
    new_per_day: int
    timezone: str


@dataclass(frozen=True)
class WeakCard:
    card: Card
    mean_score: float
    attempts: int


@dataclass(frozen=True)
class StatsView:
    first_name: str
    deck: Deck
    timezone: str
    days: list[DayCounts]
    trend: list[float | None]
    forecast: DueForecast
    mastery: list[TagMastery]
    weakest: list[WeakCard]
    streak_current: int
    streak_best: int
    answered: int
    accuracy: float


@dataclass(frozen=True)
class ReminderJob:
    """One claimed reminder, ready to send: what the message needs and what to record after."""

    send_id: int
    reminder_id: int
    chat_id: int
    chat_type: str
    fire_at: datetime
    # private reminders
    due: int = 0
    new: int = 0
    streak: int = 0
    streak_at_risk: bool = False
    round_id: int | None = None
    round_size: int = 0
    card: Card | None = None
    round_open: bool = False
    # group questions of the day
    question_id: int | None = None
    closes_at: datetime | None = None
    timezone: str = DEFAULT_TIMEZONE
    closed: ClosedQuestion | None = None


@dataclass(frozen=True)
class Claimed:
    """One claiming transaction: how many due reminders it handled, and those to send."""

    examined: int
    jobs: list[ReminderJob]


@dataclass(frozen=True)
class ClosedQuestion:
    """A question of the day that just closed, with the members who answered it."""

    question_id: int
    chat_id: int
    card: Card
    results: list[tuple[str, str, int]]  # (first name, verdict, points)


@dataclass(frozen=True)
class DailyAnswer:
    """A member's graded reply to the question of the day."""

    first_name: str
    verdict: str
    points: int
    card: Card
    matched: list[str]
    missed: list[str]


def daily_note(result: DailyAnswer | str, deck_id: str) -> Note:
    """What a reply to the question of the day was told, kept with its claim: a redelivery
    whose reply never went out is told it again (``ReviewService._daily_from_note``)."""
    if isinstance(result, str):
        return {"notice": result}
    return {
        "first_name": result.first_name,
        "verdict": result.verdict,
        "points": result.points,
        "deck_id": deck_id,
        "card_id": result.card.id,
        "matched": result.matched,
        "missed": result.missed,
    }


def _spec(row: ReminderRow) -> ReminderSpec:
    hours, minutes = (int(part) for part in row.local_time.split(":"))
    return ReminderSpec(at=time(hours, minutes), days=row.days)


# --- the service ------------------------------------------------------------------------------


class QuizDecks(Protocol):
    """What reviews need of the quiz service (its decks and its FSRS state), named here so that
    this module does not import ``bot.services.quiz``, which imports it."""

    spaced: SpacedRepetition

    def deck(self, deck_id: str | None) -> Deck: ...


@dataclass
class ReviewService:
    """Settings, reminders, /due and /stats over the store; rounds stay the quiz service's."""

    store: Store
    quiz: QuizDecks
    rng: random.Random = field(default_factory=random.Random)

    @property
    def spaced(self) -> SpacedRepetition:
        return self.quiz.spaced

    # --- settings ---------------------------------------------------------------------------

    async def settings(self, chat_id: int, now: datetime) -> SettingsView:
        async with self.store.transaction() as tx:
            return await self._settings(ReviewRepo(tx), chat_id)

    async def _settings(self, repo: ReviewRepo, chat_id: int) -> SettingsView:
        row = await repo.settings(chat_id)
        reminder = await repo.reminder(chat_id)
        return SettingsView(
            timezone=row.timezone or DEFAULT_TIMEZONE,
            timezone_set=row.timezone is not None,
            new_per_day=DEFAULT_NEW_PER_DAY if row.new_per_day is None else row.new_per_day,
            reminder=None if reminder is None else self._reminder_view(reminder, row.timezone),
            question_hours=row.question_hours,
        )

    @staticmethod
    def _reminder_view(row: ReminderRow, timezone: str | None) -> ReminderView:
        return ReminderView(
            spec=_spec(row),
            timezone=row.timezone,
            timezone_set=timezone is not None,
            enabled=row.enabled,
            next_fire_at=row.next_fire_at if row.enabled else None,
            disabled_reason=row.disabled_reason,
            chat_type=row.chat_type,
        )

    async def set_new_per_day(self, chat_id: int, count: int, now: datetime) -> SettingsView:
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            await repo.save_settings(chat_id, now, new_per_day=count)
            return await self._settings(repo, chat_id)

    async def set_question_hours(
        self, chat_id: int, hours: int | None, now: datetime
    ) -> SettingsView:
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            await repo.save_settings(chat_id, now, question_hours=hours)
            return await self._settings(repo, chat_id)

    async def set_timezone(self, chat_id: int, name: str, now: datetime) -> TimezoneResult:
        """Set the chat's time zone, moving its reminder to the same wall-clock time there."""
        canonical = resolve_timezone(name)
        if canonical is None:
            return TimezoneResult(name=None, suggestions=suggest_timezones(name))
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            await repo.save_settings(chat_id, now, timezone=canonical)
            reminder = await repo.reminder(chat_id)
            if reminder is not None:
                next_at = (
                    await self._next_fire(
                        repo, reminder.reminder_id, _spec(reminder), canonical, now
                    )
                    if reminder.enabled
                    else None
                )
                await repo.update_reminder(
                    reminder.reminder_id, timezone=canonical, next_fire_at=next_at, updated_at=now
                )
                reminder = await repo.reminder(chat_id)
            view = None if reminder is None else self._reminder_view(reminder, canonical)
        return TimezoneResult(name=canonical, reminder=view)

    # --- reminders --------------------------------------------------------------------------

    @staticmethod
    async def _next_fire(
        repo: ReviewRepo, reminder_id: int | None, spec: ReminderSpec, zone_name: str, now: datetime
    ) -> datetime:
        """The next fire time, skipping local days whose reminder went out already."""
        done = (
            await repo.sent_dates(reminder_id, local_date(now, zone_name) - timedelta(days=1))
            if reminder_id is not None
            else set()
        )
        return next_fire(spec, zone_name, now, skip_dates=done)

    async def set_reminder(
        self,
        *,
        chat_id: int,
        chat_type: str,
        user: UserProfile,
        spec: ReminderSpec,
        now: datetime,
    ) -> ReminderView:
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            if chat_type == "private":
                await tx.upsert_user(user, now)
            settings = await repo.settings(chat_id)
            zone_name = settings.timezone or DEFAULT_TIMEZONE
            existing = await repo.reminder(chat_id)
            next_at = await self._next_fire(
                repo, existing.reminder_id if existing else None, spec, zone_name, now
            )
            await repo.save_reminder(
                chat_id=chat_id,
                chat_type=chat_type,
                set_by=user.user_id,
                local_time=f"{spec.at:%H:%M}",
                days=spec.days,
                timezone=zone_name,
                next_fire_at=next_at,
                now=now,
            )
            saved = await repo.reminder(chat_id)
            assert saved is not None
            return self._reminder_view(saved, settings.timezone)

    async def reminder_off(self, chat_id: int, now: datetime, reason: str = "turned off") -> bool:
        """Turn the chat's reminder off; False if there was none on.

        ``reason`` is "turned off" for /remind off, "blocked" when the user blocked the bot.
        """
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            reminder = await repo.reminder(chat_id)
            if reminder is None or not reminder.enabled:
                return False
            await repo.update_reminder(
                reminder.reminder_id,
                enabled=False,
                next_fire_at=None,
                disabled_reason=reason,
                updated_at=now,
            )
            return True

    async def reminder(self, chat_id: int) -> ReminderView | None:
        async with self.store.transaction() as tx:
            return (await self._settings(ReviewRepo(tx), chat_id)).reminder

    async def next_wake(self) -> datetime | None:
        """When the dispatcher has work next: a reminder, or a question of the day to close."""
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            times = [await repo.next_fire_at(), await repo.next_daily_close()]
        present = [moment for moment in times if moment is not None]
        return min(present) if present else None

    async def resolve_unfinished_sends(self, now: datetime) -> int:
        """At start-up: sends claimed by a bot that then stopped are settled as "unknown".

        They are not sent again. The bot may have stopped just after Telegram accepted the
        message, and the Bot API has no idempotency key to ask; a second copy of a nudge is
        worse than a missing one (the user still has /due), so reminders are at-most-once.
        """
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            unfinished = await repo.unfinished_sends()
            await repo.resolve_unfinished([send.send_id for send in unfinished], now)
        for send in unfinished:
            log.warning(
                "reminder %d for %s was claimed but not confirmed before the bot stopped; "
                "it is not sent again",
                send.reminder_id,
                send.local_date,
            )
        return len(unfinished)

    async def claim_due_reminders(self, now: datetime, limit: int = 30) -> Claimed:
        """Claim the reminders whose time has come; return the ones with a message to send.

        One transaction claims each reminder's local day in ``reminder_sends`` (unique per
        reminder and day), moves the reminder to its next time, and prepares the message's
        content (opening the review round its question belongs to). Only then is anything
        sent, so a restart can never send the same day twice. Reminders more than two hours
        late are recorded as missed and skipped.
        """
        jobs: list[ReminderJob] = []
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            due = await repo.due_reminders(now, limit)
            for reminder in due:
                job = await self._claim(tx, repo, reminder, now)
                if job is not None:
                    jobs.append(job)
        return Claimed(examined=len(due), jobs=jobs)

    async def _claim(
        self, tx: Tx, repo: ReviewRepo, reminder: ReminderRow, now: datetime
    ) -> ReminderJob | None:
        fire_at = reminder.next_fire_at
        assert fire_at is not None
        spec = _spec(reminder)
        day = local_date(fire_at, reminder.timezone)
        late = now - fire_at
        if late > CATCH_UP:
            await repo.claim_send(reminder.reminder_id, day, fire_at, now, status="missed")
            next_at = await self._next_fire(
                repo, reminder.reminder_id, spec, reminder.timezone, now
            )
            await repo.update_reminder(reminder.reminder_id, next_fire_at=next_at, updated_at=now)
            log.info(
                "reminder %d of %s was %d min late (the bot was down): skipped",
                reminder.reminder_id,
                day,
                late.total_seconds() // 60,
            )
            return None
        send_id = await repo.claim_send(reminder.reminder_id, day, fire_at, now, status=CLAIMED)
        next_at = next_fire(spec, reminder.timezone, max(now, fire_at), skip_dates={day})
        await repo.update_reminder(reminder.reminder_id, next_fire_at=next_at, updated_at=now)
        if send_id is None:
            return None  # this day's reminder went out already
        if reminder.chat_type == "private":
            job = await self._private_job(tx, repo, reminder, send_id, now)
        else:
            job = await self._group_job(repo, reminder, send_id, now)
        if job is None:
            await repo.finish_send(send_id, "nothing_due", now)
        return job

    async def _private_job(
        self, tx: Tx, repo: ReviewRepo, reminder: ReminderRow, send_id: int, now: datetime
    ) -> ReminderJob | None:
        """Cards due, new cards left, or a streak at risk: otherwise there is nothing to say."""
        user_id = reminder.chat_id
        user = await tx.get_user(user_id)
        deck = self.quiz.deck(user.deck_id if user else None)
        due = await repo.count_due(user_id, deck.id, now)
        seen = await repo.count_seen(user_id, deck.id)
        new = await self.spaced.new_allowance(tx, user_id, deck, seen, now)
        # Streak days are the user's own days, as the quiz counts them.
        today = await self.spaced.today(tx, user_id, now)
        at_risk = user is not None and streak_at_risk(user.streak, today)
        if not (due or new or at_risk):
            return None
        round_id = None
        card = None
        size = 0
        open_round = await tx.open_round(user_id, user_id)
        if open_round is not None and (
            open_round.asked_at is None or now - open_round.asked_at > STALE_ROUND
        ):
            await tx.update_round(open_round.round_id, state="stopped", finished_at=now)
            open_round = None
        if open_round is None:
            choice = await self.spaced.choose(
                tx, user_id, deck, quiz.DEFAULT_ROUND_SIZE, now, self.rng.randrange(2**32)
            )
            if choice.card_ids:
                round_ = await tx.create_round(
                    chat_id=user_id,
                    user_id=user_id,
                    deck_id=deck.id,
                    card_ids=choice.card_ids,
                    now=now,
                )
                round_id, size = round_.round_id, len(choice.card_ids)
                card = deck.by_id.get(choice.card_ids[0])
        return ReminderJob(
            send_id=send_id,
            reminder_id=reminder.reminder_id,
            chat_id=reminder.chat_id,
            chat_type="private",
            fire_at=reminder.next_fire_at or now,
            due=due,
            new=new,
            streak=user.streak.current if user else 0,
            streak_at_risk=at_risk,
            round_id=round_id,
            round_size=size,
            card=card,
            round_open=open_round is not None,
            timezone=reminder.timezone,
        )

    async def _group_job(
        self, repo: ReviewRepo, reminder: ReminderRow, send_id: int, now: datetime
    ) -> ReminderJob:
        """A question of the day: the card this chat saw longest ago (or never)."""
        chat_id = reminder.chat_id
        closed = None
        previous = await repo.open_daily_question(chat_id)
        if previous is not None and await repo.close_daily_question(previous.question_id, now):
            closed = await self._closed_view(repo, previous.question_id)
        deck = self.quiz.deck(await DeckQueries(repo.conn).chat_deck(chat_id))  # an admin's pick
        asked = await repo.asked_cards(chat_id)
        never = [card for card in deck.cards if card.id not in asked]
        if never:
            card = self.rng.choice(never)
        else:
            card = min(deck.cards, key=lambda item: (asked[item.id], item.id))
        settings = await repo.settings(chat_id)
        closes_at = (
            now + timedelta(hours=settings.question_hours) if settings.question_hours else None
        )
        question_id = await repo.add_daily_question(
            chat_id=chat_id,
            send_id=send_id,
            deck_id=deck.id,
            card_id=card.id,
            opened_at=now,
            closes_at=closes_at,
        )
        return ReminderJob(
            send_id=send_id,
            reminder_id=reminder.reminder_id,
            chat_id=chat_id,
            chat_type="group",
            fire_at=reminder.next_fire_at or now,
            card=card,
            question_id=question_id,
            closes_at=closes_at,
            timezone=reminder.timezone,
            closed=closed,
        )

    async def finish_reminder(
        self,
        job: ReminderJob,
        status: str,
        now: datetime,
        *,
        message_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        """Record how the send went; a blocked bot turns the reminder off.

        After a failed send the reminder's round and question are closed again; after a
        time-out ("unknown": it may have arrived) they stay open to be answered.
        """
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            await repo.finish_send(
                job.send_id,
                status,
                now,
                message_id=message_id,
                round_id=job.round_id,
                detail=detail,
            )
            if status == "sent" and message_id is not None:
                if job.round_id is not None:
                    await tx.update_round(job.round_id, question_message_id=message_id)
                if job.question_id is not None:
                    await repo.set_daily_message(job.question_id, message_id)
            elif status != "unknown":  # failed or blocked: the question never arrived
                if job.round_id is not None:
                    round_ = await tx.get_round(job.round_id)
                    if round_ is not None and round_.state == "asking" and round_.position == 0:
                        await tx.update_round(job.round_id, state="stopped", finished_at=now)
                if job.question_id is not None:
                    await repo.close_daily_question(job.question_id, now)
            if status == "blocked":
                await repo.update_reminder(
                    job.reminder_id,
                    enabled=False,
                    next_fire_at=None,
                    disabled_reason="blocked",
                    updated_at=now,
                )

    # --- group questions of the day ------------------------------------------------------

    async def _closed_view(self, repo: ReviewRepo, question_id: int) -> ClosedQuestion | None:
        question = await repo.daily_question(question_id)
        if question is None:
            return None
        deck = self.quiz.deck(question.deck_id)
        card = deck.by_id.get(question.card_id)
        if card is None:
            return None
        results = [
            (row.first_name, row.verdict, row.points)
            for row in await repo.answers_to_daily(question_id)
        ]
        return ClosedQuestion(question_id, question.chat_id, card, results)

    async def is_daily_question(self, chat_id: int, message_id: int) -> bool:
        async with self.store.transaction() as tx:
            found = await ReviewRepo(tx).daily_question_by_message(chat_id, message_id)
        return found is not None

    async def answer_daily(
        self,
        chat_id: int,
        reply_to_message_id: int,
        user: UserProfile,
        text: str,
        now: datetime,
        update_id: int | None = None,
        *,
        display_name: str | None = None,
    ) -> DailyAnswer | str | None:
        """Grade a reply to a question of the day, once per member, into the chat's table.

        The points go to the group's all-time leaderboard (the group feature's
        ``group_players``) in the same transaction. None: the message replied to is not a
        question of the day. A string: a notice kind (``duplicate``, ``closed``, ``answered``,
        ``empty_answer``).
        """
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            question = await repo.daily_question_by_message(chat_id, reply_to_message_id)
            if question is None:
                return None
            deck_id = question.deck_id

            async def again(note: Note | None) -> DailyAnswer | str:
                return self._daily_from_note(note)

            async def work() -> DailyAnswer | str:
                return await self._grade_daily(
                    tx, repo, question, user, text, now, update_id, display_name
                )

            return await tx.once(
                update_id, now, work, lambda result: daily_note(result, deck_id), again
            )

    async def _grade_daily(
        self,
        tx: Tx,
        repo: ReviewRepo,
        question: DailyQuestionRow,
        user: UserProfile,
        text: str,
        now: datetime,
        update_id: int | None,
        display_name: str | None,
    ) -> DailyAnswer | str:
        if question.closed_at is not None:
            return "closed"
        answer_text = text.strip()[:4096]
        if not answer_text:
            return "empty_answer"
        card = self.quiz.deck(question.deck_id).by_id.get(question.card_id)
        if card is None:
            return "closed"
        result = grade(card, answer_text)
        points = quiz.answer_points(result.score, 0)
        added = await repo.add_daily_answer(
            question_id=question.question_id,
            user_id=user.user_id,
            first_name=(display_name or user.first_name)[:256],
            answer_text=answer_text,
            verdict=result.verdict,
            score=result.score,
            points=points,
            update_id=update_id,
            answered_at=now,
        )
        if not added:
            return "answered"
        await ChallengeRepo(tx).add_to_player(
            chat_id=question.chat_id,
            user_id=user.user_id,
            name=display_name or user.first_name,
            username=user.username,
            points=points,
            full=result.verdict == "correct",
            now=now,
        )
        hits = list(zip(card.points, result.points, strict=True))
        return DailyAnswer(
            first_name=user.first_name,
            verdict=result.verdict,
            points=points,
            card=card,
            matched=[point.text for point, hit in hits if hit.matched],
            missed=[point.text for point, hit in hits if not hit.matched],
        )

    def _daily_from_note(self, note: Note | None) -> DailyAnswer | str:
        """The reply ``daily_note`` kept, or "duplicate" (nothing noted, or it went out)."""
        if note is None:
            return "duplicate"
        if "notice" in note:
            return str(note["notice"])
        card = self.quiz.deck(note["deck_id"]).by_id.get(note["card_id"])
        if card is None:  # the deck changed since: say nothing rather than the wrong card
            return "duplicate"
        return DailyAnswer(
            first_name=note["first_name"],
            verdict=note["verdict"],
            points=note["points"],
            card=card,
            matched=note["matched"],
            missed=note["missed"],
        )

    async def close_due_questions(self, now: datetime, limit: int = 50) -> list[ClosedQuestion]:
        """Close questions of the day whose configured time is up."""
        closed: list[ClosedQuestion] = []
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            for question in await repo.daily_questions_to_close(now, limit):
                if await repo.close_daily_question(question.question_id, now):
                    view = await self._closed_view(repo, question.question_id)
                    if view is not None:
                        closed.append(view)
        return closed

    # --- /quiz, /due and /stats -------------------------------------------------------------

    async def nothing_due(self, user: UserProfile, now: datetime) -> NothingDue | None:
        """Set when a normal round would be empty: nothing due, no new card left today."""
        async with self.store.transaction() as tx:
            row = await tx.get_user(user.user_id)
            deck = self.quiz.deck(row.deck_id if row else None)
            choice = await self.spaced.choose(
                tx, user.user_id, deck, quiz.MAX_ROUND_SIZE, now, 0, allow_ahead=False
            )
            if choice.card_ids:
                return None
            repo = ReviewRepo(tx)
            settings = await repo.settings(user.user_id)
            dues = await repo.due_times(user.user_id, deck.id)
        return NothingDue(
            next_due_at=min(dues) if dues else None,
            new_per_day=DEFAULT_NEW_PER_DAY
            if settings.new_per_day is None
            else settings.new_per_day,
            timezone=settings.timezone or DEFAULT_TIMEZONE,
        )

    async def due(self, user: UserProfile, now: datetime) -> DueView:
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            row = await tx.get_user(user.user_id)
            deck = self.quiz.deck(row.deck_id if row else None)
            settings = await repo.settings(user.user_id)
            states = await repo.card_states(user.user_id, deck.id)
            known = {key: value for key, value in states.items() if key in deck.by_id}
            new_left = await self.spaced.new_allowance(tx, user.user_id, deck, len(known), now)
        zone_name = settings.timezone or DEFAULT_TIMEZONE
        later = [state.due for state in known.values() if state.due > now]
        return DueView(
            deck=deck,
            forecast=forecast((state.due for state in known.values()), now, zone(zone_name)),
            new_left=new_left,
            new_per_day=DEFAULT_NEW_PER_DAY
            if settings.new_per_day is None
            else settings.new_per_day,
            timezone=zone_name,
            next_due_at=min(later) if later else None,
        )

    async def stats(self, user: UserProfile, now: datetime) -> StatsView | None:
        """Everything /stats shows; None for a user who has not answered anything yet."""
        async with self.store.transaction() as tx:
            repo = ReviewRepo(tx)
            if not await repo.has_history(user.user_id):
                return None
            row = await tx.get_user(user.user_id)
            deck = self.quiz.deck(row.deck_id if row else None)
            settings = await repo.settings(user.user_id)
            user_zone = zone(settings.timezone or DEFAULT_TIMEZONE)
            since = local_midnight(local_today(now, user_zone) - timedelta(days=29), user_zone)
            answers = await repo.answers_since(user.user_id, since)
            states = await repo.card_states(user.user_id, deck.id)
            history = await tx.card_history(user.user_id, deck.id)
        days = daily_counts(answers, now, user_zone)
        known = {key: value for key, value in states.items() if key in deck.by_id}
        recall = {
            card_id: retrievability(self.spaced.scheduler, state, now)
            for card_id, state in known.items()
        }
        weakest = sorted(
            (
                WeakCard(deck.by_id[card_id], record.mean_score, record.attempts)
                for card_id, record in history.items()
                if card_id in deck.by_id and record.mean_score < 1.0
            ),
            key=lambda weak: (weak.mean_score, -weak.attempts, weak.card.id),
        )[:5]
        first_name = row.first_name if row else user.first_name
        answered = row.answered if row else 0
        return StatsView(
            first_name=first_name,
            deck=deck,
            timezone=settings.timezone or DEFAULT_TIMEZONE,
            days=days,
            trend=rolling_accuracy(days),
            forecast=forecast((state.due for state in known.values()), now, user_zone),
            mastery=tag_mastery(deck.cards, recall),
            weakest=weakest,
            streak_current=(
                quiz.current_streak(row.streak, local_today(now, user_zone)) if row else 0
            ),
            streak_best=row.streak.best if row else 0,
            answered=answered,
            accuracy=(row.correct / row.answered) if row and row.answered else 0.0,
        )
