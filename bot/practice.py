"""``quizbot practice``: the same rounds, grader and history in a terminal, without Telegram."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import html
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.config import Settings, parse_paths, practice_db_path
from bot.core.quiz import MAX_ROUND_SIZE
from bot.decks.loader import Deck, DeckError, load_decks
from bot.services.quiz import FeedbackView, Notice, QuestionView, QuizService, SummaryView
from bot.storage.base import Store, UserProfile
from bot.telegram import render

#: The terminal user is one local user; the chat id keeps practice apart from Telegram chats.
PRACTICE_USER_ID = 0
PRACTICE_CHAT_ID = 0

COMMANDS_HELP = "Type your answer and press Enter. Commands: :hint  :show  :skip  :stop"
AFTER_FEEDBACK = "[Enter] next   :right  I was right   :stop  end the round"


def plain(markup_text: str) -> str:
    """HTML message text as terminal text."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup_text))


class Terminal:
    """Reads commands and prints results; all quiz logic stays in the service."""

    def __init__(self, service: QuizService, user: UserProfile, stdin: TextIO, out: TextIO):
        self.service, self.user, self.stdin, self.out = service, user, stdin, out

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def ask(self, prompt: str) -> str | None:
        self.out.write(prompt)
        self.out.flush()
        line = self.stdin.readline()
        return None if line == "" else line.rstrip("\n")

    async def play(self, size: int) -> None:
        now = datetime.now(UTC)
        started = await self.service.start_round(self.user, PRACTICE_CHAT_ID, size, now)
        assert not isinstance(started, Notice)
        view: QuestionView | SummaryView | Notice = started.question
        while isinstance(view, QuestionView):
            self.say("")
            self.say(plain(render.question(view).html))
            view = await self.answer_loop(view)
        if isinstance(view, SummaryView):
            self.say("")
            self.say(plain(render.summary(view).html))

    async def answer_loop(self, view: QuestionView) -> QuestionView | SummaryView | Notice:
        here = (view.round_id, view.position)
        while True:
            line = self.ask("> ")
            now = datetime.now(UTC)
            command = (line or "").strip().lower()
            if line is None or command == ":stop":
                return await self.service.stop_round(self.user, PRACTICE_CHAT_ID, now)
            if command == ":hint":
                hinted = await self.service.hint(self.user, PRACTICE_CHAT_ID, *here, now)
                if isinstance(hinted, QuestionView):
                    self.say(f"💡 {hinted.hints[-1]}")
                else:
                    self.say(plain(render.NOTICES[hinted.kind]))
                continue
            if command == ":skip":
                return await self.service.skip(self.user, PRACTICE_CHAT_ID, *here, now)
            if command == ":show":
                result = await self.service.reveal(self.user, PRACTICE_CHAT_ID, *here, now)
            else:
                result = await self.service.answer(self.user, PRACTICE_CHAT_ID, line, now)
            if isinstance(result, Notice):
                self.say(plain(render.NOTICES[result.kind]))
                continue
            return await self.after_feedback(result)

    async def after_feedback(self, result: FeedbackView) -> QuestionView | SummaryView | Notice:
        self.say(plain(render.feedback(result).html))
        while True:
            line = self.ask(f"{AFTER_FEEDBACK}\n> ")
            now = datetime.now(UTC)
            command = (line or "").strip().lower()
            if line is None or command == ":stop":
                return await self.service.stop_round(self.user, PRACTICE_CHAT_ID, now)
            if command == ":right":
                overridden = await self.service.override(self.user, result.answer_id, now)
                if isinstance(overridden, Notice):
                    self.say(plain(render.NOTICES[overridden.kind]))
                else:
                    self.say(f"✅ Counted as correct: +{overridden.points} points.")
                continue
            return await self.service.next_question(
                self.user, PRACTICE_CHAT_ID, result.round_id, result.position, now
            )


def _choose_decks(args: argparse.Namespace) -> list[Deck]:
    """Load the decks (synchronously, before the event loop) with the chosen one first."""
    settings = Settings.from_env()
    paths = parse_paths(args.cards_path) if args.cards_path else list(settings.cards)
    deck_is_file = bool(args.deck) and Path(args.deck).is_file()
    decks = load_decks([Path(args.deck)] if deck_is_file else paths)
    if args.deck and not deck_is_file:
        chosen = [deck for deck in decks if deck.id == args.deck]
        if not chosen:
            known = ", ".join(deck.id for deck in decks)
            raise DeckError([f"no deck {args.deck!r}; the decks are: {known}"])
        decks = chosen + [deck for deck in decks if deck.id != args.deck]
    return decks


async def _practice(
    args: argparse.Namespace, decks: list[Deck], db_path: Path, stdin: TextIO, out: TextIO
) -> int:
    store = await Store.open(f"sqlite+aiosqlite:///{db_path}")
    try:
        service = QuizService(store, decks)
        user = UserProfile(PRACTICE_USER_ID, getpass.getuser() or "you")
        await service.register(user, datetime.now(UTC))
        async with store.transaction() as tx:
            await tx.set_user_deck(user.user_id, decks[0].id)
        print(f"quizbot practice — {decks[0].name}, {args.cards} cards.", file=out)
        print(f"History: {db_path}", file=out)
        print(COMMANDS_HELP, file=out, flush=True)
        await Terminal(service, user, stdin, out).play(args.cards)
        score = await service.score(user, datetime.now(UTC))
        print(
            f"\nAll time: {score.points} points, {score.answered} answered, "
            f"{score.accuracy:.0%} accuracy, streak {score.streak_current} day(s).",
            file=out,
        )
    finally:
        await store.close()
    return 0


def run_practice(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    try:
        decks = _choose_decks(args)
    except DeckError as problem:
        print("quizbot: the card bank has problems:", file=sys.stderr)
        for line in problem.problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    if not 1 <= args.cards <= MAX_ROUND_SIZE:
        print(f"quizbot: a round has 1 to {MAX_ROUND_SIZE} cards (-n).", file=sys.stderr)
        return 2
    db_path = Path(args.db) if args.db else practice_db_path()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(_practice(args, decks, db_path, stdin, out))
    except KeyboardInterrupt:
        print("\nBye!", file=out)
        return 130
