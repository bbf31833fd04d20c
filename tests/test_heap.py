"""Prepared decks are hidden from the garbage collector once they exist (bot.services.heap)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.decks.loader import BUNDLED_CARDS, load_deck
from bot.services.catalogue import as_catalogue_deck
from bot.services.heap import freeze_long_lived


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """Each test starts with nothing frozen and leaves nothing frozen for the next module."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def scanned(target: object) -> bool:
    """True when the collector's generations (not the frozen one) hold this object."""
    return any(candidate is target for candidate in gc.get_objects())


def test_freezing_moves_what_lives_now_out_of_the_collectors_reach() -> None:
    alive = {"kept": ["by a reference"]}
    assert scanned(alive)
    freeze_long_lived()
    assert gc.get_freeze_count() > 0
    assert not scanned(alive)
    made_after = {"later": []}
    assert scanned(made_after)  # objects made since are collected as ever


def test_a_deck_prepared_for_the_catalogue_is_frozen() -> None:
    deck = as_catalogue_deck(load_deck(BUNDLED_CARDS), "user:1")
    prepared = next(iter(deck.cards[0].cache.values()))
    assert not scanned(prepared)
    assert not scanned(deck)
