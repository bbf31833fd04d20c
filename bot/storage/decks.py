"""Decks that users upload in the chat: the deck rows, who may use them, and groups' choices.

A user deck is stored whole, as the YAML text of our format (``bot.decks.loader`` reads it), so
that every replica can load it; nothing of it lives on the server's disk. Its key in the deck
catalogue (and in answers, FSRS states and rounds) is ``user:<deck_id>``, which no deck file can
take (slugs have no colon), and a replacement keeps the key, so history stays with the cards.

Replicas learn about changes through one counter: every write to a deck row takes the next
value of ``deck_revision`` (an ``UPDATE ... RETURNING`` that row-locks it until commit, so values
become visible in order) and stamps the row with it. A replica that has seen revision N reads
the rows stamped above N and nothing else.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)

from bot.storage.review import card_states
from bot.storage.schema import Queries, UTCDateTime, metadata, row_as

#: The prefix of a user deck's key in the catalogue; deck files cannot use a colon in an id.
USER_DECK_PREFIX = "user:"

user_decks = Table(
    "user_decks",
    metadata,
    Column("deck_id", Integer, primary_key=True, autoincrement=True),
    Column("owner_id", BigInteger, nullable=False),
    Column("slug", String(200), nullable=False),  # the id inside the uploaded file
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False, default=1),  # +1 on each replace or rename
    Column("yaml_text", Text, nullable=False),
    Column("summary", String(256), nullable=False, default=""),
    Column("card_count", Integer, nullable=False, default=0),
    Column("share_code", String(32), unique=True),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("revision", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("owner_id", "slug", name="uq_user_decks_owner_slug"),
    Index("ix_user_decks_revision", "revision"),
)

#: Decks a user added through a share link (their own decks need no row here).
deck_access = Table(
    "deck_access",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("deck_id", Integer, primary_key=True, autoincrement=False),
    Column("added_at", UTCDateTime, nullable=False),
)

#: The deck a group's admin picked for /challenge and the question of the day.
chat_decks = Table(
    "chat_decks",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("deck_key", String(200), nullable=False),
    Column("chosen_by", BigInteger, nullable=False),
    Column("chosen_at", UTCDateTime, nullable=False),
)

#: Every upload attempt, for the per-user upload rate.
deck_uploads = Table(
    "deck_uploads",
    metadata,
    Column("upload_id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
    Index("ix_deck_uploads_user", "user_id", "uploaded_at"),
)

#: One row: the last revision handed to a deck write (see the module docstring).
deck_revision = Table(
    "deck_revision",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
)


def user_deck_key(deck_id: int) -> str:
    return f"{USER_DECK_PREFIX}{deck_id}"


def user_deck_id(key: str | None) -> int | None:
    """The row id in a catalogue key such as ``user:17``; None for a bundled deck's key."""
    if not key or not key.startswith(USER_DECK_PREFIX):
        return None
    number = key[len(USER_DECK_PREFIX) :]
    return int(number) if number.isdigit() else None


@dataclass(frozen=True)
class UserDeckRow:
    deck_id: int
    owner_id: int
    slug: str
    name: str
    version: int
    summary: str
    card_count: int
    share_code: str | None
    deleted: bool
    revision: int

    @property
    def key(self) -> str:
        return user_deck_key(self.deck_id)


@dataclass(frozen=True)
class DeckChange:
    """A deck row written after the revision a replica has seen: load it again, or drop it."""

    deck_id: int
    version: int
    name: str
    deleted: bool
    yaml_text: str
    revision: int


_ROW_COLUMNS = [user_decks.c[name] for name in UserDeckRow.__dataclass_fields__]


class DeckQueries(Queries):
    """User decks, their sharing, groups' deck choices and the upload log."""

    async def _next_revision(self) -> int:
        bumped = (
            await self.conn.execute(
                update(deck_revision)
                .where(deck_revision.c.id == 1)
                .values(value=deck_revision.c.value + 1)
                .returning(deck_revision.c.value)
            )
        ).first()
        if bumped is not None:
            return int(bumped.value)
        await self.conn.execute(
            self.insert(deck_revision)
            .values(id=1, value=0)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        return await self._next_revision()

    async def revision(self) -> int:
        """The newest revision any deck write took (0 before the first upload)."""
        value = (
            await self.conn.execute(select(deck_revision.c.value).where(deck_revision.c.id == 1))
        ).scalar()
        return int(value or 0)

    async def changes_since(self, revision: int) -> list[DeckChange]:
        result = await self.conn.execute(
            select(
                user_decks.c.deck_id,
                user_decks.c.version,
                user_decks.c.name,
                user_decks.c.deleted,
                user_decks.c.yaml_text,
                user_decks.c.revision,
            )
            .where(user_decks.c.revision > revision)
            .order_by(user_decks.c.revision)
        )
        return [row_as(DeckChange, row) for row in result]

    async def deck_version(self, deck_id: int) -> tuple[int, bool] | None:
        row = (
            await self.conn.execute(
                select(user_decks.c.version, user_decks.c.deleted).where(
                    user_decks.c.deck_id == deck_id
                )
            )
        ).first()
        return (int(row.version), bool(row.deleted)) if row else None

    async def deck_yaml(self, deck_id: int) -> str | None:
        return (
            await self.conn.execute(
                select(user_decks.c.yaml_text).where(
                    user_decks.c.deck_id == deck_id, user_decks.c.deleted.is_(False)
                )
            )
        ).scalar()

    async def deck_row(self, deck_id: int) -> UserDeckRow | None:
        row = (
            await self.conn.execute(select(*_ROW_COLUMNS).where(user_decks.c.deck_id == deck_id))
        ).first()
        return row_as(UserDeckRow, row) if row else None

    async def deck_by_slug(self, owner_id: int, slug: str) -> UserDeckRow | None:
        row = (
            await self.conn.execute(
                select(*_ROW_COLUMNS).where(
                    user_decks.c.owner_id == owner_id, user_decks.c.slug == slug
                )
            )
        ).first()
        return row_as(UserDeckRow, row) if row else None

    async def deck_by_share_code(self, code: str) -> UserDeckRow | None:
        row = (
            await self.conn.execute(
                select(*_ROW_COLUMNS).where(
                    user_decks.c.share_code == code, user_decks.c.deleted.is_(False)
                )
            )
        ).first()
        return row_as(UserDeckRow, row) if row else None

    async def owned_decks(self, owner_id: int) -> list[UserDeckRow]:
        result = await self.conn.execute(
            select(*_ROW_COLUMNS)
            .where(user_decks.c.owner_id == owner_id, user_decks.c.deleted.is_(False))
            .order_by(user_decks.c.deck_id)
        )
        return [row_as(UserDeckRow, row) for row in result]

    async def added_decks(self, user_id: int) -> list[UserDeckRow]:
        """Decks shared with this user that they added (and that still exist)."""
        result = await self.conn.execute(
            select(*_ROW_COLUMNS)
            .join(deck_access, deck_access.c.deck_id == user_decks.c.deck_id)
            .where(deck_access.c.user_id == user_id, user_decks.c.deleted.is_(False))
            .order_by(deck_access.c.added_at, user_decks.c.deck_id)
        )
        return [row_as(UserDeckRow, row) for row in result]

    async def has_access(self, user_id: int, deck_id: int) -> bool:
        row = await self.deck_row(deck_id)
        if row is None or row.deleted:
            return False
        if row.owner_id == user_id:
            return True
        found = (
            await self.conn.execute(
                select(deck_access.c.deck_id).where(
                    deck_access.c.user_id == user_id, deck_access.c.deck_id == deck_id
                )
            )
        ).first()
        return found is not None

    async def add_deck(
        self,
        owner_id: int,
        slug: str,
        name: str,
        yaml_text: str,
        summary: str,
        card_count: int,
        now: datetime,
    ) -> int:
        """Store a new deck, or bring back a deleted one with this slug; returns its row id."""
        revision = await self._next_revision()
        values = {
            "name": name,
            "yaml_text": yaml_text,
            "summary": summary,
            "card_count": card_count,
            "deleted": False,
            "share_code": None,
            "revision": revision,
            "updated_at": now,
        }
        old = await self.deck_by_slug(owner_id, slug)
        if old is not None:
            await self.conn.execute(
                update(user_decks)
                .where(user_decks.c.deck_id == old.deck_id)
                .values(version=old.version + 1, **values)
            )
            return old.deck_id
        result = await self.conn.execute(
            user_decks.insert()
            .values(owner_id=owner_id, slug=slug, version=1, created_at=now, **values)
            .returning(user_decks.c.deck_id)
        )
        return int(result.scalar_one())

    async def _write(self, deck_id: int, now: datetime, **values: Any) -> None:
        """Change a deck row and stamp it with the next revision, for other replicas."""
        await self.conn.execute(
            update(user_decks)
            .where(user_decks.c.deck_id == deck_id)
            .values(revision=await self._next_revision(), updated_at=now, **values)
        )

    async def rename_deck(self, deck_id: int, name: str, yaml_text: str, now: datetime) -> None:
        await self._write(
            deck_id, now, name=name, yaml_text=yaml_text, version=user_decks.c.version + 1
        )

    async def delete_deck(self, deck_id: int, now: datetime) -> None:
        """Mark the deck deleted (the row stays as a tombstone replicas read) and forget it
        everywhere it was chosen or added; answers and FSRS states stay as history."""
        await self._write(deck_id, now, deleted=True, yaml_text="", share_code=None)
        await self.conn.execute(delete(deck_access).where(deck_access.c.deck_id == deck_id))
        await self.conn.execute(
            delete(chat_decks).where(chat_decks.c.deck_key == user_deck_key(deck_id))
        )

    async def forget_removed_cards(self, key: str, kept_card_ids: Collection[str]) -> None:
        """After a replacement: the FSRS states of cards no longer in the deck go (so /due and
        reminders count only real cards); answers stay as history."""
        await self.conn.execute(
            delete(card_states).where(
                card_states.c.deck_id == key, card_states.c.card_id.not_in(list(kept_card_ids))
            )
        )

    async def set_share_code(self, deck_id: int, code: str | None) -> None:
        await self.conn.execute(
            update(user_decks).where(user_decks.c.deck_id == deck_id).values(share_code=code)
        )

    async def add_access(self, user_id: int, deck_id: int, now: datetime) -> bool:
        """Add a shared deck to a user's list; False when it was there already."""
        result = await self.conn.execute(
            self.insert(deck_access)
            .values(user_id=user_id, deck_id=deck_id, added_at=now)
            .on_conflict_do_nothing(index_elements=["user_id", "deck_id"])
        )
        return result.rowcount == 1

    async def count_owned(self, owner_id: int) -> int:
        return int(
            (
                await self.conn.execute(
                    select(func.count()).where(
                        user_decks.c.owner_id == owner_id, user_decks.c.deleted.is_(False)
                    )
                )
            ).scalar_one()
        )

    async def record_upload(self, user_id: int, now: datetime) -> None:
        await self.conn.execute(deck_uploads.insert().values(user_id=user_id, uploaded_at=now))

    async def uploads_since(self, user_id: int, since: datetime) -> list[datetime]:
        result = await self.conn.execute(
            select(deck_uploads.c.uploaded_at)
            .where(deck_uploads.c.user_id == user_id, deck_uploads.c.uploaded_at >= since)
            .order_by(deck_uploads.c.uploaded_at)
        )
        return [row.uploaded_at for row in result]

    async def chat_deck(self, chat_id: int) -> str | None:
        return (
            await self.conn.execute(
                select(chat_decks.c.deck_key).where(chat_decks.c.chat_id == chat_id)
            )
        ).scalar()

    async def set_chat_deck(
        self, chat_id: int, deck_key: str, chosen_by: int, now: datetime
    ) -> None:
        statement = self.insert(chat_decks).values(
            chat_id=chat_id, deck_key=deck_key, chosen_by=chosen_by, chosen_at=now
        )
        await self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=["chat_id"],
                set_={
                    "deck_key": statement.excluded.deck_key,
                    "chosen_by": statement.excluded.chosen_by,
                    "chosen_at": statement.excluded.chosen_at,
                },
            )
        )
