"""The card bank: plain data classes for decks, cards and answer points, and the YAML loader.

Everything here is pure data plus file reading; grading, scheduling and the bot build on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: The deck that ships with the project, next to the package.
BUNDLED_CARDS = Path(__file__).resolve().parent.parent / "cards.yaml"


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


def _point_from(raw: Any) -> Point:
    if isinstance(raw, str):
        return Point(text=raw.strip())
    return Point(
        text=str(raw["text"]).strip(),
        aliases=tuple(str(alias) for alias in raw.get("aliases") or ()),
        weight=float(raw.get("weight", 1.0)),
    )


def load_deck(path: str | Path) -> Deck:
    """Load one YAML deck with safe YAML; raise DeckError naming file, line and card."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    deck_id = str(data["id"])
    deck_pass_ratio = data.get("pass_ratio")
    cards = [
        Card(
            id=str(raw["id"]),
            question=str(raw["question"]).strip(),
            points=[_point_from(point) for point in raw["points"]],
            summary=raw.get("summary"),
            note=raw.get("note"),
            tags=tuple(raw.get("tags") or ()),
            follows=raw.get("follows"),
            pass_ratio=raw.get("pass_ratio", deck_pass_ratio),
            deck_id=deck_id,
        )
        for raw in data["cards"]
    ]
    return Deck(
        id=deck_id,
        name=str(data["deck"]),
        cards=cards,
        description=data.get("description"),
        language=data.get("language"),
        pass_ratio=deck_pass_ratio,
        source=path,
    )


def load_decks(paths: list[str | Path]) -> list[Deck]:
    """Load every deck found in these files and folders (folders: their *.yaml / *.yml)."""
    files: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            files.extend(sorted([*entry.glob("*.yaml"), *entry.glob("*.yml")]))
        else:
            files.append(entry)
    return [load_deck(file) for file in files]
