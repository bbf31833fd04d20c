"""``quizbot run``: settings, a clear word when something is missing, then long polling."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
import sys
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.config import ConfigError, Settings, parse_paths
from bot.decks.loader import DeckError, load_decks
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
            webhook_url=args.webhook_url,
            listen=args.listen,
            port=args.port,
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
    generated_secret = bool(settings.webhook_url and not settings.webhook_secret)
    if generated_secret:
        settings = settings.with_overrides(webhook_secret=secrets.token_urlsafe(32))
    configure_logging(settings.log_level, [settings.token, settings.webhook_secret or ""])
    if generated_secret:
        log.info("Webhook secret: none given in WEBHOOK_SECRET, so one was generated and set")
    try:
        decks = load_decks(list(settings.cards), isolate_large=True)
    except DeckError as problem:
        print("quizbot: the card bank has problems:", file=sys.stderr)
        for line in problem.problems:
            print(f"  {line}", file=sys.stderr)
        return 1

    from telegram.error import InvalidToken, TelegramError

    from bot.telegram.app import build_application

    application = build_application(settings, decks=decks)
    log.info(
        "starting: database %s, decks %s, Bot API %s",
        safe_url(settings.database_url),
        ", ".join(deck.id for deck in decks),
        settings.api_base_url,
    )
    try:
        asyncio.run(serve(application, settings))
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


async def serve(application: Application, settings: Settings) -> None:
    """Run until SIGINT or SIGTERM: initialise, start, receive, then finish the queue and close.

    We do not use PTB's run_polling/run_webhook: they acknowledge updates before they are
    handled, while our pump keeps them in the database first (see bot.telegram.pump).
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
        await application.start()
        if settings.webhook_url:
            await receive_webhooks(application, settings, stop)
            await application.stop()
            return
        await application.bot.delete_webhook()
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


async def receive_webhooks(
    application: Application, settings: Settings, stop: asyncio.Event
) -> None:
    """Serve the webhook endpoint until ``stop`` is set."""
    from aiohttp import web
    from telegram import Update

    from bot.telegram.webhook import build_web_app, webhook_path

    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    path = webhook_path(settings.webhook_url)
    web_app = build_web_app(
        application, application.bot_data["runtime"], settings.webhook_secret, path
    )
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.listen, settings.port).start()
        await application.bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
        log.info("Receiving webhook updates on %s:%d%s", settings.listen, settings.port, path)
        await stop.wait()
        log.info("Stopping: no new webhook requests; finishing the updates in hand")
    finally:
        await runner.cleanup()


def run_health(args: argparse.Namespace) -> int:
    """The Docker HEALTHCHECK: exit 0 when the bot is healthy.

    In webhook mode it asks the running process's ``/healthz`` (which answers from the bot's
    own event loop and pings the database), so a hung bot is seen as unhealthy. With polling
    there is no HTTP server, and it checks that the database answers a query.
    """
    try:
        settings = Settings.from_env().with_overrides(database_url=args.database_url)
    except ConfigError as problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    timeout = args.timeout
    if settings.webhook_url:
        return probe_healthz(health_url(settings), timeout)
    from bot.storage.base import ping_database

    url = settings.database_url
    try:
        asyncio.run(asyncio.wait_for(ping_database(url), timeout=timeout))
    except (SQLAlchemyError, OSError, TimeoutError) as problem:
        print(f"unhealthy: database {safe_url(url)}: {problem.__class__.__name__}", file=sys.stderr)
        return 1
    print("ok")
    return 0


def health_url(settings: Settings) -> str:
    """Where the running webhook server answers /healthz, seen from inside its container."""
    host = settings.listen
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/healthz"


def probe_healthz(url: str, timeout: float) -> int:
    """GET ``url``; 0 when it answers 200 within ``timeout`` seconds, else 1."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as problem:
        status = problem.code
    except (urllib.error.URLError, OSError, TimeoutError) as problem:
        print(f"unhealthy: {url}: {problem.__class__.__name__}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"unhealthy: {url} answered {status}", file=sys.stderr)
        return 1
    print("ok")
    return 0
