"""Deck sizes in words ("12 cards, 31 points, 2 follow-ups"), for `quizbot check` and uploads."""

from __future__ import annotations

from bot.core.cards import Deck


def count(number: int, noun: str) -> str:
    """'1 card', '2 cards', '3 aliases'."""
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{number:,} {noun if number == 1 else plural}"


def deck_counts(deck: Deck, *, zero_aliases: bool = True) -> str:
    """Cards, points, follow-ups and aliases; ``zero_aliases=False`` leaves out '0 aliases'."""
    points = sum(len(card.points) for card in deck.cards)
    follow_ups = sum(1 for card in deck.cards if card.follows)
    aliases = sum(len(point.aliases) for card in deck.cards for point in card.points)
    counted = [(len(deck.cards), "card"), (points, "point"), (follow_ups, "follow-up")]
    if aliases or zero_aliases:
        counted.append((aliases, "alias"))
    return ", ".join(count(number, noun) for number, noun in counted)
