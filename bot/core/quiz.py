"""Pure rules of a private quiz round: which cards, how many points, hints and the summary.

No I/O and no Telegram here: the service layer feeds in stored history and ``now``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.core.cards import Card

DEFAULT_ROUND_SIZE = 10
MAX_ROUND_SIZE = 50
#: Points a full answer earns: ``round(MAX_POINTS * grade.score)``.
MAX_POINTS = 10
#: Points each hint takes off what the answer can earn.
HINT_PENALTY = 2


@dataclass(frozen=True)
class CardRecord:
    """What we know of one user's past answers to one card."""

    attempts: int = 0
    mean_score: float = 0.0

    @property
    def weakness(self) -> float:
        """1.0 for unseen or never-right cards, 0.0 for cards always answered fully."""
        return 1.0 if self.attempts == 0 else 1.0 - self.mean_score


def choose_cards(
    cards: Sequence[Card],
    history: Mapping[str, CardRecord],
    size: int,
    seed: int,
) -> list[str]:
    """Pick ``size`` distinct card ids, weak and unseen cards first.

    Ties are broken by a seeded shuffle so that rounds vary but stay reproducible in tests.
    This is the one place card selection happens; spaced repetition replaces it later.
    """
    shuffled = list(cards)
    random.Random(seed).shuffle(shuffled)
    ranked = sorted(shuffled, key=lambda card: -history.get(card.id, CardRecord()).weakness)
    return [card.id for card in ranked[: max(0, size)]]


def parse_round_size(argument: str | None) -> int:
    """Read the N of ``/quiz N``; raise ValueError with a user-facing reason."""
    if argument is None or not argument.strip():
        return DEFAULT_ROUND_SIZE
    text = argument.strip()
    if not text.isdigit():
        raise ValueError(f"Give the number of cards as a whole number from 1 to {MAX_ROUND_SIZE}.")
    size = int(text)
    if not 1 <= size <= MAX_ROUND_SIZE:
        raise ValueError(f"A round has 1 to {MAX_ROUND_SIZE} cards.")
    return size


def answer_points(score: float, hints: int) -> int:
    """Points for one answer: ``round(10 × score)`` minus hint penalties, never below 0."""
    return max(0, round(MAX_POINTS * score) - HINT_PENALTY * hints)


def override_points(hints: int) -> int:
    """Points after "I was right": the answer counts as fully correct, hints still cost."""
    return answer_points(1.0, hints)


_LETTER = re.compile(r"\w", re.UNICODE)


def hint_mask(text: str) -> str:
    """Show a point as its first letters: "reduce-scatter" becomes "r_____-s______"."""
    words = re.split(r"(\W+)", text.strip())
    masked: list[str] = []
    for word in words:
        if not word or not _LETTER.match(word):
            masked.append(word)
        else:
            masked.append(word[0] + "_" * (len(word) - 1))
    return "".join(masked)


def hints_for(card: Card, hints_used: int) -> list[str]:
    """The masked points revealed so far, one per hint, in the card's order."""
    return [hint_mask(point.text) for point in card.points[:hints_used]]


def can_hint(card: Card, hints_used: int) -> bool:
    return hints_used < len(card.points)


@dataclass(frozen=True)
class AnsweredCard:
    """One card's outcome inside a round, as the summary needs it."""

    card_id: str
    verdict: str  # "correct" | "partial" | "wrong" | "skipped"
    score: float
    points: int


@dataclass(frozen=True)
class RoundSummary:
    cards: int
    correct: int
    partial: int
    wrong: int
    skipped: int
    points: int
    max_points: int
    weakest: list[str]


def summarise_round(outcomes: Iterable[AnsweredCard], weakest_count: int = 3) -> RoundSummary:
    """Totals for the end-of-round message; the weakest cards are the lowest-scored answers."""
    outcomes = list(outcomes)
    scored = [outcome for outcome in outcomes if outcome.verdict != "skipped"]
    weakest = sorted(
        (outcome for outcome in scored if outcome.verdict != "correct"),
        key=lambda outcome: outcome.score,
    )
    return RoundSummary(
        cards=len(outcomes),
        correct=sum(outcome.verdict == "correct" for outcome in outcomes),
        partial=sum(outcome.verdict == "partial" for outcome in outcomes),
        wrong=sum(outcome.verdict == "wrong" for outcome in outcomes),
        skipped=sum(outcome.verdict == "skipped" for outcome in outcomes),
        points=sum(outcome.points for outcome in outcomes),
        max_points=MAX_POINTS * len(scored),
        weakest=[outcome.card_id for outcome in weakest[:weakest_count]],
    )


@dataclass(frozen=True)
class Streak:
    current: int = 0
    best: int = 0
    last_day: date | None = None


def advance_streak(streak: Streak, today: date) -> Streak:
    """Count consecutive days with at least one answer."""
    if streak.last_day == today:
        return streak
    if streak.last_day is not None and (today - streak.last_day).days == 1:
        current = streak.current + 1
    else:
        current = 1
    return Streak(current=current, best=max(streak.best, current), last_day=today)


def current_streak(streak: Streak, today: date) -> int:
    """The streak as the user sees it today: broken once a whole day passed without answers."""
    if streak.last_day is None or (today - streak.last_day).days > 1:
        return 0
    return streak.current
