"""Commands for the bot's admins (``QUIZBOT_ADMINS``): /reload, /broadcast and /overrides."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from telegram import BotCommand, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.decks.loader import DeckError, load_decks
from bot.telegram import render

if TYPE_CHECKING:
    from bot.telegram.bulk import BulkLease
    from bot.telegram.runtime import Runtime

log = logging.getLogger("bot.admin")

REFUSED = "This command is for the bot's admins."
#: Problems shown when a reload is refused (the rest are counted).
SHOWN_PROBLEMS = 15
#: Overridden answers quoted per card.
QUOTED_OVERRIDES = 3


def _runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    return context.application.bot_data["runtime"]


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and user.id in _runtime(context).settings.admins


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.warning("Refused an admin command from user %s", update.effective_user.id)
    await context.bot.send_message(update.effective_chat.id, REFUSED)


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Load the decks again; a broken bank is refused and the old decks stay live."""
    if not is_admin(update, context):
        await _refuse(update, context)
        return
    runtime = _runtime(context)
    chat_id = update.effective_chat.id
    try:
        decks = await asyncio.to_thread(load_decks, list(runtime.settings.cards), True)
    except DeckError as problem:
        shown = problem.problems[:SHOWN_PROBLEMS]
        more = len(problem.problems) - len(shown)
        lines = "\n".join(render.esc(line) for line in shown)
        tail = f"\n…and {more} more." if more > 0 else ""
        log.warning("Reload refused: %d problem(s) in the card bank", len(problem.problems))
        await context.bot.send_message(
            chat_id,
            f"❌ <b>Reload refused</b>; the decks in use stay live.\n<pre>{lines}</pre>{tail}",
        )
        return
    assert runtime.service is not None
    runtime.service.replace_decks(decks)
    runtime.decks = decks
    for hook in runtime.on_reload:
        await hook(decks)
    cards = sum(len(deck.cards) for deck in decks)
    log.info("Reloaded %d deck(s), %d cards", len(decks), cards)
    await context.bot.send_message(chat_id, f"✅ Reloaded {len(decks)} deck(s), {cards} cards.")


async def overrides_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "I was right" overrides per card, so deck authors can add aliases."""
    if not is_admin(update, context):
        await _refuse(update, context)
        return
    runtime = _runtime(context)
    assert runtime.store is not None
    async with runtime.store.transaction() as tx:
        overridden = await tx.overrides()
    if not overridden:
        await context.bot.send_message(update.effective_chat.id, "No “I was right” overrides yet.")
        return
    by_card: dict[tuple[str, str], list[str]] = defaultdict(list)
    for answer in overridden:
        by_card[(answer.deck_id, answer.card_id)].append(answer.answer_text or "")
    lines = [f"🙋 <b>“I was right” overrides</b> ({len(overridden)})", ""]
    ranked = sorted(by_card.items(), key=lambda item: -len(item[1]))
    for (deck_id, card_id), texts in ranked:
        lines.append(f"<b>{render.esc(card_id)}</b> ({render.esc(deck_id)}): {len(texts)}")
        for text in texts[-QUOTED_OVERRIDES:]:
            lines.append(f"   “{render.esc(render.clip(text, 150))}”")
    await context.bot.send_message(update.effective_chat.id, render.fit("\n".join(lines)))


async def broadcast_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a message to every user, one broadcast at a time, within Telegram's rate limits."""
    if not is_admin(update, context):
        await _refuse(update, context)
        return
    runtime = _runtime(context)
    chat_id = update.effective_chat.id
    text = " ".join(context.args or []).strip()
    if not text:
        await context.bot.send_message(chat_id, "Usage: /broadcast <i>message to every user</i>")
        return
    if runtime.broadcasting:
        await context.bot.send_message(chat_id, "A broadcast is already being sent; wait for it.")
        return
    assert runtime.store is not None
    async with runtime.store.transaction() as tx:
        recipients = await tx.user_ids()
    runtime.broadcasting = True
    await context.bot.send_message(chat_id, f"📣 Sending to {len(recipients)} user(s)…")
    context.application.create_task(
        _send_broadcast(context, runtime, chat_id, recipients, render.esc(text)),
        name="broadcast",
    )


async def _send_broadcast(
    context: ContextTypes.DEFAULT_TYPE,
    runtime: Runtime,
    admin_chat: int,
    recipients: list[int],
    html_text: str,
) -> None:
    sent = failed = 0
    bulk = runtime.bulk
    assert bulk is not None
    try:
        # One replica at a time sends bulk messages, at one pace for the whole deployment.
        async with bulk.holding():
            sent, failed = await _send_to_each(context, bulk, recipients, html_text)
    finally:
        runtime.broadcasting = False
    log.info("Broadcast done: %d sent, %d failed", sent, failed)
    await context.bot.send_message(admin_chat, f"📣 Broadcast done: {sent} sent, {failed} failed.")


async def _send_to_each(
    context: ContextTypes.DEFAULT_TYPE, bulk: BulkLease, recipients: list[int], html_text: str
) -> tuple[int, int]:
    sent = failed = 0
    for user_id in recipients:
        await bulk.pace()
        try:
            await context.bot.send_message(user_id, f"📣 {html_text}")
            sent += 1
        except Forbidden:
            failed += 1  # blocked the bot: nothing to retry
        except TelegramError as problem:
            failed += 1
            log.warning("Broadcast to %s failed: %s", user_id, problem)
    return sent, failed


ADMIN_COMMANDS = [
    BotCommand("reload", "Admins: reload the decks without a restart"),
    BotCommand("broadcast", "Admins: send a message to every user"),
    BotCommand("overrides", "Admins: the “I was right” overrides per card"),
]


def register_admin_handlers(application: Application, runtime: Runtime) -> None:
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("reload", reload_command, filters=private))
    application.add_handler(CommandHandler("broadcast", broadcast_command, filters=private))
    application.add_handler(CommandHandler("overrides", overrides_command, filters=private))
