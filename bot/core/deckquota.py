"""How much a user may upload: decks per user and uploads per hour (pure rules, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: The window the upload rate is counted over.
UPLOAD_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class DeckQuota:
    """Per-user limits on decks made in the chat (``QUIZBOT_MAX_DECKS_PER_USER``,
    ``QUIZBOT_UPLOADS_PER_HOUR``, ``QUIZBOT_MAX_UPLOAD_BYTES``, ``QUIZBOT_MAX_DECK_CARDS``)."""

    decks_per_user: int = 20
    uploads_per_hour: int = 10
    max_file_bytes: int = 2 * 1024 * 1024
    max_cards: int = 5000


def upload_wait(uploads: Sequence[datetime], now: datetime, quota: DeckQuota) -> timedelta | None:
    """How long the user must wait before the next upload; None when they may upload now.

    ``uploads`` are the user's upload times, oldest first; only those in the last hour count.
    """
    recent = [when for when in uploads if now - when < UPLOAD_WINDOW]
    if len(recent) < quota.uploads_per_hour:
        return None
    oldest_counted = recent[len(recent) - quota.uploads_per_hour]
    return max(timedelta(seconds=1), oldest_counted + UPLOAD_WINDOW - now)


def may_add_deck(owned: int, quota: DeckQuota) -> bool:
    """A new deck (not a replacement) fits under the per-user limit."""
    return owned < quota.decks_per_user
