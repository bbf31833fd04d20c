"""``quizbot check`` and ``quizbot import`` (placeholder until the deck tools land)."""

from __future__ import annotations

from typing import TextIO

from bot.cards import BUNDLED_CARDS, load_decks


def run_check(paths: list[str], out: TextIO) -> int:
    decks = load_decks(paths or [BUNDLED_CARDS])
    for deck in decks:
        print(f"{deck.name}: {len(deck.cards)} cards", file=out)
    return 0


def run_import(
    file: str, output: str | None, deck_id: str | None, name: str | None, out: TextIO
) -> int:
    raise NotImplementedError
