"""User decks in the service layer: storage, sharing, groups' pick, and replicas that catch up.

Two services over one database stand for two replicas: what one writes, the other serves after
``DeckCatalogue.refresh``, in the same version. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.core.cards import Deck
from bot.core.challenge import ChallengeRequest
from bot.core.deckquota import DeckQuota, may_add_deck, upload_wait
from bot.core.reminders import ReminderSpec
from bot.services.catalogue import DeckCatalogue, deck_hash
from bot.services.decks import DeckNotice, DeckService, UploadRejected, UploadSaved
from bot.services.group import GroupService, Player
from bot.services.quiz import QuizService, RoundStart
from bot.services.review import ReviewService
from bot.storage.base import Store, UserProfile
from bot.storage.decks import DeckQueries, user_deck_id, user_deck_key
from bot.storage.review import ReviewRepo
from tests.decksamples import yaml_deck

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ANN = UserProfile(1, "Ann")
BOB = UserProfile(2, "Bob")
CARDS = [
    {"id": "fr", "question": "What is the capital of France?", "points": ["Paris"]},
    {"id": "it", "question": "What is the capital of Italy?", "points": ["Rome"]},
]
#: A file the importer refuses (a card without its answer).
BROKEN = b"deck: Geography\nid: geo\ncards:\n  - id: fr\n    question: Why?\n"


@pytest.mark.parametrize(
    ("minutes_ago", "per_hour", "wait_minutes"),
    [
        ([], 3, None),
        ([50, 40], 3, None),
        ([50, 40, 30], 3, 10),
        ([70, 40, 30], 3, None),  # the one 70 minutes ago no longer counts
        ([59, 58, 57, 1], 3, 2),
    ],
)
def test_the_upload_rate_counts_the_last_hour_and_says_how_long_to_wait(
    minutes_ago: list[int], per_hour: int, wait_minutes: int | None
) -> None:
    uploads = [NOW - timedelta(minutes=minutes) for minutes in minutes_ago]
    wait = upload_wait(uploads, NOW, DeckQuota(uploads_per_hour=per_hour))
    assert wait == (None if wait_minutes is None else timedelta(minutes=wait_minutes))


@pytest.mark.parametrize(("owned", "allowed"), [(0, True), (1, True), (2, False), (5, False)])
def test_a_new_deck_fits_only_under_the_per_user_limit(owned: int, allowed: bool) -> None:
    assert may_add_deck(owned, DeckQuota(decks_per_user=2)) is allowed


@pytest.mark.parametrize(
    ("key", "number"), [("user:17", 17), ("user:x", None), ("mini", None), (None, None)]
)
def test_a_user_decks_key_names_its_row(key: str | None, number: int | None) -> None:
    assert user_deck_id(key) == number
    if number is not None:
        assert user_deck_key(number) == key


class Replica:
    """What one bot process holds: its own catalogue and services over the shared database."""

    def __init__(self, store: Store, bundled: DeckCatalogue) -> None:
        self.quiz = QuizService(store, bundled.bundled)
        assert self.quiz.catalogue is not None
        self.catalogue = self.quiz.catalogue
        self.decks = DeckService(store, self.catalogue, DeckQuota(decks_per_user=2))
        self.groups = GroupService(store, bundled.bundled, catalogue=self.catalogue)


@pytest.fixture
def bundled(deck: Deck) -> DeckCatalogue:
    return DeckCatalogue([deck])


async def test_a_deck_uploaded_on_one_replica_is_served_by_the_other_after_a_refresh(
    store: Store, bundled: DeckCatalogue
) -> None:
    one, two = Replica(store, bundled), Replica(store, bundled)
    saved = await one.decks.upload(ANN, "geo.yaml", yaml_deck("geo", "Geography", CARDS), NOW)
    assert isinstance(saved, UploadSaved) and not saved.replaced
    key = saved.deck.key
    assert one.catalogue.get(key) is not None and two.catalogue.get(key) is None

    await two.catalogue.refresh(store)
    served = two.catalogue.get(key)
    assert served is not None and served.name == "Geography" and len(served.cards) == 2
    assert all(card.deck_id == key and card.cache for card in served.cards)  # ready to grade

    replaced = await one.decks.upload(
        ANN, "geo.yaml", yaml_deck("geo", "Geography", CARDS[:1]), NOW
    )
    assert isinstance(replaced, UploadSaved) and replaced.replaced
    assert (replaced.kept, replaced.removed, replaced.deck.key) == (1, 1, key)
    await two.catalogue.refresh(store)
    assert len(two.catalogue.deck(key).cards) == 1  # the old copy was swapped for version 2

    await one.decks.delete(ANN, saved.deck.deck_id, NOW)
    await two.catalogue.refresh(store)
    assert two.catalogue.get(key) is None


async def test_rounds_on_a_user_deck_run_on_either_replica(
    store: Store, bundled: DeckCatalogue
) -> None:
    one, two = Replica(store, bundled), Replica(store, bundled)
    saved = await one.decks.upload(ANN, "geo.yaml", yaml_deck("geo", "Geography", CARDS), NOW)
    assert isinstance(saved, UploadSaved)
    await two.catalogue.refresh(store)
    started = await two.quiz.start_round(ANN, ANN.user_id, 2, NOW)
    assert isinstance(started, RoundStart)
    question = started.question
    assert question.card.deck_id == saved.deck.key
    answer = "Paris" if "France" in question.card.question else "Rome"
    feedback = await one.quiz.answer(ANN, ANN.user_id, answer, NOW + timedelta(seconds=5))
    assert getattr(feedback, "verdict", None) == "correct"


async def test_a_broken_file_changes_nothing_and_lists_its_problems(
    store: Store, bundled: DeckCatalogue
) -> None:
    one = Replica(store, bundled)
    await one.decks.upload(ANN, "geo.yaml", yaml_deck("geo", "Geography", CARDS), NOW)
    rejected = await one.decks.upload(ANN, "geo.yaml", BROKEN, NOW)
    assert isinstance(rejected, UploadRejected) and rejected.problems
    listing = await one.decks.listing(ANN)
    assert [(row.name, row.version, row.card_count) for row in listing.owned] == [
        ("Geography", 1, 2)
    ]


async def test_sharing_adds_the_deck_for_others_until_the_owner_revokes_the_link(
    store: Store, bundled: DeckCatalogue
) -> None:
    one, two = Replica(store, bundled), Replica(store, bundled)
    saved = await one.decks.upload(ANN, "geo.yaml", yaml_deck("geo", "Geography", CARDS), NOW)
    assert isinstance(saved, UploadSaved)
    number = saved.deck.deck_id
    assert isinstance(await one.decks.share(BOB, number), DeckNotice)  # not Bob's to share
    shared = await one.decks.share(ANN, number)
    assert not isinstance(shared, DeckNotice) and shared.share_code

    added = await two.decks.add_from_link(BOB, shared.share_code, NOW)
    assert not isinstance(added, DeckNotice)
    assert [row.name for row in (await two.decks.listing(BOB)).added] == ["Geography"]
    assert (await two.quiz.user_deck(BOB)).id == saved.deck.key
    assert isinstance(await two.decks.export(BOB, number), DeckNotice)  # only for the owner

    await one.decks.revoke(ANN, number)
    carl = UserProfile(3, "Carl")
    assert await two.decks.add_from_link(carl, shared.share_code, NOW) == DeckNotice("unknown_link")
    assert [row.name for row in (await two.decks.listing(BOB)).added] == ["Geography"]


async def test_a_groups_pick_is_what_a_challenge_without_a_deck_name_uses(
    store: Store, bundled: DeckCatalogue
) -> None:
    one, two = Replica(store, bundled), Replica(store, bundled)
    saved = await one.decks.upload(ANN, "geo.yaml", yaml_deck("geo", "Geography", CARDS), NOW)
    assert isinstance(saved, UploadSaved)
    deck = one.catalogue.get(saved.deck.key)
    assert deck is not None
    refused = await one.decks.choose_for_group(-100, BOB, deck_hash(deck), NOW)
    assert refused == DeckNotice("not_found")  # Bob cannot use Ann's private deck
    chosen = await one.decks.choose_for_group(-100, ANN, deck_hash(deck), NOW)
    assert chosen is deck
    await two.catalogue.refresh(store)
    started = await two.groups.start_challenge(
        -100, "Geo club", Player(BOB.user_id, "Bob", None), ChallengeRequest(2, 30), NOW
    )
    assert getattr(started, "deck_name", None) == "Geography"


async def test_the_per_user_deck_limit_counts_new_decks_not_replacements(
    store: Store, bundled: DeckCatalogue
) -> None:
    one = Replica(store, bundled)
    for slug in ("one", "two"):
        assert isinstance(
            await one.decks.upload(ANN, f"{slug}.yaml", yaml_deck(slug, slug, CARDS), NOW),
            UploadSaved,
        )
    third = await one.decks.upload(ANN, "three.yaml", yaml_deck("three", "3", CARDS), NOW)
    assert third == DeckNotice("too_many_decks", 2)
    again = await one.decks.upload(ANN, "one.yaml", yaml_deck("one", "One", CARDS), NOW)
    assert isinstance(again, UploadSaved) and again.replaced


async def test_the_question_of_the_day_comes_from_the_deck_the_groups_admin_picked(
    store: Store, bundled: DeckCatalogue
) -> None:
    one = Replica(store, bundled)
    reviews = ReviewService(store, one.quiz)
    saved = await one.decks.upload(ANN, "geo.yaml", yaml_deck("geo", "Geography", CARDS), NOW)
    assert isinstance(saved, UploadSaved)
    deck = one.catalogue.deck(saved.deck.key)
    await one.decks.choose_for_group(-100, ANN, deck_hash(deck), NOW)
    await reviews.set_reminder(
        chat_id=-100, chat_type="group", user=ANN, spec=ReminderSpec(time(10, 0)), now=NOW
    )
    [job] = (await reviews.claim_due_reminders(NOW + timedelta(hours=1))).jobs
    assert job.card is not None and job.card.deck_id == saved.deck.key
    assert job.card.question in {card["question"] for card in CARDS}


@pytest.mark.parametrize("case", ["added", "replaced", "rejected", "one deck too many"])
async def test_an_upload_redelivered_before_its_reply_went_out_gets_that_reply_once(
    store: Store, bundled: DeckCatalogue, case: str
) -> None:
    """The replica that stored the upload died before replying; the one given the update
    again sends that reply, though the upload used the last one of the hour's allowance, and
    stores and counts nothing again."""
    one = Replica(store, bundled)
    earlier = {"added": [], "replaced": ["geo"], "rejected": [], "one deck too many": ["a", "b"]}
    for number, slug in enumerate(earlier[case], start=1):
        await one.decks.upload(ANN, f"{slug}.yaml", yaml_deck(slug, slug, CARDS), NOW, number)
    data = {
        "added": yaml_deck("geo", "Geography", CARDS),
        "replaced": yaml_deck("geo", "Geography", CARDS[:1]),
        "rejected": BROKEN,
        "one deck too many": yaml_deck("geo", "Geography", CARDS),
    }[case]
    first = await one.decks.upload(ANN, "geo.yaml", data, NOW, update_id=77)
    if case == "replaced":
        assert isinstance(first, UploadSaved)
        assert (first.replaced, first.kept, first.removed) == (True, 1, 1)

    async def state() -> object:
        async with store.transaction() as tx:
            uploads = await DeckQueries(tx.conn).uploads_since(ANN.user_id, NOW)
        return len(uploads), (await one.decks.listing(ANN)).owned

    before = await state()
    uploads = len(earlier[case]) + 1
    other = Replica(store, bundled)
    other.decks.quota = DeckQuota(decks_per_user=2, uploads_per_hour=uploads)
    assert await other.decks.may_upload(ANN, len(data), NOW, update_id=77) is None
    assert await other.decks.upload(ANN, "geo.yaml", data, NOW, update_id=77) == first
    assert await state() == before

    async with store.transaction() as tx:  # the reply went out this time
        await tx.mark_replied(77, NOW)
    assert await other.decks.upload(ANN, "geo.yaml", data, NOW, update_id=77) == DeckNotice(
        "duplicate"
    )
    assert await other.decks.may_upload(ANN, len(data), NOW, update_id=77) == DeckNotice("rate", 60)
    assert await state() == before


async def test_a_replacement_keeps_the_review_state_of_cards_that_stay_and_drops_the_rest(
    store: Store, bundled: DeckCatalogue
) -> None:
    one = Replica(store, bundled)
    saved = await one.decks.upload(ANN, "geo.yaml", yaml_deck("geo", "Geography", CARDS), NOW)
    assert isinstance(saved, UploadSaved)
    started = await one.quiz.start_round(ANN, ANN.user_id, 2, NOW)
    assert isinstance(started, RoundStart)
    for step in range(2):
        current = await one.quiz.current_question(ANN, ANN.user_id)
        assert current is not None
        answer = "Paris" if "France" in current.card.question else "Rome"
        await one.quiz.answer(ANN, ANN.user_id, answer, NOW + timedelta(seconds=10 * step + 5))
        await one.quiz.next_question(ANN, ANN.user_id, current.round_id, current.position, NOW)
    key = saved.deck.key
    async with store.transaction() as tx:
        before = await ReviewRepo(tx).card_states(ANN.user_id, key)
    assert set(before) == {"fr", "it"}

    await one.decks.upload(ANN, "geo.yaml", yaml_deck("geo", "Geography", CARDS[:1]), NOW)
    async with store.transaction() as tx:
        after = await ReviewRepo(tx).card_states(ANN.user_id, key)
        history = await tx.card_history(ANN.user_id, key)
    assert after == {"fr": before["fr"]}  # France's schedule is untouched
    assert set(history) == {"fr", "it"}  # and every answer stays in the history
