"""A tiny PTB bot used to test BotProcess against the fake before the real bot exists.

It reads the same environment as the real bot (TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL)
and polls like it; /start answers in HTML, any other text is echoed back.
"""

from __future__ import annotations

import html
import os

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters


async def greet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    name = html.escape(update.effective_user.first_name)
    await update.effective_message.reply_html(f"Hello <b>{name}</b> &amp; welcome!")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


def main() -> None:
    root = os.environ["TELEGRAM_API_BASE_URL"].rstrip("/")
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .build()
    )
    application.add_handler(CommandHandler("start", greet))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    print("stand-in bot: polling", flush=True)
    application.run_polling(timeout=5)
    print("stand-in bot: stopped", flush=True)


if __name__ == "__main__":
    main()
