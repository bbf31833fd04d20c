"""Decks, cards and answer points: the plain data every other layer builds on.

No I/O here; ``bot.decks.loader`` reads and validates deck files into these classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Point:
    """One thing a full answer must contain, with other ways students say it."""

    text: str
    aliases: tuple[str, ...] = ()
    weight: float = 1.0


@dataclass(frozen=True, eq=False)
class Card:
    """A question with the points a full answer must contain.

    ``eq=False`` keeps identity hashing, so per-card grading data can be cached against it.
    """

    id: str
    question: str
    points: list[Point]
    summary: str | None = None
    note: str | None = None
    tags: tuple[str, ...] = ()
    follows: str | None = None
    pass_ratio: float | None = None
    deck_id: str = ""
    line: int | None = None
    #: Grader-owned cache of prepared matching data (filled when the deck loads).
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def reference_answer(self) -> str:
        """The full answer as one readable text."""
        return "; ".join(point.text for point in self.points)


@dataclass(eq=False)
class Deck:
    """A named list of cards loaded from one YAML file."""

    id: str
    name: str
    cards: list[Card]
    description: str | None = None
    language: str | None = None
    pass_ratio: float | None = None
    source: Path | None = None

    def card(self, card_id: str) -> Card:
        """Return the card with this id, or raise KeyError."""
        return self.by_id[card_id]

    @property
    def by_id(self) -> dict[str, Card]:
        index = self.__dict__.get("_by_id")
        if index is None or len(index) != len(self.cards):
            index = {card.id: card for card in self.cards}
            self.__dict__["_by_id"] = index
        return index

    def parent_of(self, card: Card) -> Card | None:
        """The card a follow-up continues, shown to the user as context."""
        return self.by_id.get(card.follows) if card.follows else None


class DeckError(Exception):
    """A card bank that cannot be used; ``problems`` lists every precise message."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
