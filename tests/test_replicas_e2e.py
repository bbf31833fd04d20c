"""Several replicas on one PostgreSQL database: start-up, the shared send budget, replies sent
once, and the health check of the running process. Real ``quizbot run`` processes throughout."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.reminder_fanout import FIRE, REMINDER_MARK, seed
from bot.config import Settings
from bot.core.throttle import LIMIT as THROTTLE_LIMIT
from bot.decks.loader import BUNDLED_CARDS
from bot.storage.migrations import SCHEMA_VERSION
from bot.storage.review import reminder_sends
from bot.storage.schema import schema_versions, send_leases
from bot.telegram.runner import health_url
from tests.e2e import ANSWERS, PUBLIC_URL, ROOT, bot_env, free_port, question_text, webhook_env
from tests.fakebotapi import BotProcess, FakeBotApi, FakeUser, RateLimits, running_fake_bot_api

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


def webhook_replica(
    stack: ExitStack, api: FakeBotApi, url: str, cards: Path, port: int, **extra: str
) -> BotProcess:
    bot = stack.enter_context(BotProcess(webhook_env(api, url, cards, port, **extra), cwd=ROOT))
    start_webhook_replica(api, bot)
    return bot


def start_webhook_replica(api: FakeBotApi, bot: BotProcess) -> None:
    mark = api.call_count()
    bot.start()
    api.wait_for_call("setWebhook", after=mark, timeout=30)


def hook(port: int) -> str:
    return f"http://127.0.0.1:{port}/telegram-hook"


def feedback_count(api: FakeBotApi, user: FakeUser) -> int:
    return sum("Correct" in text for text in api.sent_texts(user))


def test_an_answer_redelivered_to_the_other_replica_is_not_answered_again(
    api: FakeBotApi, ann: FakeUser, fresh_postgres_url: str, mini_cards: Path
) -> None:
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        for port in ports:
            webhook_replica(stack, api, fresh_postgres_url, mini_cards, port)
        api.route_webhook_to(hook(ports[0]))
        api.send_text(ann, "/quiz 2")
        question = api.wait_for_message(ann, contains="Question 1/2", timeout=20)
        update_id = api.send_text(ann, ANSWERS[question_text(question)])
        api.wait_for_message(ann, contains="Correct", timeout=20)
        for port in ports:  # a webhook retry reaches the other replica, then the same one
            api.route_webhook_to(hook(port))
            api.redeliver(update_id)
            api.wait_until_updates_consumed(timeout=20)
        api.send_text(ann, "/score")
        score = api.wait_for_message(ann, contains="your score", timeout=20)
        assert "Points: 10" in (score.text or "")
        assert feedback_count(api, ann) == 1


@pytest.mark.parametrize(
    ("step", "reply"),
    [("an answer", "Correct"), ("Next", "Question 2/2"), ("/stop", "Round over")],
)
def test_a_replica_killed_between_a_steps_effects_and_its_reply_sends_it_once(
    api: FakeBotApi,
    ann: FakeUser,
    fresh_postgres_url: str,
    mini_cards: Path,
    step: str,
    reply: str,
) -> None:
    """The step's effects commit (the answer scored, the round moved on or stopped), then its
    reply cannot get out and the replica dies. The replica started in its place finds the
    update in the inbox, counts nothing again, and sends the reply it never sent, from the
    stored round (a button press answered already does not stop it); the other replica, given
    the update again, stays quiet."""
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        dying, other = (
            webhook_replica(stack, api, fresh_postgres_url, mini_cards, port) for port in ports
        )
        api.route_webhook_to(hook(ports[0]))
        api.send_text(ann, "/quiz 2")
        question = api.wait_for_message(ann, contains="Question 1/2", timeout=20)
        answer = ANSWERS[question_text(question)]
        if step != "an answer":
            api.send_text(ann, answer)
            feedback = api.wait_for_message(ann, contains="Correct", timeout=20)
        mark = api.call_count()
        api.fail_next("sendMessage", 502, count=50)  # nothing gets out, nothing is delivered
        if step == "Next":
            api.click_button(ann, feedback, step)
            update_id = api.last_update_id()
        else:
            update_id = api.send_text(ann, answer if step == "an answer" else step)
        api.wait_for_call("sendMessage", after=mark, timeout=20)
        dying.kill()
        api.clear_faults()

        def replies() -> int:
            return sum(reply in text for text in api.sent_texts(ann))

        assert replies() == 0
        start_webhook_replica(api, dying)  # the orchestrator starts a new one
        api.wait_for_message(ann, contains=reply, timeout=30)
        api.route_webhook_to(hook(ports[1]))
        api.redeliver(update_id)
        api.wait_until_updates_consumed(timeout=20)
        api.send_text(ann, "/score")
        score = api.wait_for_message(ann, contains="your score", timeout=20)
        assert "Points: 10" in (score.text or "")
        assert "Answered: 1 " in (score.text or "")
        assert replies() == 1
        assert not any("went wrong" in text for text in api.sent_texts(ann))
        assert other.running


def test_a_flooder_spread_over_two_replicas_gets_the_allowance_of_one_bot(
    api: FakeBotApi, ann: FakeUser, fresh_postgres_url: str, mini_cards: Path
) -> None:
    """30 messages in a few seconds, alternating between replicas: each replica alone sees
    15, under the limit of 20 in 10 s, but the window they share counts all 30."""
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        for port in ports:
            webhook_replica(stack, api, fresh_postgres_url, mini_cards, port)
        for number in range(30):
            api.route_webhook_to(hook(ports[number % 2]))
            api.send_text(ann, "/help")
            api.wait_until_updates_consumed(timeout=20)
        api.wait_for_message(ann, contains="sending messages very fast", timeout=20)
        time.sleep(1.0)
        texts = api.sent_texts(ann)
    assert sum("sending messages very fast" in text for text in texts) == 1
    assert len(texts) == THROTTLE_LIMIT + 1


# --- the deployment-wide send budget ----------------------------------------------------------

#: Seconds between starting the replicas and 09:00 on their clocks: enough to start up.
LEAD_SECONDS = 8.0


def reminder_replicas(
    stack: ExitStack, api: FakeBotApi, url: str, users: int, **extra: str
) -> tuple[list[FakeUser], list[BotProcess], float]:
    """Two webhook replicas whose clocks reach 09:00 (when ``users`` reminders fall due)
    LEAD_SECONDS from now; returns the users, the replicas, and 09:00 in wall-clock time."""
    people = [api.add_user(f"User {number}") for number in range(users)]
    asyncio.run(seed(url, [person.id for person in people]))
    fire_wall = time.time() + LEAD_SECONDS
    offset = (FIRE - datetime.fromtimestamp(fire_wall, UTC)).total_seconds()
    env = {"QUIZBOT_CLOCK_OFFSET_SECONDS": f"{offset:.3f}"} | extra
    bots = [webhook_replica(stack, api, url, BUNDLED_CARDS, free_port(), **env) for _ in "ab"]
    return people, bots, fire_wall


def reminders_per_user(api: FakeBotApi, people: list[FakeUser]) -> list[int]:
    delivered = Counter(
        call.int_param("chat_id")
        for call in api.calls("sendMessage")
        if call.ok and REMINDER_MARK in (call.params.get("text") or "")
    )
    return [delivered[person.id] for person in people]


def test_two_replicas_send_due_reminders_within_telegrams_limit_for_the_bot_together(
    fresh_postgres_url: str,
) -> None:
    """Each replica would pace itself at 28/s; together they would be answered with 429s. One
    holds the bulk lease and sends them all, at 28/s for the deployment."""
    users = 90
    with running_fake_bot_api(rate_limits=RateLimits()) as api, ExitStack() as stack:
        people, bots, _ = reminder_replicas(stack, api, fresh_postgres_url, users)
        api.wait_for(lambda: all(reminders_per_user(api, people)), timeout=60)
        time.sleep(2.0)  # anything sent twice would arrive now
        assert all(bot.running for bot in bots)
    assert reminders_per_user(api, people) == [1] * users
    assert [call.status for call in api.calls() if call.status == 429] == []
    seconds = Counter(int(call.wall_time) for call in api.calls("sendMessage"))
    assert max(seconds.values()) <= 30


def test_when_the_sending_replica_dies_the_other_takes_over_and_sends_nothing_twice(
    fresh_postgres_url: str,
) -> None:
    users = 150
    with running_fake_bot_api(rate_limits=RateLimits()) as api, ExitStack() as stack:
        people, bots, _ = reminder_replicas(
            stack, api, fresh_postgres_url, users, QUIZBOT_SEND_LEASE_SECONDS="2"
        )
        api.wait_for(lambda: sum(reminders_per_user(api, people)) >= 30, timeout=60)
        holder = asyncio.run(lease_holder(fresh_postgres_url))
        (sender,) = [bot for bot in bots if f":{bot.pid}:" in holder]
        sender.kill()
        at_kill = sum(reminders_per_user(api, people))
        (survivor,) = [bot for bot in bots if bot is not sender]

        def settled() -> bool:
            statuses = asyncio.run(send_statuses(fresh_postgres_url))
            return statuses.get("sent", 0) + statuses.get("unknown", 0) == users

        deadline = time.monotonic() + 60
        while not settled():  # polled here: the fake's wait_for would hold its lock meanwhile
            assert time.monotonic() < deadline, asyncio.run(send_statuses(fresh_postgres_url))
            time.sleep(0.5)
        time.sleep(2.0)
        assert survivor.running
        assert "not sent again" in survivor.logs()
    received = reminders_per_user(api, people)
    assert max(received) == 1  # none twice
    assert sum(received) > at_kill + 30  # the survivor sent the rest
    statuses = asyncio.run(send_statuses(fresh_postgres_url))
    # What the dead replica had claimed but not confirmed is not sent again (at most once):
    # some of it reached Telegram before the kill, the rest is not sent at all.
    assert statuses["sent"] <= sum(received) <= statuses["sent"] + statuses["unknown"]


async def lease_holder(url: str) -> str:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(select(send_leases.c.holder))).scalar_one()
    finally:
        await engine.dispose()


async def send_statuses(url: str) -> Counter[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(reminder_sends.c.status))
            return Counter(row.status for row in rows)
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("listen", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8443/healthz"),
        ("::", "http://127.0.0.1:8443/healthz"),
        ("10.0.0.5", "http://10.0.0.5:8443/healthz"),
        ("::1", "http://[::1]:8443/healthz"),
    ],
)
def test_the_health_check_asks_where_the_webhook_server_listens(listen: str, url: str) -> None:
    settings = Settings(webhook_url=PUBLIC_URL, listen=listen, port=8443)
    assert health_url(settings) == url


def test_with_polling_the_health_check_asks_the_database(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'q.db'}", "WEBHOOK_URL": ""}
    checked = quizbot_health(env, timeout=5)
    assert (checked.returncode, checked.stdout.strip()) == (0, "ok")
