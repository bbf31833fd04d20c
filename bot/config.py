"""Settings, read from the environment in one place (command-line flags override them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.core.challenge import ChallengeLimits
from bot.core.deckquota import DeckQuota
from bot.decks.loader import BUNDLED_CARDS, CARDS_SETTING
from bot.decks.loader import parse_cards_setting as parse_paths

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///quizbot.db"
DEFAULT_API_BASE_URL = "https://api.telegram.org"


def card_paths(env: Mapping[str, str] | None = None) -> list[Path]:
    """The decks to load: QUIZBOT_CARDS (files or folders), else the bundled cards.yaml."""
    env = os.environ if env is None else env
    return parse_paths(env.get(CARDS_SETTING, "")) or [BUNDLED_CARDS]


def practice_db_path(env: Mapping[str, str] | None = None) -> Path:
    """Where ``quizbot practice`` keeps its SQLite file: QUIZBOT_PRACTICE_DB, else ~/.quizbot."""
    env = os.environ if env is None else env
    configured = env.get("QUIZBOT_PRACTICE_DB")
    return Path(configured) if configured else Path.home() / ".quizbot" / "practice.db"


class ConfigError(Exception):
    """A setting is missing or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class ReviewOptions:
    """Settings of the review feature.

    ``QUIZBOT_FSRS_FUZZ`` (default on) switches FSRS interval fuzzing; tests turn it off.
    ``QUIZBOT_CLOCK_OFFSET_SECONDS`` (tests only) shifts the bot's clock, so an end-to-end test
    can make a reminder fall due now while the real JobQueue schedules it.
    """

    fuzzing: bool = True
    clock_offset_seconds: float = 0.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ReviewOptions:
        fuzz = (env.get("QUIZBOT_FSRS_FUZZ") or "1").strip().lower()
        if fuzz not in {"0", "1", "true", "false", "on", "off", "yes", "no"}:
            raise ConfigError("QUIZBOT_FSRS_FUZZ must be 1 or 0.")
        offset_text = (env.get("QUIZBOT_CLOCK_OFFSET_SECONDS") or "0").strip()
        try:
            offset = float(offset_text)
        except ValueError:
            raise ConfigError("QUIZBOT_CLOCK_OFFSET_SECONDS must be a number of seconds.") from None
        return cls(fuzzing=fuzz in {"1", "true", "on", "yes"}, clock_offset_seconds=offset)


def deck_quota_from_env(env: Mapping[str, str]) -> DeckQuota:
    """Per-user limits on decks uploaded in the chat; each a positive whole number."""
    defaults = DeckQuota()
    values: dict[str, int] = {}
    for name, field_name in (
        ("QUIZBOT_MAX_DECKS_PER_USER", "decks_per_user"),
        ("QUIZBOT_UPLOADS_PER_HOUR", "uploads_per_hour"),
        ("QUIZBOT_MAX_UPLOAD_BYTES", "max_file_bytes"),
        ("QUIZBOT_MAX_DECK_CARDS", "max_cards"),
    ):
        text = (env.get(name) or str(getattr(defaults, field_name))).strip()
        if not text.isdigit() or int(text) < 1:
            raise ConfigError(f"{name} must be a positive whole number, not {text!r}.")
        values[field_name] = int(text)
    return DeckQuota(**values)


def _positive_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ConfigError(f"{name} must be a positive number of seconds, not {text!r}.")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the bot needs to start, and nothing read from anywhere else."""

    token: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    cards: tuple[Path, ...] = (BUNDLED_CARDS,)
    api_base_url: str = DEFAULT_API_BASE_URL
    log_level: str = "INFO"
    admins: frozenset[int] = field(default_factory=frozenset)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    listen: str = "0.0.0.0"
    port: int = 8080
    challenges: ChallengeLimits = field(default_factory=ChallengeLimits)
    reviews: ReviewOptions = field(default_factory=ReviewOptions)
    decks: DeckQuota = field(default_factory=DeckQuota)
    #: How long the replica sending reminders and broadcasts holds that role unrenewed.
    send_lease_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        cards = card_paths(env)
        admins: set[int] = set()
        for part in env.get("QUIZBOT_ADMINS", "").replace(",", " ").split():
            if not part.lstrip("-").isdigit():
                raise ConfigError(f"QUIZBOT_ADMINS must list numeric user ids, not {part!r}.")
            admins.add(int(part))
        port_text = env.get("PORT") or "8080"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"PORT must be a port number, not {port_text!r}.")
        return cls(
            webhook_url=env.get("WEBHOOK_URL") or None,
            webhook_secret=env.get("WEBHOOK_SECRET") or None,
            listen=env.get("QUIZBOT_LISTEN") or "0.0.0.0",
            port=int(port_text),
            token=env.get("TELEGRAM_BOT_TOKEN") or None,
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            cards=tuple(cards),
            api_base_url=(env.get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL).rstrip("/"),
            log_level=(env.get("QUIZBOT_LOG_LEVEL") or "INFO").upper(),
            admins=frozenset(admins),
            challenges=ChallengeLimits.from_env(env),
            reviews=ReviewOptions.from_env(env),
            decks=deck_quota_from_env(env),
            send_lease_seconds=_positive_seconds(env, "QUIZBOT_SEND_LEASE_SECONDS", 10.0),
        )

    def with_overrides(self, **overrides: object) -> Settings:
        """Apply command-line flags that were given (None means "not given")."""
        given = {name: value for name, value in overrides.items() if value is not None}
        return replace(self, **given)  # type: ignore[arg-type]
