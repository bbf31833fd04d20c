"""What replicas share in the database, on SQLite and PostgreSQL: reply marks and noted replies
on update claims, the bulk-send lease, flood windows, and the upgrades (versions 8 and 10)
that add them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from bot.storage.base import SCHEMA_VERSION, Store


async def test_an_update_is_replied_only_once_it_is_marked_whether_or_not_it_was_claimed(
    store: Store, now: datetime
) -> None:
    async with store.transaction() as tx:
        assert await tx.claim_update(1, now)  # effects committed, reply not yet sent
        assert await tx.replied_among([1, 2]) == set()
        await tx.mark_replied(1, now)
        await tx.mark_replied(2, now)  # a /help: nothing claimed it
    async with store.transaction() as tx:
        assert await tx.replied_among([1, 2, 3]) == {1, 2}
        assert await tx.was_replied(2)
        assert not await tx.was_replied(3)
        assert not await tx.was_replied(None)
        assert not await tx.claim_update(2, now)  # the mark is a claim too


async def test_a_claims_noted_reply_is_owed_until_the_update_is_marked_replied(
    store: Store, now: datetime
) -> None:
    async with store.transaction() as tx:
        assert await tx.claim_update(1, now)
        await tx.note_reply(1, '{"kind": "summary", "round_id": 3}')
        assert await tx.claim_update(2, now)  # claimed before replies were noted
    async with store.transaction() as tx:
        assert await tx.unsent_reply(1) == '{"kind": "summary", "round_id": 3}'
        assert await tx.unsent_reply(2) is None
        assert await tx.unsent_reply(None) is None
        await tx.mark_replied(1, now)
        assert await tx.unsent_reply(1) is None


async def claimed_then_upgraded_from(
    database_url: str, now: datetime, version: int, *back_to_version: str
) -> Store:
    """A store whose database claimed update ``version``, was taken back to that schema
    version by ``back_to_version``, and was then opened again (and so upgraded)."""
    store = await Store.open(database_url)
    async with store.transaction() as tx:
        assert await tx.claim_update(version, now)
    async with store.engine.begin() as conn:
        for statement in back_to_version:
            await conn.execute(text(statement))
        await conn.execute(text(f"DELETE FROM schema_versions WHERE version > {version}"))
    await store.close()
    store = await Store.open(database_url)
    assert await store.schema_version() == SCHEMA_VERSION
    return store


async def test_a_version_9_database_gets_the_claims_reply_column_and_keeps_its_claims(
    database_url: str, now: datetime
) -> None:
    store = await claimed_then_upgraded_from(
        database_url, now, 9, "ALTER TABLE processed_updates DROP COLUMN reply"
    )
    try:
        async with store.transaction() as tx:
            assert not await tx.claim_update(9, now)
            assert await tx.unsent_reply(9) is None  # nothing noted: a redelivery stays quiet
            await tx.note_reply(9, "{}")
            assert await tx.unsent_reply(9) == "{}"
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("holder", "seconds_later", "taken"),
    [
        ("a", 1, True),  # the holder renews
        ("b", 1, False),  # another replica waits while the lease runs
        ("b", 31, True),  # ...and takes it over once it has run out
    ],
)
async def test_the_send_lease_is_held_by_one_replica_until_it_runs_out(
    store: Store, now: datetime, holder: str, seconds_later: int, taken: bool
) -> None:
    lease = timedelta(seconds=30)
    async with store.transaction() as tx:
        assert await tx.take_lease("bulk", "a", now, now + lease)
    later = now + timedelta(seconds=seconds_later)
    async with store.transaction() as tx:
        assert await tx.take_lease("bulk", holder, later, later + lease) is taken
        expected = (holder, later + lease) if taken else ("a", now + lease)
        assert await tx.lease_holder("bulk") == expected


async def test_a_released_lease_is_free_for_the_next_replica_at_once(
    store: Store, now: datetime
) -> None:
    async with store.transaction() as tx:
        assert await tx.take_lease("bulk", "a", now, now + timedelta(seconds=30))
        await tx.release_lease("bulk", "b")  # not b's to release
        assert not await tx.take_lease("bulk", "b", now, now + timedelta(seconds=30))
        await tx.release_lease("bulk", "a")
        assert await tx.lease_holder("bulk") is None
        assert await tx.take_lease("bulk", "b", now, now + timedelta(seconds=30))


async def test_a_version_7_database_gets_reply_marks_and_the_lease_table(
    database_url: str, now: datetime
) -> None:
    store = await claimed_then_upgraded_from(
        database_url,
        now,
        7,
        "ALTER TABLE processed_updates DROP COLUMN replied_at",
        "DROP TABLE send_leases",
        "DROP TABLE flood_windows",
    )
    try:
        async with store.transaction() as tx:
            assert not await tx.claim_update(7, now)  # the old claim is kept
            assert await tx.replied_among([7]) == set()
            await tx.mark_replied(7, now)
            assert await tx.replied_among([7]) == {7}
            assert await tx.take_lease("bulk", "a", now, now + timedelta(seconds=5))
            assert await tx.count_arrivals(5, 1, now, now - timedelta(seconds=10)) == (0, False)
    finally:
        await store.close()


async def test_a_users_flood_window_counts_every_replicas_arrivals_until_it_is_over(
    store: Store, now: datetime
) -> None:
    window = timedelta(seconds=10)
    async with store.transaction() as tx:
        assert await tx.count_arrivals(5, 3, now, now - window) == (0, False)
    later = now + timedelta(seconds=4)  # another replica, same window
    async with store.transaction() as tx:
        assert await tx.count_arrivals(5, 2, later, later - window) == (3, False)
        assert await tx.count_arrivals(6, 1, later, later - window) == (0, False)
        await tx.note_warned([5])
        assert await tx.count_arrivals(5, 1, later, later - window) == (5, True)
    after = now + timedelta(seconds=10)  # the window that opened at ``now`` is over
    async with store.transaction() as tx:
        assert await tx.count_arrivals(5, 1, after, after - window) == (0, False)
        assert await tx.count_arrivals(5, 1, after, after - window) == (1, False)
