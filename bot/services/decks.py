"""Decks users bring in the chat: upload, list, rename, replace, delete, share, and groups' choice.

Each method is one unit of work over ``bot.storage.decks`` and keeps the ``DeckCatalogue`` of
this replica up to date at once (other replicas catch up with ``DeckCatalogue.refresh``).
Parsing a file runs in a thread: a 5,000-card deck takes a while and must not stall the bot.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from bot.core.cards import Deck
from bot.core.deckquota import UPLOAD_WINDOW, DeckQuota, may_add_deck, upload_wait
from bot.decks.upload import ParsedUpload, UploadLimits, parse_upload
from bot.services.catalogue import DeckCatalogue, as_catalogue_deck, deck_hash
from bot.storage.base import AnswerRow, Store, Tx, UserProfile
from bot.storage.decks import DeckQueries, UserDeckRow, user_deck_id, user_deck_key
from bot.storage.updates import Note

#: The longest deck name a rename accepts.
MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class DeckNotice:
    """Why a deck action did nothing. kinds: too_big, rate, too_many_decks, not_found,
    bad_name, unknown_link, duplicate (a redelivered update: say nothing); ``detail`` carries
    a number for the message."""

    kind: str
    detail: int = 0


@dataclass(frozen=True)
class UploadRejected:
    """The file could not be used; nothing was changed."""

    file_name: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class UploadSaved:
    deck: UserDeckRow
    summary: str
    replaced: bool
    kept: int  # card ids of the old version still in the deck: their history stays
    removed: int
    #: False when shown again for a redelivered upload (stored by the first delivery).
    stored: bool = field(default=True, compare=False)


@dataclass(frozen=True)
class DeckListing:
    bundled: list[Deck]
    owned: list[UserDeckRow]
    added: list[UserDeckRow]
    current: str


@dataclass(frozen=True)
class OwnerOverrides:
    deck_name: str
    answers: list[AnswerRow]


#: Why a file without problems is still refused.
NO_CARDS = ("The file holds no cards.",)


def upload_note(result: UploadSaved | UploadRejected | DeckNotice) -> Note:
    """What an upload's reply shows, kept with its claim (see ``DeckService._reply_again``)."""
    if isinstance(result, UploadSaved):
        return {
            "kind": "saved",
            "deck_id": result.deck.deck_id,
            "replaced": result.replaced,
            "kept": result.kept,
            "removed": result.removed,
        }
    if isinstance(result, UploadRejected):
        return {"kind": "rejected"}
    return {"kind": result.kind, "detail": result.detail}


def renamed_yaml(yaml_text: str, name: str) -> str:
    """The stored YAML with a new deck name, so that a download says the same as /decks."""
    data: dict[str, Any] = yaml.safe_load(yaml_text)
    data["deck"] = name
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def clean_name(text: str) -> str | None:
    name = " ".join(text.split())
    return name if 0 < len(name) <= MAX_NAME_CHARS else None


@dataclass
class DeckService:
    store: Store
    catalogue: DeckCatalogue
    quota: DeckQuota = field(default_factory=DeckQuota)

    @property
    def upload_limits(self) -> UploadLimits:
        return UploadLimits(max_bytes=self.quota.max_file_bytes, max_cards=self.quota.max_cards)

    # --- upload ----------------------------------------------------------------------------

    async def may_upload(
        self, user: UserProfile, size: int | None, now: datetime, update_id: int | None = None
    ) -> DeckNotice | None:
        """Refuse before downloading: a file over the size limit, or too many uploads lately.

        An upload redelivered before its reply went out was counted already: it goes on, to
        get that reply (``upload``).
        """
        if size is not None and size > self.quota.max_file_bytes:
            return DeckNotice("too_big", self.quota.max_file_bytes)
        async with self.store.transaction() as tx:
            if await tx.unsent_reply(update_id) is not None:
                return None
            uploads = await DeckQueries(tx.conn).uploads_since(user.user_id, now - UPLOAD_WINDOW)
        wait = upload_wait(uploads, now, self.quota)
        if wait is not None:
            return DeckNotice("rate", max(1, round(wait.total_seconds() / 60)))
        return None

    async def upload(
        self,
        user: UserProfile,
        file_name: str,
        data: bytes,
        now: datetime,
        update_id: int | None = None,
    ) -> UploadSaved | UploadRejected | DeckNotice:
        """Check the file with the importer and validator; store it only when it is sound.

        The attempt counts towards the upload rate either way; the update is claimed in the
        same unit of work, so a redelivered upload is neither stored nor counted twice.
        """
        parsed: ParsedUpload = await asyncio.to_thread(
            parse_upload, file_name, data, limits=self.upload_limits
        )
        async with self.store.transaction() as tx:

            async def again(note: Note | None) -> UploadSaved | UploadRejected | DeckNotice:
                return await self._reply_again(tx, note, file_name, parsed)

            result = await tx.once(
                update_id,
                now,
                lambda: self._store(tx, user, file_name, parsed, now),
                upload_note,
                again,
            )
        if isinstance(result, UploadSaved) and result.stored:
            assert parsed.deck is not None
            row = result.deck
            keyed = await asyncio.to_thread(as_catalogue_deck, parsed.deck, row.key, row.name)
            self.catalogue.put(row.key, row.version, keyed)
        return result

    async def _store(
        self, tx: Tx, user: UserProfile, file_name: str, parsed: ParsedUpload, now: datetime
    ) -> UploadSaved | UploadRejected | DeckNotice:
        deck, yaml_text = parsed.deck, parsed.yaml_text
        queries = DeckQueries(tx.conn)
        await queries.record_upload(user.user_id, now)
        if deck is None or yaml_text is None or parsed.problems:
            return UploadRejected(file_name, parsed.problems or NO_CARDS)
        old = await queries.deck_by_slug(user.user_id, deck.id)
        replacing = old is not None and not old.deleted
        if not replacing and not may_add_deck(await queries.count_owned(user.user_id), self.quota):
            return DeckNotice("too_many_decks", self.quota.decks_per_user)
        deck_id = await queries.add_deck(
            user.user_id, deck.id, deck.name, yaml_text, parsed.summary, len(deck.cards), now
        )
        if replacing:
            await queries.forget_removed_cards(user_deck_key(deck_id), deck.by_id)
        row = await queries.deck_row(deck_id)
        await tx.upsert_user(user, now)
        await tx.set_user_deck(user.user_id, user_deck_key(deck_id))
        assert row is not None
        previous = self.catalogue.get(row.key) if replacing else None
        old_ids = set(previous.by_id) if previous is not None else set()
        return UploadSaved(
            deck=row,
            summary=parsed.summary,
            replaced=replacing,
            kept=len(old_ids & set(deck.by_id)),
            removed=len(old_ids - set(deck.by_id)),
        )

    async def _reply_again(
        self, tx: Tx, note: Note | None, file_name: str, parsed: ParsedUpload
    ) -> UploadSaved | UploadRejected | DeckNotice:
        """A redelivered upload: the reply it owes if it never went out (the replica died
        before the send), from the note and the file parsed again; else "duplicate"."""
        if note is None:
            return DeckNotice("duplicate")
        if note["kind"] == "rejected":
            return UploadRejected(file_name, parsed.problems or NO_CARDS)
        if note["kind"] == "saved":
            row = await DeckQueries(tx.conn).deck_row(note["deck_id"])
            if row is not None and not row.deleted:
                return UploadSaved(
                    row, parsed.summary, note["replaced"], note["kept"], note["removed"], False
                )
            return DeckNotice("duplicate")
        return DeckNotice(note["kind"], note.get("detail", 0))

    # --- the user's list -------------------------------------------------------------------

    async def listing(self, user: UserProfile) -> DeckListing:
        async with self.store.transaction() as tx:
            queries = DeckQueries(tx.conn)
            owned = await queries.owned_decks(user.user_id)
            added = await queries.added_decks(user.user_id)
            row = await tx.get_user(user.user_id)
        current = self.catalogue.deck(row.deck_id if row else None).id
        return DeckListing(self.catalogue.bundled, owned, added, current)

    async def _owned(
        self, tx_queries: DeckQueries, user: UserProfile, deck_id: int
    ) -> UserDeckRow | None:
        row = await tx_queries.deck_row(deck_id)
        if row is None or row.deleted or row.owner_id != user.user_id:
            return None
        return row

    async def deck_of(self, user: UserProfile, deck_id: int) -> UserDeckRow | DeckNotice:
        """One of the user's own decks (for its panel), or not_found."""
        async with self.store.transaction() as tx:
            row = await self._owned(DeckQueries(tx.conn), user, deck_id)
        return row or DeckNotice("not_found")

    async def rename(
        self, user: UserProfile, deck_id: int, text: str, now: datetime
    ) -> UserDeckRow | DeckNotice:
        name = clean_name(text)
        if name is None:
            return DeckNotice("bad_name", MAX_NAME_CHARS)
        async with self.store.transaction() as tx:
            queries = DeckQueries(tx.conn)
            row = await self._owned(queries, user, deck_id)
            if row is None:
                return DeckNotice("not_found")
            yaml_text = await queries.deck_yaml(deck_id) or ""
            await queries.rename_deck(deck_id, name, renamed_yaml(yaml_text, name), now)
            renamed = await queries.deck_row(deck_id)
        assert renamed is not None
        loaded = self.catalogue.get(renamed.key)
        if loaded is not None:
            loaded.name = name
            self.catalogue.put(renamed.key, renamed.version, loaded)
        return renamed

    async def delete(
        self, user: UserProfile, deck_id: int, now: datetime
    ) -> UserDeckRow | DeckNotice:
        async with self.store.transaction() as tx:
            queries = DeckQueries(tx.conn)
            row = await self._owned(queries, user, deck_id)
            if row is None:
                return DeckNotice("not_found")
            await queries.delete_deck(deck_id, now)
        self.catalogue.drop(row.key)
        return row

    async def share(self, user: UserProfile, deck_id: int) -> UserDeckRow | DeckNotice:
        """Give the deck a share code (kept until revoked)."""
        async with self.store.transaction() as tx:
            queries = DeckQueries(tx.conn)
            row = await self._owned(queries, user, deck_id)
            if row is None:
                return DeckNotice("not_found")
            if row.share_code is None:
                await queries.set_share_code(deck_id, secrets.token_urlsafe(9))
                row = await queries.deck_row(deck_id)
        assert row is not None
        return row

    async def revoke(self, user: UserProfile, deck_id: int) -> UserDeckRow | DeckNotice:
        """The link stops working; those who added the deck keep it."""
        async with self.store.transaction() as tx:
            queries = DeckQueries(tx.conn)
            row = await self._owned(queries, user, deck_id)
            if row is None:
                return DeckNotice("not_found")
            await queries.set_share_code(deck_id, None)
        return row

    async def add_from_link(
        self, user: UserProfile, code: str, now: datetime
    ) -> UserDeckRow | DeckNotice:
        """Open a share link: the deck joins the user's list and their next rounds use it."""
        async with self.store.transaction() as tx:
            queries = DeckQueries(tx.conn)
            row = await queries.deck_by_share_code(code)
            if row is None:
                return DeckNotice("unknown_link")
            await tx.upsert_user(user, now)
            if row.owner_id != user.user_id:
                await queries.add_access(user.user_id, row.deck_id, now)
            await tx.set_user_deck(user.user_id, row.key)
        await self.catalogue.refresh(self.store)
        return row

    async def export(self, user: UserProfile, deck_id: int) -> tuple[str, bytes] | DeckNotice:
        """The deck back as our YAML (file name, bytes), for its owner."""
        async with self.store.transaction() as tx:
            queries = DeckQueries(tx.conn)
            row = await self._owned(queries, user, deck_id)
            yaml_text = await queries.deck_yaml(deck_id) if row is not None else None
        if row is None or yaml_text is None:
            return DeckNotice("not_found")
        return f"{row.slug}.yaml", yaml_text.encode("utf-8")

    async def overrides(self, user: UserProfile) -> list[OwnerOverrides]:
        """ "I was right" answers on the user's own decks, deck by deck."""
        found = []
        async with self.store.transaction() as tx:
            for row in await DeckQueries(tx.conn).owned_decks(user.user_id):
                answers = await tx.overrides(row.key)
                if answers:
                    found.append(OwnerOverrides(row.name, answers))
        return found

    # --- groups ----------------------------------------------------------------------------

    async def usable_decks(self, user: UserProfile) -> list[Deck]:
        """The decks this user may pick for a group: the bundled ones, their own, and added."""
        async with self.store.transaction() as tx:
            queries = DeckQueries(tx.conn)
            rows = [
                *await queries.owned_decks(user.user_id),
                *await queries.added_decks(user.user_id),
            ]
        mine = [deck for row in rows if (deck := self.catalogue.get(row.key)) is not None]
        return [*self.catalogue.bundled, *mine]

    async def group_deck(self, chat_id: int) -> Deck | None:
        async with self.store.transaction() as tx:
            key = await DeckQueries(tx.conn).chat_deck(chat_id)
        return self.catalogue.get(key)

    async def choose_for_group(
        self, chat_id: int, user: UserProfile, token: str, now: datetime
    ) -> Deck | DeckNotice:
        """Store a group's deck (the caller checked that ``user`` administers the chat)."""
        deck = self.catalogue.by_hash(token)
        if deck is None:
            return DeckNotice("not_found")
        async with self.store.transaction() as tx:
            queries = DeckQueries(tx.conn)
            number = user_deck_id(deck.id)
            if number is not None and not await queries.has_access(user.user_id, number):
                return DeckNotice("not_found")
            await queries.set_chat_deck(chat_id, deck.id, user.user_id, now)
        return deck


def deck_tokens(decks: Sequence[Deck]) -> list[tuple[str, str]]:
    """(name, callback token) for each deck, for choice buttons."""
    return [(deck.name, deck_hash(deck)) for deck in decks]
