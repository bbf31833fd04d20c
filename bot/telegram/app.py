"""The Telegram adapter: thin python-telegram-bot handlers around the service layer.

Each handler parses the update, calls the service, and sends what ``bot.telegram.render`` produced.
All wiring is in ``build_application``; resources open in ``post_init`` and close in
``post_shutdown``; one error handler deals with whatever goes wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from telegram import (
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram._utils.types import JSONDict
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import Settings
from bot.core import quiz
from bot.core.throttle import Decision
from bot.decks.loader import Deck, load_decks
from bot.services.group import group_standings_for_user
from bot.services.heap import freeze_long_lived
from bot.services.quiz import FeedbackView, Notice, QuestionView, QuizService, SummaryView
from bot.storage.base import Store
from bot.telegram import render
from bot.telegram.admin import ADMIN_COMMANDS, register_admin_handlers
from bot.telegram.bulk import BulkLease
from bot.telegram.decks import register_deck_handlers
from bot.telegram.group import register_group_handlers
from bot.telegram.ordering import PerChatUpdateProcessor, concurrency_for
from bot.telegram.pump import CLAIM_PRUNE_INTERVAL, DATABASE_ERRORS, UpdatePump, is_database_error
from bot.telegram.render_group import group_standings
from bot.telegram.reviews import register_review_handlers
from bot.telegram.runtime import (
    Runtime,
    markup,
    now_of,
    profile_of,
    runtime_of,
    send,
    send_next,
    send_question,
    send_text,
    service_of,
)

log = logging.getLogger("bot")

# --- sending ----------------------------------------------------------------------------------

#: How often a request that failed with a Telegram server error (5xx) is tried again.
SERVER_ERROR_RETRIES = 2
SERVER_ERROR_BACKOFF_SECONDS = 0.5


class RetryingRateLimiter(AIORateLimiter):
    """PTB's limiter (Telegram's rate limits, 429 retry_after) that also retries 5xx errors.

    A time-out is not retried: the message may have been delivered, and a duplicate is worse
    than a lost reply. getUpdates is left to PTB's own polling loop, which retries by itself.
    """

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        for attempt in range(SERVER_ERROR_RETRIES + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except TimedOut:
                raise
            except NetworkError as problem:
                if attempt == SERVER_ERROR_RETRIES or endpoint == "getUpdates":
                    raise
                log.warning("Telegram %s failed (%s); retrying", endpoint, problem)
                await asyncio.sleep(SERVER_ERROR_BACKOFF_SECONDS * 2**attempt)
        raise AssertionError("unreachable")


# --- logging ----------------------------------------------------------------------------------


def describe(update: Update) -> str:
    """A short, content-free description of an update for the log (never the user's text)."""
    kind = next(
        (
            name
            for name in ("message", "edited_message", "callback_query", "my_chat_member")
            if getattr(update, name, None) is not None
        ),
        "other",
    )
    user = update.effective_user
    chat = update.effective_chat
    detail = ""
    message = update.effective_message
    if kind == "message" and message is not None and message.text:
        detail = message.text.split()[0] if message.text.startswith("/") else "text"
    elif kind == "callback_query" and update.callback_query is not None:
        detail = (update.callback_query.data or "").split(":")[0]
    return (
        f"update {update.update_id} {kind} {detail}".rstrip()
        + f" user={user.id if user else '-'} chat={chat.id if chat else '-'}"
    )


async def log_update(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    if isinstance(update, Update):
        log.info("%s", describe(update))


async def throttle(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop a flood from one user before it reaches the handlers; warn them once.

    Updates with no user behind them (channel posts, anonymous admins) stop here too: every
    feature of the bot is about a person answering.
    """
    if not isinstance(update, Update):
        return
    if update.effective_user is None:
        log.debug("Ignoring update %s: no user", update.update_id)
        raise ApplicationHandlerStop
    runtime = runtime_of(context)
    decision = runtime.flood_guard.check(update.effective_user.id, time.monotonic())
    # The window the replicas share (counted when the update arrived) has the last word.
    shared = runtime.pump.flood_decision(update.update_id) if runtime.pump else None
    decision = shared if shared is not None else decision
    if decision is Decision.ALLOW:
        return
    if decision is Decision.WARN:
        log.info("Throttling user %s", update.effective_user.id)
        if update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, render.SLOW_DOWN)
    raise ApplicationHandlerStop


# --- commands -----------------------------------------------------------------------------


async def start_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = profile_of(update)
    await service_of(context).register(user, now_of(context))
    await send(context, update.effective_chat.id, render.welcome(user.first_name))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_text(context, update.effective_chat.id, render.HELP)


async def start_round(
    update: Update, context: ContextTypes.DEFAULT_TYPE, size: int, chat_id: int
) -> None:
    result = await service_of(context).start_round(
        profile_of(update), chat_id, size, now_of(context), update.update_id
    )
    if isinstance(result, Notice):
        return
    if result.replaced is not None:
        await send(context, chat_id, render.summary(result.replaced))
    await send_question(context, chat_id, result.question)


async def quiz_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = update.effective_chat.id
    try:
        size = quiz.parse_round_size(" ".join(context.args or []) or None)
    except ValueError as problem:
        await send_text(context, chat_id, render.esc(str(problem)))
        return
    await start_round(update, context, size, chat_id)


async def stop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = update.effective_chat.id
    result = await service_of(context).stop_round(
        profile_of(update), chat_id, now_of(context), update.update_id
    )
    if isinstance(result, SummaryView):
        await send(context, chat_id, render.summary(result))
    elif result.kind != "duplicate":
        await send_text(context, chat_id, "There is no round to stop. Send /quiz to start one.")


async def score_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    view = await service_of(context).score(profile_of(update), now_of(context))
    reply = render.score(view)
    store = runtime_of(context).store
    if store is not None:  # the groups the user plays in, with their rank in each
        groups = group_standings(await group_standings_for_user(store, update.effective_user.id))
        if groups:
            reply = render.Reply(f"{reply.html}\n\n{groups}", reply.buttons)
    await send(context, update.effective_chat.id, reply)


async def deck_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    service = service_of(context)
    current = await service.user_deck(profile_of(update))
    await send(context, update.effective_chat.id, render.deck_list(service.decks, current))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_text(context, update.effective_chat.id, render.UNKNOWN_COMMAND)


# --- messages -----------------------------------------------------------------------------


async def answer_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    chat_id = update.effective_chat.id
    result = await service_of(context).answer(
        profile_of(update), chat_id, message.text or "", now_of(context), update.update_id
    )
    if isinstance(result, FeedbackView):
        await send(context, chat_id, render.feedback(result))
    else:
        await send_text(context, chat_id, render.NOTICES[result.kind])


async def not_text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_text(context, update.effective_chat.id, render.NOT_TEXT)


async def edited_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is not None and update.effective_chat.type == "private":
        await send_text(context, update.effective_chat.id, render.EDITED)


# --- buttons ------------------------------------------------------------------------------


async def acknowledge(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a button press. A press redelivered after a crash may have been answered already
    (Telegram then calls it too old): that must not stop the reply it is owed."""
    try:
        await query.answer(text)
    except BadRequest as problem:
        log.debug("could not answer the button press: %s", problem)


async def show_in_place(query: CallbackQuery, reply: render.Reply) -> None:
    """Edit the pressed message to show ``reply``; already showing it (a redelivered press
    whose edit got out before a crash) is fine."""
    try:
        await query.edit_message_text(reply.html, reply_markup=markup(reply.buttons))
    except BadRequest as problem:
        if "not modified" not in problem.message.lower():
            raise


async def drop_buttons(query: CallbackQuery) -> None:
    """Remove a message's buttons; an already-bare message is fine."""
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as problem:
        log.debug("could not remove buttons: %s", problem)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every private-chat button: Start quiz, a deck choice, "I was right", or a question's."""
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    if data == render.START_QUIZ:
        await acknowledge(query)
        await start_round(update, context, quiz.DEFAULT_ROUND_SIZE, chat_id)
    elif data.startswith("d:"):
        await deck_button(update, context, query, data[2:], chat_id)
    elif data.startswith("r:") and data[2:].isdigit():
        await override_button(update, context, query, int(data[2:]))
    else:
        await question_button(update, context, query, data, chat_id)


async def deck_button(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    query: CallbackQuery,
    deck_id: str,
    chat_id: int,
) -> None:
    chosen = await service_of(context).choose_deck(profile_of(update), deck_id, now_of(context))
    if isinstance(chosen, Notice):
        await query.answer(render.NOTICES[chosen.kind])
        return
    await query.answer(f"Deck: {chosen.name}")
    await send_text(context, chat_id, f"📚 Your next rounds use <b>{render.esc(chosen.name)}</b>.")


async def override_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, answer_id: int
) -> None:
    result = await service_of(context).override(
        profile_of(update), answer_id, now_of(context), update.update_id
    )
    if isinstance(result, FeedbackView):
        await acknowledge(query, "Counted as correct.")
        await show_in_place(query, render.feedback(result))
    else:
        await acknowledge(query, render.NOTICES[result.kind] or None)


async def question_button(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    query: CallbackQuery,
    data: str,
    chat_id: int,
) -> None:
    """Hint, Show answer, Skip and Next, whose data is ``q:<action>:<round>:<position>``."""
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != "q" or not (parts[2].isdigit() and parts[3].isdigit()):
        await query.answer("That button no longer works.")
        return
    action, round_id, position = parts[1], int(parts[2]), int(parts[3])
    step = QUESTION_ACTIONS.get(action)
    if step is None:
        result: object = Notice("stale")
    else:
        service, user, now = service_of(context), profile_of(update), now_of(context)
        result = await getattr(service, step)(
            user, chat_id, round_id, position, now, update.update_id
        )
        if await show_question_step(context, query, action, result, chat_id):
            return
    assert isinstance(result, Notice)
    await acknowledge(query, render.NOTICES[result.kind] or None)
    if result.kind == "stale":
        await drop_buttons(query)


#: The service method behind each question button.
QUESTION_ACTIONS = {
    render.HINT: "hint",
    render.SHOW: "reveal",
    render.SKIP: "skip",
    render.NEXT: "next_question",
}


async def show_question_step(
    context: ContextTypes.DEFAULT_TYPE,
    query: CallbackQuery,
    action: str,
    result: object,
    chat_id: int,
) -> bool:
    """Show what a question button led to; False when it was a notice, for the caller."""
    if action == render.HINT and isinstance(result, QuestionView):
        await acknowledge(query, f"Hint {len(result.hints)}: −{quiz.HINT_PENALTY} points")
        await show_in_place(query, render.question(result))
    elif action == render.SHOW and isinstance(result, FeedbackView):
        await acknowledge(query)
        await drop_buttons(query)
        await send(context, chat_id, render.feedback(result))
    elif action in (render.SKIP, render.NEXT) and not isinstance(result, Notice):
        assert isinstance(result, QuestionView | SummaryView)
        await acknowledge(query, "Skipped" if action == render.SKIP else None)
        await (drop_buttons(query) if action == render.SKIP else keep_only_override(query))
        await send_next(context, chat_id, result)
    else:
        return False
    return True


async def keep_only_override(query: CallbackQuery) -> None:
    """After Next, the feedback keeps its "I was right" button and loses the rest."""
    message = query.message
    keyboard = getattr(message, "reply_markup", None)
    rows = [
        [button for button in row if (button.callback_data or "").startswith("r:")]
        for row in (keyboard.inline_keyboard if keyboard else ())
    ]
    rows = [row for row in rows if row]
    try:
        await query.edit_message_reply_markup(
            reply_markup=InlineKeyboardMarkup(rows) if rows else None
        )
    except BadRequest as problem:
        log.debug("could not trim buttons: %s", problem)


# --- errors -------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: log it, tell the user when it helps, never stop the bot."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("Telegram refused a message (the user blocked the bot?): %s", error)
        return
    if isinstance(error, NetworkError):
        log.warning("Telegram network problem: %s", error)
    elif is_database_error(error):
        log.error("Database problem: %s", error.__class__.__name__)
        pump = runtime_of(context).pump
        if isinstance(update, Update) and pump is not None and not pump.failed_on_database(update):
            return  # the user was told already; the retry goes on quietly
    else:
        log.error("Unhandled error while handling an update", exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer(render.TRY_AGAIN)
        try:
            await context.bot.send_message(update.effective_chat.id, render.TRY_AGAIN)
        except TelegramError as problem:
            log.warning("Could not tell the user about the error: %s", problem)


# --- wiring -------------------------------------------------------------------------------


async def forget_old_claims(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The hourly job that keeps the update-claims table from growing for ever."""
    pump = runtime_of(context).pump
    if pump is None:
        return
    try:
        await pump.forget_old_claims()
    except DATABASE_ERRORS as problem:  # the next run tries again
        log.warning("Could not clear old update claims: %s", problem)


class QuizApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, telling the update pump when each update has been handled."""

    async def process_update(self, update: object) -> None:
        await super().process_update(update)
        runtime: Runtime | None = self.bot_data.get("runtime")
        if isinstance(update, Update) and runtime is not None and runtime.pump is not None:
            await runtime.pump.finished(update)


def build_application(
    settings: Settings,
    decks: list[Deck] | None = None,
    clock: Callable[[], datetime] | None = None,
    request: BaseRequest | None = None,
    rate_limit: bool = True,
) -> Application:
    """Wire the whole bot. Decks load here so a broken bank fails before we touch Telegram."""
    if not settings.token:
        raise ValueError("a bot token is needed")
    runtime = Runtime(
        settings=settings,
        decks=decks if decks is not None else load_decks(list(settings.cards)),
        clock=clock or (lambda: datetime.now(UTC)),
    )

    async def post_init(application: Application) -> None:
        runtime.store = await Store.open(settings.database_url)
        runtime.service = QuizService(runtime.store, runtime.decks)
        runtime.pump = UpdatePump(application, runtime.store, runtime.clock)
        runtime.bulk = BulkLease(runtime.store, runtime.clock, settings.send_lease_seconds)
        for hook in runtime.on_startup:
            await hook(application, runtime)
        freeze_long_lived()  # services and decks (users' too) built above live as long as we do
        await application.bot.set_my_commands(runtime.commands)
        for admin in settings.admins:  # admins see their extra commands in their own menu
            try:
                await application.bot.set_my_commands(
                    runtime.commands + ADMIN_COMMANDS, scope=BotCommandScopeChat(admin)
                )
            except TelegramError as problem:
                log.info("Could not set the admin menu for %s: %s", admin, problem)
        await runtime.pump.recover()
        if application.job_queue is not None:
            application.job_queue.run_repeating(
                forget_old_claims, interval=CLAIM_PRUNE_INTERVAL, first=60, name="claims:prune"
            )
        log.info(
            "quizbot is up as @%s with %d deck(s), %d cards",
            application.bot.username,
            len(runtime.decks),
            sum(len(deck.cards) for deck in runtime.decks),
        )

    async def post_shutdown(application: Application) -> None:
        if runtime.pump is not None:
            await runtime.pump.close()
        if runtime.bulk is not None:
            await runtime.bulk.close()
        if runtime.store is not None:
            await runtime.store.close()
        log.info("quizbot stopped")

    builder = ApplicationBuilder()
    if rate_limit:  # off only where no Telegram is behind the network (benchmarks)
        builder = builder.rate_limiter(RetryingRateLimiter(max_retries=3))
    if request is not None:  # an in-process network, for benchmarks and property tests
        builder = builder.request(request).get_updates_request(request)
    application = (
        builder.token(settings.token)
        .base_url(f"{settings.api_base_url}/bot")
        .base_file_url(f"{settings.api_base_url}/file/bot")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .application_class(QuizApplication)
        .concurrent_updates(PerChatUpdateProcessor(concurrency_for(settings.database_url)))
        .updater(None)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data["runtime"] = runtime

    private = filters.ChatType.PRIVATE
    application.add_handler(TypeHandler(Update, log_update), group=-3)
    application.add_handler(TypeHandler(Update, throttle), group=-2)
    # Group -1 is for feature gates that may take an update over before the core handlers.
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, edited_message), group=0)
    command_filter = filters.UpdateType.MESSAGE & private
    for name, callback in [
        ("start", start_command),
        ("help", help_command),
        ("quiz", quiz_command),
        ("stop", stop_command),
        ("score", score_command),
        ("deck", deck_command),
    ]:
        application.add_handler(CommandHandler(name, callback, filters=command_filter))
    # Feature modules add their handlers before the private catch-alls below.
    register_deck_handlers(application, runtime)  # before admin: owners' /overrides
    register_admin_handlers(application, runtime)
    register_group_handlers(application, runtime)
    register_review_handlers(application, runtime)
    application.add_handler(CallbackQueryHandler(on_button))  # after the features' buttons
    application.add_handler(MessageHandler(filters.COMMAND & command_filter, unknown_command))
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & command_filter, answer_message)
    )
    application.add_handler(
        MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & command_filter, not_text_message)
    )
    application.add_error_handler(on_error)
    return application
