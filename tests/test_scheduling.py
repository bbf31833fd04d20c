"""The pure spaced-repetition rules: ratings, FSRS reviews, card choice and forecasts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.quiz import Streak
from bot.core.scheduling import (
    CardState,
    DayCounts,
    Rating,
    State,
    choose_round,
    daily_counts,
    easy_time_limit,
    forecast,
    local_midnight,
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
from bot.decks.loader import Card, Point

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday
BERLIN = ZoneInfo("Europe/Berlin")


# --- the rating mapping -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "verdict", "hints", "seconds", "overridden", "expected"),
    [
        ("answered", "wrong", 0, 3.0, False, Rating.Again),
        ("answered", "wrong", 2, 60.0, False, Rating.Again),
        ("revealed", "wrong", 0, 2.0, False, Rating.Again),
        ("revealed", "wrong", 1, 2.0, False, Rating.Again),
        ("skipped", "wrong", 1, None, False, Rating.Again),
        ("skipped", "wrong", 0, None, False, None),
        ("answered", "partial", 0, 2.0, False, Rating.Hard),
        ("answered", "partial", 1, 2.0, False, Rating.Hard),
        ("answered", "correct", 0, 30.0, False, Rating.Good),
        ("answered", "correct", 1, 2.0, False, Rating.Good),
        ("answered", "correct", 0, None, False, Rating.Good),
        ("answered", "correct", 0, 8.0, False, Rating.Easy),
        ("answered", "correct", 0, 11.0, False, Rating.Easy),  # limit is 11 s for 20 chars
        ("answered", "correct", 0, 11.1, False, Rating.Good),
        ("answered", "wrong", 0, 5.0, True, Rating.Good),  # "I was right"
        ("answered", "partial", 2, 50.0, True, Rating.Good),
    ],
)
def test_each_kind_of_answer_maps_to_the_documented_fsrs_rating(
    outcome: str,
    verdict: str,
    hints: int,
    seconds: float | None,
    overridden: bool,
    expected: Rating | None,
) -> None:
    rating = rating_for(
        outcome=outcome,
        verdict=verdict,
        hints=hints,
        response_seconds=seconds,
        reference_chars=20,
        overridden=overridden,
    )
    assert rating == expected


@pytest.mark.parametrize(("chars", "limit"), [(0, 5.0), (7, 7.1), (20, 11.0), (100, 35.0)])
def test_the_easy_time_limit_is_five_seconds_plus_a_third_of_a_second_per_character(
    chars: int, limit: float
) -> None:
    assert easy_time_limit(chars) == pytest.approx(limit)


def test_the_reference_answer_is_the_cards_points_joined_in_one_line() -> None:
    card = Card(id="c", question="?", points=[Point("reduce-scatter"), Point("all-gather")])
    assert reference_length(card) == len("reduce-scatter; all-gather")


# --- FSRS reviews -------------------------------------------------------------------------------


def test_a_new_card_rated_good_enters_learning_and_comes_back_within_minutes() -> None:
    scheduler = make_scheduler(fuzzing=False)
    state = review(scheduler, None, Rating.Good, NOW)
    assert state.state == State.Learning
    assert state.last_review == NOW
    assert NOW < state.due <= NOW + timedelta(hours=1)
    assert state.due.tzinfo is not None


def test_easy_graduates_a_new_card_for_days_and_again_brings_it_back_at_once() -> None:
    scheduler = make_scheduler(fuzzing=False)
    easy = review(scheduler, None, Rating.Easy, NOW)
    again = review(scheduler, None, Rating.Again, NOW)
    assert easy.state == State.Review
    assert easy.due >= NOW + timedelta(days=1)
    assert again.due <= NOW + timedelta(minutes=1)
    assert (easy.stability or 0) > (again.stability or 0)


def test_without_fuzzing_the_same_reviews_give_the_same_schedule() -> None:
    scheduler = make_scheduler(fuzzing=False)
    states = []
    for _ in range(2):
        state: CardState | None = None
        moment = NOW
        for rating in (Rating.Good, Rating.Good, Rating.Good, Rating.Hard, Rating.Good):
            state = review(scheduler, state, rating, moment)
            moment = state.due
        states.append(state)
    assert states[0] == states[1]
    assert states[0] is not None and states[0].due > NOW + timedelta(days=3)


def test_recall_is_zero_before_the_first_review_and_falls_as_time_passes() -> None:
    scheduler = make_scheduler(fuzzing=False)
    state = review(scheduler, None, Rating.Easy, NOW)
    assert retrievability(scheduler, None, NOW) == 0.0
    soon = retrievability(scheduler, state, NOW + timedelta(days=1))
    later = retrievability(scheduler, state, NOW + timedelta(days=60))
    assert 0 < later < soon <= 1


# --- choosing the cards -------------------------------------------------------------------------

DECK = ["a", "b", "c", "d", "e", "f"]


@pytest.mark.parametrize(
    ("due_at", "size", "allowance", "expected", "counts"),
    [
        # nothing reviewed: new cards in order, capped by the daily allowance
        ({}, 10, 3, ["a", "b", "c"], (0, 3, 0)),
        # due cards first, most overdue first, then new cards
        (
            {"c": NOW - timedelta(hours=1), "a": NOW - timedelta(days=2), "b": NOW},
            5,
            10,
            ["a", "c", "b", "d", "e"],
            (3, 2, 0),
        ),
        # not-yet-due cards wait; new ones fill in
        (
            {"a": NOW + timedelta(minutes=5), "b": NOW - timedelta(days=1)},
            3,
            10,
            ["b", "c", "d"],
            (1, 2, 0),
        ),
        # the round size caps due cards too
        (
            {card: NOW - timedelta(days=index) for index, card in enumerate(DECK)},
            2,
            10,
            ["f", "e"],
            (2, 0, 0),
        ),
        # no new allowance left: only due cards
        ({"d": NOW - timedelta(minutes=1)}, 10, 0, ["d"], (1, 0, 0)),
        # nothing due, no allowance: practise ahead, soonest due first
        (
            {
                "a": NOW + timedelta(days=3),
                "b": NOW + timedelta(hours=2),
                "c": NOW + timedelta(days=1),
            },
            2,
            0,
            ["b", "c"],
            (0, 0, 2),
        ),
        # nothing reviewed and no allowance: ahead means more new cards
        ({}, 2, 0, ["a", "b"], (0, 0, 2)),
    ],
)
def test_rounds_take_due_cards_most_overdue_first_then_new_cards_then_practise_ahead(
    due_at: dict[str, datetime],
    size: int,
    allowance: int,
    expected: list[str],
    counts: tuple[int, int, int],
) -> None:
    choice = choose_round(DECK, due_at, NOW, size, allowance)
    assert choice.card_ids == expected
    assert (choice.due, choice.new, choice.ahead) == counts


def test_new_cards_follow_the_order_given_and_ahead_can_be_refused() -> None:
    choice = choose_round(DECK, {}, NOW, 3, 10, new_order=["f", "a", "zzz", "c", "b"])
    assert choice.card_ids == ["f", "a", "c"]  # unknown ids are ignored
    nothing = choose_round(DECK, {"a": NOW + timedelta(days=1)}, NOW, 3, 0, allow_ahead=False)
    assert nothing.card_ids == []


@pytest.mark.parametrize(
    ("limit", "introduced", "unseen", "left"),
    [(10, 0, 40, 10), (10, 4, 40, 6), (10, 12, 40, 0), (15, 0, 3, 3), (0, 0, 5, 0)],
)
def test_the_daily_new_card_allowance_counts_what_was_met_today(
    limit: int, introduced: int, unseen: int, left: int
) -> None:
    assert new_allowance(limit, introduced, unseen) == left


# --- days, forecasts and progress ---------------------------------------------------------------


def test_the_forecast_counts_due_now_today_and_each_of_the_next_seven_local_days() -> None:
    dues = [
        NOW - timedelta(days=3),  # overdue: now and today
        NOW,  # due exactly now
        NOW + timedelta(hours=5),  # 15:00 Berlin, later today
        NOW + timedelta(hours=14, minutes=30),  # 00:30 Berlin on Wednesday
        NOW + timedelta(days=6),
        NOW + timedelta(days=7),
        NOW + timedelta(days=8),  # beyond the week
    ]
    result = forecast(dues, NOW, BERLIN)
    assert (result.now, result.today) == (2, 3)
    assert result.days[0][0] == date(2026, 12, 2)
    assert len(result.days) == 7
    assert dict(result.days) == {
        date(2026, 12, 2): 1,
        date(2026, 12, 3): 0,
        date(2026, 12, 4): 0,
        date(2026, 12, 5): 0,
        date(2026, 12, 6): 0,
        date(2026, 12, 7): 1,
        date(2026, 12, 8): 1,
    }


def test_a_local_day_starts_at_local_midnight() -> None:
    assert local_midnight(date(2026, 12, 1), BERLIN) == datetime(2026, 11, 30, 23, tzinfo=UTC)
    assert local_midnight(date(2026, 7, 1), BERLIN) == datetime(2026, 6, 30, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    ("streak", "today", "at_risk"),
    [
        (Streak(3, 3, date(2026, 11, 30)), date(2026, 12, 1), True),
        (Streak(3, 3, date(2026, 12, 1)), date(2026, 12, 1), False),  # answered today
        (Streak(3, 5, date(2026, 11, 28)), date(2026, 12, 1), False),  # broken already
        (Streak(0, 0, None), date(2026, 12, 1), False),
    ],
)
def test_a_streak_is_at_risk_when_yesterday_was_its_last_day(
    streak: Streak, today: date, at_risk: bool
) -> None:
    assert streak_at_risk(streak, today) is at_risk


def test_answers_are_counted_per_local_day_by_verdict_over_thirty_days() -> None:
    answers = [
        (NOW, "correct"),
        (NOW - timedelta(hours=1), "partial"),
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "wrong"),  # 00:30 on Dec 1 in Berlin
        (NOW - timedelta(days=1), "correct"),
        (NOW - timedelta(days=40), "correct"),  # too old
    ]
    days = daily_counts(answers, NOW, BERLIN)
    assert len(days) == 30
    assert days[-1] == DayCounts(date(2026, 12, 1), correct=1, partial=1, wrong=1)
    assert days[-2] == DayCounts(date(2026, 11, 30), correct=1)
    assert sum(day.total for day in days) == 4


def test_accuracy_counts_partial_answers_half_and_the_trend_averages_a_week() -> None:
    days = [
        DayCounts(date(2026, 11, 1), correct=1, wrong=1),
        DayCounts(date(2026, 11, 2)),
        DayCounts(date(2026, 11, 3), partial=2),
    ]
    assert [day.accuracy for day in days] == [0.5, None, 0.5]
    assert rolling_accuracy([DayCounts(date(2026, 11, 1))]) == [None]
    assert rolling_accuracy(days, window=2) == [0.5, 0.5, 0.5]
    assert rolling_accuracy([*days, DayCounts(date(2026, 11, 4), correct=2)], window=2)[-1] == (
        pytest.approx(0.75)
    )


def test_mastery_per_tag_averages_recall_with_unseen_cards_at_zero() -> None:
    cards = [
        Card(id="a", question="?", points=[Point("x")], tags=("gpu", "memory")),
        Card(id="b", question="?", points=[Point("x")], tags=("gpu",)),
        Card(id="c", question="?", points=[Point("x")]),
    ]
    mastery = {item.tag: item for item in tag_mastery(cards, {"a": 0.9, "b": 0.5})}
    assert mastery["gpu"].mastery == pytest.approx(0.7)
    assert mastery["memory"].mastery == pytest.approx(0.9)
    assert mastery["other"].mastery == 0.0
    assert (mastery["gpu"].cards, mastery["gpu"].seen, mastery["other"].seen) == (2, 2, 0)
    assert tag_mastery(cards, {"a": 0.9, "b": 0.5})[0].tag == "other"  # weakest first
