"""Shared fixtures: databases on SQLite and PostgreSQL, the bundled deck, a fixed clock."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.decks.loader import BUNDLED_CARDS, Deck, load_deck
from bot.storage.base import Store
from tests.fakebotapi import FakeBotApi, FakeUser, running_fake_bot_api

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
POSTGRES_URL = os.environ.get(
    "QUIZBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = bool(os.environ.get("CI"))


def _postgres_reachable() -> bool:
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=1):
            return True
    except OSError:
        return False


_POSTGRES_UP: bool | None = None


def require_postgres() -> None:
    """Skip (or, in CI, fail) when PostgreSQL is not there: CI must run these tests."""
    global _POSTGRES_UP
    if _POSTGRES_UP is None:
        _POSTGRES_UP = _postgres_reachable()
    if not _POSTGRES_UP:
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL} (set QUIZBOT_TEST_POSTGRES_URL)"
        if IN_CI:
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests")
        pytest.skip(reason)


async def _admin(statement: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL)
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _run(coroutine: object) -> None:
    """Run admin SQL from sync fixture code, even when a test loop exists in this thread."""
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)  # type: ignore[arg-type]
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy.engine import make_url

    require_postgres()
    name = f"quizbot_test_{uuid.uuid4().hex[:12]}"
    _run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage and bot test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'quizbot.db'}"
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """An open store on each database, closed after the test."""
    opened = await Store.open(database_url)
    yield opened
    await opened.close()


@pytest.fixture
def mini_cards(tmp_path: Path) -> Path:
    """The three-card deck of tests.e2e, as a YAML file."""
    import yaml

    from tests.e2e import MINI_DECK

    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(MINI_DECK), encoding="utf-8")
    return path


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    """A fake Telegram Bot API on 127.0.0.1 for one test."""
    with running_fake_bot_api() as api:
        yield api


@pytest.fixture
def ann(api: FakeBotApi) -> FakeUser:
    return api.add_user("Ann", username="ann")


@pytest.fixture(scope="session")
def deck() -> Deck:
    return load_deck(BUNDLED_CARDS)


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
