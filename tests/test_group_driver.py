"""The challenge driver in-process, on a real store (SQLite and PostgreSQL), with a fake bot.

The fake bot's sends can be slow or stuck, as PTB's rate limiter and flood waits make them;
the fake job queue only records jobs. The clock is the real one: the leases are short.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.challenge import ChallengeLimits, ChallengeRequest
from bot.services.group import ChallengeStarted, GroupService, ShowQuestion, Wait, WaitForClose
from bot.storage.base import Store
from bot.telegram.group import SERVICE_KEY, ChallengeDriver
from tests.test_group_service import ANN, DECK

#: A short lease, so a send outlasts it within a test.
LEASE_SECONDS = 0.6


def clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class FakeMessage:
    chat_id: int
    message_id: int


@dataclass
class FakeBot:
    """Sends take ``delay`` seconds; a send to a chat in ``stuck`` waits until it is released.
    ``sending`` is set once a send has begun (the message was claimed)."""

    delay: float = 0.0
    stuck: dict[int, asyncio.Event] = field(default_factory=dict)
    attempts: list[int] = field(default_factory=list)
    sent: list[tuple[int, str]] = field(default_factory=list)
    sending: asyncio.Event = field(default_factory=asyncio.Event)

    async def send_message(self, chat_id: int, text: str, **_: Any) -> FakeMessage:
        self.attempts.append(chat_id)
        self.sending.set()
        if chat_id in self.stuck:
            await self.stuck[chat_id].wait()
        await asyncio.sleep(self.delay)
        self.sent.append((chat_id, text))
        return FakeMessage(chat_id, 100 + len(self.sent))

    def sent_to(self, chat_id: int) -> list[str]:
        return [text for chat, text in self.sent if chat == chat_id]


@dataclass
class FakeJob:
    name: str
    queue: FakeJobQueue

    def schedule_removal(self) -> None:
        self.queue.scheduled.pop(self.name, None)


@dataclass
class FakeJobQueue:
    """Remembers the jobs by name; never runs them."""

    scheduled: dict[str, Any] = field(default_factory=dict)

    def get_jobs_by_name(self, name: str) -> list[FakeJob]:
        return [FakeJob(name, self)] if name in self.scheduled else []

    def jobs(self, pattern: str) -> list[FakeJob]:
        return [FakeJob(name, self) for name in self.scheduled if re.match(pattern, name)]

    def run_once(self, callback: Any, when: Any, *, name: str, **_: Any) -> None:
        self.scheduled[name] = (callback, when)

    def run_repeating(self, callback: Any, interval: float, *, name: str, **_: Any) -> None:
        self.scheduled[name] = (callback, interval)


@dataclass
class FakeApplication:
    bot: FakeBot
    job_queue: FakeJobQueue = field(default_factory=FakeJobQueue)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def create_task(self, coroutine: Coroutine[Any, Any, Any], **kwargs: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, **kwargs)
        self.tasks.append(task)
        return task


@dataclass
class FakeRuntime:
    services: dict[str, Any]
    clock: Any = clock


def driver_for(service: GroupService, bot: FakeBot) -> ChallengeDriver:
    runtime = FakeRuntime({SERVICE_KEY: service})
    return ChallengeDriver(FakeApplication(bot), runtime, ChallengeLimits())  # type: ignore[arg-type]


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[tuple[GroupService, GroupService]]:
    """Two replicas with a short lease, each with its own store on the one database."""
    stores = [await Store.open(database_url) for _ in range(2)]
    try:
        yield tuple(  # type: ignore[misc]
            GroupService(
                store, [DECK], rng=random.Random(7), replica=name, lease_seconds=LEASE_SECONDS
            )
            for store, name in zip(stores, "ab", strict=True)
        )
    finally:
        for store in stores:
            await store.close()


async def start(service: GroupService, chat_id: int, update_id: int) -> int:
    started = await service.start_challenge(
        chat_id, "Study group", ANN, ChallengeRequest(1, 30), clock(), update_id
    )
    assert isinstance(started, ChallengeStarted)
    return started.challenge_id


async def test_a_send_slower_than_the_lease_keeps_its_claim_and_is_posted_once(
    replicas: tuple[GroupService, GroupService],
) -> None:
    """A's send waits out a rate limit for over three leases; A's driver renews the lease all
    along, so B, looking in again and again meanwhile, never gets the question to post."""
    a, b = replicas
    bot = FakeBot(delay=3.5 * LEASE_SECONDS)
    challenge_id = await start(a, -5001, 1)
    driving = asyncio.create_task(driver_for(a, bot).drive(challenge_id))
    await asyncio.wait_for(bot.sending.wait(), timeout=5)

    looks = 0
    while not driving.done():
        action = await b.advance(challenge_id, clock())
        if not bot.sent:  # (once A has sent and recorded it, B finds the question open)
            assert isinstance(action, Wait), action
            looks += 1
        else:
            assert isinstance(action, Wait | WaitForClose), action
        await asyncio.sleep(LEASE_SECONDS / 10)
    await driving

    assert looks > 10
    assert len(bot.sent_to(-5001)) == 1
    assert isinstance(await b.advance(challenge_id, clock()), WaitForClose)
    # The send is over: its claim is gone, and nothing renews it any more.
    assert not await a.renew_posting(challenge_id, "question 1", clock())


async def test_a_claim_outlives_no_send_once_it_ended(
    replicas: tuple[GroupService, GroupService],
) -> None:
    """A send cut short (cancelled) stops the renewals: B takes the question over after one
    lease, not never."""
    a, b = replicas
    bot = FakeBot(stuck={-5002: asyncio.Event()})
    challenge_id = await start(a, -5002, 1)
    driving = asyncio.create_task(driver_for(a, bot).drive(challenge_id))
    await asyncio.wait_for(bot.sending.wait(), timeout=5)
    driving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await driving

    await asyncio.sleep(1.5 * LEASE_SECONDS)
    assert isinstance(await b.advance(challenge_id, clock()), ShowQuestion)


async def test_a_stuck_drive_does_not_hold_up_adopting_other_challenges(
    replicas: tuple[GroupService, GroupService],
) -> None:
    """Two challenges started on a replica that went away: this one adopts both. Posting the
    first one's question hangs (a flood wait); the second one's is posted all the same, and the
    next adoption leaves the first one's drive, still under way, alone."""
    a, b = replicas
    stuck = asyncio.Event()
    bot = FakeBot(stuck={-5003: stuck})
    first = await start(a, -5003, 1)
    second = await start(a, -5004, 2)
    driver = driver_for(b, bot)

    application = driver.application
    assert isinstance(application, FakeApplication)

    await asyncio.wait_for(driver.adopt(), timeout=5)
    done, _ = await asyncio.wait(application.tasks, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    assert [task.get_name() for task in done] == [f"challenge:{second}:drive"]
    assert len(bot.sent_to(-5004)) == 1
    assert bot.sent_to(-5003) == []
    assert driver.jobs.jobs(f"^challenge:{second}:close")

    await asyncio.wait_for(driver.adopt(), timeout=5)
    assert len(application.tasks) == 2  # no second drive of the first one
    await asyncio.sleep(0.1)
    assert bot.attempts.count(-5003) == 1

    stuck.set()
    await asyncio.wait_for(asyncio.gather(*application.tasks), timeout=5)
    assert len(bot.sent_to(-5003)) == 1
    assert len(bot.sent_to(-5004)) == 1
    assert driver.jobs.jobs(f"^challenge:{first}:close")
