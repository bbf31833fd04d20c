"""Several replicas on one PostgreSQL database: start-up, the shared send budget, replies sent
once, and the health check of the running process. Real ``quizbot run`` processes throughout."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.migrations import SCHEMA_VERSION
from bot.storage.schema import schema_versions
from tests.e2e import ROOT, bot_env, free_port, webhook_env
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


def quizbot_health(env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "health", "--timeout", str(timeout)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_in_webhook_mode_the_health_check_asks_the_running_process_and_sees_it_hang(
    api: FakeBotApi, fresh_postgres_url: str, mini_cards: Path
) -> None:
    """``quizbot health`` (the Docker HEALTHCHECK) probes the bot's own /healthz: healthy while
    it runs, unhealthy while its process is stopped (hung), though the database still answers."""
    port = free_port()
    env = webhook_env(api, fresh_postgres_url, mini_cards, port)
    with BotProcess(env, cwd=ROOT) as bot:
        mark = api.call_count()
        bot.start()
        api.wait_for_call("setWebhook", after=mark, timeout=30)
        healthy = quizbot_health(env, timeout=5)
        assert (healthy.returncode, healthy.stdout.strip()) == (0, "ok")
        assert bot.pid is not None
        os.kill(bot.pid, signal.SIGSTOP)
        try:
            hung = quizbot_health(env, timeout=2)
        finally:
            os.kill(bot.pid, signal.SIGCONT)
        assert hung.returncode == 1
        assert f"127.0.0.1:{port}/healthz" in hung.stderr
        assert quizbot_health(env, timeout=5).returncode == 0
    # No bot at all: nothing answers on the port.
    assert quizbot_health(env, timeout=2).returncode == 1
