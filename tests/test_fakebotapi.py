"""The fake Bot API, driven by real python-telegram-bot objects to prove it is faithful.

If PTB parses the fake's answers and raises the same exceptions as against Telegram, the
end-to-end tests that run the real bot against the fake mean something.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import socket
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
)
from telegram.request import HTTPXRequest

from tests.fakebotapi import (
    STANDIN_BOT_SCRIPT,
    BotProcess,
    BotProcessError,
    FakeBotApi,
    RateLimits,
    WaitTimeout,
    make_png,
    parse_html,
    running_fake_bot_api,
)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        api.token, base_url=api.base_url, base_file_url=api.base_file_url
    ) as ptb_bot:
        yield ptb_bot


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns on int time periods (e.g. RetryAfter.retry_after) unless opted in."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@asynccontextmanager
async def polling_application(
    api: FakeBotApi, *handlers: Any
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A real PTB Application polling the fake, stopped cleanly afterwards."""
    application = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    for handler in handlers:
        application.add_handler(handler)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


# ---------------------------------------------------------------------------------------------
# Basic shapes
# ---------------------------------------------------------------------------------------------


async def test_get_me_parses_into_the_configured_bot_user(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    me = await bot.get_me()

    assert me.id == api.bot_id
    assert me.is_bot
    assert me.username == "QuizTestBot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False


async def test_html_message_comes_back_as_plain_text_with_utf16_entities(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user("Ann", username="ann")

    sent = await bot.send_message(
        user.id,
        "🎉 <b>Round</b> &lt;1&gt; &amp; <i>done</i> &#33;",
        parse_mode="HTML",
    )

    assert sent.text == "🎉 Round <1> & done !"
    assert sent.from_user is not None and sent.from_user.id == api.bot_id
    assert sent.chat.id == user.id
    assert isinstance(sent.date, dtm.datetime)
    bold, italic = sent.entities
    assert (bold.type, bold.offset, bold.length) == ("bold", 3, 5)  # the emoji is 2 UTF-16 units
    assert sent.parse_entity(bold) == "Round"
    assert sent.parse_entity(italic) == "done"
    stored = api.sent_messages(user)[0]
    assert stored.text == sent.text
    assert stored.html == "🎉 <b>Round</b> &lt;1&gt; &amp; <i>done</i> &#33;"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("Score: <unknown>", 'unsupported start tag "unknown" at byte offset 7'),
        ("if a < b then", 'unsupported start tag "" at byte offset 5'),
        ("<b>bold", 'can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("plain</b>", "unexpected end tag at byte offset 5"),
        ("Q&A", 'unescaped "&" at byte offset 1'),
        ('<span class="x">s</span>', 'tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("trailing <", "unclosed start tag at byte offset 9"),
    ],
)
async def test_broken_html_is_rejected_like_telegram(
    api: FakeBotApi, bot: telegram.Bot, html: str, reason: str
) -> None:
    user = api.add_user()

    with pytest.raises(telegram.error.BadRequest) as raised:
        await bot.send_message(user.id, html, parse_mode="HTML")

    assert raised.value.message == f"Can't parse entities: {reason}"
    assert api.sent_messages(user) == []
    assert api.calls("sendMessage")[0].status == 400


def test_every_tag_telegram_documents_is_accepted() -> None:
    parsed = parse_html(
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        '<strike>k</strike><del>d</del><span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler>'
        '<a href="https://example.org/?a=1&amp;b=2">l</a><code>c</code>'
        '<pre><code class="language-python">x = 1</code></pre>'
        "<blockquote>quote</blockquote><blockquote expandable>more</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )

    types = [entity["type"] for entity in parsed.entities]
    assert types == [
        "bold", "bold", "italic", "italic", "underline", "underline", "strikethrough",
        "strikethrough", "strikethrough", "spoiler", "spoiler", "text_link", "code", "pre",
        "blockquote", "expandable_blockquote", "custom_emoji",
    ]  # fmt: skip
    assert parsed.entities[11]["url"] == "https://example.org/?a=1&b=2"
    assert parsed.entities[13]["language"] == "python"


async def test_markdown_v2_needs_its_reserved_characters_escaped(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user()

    sent = await bot.send_message(user.id, r"*Score* 3\.5 \(of 4\)", parse_mode="MarkdownV2")
    with pytest.raises(telegram.error.BadRequest, match=r"character '\.' is reserved"):
        await bot.send_message(user.id, "*Score* 3.5", parse_mode="MarkdownV2")

    assert sent.text == "Score 3.5 (of 4)"
    assert sent.entities[0].type == "bold"


async def test_empty_and_too_long_texts_are_rejected(api: FakeBotApi, bot: telegram.Bot) -> None:
    user = api.add_user()

    with pytest.raises(telegram.error.BadRequest, match="Message text is empty"):
        await bot.send_message(user.id, "  <b></b> ", parse_mode="HTML")
    with pytest.raises(telegram.error.BadRequest, match="Message is too long"):
        await bot.send_message(user.id, "x" * 4097)
    # The limit applies after entity parsing: 4096 characters of text pass.
    await bot.send_message(user.id, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")


async def test_unknown_chat_method_and_token_answer_like_telegram(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    with pytest.raises(telegram.error.BadRequest, match="Chat not found"):
        await bot.send_message(123, "hello")
    with pytest.raises(telegram.error.EndPointNotFound):
        await bot.do_api_request("sendSomethingOdd", api_kwargs={"x": 1})
    stranger = telegram.Bot("42:AAStrangerTokenStrangerTokenStrangerT", base_url=api.base_url)
    with pytest.raises(telegram.error.InvalidToken):
        async with stranger:  # initialising calls getMe
            pass


def test_raw_http_accepts_get_json_and_form_requests(api: FakeBotApi) -> None:
    user = api.add_user()
    url = f"{api.base_url}{api.token}"

    with httpx.Client() as client:
        by_get = client.get(f"{url}/getMe").json()
        by_json = client.post(f"{url}/sendMessage", json={"chat_id": user.id, "text": "a"})
        by_form = client.post(f"{url}/sendmessage", data={"chat_id": str(user.id), "text": "b"})
        unknown = client.post(f"{url}/noSuchMethod")

    assert by_get["ok"] and by_get["result"]["username"] == "QuizTestBot"
    assert by_json.json()["result"]["text"] == "a"
    assert by_form.json()["result"]["message_id"] == 2
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


# ---------------------------------------------------------------------------------------------
# Updates through a real PTB Application
# ---------------------------------------------------------------------------------------------


async def test_a_command_from_get_updates_reaches_the_command_handler(api: FakeBotApi) -> None:
    user = api.add_user("Ann", username="ann")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(f"Welcome <b>{context.args}</b>")

    async with polling_application(api, CommandHandler("start", start)):
        update_id = api.send_text(user, "/start@QuizTestBot deck1")
        reply = await api.wait_for_message_async(user, contains="Welcome")
        await api.wait_for_async(lambda: not api.pending_updates(), description="confirmation")

    assert update_id is not None
    assert reply.text == "Welcome ['deck1']"
    assert reply.reply_to_message_id is None
    first_poll = api.calls("getUpdates")[0]
    assert first_poll.int_param("timeout") == 1
    assert api.calls("deleteWebhook"), "PTB bootstraps polling with deleteWebhook"


async def test_a_callback_query_round_trip(api: FakeBotApi) -> None:
    user = api.add_user("Ann")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Show answer", callback_data="show:7")]])

    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Question 7?", reply_markup=keyboard)

    async def reveal(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("Revealed", show_alert=False)
        await query.edit_message_text(f"Answer to {query.data}: 42")

    handlers = (CommandHandler("quiz", ask), CallbackQueryHandler(reveal))
    async with polling_application(api, *handlers):
        api.send_text(user, "/quiz")
        question = await api.wait_for_message_async(user, contains="Question 7")
        assert question.button_texts == ["Show answer"]
        query_id = api.click_button(user, question, "Show answer")
        await api.wait_for_async(lambda: api.message(user, question.message_id).edited)

    edited = api.message(user, question.message_id)
    assert edited.text == "Answer to show:7: 42"
    assert edited.reply_markup is None  # editing text without reply_markup drops the keyboard
    assert edited.history[0].text == "Question 7?"
    assert api.callback_answer(query_id) == {
        "text": "Revealed",
        "show_alert": False,
        "url": None,
        "cache_time": 0,
    }


async def test_answering_a_callback_query_twice_is_rejected(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    message = await bot.send_message(user.id, "Pick", reply_markup=markup)
    query_id = api.press_button(user, message.message_id, "go")

    await bot.answer_callback_query(query_id)
    with pytest.raises(telegram.error.BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)


async def test_redelivered_update_arrives_again_with_the_same_update_id(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user()
    first_id = api.send_text(user, "4")
    assert first_id is not None
    [first] = await bot.get_updates(timeout=0)
    assert api.pending_updates() != []
    await bot.get_updates(offset=first.update_id + 1, timeout=0)  # confirms it
    assert api.pending_updates() == []

    api.redeliver(first_id)
    [again] = await bot.get_updates(offset=first.update_id + 1, timeout=0)

    assert again.update_id == first.update_id == first_id
    assert again.message is not None and again.message.text == "4"
    assert again.message.message_id == first.message.message_id  # type: ignore[union-attr]


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user()
    timer = threading.Timer(0.3, api.send_text, args=(user, "late"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    timer.start()
    try:
        updates = await bot.get_updates(timeout=5)
    finally:
        timer.join()

    assert 0.2 < loop.time() - started < 3
    assert [update.message.text for update in updates] == ["late"]  # type: ignore[union-attr]


async def test_get_updates_offset_limit_and_allowed_updates(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user()
    ids = [api.send_text(user, str(number)) for number in range(3)]
    message_id = (await bot.send_message(user.id, "Pick", reply_markup=_one_button())).message_id
    api.press_button(user, message_id)

    assert [u.update_id for u in await bot.get_updates(limit=2, timeout=0)] == ids[:2]
    rest = await bot.get_updates(offset=ids[2], timeout=0, allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in rest] == [True]
    assert api.pending_updates()[0]["callback_query"]["data"] == "x"


async def test_a_second_poller_terminates_the_first_with_conflict(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    async with telegram.Bot(api.token, base_url=api.base_url) as other:
        first = asyncio.create_task(bot.get_updates(timeout=3))
        await api.wait_for_call_async("getUpdates", finished=False)
        second = asyncio.create_task(other.get_updates(timeout=0))
        with pytest.raises(telegram.error.Conflict, match="terminated by other getUpdates"):
            await first
        assert await second == ()


async def test_webhook_mode_receives_updates_posted_by_the_fake(api: FakeBotApi) -> None:
    """The fake POSTs updates with the secret token header, as Telegram does, to a webhook
    server (aiohttp, as the bot's; PTB's own needs tornado, which the bot does not install)."""
    user = api.add_user("Ann")
    port = _free_port()
    secrets_seen: list[str | None] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome via webhook")

    application = Application.builder().token(api.token).base_url(api.base_url).build()
    application.add_handler(CommandHandler("start", start))

    async def receive(request: web.Request) -> web.Response:
        secrets_seen.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        update = Update.de_json(await request.json(), application.bot)
        await application.update_queue.put(update)
        return web.json_response({"ok": True})

    server = web.Application()
    server.router.add_post("/hook", receive)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    api.route_webhook_to(f"http://127.0.0.1:{port}/hook")
    async with application:
        await application.start()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await application.bot.set_webhook("https://bot.example.org/hook", secret_token="s3cret")
        try:
            api.send_text(user, "/start")
            reply = await api.wait_for_message_async(user)
            info = await application.bot.get_webhook_info()
        finally:
            await runner.cleanup()
            await application.stop()

    assert secrets_seen == ["s3cret"]
    assert reply.text == "Welcome via webhook"
    assert info.url == "https://bot.example.org/hook"
    assert info.pending_update_count == 0
    assert api.webhook_info()["secret_token"] == "s3cret"  # type: ignore[index]
    with pytest.raises(telegram.error.Conflict, match="webhook is active"):
        async with telegram.Bot(api.token, base_url=api.base_url) as poller:
            await poller.get_updates(timeout=0)


# ---------------------------------------------------------------------------------------------
# Errors PTB must turn into its exceptions
# ---------------------------------------------------------------------------------------------


async def test_flood_control_surfaces_as_retry_after(api: FakeBotApi, bot: telegram.Bot) -> None:
    user = api.add_user()
    api.fail_next("sendMessage", 429, parameters={"retry_after": 2})

    with pytest.raises(telegram.error.RetryAfter) as raised:
        await bot.send_message(user.id, "hi")
    await bot.send_message(user.id, "hi again")

    assert raised.value.retry_after == dtm.timedelta(seconds=2)
    assert api.calls("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 2",
        "parameters": {"retry_after": 2},
    }
    assert api.sent_texts(user) == ["hi again"]


async def test_server_errors_surface_as_network_errors(api: FakeBotApi, bot: telegram.Bot) -> None:
    user = api.add_user()
    api.fail_next("sendMessage", 500)
    api.fail_next("sendMessage", 502, execute=True)

    with pytest.raises(telegram.error.NetworkError, match="Internal Server Error"):
        await bot.send_message(user.id, "one")
    with pytest.raises(telegram.error.NetworkError, match="Bad Gateway"):
        await bot.send_message(user.id, "two")

    assert api.calls("sendMessage")[1].status == 502
    assert api.sent_texts(user) == ["two"], "execute=True: the message went out, the answer did not"


async def test_a_delayed_answer_surfaces_as_timed_out(api: FakeBotApi, bot: telegram.Bot) -> None:
    user = api.add_user()
    api.delay_next("sendMessage", 1.0)

    with pytest.raises(telegram.error.TimedOut):
        await bot.send_message(user.id, "slow", read_timeout=0.2)


async def test_a_blocked_user_surfaces_as_forbidden(api: FakeBotApi, bot: telegram.Bot) -> None:
    user = api.add_user()
    api.block_user(user)

    with pytest.raises(telegram.error.Forbidden, match="bot was blocked by the user"):
        await bot.send_message(user.id, "reminder")
    [update] = await bot.get_updates(timeout=0)

    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"


async def test_a_kicked_bot_is_told_and_then_forbidden(api: FakeBotApi) -> None:
    ann = api.add_user("Ann")
    group = api.add_group("Study group", members=[ann], admins=[], creator=ann)
    changes: list[tuple[str, str]] = []

    async def track(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        assert change is not None
        changes.append((change.old_chat_member.status, change.new_chat_member.status))

    async with polling_application(
        api, ChatMemberHandler(track, ChatMemberHandler.MY_CHAT_MEMBER)
    ) as application:
        api.remove_bot_from_chat(group)
        await api.wait_for_async(lambda: changes)
        with pytest.raises(telegram.error.Forbidden, match="kicked from the group chat"):
            await application.bot.send_message(group.id, "still here?")

    assert changes == [("member", "kicked")]


async def test_a_migrated_group_surfaces_as_chat_migrated(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    ann = api.add_user("Ann")
    group = api.add_group("Study group", members=[ann], creator=ann)
    new_id = api.migrate_chat(group)

    with pytest.raises(telegram.error.ChatMigrated) as raised:
        await bot.send_message(group.id, "reminder")
    sent = await bot.send_message(new_id, "reminder")
    updates = await bot.get_updates(timeout=0)

    assert raised.value.new_chat_id == new_id
    assert str(new_id).startswith("-100")
    assert sent.chat.type == "supergroup"
    assert [u.message.migrate_to_chat_id for u in updates] == [new_id, None]  # type: ignore[union-attr]
    assert updates[1].message.migrate_from_chat_id == group.id  # type: ignore[union-attr]


async def test_edits_report_not_modified_and_unknown_messages(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user()
    markup = _one_button()
    sent = await bot.send_message(user.id, "Card 1", reply_markup=markup)

    with pytest.raises(telegram.error.BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Card 1", user.id, sent.message_id, reply_markup=markup)
    with pytest.raises(telegram.error.BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", user.id, 999)
    edited = await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=None)

    assert isinstance(edited, telegram.Message)
    assert edited.edit_date is not None
    assert edited.reply_markup is None
    assert api.message(user, sent.message_id).history[0].reply_markup == markup.to_dict()


async def test_replies_keyboards_and_deletions_look_like_telegram(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user()
    api.send_text(user, "my answer")
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None

    reply = await update.message.reply_text(
        "Noted", do_quote=True, reply_markup=_one_button(), disable_notification=True
    )
    with pytest.raises(telegram.error.BadRequest, match="Message to be replied not found"):
        await bot.send_message(user.id, "x", reply_parameters=telegram.ReplyParameters(999))
    assert await bot.delete_message(user.id, reply.message_id) is True
    with pytest.raises(telegram.error.BadRequest, match="Message to delete not found"):
        await bot.delete_message(user.id, reply.message_id)

    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "my answer"
    assert reply.reply_markup == _one_button()
    stored = api.sent_messages(user)[0]
    assert stored.deleted and stored.reply_to_message_id == update.message.message_id
    assert stored.request_params["disable_notification"] == "true"


async def test_callback_data_longer_than_64_bytes_is_rejected(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="é" * 33)]])

    with pytest.raises(telegram.error.BadRequest, match="Button_data_invalid"):
        await bot.send_message(user.id, "Pick", reply_markup=markup)


# ---------------------------------------------------------------------------------------------
# Other methods
# ---------------------------------------------------------------------------------------------


async def test_send_photo_multipart_upload_keeps_the_png_bytes(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user()
    png = make_png(640, 480)

    sent = await bot.send_photo(user.id, png, caption="<i>chart</i>", parse_mode="HTML")
    downloaded = await (await bot.get_file(sent.photo[-1].file_id)).download_as_bytearray()

    stored = api.sent_messages(user)[0]
    assert stored.upload is not None and stored.upload.startswith(b"\x89PNG\r\n\x1a\n")
    assert stored.upload == png and bytes(downloaded) == png
    assert stored.caption == "chart"
    assert [(size.width, size.height) for size in sent.photo] == [(90, 68), (320, 240), (640, 480)]
    assert sent.caption_entities[0].type == "italic"
    assert api.calls("sendPhoto")[0].files["photo"][1] == png


async def test_a_document_a_user_sends_arrives_with_its_file_which_get_file_downloads(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user()
    data = b"question,answer\nWhat is 2+2?,four\n"
    api.send_document(user, data, "maths.csv")

    (update,) = await bot.get_updates(timeout=0)
    document = update.message.document
    assert (document.file_name, document.mime_type, document.file_size) == (
        "maths.csv",
        "text/csv",
        len(data),
    )
    telegram_file = await bot.get_file(document.file_id)
    assert telegram_file.file_unique_id == document.file_unique_id
    assert telegram_file.file_size == len(data)
    call = api.calls("getFile")[0]
    assert call.params["file_id"] == document.file_id
    assert call.response is not None
    file_path = call.response["result"]["file_path"]  # relative, as Telegram sends it
    assert file_path.startswith("documents/") and file_path.endswith(".csv")
    # PTB joins it to base_file_url + token: the /file/bot<token>/<file_path> URL.
    assert telegram_file.file_path == f"{api.base_file_url}{api.token}/{file_path}"
    assert bytes(await telegram_file.download_as_bytearray()) == data


async def test_get_file_refuses_files_over_20_mb_like_telegram(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    user = api.add_user()
    api.send_document(user, bytes(20 * 1024 * 1024 + 1), "huge.apkg")
    (update,) = await bot.get_updates(timeout=0)

    with pytest.raises(telegram.error.BadRequest, match="File is too big"):
        await bot.get_file(update.message.document.file_id)


async def test_a_photo_that_is_not_an_image_is_rejected(api: FakeBotApi, bot: telegram.Bot) -> None:
    user = api.add_user()

    with pytest.raises(telegram.error.BadRequest, match="Image_process_failed"):
        await bot.send_photo(user.id, b"not an image at all")


async def test_set_my_commands_validates_and_stores(api: FakeBotApi, bot: telegram.Bot) -> None:
    await bot.set_my_commands([("quiz", "Start a round"), ("stats", "Your streak")])

    with pytest.raises(telegram.error.BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Quiz-Now", "bad name")])

    assert api.commands == [
        {"command": "quiz", "description": "Start a round"},
        {"command": "stats", "description": "Your streak"},
    ]
    assert [command.command for command in await bot.get_my_commands()] == ["quiz", "stats"]


async def test_chat_members_administrators_and_leaving(api: FakeBotApi, bot: telegram.Bot) -> None:
    ann, bob, cid = api.add_user("Ann"), api.add_user("Bob"), api.add_user("Cid")
    group = api.add_group("Study group", members=[cid], admins=[bob], creator=ann, supergroup=True)
    api.set_member_status(group, cid, "kicked")

    statuses = [(await bot.get_chat_member(group.id, user.id)).status for user in (ann, bob, cid)]
    admins = await bot.get_chat_administrators(group.id)
    chat = await bot.get_chat(group.id)
    await bot.send_chat_action(group.id, "typing")
    assert await bot.leave_chat(group.id) is True

    assert statuses == ["creator", "administrator", "kicked"]
    assert {admin.user.id for admin in admins} == {ann.id, bob.id}
    assert chat.type == "supergroup" and chat.title == "Study group"
    with pytest.raises(telegram.error.Forbidden, match="not a member of the supergroup chat"):
        await bot.send_message(group.id, "hello?")


async def test_privacy_mode_hides_plain_group_messages_from_the_bot(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    ann = api.add_user("Ann")
    group = api.add_group("Study group", members=[ann])
    question = await bot.send_message(group.id, "Question?")

    assert api.send_text(ann, "chatting among ourselves", chat=group) is None
    assert api.send_text(ann, "/quiz@OtherBot", chat=group) is None
    delivered = [
        api.send_text(ann, "/quiz", chat=group),
        api.send_text(ann, "my answer", chat=group, reply_to=question.message_id),
        api.send_text(ann, "hey @QuizTestBot", chat=group),
    ]
    updates = await bot.get_updates(timeout=0)

    assert [update.update_id for update in updates] == delivered
    reply = updates[1].message
    assert reply is not None and reply.reply_to_message is not None
    assert reply.reply_to_message.text == "Question?"


async def test_rate_limit_mode_answers_429_when_a_chat_is_flooded(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    ann, bob = api.add_user("Ann"), api.add_user("Bob")
    api.enable_rate_limits(RateLimits(private_per_second=1, private_burst=2))

    await bot.send_message(ann.id, "1")
    await bot.send_message(ann.id, "2")
    with pytest.raises(telegram.error.RetryAfter) as raised:
        await bot.send_message(ann.id, "3")
    await bot.send_message(bob.id, "other chats are not affected")

    assert raised.value.retry_after == dtm.timedelta(seconds=1)


async def test_user_messages_of_every_kind_parse_in_ptb(api: FakeBotApi, bot: telegram.Bot) -> None:
    ann = api.add_user("Ann", username="ann")
    api.send_sticker(ann, emoji="🔥")
    api.send_photo_message(ann, caption="my notes", width=800, height=600)
    api.send_voice(ann, duration=4)
    text_update = api.send_text(ann, "first try")
    assert text_update is not None
    api.edit_text(ann, api.messages(ann)[-1].message_id, "second try")

    sticker, photo, voice, text, edited = await bot.get_updates(timeout=0)

    assert sticker.message.sticker.emoji == "🔥"  # type: ignore[union-attr]
    assert photo.message.photo[-1].width == 800  # type: ignore[union-attr]
    assert photo.message.caption == "my notes"  # type: ignore[union-attr]
    assert voice.message.voice.duration == dtm.timedelta(seconds=4)  # type: ignore[union-attr]
    assert text.message.text == "first try"  # type: ignore[union-attr]
    assert edited.edited_message is not None
    assert edited.edited_message.text == "second try"
    assert edited.edited_message.edit_date is not None


def test_wait_for_message_times_out_with_a_description_of_what_happened(
    api: FakeBotApi,
) -> None:
    user = api.add_user()

    with pytest.raises(WaitTimeout, match="pending updates"):
        api.wait_for_message(user, contains="never", timeout=0.1)


def test_stopping_the_server_leaves_no_thread_behind() -> None:
    before = set(threading.enumerate())
    with running_fake_bot_api() as fake:
        url = fake.root_url
        assert any(thread.name == "fake-bot-api" for thread in threading.enumerate())
    assert set(threading.enumerate()) <= before
    with pytest.raises(httpx.ConnectError), httpx.Client() as client:
        client.get(f"{url}/bot{fake.token}/getMe")


async def test_a_pending_long_poll_ends_when_the_server_stops() -> None:
    with running_fake_bot_api() as fake:
        request = HTTPXRequest(read_timeout=10)
        async with telegram.Bot(fake.token, base_url=fake.base_url, request=request) as ptb_bot:
            poll = asyncio.create_task(ptb_bot.get_updates(timeout=30, read_timeout=40))
            await fake.wait_for_call_async("getUpdates", finished=False)
            loop = asyncio.get_running_loop()
            started = loop.time()
            await asyncio.to_thread(fake.stop)
            assert await poll == ()
            assert loop.time() - started < 3


# ---------------------------------------------------------------------------------------------
# The bot process runner
# ---------------------------------------------------------------------------------------------


def _standin_env(api: FakeBotApi) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.root_url}


def test_bot_process_runs_a_polling_bot_and_stops_it_with_sigterm(api: FakeBotApi) -> None:
    user = api.add_user("Ann & Bob")
    command = [sys.executable, str(STANDIN_BOT_SCRIPT)]

    with BotProcess(_standin_env(api), command=command) as process:
        process.start(wait_for_polling=api)
        api.send_text(user, "/start")
        greeting = api.wait_for_message(user, contains="Hello")
        api.send_text(user, "ping")
        echo = api.wait_for_message(user)
        api.wait_until_updates_consumed()  # else the new process would get "ping" again
        process.restart(wait_for_polling=api, hard=True)
        api.send_text(user, "after restart")
        again = api.wait_for_message(user)
        code = process.stop()

    assert greeting.text == "Hello Ann & Bob & welcome!"
    assert echo.text == "echo: ping"
    assert again.text == "echo: after restart"
    assert code == 0
    assert not process.running


def test_bot_process_that_dies_at_start_reports_its_output(api: FakeBotApi) -> None:
    command = [sys.executable, "-c", "import sys; print('no token configured'); sys.exit(3)"]

    with (
        BotProcess(_standin_env(api), command=command) as process,
        pytest.raises(BotProcessError, match=r"(?s)code 3.*no token configured"),
    ):
        process.start(wait_for_polling=api, timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _one_button() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("X", callback_data="x")]])
