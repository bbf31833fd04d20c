"""A redelivered update whose effects committed but whose reply was never sent (the replica died
in between) gets that reply, once, and counts nothing again: every private-chat action, on
SQLite and PostgreSQL, through the service layer."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest

from bot.services.quiz import FeedbackView, Notice, QuestionView, QuizService, RoundStart
from bot.storage.base import Store
from tests.test_service import ANN, ANSWERS, CHAT, mini_deck

#: The update whose reply is lost; earlier updates of a scenario use lower ids.
LOST = 100

Action = Callable[[int], Awaitable[object]]


@pytest.fixture
def quiz(store: Store) -> QuizService:
    return QuizService(store, [mini_deck()], rng=random.Random(2))


async def open_question(service: QuizService, now: datetime, size: int = 3) -> QuestionView:
    started = await service.start_round(ANN, CHAT, size, now, update_id=1)
    assert isinstance(started, RoundStart)
    return started.question


async def answered(
    service: QuizService, now: datetime, size: int = 3, text: str | None = None
) -> FeedbackView:
    question = await open_question(service, now, size)
    feedback = await service.answer(
        ANN, CHAT, ANSWERS[question.card.id] if text is None else text, now, update_id=2
    )
    assert isinstance(feedback, FeedbackView)
    return feedback


async def scenario(name: str, service: QuizService, now: datetime) -> Action:
    """Set the chat up for an action; return the action, to be called with an update id."""
    if name == "/quiz":
        return lambda update_id: service.start_round(ANN, CHAT, 3, now, update_id)
    if name == "/quiz over a round with answers":
        await answered(service, now)
        return lambda update_id: service.start_round(ANN, CHAT, 3, now, update_id)
    if name == "a typed answer":
        question = await open_question(service, now)
        text = ANSWERS[question.card.id]
        return lambda update_id: service.answer(ANN, CHAT, text, now, update_id)
    if name == "/stop":
        await answered(service, now)
        return lambda update_id: service.stop_round(ANN, CHAT, now, update_id)
    if name == "/stop with no round":
        return lambda update_id: service.stop_round(ANN, CHAT, now, update_id)
    if name == "I was right":
        feedback = await answered(service, now, text="no idea")
        return lambda update_id: service.override(ANN, feedback.answer_id, now, update_id)
    if name in ("Next", "Finish round"):
        feedback = await answered(service, now, size=3 if name == "Next" else 1)
        where = (feedback.round_id, feedback.position)
        return lambda update_id: service.next_question(ANN, CHAT, *where, now, update_id)
    question = await open_question(service, now)
    where = (question.round_id, question.position)
    step = {"Hint": service.hint, "Show answer": service.reveal, "Skip": service.skip}[name]
    return lambda update_id: step(ANN, CHAT, *where, now, update_id)


async def state(service: QuizService, store: Store, now: datetime) -> tuple[object, ...]:
    """What counting twice would change: the score, the open question (its step and hints),
    and every answer row of the chat."""
    async with store.transaction() as tx:
        round_ = await tx.open_round(CHAT, ANN.user_id)
        answers = await tx.round_answers(round_.round_id) if round_ is not None else []
    return (
        await service.score(ANN, now),
        await service.current_question(ANN, CHAT),
        [(answer.answer_id, answer.points, answer.overridden) for answer in answers],
    )


def shown(view: object) -> object:
    """What the user sees of a view (a feedback shown again says so in a flag)."""
    if isinstance(view, FeedbackView):
        return dataclasses.replace(view, duplicate=False)
    return view


@pytest.mark.parametrize(
    "name",
    [
        "/quiz",
        "/quiz over a round with answers",
        "a typed answer",
        "Hint",
        "Show answer",
        "Skip",
        "Next",
        "Finish round",
        "I was right",
        "/stop",
        "/stop with no round",
    ],
)
async def test_an_action_redelivered_before_its_reply_went_out_gets_that_reply_once(
    quiz: QuizService, store: Store, now: datetime, name: str
) -> None:
    action = await scenario(name, quiz, now)
    first = await action(LOST)  # its effects commit; then the replica dies before the send
    after = await state(quiz, store, now)

    again = await action(LOST)
    assert shown(again) == shown(first)
    assert await state(quiz, store, now) == after  # nothing counted twice

    async with store.transaction() as tx:  # this time the reply went out
        await tx.mark_replied(LOST, now)
    assert await action(LOST) == Notice("duplicate")
    assert await state(quiz, store, now) == after


async def test_a_hint_shown_again_costs_no_second_hint(quiz: QuizService, now: datetime) -> None:
    action = await scenario("Hint", quiz, now)
    first = await action(LOST)
    again = await action(LOST)
    assert isinstance(first, QuestionView)
    assert isinstance(again, QuestionView)
    assert len(first.hints) == len(again.hints) == 1
    question = await quiz.current_question(ANN, CHAT)
    assert question is not None
    assert len(question.hints) == 1


async def test_a_question_is_not_shown_again_once_the_user_has_moved_on(
    quiz: QuizService, now: datetime
) -> None:
    """The round that /quiz opened was stopped since (another update, answered): showing its
    question again would only mislead."""
    started = await quiz.start_round(ANN, CHAT, 3, now, update_id=LOST)
    assert isinstance(started, RoundStart)
    assert not isinstance(await quiz.stop_round(ANN, CHAT, now, update_id=LOST + 1), Notice)
    assert await quiz.start_round(ANN, CHAT, 3, now, update_id=LOST) == Notice("duplicate")


async def test_updates_outside_telegram_are_never_taken_for_redeliveries(
    quiz: QuizService, now: datetime
) -> None:
    first = await quiz.start_round(ANN, CHAT, 3, now)
    second = await quiz.start_round(ANN, CHAT, 3, now)
    assert isinstance(first, RoundStart)
    assert isinstance(second, RoundStart)
    assert second.question.round_id != first.question.round_id
