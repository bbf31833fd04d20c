"""The deck catalogue: the bundled decks and the users' decks from the database, in one place.

Every service looks decks up here by key, so a user deck reaches rounds, FSRS reviews, group
challenges and the question of the day exactly as a bundled deck does. User decks are kept in
memory once loaded and prepared for grading; ``refresh`` reads what other replicas changed
since this one last looked (one indexed query when nothing did), so every replica serves the
same version of a deck.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from bot.core.cards import Deck, DeckError
from bot.core.grading import prepare_deck
from bot.decks.loader import parse_deck
from bot.services.heap import freeze_long_lived
from bot.storage.base import Store
from bot.storage.decks import DeckQueries, user_deck_key

log = logging.getLogger(__name__)


def deck_hash(deck: Deck) -> str:
    """A short, stable token for a deck that fits in Telegram's 64-byte callback data."""
    return hashlib.sha1(deck.id.encode()).hexdigest()[:10]


def as_catalogue_deck(deck: Deck, key: str, name: str | None = None) -> Deck:
    """The parsed deck under its catalogue key, prepared for grading."""
    cards = [replace(card, deck_id=key, cache={}) for card in deck.cards]
    keyed = Deck(
        id=key,
        name=name or deck.name,
        cards=cards,
        description=deck.description,
        language=deck.language,
        pass_ratio=deck.pass_ratio,
    )
    prepare_deck(keyed)
    freeze_long_lived()  # the prepared deck lives on: keep full collections off it
    return keyed


def load_user_deck(key: str, yaml_text: str, name: str) -> Deck:
    """Parse a stored deck and prepare it (slow for big decks: run it in a thread)."""
    return as_catalogue_deck(parse_deck(yaml_text, key), key, name)


class DeckCatalogue:
    """Bundled decks (fixed until /reload) and user decks (loaded from the database)."""

    def __init__(self, bundled: Sequence[Deck]) -> None:
        self.replace_bundled(bundled)
        self._user: dict[str, tuple[int, Deck]] = {}
        self.seen_revision = 0
        self._looked_at = float("-inf")
        self._lock = asyncio.Lock()

    def replace_bundled(self, decks: Sequence[Deck]) -> None:
        if not decks:
            raise ValueError("at least one deck is needed")
        self.bundled = list(decks)
        self._bundled_by_id = {deck.id: deck for deck in self.bundled}

    def get(self, key: str | None) -> Deck | None:
        """The deck with this key, bundled or a user's; None when unknown or deleted."""
        if not key:
            return None
        found = self._bundled_by_id.get(key)
        if found is not None:
            return found
        entry = self._user.get(key)
        return entry[1] if entry else None

    def deck(self, key: str | None) -> Deck:
        """The deck with this key, or the first bundled deck when it is unknown (e.g. removed)."""
        return self.get(key) or self.bundled[0]

    def by_hash(self, token: str) -> Deck | None:
        for deck in [*self.bundled, *(entry[1] for entry in self._user.values())]:
            if deck_hash(deck) == token:
                return deck
        return None

    def put(self, key: str, version: int, deck: Deck) -> None:
        self._user[key] = (version, deck)

    def drop(self, key: str) -> None:
        self._user.pop(key, None)

    def version_of(self, key: str) -> int | None:
        entry = self._user.get(key)
        return entry[0] if entry else None

    async def refresh(self, store: Store, *, max_age: float = 0.0) -> None:
        """Load the user decks written since the last look, and forget the deleted ones.

        With ``max_age`` a look taken less than that many seconds ago is good enough: a
        person cannot act on two replicas faster, and each look is a query.
        """
        if max_age and time.monotonic() - self._looked_at < max_age:
            return
        self._looked_at = time.monotonic()
        async with store.transaction() as tx:
            revision = await DeckQueries(tx.conn).revision()
        if revision <= self.seen_revision:
            return
        async with self._lock:
            if revision <= self.seen_revision:
                return
            async with store.transaction() as tx:
                changes = await DeckQueries(tx.conn).changes_since(self.seen_revision)
            for change in changes:
                key = user_deck_key(change.deck_id)
                if change.deleted:
                    self.drop(key)
                elif self.version_of(key) != change.version:
                    try:
                        deck = await asyncio.to_thread(
                            load_user_deck, key, change.yaml_text, change.name
                        )
                    except DeckError as problem:  # stored by an older, laxer version
                        log.warning("User deck %s no longer loads: %s", key, problem)
                        self.drop(key)
                        continue
                    self.put(key, change.version, deck)
                    log.info("Loaded user deck %s v%d", key, change.version)
            newest = max((change.revision for change in changes), default=revision)
            self.seen_revision = max(self.seen_revision, newest, revision)
