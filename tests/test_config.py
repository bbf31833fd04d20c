"""Settings come from the environment in one place: bot.config.Settings.from_env."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, ReviewOptions, Settings, card_paths, practice_db_path
from bot.core.challenge import ChallengeLimits
from bot.decks.loader import BUNDLED_CARDS


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.token is None
    assert settings.database_url == "sqlite+aiosqlite:///quizbot.db"
    assert settings.cards == (BUNDLED_CARDS,)
    assert settings.api_base_url == "https://api.telegram.org"
    assert (settings.listen, settings.port, settings.webhook_url) == ("0.0.0.0", 8080, None)
    assert settings.admins == frozenset()
    assert settings.challenges == ChallengeLimits()
    assert settings.reviews == ReviewOptions()


def test_every_setting_is_read_from_the_environment(tmp_path: Path) -> None:
    deck = tmp_path / "deck.yaml"
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "DATABASE_URL": "postgresql+asyncpg://bot@db/quiz",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/",
            "QUIZBOT_CARDS": str(deck),
            "QUIZBOT_ADMINS": "7, 8",
            "QUIZBOT_LOG_LEVEL": "debug",
            "WEBHOOK_URL": "https://bot.example.com/hook",
            "WEBHOOK_SECRET": "s3cret",
            "PORT": "9000",
            "QUIZBOT_LISTEN": "127.0.0.1",
            "QUIZBOT_MIN_QUESTION_SECONDS": "2",
            "QUIZBOT_POSTING_LEASE_SECONDS": "5",
            "QUIZBOT_FSRS_FUZZ": "0",
            "QUIZBOT_CLOCK_OFFSET_SECONDS": "60",
        }
    )
    assert settings.token == "123:abc"
    assert settings.database_url == "postgresql+asyncpg://bot@db/quiz"
    assert settings.api_base_url == "http://127.0.0.1:8081"
    assert settings.cards == (deck,)
    assert settings.admins == frozenset({7, 8})
    assert settings.log_level == "DEBUG"
    assert (settings.webhook_url, settings.webhook_secret) == (
        "https://bot.example.com/hook",
        "s3cret",
    )
    assert (settings.listen, settings.port) == ("127.0.0.1", 9000)
    assert settings.challenges.min_seconds == 2
    assert settings.challenges.posting_lease_seconds == 5
    assert settings.reviews == ReviewOptions(fuzzing=False, clock_offset_seconds=60.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "http"}, "PORT must be a port number"),
        ({"PORT": "70000"}, "PORT must be a port number"),
        ({"QUIZBOT_ADMINS": "ann"}, "QUIZBOT_ADMINS must list numeric user ids"),
        ({"QUIZBOT_FSRS_FUZZ": "maybe"}, "QUIZBOT_FSRS_FUZZ must be 1 or 0"),
        ({"QUIZBOT_CLOCK_OFFSET_SECONDS": "soon"}, "must be a number of seconds"),
    ],
)
def test_a_malformed_setting_is_a_config_error_that_says_how_to_fix_it(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_the_deck_and_practice_paths_have_defaults_and_follow_the_environment(
    tmp_path: Path,
) -> None:
    assert card_paths({}) == [BUNDLED_CARDS]
    assert card_paths({"QUIZBOT_CARDS": f"{tmp_path / 'a.yaml'}:{tmp_path / 'b.yaml'}"}) == [
        tmp_path / "a.yaml",
        tmp_path / "b.yaml",
    ]
    assert practice_db_path({}) == Path.home() / ".quizbot" / "practice.db"
    assert practice_db_path({"QUIZBOT_PRACTICE_DB": str(tmp_path / "p.db")}) == tmp_path / "p.db"


def test_the_limits_on_users_decks_have_defaults_and_follow_the_environment() -> None:
    from bot.core.deckquota import DeckQuota

    assert Settings.from_env({}).decks == DeckQuota(
        decks_per_user=20, uploads_per_hour=10, max_file_bytes=2 * 1024 * 1024, max_cards=5000
    )
    settings = Settings.from_env(
        {
            "QUIZBOT_MAX_DECKS_PER_USER": "3",
            "QUIZBOT_UPLOADS_PER_HOUR": "4",
            "QUIZBOT_MAX_UPLOAD_BYTES": "1000",
            "QUIZBOT_MAX_DECK_CARDS": "50",
        }
    )
    assert settings.decks == DeckQuota(3, 4, 1000, 50)


@pytest.mark.parametrize(
    "name",
    [
        "QUIZBOT_MAX_DECKS_PER_USER",
        "QUIZBOT_UPLOADS_PER_HOUR",
        "QUIZBOT_MAX_UPLOAD_BYTES",
        "QUIZBOT_MAX_DECK_CARDS",
    ],
)
@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_a_deck_limit_that_is_no_positive_number_is_a_config_error(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be a positive whole number"):
        Settings.from_env({name: value})
