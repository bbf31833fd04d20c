"""The repository layer on SQLite and PostgreSQL: schema versions, idempotence, totals."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from bot.storage import SCHEMA_VERSION, Store, UserProfile

ANN = UserProfile(user_id=101, first_name="Ann", username="ann")


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
        round_ = await tx.create_round(
            chat_id=101, user_id=101, deck_id="d", card_ids=["a", "b"], now=now
        )
        await tx.add_answer(
            round_id=round_.round_id,
            position=0,
            user_id=101,
            chat_id=101,
            deck_id="d",
            card_id="a",
            answer_text="latency",
            outcome="answered",
            verdict="correct",
            score=1.0,
            points=10,
            answered_at=now,
        )
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
