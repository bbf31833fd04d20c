"""Helpers for end-to-end tests: the real ``quizbot run`` process against the fake Bot API."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fakebotapi import BotProcess, ChatMessage, FakeBotApi

ROOT = Path(__file__).resolve().parents[1]

#: A small deck with known answers, so a round is predictable whatever the card order.
MINI_DECK = {
    "deck": "Mini",
    "id": "mini",
    "cards": [
        {"id": "latency", "question": "What matters most for inference?", "points": ["latency"]},
        {
            "id": "throughput",
            "question": "What matters most for training?",
            "points": [{"text": "throughput", "aliases": ["samples per second"]}],
        },
        {
            "id": "allreduce",
            "question": "List the three steps of AllReduce.",
            "points": ["workers compute forward/backward", "reduce-scatter", "all-gather"],
            "note": "slide 30",
        },
    ],
}
#: A fully correct answer for each question of MINI_DECK.
ANSWERS = {
    "What matters most for inference?": "latency",
    "What matters most for training?": "thruput",
    "List the three steps of AllReduce.": "compute fwd/bwd, reduce-scatter, all-gather",
}


def question_text(message: ChatMessage) -> str:
    """The question line of a question message (after the ❓)."""
    return next(line[2:] for line in (message.text or "").splitlines() if line.startswith("❓"))


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
    api: FakeBotApi,
    database_url: str,
    cards: Path | str | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[BotProcess]:
    """Start the bot, wait until it polls, and always stop it (its log is shown on failure)."""
    env = bot_env(api, database_url, cards) | (extra_env or {})
    with BotProcess(env, cwd=ROOT) as process:
        process.start(wait_for_polling=api)
        yield process


#: Webhook mode: the public URL registered with the fake, and the secret token.
PUBLIC_URL = "https://quiz.example.test/telegram-hook"
SECRET = "s3cret-token_for-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_env(
    api: FakeBotApi, database_url: str, cards: Path | str | None, port: int, **extra: str
) -> dict[str, str]:
    """The environment of a webhook-mode bot listening on 127.0.0.1:``port``."""
    return (
        bot_env(api, database_url, cards)
        | extra
        | {
            "WEBHOOK_URL": PUBLIC_URL,
            "WEBHOOK_SECRET": SECRET,
            "QUIZBOT_LISTEN": "127.0.0.1",
            "PORT": str(port),
        }
    )
