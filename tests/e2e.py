"""Helpers for end-to-end tests: the real ``quizbot run`` process against the fake Bot API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fakebotapi import BotProcess, FakeBotApi

ROOT = Path(__file__).resolve().parents[1]


def bot_env(api: FakeBotApi, database_url: str, cards: Path | str | None = None) -> dict[str, str]:
    env = {
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.root_url,
        "DATABASE_URL": database_url,
        "QUIZBOT_LOG_LEVEL": "INFO",
    }
    if cards is not None:
        env["QUIZBOT_CARDS"] = str(cards)
    return env


@contextmanager
def running_bot(
    api: FakeBotApi, database_url: str, cards: Path | str | None = None
) -> Iterator[BotProcess]:
    """Start the bot, wait until it polls, and always stop it (its log is shown on failure)."""
    with BotProcess(bot_env(api, database_url, cards), cwd=ROOT) as process:
        process.start(wait_for_polling=api)
        yield process
