"""The ``quizbot`` command line: run the bot, practise in the terminal, check and import decks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quizbot",
        description="A Telegram flashcard quiz bot that grades free-text answers point by point.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run the Telegram bot (long polling)")
    run.add_argument("--token", help="bot token from @BotFather (env TELEGRAM_BOT_TOKEN)")
    run.add_argument("--database-url", help="SQLAlchemy URL (env DATABASE_URL)")
    run.add_argument("--cards", help="deck files or folders (env QUIZBOT_CARDS)")
    run.add_argument("--api-base-url", help="Bot API server root (env TELEGRAM_API_BASE_URL)")
    run.add_argument("--log-level", help="DEBUG, INFO, WARNING... (env QUIZBOT_LOG_LEVEL)")
    run.add_argument(
        "--webhook-url", help="run a webhook server for this public URL (env WEBHOOK_URL)"
    )
    run.add_argument("--listen", help="webhook server address (env QUIZBOT_LISTEN, 0.0.0.0)")
    run.add_argument("--port", type=int, help="webhook server port (env PORT, default 8080)")

    practice = commands.add_parser("practice", help="practise a deck in the terminal, no token")
    practice.add_argument("--deck", help="a deck id, or a YAML file (default: the first deck)")
    practice.add_argument("-n", "--cards", type=int, default=10, help="cards in the round")
    practice.add_argument("--cards-path", help="deck files or folders (env QUIZBOT_CARDS)")
    practice.add_argument(
        "--db", help="practice history file (env QUIZBOT_PRACTICE_DB, default ~/.quizbot/)"
    )

    health = commands.add_parser(
        "health", help="exit 0 when the bot is healthy (webhook: its /healthz; else the database)"
    )
    health.add_argument("--database-url", help="SQLAlchemy URL (env DATABASE_URL)")
    health.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (10)")

    check = commands.add_parser("check", help="validate card banks and summarise them")
    check.add_argument(
        "paths",
        nargs="*",
        help="YAML files or folders, or .apkg/.csv/.tsv/.txt decks (default: QUIZBOT_CARDS)",
    )

    importer = commands.add_parser("import", help="convert a text, CSV, TSV or Anki deck into YAML")
    importer.add_argument("file", help="a plain-text flashcard file, a CSV/TSV export or an .apkg")
    importer.add_argument("-o", "--output", help="where to write the YAML (default: stdout)")
    importer.add_argument("--deck-id", help="the new deck's id (default: from the file name)")
    importer.add_argument("--name", help="the new deck's name (default: from the file)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``quizbot`` console script; returns the process exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "run":
        from bot.telegram.runner import run_bot

        return run_bot(args)
    if args.command == "practice":
        from bot.practice import run_practice

        return run_practice(args, stdin=sys.stdin, out=sys.stdout)
    if args.command == "health":
        from bot.telegram.runner import run_health

        return run_health(args)
    if args.command == "check":
        from bot.config import card_paths
        from bot.decks.tools import run_check

        return run_check(args.paths or card_paths(), out=sys.stdout)
    if args.command == "import":
        from bot.decks.tools import run_import

        return run_import(
            args.file, output=args.output, deck_id=args.deck_id, name=args.name, out=sys.stdout
        )
    parser.error(f"unknown command {args.command!r}")
    return 2
