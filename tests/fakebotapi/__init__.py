"""A fake Telegram Bot API for tests: faithful JSON, a synchronous driver, fault injection.

Start it with ``running_fake_bot_api()`` (or ``FakeBotApi().start()``) and point the bot at
``api.root_url``; run the real bot process with :class:`BotProcess`.
"""

from .botprocess import STANDIN_BOT_SCRIPT, BotProcess, BotProcessError
from .driver import FakeBotApi, WaitTimeout, running_fake_bot_api
from .markup import EntityParseError, FormattedText, parse_html, parse_markdown_v2, utf16_length
from .server import (
    DEFAULT_TOKEN,
    ApiCall,
    ApiError,
    BotMessage,
    ChatMessage,
    FakeChat,
    FakeUser,
    MessageVersion,
    RateLimits,
    image_size,
    make_png,
)

__all__ = [
    "DEFAULT_TOKEN",
    "STANDIN_BOT_SCRIPT",
    "ApiCall",
    "ApiError",
    "BotMessage",
    "BotProcess",
    "BotProcessError",
    "ChatMessage",
    "EntityParseError",
    "FakeBotApi",
    "FakeChat",
    "FakeUser",
    "FormattedText",
    "MessageVersion",
    "RateLimits",
    "WaitTimeout",
    "image_size",
    "make_png",
    "parse_html",
    "parse_markdown_v2",
    "running_fake_bot_api",
    "utf16_length",
]
