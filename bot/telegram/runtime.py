"""What the Telegram handlers of every feature share: the ``Runtime`` and the ways to send.

It sits below ``bot.telegram.app`` and the feature modules (admin, groups, reviews), which all
import it, so that none of them imports the app module that wires them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, ContextTypes

from bot.config import Settings
from bot.core.cards import Deck
from bot.core.throttle import FloodGuard
from bot.services.quiz import Notice, QuestionView, QuizService, SummaryView
from bot.storage.base import Store, UserProfile
from bot.telegram import render
from bot.telegram.bulk import BulkLease
from bot.telegram.pump import DATABASE_ERRORS, UpdatePump

log = logging.getLogger("bot")

COMMANDS = [
    BotCommand("quiz", "Start a round: /quiz [number of cards]"),
    BotCommand("stop", "End the round and see the summary"),
    BotCommand("score", "Your points, accuracy and streak"),
    BotCommand("deck", "See the decks and choose one"),
    BotCommand("help", "How answering works, and the commands"),
    BotCommand("start", "Welcome and a quick start"),
]


StartupHook = Callable[[Application, "Runtime"], Awaitable[None]]


@dataclass
class Runtime:
    """What the handlers share: settings, decks, the open store and the services.

    Feature modules (groups, reviews) keep their services in ``services`` and add start-up
    work (resuming challenges, scheduling reminders) to ``on_startup``; it runs in post_init
    once the store is open.
    """

    settings: Settings
    decks: list[Deck]
    clock: Callable[[], datetime]
    store: Store | None = None
    service: QuizService | None = None
    pump: UpdatePump | None = None
    #: Who sends reminders and broadcasts in the deployment (see bot.telegram.bulk).
    bulk: BulkLease | None = None
    commands: list[BotCommand] = field(default_factory=lambda: list(COMMANDS))
    services: dict[str, Any] = field(default_factory=dict)
    on_startup: list[StartupHook] = field(default_factory=list)
    #: Called with the new decks after /reload, for services that keep decks of their own.
    on_reload: list[Callable[[list[Deck]], Awaitable[None]]] = field(default_factory=list)
    flood_guard: FloodGuard = field(default_factory=FloodGuard)
    broadcasting: bool = False


def runtime_of(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    return context.application.bot_data["runtime"]


def service_of(context: ContextTypes.DEFAULT_TYPE) -> QuizService:
    service = runtime_of(context).service
    if service is None:  # post_init failed or has not run
        raise RuntimeError("the service is not running")
    return service


def now_of(context: ContextTypes.DEFAULT_TYPE) -> datetime:
    return runtime_of(context).clock()


def profile_of(update: Update) -> UserProfile:
    user = update.effective_user
    assert user is not None
    return UserProfile(
        user_id=user.id,
        first_name=user.first_name or user.username or "friend",
        username=user.username,
        language_code=user.language_code,
    )


def markup(buttons: list[list[render.Button]]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in buttons
        ]
    )


async def send(context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: render.Reply) -> Message:
    return await context.bot.send_message(chat_id, reply.html, reply_markup=markup(reply.buttons))


async def send_text(context: ContextTypes.DEFAULT_TYPE, chat_id: int, html_text: str) -> None:
    if html_text:
        await context.bot.send_message(chat_id, html_text)


async def send_question(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, view: QuestionView
) -> None:
    message = await send(context, chat_id, render.question(view))
    try:
        await service_of(context).remember_question_message(view.round_id, message.message_id)
    except DATABASE_ERRORS as problem:
        # The question went out; only the note of its message id is lost (a reply to it still
        # counts, see QuizService.answer). "Try again" and a retry would send it a second time.
        log.warning(
            "Could not note the message id of round %d's question: %s", view.round_id, problem
        )


async def send_next(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, result: QuestionView | SummaryView | Notice
) -> None:
    """Send whatever follows a skip or a Next: a question, the summary, or a notice."""
    if isinstance(result, QuestionView):
        await send_question(context, chat_id, result)
    elif isinstance(result, SummaryView):
        await send(context, chat_id, render.summary(result))
    else:
        await send_text(context, chat_id, render.NOTICES[result.kind])
