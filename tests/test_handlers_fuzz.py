"""Property-based fuzzing of the update handlers: the real Application, in process.

Whatever arrives (random Unicode, huge texts, HTML, odd callback data, updates missing
fields), the bot either answers with valid Telegram HTML or stays quiet; it never crashes.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.config import Settings
from bot.decks.loader import BUNDLED_CARDS
from bot.telegram.app import build_application
from tests.fakebotapi.markup import parse_html
from tests.fakenet import FakeNetwork, button_update, text_update


class InProcessBot:
    """One Application on its own event loop, shared by every example of a test."""

    def __init__(self, database: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.network = FakeNetwork()
        self.errors: list[BaseException] = []
        config = Settings(
            token="123456:fuzz",
            database_url=f"sqlite+aiosqlite:///{database}",
            cards=(BUNDLED_CARDS,),
        )
        self.application = build_application(config, request=self.network, rate_limit=False)

        async def remember(update: object, context: Any) -> None:
            self.errors.append(context.error)

        self.application.add_error_handler(remember)
        self.loop.run_until_complete(self._start())

    async def _start(self) -> None:
        await self.application.initialize()
        await self.application.post_init(self.application)  # type: ignore[misc]

    def handle(self, raw: dict[str, Any]) -> None:
        sent_before = len(self.network.sent)
        update = Update.de_json(raw, self.application.bot)
        self.loop.run_until_complete(self.application.process_update(update))
        for call in self.network.sent[sent_before:]:
            if call.get("parse_mode") == "HTML":
                parse_html(str(call["text"]))  # raises like Telegram on broken HTML
            assert len(str(call["text"])) <= 4096 + 200

    def close(self) -> None:
        async def stop() -> None:
            await self.application.post_shutdown(self.application)  # type: ignore[misc]
            await self.application.shutdown()

        self.loop.run_until_complete(stop())
        self.loop.close()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessBot]:
    runner = InProcessBot(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    yield runner
    runner.close()


_users = itertools.count(500)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
texts = st.one_of(
    st.text(min_size=0, max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=4000, max_size=4096),
    st.sampled_from(["<b>x</b>", "&amp; & <", "/quiz", "/quiz 9999", "/quiz abc", "/start@X"]),
)


@FUZZ
@given(text=texts)
def test_any_text_during_a_round_gets_valid_html_or_nothing(bot: InProcessBot, text: str) -> None:
    user = next(_users)
    bot.handle(text_update(user, "/quiz 3"))
    bot.handle(text_update(user, text))
    assert bot.errors == []


@FUZZ
@given(data=st.text(max_size=64))
def test_any_callback_data_is_handled_without_an_error(bot: InProcessBot, data: str) -> None:
    user = next(_users)
    bot.handle(text_update(user, "/quiz 2"))
    bot.handle(button_update(user, data))
    assert bot.errors == []


@FUZZ
@given(
    name=st.text(min_size=1, max_size=64),
    drop=st.sets(st.sampled_from(["text", "from", "entities", "date"]), max_size=2),
)
def test_updates_with_odd_names_or_missing_fields_never_crash_a_handler(
    bot: InProcessBot, name: str, drop: set[str]
) -> None:
    raw = text_update(next(_users), "/start", first_name=name)
    for field in drop - {"date"}:
        raw["message"].pop(field, None)
    bot.handle(raw)
    assert bot.errors == []
