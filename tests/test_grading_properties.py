"""Property test: any text at all grades to a consistent Grade, never an exception."""

from __future__ import annotations

import pytest

pytest.importorskip("hypothesis")

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.grading import EVIDENCE_JOINER, grade, prepare_deck
from bot.decks.loader import BUNDLED_CARDS, load_deck

DECK = load_deck(BUNDLED_CARDS)
prepare_deck(DECK)


@settings(max_examples=150, deadline=None)
@given(answer=st.text(max_size=300))
def test_any_text_grades_without_error_to_a_consistent_grade(answer: str) -> None:
    for card_id in ("data-parallelism", "pipeline-with-data-parallelism", "inference-step"):
        card = DECK.card(card_id)
        result = grade(card, answer)
        assert 0.0 <= result.score <= 1.0
        flags = [point.matched for point in result.points]
        if not any(flags):
            assert result.verdict == "wrong"
        elif all(flags):
            assert result.verdict == "correct"
        else:
            assert result.verdict == "partial"
        for point in result.points:
            assert 0.0 <= point.similarity <= 1.0
            assert (point.evidence is not None) == point.matched
            if point.evidence is not None:  # the student's own words, fragments in order
                position = 0
                for fragment in point.evidence.split(EVIDENCE_JOINER):
                    assert fragment
                    found = answer.find(fragment, position)
                    assert found >= 0
                    position = found + len(fragment)
