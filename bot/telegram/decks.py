"""Decks users bring: file uploads, /decks and each deck's buttons, share links, groups' pick.

Thin handlers over ``bot.services.decks``; the words are in ``bot.telegram.render_decks``.
Every update first brings this replica's deck catalogue up to date (``refresh_catalogue``), so a
deck uploaded or replaced through another replica is served in its newest version.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import BotCommand, ForceReply, Message, Update
from telegram.constants import ChatAction, ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.services.decks import DeckNotice, DeckService, UploadRejected
from bot.storage.decks import UserDeckRow
from bot.telegram import render_decks
from bot.telegram.render import Reply
from bot.telegram.runtime import Runtime, now_of, profile_of, runtime_of, send, send_text

log = logging.getLogger("bot.decks")

SERVICE_KEY = "decks"
#: What a deck panel's button does: (update, context, deck row id) -> the row or a notice.
PanelAction = Callable[[Update, ContextTypes.DEFAULT_TYPE, int], Awaitable[Any]]
#: Handler group of the catalogue refresh: before everything else that may look a deck up.
REFRESH_GROUP = -4
#: How often a replica looks for deck changes when no update arrives (jobs use decks too).
REFRESH_SECONDS = 15.0
#: An update within this many seconds of the last look at the database needs no new look.
REFRESH_MAX_AGE = 0.25
DECKS_COMMAND = BotCommand("decks", "Your own decks: upload, share, rename, delete")


def _service(context: ContextTypes.DEFAULT_TYPE) -> DeckService:
    return runtime_of(context).services[SERVICE_KEY]


async def refresh_catalogue(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    service = runtime_of(context).services.get(SERVICE_KEY)
    if service is not None:
        await service.catalogue.refresh(service.store, max_age=REFRESH_MAX_AGE)


async def refresh_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    service = runtime_of(context).services.get(SERVICE_KEY)
    try:
        if service is not None:
            await service.catalogue.refresh(service.store)
    except Exception as problem:  # the next run or the next update tries again
        log.warning("Could not refresh the deck catalogue: %s", problem)


# --- upload -----------------------------------------------------------------------------------


async def document_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file in the private chat: download it with getFile and import it as a deck."""
    service, user, now = _service(context), profile_of(update), now_of(context)
    chat_id = update.effective_chat.id
    document = update.effective_message.document
    refused = await service.may_upload(user, document.file_size, now, update.update_id)
    if refused is not None:
        await send_text(context, chat_id, render_decks.notice(refused))
        return
    await context.bot.send_chat_action(chat_id, ChatAction.TYPING)  # big files take a moment
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as problem:
        log.info("Could not download an uploaded deck: %s", problem)
        await send_text(context, chat_id, render_decks.DOWNLOAD_FAILED)
        return
    result = await service.upload(user, document.file_name or "deck", data, now, update.update_id)
    if isinstance(result, DeckNotice):
        await send_text(context, chat_id, render_decks.notice(result))
    elif isinstance(result, UploadRejected):
        await send_text(context, chat_id, render_decks.rejected(result))
    else:
        log.info("User %s uploaded deck %s v%d", user.user_id, result.deck.key, result.deck.version)
        await send(context, chat_id, render_decks.saved(result))


# --- /decks and a deck's buttons -----------------------------------------------------------------


async def decks_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    service = _service(context)
    view = await service.listing(profile_of(update))
    loaded = {
        row.key: deck
        for row in [*view.owned, *view.added]
        if (deck := service.catalogue.get(row.key))
    }
    await send(context, update.effective_chat.id, render_decks.listing(view, loaded))


async def panel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``k:<action>:<deck>``: open a deck's panel, rename, share, revoke, download, delete."""
    query = update.callback_query
    action, _, number = (query.data or "").removeprefix(render_decks.PANEL_PREFIX).partition(":")
    handler = PANEL_ACTIONS.get(action)
    if handler is None or not number.isdigit():
        await query.answer("That button no longer works.")
        return
    result = await handler(update, context, int(number))
    if isinstance(result, DeckNotice):
        await query.answer(render_decks.notice(result)[:200], show_alert=True)
        return
    await query.answer()


def _showing(render_reply: Callable[[UserDeckRow, DeckService], Reply]) -> PanelAction:
    """A panel action that looks the owner's deck up and sends what ``render_reply`` makes."""

    async def action(update: Update, context: ContextTypes.DEFAULT_TYPE, deck_id: int) -> Any:
        service = _service(context)
        row = await service.deck_of(profile_of(update), deck_id)
        if isinstance(row, UserDeckRow):
            await send(context, update.effective_chat.id, render_reply(row, service))
        return row

    return action


_open = _showing(lambda row, service: render_decks.panel(row, service.catalogue.get(row.key)))
_replace = _showing(lambda row, _: Reply(render_decks.replace_hint(row)))
_ask_delete = _showing(lambda row, _: render_decks.confirm_delete(row))


async def _rename(update: Update, context: ContextTypes.DEFAULT_TYPE, deck_id: int) -> Any:
    row = await _service(context).deck_of(profile_of(update), deck_id)
    if isinstance(row, UserDeckRow):
        await context.bot.send_message(
            update.effective_chat.id,
            render_decks.rename_prompt(row),
            reply_markup=ForceReply(input_field_placeholder="New deck name"),
        )
    return row


async def _share(update: Update, context: ContextTypes.DEFAULT_TYPE, deck_id: int) -> Any:
    row = await _service(context).share(profile_of(update), deck_id)
    if isinstance(row, UserDeckRow):
        reply = render_decks.share_link(row, context.bot.username)
        await send(context, update.effective_chat.id, reply)
    return row


async def _revoke(update: Update, context: ContextTypes.DEFAULT_TYPE, deck_id: int) -> Any:
    row = await _service(context).revoke(profile_of(update), deck_id)
    if isinstance(row, UserDeckRow):
        await send_text(context, update.effective_chat.id, render_decks.revoked(row))
    return row


async def _download(update: Update, context: ContextTypes.DEFAULT_TYPE, deck_id: int) -> Any:
    found = await _service(context).export(profile_of(update), deck_id)
    if isinstance(found, tuple):
        file_name, data = found
        await context.bot.send_document(update.effective_chat.id, data, filename=file_name)
    return found


async def _delete(update: Update, context: ContextTypes.DEFAULT_TYPE, deck_id: int) -> Any:
    row = await _service(context).delete(profile_of(update), deck_id, now_of(context))
    if isinstance(row, UserDeckRow):
        await _drop_buttons(update.callback_query.message)
        await send_text(context, update.effective_chat.id, render_decks.deleted(row))
    return row


async def _keep(update: Update, context: ContextTypes.DEFAULT_TYPE, deck_id: int) -> Any:
    await _drop_buttons(update.callback_query.message)
    return None


async def _drop_buttons(message: object) -> None:
    if isinstance(message, Message):
        try:
            await message.edit_reply_markup(reply_markup=None)
        except TelegramError as problem:
            log.debug("could not remove buttons: %s", problem)


PANEL_ACTIONS: dict[str, PanelAction] = {
    render_decks.OPEN: _open,
    render_decks.RENAME: _rename,
    render_decks.REPLACE: _replace,
    render_decks.SHARE: _share,
    render_decks.REVOKE: _revoke,
    render_decks.DOWNLOAD: _download,
    render_decks.DELETE: _ask_delete,
    render_decks.DELETE_SURE: _delete,
    render_decks.KEEP: _keep,
}


class RenameReply(filters.MessageFilter):
    """A reply to the bot's "new name for deck #N" prompt."""

    def filter(self, message: Message) -> bool:
        target = message.reply_to_message
        return target is not None and (target.text or "").startswith(render_decks.RENAME_MARK)


async def rename_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    prompt = message.reply_to_message.text or ""
    number = prompt.removeprefix(render_decks.RENAME_MARK).split(" ", 1)[0]
    if not number.isdigit():
        return
    result = await _service(context).rename(
        profile_of(update), int(number), message.text or "", now_of(context)
    )
    chat_id = update.effective_chat.id
    if isinstance(result, DeckNotice):
        await send_text(context, chat_id, render_decks.notice(result))
    else:
        await send_text(context, chat_id, render_decks.renamed(result))


# --- share links and the author's loop --------------------------------------------------------


async def deep_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/start deck_<code>``, from ``https://t.me/<bot>?start=deck_<code>``."""
    code = (context.args or [""])[0].removeprefix("deck_")
    service = _service(context)
    result = await service.add_from_link(profile_of(update), code, now_of(context))
    chat_id = update.effective_chat.id
    if isinstance(result, DeckNotice):
        await send_text(context, chat_id, render_decks.notice(result))
    else:
        await send(context, chat_id, render_decks.added(result, service.catalogue.get(result.key)))
    raise ApplicationHandlerStop


async def overrides_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "I was right" answers on the sender's own decks (admins have their own /overrides)."""
    found = await _service(context).overrides(profile_of(update))
    await send_text(context, update.effective_chat.id, render_decks.overrides(found))


# --- groups -----------------------------------------------------------------------------------


async def _is_chat_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    try:
        member = await context.bot.get_chat_member(
            update.effective_chat.id, update.effective_user.id
        )
    except TelegramError as problem:
        log.warning("could not check admin status: %s", problem)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def group_deck_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    service = _service(context)
    current = await service.group_deck(update.effective_chat.id)
    choices = await service.usable_decks(profile_of(update))
    await send(context, update.effective_chat.id, render_decks.group_choice(current, choices))


async def group_deck_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if not await _is_chat_admin(update, context):
        await query.answer(render_decks.GROUP_ADMINS_ONLY, show_alert=True)
        return
    token = (query.data or "").removeprefix(render_decks.GROUP_PREFIX)
    chosen = await _service(context).choose_for_group(
        update.effective_chat.id, profile_of(update), token, now_of(context)
    )
    if isinstance(chosen, DeckNotice):
        await query.answer(render_decks.notice(chosen)[:200], show_alert=True)
        return
    await query.answer(chosen.name[:200])
    by = update.effective_user.full_name or "An admin"
    await send(context, update.effective_chat.id, Reply(render_decks.group_chosen(chosen, by)))


# --- wiring -----------------------------------------------------------------------------------


async def start_deck_service(application: Application, runtime: Runtime) -> None:
    """post_init hook: the service over the quiz service's catalogue, loaded from the database."""
    assert runtime.store is not None and runtime.service is not None
    catalogue = runtime.service.catalogue
    assert catalogue is not None
    service = DeckService(runtime.store, catalogue, runtime.settings.decks)
    await catalogue.refresh(runtime.store)
    runtime.services[SERVICE_KEY] = service
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            refresh_job, interval=REFRESH_SECONDS, first=REFRESH_SECONDS, name="decks:refresh"
        )


def register_deck_handlers(application: Application, runtime: Runtime) -> None:
    """Add the deck handlers; call before the admin handlers (for /overrides) and catch-alls."""
    runtime.on_startup.append(start_deck_service)
    runtime.commands.append(DECKS_COMMAND)
    messages = filters.UpdateType.MESSAGE
    private = messages & filters.ChatType.PRIVATE
    groups = messages & filters.ChatType.GROUPS
    application.add_handler(TypeHandler(Update, refresh_catalogue), group=REFRESH_GROUP)
    application.add_handler(
        CommandHandler(
            "start", deep_link, filters=private & filters.Regex(r"^/start(@\w+)?\s+deck_")
        ),
        group=-1,
    )
    not_admin = ~filters.User(user_id=list(runtime.settings.admins))
    application.add_handler(
        CommandHandler("overrides", overrides_command, filters=private & not_admin)
    )
    application.add_handler(CommandHandler("decks", decks_command, filters=private))
    application.add_handler(CommandHandler("deck", group_deck_command, filters=groups))
    application.add_handler(MessageHandler(private & filters.Document.ALL, document_message))
    application.add_handler(MessageHandler(private & filters.TEXT & RenameReply(), rename_reply))
    application.add_handler(
        CallbackQueryHandler(panel_button, pattern=f"^{render_decks.PANEL_PREFIX}")
    )
    application.add_handler(
        CallbackQueryHandler(group_deck_button, pattern=f"^{render_decks.GROUP_PREFIX}")
    )
