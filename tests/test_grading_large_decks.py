"""Large decks are prepared card by card on first use, with bounded memory."""

from __future__ import annotations

import pytest

from bot.core import grading, keyterms
from bot.decks.loader import BUNDLED_CARDS, Card, Deck, Point, load_deck


def large_deck(filler: int) -> Deck:
    """The real cards, padded with generated ones to make the deck large."""
    real = load_deck(BUNDLED_CARDS)
    extra = [
        Card(
            id=f"filler-{number}",
            question=f"What is generated topic {number}?",
            points=[Point(f"first part of topic {number}"), Point(f"detail {number} of the topic")],
        )
        for number in range(filler)
    ]
    return Deck(id="large", name="Large", cards=real.cards + extra)


@pytest.mark.parametrize(
    ("card_id", "answer", "verdict"),
    [
        ("inference-performance-metric", "latency", "correct"),
        ("inference-performance-metric", "throughput rather than latency", "wrong"),
        ("allreduce-steps", "compute fwd/bwd, reduce-scatter, all-gather", "correct"),
        ("allreduce-steps", "reduce scatter", "partial"),
        ("data-parallelism", "idk", "wrong"),
    ],
)
def test_a_large_deck_grades_like_a_small_one(card_id: str, answer: str, verdict: str) -> None:
    deck = large_deck(grading.EAGER_PREPARE_MAX_CARDS + 10)
    grading.prepare_deck(deck)
    assert grading.grade(deck.card(card_id), answer).verdict == verdict


def test_a_large_deck_is_not_prepared_up_front_and_keeps_only_recent_cards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keyterms, "LAZY_PREPARED_CARDS", 5)
    deck = large_deck(grading.EAGER_PREPARE_MAX_CARDS + 10)
    grading.prepare_deck(deck)
    stats = deck.cards[0].cache["grading-deck"]
    assert stats.prepared == {}
    for card in deck.cards[:12]:
        grading.grade(card, "some answer")
    assert len(stats.prepared) == 5
    assert id(deck.cards[11]) in stats.prepared
