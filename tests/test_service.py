"""The service layer end to end on a real store (SQLite and PostgreSQL), without Telegram."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from bot.decks.loader import BUNDLED_CARDS, Deck, load_deck
from bot.services.quiz import FeedbackView, Notice, QuestionView, QuizService, SummaryView
from bot.storage.base import Store, UserProfile

ANN = UserProfile(user_id=42, first_name="Ann", username="ann")
CHAT = 42
MINI_CARDS = ["inference-performance-metric", "training-performance-metric", "allreduce-steps"]


def mini_deck() -> Deck:
    """Three cards with answers we know, so a round plays the same way every time."""
    full = load_deck(BUNDLED_CARDS)
    return Deck(id="mini", name="Mini", cards=[full.card(card_id) for card_id in MINI_CARDS])


@pytest.fixture
def service(store: Store) -> QuizService:
    return QuizService(store, [mini_deck()], rng=random.Random(1))


ANSWERS = {
    "inference-performance-metric": "latency",
    "training-performance-metric": "throughput",
    "allreduce-steps": "compute fwd/bwd, then reduce-scatter and all-gather",
}


async def start(
    service: QuizService, now: datetime, size: int = 3, update_id: int = 1
) -> QuestionView:
    started = await service.start_round(ANN, CHAT, size, now, update_id=update_id)
    assert not isinstance(started, Notice)
    return started.question


async def test_a_whole_round_scores_each_answer_and_ends_with_a_summary(
    service: QuizService, now: datetime
) -> None:
    question = await start(service, now)
    assert question.total == 3
    seen: list[str] = []
    update_id = 10
    result: QuestionView | SummaryView | Notice = question
    while isinstance(result, QuestionView):
        seen.append(result.card.id)
        update_id += 1
        feedback = await service.answer(
            ANN, CHAT, ANSWERS[result.card.id], now, update_id=update_id
        )
        assert isinstance(feedback, FeedbackView)
        assert feedback.verdict == "correct", feedback
        assert feedback.points == 10
        update_id += 1
        result = await service.next_question(
            ANN, CHAT, feedback.round_id, feedback.position, now, update_id=update_id
        )
    assert sorted(seen) == sorted(MINI_CARDS)
    assert isinstance(result, SummaryView)
    assert (result.summary.correct, result.summary.points) == (3, 30)
    score = await service.score(ANN, now)
    assert (score.points, score.answered, score.correct, score.streak_current) == (30, 3, 3, 1)


async def test_a_redelivered_answer_is_shown_again_but_never_scored_twice(
    service: QuizService, now: datetime
) -> None:
    question = await start(service, now)
    first = await service.answer(ANN, CHAT, ANSWERS[question.card.id], now, update_id=77)
    again = await service.answer(ANN, CHAT, ANSWERS[question.card.id], now, update_id=77)
    assert isinstance(first, FeedbackView)
    assert isinstance(again, FeedbackView)
    assert again.duplicate
    assert again.answer_id == first.answer_id
    assert (await service.score(ANN, now)).answered == 1


async def test_after_a_restart_the_next_message_is_graded_against_the_open_question(
    database_url: str, now: datetime
) -> None:
    store = await Store.open(database_url)
    question = await start(QuizService(store, [mini_deck()], rng=random.Random(1)), now)
    await store.close()

    store = await Store.open(database_url)
    try:
        service = QuizService(store, [mini_deck()])
        feedback = await service.answer(ANN, CHAT, ANSWERS[question.card.id], now, update_id=5)
        assert isinstance(feedback, FeedbackView)
        assert feedback.card.id == question.card.id
        assert feedback.verdict == "correct"
    finally:
        await store.close()


async def test_hints_lower_the_points_and_run_out_after_the_last_point(
    service: QuizService, now: datetime
) -> None:
    question = await start(service, now)
    where = (question.round_id, question.position)
    hinted = await service.hint(ANN, CHAT, *where, now, update_id=2)
    assert isinstance(hinted, QuestionView)
    assert len(hinted.hints) == 1
    for extra in range(len(question.card.points) - 1):
        await service.hint(ANN, CHAT, *where, now, update_id=3 + extra)
    assert await service.hint(ANN, CHAT, *where, now, update_id=99) == Notice("no_more_hints")
    feedback = await service.answer(ANN, CHAT, ANSWERS[question.card.id], now, update_id=100)
    assert isinstance(feedback, FeedbackView)
    assert feedback.points == 10 - 2 * len(question.card.points)


async def test_show_answer_counts_as_wrong_and_skip_is_not_scored(
    service: QuizService, now: datetime
) -> None:
    question = await start(service, now)
    revealed = await service.reveal(ANN, CHAT, question.round_id, 0, now, update_id=2)
    assert isinstance(revealed, FeedbackView)
    assert (revealed.verdict, revealed.points) == ("wrong", 0)
    second = await service.next_question(ANN, CHAT, question.round_id, 0, now, update_id=3)
    assert isinstance(second, QuestionView)
    after_skip = await service.skip(ANN, CHAT, question.round_id, 1, now, update_id=4)
    assert isinstance(after_skip, QuestionView)
    assert after_skip.position == 2
    score = await service.score(ANN, now)
    assert (score.answered, score.wrong) == (1, 1)


async def test_i_was_right_counts_the_answer_as_correct_once(
    service: QuizService, now: datetime
) -> None:
    question = await start(service, now)
    feedback = await service.answer(ANN, CHAT, "no idea", now, update_id=2)
    assert isinstance(feedback, FeedbackView)
    assert feedback.verdict == "wrong"
    overridden = await service.override(ANN, feedback.answer_id, now, update_id=3)
    assert isinstance(overridden, FeedbackView)
    assert overridden.overridden
    assert overridden.points == 10
    again = await service.override(ANN, feedback.answer_id, now, update_id=4)
    assert again == Notice("already_overridden")
    stranger = UserProfile(user_id=7, first_name="Eve")
    assert await service.override(stranger, feedback.answer_id, now, update_id=5) == Notice(
        "not_yours"
    )
    score = await service.score(ANN, now)
    assert (score.points, score.correct, score.wrong) == (10, 1, 0)
    assert question.card.id == feedback.card.id


async def test_buttons_of_an_old_question_are_recognised_as_stale(
    service: QuizService, now: datetime
) -> None:
    question = await start(service, now)
    await service.skip(ANN, CHAT, question.round_id, 0, now, update_id=2)
    assert await service.hint(ANN, CHAT, question.round_id, 0, now, update_id=3) == Notice("stale")
    assert await service.skip(ANN, CHAT, question.round_id, 0, now, update_id=4) == Notice("stale")
    newer = await start(service, now + timedelta(minutes=1), update_id=50)
    assert await service.reveal(ANN, CHAT, question.round_id, 1, now, update_id=5) == Notice(
        "stale"
    )
    assert newer.round_id != question.round_id


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_an_empty_answer_is_refused_without_losing_the_question(
    service: QuizService, now: datetime, text: str
) -> None:
    question = await start(service, now)
    assert await service.answer(ANN, CHAT, text, now, update_id=2) == Notice("empty_answer")
    current = await service.current_question(ANN, CHAT)
    assert current is not None
    assert current.card.id == question.card.id


async def test_a_huge_answer_is_graded_and_stored_within_the_message_limit(
    service: QuizService, now: datetime
) -> None:
    await start(service, now)
    feedback = await service.answer(ANN, CHAT, "latency throughput " * 400, now, update_id=2)
    assert isinstance(feedback, FeedbackView)


async def test_stop_ends_the_round_with_a_summary_and_then_nothing_is_open(
    service: QuizService, now: datetime
) -> None:
    question = await start(service, now)
    await service.answer(ANN, CHAT, ANSWERS[question.card.id], now, update_id=2)
    summary = await service.stop_round(ANN, CHAT, now, update_id=3)
    assert isinstance(summary, SummaryView)
    assert summary.summary.cards == 1
    assert await service.stop_round(ANN, CHAT, now, update_id=4) == Notice("no_round")
    assert await service.answer(ANN, CHAT, "latency", now, update_id=5) == Notice("no_round")


async def test_typing_while_feedback_waits_for_next_gets_a_nudge(
    service: QuizService, now: datetime
) -> None:
    question = await start(service, now)
    await service.answer(ANN, CHAT, ANSWERS[question.card.id], now, update_id=2)
    assert await service.answer(ANN, CHAT, "more", now, update_id=3) == Notice("awaiting_next")


async def test_starting_a_new_round_closes_the_open_one_with_its_summary(
    service: QuizService, now: datetime
) -> None:
    question = await start(service, now)
    await service.answer(ANN, CHAT, ANSWERS[question.card.id], now, update_id=2)
    restarted = await service.start_round(ANN, CHAT, 2, now, update_id=3)
    assert not isinstance(restarted, Notice)
    assert restarted.replaced is not None
    assert restarted.question.total == 2
