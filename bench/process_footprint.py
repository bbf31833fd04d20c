"""Start-up time and resident memory of the real ``quizbot run`` process.

Start-up: from process start to its first getUpdates call at the fake Bot API, with the seed
deck and with a generated 10,000-card deck. Memory: resident set size (VmRSS) with 10,000
cards loaded and 100,000 users in the database, after it has handled some updates.
One figure per line. ``--quick`` uses 1,000 cards and 1,000 users.

    python bench/process_footprint.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.deck_loading import write_deck  # noqa: E402
from bot.decks.loader import BUNDLED_CARDS  # noqa: E402
from bot.storage.base import Store, users  # noqa: E402
from tests.e2e import bot_env  # noqa: E402
from tests.fakebotapi import BotProcess, FakeBotApi, running_fake_bot_api  # noqa: E402


async def seed_users(database_url: str, count: int) -> None:
    """Insert ``count`` users in batches, as if they had all used the bot."""
    store = await Store.open(database_url)
    now = datetime.now(UTC)
    try:
        for start in range(0, count, 10_000):
            rows = [
                {
                    "user_id": 10_000_000 + index,
                    "first_name": f"Student {index}",
                    "points": index % 500,
                    "answered": index % 60,
                    "created_at": now,
                    "updated_at": now,
                }
                for index in range(start, min(count, start + 10_000))
            ]
            async with store.transaction() as tx:
                await tx.conn.execute(users.insert(), rows)
    finally:
        await store.close()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_seconds(api: FakeBotApi, env: dict[str, str]) -> tuple[float, BotProcess]:
    process = BotProcess(env, cwd=ROOT, startup_timeout=120)
    started = time.perf_counter()
    process.start(wait_for_polling=api)
    return time.perf_counter() - started, process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check it runs")
    args = parser.parse_args()
    cards, people = (1_000, 1_000) if args.quick else (10_000, 100_000)
    with tempfile.TemporaryDirectory() as folder, running_fake_bot_api() as api:
        big_deck = Path(folder) / "big.yaml"
        write_deck(big_deck, cards)

        url = f"sqlite+aiosqlite:///{folder}/seed.db"
        seconds, process = start_seconds(api, bot_env(api, url, BUNDLED_CARDS))
        with process:
            print(f"startup_seconds_seed_deck: {seconds:.2f}")
            print(f"rss_mib_seed_deck: {rss_mib(process.pid or 0):.1f}")

        url = f"sqlite+aiosqlite:///{folder}/big.db"
        asyncio.run(seed_users(url, people))
        seconds, process = start_seconds(api, bot_env(api, url, big_deck))
        with process:
            print(f"startup_seconds_{cards}_cards: {seconds:.2f}")
            student = api.add_user("Bench")
            for _ in range(5):
                api.send_text(student, "/quiz 3")
                question = api.wait_for_message(student, contains="Question 1/3", timeout=60)
                api.send_text(student, "first part of topic, second bit")
                api.wait_for_message(student, after=question.message_id, timeout=60)
            print(f"users_in_database: {people}")
            print(f"cards_loaded: {cards}")
            print(f"rss_mib_{cards}_cards_{people}_users: {rss_mib(process.pid or 0):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
