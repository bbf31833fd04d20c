"""Several replicas on one PostgreSQL database: start-up, the shared send budget, replies sent
once, and the health check of the running process. Real ``quizbot run`` processes throughout."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.migrations import SCHEMA_VERSION
from bot.storage.schema import schema_versions
from tests.e2e import ROOT, bot_env
from tests.fakebotapi import BotProcess, FakeBotApi

pytestmark = pytest.mark.e2e

REPLICAS = 3


async def stamped_versions(url: str) -> list[int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(schema_versions.c.version).order_by(schema_versions.c.version)
            )
            return [row.version for row in rows]
    finally:
        await engine.dispose()


def test_three_replicas_starting_together_on_an_empty_database_all_come_up(
    api: FakeBotApi, fresh_postgres_url: str, mini_cards: Path
) -> None:
    """Each process upgrades the schema at start-up; they take turns, so none crashes on
    another's half-made tables and every version is stamped once."""
    env = bot_env(api, fresh_postgres_url, mini_cards)
    with ExitStack() as stack:
        bots = [stack.enter_context(BotProcess(env, cwd=ROOT)) for _ in range(REPLICAS)]
        for bot in bots:  # as close together as Popen allows
            bot.start()
        api.wait_for(
            lambda: (
                sum("quizbot is up" in bot.logs() for bot in bots) == REPLICAS
                or any(not bot.running for bot in bots)
            ),
            timeout=60,
        )
        assert all(bot.running for bot in bots), "\n".join(bot.logs() for bot in bots)
        assert not any("IntegrityError" in bot.logs() for bot in bots)
        codes = [bot.stop() for bot in bots]
    assert codes == [0] * REPLICAS
    assert asyncio.run(stamped_versions(fresh_postgres_url)) == list(range(1, SCHEMA_VERSION + 1))
