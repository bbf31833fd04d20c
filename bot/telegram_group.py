"""Telegram handlers for group study challenges."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import Application

if TYPE_CHECKING:
    from bot.telegram_app import Runtime


def register_group_handlers(application: Application, runtime: Runtime) -> None:
    """Add this feature's handlers, commands and start-up work (none yet)."""
