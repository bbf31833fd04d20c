"""Kept for tools and old imports: the deck data classes and the loader under their first name."""

from bot.core.cards import Card, Deck, DeckError, Point
from bot.decks.loader import (
    BUNDLED_CARDS,
    CARDS_SETTING,
    collect_decks,
    deck_files,
    load_deck,
    load_decks,
    parse_cards_setting,
    parse_deck,
)

__all__ = [
    "BUNDLED_CARDS",
    "CARDS_SETTING",
    "Card",
    "Deck",
    "DeckError",
    "Point",
    "collect_decks",
    "deck_files",
    "load_deck",
    "load_decks",
    "parse_cards_setting",
    "parse_deck",
]
