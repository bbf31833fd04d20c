"""Schema versions: a new database is created whole, an existing one upgraded in order."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateColumn

from bot.storage.schema import answers, metadata, schema_versions, users

log = logging.getLogger(__name__)

# --- schema versions --------------------------------------------------------------------------

Migration = Callable[[Connection], None]


def _add_response_seconds(conn: Connection) -> None:
    columns = {column["name"] for column in inspect(conn).get_columns("answers")}
    if "response_seconds" not in columns:
        conn.execute(text("ALTER TABLE answers ADD COLUMN response_seconds FLOAT"))


def _create_missing_tables(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


def _add_columns(table_name: str, *names: str) -> Migration:
    """A migration adding these (nullable) columns, as ``metadata`` declares them."""

    def migration(conn: Connection) -> None:
        inspector = inspect(conn)
        if not inspector.has_table(table_name):
            return  # created whole by a later create_all
        present = {column["name"] for column in inspector.get_columns(table_name)}
        for name in names:
            if name not in present:
                column = metadata.tables[table_name].c[name]
                table = conn.dialect.identifier_preparer.format_table(column.table)
                definition = CreateColumn(column).compile(dialect=conn.dialect)
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {definition}"))

    return migration


def _streak_days_to_local_days(conn: Connection) -> None:
    """Streak days used to be UTC days; they are now the user's own days.

    For each user with a time zone, the day of their last answer is re-read in that zone, so
    that the upgrade neither breaks nor stretches a running streak.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    settings = metadata.tables.get("study_settings")
    if settings is None or not inspect(conn).has_table("study_settings"):
        return
    last_answer = (
        select(func.max(answers.c.answered_at))
        .where(answers.c.user_id == users.c.user_id)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(users.c.user_id, users.c.streak_last_day, settings.c.timezone, last_answer)
        .join(settings, settings.c.chat_id == users.c.user_id)
        .where(settings.c.timezone.is_not(None), users.c.streak_last_day.is_not(None))
    ).all()
    for user_id, last_day, timezone, answered_at in rows:
        if answered_at is None:
            continue
        if answered_at.tzinfo is None:
            answered_at = answered_at.replace(tzinfo=UTC)
        answered_at = answered_at.astimezone(UTC)
        if answered_at.date() != last_day:
            continue  # not the answer that set the day: leave it
        try:
            local_day = answered_at.astimezone(ZoneInfo(timezone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            continue
        conn.execute(
            update(users).where(users.c.user_id == user_id).values(streak_last_day=local_day)
        )


def _replicas(conn: Connection) -> None:
    """Reply marks on update claims; the bulk-send lease and shared flood windows tables."""
    _add_columns("processed_updates", "replied_at")(conn)
    _create_missing_tables(conn)


#: Modules that define more tables on ``metadata``; imported before the schema is checked.
TABLE_MODULES = ("bot.storage.group", "bot.storage.review", "bot.storage.decks")


def load_table_modules() -> None:
    for name in TABLE_MODULES:
        importlib.import_module(name)


#: Ordered schema changes. A new database is created from ``metadata`` and stamped with the
#: latest version; an existing one runs every migration newer than its stamp, in order.
MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "initial schema", lambda conn: None),
    (2, "answers.response_seconds", _add_response_seconds),
    (3, "group challenge tables", _create_missing_tables),
    (4, "review and reminder tables", _create_missing_tables),
    (5, "update inbox and bot state", _create_missing_tables),
    (
        6,
        "challenge posting claims",
        _add_columns("challenges", "posting_step", "posting_by", "posting_until", "paused_until"),
    ),
    (7, "streak days in the user's time zone", _streak_days_to_local_days),
    (8, "replicas: reply marks, bulk-send lease, flood windows", _replicas),
    (9, "user decks", _create_missing_tables),
    (
        10,
        "replicas: the reply each claimed update owes",
        _add_columns("processed_updates", "reply"),
    ),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


#: The PostgreSQL advisory lock that lets one process at a time upgrade the schema
#: (any fixed number; "quizbot" in ASCII).
MIGRATION_LOCK_KEY = 0x717569636B626F74


def _serialise(conn: Connection) -> None:
    """Wait until no other process is upgrading the schema; held until this transaction ends.

    Replicas started together on an empty PostgreSQL database would otherwise all create the
    tables at once, and all but one fail on PostgreSQL's catalogue (pg_type) unique index.
    The lock is taken first, so the schema is inspected only after the other upgrade has
    committed: the next replica then finds it up to date. SQLite's BEGIN IMMEDIATE (see
    ``bot.storage.base``) already serialises writers.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def _migrate(conn: Connection) -> int:
    """Bring the schema to ``SCHEMA_VERSION``; return the version the database had before."""
    _serialise(conn)
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    now = datetime.now(UTC)
    if "users" not in existing:
        metadata.create_all(conn)
        conn.execute(
            schema_versions.insert(),
            [{"version": v, "name": name, "applied_at": now} for v, name, _ in MIGRATIONS],
        )
        return 0
    if "schema_versions" not in existing:
        schema_versions.create(conn)
        conn.execute(
            schema_versions.insert().values(version=1, name=MIGRATIONS[0][1], applied_at=now)
        )
    current = conn.execute(select(func.max(schema_versions.c.version))).scalar_one() or 0
    for version, name, migration in MIGRATIONS:
        if version > current:
            log.info("Upgrading the database schema to version %d (%s)", version, name)
            migration(conn)
            conn.execute(
                schema_versions.insert().values(version=version, name=name, applied_at=now)
            )
    # Tables added by later versions (never altered ones) are created here as well.
    metadata.create_all(conn, checkfirst=True)
    return current
