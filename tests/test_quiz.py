"""The pure round rules: card choice, points, hints, summaries and streaks."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.quiz import (
    AnsweredCard,
    CardRecord,
    Streak,
    advance_streak,
    answer_points,
    choose_cards,
    current_streak,
    hint_mask,
    hints_for,
    override_points,
    parse_round_size,
    summarise_round,
)
from bot.decks.loader import Card, Deck, Point


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("reduce-scatter", "r_____-s______"),
        ("latency", "l______"),
        ("GPU-GPU interconnects are fast", "G__-G__ i____________ a__ f___"),
        ("forward pass: compute activations", "f______ p___: c______ a__________"),
        ("  AllReduce ", "A________"),
    ],
)
def test_a_hint_shows_only_the_first_letter_of_each_word(text: str, masked: str) -> None:
    assert hint_mask(text) == masked


def test_hints_reveal_one_point_at_a_time_in_order(deck: Deck) -> None:
    card = deck.card("allreduce-steps")
    assert hints_for(card, 0) == []
    assert hints_for(card, 2) == [hint_mask(card.points[0].text), "r_____-s______"]


@pytest.mark.parametrize(
    ("score", "hints", "points"),
    [(1.0, 0, 10), (0.5, 0, 5), (2 / 3, 0, 7), (0.0, 0, 0), (1.0, 1, 8), (1.0, 2, 6), (0.2, 3, 0)],
)
def test_points_are_ten_times_the_score_minus_hint_penalties(
    score: float, hints: int, points: int
) -> None:
    assert answer_points(score, hints) == points


def test_an_override_counts_as_full_marks_but_keeps_the_hint_cost() -> None:
    assert override_points(0) == 10
    assert override_points(1) == 8


@pytest.mark.parametrize(
    ("argument", "size"), [(None, 10), ("", 10), ("5", 5), (" 50 ", 50), ("1", 1)]
)
def test_round_size_defaults_to_ten_and_accepts_whole_numbers(
    argument: str | None, size: int
) -> None:
    assert parse_round_size(argument) == size


@pytest.mark.parametrize("argument", ["0", "51", "-3", "ten", "2.5", "9" * 40])
def test_an_out_of_range_round_size_gets_a_clear_reason(argument: str) -> None:
    with pytest.raises(ValueError, match=r"1 to 50|whole number"):
        parse_round_size(argument)


def _cards(count: int) -> list[Card]:
    return [Card(id=f"c{i}", question=f"Q{i}?", points=[Point("p")]) for i in range(count)]


def test_a_round_never_repeats_a_card_and_caps_at_the_deck_size() -> None:
    chosen = choose_cards(_cards(5), {}, size=10, seed=1)
    assert sorted(chosen) == [f"c{i}" for i in range(5)]


def test_weak_and_unseen_cards_come_before_well_known_ones() -> None:
    history = {
        "c0": CardRecord(attempts=3, mean_score=1.0),
        "c1": CardRecord(attempts=2, mean_score=0.0),
        "c2": CardRecord(attempts=1, mean_score=0.9),
    }
    chosen = choose_cards(_cards(4), history, size=2, seed=7)
    assert set(chosen) == {"c1", "c3"}  # never-right and unseen first


def test_card_choice_is_reproducible_for_a_seed() -> None:
    assert choose_cards(_cards(20), {}, 10, seed=3) == choose_cards(_cards(20), {}, 10, seed=3)


def test_the_summary_counts_verdicts_points_and_lists_the_weakest_cards() -> None:
    summary = summarise_round(
        [
            AnsweredCard("a", "correct", 1.0, 10),
            AnsweredCard("b", "partial", 0.5, 5),
            AnsweredCard("c", "wrong", 0.0, 0),
            AnsweredCard("d", "skipped", 0.0, 0),
        ]
    )
    assert (summary.cards, summary.correct, summary.partial, summary.wrong) == (4, 1, 1, 1)
    assert summary.skipped == 1
    assert summary.points == 15
    assert summary.max_points == 30
    assert summary.weakest == ["c", "b"]


@pytest.mark.parametrize(
    ("last_day", "current", "today", "expected_current", "expected_best"),
    [
        (None, 0, date(2026, 1, 10), 1, 1),
        (date(2026, 1, 9), 4, date(2026, 1, 10), 5, 5),
        (date(2026, 1, 10), 4, date(2026, 1, 10), 4, 4),
        (date(2026, 1, 7), 4, date(2026, 1, 10), 1, 4),
    ],
)
def test_the_daily_streak_grows_on_consecutive_days_and_restarts_after_a_gap(
    last_day: date | None, current: int, today: date, expected_current: int, expected_best: int
) -> None:
    streak = advance_streak(Streak(current, max(current, 4 if current else 0), last_day), today)
    assert streak.current == expected_current
    assert streak.best == expected_best


def test_a_streak_shows_as_zero_once_a_whole_day_was_missed() -> None:
    streak = Streak(current=3, best=3, last_day=date(2026, 1, 1))
    assert current_streak(streak, date(2026, 1, 2)) == 3
    assert current_streak(streak, date(2026, 1, 3)) == 0
