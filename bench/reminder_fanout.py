"""Reminder fan-out: 10,000 users whose daily reminder falls due in the same minute.

Seeds a database with N users (``--quick``: 300), each with a reminder at 09:00 UTC and one card
due, then runs two replicas of the real bot (``python -m bot run`` in webhook mode, on the one
database; ``--replicas``) against the fake Bot API with Telegram-like flood control switched
on: 30 messages a second overall for the bot, whichever process sends (bursts of 30), one a
second per private chat, 429 with ``retry_after`` beyond that. The bots' clocks are shifted so
09:00 comes a few seconds after start-up, and their real JobQueues fire the reminders.

Prints one ``name: value`` figure per line: the time from 09:00 to the last reminder delivered,
the overall rate as a ratio to 30/s, the busiest second, the 429s Telegram answered, and the
lost and duplicated reminders (both should be 0).

    python bench/reminder_fanout.py [--quick] [--users N] [--replicas N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.scheduling import Rating, make_scheduler, review  # noqa: E402
from bot.decks.loader import BUNDLED_CARDS, load_deck  # noqa: E402
from bot.storage.base import Store, users  # noqa: E402
from bot.storage.review import card_states, reminders  # noqa: E402
from tests.e2e import free_port, webhook_env  # noqa: E402
from tests.fakebotapi import BotProcess, FakeBotApi, RateLimits  # noqa: E402

#: The minute every reminder falls due (a Tuesday).
FIRE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
#: Seconds between starting the bots and 09:00 on their clocks: enough to start up.
LEAD_SECONDS = 10.0
TELEGRAM_RATE = 30.0
REMINDER_MARK = "Time to review"


async def seed(database_url: str, user_ids: list[int]) -> None:
    """Users with a reminder at 09:00 UTC and one card overdue each, in a few bulk inserts."""
    deck = load_deck(BUNDLED_CARDS)
    reviewed = FIRE - timedelta(days=3)
    state = review(make_scheduler(fuzzing=False), None, Rating.Again, reviewed)
    created = FIRE - timedelta(days=7)
    store = await Store.open(database_url)
    try:
        for start in range(0, len(user_ids), 2000):
            chunk = user_ids[start : start + 2000]
            async with store.transaction() as tx:
                await tx.conn.execute(
                    users.insert(),
                    [
                        {
                            "user_id": user_id,
                            "first_name": f"User {user_id}",
                            "deck_id": deck.id,
                            "created_at": created,
                            "updated_at": created,
                        }
                        for user_id in chunk
                    ],
                )
                await tx.conn.execute(
                    reminders.insert(),
                    [
                        {
                            "chat_id": user_id,
                            "chat_type": "private",
                            "set_by": user_id,
                            "local_time": "09:00",
                            "days": 0b1111111,
                            "timezone": "UTC",
                            "enabled": True,
                            "next_fire_at": FIRE,
                            "created_at": created,
                            "updated_at": created,
                        }
                        for user_id in chunk
                    ],
                )
                await tx.conn.execute(
                    card_states.insert(),
                    [
                        {
                            "user_id": user_id,
                            "deck_id": deck.id,
                            "card_id": deck.cards[user_id % len(deck.cards)].id,
                            "state": state.state,
                            "step": state.step,
                            "stability": state.stability,
                            "difficulty": state.difficulty,
                            "due": state.due,
                            "last_review": state.last_review,
                            "reps": 1,
                            "lapses": 0,
                            "updated_at": reviewed,
                        }
                        for user_id in chunk
                    ],
                )
    finally:
        await store.close()


def delivered_since(api: FakeBotApi, after: int) -> tuple[int, int]:
    """Messages delivered from call ``after`` on, and where the next look should start.

    Only new calls are copied: the fake timestamps a call under the lock that copying holds,
    so copying the whole log every second would bunch the arrivals it times.
    """
    delivered, resume = 0, after
    for call in api.calls(after=after):
        if call.status is None:
            break
        delivered += call.method == "sendMessage" and call.ok
        resume = call.index + 1
    return delivered, resume


def run(
    user_count: int, replicas: int, database_url: str | None, timeout: float
) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'fanout.db'}"
        api = FakeBotApi(rate_limits=RateLimits())
        api.start()
        try:
            people = [api.add_user(f"User {number}") for number in range(user_count)]
            started = time.perf_counter()
            asyncio.run(seed(url, [person.id for person in people]))
            seed_seconds = time.perf_counter() - started

            # The bots' clocks read 09:00 at fire_wall (real time), LEAD_SECONDS from now.
            fire_wall = time.time() + LEAD_SECONDS
            offset = FIRE - datetime.fromtimestamp(fire_wall, UTC)
            with ExitStack() as stack:
                bots = []
                mark = api.call_count()
                for _ in range(replicas):
                    env = webhook_env(api, url, None, free_port())
                    env["QUIZBOT_LOG_LEVEL"] = "WARNING"
                    env["QUIZBOT_CLOCK_OFFSET_SECONDS"] = f"{offset.total_seconds():.3f}"
                    bot = stack.enter_context(BotProcess(env, cwd=ROOT, startup_timeout=120))
                    bots.append(bot.start())
                api.wait_for(
                    lambda: len(api.calls("setWebhook", after=mark)) >= replicas, timeout=120
                )
                deadline = time.monotonic() + timeout
                last_progress, last_count = time.monotonic(), -1
                count, looked_up_to = 0, 0
                while time.monotonic() < deadline:
                    more, looked_up_to = delivered_since(api, looked_up_to)
                    count += more
                    if count >= user_count:
                        break
                    if count != last_count:
                        last_progress, last_count = time.monotonic(), count
                    elif time.monotonic() - last_progress > 60 and time.time() > fire_wall:
                        break  # stalled: report what arrived
                    time.sleep(1.0)
                time.sleep(3.0)  # anything sent twice would arrive now
                bot_logs = [bot.logs() for bot in bots]
                running = sum(bot.running for bot in bots)
            calls = api.calls("sendMessage")
        finally:
            api.stop()

    sent_ok = [call for call in calls if call.ok]
    per_chat = Counter(call.int_param("chat_id") for call in sent_ok)
    reminders_per_user = [per_chat.get(person.id, 0) for person in people]
    wall_times = sorted(call.wall_time for call in sent_ok)
    delivered = sum(1 for count in reminders_per_user if count)
    first = wall_times[0] if wall_times else fire_wall
    last = wall_times[-1] if wall_times else fire_wall
    windows = Counter(int(moment) for moment in wall_times)
    span = max(last - first, 1e-9)
    return {
        "users": user_count,
        "replicas": replicas,
        "replicas_running_at_the_end": running,
        "seed_seconds": round(seed_seconds, 1),
        "delivered": delivered,
        "lost": user_count - delivered,
        "duplicated": sum(count - 1 for count in reminders_per_user if count > 1),
        "first_send_after_fire_s": round(first - fire_wall, 2),
        "time_to_deliver_all_s": round(last - fire_wall, 1),
        "achieved_rate_per_s": round(delivered / span, 2),
        "rate_vs_telegram_30_per_s": round(delivered / span / TELEGRAM_RATE, 3),
        "peak_messages_in_one_second": max(windows.values(), default=0),
        "http_429_answers": sum(1 for call in calls if call.status == 429),
        "other_failed_sends": sum(1 for call in calls if call.status not in (200, 429)),
        "rate_limit_warnings_in_log": sum(
            log.count("Rate limit hit after maximum") for log in bot_logs
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 users instead of 10,000")
    parser.add_argument("--users", type=int, help="how many users (overrides --quick)")
    parser.add_argument("--replicas", type=int, default=2, help="bot processes (default 2)")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args(argv)
    user_count = args.users or (300 if args.quick else 10_000)
    timeout = 120 + 3 * user_count / TELEGRAM_RATE
    figures = run(user_count, args.replicas, args.database_url, timeout)
    for name, value in figures.items():
        print(f"{name}: {value}")
    return 0 if figures["lost"] == 0 and figures["duplicated"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
