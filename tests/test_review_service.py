"""Spaced repetition, reminders and progress on a real store (SQLite, PostgreSQL), no Telegram."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.core.reminders import ReminderSpec
from bot.core.scheduling import Rating, make_scheduler, review
from bot.decks.loader import Card, Deck, Point
from bot.services.quiz import FeedbackView, Notice, QuestionView, QuizService
from bot.services.review import ReminderJob, ReviewService, SpacedRepetition
from bot.storage.base import Store, UserProfile
from bot.storage.group import ChallengeRepo
from bot.storage.review import ReviewRepo, card_reviews, reminder_sends
from bot.telegram.charts import progress_png

ANN = UserProfile(user_id=42, first_name="Ann", username="ann")
BOB = UserProfile(user_id=43, first_name="Bob")
#: Tuesday 1 December 2026, 09:00 UTC.
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

DECK = Deck(
    id="mini",
    name="Mini",
    cards=[
        Card(id="latency", question="Inference metric?", points=[Point("latency")], tags=("perf",)),
        Card(
            id="throughput",
            question="Training metric?",
            points=[Point("throughput")],
            tags=("perf", "training"),
        ),
        Card(id="gpu", question="What runs the matmuls?", points=[Point("gpu")], tags=("hw",)),
        Card(id="tpu", question="Google's accelerator?", points=[Point("tpu")], tags=("hw",)),
    ],
)
ANSWERS = {card.id: card.points[0].text for card in DECK.cards}


@pytest.fixture
def quiz(store: Store) -> QuizService:
    return QuizService(store, [DECK], rng=random.Random(3), spaced=SpacedRepetition(fuzzing=False))


@pytest.fixture
def reviews(store: Store, quiz: QuizService) -> ReviewService:
    return ReviewService(store, quiz, rng=random.Random(5))


class Player:
    """Plays rounds for one user with fresh update ids, like Telegram would deliver them."""

    def __init__(self, quiz: QuizService, user: UserProfile = ANN) -> None:
        self.quiz, self.user, self.update_id = quiz, user, 1000 * user.user_id

    def next_id(self) -> int:
        self.update_id += 1
        return self.update_id

    async def start(self, now: datetime, size: int = 4) -> QuestionView:
        started = await self.quiz.start_round(
            self.user, self.user.user_id, size, now, self.next_id()
        )
        assert not isinstance(started, Notice)
        return started.question

    async def answer(self, text: str, now: datetime) -> FeedbackView:
        result = await self.quiz.answer(self.user, self.user.user_id, text, now, self.next_id())
        assert isinstance(result, FeedbackView), result
        return result

    async def next(self, feedback: FeedbackView, now: datetime) -> object:
        return await self.quiz.next_question(
            self.user, self.user.user_id, feedback.round_id, feedback.position, now, self.next_id()
        )

    async def play(self, now: datetime, answers: dict[str, str], size: int = 4) -> list[str]:
        """A whole round; returns the card ids in the order they were asked."""
        seen = []
        result: object = await self.start(now, size)
        while isinstance(result, QuestionView):
            seen.append(result.card.id)
            feedback = await self.answer(answers.get(result.card.id, "no idea"), now)
            result = await self.next(feedback, now)
        return seen


async def states(store: Store, user: UserProfile = ANN) -> dict[str, object]:
    async with store.transaction() as tx:
        return await ReviewRepo(tx).card_states(user.user_id, DECK.id)


async def ratings(store: Store, card_id: str) -> list[int]:
    async with store.transaction() as tx:
        result = await tx.conn.execute(
            select(card_reviews.c.rating)
            .where(card_reviews.c.card_id == card_id)
            .order_by(card_reviews.c.review_id)
        )
        return [row.rating for row in result]


# --- FSRS reviews recorded with the answers ----------------------------------------------------


async def test_each_answer_is_reviewed_with_the_rating_its_speed_and_hints_earn(
    quiz: QuizService, store: Store
) -> None:
    player = Player(quiz)
    question = await player.start(T0)
    first = question.card.id
    feedback = await player.answer(ANSWERS[first], T0 + timedelta(seconds=3))  # quick: Easy
    second = await player.next(feedback, T0 + timedelta(seconds=4))
    assert isinstance(second, QuestionView)
    await player.answer(ANSWERS[second.card.id], T0 + timedelta(seconds=90))  # slow: Good
    assert await ratings(store, first) == [Rating.Easy]
    assert await ratings(store, second.card.id) == [Rating.Good]
    saved = await states(store)
    scheduler = make_scheduler(fuzzing=False)
    assert saved[first] == review(scheduler, None, Rating.Easy, T0 + timedelta(seconds=3))
    assert set(saved) == {first, second.card.id}


async def test_a_plain_skip_leaves_the_schedule_alone_but_a_skip_after_a_hint_is_again(
    quiz: QuizService, store: Store
) -> None:
    player = Player(quiz)
    question = await player.start(T0)
    skipped = await quiz.skip(ANN, ANN.user_id, question.round_id, 0, T0, player.next_id())
    assert isinstance(skipped, QuestionView)
    await quiz.hint(ANN, ANN.user_id, skipped.round_id, 1, T0, player.next_id())
    await quiz.skip(ANN, ANN.user_id, skipped.round_id, 1, T0, player.next_id())
    assert question.card.id not in await states(store)
    assert await ratings(store, skipped.card.id) == [Rating.Again]


async def test_show_answer_and_a_partial_answer_rate_again_and_hard(
    quiz: QuizService, store: Store
) -> None:
    partial_deck = Deck(
        id="mini",
        name="Mini",
        cards=[
            Card(id="two", question="Two metrics?", points=[Point("latency"), Point("throughput")])
        ],
    )
    quiz.replace_decks([partial_deck])
    player = Player(quiz)
    question = await player.start(T0, size=1)
    shown = await quiz.reveal(ANN, ANN.user_id, question.round_id, 0, T0, player.next_id())
    assert isinstance(shown, FeedbackView)
    await player.start(T0 + timedelta(minutes=5), size=1)
    feedback = await player.answer("latency", T0 + timedelta(minutes=6))
    assert feedback.verdict == "partial"
    assert await ratings(store, "two") == [Rating.Again, Rating.Hard]


async def test_i_was_right_re_rates_the_review_as_good_instead_of_adding_one(
    quiz: QuizService, store: Store
) -> None:
    player = Player(quiz)
    question = await player.start(T0)
    wrong = await player.answer("no idea at all", T0 + timedelta(seconds=20))
    assert await ratings(store, question.card.id) == [Rating.Again]
    overridden = await quiz.override(ANN, wrong.answer_id, T0 + timedelta(minutes=1), 9999)
    assert isinstance(overridden, FeedbackView)
    assert await ratings(store, question.card.id) == [Rating.Good]
    scheduler = make_scheduler(fuzzing=False)
    expected = review(scheduler, None, Rating.Good, T0 + timedelta(seconds=20))
    assert (await states(store))[question.card.id] == expected
    async with store.transaction() as tx:
        assert await ReviewRepo(tx).count_reviews(ANN.user_id, DECK.id, question.card.id) == (1, 0)


async def test_re_rating_an_older_review_replays_the_later_ones_on_top(
    quiz: QuizService, store: Store
) -> None:
    single = Deck(id="mini", name="Mini", cards=[DECK.cards[0]])
    quiz.replace_decks([single])
    player = Player(quiz)
    t1, t2 = T0, T0 + timedelta(hours=1)
    await player.start(t1, size=1)
    wrong = await player.answer("no idea", t1)
    await player.start(t2, size=1)
    await player.answer("latency", t2 + timedelta(seconds=60))
    await quiz.override(ANN, wrong.answer_id, t2 + timedelta(minutes=5), 9999)
    scheduler = make_scheduler(fuzzing=False)
    expected = review(
        scheduler,
        review(scheduler, None, Rating.Good, t1),
        Rating.Good,
        t2 + timedelta(seconds=60),
    )
    assert (await states(store))["latency"] == expected
    assert await ratings(store, "latency") == [Rating.Good, Rating.Good]


async def test_the_store_answers_who_has_cards_due_now(quiz: QuizService, store: Store) -> None:
    await Player(quiz, ANN).play(T0, {})  # all wrong: due again a minute later
    await Player(quiz, BOB).play(T0, ANSWERS)  # all right at once: Easy, days away
    async with store.transaction() as tx:
        repo = ReviewRepo(tx)
        assert await repo.users_with_cards_due(T0) == []
        assert await repo.users_with_cards_due(T0 + timedelta(minutes=2)) == [ANN.user_id]
        later = await repo.users_with_cards_due(T0 + timedelta(days=30))
    assert later == [ANN.user_id, BOB.user_id]


# --- choosing cards -----------------------------------------------------------------------------


async def test_rounds_bring_due_cards_back_most_overdue_first_before_new_ones(
    quiz: QuizService, reviews: ReviewService, store: Store
) -> None:
    player = Player(quiz)
    await reviews.set_new_per_day(ANN.user_id, 2, T0)
    # Day 1: the daily limit lets two new cards in. The first is right (Good: back in 10
    # minutes), the second wrong (Again: back in 1 minute), so the second is more overdue.
    first = await player.start(T0)
    assert first.total == 2
    feedback = await player.answer(ANSWERS[first.card.id], T0 + timedelta(seconds=60))
    second = await player.next(feedback, T0 + timedelta(seconds=61))
    assert isinstance(second, QuestionView)
    await player.answer("no idea", T0 + timedelta(seconds=70))
    later = T0 + timedelta(hours=2)
    assert await player.play(later, ANSWERS) == [second.card.id, first.card.id]
    # Day 2: whatever is due comes first, most overdue first, then the day's two new cards.
    tomorrow = T0 + timedelta(days=1)
    saved = await states(store)
    due_now = sorted(
        (card_id for card_id, state in saved.items() if state.due <= tomorrow),
        key=lambda card_id: saved[card_id].due,
    )
    third = await player.play(tomorrow, ANSWERS)
    assert third[: len(due_now)] == due_now
    assert sorted(third[len(due_now) :]) == sorted(set(ANSWERS) - {first.card.id, second.card.id})


async def test_with_nothing_due_and_no_new_cards_left_the_user_can_practise_ahead(
    quiz: QuizService, reviews: ReviewService
) -> None:
    player = Player(quiz)
    await reviews.set_new_per_day(ANN.user_id, 1, T0)
    first = await player.play(T0, ANSWERS)
    assert len(first) == 1
    after = T0 + timedelta(minutes=1)
    nothing = await reviews.nothing_due(ANN, after)
    assert nothing is not None
    assert nothing.next_due_at is not None and nothing.next_due_at > after
    assert nothing.new_per_day == 1
    # Asked anyway ("Practise ahead"): the round takes the card due soonest.
    question = await player.start(after)
    assert question.card.id == first[0]
    assert await reviews.nothing_due(ANN, T0 + timedelta(days=1)) is None  # a new day's card


async def test_due_counts_now_today_and_the_next_seven_days_in_the_users_zone(
    quiz: QuizService, reviews: ReviewService
) -> None:
    player = Player(quiz)
    await reviews.set_timezone(ANN.user_id, "Asia/Tokyo", T0)
    fresh = await reviews.due(ANN, T0)
    assert (fresh.forecast.now, fresh.forecast.today, fresh.new_left) == (0, 0, 4)
    # One right at once (Easy: days away), three wrong (Again: back within a minute).
    await player.play(T0, {"latency": "latency"})
    view = await reviews.due(ANN, T0 + timedelta(hours=1))
    assert (view.forecast.now, view.forecast.today, view.new_left) == (3, 3, 0)
    assert view.forecast.days[0][0] == date(2026, 12, 2)  # 19:00 in Tokyo: tomorrow is the 2nd
    easy_due = view.next_due_at
    assert easy_due is not None and easy_due > T0 + timedelta(days=7)
    assert sum(count for _, count in view.forecast.days) == 0  # beyond the week
    assert view.timezone == "Asia/Tokyo"


# --- reminders ----------------------------------------------------------------------------------


async def remind(reviews: ReviewService, at: time, user: UserProfile = ANN, now: datetime = T0):
    return await reviews.set_reminder(
        chat_id=user.user_id, chat_type="private", user=user, spec=ReminderSpec(at), now=now
    )


async def sends(store: Store) -> list[tuple[date, str]]:
    async with store.transaction() as tx:
        result = await tx.conn.execute(
            select(reminder_sends.c.local_date, reminder_sends.c.status).order_by(
                reminder_sends.c.send_id
            )
        )
        return [(row.local_date, row.status) for row in result]


async def test_a_reminder_is_claimed_once_per_day_with_the_due_count_and_a_question(
    quiz: QuizService, reviews: ReviewService, store: Store
) -> None:
    view = await remind(reviews, time(10, 0))
    assert view.next_fire_at == T0 + timedelta(hours=1)
    assert not view.timezone_set
    fire = T0 + timedelta(hours=1)
    assert (await reviews.claim_due_reminders(fire - timedelta(seconds=1))).examined == 0
    claimed = await reviews.claim_due_reminders(fire)
    assert claimed.examined == 1
    [job] = claimed.jobs
    assert (job.due, job.new, job.chat_id) == (0, 4, ANN.user_id)
    assert job.card is not None and job.round_id is not None
    # The question belongs to an open round, so typing answers it the normal way.
    current = await quiz.current_question(ANN, ANN.user_id)
    assert current is not None and current.card.id == job.card.id
    await reviews.finish_reminder(job, "sent", fire, message_id=77)
    assert (await reviews.claim_due_reminders(fire + timedelta(minutes=1))).examined == 0
    assert (await reviews.reminder(ANN.user_id)).next_fire_at == fire + timedelta(days=1)
    feedback = await quiz.answer(ANN, ANN.user_id, ANSWERS[job.card.id], fire, 5)
    assert isinstance(feedback, FeedbackView) and feedback.verdict == "correct"
    # Moving the reminder to later the same day does not send a second one that day.
    await remind(reviews, time(18, 0), now=fire + timedelta(minutes=5))
    assert (await reviews.reminder(ANN.user_id)).next_fire_at == datetime(
        2026, 12, 2, 18, 0, tzinfo=UTC
    )
    assert await sends(store) == [(date(2026, 12, 1), "sent")]


async def test_no_reminder_goes_out_when_nothing_is_due_unless_the_streak_is_at_risk(
    quiz: QuizService, reviews: ReviewService, store: Store
) -> None:
    await reviews.set_new_per_day(ANN.user_id, 0, T0)
    await remind(reviews, time(10, 0))
    claimed = await reviews.claim_due_reminders(T0 + timedelta(hours=1))
    assert (claimed.examined, claimed.jobs) == (1, [])
    assert await sends(store) == [(date(2026, 12, 1), "nothing_due")]
    # Answer something today (practising ahead); tomorrow nothing is due but the streak is at risk.
    await reviews.set_new_per_day(ANN.user_id, 1, T0)
    await Player(quiz).play(T0 + timedelta(hours=2), ANSWERS, size=1)
    await reviews.set_new_per_day(ANN.user_id, 0, T0)
    tomorrow = T0 + timedelta(days=1, hours=1)
    assert all(state.due > tomorrow for state in (await states(store)).values())  # Easy: days
    claimed = await reviews.claim_due_reminders(tomorrow)
    [job] = claimed.jobs
    assert (job.due, job.new, job.streak_at_risk, job.streak) == (0, 0, True, 1)


async def test_a_claim_left_by_a_crash_is_never_sent_again(
    reviews: ReviewService, store: Store
) -> None:
    await remind(reviews, time(10, 0))
    fire = T0 + timedelta(hours=1)
    [job] = (await reviews.claim_due_reminders(fire)).jobs
    # The bot dies here, between the claim and the send. At the next start-up:
    assert await reviews.resolve_unfinished_sends(fire + timedelta(minutes=3)) == 1
    assert await sends(store) == [(date(2026, 12, 1), "unknown")]
    assert (await reviews.claim_due_reminders(fire + timedelta(minutes=3))).examined == 0
    # Even set again for later that day, the day's reminder stays used up.
    view = await remind(reviews, time(11, 0), now=fire + timedelta(minutes=3))
    assert view.next_fire_at == datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    assert job.send_id


@pytest.mark.parametrize(
    ("late", "sent"),
    [
        (timedelta(minutes=30), True),
        (timedelta(hours=1, minutes=59), True),
        (timedelta(hours=3), False),
    ],
)
async def test_a_reminder_missed_while_the_bot_was_down_goes_out_only_if_under_two_hours_late(
    reviews: ReviewService, store: Store, late: timedelta, sent: bool
) -> None:
    await remind(reviews, time(10, 0))
    fire = T0 + timedelta(hours=1)
    claimed = await reviews.claim_due_reminders(fire + late)
    assert claimed.examined == 1
    assert bool(claimed.jobs) is sent
    assert (await sends(store))[0][1] == ("claimed" if sent else "missed")
    assert (await reviews.reminder(ANN.user_id)).next_fire_at == fire + timedelta(days=1)


async def test_a_user_who_blocked_the_bot_has_the_reminder_turned_off(
    reviews: ReviewService, store: Store
) -> None:
    await remind(reviews, time(10, 0))
    [job] = (await reviews.claim_due_reminders(T0 + timedelta(hours=1))).jobs
    await reviews.finish_reminder(job, "blocked", T0 + timedelta(hours=1), detail="Forbidden")
    view = await reviews.reminder(ANN.user_id)
    assert view is not None and not view.enabled and view.disabled_reason == "blocked"
    assert await reviews.next_wake() is None
    assert await sends(store) == [(date(2026, 12, 1), "blocked")]


async def test_two_replicas_claiming_at_once_never_claim_the_same_reminder(
    database_url: str, quiz: QuizService, reviews: ReviewService, store: Store
) -> None:
    users = [UserProfile(user_id=1000 + index, first_name=f"U{index}") for index in range(40)]
    for user in users:
        await remind(reviews, time(10, 0), user=user)
    other_store = await Store.open(database_url)
    try:
        other = ReviewService(
            other_store, QuizService(other_store, [DECK], spaced=SpacedRepetition(fuzzing=False))
        )
        fire = T0 + timedelta(hours=1)
        jobs: list[ReminderJob] = []

        async def drain(service: ReviewService) -> None:
            while (claimed := await service.claim_due_reminders(fire, limit=7)).examined:
                jobs.extend(claimed.jobs)

        await asyncio.gather(drain(reviews), drain(other))
    finally:
        await other_store.close()
    assert sorted(job.chat_id for job in jobs) == [user.user_id for user in users]


async def test_setting_a_time_zone_validates_it_and_moves_the_reminder_with_it(
    reviews: ReviewService,
) -> None:
    await remind(reviews, time(10, 0))
    bad = await reviews.set_timezone(ANN.user_id, "Europe/Berln", T0)
    assert bad.name is None and "Europe/Berlin" in bad.suggestions and len(bad.suggestions) == 3
    good = await reviews.set_timezone(ANN.user_id, "america/new york", T0)
    assert good.name == "America/New_York"
    assert good.reminder is not None
    assert good.reminder.next_fire_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 EST
    assert (await reviews.settings(ANN.user_id, T0)).timezone_set


# --- /stats -------------------------------------------------------------------------------------


async def test_stats_are_empty_for_a_new_user_and_summarise_history_after_some_rounds(
    quiz: QuizService, reviews: ReviewService
) -> None:
    assert await reviews.stats(ANN, T0) is None
    player = Player(quiz)
    # Day 1: four new cards, two right at once (Easy: days away), two wrong.
    await player.play(T0 - timedelta(days=2), {"latency": "latency", "gpu": "gpu"})
    # Day 3: only the two wrong ones are due; one is right this time.
    assert sorted(await player.play(T0, {"throughput": "throughput"})) == ["throughput", "tpu"]
    view = await reviews.stats(ANN, T0 + timedelta(minutes=1))
    assert view is not None
    assert len(view.days) == 30
    assert (view.days[-3].total, view.days[-2].total, view.days[-1].total) == (4, 0, 2)
    assert sum(day.correct for day in view.days) == 3
    masteries = [item.mastery for item in view.mastery]
    assert masteries == sorted(masteries)  # weakest tag first
    assert {item.tag for item in view.mastery} == {"perf", "training", "hw"}
    # tpu: 0 of 2; throughput: 1 of 2; latency and gpu always right, so not weak.
    assert [weak.card.id for weak in view.weakest] == ["tpu", "throughput"]
    assert view.streak_current == 1
    png = progress_png(view.days, view.trend, view.forecast)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 10_000


# --- groups: the question of the day ------------------------------------------------------------

GROUP = -4_000_000_001
ADMIN = UserProfile(user_id=50, first_name="Ada")


async def test_a_group_reminder_posts_a_question_of_the_day_answered_once_per_member(
    reviews: ReviewService, store: Store
) -> None:
    await reviews.set_reminder(
        chat_id=GROUP, chat_type="group", user=ADMIN, spec=ReminderSpec(time(10, 0)), now=T0
    )
    fire = T0 + timedelta(hours=1)
    [job] = (await reviews.claim_due_reminders(fire)).jobs
    assert (job.chat_type, job.closed, job.closes_at) == ("group", None, None)
    assert job.card is not None
    await reviews.finish_reminder(job, "sent", fire, message_id=555)
    assert await reviews.is_daily_question(GROUP, 555)
    assert not await reviews.is_daily_question(GROUP, 554)

    right = ANSWERS[job.card.id]
    answered = await reviews.answer_daily(GROUP, 555, ANN, right, fire, 1, display_name="Ann A")
    assert not isinstance(answered, str) and answered is not None
    assert (answered.verdict, answered.points) == ("correct", 10)
    assert await reviews.answer_daily(GROUP, 555, ANN, right, fire, 2) == "answered"
    # Redelivered: told again while the reply is not marked sent (the replica died), then not.
    assert await reviews.answer_daily(GROUP, 555, ANN, right, fire, 1) == answered
    async with store.transaction() as tx:
        await tx.mark_replied(1, fire)
    assert await reviews.answer_daily(GROUP, 555, ANN, right, fire, 1) == "duplicate"
    wrong = await reviews.answer_daily(GROUP, 555, BOB, "no clue", fire, 3)
    assert not isinstance(wrong, str) and wrong is not None and wrong.verdict == "wrong"
    async with store.transaction() as tx:
        player = await ChallengeRepo(tx).player(GROUP, ANN.user_id)
    assert player is not None and (player.points, player.display_name) == (10, "Ann A")

    # The next day's question closes this one and carries its results.
    [second] = (await reviews.claim_due_reminders(fire + timedelta(days=1))).jobs
    assert second.closed is not None
    assert second.closed.card.id == job.card.id
    assert second.closed.results == [("Ann A", "correct", 10), ("Bob", "wrong", 0)]
    assert second.card is not None and second.card.id != job.card.id  # unasked cards first
    assert await reviews.answer_daily(GROUP, 555, BOB, right, fire, 4) == "closed"


async def test_a_question_of_the_day_can_close_after_a_set_number_of_hours(
    reviews: ReviewService,
) -> None:
    await reviews.set_question_hours(GROUP, 2, T0)
    await reviews.set_reminder(
        chat_id=GROUP, chat_type="group", user=ADMIN, spec=ReminderSpec(time(10, 0)), now=T0
    )
    fire = T0 + timedelta(hours=1)
    [job] = (await reviews.claim_due_reminders(fire)).jobs
    assert job.closes_at == fire + timedelta(hours=2)
    await reviews.finish_reminder(job, "sent", fire, message_id=600)
    assert await reviews.next_wake() == fire + timedelta(hours=2)
    assert await reviews.close_due_questions(fire + timedelta(hours=1)) == []
    [closed] = await reviews.close_due_questions(fire + timedelta(hours=2))
    assert (closed.chat_id, closed.results) == (GROUP, [])
    assert await reviews.answer_daily(GROUP, 600, ANN, "gpu", fire + timedelta(hours=3), 9) == (
        "closed"
    )
    assert await reviews.next_wake() == fire + timedelta(days=1)


# --- streaks follow the user's own calendar ------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "answered_at", "streak"),
    [
        # 23:30 on 30 Nov and 12:00 on 1 Dec in Los Angeles: two days in a row there ...
        ("America/Los_Angeles", (datetime(2026, 12, 1, 7, 30), datetime(2026, 12, 1, 20)), 2),
        # ... but the same moments are one UTC day, so without a zone they make a streak of 1.
        (None, (datetime(2026, 12, 1, 7, 30), datetime(2026, 12, 1, 20)), 1),
        # 00:30 and 23:00 on 2 Dec in Tokyo: one day there, though two UTC days.
        ("Asia/Tokyo", (datetime(2026, 12, 1, 15, 30), datetime(2026, 12, 2, 14)), 1),
        (None, (datetime(2026, 12, 1, 15, 30), datetime(2026, 12, 2, 14)), 2),
    ],
)
async def test_the_daily_streak_counts_days_in_the_users_time_zone(
    quiz: QuizService,
    reviews: ReviewService,
    timezone: str | None,
    answered_at: tuple[datetime, datetime],
    streak: int,
) -> None:
    first, second = (moment.replace(tzinfo=UTC) for moment in answered_at)
    if timezone is not None:
        assert (await reviews.set_timezone(ANN.user_id, timezone, first)).name == timezone
    player = Player(quiz)
    await player.start(first, size=2)
    await player.answer("latency", first)  # right or wrong, an answer keeps the streak
    await player.start(second, size=2)
    await player.answer("throughput", second)
    score = await quiz.score(ANN, second)
    assert score.streak_current == streak
    view = await reviews.stats(ANN, second)
    assert view is not None and view.streak_current == streak
