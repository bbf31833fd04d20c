"""The repository layer on SQLite and PostgreSQL: schema versions, idempotence, totals."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.storage import base as storage
from bot.storage.base import SCHEMA_VERSION, RoundRow, Store, Tx, UserProfile

ANN = UserProfile(user_id=101, first_name="Ann", username="ann")


async def _answer_latency(tx: Tx, user_id: int, at: datetime) -> RoundRow:
    """A round on cards "a" and "b" of deck "d", whose first is answered "latency", correctly."""
    round_ = await tx.create_round(
        chat_id=user_id, user_id=user_id, deck_id="d", card_ids=["a", "b"], now=at
    )
    await tx.add_answer(
        round_id=round_.round_id,
        position=0,
        user_id=user_id,
        chat_id=user_id,
        deck_id="d",
        card_id="a",
        answer_text="latency",
        outcome="answered",
        verdict="correct",
        score=1.0,
        points=10,
        answered_at=at,
    )
    return round_


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "locked.db"


@pytest.fixture
async def sqlite_store(sqlite_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite+aiosqlite:///{sqlite_path}")
    yield opened
    await opened.close()


async def test_a_new_database_gets_the_latest_schema_and_reopening_changes_nothing(
    database_url: str,
) -> None:
    store = await Store.open(database_url)
    assert await store.schema_version() == SCHEMA_VERSION
    await store.close()
    store = await Store.open(database_url)
    assert await store.schema_version() == SCHEMA_VERSION
    await store.close()


async def test_a_database_from_the_previous_version_is_upgraded_and_keeps_its_data(
    database_url: str, now: datetime
) -> None:
    store = await Store.open(database_url)
    async with store.transaction() as tx:
        await tx.upsert_user(ANN, now)
        round_ = await _answer_latency(tx, ANN.user_id, now)
    # Turn it back into a version-1 database: no response_seconds column, stamped 1.
    async with store.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE answers DROP COLUMN response_seconds"))
        await conn.execute(text("DELETE FROM schema_versions WHERE version > 1"))
    await store.close()

    store = await Store.open(database_url)
    try:
        assert await store.schema_version() == SCHEMA_VERSION
        async with store.transaction() as tx:
            user = await tx.get_user(101)
            answers = await tx.round_answers(round_.round_id)
        assert user is not None
        assert user.first_name == "Ann"
        assert [(a.card_id, a.answer_text, a.points) for a in answers] == [("a", "latency", 10)]
    finally:
        await store.close()


async def test_an_update_can_be_claimed_only_once(database_url: str, now: datetime) -> None:
    store = await Store.open(database_url)
    try:
        async with store.transaction() as tx:
            assert await tx.claim_update(555, now) is True
        async with store.transaction() as tx:
            assert await tx.claim_update(555, now) is False
            assert await tx.claim_update(None, now) is True
    finally:
        await store.close()


async def test_a_failed_unit_of_work_leaves_no_claim_behind(
    database_url: str, now: datetime
) -> None:
    store = await Store.open(database_url)
    try:

        async def claim_then_crash() -> None:
            async with store.transaction() as tx:
                await tx.claim_update(777, now)
                raise RuntimeError("crash before the effects were saved")

        with pytest.raises(RuntimeError):
            await claim_then_crash()
        async with store.transaction() as tx:
            assert await tx.claim_update(777, now) is True
    finally:
        await store.close()


async def test_a_cancelled_unit_of_work_is_rolled_back_and_frees_the_database(
    store: Store, now: datetime
) -> None:
    claimed = asyncio.Event()

    async def claim_then_wait() -> None:
        async with store.transaction() as tx:
            await tx.claim_update(888, now)
            claimed.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(claim_then_wait())
    await claimed.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with store.transaction() as tx:
        assert await tx.claim_update(888, now) is True


def _hold_sqlite_write_lock(path: Path, seconds: float) -> None:
    """Another connection (as another process would) takes the write lock for a while."""
    taken = threading.Event()

    def hold() -> None:
        locker = sqlite3.connect(path, timeout=5, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        locker.execute("ROLLBACK")
        locker.close()

    threading.Thread(target=hold, daemon=True).start()
    assert taken.wait(5)


async def test_on_sqlite_a_unit_of_work_waits_for_a_foreign_write_lock_without_blocking_the_loop(
    sqlite_store: Store, sqlite_path: Path, now: datetime
) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    _hold_sqlite_write_lock(sqlite_path, seconds=0.6)
    started = time.monotonic()
    async with sqlite_store.transaction() as tx:
        assert await tx.claim_update(999, now) is True
    waited = time.monotonic() - started
    ticker.cancel()
    assert waited >= 0.4  # it did wait for the lock to go ...
    assert ticks >= 15  # ... while the event loop kept running other work


async def test_on_sqlite_a_write_lock_held_past_the_limit_fails_with_a_database_error(
    sqlite_store: Store, sqlite_path: Path, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "SQLITE_LOCK_WAIT_SECONDS", 0.3)
    _hold_sqlite_write_lock(sqlite_path, seconds=1.5)
    with pytest.raises(OperationalError, match="locked"):
        async with sqlite_store.transaction() as tx:
            await tx.claim_update(1000, now)
    await asyncio.sleep(1.5)
    async with sqlite_store.transaction() as tx:  # and all is well once the lock is gone
        assert await tx.claim_update(1000, now) is True


async def test_totals_count_verdicts_points_and_the_daily_streak(
    database_url: str, now: datetime
) -> None:
    store = await Store.open(database_url)
    try:
        async with store.transaction() as tx:
            await tx.upsert_user(ANN, now)
            await tx.add_to_totals(101, points=10, verdict="correct", today=now.date())
            await tx.add_to_totals(101, points=5, verdict="partial", today=now.date())
            tomorrow = (now + timedelta(days=1)).date()
            await tx.add_to_totals(101, points=0, verdict="wrong", today=tomorrow)
            await tx.move_verdict(101, old="wrong", new="correct", extra_points=10)
            user = await tx.get_user(101)
        assert user is not None
        assert (user.points, user.answered, user.correct, user.partial, user.wrong) == (
            25,
            3,
            2,
            1,
            0,
        )
        assert (user.streak.current, user.streak.best) == (2, 2)
    finally:
        await store.close()


async def test_a_user_profile_is_updated_when_the_name_changes(
    database_url: str, now: datetime
) -> None:
    store = await Store.open(database_url)
    try:
        async with store.transaction() as tx:
            await tx.upsert_user(ANN, now)
            await tx.upsert_user(UserProfile(101, "Annie", "annie"), now)
            user = await tx.get_user(101)
        assert user is not None
        assert (user.first_name, user.username) == ("Annie", "annie")
    finally:
        await store.close()


async def test_card_history_counts_an_override_as_a_full_score(
    database_url: str, now: datetime
) -> None:
    store = await Store.open(database_url)
    try:
        async with store.transaction() as tx:
            round_ = await tx.create_round(
                chat_id=1, user_id=1, deck_id="d", card_ids=["a"], now=now
            )
            answer_id = await tx.add_answer(
                round_id=round_.round_id,
                position=0,
                user_id=1,
                chat_id=1,
                deck_id="d",
                card_id="a",
                answer_text="x",
                outcome="answered",
                verdict="wrong",
                score=0.0,
                points=0,
                answered_at=now,
            )
            await tx.mark_overridden(answer_id, points=10, now=now)
            history = await tx.card_history(1, "d")
            overrides = await tx.overrides("d")
        assert history["a"].attempts == 1
        assert history["a"].mean_score == pytest.approx(1.0)
        assert [answer.answer_id for answer in overrides] == [answer_id]
    finally:
        await store.close()


async def test_old_update_claims_are_forgotten_oldest_first_and_recent_ones_kept(
    store: Store,
    now: datetime,
) -> None:
    async with store.transaction() as tx:
        for update_id in range(1, 8):  # one claim a day: day 1 is the oldest
            await tx.claim_update(update_id, now + timedelta(days=update_id))
    cutoff = now + timedelta(days=4, hours=12)
    async with store.transaction() as tx:
        assert await tx.forget_claims(cutoff, batch=3) == 3  # one batch: days 1-3
    async with store.transaction() as tx:
        assert await tx.forget_claims(cutoff, batch=3) == 1  # day 4; day 5 is recent
        assert await tx.forget_claims(cutoff, batch=3) == 0
    async with store.transaction() as tx:
        # A forgotten claim can be made again; a kept one still refuses a duplicate.
        assert [await tx.claim_update(i, now) for i in range(1, 8)] == [True] * 4 + [False] * 3


async def test_the_pump_clears_every_claim_past_the_retention_in_batches(
    store: Store,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.telegram import pump as pump_module

    monkeypatch.setattr(pump_module, "CLAIM_PRUNE_BATCH", 4)
    later = now + pump_module.CLAIM_RETENTION
    async with store.transaction() as tx:
        for update_id in range(1, 11):  # ten old claims, then two recent ones
            await tx.claim_update(update_id, now)
        await tx.claim_update(11, later)
        await tx.claim_update(12, later)
    pump = pump_module.UpdatePump(
        application=None,  # type: ignore[arg-type]  # not needed to clear claims
        store=store,
        clock=lambda: later + timedelta(hours=1),
    )
    assert await pump.forget_old_claims() == 10
    async with store.transaction() as tx:
        assert await tx.claim_update(10, now) is True
        assert await tx.claim_update(11, now) is False


async def test_claims_of_updates_still_in_the_inbox_are_kept(store: Store, now: datetime) -> None:
    async with store.transaction() as tx:
        for update_id in (1, 2, 3):
            await tx.claim_update(update_id, now)
        await tx.keep_updates([(2, "{}")], now)  # handled once, then the bot was down a week
    async with store.transaction() as tx:
        await tx.forget_claims(now + timedelta(days=8))
    async with store.transaction() as tx:
        assert [await tx.claim_update(i, now) for i in (1, 2, 3)] == [True, False, True]


async def test_on_sqlite_the_health_check_reads_while_another_process_holds_the_write_lock(
    sqlite_store: Store, sqlite_path: Path
) -> None:
    _hold_sqlite_write_lock(sqlite_path, seconds=1.0)
    started = time.monotonic()
    await sqlite_store.ping()
    await storage.ping_database(f"sqlite+aiosqlite:///{sqlite_path}")
    assert time.monotonic() - started < 0.5  # neither waited for the lock


async def test_an_in_memory_sqlite_database_keeps_to_one_engine(now: datetime) -> None:
    memory = await Store.open("sqlite+aiosqlite://")
    try:
        assert memory.inline_engine is None
        async with memory.transaction() as tx:
            assert await tx.claim_update(1, now) is True
        await memory.ping()
    finally:
        await memory.close()


async def test_upgrading_moves_streak_days_into_each_users_time_zone(
    database_url: str,
) -> None:
    from bot.storage.review import ReviewRepo

    tokyo = UserProfile(user_id=201, first_name="Kei")
    utc_user = UserProfile(user_id=202, first_name="Ola")
    late_evening_utc = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # 08:30 on 2 Dec in Tokyo
    store = await Store.open(database_url)
    async with store.transaction() as tx:
        for user in (tokyo, utc_user):
            await tx.upsert_user(user, late_evening_utc)
            await _answer_latency(tx, user.user_id, late_evening_utc)
            # As the old code did: the streak day is the UTC day.
            await tx.add_to_totals(
                user.user_id, points=10, verdict="correct", today=late_evening_utc.date()
            )
        await ReviewRepo(tx).save_settings(tokyo.user_id, late_evening_utc, timezone="Asia/Tokyo")
    async with store.engine.begin() as conn:  # back to a version-6 database
        await conn.execute(text("DELETE FROM schema_versions WHERE version > 6"))
    await store.close()

    store = await Store.open(database_url)
    try:
        async with store.transaction() as tx:
            kei, ola = await tx.get_user(tokyo.user_id), await tx.get_user(utc_user.user_id)
        assert kei is not None and ola is not None
        assert kei.streak.last_day == date(2026, 12, 2)  # her own day
        assert ola.streak.last_day == date(2026, 12, 1)  # no time zone: UTC, unchanged
        assert (kei.streak.current, ola.streak.current) == (1, 1)
    finally:
        await store.close()
