"""``quizbot run``: settings, a clear word when something is missing, then long polling."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.cards import DeckError, load_decks
from bot.config import ConfigError, Settings, parse_paths
from bot.logsetup import configure_logging

if TYPE_CHECKING:
    from telegram.ext import Application

NO_TOKEN = """\
quizbot needs a Telegram bot token to run. Open Telegram, talk to @BotFather, send /newbot, \
and follow its steps; it gives you a token like 123456789:AAF... Then run \
`TELEGRAM_BOT_TOKEN=<your token> quizbot run` (or pass --token). To try the deck offline \
without a token, run `quizbot practice`."""

log = logging.getLogger("bot")


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def run_bot(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env().with_overrides(
            token=args.token,
            database_url=args.database_url,
            cards=tuple(parse_paths(args.cards)) if args.cards else None,
            api_base_url=args.api_base_url.rstrip("/") if args.api_base_url else None,
            log_level=args.log_level.upper() if args.log_level else None,
        )
    except ConfigError as problem:
        print(f"quizbot: {problem}", file=sys.stderr)
        return 2
    if not settings.token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    try:
        make_url(settings.database_url)
    except ArgumentError:
        print(
            "quizbot: DATABASE_URL is not a valid SQLAlchemy URL, for example "
            "sqlite+aiosqlite:///quizbot.db or postgresql+asyncpg://user@host/db",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.log_level, [settings.token])
    try:
        decks = load_decks(list(settings.cards))
    except DeckError as problem:
        print("quizbot: the card bank has problems:", file=sys.stderr)
        for line in problem.problems:
            print(f"  {line}", file=sys.stderr)
        return 1

    from telegram.error import InvalidToken, TelegramError

    from bot.telegram_app import build_application

    application = build_application(settings, decks=decks)
    log.info(
        "starting: database %s, decks %s, Bot API %s",
        safe_url(settings.database_url),
        ", ".join(deck.id for deck in decks),
        settings.api_base_url,
    )
    try:
        asyncio.run(serve(application))
    except (SQLAlchemyError, OSError) as problem:
        print(
            f"quizbot: cannot use the database at {safe_url(settings.database_url)}: "
            f"{problem.__class__.__name__}: {str(problem).splitlines()[0][:300]}",
            file=sys.stderr,
        )
        return 3
    except InvalidToken:
        print(
            "quizbot: Telegram rejected the bot token. Check TELEGRAM_BOT_TOKEN.", file=sys.stderr
        )
        return 2
    except TelegramError as problem:
        print(f"quizbot: Telegram error at start-up: {problem}", file=sys.stderr)
        return 4
    return 0


async def serve(application: Application) -> None:
    """Run until SIGINT or SIGTERM: initialise, start, poll, then finish the queue and close.

    PTB's run_polling would confirm updates before they are handled; our pump keeps them in
    the database first (see bot.pump).
    """
    runtime = application.bot_data["runtime"]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.bot.delete_webhook()
        await application.start()
        poller = asyncio.create_task(runtime.pump.poll())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({poller, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (poller, stopper):
            task.cancel()
        await asyncio.gather(poller, stopper, return_exceptions=True)
        log.info("Stopping: finishing the updates in hand")
        await application.stop()
        await runtime.pump.confirm()
        if poller.done() and not poller.cancelled() and poller.exception() is not None:
            raise poller.exception()  # type: ignore[misc]
    finally:
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def run_health(args: argparse.Namespace) -> int:
    """Exit 0 when the configured database answers a query; used by the Docker HEALTHCHECK."""
    from bot.storage import create_engine_for

    url = args.database_url or Settings.from_env().database_url

    async def ping() -> None:
        engine = create_engine_for(url)
        try:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        finally:
            await engine.dispose()

    try:
        asyncio.run(asyncio.wait_for(ping(), timeout=10))
    except (SQLAlchemyError, OSError, TimeoutError) as problem:
        print(f"unhealthy: database {safe_url(url)}: {problem.__class__.__name__}", file=sys.stderr)
        return 1
    print("ok")
    return 0
