"""Updates run concurrently across chats and in order within one chat."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Update

from bot.telegram.ordering import (
    MAX_CONCURRENT_UPDATES,
    PerChatUpdateProcessor,
    concurrency_for,
    ordering_key,
)
from tests.fakenet import button_update, text_update


@pytest.mark.parametrize(
    ("url", "concurrency"),
    [
        ("sqlite+aiosqlite:///quizbot.db", MAX_CONCURRENT_UPDATES),
        ("sqlite+aiosqlite:////data/quizbot.db", MAX_CONCURRENT_UPDATES),
        ("postgresql+asyncpg://bot@db/quiz", MAX_CONCURRENT_UPDATES),
        ("sqlite+aiosqlite://", 1),  # in memory: one aiosqlite connection
        ("sqlite+aiosqlite:///:memory:", 1),
    ],
)
def test_chats_overlap_on_every_database_but_an_in_memory_one(url: str, concurrency: int) -> None:
    assert concurrency_for(url) == concurrency


def test_an_update_is_ordered_by_its_chat_and_other_objects_are_not() -> None:
    assert ordering_key(Update.de_json(text_update(41, "hi"), None)) == 41
    assert ordering_key(Update.de_json(button_update(42, "q:n:1:0"), None)) == 42
    assert ordering_key(Update(update_id=5)) is None
    assert ordering_key("not an update") is None


async def test_one_chats_updates_run_in_order_while_other_chats_overlap() -> None:
    processor = PerChatUpdateProcessor(8)
    log: list[str] = []
    running = 0
    most_at_once = 0

    async def handle(name: str, seconds: float) -> None:
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        log.append(f"start {name}")
        await asyncio.sleep(seconds)
        log.append(f"end {name}")
        running -= 1

    updates = [
        (Update.de_json(text_update(1, "first"), None), "ann-1", 0.05),
        (Update.de_json(text_update(1, "second"), None), "ann-2", 0.0),
        (Update.de_json(text_update(2, "hello"), None), "bob-1", 0.01),
    ]
    await asyncio.gather(
        *(processor.process_update(update, handle(name, delay)) for update, name, delay in updates)
    )
    assert log.index("end ann-1") < log.index("start ann-2")  # Ann's answer, then her Next
    assert log.index("end bob-1") < log.index("end ann-1")  # Bob did not wait for Ann
    assert most_at_once == 2
    assert processor._locks == {}  # nothing kept once a chat is idle
