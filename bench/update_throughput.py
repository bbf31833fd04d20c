"""Update throughput: the real PTB Application handling updates from an in-process network.

A mixed load over many users: 80% text answers, 10% commands, 10% button presses, following
each user's real state (a Next press after feedback, a hint while a question is open). Prints
updates per second and the p50/p99 latency of one update, one figure per line.

    python bench/update_throughput.py [--quick] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.decks.loader import BUNDLED_CARDS  # noqa: E402
from bot.telegram.app import build_application  # noqa: E402
from tests.fakenet import FakeNetwork, button_update, text_update  # noqa: E402

#: A Bot API round trip from a server near Telegram's; every call of the last run takes this long.
API_LATENCY = 0.05

ANSWERS = [
    "throughput and latency",
    "partition the data, run copies of the model and sync the weights",
    "reduce-scatter then all-gather after computing fwd/bwd",
    "the CPU does preprocessing, GPUs train",
    "idk",
    "low utilisation because of sequential dependencies between layers",
]


class UserModel:
    """What the benchmark knows of one user's chat, to send plausible updates."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.round_id: int | None = None
        self.position = 0
        self.state = "none"  # none | asking | reviewing


async def run(
    updates: int,
    users: int,
    database_url: str,
    seed: int,
    concurrent: bool = False,
    api_latency: float = 0.0,
) -> dict[str, float]:
    network = FakeNetwork()
    settings = Settings(token="123456:bench", database_url=database_url, cards=(BUNDLED_CARDS,))
    # Telegram itself caps a bot at about 30 messages per second, which PTB's rate limiter
    # enforces; here we measure how many updates the bot can process, so it is off.
    application = build_application(settings, request=network, rate_limit=False)
    runtime = application.bot_data["runtime"]
    rng = random.Random(seed)
    await application.initialize()
    await application.post_init(application)  # type: ignore[misc]
    models = [UserModel(100_000 + index) for index in range(users)]

    async def handle(raw: dict) -> float:
        update = Update.de_json(raw, application.bot)
        started = time.perf_counter()
        await application.process_update(update)
        return time.perf_counter() - started

    async def sync_state(model: UserModel) -> None:
        question = await runtime.service.current_question(_profile(model), model.user_id)
        if question is not None:
            model.state, model.round_id, model.position = (
                "asking",
                question.round_id,
                question.position,
            )

    # Every user starts with a round open (not timed).
    for model in models:
        await handle(text_update(model.user_id, "/quiz 50"))
        await sync_state(model)

    # The load, generated up front from each user's state (one user's updates stay in order).
    kinds = {"answer": 0, "command": 0, "button": 0, "graded": 0}
    load: list[dict] = []
    for _ in range(updates):
        model = rng.choice(models)
        roll = rng.random()
        if roll < 0.8:
            kinds["answer"] += 1
            if model.state == "asking":
                kinds["graded"] += 1
                model.state = "reviewing"
            load.append(text_update(model.user_id, rng.choice(ANSWERS)))
        elif roll < 0.9:
            kinds["command"] += 1
            load.append(text_update(model.user_id, rng.choice(["/score", "/help", "/deck"])))
        else:
            kinds["button"] += 1
            action = "n" if model.state == "reviewing" else "h"
            data = f"q:{action}:{model.round_id}:{model.position}"
            load.append(button_update(model.user_id, data))
            if action == "n":
                model.position += 1
                model.state = "asking"

    if concurrent:
        # The way the running bot works: updates queued, handled concurrently per chat.
        network.latency = api_latency  # (set-up above ran without it)
        await application.start()
        started = time.perf_counter()
        for raw in load:
            await application.update_queue.put(Update.de_json(raw, application.bot))
        processor = application.update_processor
        # PTB offers no "all handled" event to wait on, so poll.
        while application.update_queue.qsize() or processor.current_concurrent_updates:  # noqa: ASYNC110
            await asyncio.sleep(0.002)
        elapsed = time.perf_counter() - started
        await application.stop()
        latencies = [elapsed / len(load)]
    else:
        latencies = []
        started = time.perf_counter()
        for raw in load:
            latencies.append(await handle(raw))
        elapsed = time.perf_counter() - started
    await application.post_shutdown(application)  # type: ignore[misc]
    await application.shutdown()
    latencies.sort()
    return {
        "updates": updates,
        "users": users,
        "updates_per_second": updates / elapsed,
        "latency_p50_ms": 1000 * statistics.median(latencies),
        "latency_p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "share_answers": kinds["answer"] / updates,
        "share_commands": kinds["command"] / updates,
        "share_buttons": kinds["button"] / updates,
        "share_answers_graded": kinds["graded"] / max(1, kinds["answer"]),
        "bot_api_calls": sum(network.calls.values()),
    }


def _profile(model: UserModel):
    from bot.storage.base import UserProfile

    return UserProfile(model.user_id, "User")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run, to check it works")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()
    updates, users = (300, 50) if args.quick else (args.updates, args.users)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        one_by_one = asyncio.run(run(updates, users, url, seed=1))
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        concurrent = asyncio.run(run(updates, users, url, seed=1, concurrent=True))
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        latent = asyncio.run(
            run(updates, users, url, seed=1, concurrent=True, api_latency=API_LATENCY)
        )
    print(f"database: {url.split(':')[0]}")
    for name, value in one_by_one.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")
    print(f"updates_per_second_concurrent_per_chat: {concurrent['updates_per_second']:.3f}")
    print(
        f"updates_per_second_concurrent_with_{API_LATENCY * 1000:.0f}ms_api_calls: "
        f"{latent['updates_per_second']:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
